//! A STUN binding request binds its address pair to a peer only if its MESSAGE-INTEGRITY
//! proves that peer's ICE password: a forged source address and a known ufrag must not move
//! another participant's pair (and cut its media).

use std::net::SocketAddr;
use std::time::Duration;

use str0m::ice::StunMessage;
use str0m::media::MediaKind;
use webconf_media::{Protocol, SfuError, SfuOutput};

use crate::harness::{binding_request, ice_credentials, stream_of, udp_candidates, World};

/// A bogus SRTP packet: whoever gets it drops it, but it shows whether its address pair is bound.
const JUNK_RTP: [u8; 12] = [0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];

fn frames(w: &World, me: usize, other: usize) -> (u64, u64) {
    let c = &w.clients[me];
    (
        c.frames_from(&stream_of(other), MediaKind::Audio),
        c.frames_from(&stream_of(other), MediaKind::Video),
    )
}

/// The USERNAME of client `i`'s binding requests: `<server ufrag>:<client ufrag>`.
fn username(w: &mut World, i: usize) -> String {
    let server = ice_credentials(&w.clients[i].answer).0;
    let client = w.clients[i].rtc.direct_api().local_ice_credentials().ufrag;
    format!("{server}:{client}")
}

/// Feeds `forged` from `from` (a's address) to `to` every 5 ms for 2 s, each refused as `refused`
/// says, and checks that a's and b's media kept flowing both ways meanwhile. Returns how many.
fn forged_while_media_flows(
    w: &mut World,
    (a, b): (usize, usize),
    (from, to): (SocketAddr, SocketAddr),
    forged: &[u8],
    refused: impl Fn(&Result<(), SfuError>) -> bool,
) -> u64 {
    let before = [frames(w, b, a), frames(w, a, b)];
    let steps = 400;
    for _ in 0..steps {
        let r = w.sfu.handle_packet(w.now, Protocol::Udp, from, to, forged);
        assert!(refused(&r), "{r:?}");
        w.run_for(Duration::from_millis(5));
    }
    let after = [frames(w, b, a), frames(w, a, b)];
    for k in 0..2 {
        assert!(
            after[k].0 > before[k].0 + 50 && after[k].1 > before[k].1 + 20,
            "{before:?} -> {after:?}"
        );
    }
    steps
}

#[test]
fn a_binding_request_without_the_password_takes_no_pair() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    assert!(w.clients[a].connected && w.clients[b].connected);

    // b's USERNAME with a wrong password, forged from a's address to a's server socket (a's
    // address pair): refused, counted.
    let forged = binding_request(&username(&mut w, b), Some("not the password"));
    let a_addr = w.clients[a].addr;
    let a_server = udp_candidates(&w.clients[a].answer)[0];
    let r = w
        .sfu
        .handle_packet(w.now, Protocol::Udp, a_addr, a_server, &forged);
    assert!(
        matches!(r, Err(SfuError::Unauthenticated(s)) if s == a_addr),
        "{r:?}"
    );
    assert_eq!(w.sfu.unauthenticated_stun_drops(), 1);
    assert_eq!(w.sfu.foreign_zone_drops(), 0);

    // The same forgery every 5 ms for 2 s: a's media keeps reaching b, and b's reaching a.
    let steps = forged_while_media_flows(&mut w, (a, b), (a_addr, a_server), &forged, |r| {
        matches!(r, Err(SfuError::Unauthenticated(_)))
    });
    assert_eq!(w.sfu.unauthenticated_stun_drops(), 1 + steps);
}

#[test]
fn a_binding_request_without_integrity_takes_no_pair() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));

    // No MESSAGE-INTEGRITY at all: not even read as a binding request (str0m's STUN parser
    // refuses one), so it routes by its pair, to a, whose session refuses it as malformed.
    let forged = binding_request(&username(&mut w, b), None);
    let a_addr = w.clients[a].addr;
    let a_server = udp_candidates(&w.clients[a].answer)[0];
    forged_while_media_flows(&mut w, (a, b), (a_addr, a_server), &forged, |r| {
        matches!(r, Err(SfuError::BadDatagram))
    });
}

#[test]
fn a_binding_request_with_the_password_binds_its_pair() {
    // The control: a request proving b's password, from a new port of b's address (a NAT
    // rebinding), is answered by b's session and binds the new pair to b.
    let mut w = World::new();
    w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    let pwd = ice_credentials(&w.clients[b].answer).1;
    let request = binding_request(&username(&mut w, b), Some(&pwd));
    let moved = SocketAddr::new(w.clients[b].addr.ip(), 5001);
    let b_server = udp_candidates(&w.clients[b].answer)[0];
    let r = w
        .sfu
        .handle_packet(w.now, Protocol::Udp, moved, b_server, &JUNK_RTP);
    assert!(matches!(r, Err(SfuError::Unroutable(_))), "{r:?}");

    while w.sfu.poll_output().is_some() {}
    w.sfu
        .handle_packet(w.now, Protocol::Udp, moved, b_server, &request)
        .expect("routed to b");
    let mut answered = 0;
    while let Some(out) = w.sfu.poll_output() {
        if let SfuOutput::Transmit {
            source,
            destination,
            contents,
            ..
        } = out
        {
            let success =
                StunMessage::parse(&contents).is_ok_and(|m| m.is_successful_binding_response());
            if success && source == b_server && destination == moved {
                answered += 1;
            }
        }
    }
    assert_eq!(answered, 1, "b's session answers the request");
    w.sfu
        .handle_packet(w.now, Protocol::Udp, moved, b_server, &JUNK_RTP)
        .expect("the new pair is b's");
    assert_eq!(w.sfu.unauthenticated_stun_drops(), 0);
}
