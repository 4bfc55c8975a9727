//! Negotiation with each browser: its offers (what it publishes), our offers of the others'
//! tracks and its answers, and the forwarded tracks a new or stopped publisher track adds to or
//! stops in every other peer of its room.

use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::Rtc;

use super::Sfu;
use crate::peer::{TrackLabel, TrackOut, TrackOutState};
use crate::{PeerId, SfuError, SfuOutput};

impl Sfu {
    /// Accepts the browser's offer (publishing its microphone and camera) and returns the
    /// answer to relay back. Server offers for the others' tracks follow in
    /// [`Sfu::poll_output`]; the answer must reach the browser before them.
    pub fn handle_offer(
        &mut self,
        now: Instant,
        peer: PeerId,
        sdp: &str,
    ) -> Result<String, SfuError> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| SfuError::BadSdp(e.to_string()))?;
        let first = {
            let p = self
                .peers
                .get_mut(&peer)
                .ok_or(SfuError::UnknownPeer(peer))?;
            if p.pending.is_some() {
                return Err(SfuError::OfferPending(peer));
            }
            let answer = p
                .rtc
                .sdp_api()
                .accept_offer(offer)
                .map_err(|e| SfuError::Negotiation(e.to_string()))?;
            let first = !p.offered;
            p.offered = true;
            // An ICE restart (new browser ufrag) gives this session new server credentials:
            // STUN is routed by our ufrag, so the router follows, and verified with our
            // password.
            let creds = p.rtc.direct_api().local_ice_credentials();
            if creds.ufrag != p.ufrag {
                self.router.rekey(peer, &p.ufrag, creds.ufrag.clone());
                p.ufrag = creds.ufrag;
            }
            p.ice_pass = creds.pass;
            (first, answer.to_sdp_string())
        };
        let (first, answer) = first;
        if first {
            self.subscribe_to_room(peer);
            // Its slots go in the first server offer too.
            self.reallocate(now, peer);
        }
        self.drain(peer);
        self.negotiate(peer);
        self.run_work(now);
        Ok(answer)
    }

    /// Accepts the browser's answer to our last [`SfuOutput::Offer`].
    pub fn handle_answer(&mut self, now: Instant, peer: PeerId, sdp: &str) -> Result<(), SfuError> {
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::UnknownPeer(peer))?;
        if p.pending.is_none() {
            return Err(SfuError::UnexpectedAnswer(peer));
        }
        // A malformed answer leaves the offer outstanding: the browser may still answer it.
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| SfuError::BadSdp(e.to_string()))?;
        let pending = p.pending.take().ok_or(SfuError::UnexpectedAnswer(peer))?;
        p.pending_sdp = None;
        let result = p.rtc.sdp_api().accept_answer(pending, answer);
        let window = self.config.retransmit_window;
        for t in p.tracks_out.iter_mut() {
            t.state = match (t.state, &result) {
                (TrackOutState::Negotiating(m), Ok(())) => {
                    if t.kind == MediaKind::Video {
                        set_retransmit_window(&mut p.rtc, m, window);
                    }
                    TrackOutState::Open(m)
                }
                (TrackOutState::Negotiating(_), Err(_)) => TrackOutState::ToOpen,
                (TrackOutState::NegotiatingStop(m), Err(_)) => TrackOutState::ToStop(m),
                (s, _) => s,
            };
        }
        if result.is_ok() {
            p.tracks_out
                .retain(|t| !matches!(t.state, TrackOutState::NegotiatingStop(_)));
        }
        // Decide the layers of the new tracks now; the first frame of each waits for a keyframe,
        // which is requested as soon as one of its layer arrives.
        self.reallocate(now, peer);
        self.drain(peer);
        self.negotiate(peer);
        self.run_work(now);
        result.map_err(|e| SfuError::Negotiation(e.to_string()))
    }

    /// The browser took back its session on a new signaling socket (`resume`) and may have
    /// missed our last offer, or answered it on the old socket without the answer reaching us:
    /// an outstanding offer is sent again, unchanged (the same SDP, [`SfuOutput::Offer`]).
    /// A browser that never got it answers it as any offer; one that had applied it answers it
    /// again with the same answer. Either answer completes it ([`Sfu::handle_answer`]). The
    /// offer is not withdrawn and made anew: a browser that had applied it would get an offer
    /// whose m-lines do not match its own, and refuse it. Returns whether an offer was sent;
    /// nothing happens without one.
    pub fn resend_offer(&mut self, peer: PeerId) -> Result<bool, SfuError> {
        let p = self.peers.get(&peer).ok_or(SfuError::UnknownPeer(peer))?;
        let Some(sdp) = p.pending_sdp.clone().filter(|_| p.pending.is_some()) else {
            return Ok(false);
        };
        self.outputs.push_back(SfuOutput::Offer { peer, sdp });
        Ok(true)
    }

    /// Adds, to a peer whose first offer was just accepted, every track already published in
    /// its room.
    pub(super) fn subscribe_to_room(&mut self, peer: PeerId) {
        let Some(room) = self.peers.get(&peer).map(|p| p.room) else {
            return;
        };
        let mut wanted = Vec::new();
        for other in self.rooms.get(&room).into_iter().flatten() {
            if *other == peer {
                continue;
            }
            if let Some(o) = self.peers.get(other) {
                // Microphones and cameras come in slots, filled by the allocation
                // ([`crate::pool`]): only screens (and their sound) are forwarded as they are.
                for t in o.tracks_in.iter().filter(|t| !t.label.in_slots()) {
                    wanted.push(TrackOut::new(
                        *other,
                        t.mid,
                        o.stream_id.clone(),
                        t.kind,
                        t.label,
                    ));
                }
            }
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.tracks_out.extend(wanted);
        }
    }

    /// Starts a server offer for a peer if it has changes waiting and none outstanding.
    pub(crate) fn negotiate(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if !p.offered || p.pending.is_some() || !p.rtc.is_alive() {
            return;
        }
        let mut change = p.rtc.sdp_api();
        for t in p.tracks_out.iter_mut() {
            match t.state {
                TrackOutState::ToOpen => {
                    let mid = change.add_media(
                        t.kind,
                        Direction::SendOnly,
                        Some(t.msid_stream.clone()),
                        Some(t.msid_track()),
                        None,
                    );
                    t.state = TrackOutState::Negotiating(mid);
                }
                TrackOutState::ToStop(mid) => {
                    change.stop_media(mid);
                    t.state = TrackOutState::NegotiatingStop(mid);
                }
                _ => {}
            }
        }
        if !change.has_changes() {
            return;
        }
        if let Some((offer, pending)) = change.apply() {
            let sdp = offer.to_sdp_string();
            p.pending = Some(pending);
            p.pending_sdp = Some(sdp.clone());
            self.outputs.push_back(SfuOutput::Offer { peer, sdp });
            // New slots have their mids now.
            self.publish_slots(peer);
        }
    }

    /// Stops, in every other peer of the room, the forwarded copy of a track its publisher
    /// stopped.
    pub(super) fn on_track_removed(&mut self, now: Instant, source: PeerId, source_mid: Mid) {
        for other in self.others_in_room(source) {
            if let Some(o) = self.peers.get_mut(&other) {
                o.stop_forwarding(|s, m| (s, m) == (source, source_mid));
            }
            self.negotiate(other);
            self.reallocate(now, other);
        }
    }

    pub(super) fn on_track_added(
        &mut self,
        now: Instant,
        source: PeerId,
        mid: Mid,
        kind: MediaKind,
        label: TrackLabel,
    ) {
        let Some(src) = self.peers.get(&source) else {
            return;
        };
        let stream = src.stream_id.clone();
        for other in self.others_in_room(source) {
            let Some(o) = self.peers.get_mut(&other) else {
                continue;
            };
            // A peer that has not offered yet will get this track in `subscribe_to_room`.
            if !o.offered {
                continue;
            }
            if label.in_slots() {
                // A microphone or a camera: the allocation gives it a slot (opening one if
                // there is room).
                self.reallocate(now, other);
                continue;
            }
            o.tracks_out
                .push(TrackOut::new(source, mid, stream.clone(), kind, label));
            self.negotiate(other);
        }
    }
}

/// Keeps a forwarded video's sent packets for NACKs only `window` ([`SfuConfig::retransmit_window`]).
fn set_retransmit_window(rtc: &mut Rtc, mid: Mid, window: Duration) {
    if let Some(stream) = rtc.direct_api().stream_tx_by_mid(mid, None) {
        stream.set_rtx_cache(RETRANSMIT_MAX_PACKETS, window, Some(RETRANSMIT_RATIO_CAP));
    }
}

/// The most packets a forwarded video keeps for NACKs, whatever the window (str0m's default).
const RETRANSMIT_MAX_PACKETS: usize = 1000;
/// Queued retransmissions are dropped when they exceed this share of a stream's bytes
/// (str0m's default).
const RETRANSMIT_RATIO_CAP: f32 = 0.15;
