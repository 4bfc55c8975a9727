//! The datagram index: which peer a datagram belongs to, without asking every peer.
//!
//! A browser's first datagrams are STUN binding requests whose USERNAME attribute starts with
//! the server-side ICE username fragment, which is unique per peer. Routing is free of side
//! effects: [`Router::route`] only says which peer a datagram names. The caller
//! ([`crate::Sfu`]) checks that a binding request reached an address of that peer's network zone
//! and that its MESSAGE-INTEGRITY verifies with that peer's ICE password, and only then binds the
//! `(local socket address, remote address)` pair to the peer ([`Router::bind_pair`]); the DTLS,
//! SRTP and SRTCP datagrams that follow are routed by that pair.

use std::collections::HashMap;
use std::net::SocketAddr;

use str0m::ice::StunMessage;

use crate::PeerId;

/// How many address pairs one peer may hold. A browser uses one or two (IPv4/IPv6, a network
/// change); the cap bounds the memory a flood of binding requests could make us spend.
pub(crate) const MAX_PAIRS_PER_PEER: usize = 8;

/// Where a datagram goes, and how it was found.
// The parsed request is large, but a route lives for one call: boxing it would cost an
// allocation per binding request for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Route<'a> {
    /// A STUN binding request whose USERNAME names this peer's ufrag. Its address pair is bound
    /// to the peer only once the request has been checked ([`Router::bind_pair`]).
    Binding {
        peer: PeerId,
        request: StunMessage<'a>,
    },
    /// Any other datagram, from an address pair already bound to this peer.
    Pair(PeerId),
}

impl Route<'_> {
    /// The peer the datagram belongs to.
    pub(crate) fn peer(&self) -> PeerId {
        match self {
            Route::Binding { peer, .. } | Route::Pair(peer) => *peer,
        }
    }
}

/// The two indexes and the reverse lists needed to clean them up when a peer leaves.
#[derive(Debug, Default)]
pub(crate) struct Router {
    by_ufrag: HashMap<String, PeerId>,
    by_pair: HashMap<(SocketAddr, SocketAddr), PeerId>,
    pairs_of: HashMap<PeerId, Vec<(SocketAddr, SocketAddr)>>,
}

impl Router {
    /// Registers the server-side ufrag of a new peer.
    pub(crate) fn add_peer(&mut self, peer: PeerId, local_ufrag: String) {
        self.by_ufrag.insert(local_ufrag, peer);
        self.pairs_of.insert(peer, Vec::new());
    }

    /// Forgets everything about a peer.
    pub(crate) fn remove_peer(&mut self, peer: PeerId, local_ufrag: &str) {
        self.by_ufrag.remove(local_ufrag);
        for pair in self.pairs_of.remove(&peer).unwrap_or_default() {
            self.by_pair.remove(&pair);
        }
    }

    /// The peer's server-side ufrag changed (an ICE restart offered by the browser: str0m
    /// answers with new credentials). Its known address pairs stay; STUN with the new ufrag
    /// binds the new ones (a network change).
    pub(crate) fn rekey(&mut self, peer: PeerId, old_ufrag: &str, new_ufrag: String) {
        if self.by_ufrag.get(old_ufrag) == Some(&peer) {
            self.by_ufrag.remove(old_ufrag);
        }
        self.by_ufrag.insert(new_ufrag, peer);
    }

