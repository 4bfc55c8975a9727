//! Microphone slots: a subscriber's session holds at most `audio_last_n` forwarded microphone
//! tracks whatever the size of its room; each carries, in turn, one of the loudest others, and
//! the SFU reports which.

use std::time::Duration;

use str0m::media::MediaKind;
use webconf_media::SfuConfig;

use crate::harness::{stream_of, video_track, World, SLOT_STREAM};

/// The microphones (client indices) whose audio `who` received in the last `window`.
fn microphones_heard(w: &mut World, who: usize, window: Duration) -> Vec<usize> {
    let before: Vec<u64> = (0..w.clients.len())
        .map(|i| w.clients[who].frames_from(&stream_of(i), MediaKind::Audio))
        .collect();
    w.run_for(window);
    (0..w.clients.len())
        .filter(|i| w.clients[who].frames_from(&stream_of(*i), MediaKind::Audio) > before[*i] + 10)
        .collect()
}

/// The `a=msid` (stream id and track id) of every m-line of `kind` (`audio` or `video`) the
/// SFU offered `who` to receive (`a=sendonly` on its side), across all its offers.
fn offered_msids(w: &World, who: usize, kind: &str) -> Vec<String> {
    let peer = w.clients[who].peer;
    let mut msids = Vec::new();
    for (_, sdp) in w.offers.iter().filter(|(p, _)| *p == peer) {
        for section in sdp.split("\r\nm=").skip(1) {
            let sends = section.lines().any(|l| l == "a=sendonly");
            if !section.starts_with(kind) || !sends {
                continue;
            }
            if let Some(msid) = section.lines().find_map(|l| l.strip_prefix("a=msid:")) {
                if !msids.iter().any(|m| m == msid) {
                    msids.push(msid.to_owned());
                }
            }
        }
    }
    msids
}

fn offered_audio_msids(w: &World, who: usize) -> Vec<String> {
    offered_msids(w, who, "audio")
}

fn offered_video_msids(w: &World, who: usize) -> Vec<String> {
    offered_msids(w, who, "video")
}

/// The server's media policy: bandwidth estimation off (its default), so that every wanted
/// video gets the layer its tile asks for.
fn server_config() -> SfuConfig {
    SfuConfig {
        initial_estimate: None,
        retransmit_window: webconf_media::RETRANSMIT_WINDOW_WITHOUT_ESTIMATION,
        ..SfuConfig::default()
    }
}

/// A room of `n` where client `i` speaks at `levels[i]` dBov (-127: silence).
fn room(n: usize, config: SfuConfig, levels: &[i8]) -> World {
    let mut w = World::with_config(config);
    for _ in 0..n {
        w.join(1);
    }
    for (c, level) in w.clients.iter_mut().zip(levels) {
        c.audio_level = Some(*level);
    }
    w.run_for(Duration::from_secs(3));
    w
}

#[test]
fn a_room_of_eight_gives_each_subscriber_five_slots_carrying_the_loudest_others() {
    let levels = [-20, -127, -30, -127, -40, -50, -60, -127];
    let mut w = room(8, server_config(), &levels);
    for who in 0..8 {
        // Five audio m-lines, all slots: none per microphone.
        let msids = offered_audio_msids(&w, who);
        assert_eq!(msids.len(), 5, "{who}: {msids:?}");
        assert!(
            msids
                .iter()
                .all(|m| m.starts_with(&format!("{SLOT_STREAM} slot-audio-"))),
            "{who}: {msids:?}"
        );
        // The slot table names the five loudest others.
        let carried = w.clients[who].carried(MediaKind::Audio);
        let mut loudest: Vec<String> = [0, 2, 4, 5, 6, 1, 3]
            .into_iter()
            .filter(|i| *i != who)
            .take(5)
            .map(stream_of)
            .collect();
        loudest.sort();
        // Silent ones tie: which of them fills the fifth place is not specified.
        let speaking: Vec<&String> = loudest.iter().take(4).collect();
        assert!(
            speaking.iter().all(|s| carried.contains(s)),
            "{who}: {carried:?} lacks one of {speaking:?}"
        );
        assert_eq!(carried.len(), 5, "{who}: {carried:?}");
    }
    // Heard: exactly what the table says.
    let heard = microphones_heard(&mut w, 7, Duration::from_secs(1));
    let mut table: Vec<usize> = w.clients[7]
        .carried(MediaKind::Audio)
        .iter()
        .map(|s| (0..8).find(|i| stream_of(*i) == *s).expect("a client"))
        .collect();
    table.sort();
    assert_eq!(heard, table);
    assert!(heard.contains(&0) && heard.contains(&2), "{heard:?}");
}

