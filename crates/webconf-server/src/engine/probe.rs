//! Connection-test probes (`POST /api/probe`, the `/test` page): a media session in the SFU
//! that belongs to no participant and no room, so that a browser can check that ICE and DTLS
//! reach the server's real UDP media ports, and read loss and round-trip time from the
//! server's RTCP receiver reports.
//!
//! Invariants:
//! - A probe's peer id and room id have [`PROBE_BIT`] set. Connection ids and the rooms'
//!   media keys are counters from 1 and never reach it, so no participant shares a probe's room
//!   (nothing is forwarded to or from it) and no room's timers see its media.
//! - A probe lives at most [`PROBE_TTL`]; it goes earlier when the SFU reports it dead or the
//!   browser deletes it. Its outputs (offer, connected, dead, stats) never touch the rooms.
//! - At most [`ProbeLimits::max_probes`] at once, and [`ProbeLimits::per_ip_per_minute`]
//!   creations per client address (IPv6: its `/64`); a refused request keeps nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tracing::debug;
use webconf_access::ratelimit::{ip_key, RateLimiter};
use webconf_access::token::random_hex;
use webconf_media::{PeerId, RoomId, SfuOutput};

use super::Engine;

/// Set in the peer and room ids of probes, never in those of participants.
pub const PROBE_BIT: u64 = 1 << 63;
/// How long a probe may live.
pub const PROBE_TTL: Duration = Duration::from_secs(30);

/// The limits of probes.
#[derive(Debug, Clone, Copy)]
pub struct ProbeLimits {
    /// Probes alive at once; beyond it a new one is refused with `busy`.
    pub max_probes: usize,
    /// Probes one client address may open per minute.
    pub per_ip_per_minute: u32,
}

impl Default for ProbeLimits {
    fn default() -> Self {
        ProbeLimits {
            max_probes: 50,
            per_ip_per_minute: 6,
        }
    }
}

/// A request about probes, from the HTTP handler ([`crate::probe`]).
#[derive(Debug)]
pub enum ProbeCommand {
    /// Open a probe with the browser's SDP offer; the answer (or why not) goes to `reply`.
    Open {
        /// The client address (after trusted proxies), for the rate limit.
        ip: IpAddr,
        /// The browser's offer.
        sdp: String,
        /// Where the result goes.
        reply: oneshot::Sender<Result<ProbeOpened, ProbeError>>,
    },
    /// Close the probe `id` now; `reply` gets whether it existed.
    Close {
        /// The id given at opening.
        id: String,
        /// Where the result goes.
        reply: oneshot::Sender<bool>,
    },
}

/// A probe that was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOpened {
    /// Its id (128 random bits, hex): the key of `DELETE /api/probe/<id>`.
    pub id: String,
    /// The SDP answer for the browser.
    pub sdp: String,
}

/// Why no probe was opened. Nothing is kept in any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// This address opened too many probes in the last minute; retry after this long.
    RateLimited(Duration),
    /// [`ProbeLimits::max_probes`] probes are alive.
    Busy,
    /// The offer is not SDP, or str0m refused it.
    BadSdp,
    /// The media core could not make a session (no media address).
    Unavailable,
}

struct Probe {
    id: String,
    expires: Instant,
}

/// The probes alive and the limits, owned by the engine.
pub(super) struct Probes {
    live: HashMap<PeerId, Probe>,
    by_id: HashMap<String, PeerId>,
    next: u64,
    limiter: RateLimiter<IpAddr>,
    max: usize,
}

impl Probes {
    pub(super) fn new(limits: ProbeLimits) -> Probes {
        Probes {
            live: HashMap::new(),
            by_id: HashMap::new(),
            next: 0,
            limiter: RateLimiter::new(limits.per_ip_per_minute, Duration::from_secs(60), 100_000),
            max: limits.max_probes,
        }
    }
}

/// Whether a media peer id is a probe's.
pub fn is_probe(peer: PeerId) -> bool {
    peer.0 & PROBE_BIT != 0
}

impl Engine {
    /// Applies one probe request.
    pub(super) fn handle_probe(&mut self, now: Instant, cmd: ProbeCommand) {
        match cmd {
            ProbeCommand::Open { ip, sdp, reply } => {
                let result = self.open_probe(now, ip, &sdp);
                let _ = reply.send(result);
            }
            ProbeCommand::Close { id, reply } => {
                let _ = reply.send(self.close_probe(now, &id));
            }
        }
    }