    /// Finds the peer of a datagram received on `local` from `remote`, changing nothing: a
    /// binding request naming a known ufrag is [`Route::Binding`] (even on a pair bound to
    /// another peer), any other datagram is routed by its address pair.
    pub(crate) fn route<'a>(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        contents: &'a [u8],
    ) -> Option<Route<'a>> {
        if let Some(found) = self.route_stun(contents) {
            return Some(found);
        }
        self.by_pair.get(&(local, remote)).copied().map(Route::Pair)
    }

    fn route_stun<'a>(&self, contents: &'a [u8]) -> Option<Route<'a>> {
        // RFC 7983 demultiplexing: STUN starts with 0 or 1.
        if !matches!(contents.first(), Some(0..=1)) {
            return None;
        }
        let request = StunMessage::parse(contents).ok()?;
        if !request.is_binding_request() {
            return None;
        }
        let (local_ufrag, _remote_ufrag) = request.split_username()?;
        let peer = *self.by_ufrag.get(local_ufrag)?;
        Some(Route::Binding { peer, request })
    }

    /// Binds the address pair `(local, remote)` to `peer`: later datagrams of the pair are routed
    /// to it. Call only for a binding request of that peer ([`Route::Binding`]) that reached an
    /// address of its zone and whose integrity verified: a pair held by another peer moves to
    /// this one (a port reused after a reconnect), and the peer's oldest pair beyond
    /// [`MAX_PAIRS_PER_PEER`] is forgotten. Nothing happens for a peer that is not registered.
    pub(crate) fn bind_pair(&mut self, peer: PeerId, local: SocketAddr, remote: SocketAddr) {
        let key = (local, remote);
        match self.by_pair.get(&key) {
            Some(owner) if *owner == peer => return,
            Some(owner) => {
                let owner = *owner;
                if let Some(list) = self.pairs_of.get_mut(&owner) {
                    list.retain(|p| *p != key);
                }
            }
            None => {}
        }
        let Some(list) = self.pairs_of.get_mut(&peer) else {
            return;
        };
        if list.len() >= MAX_PAIRS_PER_PEER {
            let oldest = list.remove(0);
            self.by_pair.remove(&oldest);
        }
        list.push(key);
        self.by_pair.insert(key, peer);
    }

    /// Number of address pairs currently indexed.
    #[cfg(test)]
    pub(crate) fn pair_count(&self) -> usize {
        self.by_pair.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use str0m::ice::{StunMessage, TransId};

    fn binding_request(username: &str) -> Vec<u8> {
        let msg = StunMessage::binding_request(username, TransId::new(), true, 0, 1, false);
        let mut buf = vec![0u8; 1500];
        let n = msg
            .to_bytes(Some(b"password"), &mut buf, hmac_sha1)
            .expect("serialize");
        buf.truncate(n);
        buf
    }

    // The integrity attribute's value does not matter to the router (the caller verifies it);
    // any 20 bytes do.
    fn hmac_sha1(_key: &[u8], _data: &[&[u8]]) -> [u8; 20] {
        [7; 20]
    }

    /// A router with peers 1, 2, … of these ufrags, and the address pair the tests use.
    fn fixture(ufrags: &[&str]) -> (Router, SocketAddr, SocketAddr) {
        let mut r = Router::default();
        for (i, u) in ufrags.iter().enumerate() {
            r.add_peer(PeerId(i as u64 + 1), (*u).into());
        }
        (r, addr("127.0.0.1:10000"), addr("127.0.0.1:5555"))
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    /// What `Sfu::handle_packet` does with a binding request that passed its checks (zone,
    /// integrity): routes it, then binds its pair.
    fn route_and_bind(
        r: &mut Router,
        local: SocketAddr,
        remote: SocketAddr,
        contents: &[u8],
    ) -> Option<PeerId> {
        let route = r.route(local, remote, contents)?;
        let peer = route.peer();
        if let Route::Binding { .. } = route {
            r.bind_pair(peer, local, remote);
        }
        Some(peer)
    }

    /// The peer of a datagram, and whether it came as a binding request.
    fn peek(
        r: &Router,
        local: SocketAddr,
        remote: SocketAddr,
        contents: &[u8],
    ) -> Option<(PeerId, bool)> {
        r.route(local, remote, contents)
            .map(|route| (route.peer(), matches!(route, Route::Binding { .. })))
    }

    #[test]
    fn routes_by_ufrag_then_by_address_pair() {
        let (mut r, local, remote) = fixture(&["aaaa", "bbbb"]);
        // A DTLS record before any STUN: unknown.
        assert_eq!(route_and_bind(&mut r, local, remote, &[22, 254, 253]), None);
        // STUN with the second peer's ufrag binds the pair.
        let stun = binding_request("bbbb:client");
        assert_eq!(
            route_and_bind(&mut r, local, remote, &stun),
            Some(PeerId(2))
        );
        assert_eq!(
            route_and_bind(&mut r, local, remote, &[22, 254, 253]),
            Some(PeerId(2))
        );
        // Same remote on another local socket is another pair.
        assert_eq!(
            route_and_bind(&mut r, addr("127.0.0.1:10001"), remote, &[22]),
            None
        );
    }

    #[test]
    fn routing_a_binding_request_binds_nothing() {
        let (mut r, local, remote) = fixture(&["aaaa", "bbbb"]);
        let stun = binding_request("bbbb:client");
        // Found by its ufrag, as a binding request, as often as asked: no pair is recorded.
        for _ in 0..3 {
            assert_eq!(peek(&r, local, remote, &stun), Some((PeerId(2), true)));
        }
        assert_eq!(r.pair_count(), 0);
        assert_eq!(peek(&r, local, remote, &[22, 254, 253]), None);
        // Once bound, other datagrams follow the pair; the request is still a binding request.
        r.bind_pair(PeerId(2), local, remote);
        assert_eq!(
            peek(&r, local, remote, &[22, 254, 253]),
            Some((PeerId(2), false))
        );
        assert_eq!(peek(&r, local, remote, &stun), Some((PeerId(2), true)));
    }

    #[test]
    fn a_request_naming_another_peer_leaves_the_pair_with_its_owner_until_bound() {
        let (mut r, local, remote) = fixture(&["aaaa", "bbbb"]);
        route_and_bind(&mut r, local, remote, &binding_request("aaaa:c"));
        // A request on peer 1's pair naming peer 2 is routed to peer 2 (to be checked) but
        // the pair stays peer 1's: the caller has not bound it.
        assert_eq!(
            peek(&r, local, remote, &binding_request("bbbb:c")),
            Some((PeerId(2), true))
        );
        assert_eq!(peek(&r, local, remote, &[22]), Some((PeerId(1), false)));
        assert_eq!(r.pair_count(), 1);
    }

    #[test]
    fn a_binding_request_with_an_unknown_ufrag_follows_its_pair() {
        let (mut r, local, remote) = fixture(&["aaaa"]);
        route_and_bind(&mut r, local, remote, &binding_request("aaaa:c"));
        // An old ufrag (before an ICE restart) on a known pair: handed to the pair's peer as a
        // plain datagram (its ICE agent refuses it), never bound anew.
        assert_eq!(
            peek(&r, local, remote, &binding_request("zzzz:c")),
            Some((PeerId(1), false))
        );
    }

    #[test]
    fn a_rekeyed_peer_is_found_by_its_new_ufrag_only() {
        let (mut r, local, remote) = fixture(&["aaaa"]);
        assert_eq!(
            route_and_bind(&mut r, local, remote, &binding_request("aaaa:c")),
            Some(PeerId(1))
        );
        r.rekey(PeerId(1), "aaaa", "cccc".into());
        let moved = addr("127.0.0.1:5556");
        assert_eq!(
            route_and_bind(&mut r, local, moved, &binding_request("aaaa:c2")),
            None
        );
        assert_eq!(
            route_and_bind(&mut r, local, moved, &binding_request("cccc:c2")),
            Some(PeerId(1))
        );
        // The old pair still routes until the peer leaves; leaving forgets the new ufrag.
        assert_eq!(
            route_and_bind(&mut r, local, remote, &[22]),
            Some(PeerId(1))
        );
        r.remove_peer(PeerId(1), "cccc");
        assert_eq!(
            route_and_bind(
                &mut r,
                local,
                addr("127.0.0.1:5557"),
                &binding_request("cccc:c3")
            ),
            None
        );
    }

    #[test]
    fn unknown_ufrag_and_garbage_route_nowhere() {
        let (mut r, local, remote) = fixture(&["aaaa"]);
        assert_eq!(
            route_and_bind(&mut r, local, remote, &binding_request("zzzz:client")),
            None
        );
        assert_eq!(route_and_bind(&mut r, local, remote, &[0, 1, 2]), None);
        assert_eq!(route_and_bind(&mut r, local, remote, &[]), None);
        assert_eq!(r.pair_count(), 0);
    }

    #[test]
    fn removing_a_peer_forgets_its_pairs_and_pairs_are_capped() {
        let mut r = Router::default();
        r.add_peer(PeerId(1), "aaaa".into());
        let local = addr("127.0.0.1:10000");
        for port in 0..(MAX_PAIRS_PER_PEER as u16 + 5) {
            let remote = SocketAddr::new(local.ip(), 6000 + port);
            assert_eq!(
                route_and_bind(&mut r, local, remote, &binding_request("aaaa:c")),
                Some(PeerId(1))
            );
        }
        assert_eq!(r.pair_count(), MAX_PAIRS_PER_PEER);
        r.remove_peer(PeerId(1), "aaaa");
        assert_eq!(r.pair_count(), 0);
        assert_eq!(
            route_and_bind(&mut r, local, addr("127.0.0.1:6010"), &[22]),
            None
        );
        // Binding for a peer that is not registered records nothing.
        r.bind_pair(PeerId(1), local, addr("127.0.0.1:6011"));
        assert_eq!(r.pair_count(), 0);
    }

    #[test]
    fn a_pair_moves_to_the_peer_that_last_proved_it() {
        let (mut r, local, remote) = fixture(&["aaaa", "bbbb"]);
        route_and_bind(&mut r, local, remote, &binding_request("aaaa:c"));
        route_and_bind(&mut r, local, remote, &binding_request("bbbb:c"));
        assert_eq!(
            route_and_bind(&mut r, local, remote, &[22]),
            Some(PeerId(2))
        );
        r.remove_peer(PeerId(1), "aaaa");
        assert_eq!(
            route_and_bind(&mut r, local, remote, &[22]),
            Some(PeerId(2))
        );
    }
}