#[test]
fn a_new_loud_speaker_takes_the_slot_of_the_quietest_without_renegotiation() {
    let config = SfuConfig {
        audio_last_n: 2,
        ..server_config()
    };
    let mut w = room(5, config, &[-127, -20, -30, -40, -127]);
    let listener = 0;
    assert_eq!(
        microphones_heard(&mut w, listener, Duration::from_secs(1)),
        vec![1, 2]
    );
    let offers = w.offers.len();
    let reports = w.clients[listener].slot_reports;
    let mid_of = |w: &World, s: usize| w.clients[listener].slot_of(MediaKind::Audio, &stream_of(s));
    let kept = mid_of(&w, 1).expect("1 has a slot");
    let freed = mid_of(&w, 2).expect("2 has a slot");

    // The silent fourth starts speaking loudest; the third falls silent.
    w.clients[4].audio_level = Some(-15);
    w.clients[2].audio_level = Some(-127);
    w.run_for(Duration::from_secs(3));
    assert_eq!(
        microphones_heard(&mut w, listener, Duration::from_secs(1)),
        vec![1, 4]
    );
    // The same two slots: 1 kept its own, 4 took 2's; no offer was needed.
    assert_eq!(mid_of(&w, 1), Some(kept));
    assert_eq!(mid_of(&w, 4), Some(freed));
    assert_eq!(w.offers.len(), offers, "no renegotiation");
    assert!(w.clients[listener].slot_reports > reports);
    assert_eq!(offered_audio_msids(&w, listener).len(), 2);
}

#[test]
fn a_leaving_microphone_frees_its_slot_for_the_next_at_once() {
    let config = SfuConfig {
        audio_last_n: 2,
        ..server_config()
    };
    let mut w = room(4, config, &[-127, -20, -30, -40]);
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![1, 2]
    );
    w.leave(1);
    // Within the allocation interval, not at the next speaker change.
    w.run_for(Duration::from_millis(300));
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![2, 3]
    );
    let carried = w.clients[0].carried(MediaKind::Audio);
    assert!(!carried.contains(&stream_of(1)), "{carried:?}");
}

#[test]
fn joins_beyond_the_pool_add_no_audio_line_and_a_small_room_opens_one_slot_per_other() {
    let config = SfuConfig {
        audio_last_n: 3,
        ..server_config()
    };
    let mut w = room(3, config, &[-30, -30, -30]);
    // Two others: two slots.
    assert_eq!(offered_audio_msids(&w, 0).len(), 2);
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![1, 2]
    );
    for _ in 0..4 {
        let i = w.join(1);
        w.clients[i].audio_level = Some(-127);
    }
    w.run_for(Duration::from_secs(3));
    // Six others, three slots, and everyone hears the three speakers.
    for who in 0..7 {
        assert_eq!(offered_audio_msids(&w, who).len(), 3, "{who}");
    }
    assert_eq!(
        microphones_heard(&mut w, 6, Duration::from_secs(1)),
        vec![0, 1, 2]
    );
}

#[test]
fn a_blocked_microphone_gives_its_slot_to_the_next() {
    let config = SfuConfig {
        audio_last_n: 1,
        ..server_config()
    };
    let mut w = room(3, config, &[-127, -20, -40]);
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![1]
    );
    let peer = w.clients[1].peer;
    w.sfu.set_forwarding(peer, false, true).expect("block");
    w.run_for(Duration::from_millis(500));
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![2]
    );
}

/// The microphones (client indices) the slot table of `who` says its slots carry, in order.
fn microphones_carried(w: &World, who: usize) -> Vec<usize> {
    let carried = w.clients[who].carried(MediaKind::Audio);
    (0..w.clients.len())
        .filter(|i| carried.contains(&stream_of(*i)))
        .collect()
}

/// Client `i` says its microphone is off (`false`) or on: `media_state` through the engine.
fn microphone(w: &mut World, i: usize, on: bool) {
    let (now, peer) = (w.now, w.clients[i].peer);
    w.sfu.set_microphone_on(now, peer, on).expect("a peer");
    assert_eq!(w.sfu.microphone_on(peer).expect("a peer"), on);
}

