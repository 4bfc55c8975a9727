//! A browser that changes network (new address) restarts ICE: new credentials both ways, and
//! the SFU routes the new address's STUN and media to the same session.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use str0m::change::SdpAnswer;
use str0m::media::MediaKind;
use str0m::Candidate;

use crate::harness::{stream_of, World};

#[test]
fn an_ice_restart_from_a_new_address_brings_media_back() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    let before = w.clients[a].frames_from(&stream_of(b), MediaKind::Video);
    assert!(before > 30, "b's video reaches a before the change: {before}");

    // b moves to another address: its old one is gone (datagrams to it are lost), it restarts
    // ICE with a candidate on the new address only.
    let now = w.now;
    let new_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 9)), 6000);
    w.loss.insert(w.clients[b].addr, 1.0);
    let peer = w.clients[b].peer;
    let c = &mut w.clients[b];
    c.addr = new_addr;
    let mut change = c.rtc.sdp_api();
    change.ice_restart(false);
    let (offer, pending) = change.apply().expect("an ICE restart makes an offer");
    let answer = w
        .sfu
        .handle_offer(now, peer, &offer.to_sdp_string())
        .expect("the SFU accepts the ICE restart");
    let c = &mut w.clients[b];
    let answer = SdpAnswer::from_sdp_string(&answer).expect("answer parses");
    c.rtc
        .sdp_api()
        .accept_answer(pending, answer)
        .expect("b accepts the answer");
    // str0m clears its local candidates when the answer completes the restart.
    c.rtc
        .add_local_candidate(Candidate::host(new_addr, "udp").expect("candidate"));

    let at_change = w.clients[a].frames_from(&stream_of(b), MediaKind::Video);
    let a_got_before = w.clients[b].frames_from(&stream_of(a), MediaKind::Video);
    w.run_for(Duration::from_secs(3));
    let after = w.clients[a].frames_from(&stream_of(b), MediaKind::Video);
    let b_got = w.clients[b].frames_from(&stream_of(a), MediaKind::Video);
    // 30 fps: 3 s is 90 frames; most must arrive once the new path is up (well under a second).
    assert!(
        after >= at_change + 45,
        "b's video reaches a again: {at_change} -> {after}"
    );
    assert!(
        b_got >= a_got_before + 45,
        "a's video reaches b at its new address: {a_got_before} -> {b_got}"
    );
}

/// A browser whose signaling socket was down missed the server's offer for a newcomer's
/// tracks; once it takes its session back (`resume`), `reoffer` makes that offer again and
/// the newcomer's video reaches it. Without it the session would wait for an answer forever.
#[test]
fn a_missed_offer_is_made_again_after_a_resume() {
    let mut w = World::new();
    let a = w.join(1);
    w.run_for(Duration::from_secs(1));
    let peer_a = w.clients[a].peer;
    w.offers_lost.insert(peer_a, 0);
    let b = w.join(1);
    w.run_for(Duration::from_secs(1));
    assert_eq!(w.offers_lost[&peer_a], 1, "the offer for b's tracks was sent while a's socket was down");
    assert_eq!(w.clients[a].frames_from(&stream_of(b), MediaKind::Video), 0);

    // The socket is back: the SFU withdraws its unanswered offer and makes it again.
    w.offers_lost.remove(&peer_a);
    let now = w.now;
    w.sfu.reoffer(now, peer_a).expect("a is known");
    w.run_for(Duration::from_secs(2));
    let got = w.clients[a].frames_from(&stream_of(b), MediaKind::Video);
    assert!(got > 20, "b's video reaches a after the offer is made again: {got}");
    // A second call with nothing outstanding changes nothing.
    let now = w.now;
    w.sfu.reoffer(now, peer_a).expect("a is known");
    w.run_for(Duration::from_millis(500));
    assert!(w.clients[a].frames_from(&stream_of(b), MediaKind::Video) > got);
}
