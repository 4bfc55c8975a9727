//! The sans-IO media core of webconf: a selective forwarding unit (SFU) built on [`str0m`].
//!
//! [`Sfu`] holds one [`str0m::Rtc`] per participant ("peer") and forwards every publisher's
//! audio and video to the other peers of the same room. It is a plain state machine:
//!
//! - input goes in through [`Sfu::handle_datagram`], [`Sfu::handle_timeout`], and the
//!   signaling calls ([`Sfu::add_peer`], [`Sfu::handle_offer`], [`Sfu::handle_answer`],
//!   [`Sfu::remove_peer`]);
//! - output comes out of [`Sfu::poll_output`]: datagrams to send, SDP offers to relay to a
//!   browser, peer events; [`Sfu::poll_timeout`] says when to call [`Sfu::handle_timeout`].
//!
//! # Invariants
//! - The core never reads the clock (every call takes `now`), never touches a socket and never
//!   spawns: the I/O shell (`webconf-server`) or a test harness drives it.
//! - A datagram reaches its peer through an index (ICE username fragment, then the
//!   `(local, remote)` address pair), never by asking every peer. An address pair is bound to a
//!   peer only by a STUN binding request that reached an address of its zone and whose
//!   MESSAGE-INTEGRITY verifies with its ICE password (else [`Sfu::unauthenticated_stun_drops`]);
//!   a dropped packet binds nothing.
//! - Media is only forwarded between peers of the same [`RoomId`].
//! - A peer given its network zone's addresses ([`Sfu::add_peer_with_addresses`]) is offered
//!   candidates only on those, and its packets that reach any other local address are dropped
//!   and counted ([`Sfu::foreign_zone_drops`]).
//! - At most one server offer is outstanding per peer; the client's first offer is answered
//!   before any server offer is made.
//! - Nothing that arrives from the network can panic the core: malformed datagrams and SDP are
//!   reported as [`SfuError`]s or dropped.

mod alloc;
mod api;
mod bwe;
mod codec;
mod error;
mod forward;
mod lastn;
mod peer;
mod pool;
mod rewrite;
mod routing;
mod sfu;
mod simulcast;
mod speaker;

pub use api::{
    PeerMediaStats, Protocol, SfuConfig, SfuOutput, SlotInfo, ViewRequest,
    RETRANSMIT_WINDOW_WITHOUT_ESTIMATION,
};
pub use error::SfuError;
pub use peer::TrackLabel;
pub use sfu::Sfu;

use std::fmt;

/// Internals exposed for the benchmarks in `benches/`; not a stable API.
#[doc(hidden)]
pub mod bench_support {
    pub use crate::forward::{Decision, Forwarding};
}

/// Internals exposed for the fuzz targets in `fuzz/`; not a stable API.
#[doc(hidden)]
pub mod fuzz_support {
    /// Runs, on one RTP payload from the network, every reader forwarding applies to it: the
    /// VP8 payload descriptor (ours and str0m's, with a rewrite patch), the VP8 keyframe
    /// header, the H.264 keyframe test. Whatever the bytes, none may panic.
    pub fn read_payload(payload: &[u8]) {
        let _ = crate::codec::h264_starts_keyframe(payload);
        if let Some(h) = crate::codec::vp8_header(payload) {
            let _ = payload
                .get(h.offset..)
                .and_then(crate::simulcast::vp8_keyframe_size);
        }
        if let Ok(d) = str0m::rtp::Vp8Descriptor::parse(payload) {
            let _ = d.starts_keyframe(payload);
            let _ = d.patch().picture_id(1).tl0_pic_idx(2).build();
        }
    }
}

/// Identifies one participant's media session inside the core. Chosen by the caller, unique
/// for the lifetime of the [`Sfu`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

/// Identifies a room inside the core: media is forwarded only between peers of one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub u64);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer#{}", self.0)
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "room#{}", self.0)
    }
}
