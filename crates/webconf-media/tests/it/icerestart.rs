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
    assert!(
        before > 30,
        "b's video reaches a before the change: {before}"
    );

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

/// `a` took its session back (`resume`, its socket working again): the SFU sends its
/// outstanding offer again, and the first offer after `lost` (those sent before) is the same
/// SDP; once answered, the next one (b's video, which waited behind it) follows and b's audio
/// and video reach a. Returns the offers sent to a so far and the video frames a got from b.
fn resume_resends_the_same_offer(
    w: &mut World,
    a: usize,
    b: usize,
    lost: &[String],
) -> (Vec<String>, u64) {
    let peer_a = w.clients[a].peer;
    assert!(
        w.sfu.resend_offer(peer_a).expect("a is known"),
        "an offer is outstanding"
    );
    w.run_for(Duration::from_secs(2));
    let offers = offers_to(w, peer_a);
    assert!(offers.len() > lost.len(), "an offer after the resume");
    assert!(
        offers.get(lost.len()) == lost.last(),
        "the same offer again (the same SDP)"
    );
    let video = w.clients[a].frames_from(&stream_of(b), MediaKind::Video);
    assert!(
        video > 20,
        "b's video reaches a after the offer is sent again: {video}"
    );
    assert!(
        w.clients[a].frames_from(&stream_of(b), MediaKind::Audio) > 20,
        "and its audio"
    );
    (offers, video)
}

/// A browser whose signaling socket was down missed the server's offer for a newcomer's
/// tracks; once it takes its session back (`resume`), `resend_offer` sends that same offer
/// again, its answer completes it and the newcomer's video reaches it. Without it the session
/// would wait for an answer forever.
#[test]
fn a_missed_offer_is_made_again_after_a_resume() {
    let mut w = World::new();
    let a = w.join(1);
    w.run_for(Duration::from_secs(1));
    let peer_a = w.clients[a].peer;
    w.offers_lost.insert(peer_a, 0);
    let b = w.join(1);
    w.run_for(Duration::from_secs(1));
    assert_eq!(
        w.offers_lost[&peer_a], 1,
        "the offer for b's tracks was sent while a's socket was down"
    );
    assert_eq!(w.clients[a].frames_from(&stream_of(b), MediaKind::Video), 0);
    let lost = offers_to(&w, peer_a);

    // The socket is back: the SFU sends its unanswered offer again, the same.
    w.offers_lost.remove(&peer_a);
    let (offers, got) = resume_resends_the_same_offer(&mut w, a, b, &lost);
    // A second call with nothing outstanding changes nothing.
    assert!(
        !w.sfu.resend_offer(peer_a).expect("a is known"),
        "nothing outstanding"
    );
    w.run_for(Duration::from_millis(500));
    assert_eq!(offers_to(&w, peer_a).len(), offers.len(), "no offer");
    assert!(w.clients[a].frames_from(&stream_of(b), MediaKind::Video) > got);
}

/// The browser got the server's offer for a newcomer's tracks, applied it and answered, but
/// the answer was lost with its signaling socket. After the `resume` the server sends the same
/// offer again (not a new one, whose m-lines would not match those the browser applied); the
/// browser answers it again with the same answer, and the newcomer's media reaches it.
#[test]
fn an_offer_whose_answer_was_lost_is_sent_again_after_a_resume() {
    let mut w = World::new();
    let a = w.join(1);
    w.run_for(Duration::from_secs(1));
    let peer_a = w.clients[a].peer;
    w.answers_lost.insert(peer_a, 0);
    let b = w.join(1);
    w.run_for(Duration::from_secs(1));
    assert_eq!(
        w.answers_lost[&peer_a], 1,
        "a applied the offer for b's tracks; its answer was lost"
    );
    assert!(w.clients[a].answered.is_some());
    assert_eq!(
        w.clients[a].frames_from(&stream_of(b), MediaKind::Video),
        0,
        "nothing while unanswered"
    );
    let lost = offers_to(&w, peer_a);

    // The socket is back: the same offer again, the same answer (the client does not apply it
    // twice), and the offer is complete.
    w.answers_lost.remove(&peer_a);
    let (offers, video) = resume_resends_the_same_offer(&mut w, a, b, &lost);
    assert!(
        !w.sfu.resend_offer(peer_a).expect("a is known"),
        "nothing outstanding any more"
    );

    // Negotiation goes on: a third participant's tracks reach a by a new offer.
    let c = w.join(1);
    w.run_for(Duration::from_secs(2));
    assert!(
        offers_to(&w, peer_a).len() > offers.len(),
        "new offers for c's tracks"
    );
    let from_c = w.clients[a].frames_from(&stream_of(c), MediaKind::Video);
    assert!(from_c > 20, "c's video reaches a: {from_c}");
    assert!(
        w.clients[a].frames_from(&stream_of(b), MediaKind::Video) > video,
        "b's still does"
    );
}

/// The offers the SFU sent to `peer` so far (SDP), in order.
fn offers_to(w: &World, peer: webconf_media::PeerId) -> Vec<String> {
    w.offers
        .iter()
        .filter(|(p, _)| *p == peer)
        .map(|(_, sdp)| sdp.clone())
        .collect()
}
