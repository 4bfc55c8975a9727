//! A publisher's media reaches every subscriber of its room, and only them.

use std::time::Duration;

use str0m::media::MediaKind;

use crate::harness::{stream_of, World};

#[test]
fn two_peers_receive_each_other() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(3));
    assert!(w.clients[a].connected && w.clients[b].connected);
    for (me, other) in [(a, b), (b, a)] {
        let audio = w.clients[me].frames_from(&stream_of(other), MediaKind::Audio);
        let video = w.clients[me].frames_from(&stream_of(other), MediaKind::Video);
        assert!(
            audio > 50,
            "client {me} got {audio} audio frames from {other}"
        );
        assert!(
            video > 20,
            "client {me} got {video} video frames from {other}"
        );
        assert_eq!(
            w.clients[me].frames_from(&stream_of(me), MediaKind::Audio),
            0,
            "no echo"
        );
    }
    let activity = w.sfu.take_media_activity();
    assert_eq!(
        activity.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        vec![webconf_media::RoomId(1)]
    );
    assert!(w.sfu.take_media_activity().is_empty(), "drained");
}

#[test]
fn a_late_joiner_gets_everyone_and_everyone_gets_it() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    let c = w.join(1);
    w.run_for(Duration::from_secs(3));
    for me in [a, b, c] {
        for other in [a, b, c].into_iter().filter(|o| *o != me) {
            let audio = w.clients[me].frames_from(&stream_of(other), MediaKind::Audio);
            let video = w.clients[me].frames_from(&stream_of(other), MediaKind::Video);
            assert!(
                audio > 50,
                "client {me} got {audio} audio frames from {other}"
            );
            assert!(
                video > 20,
                "client {me} got {video} video frames from {other}"
            );
        }
    }
}

#[test]
fn rooms_do_not_leak_into_each_other() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    let x = w.join(2);
    w.run_for(Duration::from_secs(3));
    assert!(w.clients[a].frames_from(&stream_of(b), MediaKind::Audio) > 50);
    assert_eq!(w.clients[x].frames_from(&stream_of(a), MediaKind::Audio), 0);
    assert_eq!(w.clients[x].frames_from(&stream_of(b), MediaKind::Video), 0);
    assert_eq!(w.clients[a].frames_from(&stream_of(x), MediaKind::Audio), 0);
}

#[test]
fn a_leaving_peer_stops_receiving_and_is_no_longer_received() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    let c = w.join(1);
    w.run_for(Duration::from_secs(3));
    assert!(w.clients[a].frames_from(&stream_of(c), MediaKind::Video) > 20);

    w.leave(c);
    let c_addr = w.clients[c].addr;
    let sent_to_c = w.sent_to.get(&c_addr).copied().unwrap_or(0);
    let a_from_c = w.clients[a].frames_from(&stream_of(c), MediaKind::Audio);
    w.run_for(Duration::from_secs(2));

    // Nothing more goes to the peer that left.
    assert_eq!(w.sent_to.get(&c_addr).copied().unwrap_or(0), sent_to_c);
    // Its media no longer reaches the others (it stopped sending, and the SFU stopped its tracks).
    assert_eq!(
        w.clients[a].frames_from(&stream_of(c), MediaKind::Audio),
        a_from_c
    );
    // The others still hear and see each other.
    let before = w.clients[a].frames_from(&stream_of(b), MediaKind::Audio);
    w.run_for(Duration::from_secs(1));
    assert!(w.clients[a].frames_from(&stream_of(b), MediaKind::Audio) > before + 30);
    assert_eq!(w.stray_offers, 0);
}

#[test]
fn media_survives_ten_percent_loss_on_one_link() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    let c = w.join(1);
    w.run_for(Duration::from_secs(2));
    // The SFU's datagrams to `a` are lost one time in ten.
    let a_addr = w.clients[a].addr;
    w.loss.insert(a_addr, 0.10);
    let b_before = w.clients[b].frames_from(&stream_of(c), MediaKind::Audio);
    let a_before = w.clients[a].frames_from(&stream_of(c), MediaKind::Audio);
    w.run_for(Duration::from_secs(4));
    // `a` still gets most of it (retransmissions fill some gaps).
    let a_got = w.clients[a].frames_from(&stream_of(c), MediaKind::Audio) - a_before;
    assert!(a_got > 150, "a got {a_got} audio frames in 4 s at 10% loss");
    // `b`, on a clean link, is not hurt by `a`'s loss.
    let b_got = w.clients[b].frames_from(&stream_of(c), MediaKind::Audio) - b_before;
    assert!(b_got > 190, "b got {b_got} audio frames in 4 s");
}

/// Without estimation, written packets are released once per subscriber per turn
/// (`complete_writes`): never more releases than datagrams sent, and the count says so.
#[test]
fn written_packets_are_released_at_most_once_per_subscriber_per_turn() {
    let mut w = World::new();
    for _ in 0..4 {
        w.join(1);
    }
    w.run_for(Duration::from_secs(3));
    let (timers, releases) = w.sfu.timeout_counts();
    let sent_before: u64 = w.sent_to.values().sum();
    w.run_for(Duration::from_secs(1));
    let (timers_after, releases_after) = w.sfu.timeout_counts();
    let sent = w.sent_to.values().sum::<u64>() - sent_before;
    let releases = releases_after - releases;
    assert!(timers_after > timers, "str0m's own timers ran");
    assert!(releases > 0, "media was released");
    assert!(
        releases <= sent,
        "{releases} releases for {sent} datagrams sent: more than one per packet"
    );
}