    /// The number of probes alive.
    pub fn probe_count(&self) -> usize {
        self.probes.live.len()
    }

    fn open_probe(
        &mut self,
        now: Instant,
        ip: IpAddr,
        sdp: &str,
    ) -> Result<ProbeOpened, ProbeError> {
        if self.probes.live.len() >= self.probes.max {
            return Err(ProbeError::Busy);
        }
        self.probes
            .limiter
            .check(now, &ip_key(ip))
            .map_err(ProbeError::RateLimited)?;
        self.probes.next += 1;
        let key = PROBE_BIT | self.probes.next;
        let peer = PeerId(key);
        // Offered the addresses of the asking browser's zone, as a participant would be.
        if let Err(e) = self.add_media_peer(now, peer, RoomId(key), "probe".to_owned(), ip) {
            debug!("cannot create a probe: {e}");
            return Err(ProbeError::Unavailable);
        }
        match self.sfu.handle_offer(now, peer, sdp) {
            Ok(answer) => {
                let id = random_hex(16);
                self.probes.by_id.insert(id.clone(), peer);
                self.probes.live.insert(
                    peer,
                    Probe {
                        id: id.clone(),
                        expires: now + PROBE_TTL,
                    },
                );
                debug!(probes = self.probes.live.len(), "probe opened");
                Ok(ProbeOpened { id, sdp: answer })
            }
            Err(e) => {
                debug!("probe offer refused: {e}");
                let _ = self.sfu.remove_peer(now, peer);
                Err(ProbeError::BadSdp)
            }
        }
    }

    fn close_probe(&mut self, now: Instant, id: &str) -> bool {
        match self.probes.by_id.get(id).copied() {
            Some(peer) => {
                self.remove_probe(now, peer);
                true
            }
            None => false,
        }
    }

    fn remove_probe(&mut self, now: Instant, peer: PeerId) {
        if let Some(probe) = self.probes.live.remove(&peer) {
            self.probes.by_id.remove(&probe.id);
        }
        let _ = self.sfu.remove_peer(now, peer);
    }

