//! Draining a peer's str0m session: its outputs become transmits and events for the driver,
//! and the work they cause for other peers (a track added or removed, media to forward, a
//! keyframe request) is queued and run in turn.

use std::time::Instant;

use str0m::bwe::BweKind;
use str0m::media::{Direction, MediaKind, Rid, Rids};
use str0m::net::Protocol;
use str0m::{Event, Output};
use tracing::warn;

use super::{Sfu, Work, LOSS_WINDOW, PATH_REPORT_INTERVAL};
use crate::peer::{TrackIn, TrackLabel, TrackOutState};
use crate::{PeerId, PeerMediaStats, SfuOutput};

impl Sfu {
    /// Polls one peer's `Rtc` until it returns a timeout, queueing transmits and work.
    pub(crate) fn drain(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        loop {
            if !p.rtc.is_alive() {
                if let Some(t) = p.timeout.take() {
                    self.timers.remove(&(t, peer));
                }
                if !p.dead {
                    p.dead = true;
                    self.outputs.push_back(SfuOutput::Dead { peer });
                }
                return;
            }
            let output = match p.rtc.poll_output() {
                Ok(o) => o,
                Err(e) => {
                    warn!("{peer}: media session failed: {e}");
                    p.rtc.disconnect();
                    continue;
                }
            };
            match output {
                Output::Timeout(t) => {
                    if p.timeout != Some(t) {
                        if let Some(old) = p.timeout.replace(t) {
                            self.timers.remove(&(old, peer));
                        }
                        self.timers.insert((t, peer));
                    }
                    return;
                }
                Output::Transmit(t) => self.outputs.push_back(SfuOutput::Transmit {
                    proto: t.proto,
                    source: t.source,
                    destination: t.destination,
                    contents: t.contents.into(),
                }),
                Output::Event(event) => match event {
                    Event::Connected => self.outputs.push_back(SfuOutput::Connected { peer }),
                    Event::MediaAdded(m)
                        if matches!(m.direction, Direction::RecvOnly | Direction::SendRecv)
                            && !p.tracks_in.iter().any(|t| t.mid == m.mid) =>
                    {
                        let (stream, rids) = p
                            .rtc
                            .media(m.mid)
                            .map(|x| (x.stream_id().to_owned(), rids_of(x.rids_rx())))
                            .unwrap_or_default();
                        let label = TrackLabel::new(m.kind, &stream);
                        p.tracks_in.push(TrackIn::new(m.mid, m.kind, label, &rids));
                        self.work
                            .push_back(Work::TrackAdded(peer, m.mid, m.kind, label));
                    }
                    Event::MediaChanged(m) => {
                        let receiving =
                            matches!(m.direction, Direction::RecvOnly | Direction::SendRecv);
                        let known = p.tracks_in.iter().any(|t| t.mid == m.mid);
                        if !receiving && known {
                            // The browser stopped publishing this track (e.g. screen share ended).
                            p.tracks_in.retain(|t| t.mid != m.mid);
                            self.work.push_back(Work::TrackRemoved(peer, m.mid));
                        } else if receiving && !known {
                            let (kind, stream, rids) = p
                                .rtc
                                .media(m.mid)
                                .map(|x| (x.kind(), x.stream_id().to_owned(), rids_of(x.rids_rx())))
                                .unwrap_or((MediaKind::Video, String::new(), Vec::new()));
                            let label = TrackLabel::new(kind, &stream);
                            p.tracks_in.push(TrackIn::new(m.mid, kind, label, &rids));
                            self.work
                                .push_back(Work::TrackAdded(peer, m.mid, kind, label));
                        }
                    }
                    Event::RtpPacket(pkt) => self.work.push_back(Work::Media(peer, pkt)),
                    Event::KeyframeRequest(req) => {
                        self.work.push_back(Work::KeyframeRequest(peer, req))
                    }
                    Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. })
                        if !p.estimate_pinned =>
                    {
                        p.estimate = Some(estimate.as_u64());
                        tracing::trace!(peer = peer.0, estimate = estimate.as_u64(), "estimate");
                        self.work.push_back(Work::Reallocate(peer));
                    }
                    Event::MediaEgressStats(st) => {
                        match p.nacks.iter_mut().find(|(m, _)| *m == st.mid) {
                            Some(entry) => entry.1 = entry.1.max(st.nacks),
                            None => p.nacks.push((st.mid, st.nacks)),
                        }
                    }
                    // Only sessions that carry media report: a signaling-only client sees none.
                    Event::PeerStats(st) if p.rtc.is_connected() => {
                        // Every `PATH_REPORT_INTERVAL`: what the path toward this peer lost and
                        // carried, for the allocation (`bwe::ceiling`, `bwe::carried_cleanly`).
                        // What we sent over str0m's loss window (its last second), so that
                        // the two describe the same packets.
                        p.last_path.push_back((st.timestamp, st.bytes_tx));
                        while p.last_path.len() > 2
                            && p.last_path.get(1).is_some_and(|(t, _)| {
                                st.timestamp.saturating_duration_since(*t) >= LOSS_WINDOW
                            })
                        {
                            p.last_path.pop_front();
                        }
                        let sent = match p.last_path.front() {
                            Some((t, tx)) if st.timestamp > *t => {
                                let secs = st.timestamp.saturating_duration_since(*t).as_secs_f64();
                                (st.bytes_tx.saturating_sub(*tx) as f64 * 8.0 / secs) as u64
                            }
                            _ => 0,
                        };
                        p.path = st
                            .egress_loss_fraction
                            .map(|loss| (st.timestamp, crate::bwe::PathLoss { loss, sent }));
                        tracing::trace!(peer = peer.0, loss_out = ?st.egress_loss_fraction, sent, "path");
                        if st
                            .egress_loss_fraction
                            .is_some_and(|l| l >= crate::bwe::LOSS_CONGESTED || l.is_nan())
                        {
                            p.lossy_at = Some(st.timestamp);
                            self.work.push_back(Work::Reallocate(peer));
                        }
                        // The figures reported outward, every `stats_interval` (str0m's reports
                        // may come more often, see above).
                        let interval = self.config.stats_interval.unwrap_or_default();
                        if p.last_stats.is_some_and(|(t, _, _)| {
                            st.timestamp.saturating_duration_since(t) + PATH_REPORT_INTERVAL / 2
                                < interval
                        }) {
                            continue;
                        }
                        let prev = p
                            .last_stats
                            .replace((st.timestamp, st.bytes_rx, st.bytes_tx));
                        let rate = |now_bytes: u64, then_bytes: u64, then: Instant| {
                            let secs = st.timestamp.saturating_duration_since(then).as_secs_f64();
                            if secs <= 0.0 {
                                0
                            } else {
                                (now_bytes.saturating_sub(then_bytes) as f64 * 8.0 / secs) as u64
                            }
                        };
                        let (bitrate_in, bitrate_out) = match prev {
                            Some((t, rx, tx)) => {
                                (rate(st.bytes_rx, rx, t), rate(st.bytes_tx, tx, t))
                            }
                            None => (0, 0),
                        };
                        let pair = st.selected_candidate_pair.as_ref();
                        let rtt = st
                            .rtt
                            .or_else(|| pair.and_then(|c| c.current_round_trip_time));
                        let stats = PeerMediaStats {
                            bitrate_in,
                            bitrate_out,
                            loss_in: st.ingress_loss_fraction,
                            loss_out: st.egress_loss_fraction,
                            rtt_ms: rtt.map(|d| d.as_millis() as u64),
                            transport: pair.map(|c| match c.protocol {
                                Protocol::Udp => "udp",
                                _ => "tcp",
                            }),
                            server_port: pair.map(|c| c.local.addr.port()),
                            estimate_out: p.estimate,
                            nacks_in: p.nacks.iter().map(|(_, n)| n).sum(),
                            videos_out: p
                                .tracks_out
                                .iter()
                                .filter(|t| t.kind == MediaKind::Video && t.fwd.target.is_some())
                                .count() as u32,
                            videos_paused: p
                                .tracks_out
                                .iter()
                                .filter(|t| {
                                    t.kind == MediaKind::Video
                                        && t.source.is_some()
                                        && matches!(t.state, TrackOutState::Open(_))
                                        && t.fwd.target.is_none()
                                })
                                .count() as u32,
                        };
                        tracing::trace!(peer = peer.0, loss_out = ?stats.loss_out, bitrate_out = stats.bitrate_out, rtt = ?stats.rtt_ms, "stats");
                        self.outputs.push_back(SfuOutput::Stats { peer, stats });
                    }
                    _ => {}
                },
            }
        }
    }

    /// Carries out work that crosses peers until none is left.
    pub(crate) fn run_work(&mut self, now: Instant) {
        while let Some(work) = self.work.pop_front() {
            match work {
                Work::TrackAdded(source, mid, kind, label) => {
                    self.on_track_added(now, source, mid, kind, label)
                }
                Work::TrackRemoved(source, mid) => self.on_track_removed(now, source, mid),
                Work::Media(source, data) => self.forward(now, source, data),
                Work::KeyframeRequest(subscriber, req) => {
                    // Sent to the layer this subscriber receives; merged with the others'.
                    let origin = self.peers.get(&subscriber).and_then(|p| {
                        let t = p.tracks_out.iter().find(|t| t.mid() == Some(req.mid))?;
                        let (source, source_mid) = t.source?;
                        Some((source, source_mid, t.fwd.current?))
                    });
                    if let Some((source, source_mid, layer)) = origin {
                        self.request_keyframe(now, source, source_mid, layer, req.kind);
                    }
                }
                Work::Reallocate(peer) => self.reallocate(now, peer),
                Work::Slots(peer) => self.publish_slots(peer),
            }
        }
    }
}

/// The simulcast rids a media declares, in its order (empty without simulcast).
fn rids_of(rids: &Rids) -> Vec<Rid> {
    match rids {
        Rids::Specific(v) => v.clone(),
        _ => Vec::new(),
    }
}