#[test]
fn a_microphone_turned_off_takes_no_slot_and_leaves_it_to_one_not_heard_yet() {
    // Four speak, the second is silent (its browser sends audio levels of silence), the last
    // two sent no audio level yet: the silent one, known, comes before them.
    let mut w = room(8, server_config(), &[-20, -127, -25, -30, -35, -40]);
    assert_eq!(microphones_carried(&w, 0), vec![1, 2, 3, 4, 5]);
    // The second turns its microphone off: its browser still has the audio m-line and sends
    // silence, but nobody's slot carries it any more; the first not heard yet gets the slot.
    microphone(&mut w, 1, false);
    w.run_for(Duration::from_millis(200));
    for who in (0..8).filter(|who| *who != 1) {
        let carried = microphones_carried(&w, who);
        assert!(!carried.contains(&1), "{who}: {carried:?}");
        assert_eq!(
            carried.len(),
            5,
            "{who}: the five slots carry others: {carried:?}"
        );
        assert_eq!(offered_audio_msids(&w, who).len(), 5, "{who}: no slot more");
    }
    assert_eq!(microphones_carried(&w, 0), vec![2, 3, 4, 5, 6]);
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![2, 3, 4, 5, 6]
    );
    // Its own slots are unchanged: it hears the others.
    assert_eq!(microphones_carried(&w, 1), vec![0, 2, 3, 4, 5]);
    // On again: it competes at once (known, it comes before those not heard yet).
    microphone(&mut w, 1, true);
    w.run_for(Duration::from_millis(200));
    assert_eq!(microphones_carried(&w, 0), vec![1, 2, 3, 4, 5]);
}

#[test]
fn a_microphone_turned_on_again_gets_a_slot_when_there_is_room_or_when_it_is_loud() {
    // A small room: a slot per other.
    let mut w = room(4, server_config(), &[-20, -30, -40, -50]);
    assert_eq!(microphones_carried(&w, 0), vec![1, 2, 3]);
    microphone(&mut w, 1, false);
    w.run_for(Duration::from_millis(200));
    assert_eq!(
        microphones_carried(&w, 0),
        vec![2, 3],
        "its slot carries nobody"
    );
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![2, 3]
    );
    microphone(&mut w, 1, true);
    w.run_for(Duration::from_millis(200));
    assert_eq!(
        microphones_carried(&w, 0),
        vec![1, 2, 3],
        "room for it: at once"
    );
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![1, 2, 3]
    );

    // A full pool: five others speak louder than the second.
    let mut w = room(7, server_config(), &[-20, -127, -25, -30, -35, -40, -45]);
    assert_eq!(microphones_carried(&w, 0), vec![2, 3, 4, 5, 6]);
    microphone(&mut w, 1, false);
    // Whatever its packets say while it is off, it takes no place.
    w.clients[1].audio_level = Some(-10);
    w.run_for(Duration::from_secs(2));
    for who in (0..7).filter(|who| *who != 1) {
        let carried = microphones_carried(&w, who);
        assert!(!carried.contains(&1), "{who}: {carried:?}");
        assert_eq!(carried.len(), 5, "{who}: {carried:?}");
    }
    assert!(!microphones_heard(&mut w, 0, Duration::from_secs(1)).contains(&1));
    // On again, and loud: it takes the quietest's slot within an allocation.
    microphone(&mut w, 1, true);
    w.run_for(Duration::from_millis(200));
    assert_eq!(microphones_carried(&w, 0), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![1, 2, 3, 4, 5]
    );
}

#[test]
fn a_moderators_block_and_the_owners_switch_are_kept_apart() {
    let config = SfuConfig {
        audio_last_n: 1,
        ..server_config()
    };
    let mut w = room(3, config, &[-127, -20, -40]);
    assert_eq!(microphones_carried(&w, 0), vec![1]);
    let peer = w.clients[1].peer;
    // Blocked by a moderator, then off by its owner: lifting the block alone does not bring
    // it back, nor does turning it on while blocked.
    w.sfu.set_forwarding(peer, false, true).expect("block");
    microphone(&mut w, 1, false);
    w.run_for(Duration::from_millis(500));
    assert_eq!(microphones_carried(&w, 0), vec![2]);
    w.sfu.set_forwarding(peer, true, true).expect("lift");
    w.run_for(Duration::from_millis(500));
    assert_eq!(microphones_carried(&w, 0), vec![2], "still off");
    w.sfu.set_forwarding(peer, false, true).expect("block");
    microphone(&mut w, 1, true);
    w.run_for(Duration::from_millis(500));
    assert_eq!(microphones_carried(&w, 0), vec![2], "still blocked");
    w.sfu.set_forwarding(peer, true, true).expect("lift");
    w.run_for(Duration::from_millis(500));
    assert_eq!(microphones_carried(&w, 0), vec![1], "both allow it");
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![1]
    );
}

