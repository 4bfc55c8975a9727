//! Last-N and active speakers: with 6 publishers and N = 3, a subscriber receives the cameras
//! of the pinned and of the latest speakers; speaker changes are stable and reported.

use std::time::Duration;

use webconf_media::{RoomId, SfuConfig, ViewRequest};

use crate::harness::{video_track, World};

/// The sources whose camera `who` received frames of in the last `window`.
fn cameras_received(w: &mut World, who: usize, window: Duration) -> Vec<usize> {
    let before: Vec<u64> = (0..w.clients.len())
        .map(|i| w.clients[who].frames_of_track(&video_track(i)))
        .collect();
    w.run_for(window);
    (0..w.clients.len())
        .filter(|i| w.clients[who].frames_of_track(&video_track(*i)) > before[*i] + 5)
        .collect()
}

#[test]
fn a_subscriber_gets_the_cameras_of_the_last_n_speakers_and_its_pins() {
    let mut w = World::with_config(SfuConfig {
        last_n: 3,
        ..SfuConfig::default()
    });
    let s = w.join(1);
    let publishers: Vec<usize> = (0..6).map(|_| w.join(1)).collect();
    for c in &mut w.clients {
        c.audio_level = Some(-127);
    }
    w.run_for(Duration::from_secs(3));
    // Nobody spoke: join order.
    assert_eq!(
        cameras_received(&mut w, s, Duration::from_secs(1)),
        vec![1, 2, 3]
    );
    assert!(w.speaker_events.is_empty());

    // The fifth publisher speaks: it becomes the active speaker and takes the first place.
    let p5 = publishers[4];
    w.clients[p5].audio_level = Some(-25);
    w.run_for(Duration::from_secs(3));
    assert_eq!(w.speaker_events, vec![(RoomId(1), w.clients[p5].peer)]);
    assert_eq!(w.sfu.active_speaker(RoomId(1)), Some(w.clients[p5].peer));
    assert_eq!(
        cameras_received(&mut w, s, Duration::from_secs(1)),
        vec![1, 2, p5]
    );

    // Then the sixth: both latest speakers are in.
    let p6 = publishers[5];
    w.clients[p5].audio_level = Some(-127);
    w.clients[p6].audio_level = Some(-25);
    w.run_for(Duration::from_secs(3));
    assert_eq!(
        w.sfu.speakers(RoomId(1)),
        vec![w.clients[p6].peer, w.clients[p5].peer]
    );
    assert_eq!(
        cameras_received(&mut w, s, Duration::from_secs(1)),
        vec![1, p5, p6]
    );

    // The subscriber pins the fourth publisher, and shows everyone else small.
    let view: Vec<ViewRequest> = publishers
        .iter()
        .map(|p| ViewRequest {
            source: w.clients[*p].peer,
            screen: false,
            max_height: 180,
            pinned: *p == publishers[3],
        })
        .collect();
    let now = w.now;
    w.sfu.set_view(now, w.clients[s].peer, &view).expect("view");
    w.run_for(Duration::from_secs(2));
    assert_eq!(
        cameras_received(&mut w, s, Duration::from_secs(1)),
        vec![publishers[3], p5, p6]
    );
    // Hidden tiles get nothing, even when they are speakers.
    let view: Vec<ViewRequest> = view
        .iter()
        .map(|r| ViewRequest {
            max_height: if r.source == w.clients[p6].peer {
                0
            } else {
                180
            },
            ..*r
        })
        .collect();
    let now = w.now;
    w.sfu.set_view(now, w.clients[s].peer, &view).expect("view");
    w.run_for(Duration::from_secs(2));
    assert_eq!(
        cameras_received(&mut w, s, Duration::from_secs(1)),
        vec![1, publishers[3], p5]
    );
    // Audio of the speaker always arrives.
    let heard = w.clients[s].frames_of_track(&format!("{}-audio", crate::harness::stream_of(p6)));
    assert!(heard > 200, "{heard}");
}

#[test]
fn a_short_interruption_does_not_change_the_speaker() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    let _c = w.join(1);
    for c in &mut w.clients {
        c.audio_level = Some(-127);
    }
    w.run_for(Duration::from_secs(2));
    w.clients[a].audio_level = Some(-30);
    w.run_for(Duration::from_secs(3));
    // b coughs for 300 ms while a pauses.
    w.clients[a].audio_level = Some(-127);
    w.clients[b].audio_level = Some(-20);
    w.run_for(Duration::from_millis(300));
    w.clients[b].audio_level = Some(-127);
    w.clients[a].audio_level = Some(-30);
    w.run_for(Duration::from_secs(2));
    // b then really speaks.
    w.clients[a].audio_level = Some(-127);
    w.clients[b].audio_level = Some(-30);
    w.run_for(Duration::from_secs(3));
    let (pa, pb) = (w.clients[a].peer, w.clients[b].peer);
    assert_eq!(
        w.speaker_events,
        vec![(RoomId(1), pa), (RoomId(1), pb)],
        "no flicker"
    );
}

/// The microphones `who` received packets of in the last `window`.
fn microphones_received(w: &mut World, who: usize, window: Duration) -> Vec<usize> {
    let track = |i: usize| format!("{}-audio", crate::harness::stream_of(i));
    let before: Vec<u64> = (0..w.clients.len())
        .map(|i| w.clients[who].frames_of_track(&track(i)))
        .collect();
    w.run_for(window);
    (0..w.clients.len())
        .filter(|i| w.clients[who].frames_of_track(&track(*i)) > before[*i] + 10)
        .collect()
}

#[test]
fn audio_goes_to_each_subscriber_from_the_loudest_others() {
    let mut w = World::with_config(SfuConfig {
        audio_last_n: 2,
        ..SfuConfig::default()
    });
    let listener = w.join(1);
    let talkers: Vec<usize> = (0..4).map(|_| w.join(1)).collect();
    for c in &mut w.clients {
        c.audio_level = Some(-127);
    }
    // Three speak, the loudest first; the fourth is silent.
    for (t, level) in talkers.iter().zip([-20, -30, -40]) {
        w.clients[*t].audio_level = Some(level);
    }
    w.run_for(Duration::from_secs(3));
    // A listener hears the two loudest.
    assert_eq!(
        microphones_received(&mut w, listener, Duration::from_secs(1)),
        vec![talkers[0], talkers[1]]
    );
    // The loudest is not told its own voice takes a place: it hears the next two.
    assert_eq!(
        microphones_received(&mut w, talkers[0], Duration::from_secs(1)),
        vec![talkers[1], talkers[2]]
    );
    assert_eq!(
        microphones_received(&mut w, talkers[1], Duration::from_secs(1)),
        vec![talkers[0], talkers[2]]
    );
    assert_eq!(
        microphones_received(&mut w, talkers[3], Duration::from_secs(1)),
        vec![talkers[0], talkers[1]]
    );
}
