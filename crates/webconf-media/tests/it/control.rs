//! What the room logic asks of the media core: moderator mutes, screen shares.

use std::time::Duration;

use crate::harness::{stream_of, World};

#[test]
fn a_muted_microphone_stops_reaching_the_others_and_comes_back_on_unmute() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    let audio = format!("{}-audio", stream_of(a));
    let video = format!("{}-video", stream_of(a));
    assert!(
        w.clients[b].frames_of_track(&audio) > 50,
        "tracks are labelled: {:?}",
        w.clients[b].received_tracks
    );

    w.sfu
        .set_forwarding(w.clients[a].peer, false, true)
        .expect("mute");
    w.run_for(Duration::from_millis(200)); // frames already in flight
    let (a0, v0) = (
        w.clients[b].frames_of_track(&audio),
        w.clients[b].frames_of_track(&video),
    );
    w.run_for(Duration::from_secs(2));
    assert_eq!(w.clients[b].frames_of_track(&audio), a0, "audio blocked");
    assert!(
        w.clients[b].frames_of_track(&video) > v0 + 30,
        "video still flows"
    );

    w.sfu
        .set_forwarding(w.clients[a].peer, true, false)
        .expect("unmute, camera off");
    w.run_for(Duration::from_millis(200));
    let (a1, v1) = (
        w.clients[b].frames_of_track(&audio),
        w.clients[b].frames_of_track(&video),
    );
    w.run_for(Duration::from_secs(2));
    assert!(w.clients[b].frames_of_track(&audio) > a1 + 50, "audio back");
    assert_eq!(w.clients[b].frames_of_track(&video), v1, "camera blocked");
}

#[test]
fn a_screen_share_added_mid_call_reaches_everyone_as_its_own_track() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    let c = w.join(1);
    w.run_for(Duration::from_secs(2));
    w.share_screen(a);
    w.run_for(Duration::from_secs(3));
    let screen = format!("{}-screen", stream_of(a));
    for other in [b, c] {
        assert!(
            w.clients[other].frames_of_track(&screen) > 20,
            "{other}: {:?}",
            w.clients[other].received_tracks
        );
    }
    // A late joiner gets the screen too.
    let d = w.join(1);
    w.run_for(Duration::from_secs(3));
    assert!(
        w.clients[d].frames_of_track(&screen) > 20,
        "{:?}",
        w.clients[d].received_tracks
    );
    // The screen is not subject to the camera block.
    w.sfu
        .set_forwarding(w.clients[a].peer, true, false)
        .expect("camera off");
    w.run_for(Duration::from_millis(200));
    let s0 = w.clients[b].frames_of_track(&screen);
    w.run_for(Duration::from_secs(1));
    assert!(w.clients[b].frames_of_track(&screen) > s0 + 10);
}

#[test]
fn the_server_reports_each_peers_bitrates_rtt_and_port() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(7));
    for c in [a, b] {
        let peer = w.clients[c].peer;
        let reports = w.stats.get(&peer).cloned().unwrap_or_default();
        assert!(reports.len() >= 2, "{c}: {reports:?}");
        let last = reports.last().expect("a report");
        // 50 audio frames of 60 bytes and 15 video frames of 1.2 kB per second each way.
        assert!(last.bitrate_in > 50_000, "{c}: {last:?}");
        assert!(last.bitrate_out > 50_000, "{c}: {last:?}");
        assert_eq!(last.transport, Some("udp"));
        assert!(matches!(last.server_port, Some(10000..=10002)), "{last:?}");
    }
}