    /// Once a second: probes past their time go, idle rate-limit keys are dropped.
    pub(super) fn expire_probes(&mut self, now: Instant) {
        let due: Vec<PeerId> = self
            .probes
            .live
            .iter()
            .filter(|(_, p)| p.expires <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in due {
            debug!("{peer}: probe expired");
            self.remove_probe(now, peer);
        }
        self.probes.limiter.purge(now);
    }

    /// Handles an output of the media core that concerns a probe, and gives back any other.
    pub(super) fn probe_output(&mut self, now: Instant, out: SfuOutput) -> Option<SfuOutput> {
        match out {
            SfuOutput::Offer { peer, .. }
            | SfuOutput::Stats { peer, .. }
            | SfuOutput::ActiveSpeaker { peer, .. }
            | SfuOutput::Slots { peer, .. }
                if is_probe(peer) =>
            {
                None
            }
            SfuOutput::Connected { peer } if is_probe(peer) => {
                debug!("{peer}: probe connected");
                None
            }
            SfuOutput::Dead { peer } if is_probe(peer) => {
                debug!("{peer}: probe media session ended");
                self.remove_probe(now, peer);
                None
            }
            other => Some(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Command, EngineConfig};
    use str0m::media::{Direction, MediaKind};
    use str0m::Rtc;
    use tokio::sync::mpsc;
    use webconf_media::{Sfu, SfuConfig};

    fn engine(limits: ProbeLimits) -> Engine {
        let (tx, _rx) = mpsc::channel(8);
        let config = EngineConfig {
            probes: limits,
            ..EngineConfig::default()
        };
        Engine::new(Sfu::new(SfuConfig::default()), HashMap::new(), config, tx)
    }

    /// A real offer, from a str0m client publishing a microphone.
    fn offer() -> String {
        let mut rtc = Rtc::builder().build(Instant::now());
        let mut api = rtc.sdp_api();
        api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let (offer, _) = api.apply().expect("an offer");
        offer.to_sdp_string()
    }

    fn open(
        e: &mut Engine,
        now: Instant,
        ip: [u8; 4],
        sdp: &str,
    ) -> Result<ProbeOpened, ProbeError> {
        let (reply, mut rx) = oneshot::channel();
        let cmd = ProbeCommand::Open {
            ip: IpAddr::from(ip),
            sdp: sdp.to_owned(),
            reply,
        };
        e.handle_command(now, Command::Probe(cmd));
        rx.try_recv().expect("an answer at once")
    }

    fn close(e: &mut Engine, now: Instant, id: &str) -> bool {
        let (reply, mut rx) = oneshot::channel();
        e.handle_command(
            now,
            Command::Probe(ProbeCommand::Close {
                id: id.to_owned(),
                reply,
            }),
        );
        rx.try_recv().expect("an answer at once")
    }

    #[tokio::test]
    async fn a_probe_answers_lives_30_s_and_is_kept_apart_from_rooms() {
        let mut e = engine(ProbeLimits::default());
        let t0 = Instant::now();
        let opened = open(&mut e, t0, [192, 0, 2, 1], &offer()).expect("opened");
        assert_eq!(opened.id.len(), 32);
        assert!(opened.sdp.starts_with("v=0"), "{}", opened.sdp);
        assert!(
            opened.sdp.contains("a=candidate"),
            "the answer names the media ports"
        );
        assert_eq!(e.probe_count(), 1);
        assert_eq!(e.sfu.peer_count(), 1);
        assert_eq!(
            e.rooms.participant_count(),
            0,
            "a probe is nobody in any room"
        );
        e.handle_tick(t0 + Duration::from_secs(29));
        assert_eq!(e.probe_count(), 1);
        e.handle_tick(t0 + PROBE_TTL);
        assert_eq!(e.probe_count(), 0);
        assert_eq!(e.sfu.peer_count(), 0, "the media session went with it");
        assert!(!close(&mut e, t0 + PROBE_TTL, &opened.id), "gone");
    }

    #[tokio::test]
    async fn a_deleted_or_dead_probe_is_removed() {
        let mut e = engine(ProbeLimits::default());
        let t0 = Instant::now();
        let a = open(&mut e, t0, [192, 0, 2, 1], &offer()).expect("opened");
        let b = open(&mut e, t0, [192, 0, 2, 1], &offer()).expect("opened");
        assert!(close(&mut e, t0, &a.id));
        assert!(!close(&mut e, t0, &a.id));
        assert!(!close(&mut e, t0, "nonsense"));
        assert_eq!(e.probe_count(), 1);
        let peer = *e.probes.by_id.get(&b.id).expect("b");
        assert!(is_probe(peer));
        assert!(e.probe_output(t0, SfuOutput::Dead { peer }).is_none());
        assert_eq!(e.probe_count(), 0);
        assert_eq!(e.sfu.peer_count(), 0);
        // A participant's outputs are not the probes' business.
        assert!(e
            .probe_output(t0, SfuOutput::Dead { peer: PeerId(7) })
            .is_some());
    }

    #[tokio::test]
    async fn bad_sdp_keeps_nothing() {
        let mut e = engine(ProbeLimits::default());
        let t0 = Instant::now();
        for bad in ["", "hello", "v=0\r\n", &"a".repeat(1000)] {
            assert_eq!(
                open(&mut e, t0, [192, 0, 2, 1], bad),
                Err(ProbeError::BadSdp)
            );
        }
        assert_eq!(e.probe_count(), 0);
        assert_eq!(e.sfu.peer_count(), 0);
        assert_eq!(e.sfu.poll_timeout(), None, "no timer left behind");
    }

    #[tokio::test]
    async fn per_address_rate_limit_and_global_cap() {
        let limits = ProbeLimits {
            max_probes: 3,
            per_ip_per_minute: 2,
        };
        let mut e = engine(limits);
        let t0 = Instant::now();
        let sdp = offer();
        assert!(open(&mut e, t0, [192, 0, 2, 1], &sdp).is_ok());
        assert!(open(&mut e, t0, [192, 0, 2, 1], &sdp).is_ok());
        assert!(
            matches!(open(&mut e, t0, [192, 0, 2, 1], &sdp), Err(ProbeError::RateLimited(d)) if d.as_secs() == 60)
        );
        assert!(open(&mut e, t0, [192, 0, 2, 2], &sdp).is_ok());
        assert_eq!(
            open(&mut e, t0, [192, 0, 2, 3], &sdp),
            Err(ProbeError::Busy)
        );
        assert_eq!(e.probe_count(), 3);
        // Expired probes free their places; the address's minute is over.
        e.handle_tick(t0 + Duration::from_secs(61));
        assert_eq!(e.probe_count(), 0);
        assert!(open(&mut e, t0 + Duration::from_secs(61), [192, 0, 2, 1], &sdp).is_ok());
    }
}
