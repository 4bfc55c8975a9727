//! Errors of the media core.

use crate::PeerId;

/// What went wrong in a call to the [`Sfu`](crate::Sfu). None of these is fatal for the core:
/// the caller reports it (to the browser, or in a counter) and goes on.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    /// The peer is unknown (never added, or already removed).
    #[error("unknown {0}")]
    UnknownPeer(PeerId),
    /// A peer with this id already exists.
    #[error("{0} already exists")]
    DuplicatePeer(PeerId),
    /// The SDP text could not be parsed.
    #[error("malformed SDP: {0}")]
    BadSdp(String),
    /// The SDP parsed but str0m refused the offer or answer.
    #[error("SDP refused: {0}")]
    Negotiation(String),
    /// An answer arrived while no server offer was outstanding.
    #[error("no offer is outstanding for {0}")]
    UnexpectedAnswer(PeerId),
    /// The client sent an offer while a server offer is still waiting for its answer.
    #[error("an offer is already outstanding for {0}")]
    OfferPending(PeerId),
    /// A datagram came from an address and username that belong to no peer.
    #[error("datagram from {0} belongs to no peer")]
    Unroutable(std::net::SocketAddr),
    /// A STUN binding request from this address named a peer's ICE username fragment, but its
    /// MESSAGE-INTEGRITY does not verify with that peer's ICE password: dropped, it bound no
    /// address pair.
    #[error("STUN binding request from {0} failed its integrity check")]
    Unauthenticated(std::net::SocketAddr),
    /// A datagram is not STUN, DTLS, RTP or RTCP.
    #[error("datagram of unknown kind")]
    BadDatagram,
    /// No local media address is configured, so no candidate can be offered.
    #[error("no local media address is configured")]
    NoLocalAddress,
}