#[test]
fn a_slot_stays_with_its_microphone_until_another_is_clearly_louder() {
    let config = SfuConfig {
        audio_last_n: 1,
        ..server_config()
    };
    let mut w = room(3, config, &[-127, -40, -42]);
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![1]
    );
    let reports = w.clients[0].slot_reports;
    // Two noise floors trade places by 2 dB: the slot stays, no table is sent.
    w.clients[1].audio_level = Some(-42);
    w.clients[2].audio_level = Some(-40);
    w.run_for(Duration::from_secs(2));
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![1]
    );
    assert_eq!(w.clients[0].slot_reports, reports);
    // Someone really speaks: the slot goes to them.
    w.clients[2].audio_level = Some(-25);
    w.run_for(Duration::from_secs(1));
    assert_eq!(
        microphones_heard(&mut w, 0, Duration::from_secs(1)),
        vec![2]
    );
    assert_eq!(w.clients[0].slot_reports, reports + 1);
}

/// The cameras (client indices) `who` received frames of in the last `window`.
fn cameras_seen(w: &mut World, who: usize, window: Duration) -> Vec<usize> {
    let n = w.clients.len();
    let before: Vec<u64> = (0..n)
        .map(|i| w.clients[who].frames_of_track(&video_track(i)))
        .collect();
    w.run_for(window);
    (0..n)
        .filter(|i| w.clients[who].frames_of_track(&video_track(*i)) > before[*i] + 5)
        .collect()
}

#[test]
fn a_room_of_fourteen_gives_each_subscriber_nine_camera_slots_and_a_fifteenth_renegotiates_nobody()
{
    let mut w = room(14, server_config(), &[-127; 14]);
    for who in [0, 7, 13] {
        let msids = offered_video_msids(&w, who);
        assert_eq!(msids.len(), 9, "{who}: {msids:?}");
        assert!(
            msids
                .iter()
                .all(|m| m.starts_with(&format!("{SLOT_STREAM} slot-video-"))),
            "{who}: {msids:?}"
        );
        // Nobody spoke: the first nine others in join order, and the table says so.
        let expected: Vec<usize> = (0..14).filter(|i| *i != who).take(9).collect();
        let mut table: Vec<String> = expected.iter().map(|i| stream_of(*i)).collect();
        table.sort();
        assert_eq!(w.clients[who].carried(MediaKind::Video), table, "{who}");
        assert_eq!(cameras_seen(&mut w, who, Duration::from_secs(1)), expected);
    }
    let offers = w.offers.len();
    let i = w.join(1);
    w.clients[i].audio_level = Some(-127);
    w.run_for(Duration::from_secs(2));
    // Only the newcomer was offered anything: its own slots.
    let others = w.offers[offers..]
        .iter()
        .filter(|(p, _)| *p != w.clients[i].peer)
        .count();
    assert_eq!(others, 0, "the others were renegotiated");
    assert_eq!(offered_video_msids(&w, i).len(), 9);
    assert_eq!(
        cameras_seen(&mut w, i, Duration::from_secs(1)),
        (0..9).collect::<Vec<_>>()
    );
}

#[test]
fn a_new_speaker_takes_a_camera_slot_and_is_named_with_its_first_frame() {
    let config = SfuConfig {
        last_n: 2,
        ..server_config()
    };
    let mut w = room(5, config, &[-127; 5]);
    let viewer = 0;
    assert_eq!(
        cameras_seen(&mut w, viewer, Duration::from_secs(1)),
        vec![1, 2]
    );
    let offers = w.offers.len();
    let reports = w.clients[viewer].slot_reports;
    let freed = w.clients[viewer]
        .slot_of(MediaKind::Video, &stream_of(2))
        .expect("2 has a camera slot");
    // The fourth speaks: it becomes the latest speaker and takes the slot of the last in
    // join order, without renegotiation.
    w.clients[4].audio_level = Some(-20);
    w.run_for(Duration::from_secs(3));
    assert_eq!(
        cameras_seen(&mut w, viewer, Duration::from_secs(1)),
        vec![1, 4]
    );
    assert_eq!(
        w.clients[viewer].slot_of(MediaKind::Video, &stream_of(4)),
        Some(freed)
    );
    assert_eq!(w.offers.len(), offers, "no renegotiation");
    // Two tables: the slot let go (at once), then taken (with the first frame).
    let video_reports = w.clients[viewer].slot_reports - reports;
    assert!(video_reports >= 2, "{video_reports} reports");
}

#[test]
fn a_leaving_camera_frees_its_slot_and_a_late_camera_finds_one_open() {
    let config = SfuConfig {
        last_n: 3,
        ..server_config()
    };
    let mut w = room(5, config, &[-127; 5]);
    assert_eq!(
        cameras_seen(&mut w, 0, Duration::from_secs(1)),
        vec![1, 2, 3]
    );
    w.leave(2);
    w.run_for(Duration::from_millis(500));
    assert_eq!(
        cameras_seen(&mut w, 0, Duration::from_secs(1)),
        vec![1, 3, 4]
    );
    assert!(!w.clients[0]
        .carried(MediaKind::Video)
        .contains(&stream_of(2)));
    assert_eq!(offered_video_msids(&w, 0).len(), 3);
}

#[test]
fn a_camera_turned_off_gives_its_place_in_the_last_n_to_the_next() {
    let config = SfuConfig {
        last_n: 2,
        ..server_config()
    };
    let mut w = room(5, config, &[-127; 5]);
    let viewer = 0;
    assert_eq!(
        cameras_seen(&mut w, viewer, Duration::from_secs(1)),
        vec![1, 2]
    );
    // The first says its camera is off; its browser goes on sending (black) frames, but its
    // slot goes to the next camera in join order, with no renegotiation.
    let offers = w.offers.len();
    let peer = w.clients[1].peer;
    w.sfu.set_camera_on(w.now, peer, false).expect("a peer");
    assert!(!w.sfu.camera_on(peer).expect("a peer"));
    w.run_for(Duration::from_millis(500));
    assert_eq!(
        cameras_seen(&mut w, viewer, Duration::from_secs(1)),
        vec![2, 3]
    );
    for who in [0, 2, 4] {
        let carried = w.clients[who].carried(MediaKind::Video);
        assert!(!carried.contains(&stream_of(1)), "{who}: {carried:?}");
    }
    assert_eq!(w.offers.len(), offers, "no renegotiation");
    // Its own session is untouched: it still sees the others.
    assert_eq!(cameras_seen(&mut w, 1, Duration::from_secs(1)), vec![0, 2]);
    // On again: back in its place (join order) at once.
    w.sfu.set_camera_on(w.now, peer, true).expect("a peer");
    w.run_for(Duration::from_millis(500));
    assert_eq!(
        cameras_seen(&mut w, viewer, Duration::from_secs(1)),
        vec![1, 2]
    );
}

#[test]
fn a_moderators_camera_block_and_the_owners_camera_switch_are_kept_apart() {
    let config = SfuConfig {
        last_n: 1,
        ..server_config()
    };
    let mut w = room(3, config, &[-127; 3]);
    assert_eq!(cameras_seen(&mut w, 0, Duration::from_secs(1)), vec![1]);
    let peer = w.clients[1].peer;
    w.sfu.set_forwarding(peer, true, false).expect("block");
    w.sfu.set_camera_on(w.now, peer, false).expect("off");
    w.run_for(Duration::from_millis(500));
    assert_eq!(cameras_seen(&mut w, 0, Duration::from_secs(1)), vec![2]);
    w.sfu.set_forwarding(peer, true, true).expect("lift");
    w.run_for(Duration::from_millis(500));
    assert_eq!(
        cameras_seen(&mut w, 0, Duration::from_secs(1)),
        vec![2],
        "still off"
    );
    w.sfu.set_forwarding(peer, true, false).expect("block");
    w.sfu.set_camera_on(w.now, peer, true).expect("on");
    w.run_for(Duration::from_millis(500));
    assert_eq!(
        cameras_seen(&mut w, 0, Duration::from_secs(1)),
        vec![2],
        "still blocked"
    );
    w.sfu.set_forwarding(peer, true, true).expect("lift");
    w.run_for(Duration::from_millis(500));
    assert_eq!(
        cameras_seen(&mut w, 0, Duration::from_secs(1)),
        vec![1],
        "both allow it"
    );
}
