//! Simulcast: each subscriber gets the layer its tile needs, switches only at keyframes, and
//! sees one continuous stream.

use std::time::Duration;

use webconf_media::{SfuConfig, ViewRequest};

use crate::harness::{video_track, JoinOptions, RxFrame, World, LAYERS};

/// The layers of the frames received on `track` since frame index `from`.
fn layers_since(w: &World, who: usize, track: &str, from: usize) -> Vec<u8> {
    w.clients[who]
        .video_frames(track, from)
        .iter()
        .map(|f| f.layer)
        .collect()
}

/// Asserts the frames are one continuous stream: sequence numbers follow each other, RTP time
/// moves forward by about one frame, every change of layer is at a keyframe, no gap reported.
///
/// But for a cut at a switch: packets are forwarded as they come, so when the new layer's
/// keyframe starts while a frame of the old layer is half sent, the rest of that frame is not
/// sent and the receiver drops its first packets (they make no frame; it then says the keyframe
/// is not contiguous). Those packets do have the sequence numbers in between
/// (`rtp_numbers_stay_continuous_across_switches_and_pauses` checks every packet).
fn assert_seamless(frames: &[&RxFrame]) {
    assert!(frames.len() > 10, "too few frames: {}", frames.len());
    let max_packets = 3; // the largest layer's frames (2400 bytes)
    for pair in frames.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.layer == a.layer {
            assert_eq!(
                b.seq.0,
                a.seq.1 + 1,
                "sequence numbers continue: {a:?} -> {b:?}"
            );
            assert!(b.contiguous, "the receiver saw no gap: {b:?}");
        } else {
            assert!(
                b.keyframe,
                "a layer switch starts on a keyframe: {a:?} -> {b:?}"
            );
            assert!(
                b.seq.0 > a.seq.1 && b.seq.0 - a.seq.1 <= max_packets,
                "at most a cut frame between: {a:?} -> {b:?}"
            );
        }
        assert!(b.time > a.time, "time moves forward: {a:?} -> {b:?}");
        assert!(
            b.time - a.time <= 90_000 / 10,
            "no jump in time: {a:?} -> {b:?}"
        );
    }
}

fn view(source: &World, who: usize, height: u32) -> Vec<ViewRequest> {
    vec![ViewRequest {
        source: source.clients[who].peer,
        screen: false,
        max_height: height,
        pinned: false,
    }]
}

#[test]
fn each_subscriber_gets_the_layer_that_fits_its_tile() {
    let mut w = World::new();
    let a = w.join_with(1, JoinOptions { simulcast: true });
    let b = w.join(1);
    let c = w.join(1);
    let d = w.join(1);
    w.run_for(Duration::from_secs(2));
    let now = w.now;
    let (pb, pc) = (w.clients[b].peer, w.clients[c].peer);
    w.sfu.set_view(now, pb, &view(&w, a, 180)).expect("view");
    w.sfu.set_view(now, pc, &view(&w, a, 700)).expect("view");
    // `d` says nothing: full size. Videos climb one layer per second.
    w.run_for(Duration::from_secs(3));
    let track = video_track(a);
    let from: Vec<usize> = w.clients.iter().map(|c| c.frames.len()).collect();
    w.run_for(Duration::from_secs(2));
    let got_b = layers_since(&w, b, &track, from[b]);
    let got_c = layers_since(&w, c, &track, from[c]);
    let got_d = layers_since(&w, d, &track, from[d]);
    assert!(
        got_b.len() > 40 && got_b.iter().all(|l| *l == 0),
        "b: 180p only: {got_b:?}"
    );
    assert!(
        got_c.len() > 40 && got_c.iter().all(|l| *l == 2),
        "c: 720p only: {got_c:?}"
    );
    assert!(
        got_d.len() > 40 && got_d.iter().all(|l| *l == 2),
        "d: 720p by default: {got_d:?}"
    );
    assert_eq!(LAYERS[0].1, 180);
}

#[test]
fn switching_layers_waits_for_a_keyframe_and_keeps_the_stream_continuous() {
    let mut w = World::new();
    let a = w.join_with(1, JoinOptions { simulcast: true });
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    let pb = w.clients[b].peer;
    let track = video_track(a);
    let start = w.clients[b].frames.len();
    // Small, large, medium, hidden, small again: every change is a switch.
    // Without congestion, a video climbs one layer per second: 2.5 s reach any layer.
    let requests_at_start = w.clients[a].keyframe_requests;
    for (height, layer) in [
        (180, Some(0)),
        (720, Some(2)),
        (360, Some(1)),
        (0, None),
        (100, Some(0)),
    ] {
        let now = w.now;
        w.sfu.set_view(now, pb, &view(&w, a, height)).expect("view");
        w.run_for(Duration::from_millis(2500));
        let from = w.clients[b].frames.len();
        w.run_for(Duration::from_millis(500));
        let got = layers_since(&w, b, &track, from);
        match layer {
            Some(l) => {
                assert!(
                    got.len() > 8 && got.iter().all(|x| *x == l),
                    "{height}px -> layer {l}: {got:?}"
                );
            }
            None => assert!(got.is_empty(), "hidden: nothing sent, got {got:?}"),
        }
    }
    let _ = requests_at_start;
    let all = w.clients[b].video_frames(&track, start);
    // The pause aside, the whole call is one stream: split it at the pause.
    let gap = all
        .windows(2)
        .position(|p| p[1].time - p[0].time > 90_000 / 2);
    let gap = gap.expect("the hidden period shows as a pause in RTP time");
    assert_seamless(&all[..=gap]);
    assert_seamless(&all[gap + 1..]);
    assert_eq!(
        all[gap + 1].seq.0,
        all[gap].seq.1 + 1,
        "sequence numbers continue across the pause"
    );
    let pause = all[gap + 1].time - all[gap].time;
    assert!(
        (200_000..=300_000).contains(&pause),
        "RTP time advanced by the pause (~3 s): {pause}"
    );
}

/// Every RTP packet of a forwarded video, as the subscriber's network stack gets it, continues
/// the one before: sequence numbers +1, VP8 PictureID +1 at each frame's first packet (else
/// unchanged), TL0PICIDX likewise (every frame is on temporal layer 0 here). Across layer
/// switches up and down and a last-N pause and resume, from a publisher whose layers number
/// their packets and pictures from far-apart bases, as browsers do; and across the change of
/// camera in the subscriber's one camera slot while that video is paused.
#[test]
fn rtp_numbers_stay_continuous_across_switches_and_pauses() {
    let mut w = World::with_config(SfuConfig {
        initial_estimate: None,
        retransmit_window: webconf_media::RETRANSMIT_WINDOW_WITHOUT_ESTIMATION,
        last_n: 1,
        ..SfuConfig::default()
    });
    let a = w.join_rtp_publisher(1, JoinOptions { simulcast: true });
    let c = w.join_rtp_publisher(1, JoinOptions { simulcast: false });
    w.record_rtp = true;
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    let (pa, pb, pc) = (w.clients[a].peer, w.clients[b].peer, w.clients[c].peer);
    let tiles = |height_a: u32, pinned_a: bool| {
        vec![
            ViewRequest {
                source: pa,
                screen: false,
                max_height: height_a,
                pinned: pinned_a,
            },
            ViewRequest {
                source: pc,
                screen: false,
                max_height: 360,
                pinned: !pinned_a,
            },
        ]
    };
    let track = video_track(a);
    let start = w.clients[b].frames.len();
    let mut layers = Vec::new();
    // Small, large (two steps up), medium; then `c` pinned: with one place, `a` pauses; then
    // `a` pinned again (back from its lowest layer).
    for (height, pinned) in [
        (180, true),
        (720, true),
        (360, true),
        (360, false),
        (360, true),
    ] {
        let now = w.now;
        w.sfu
            .set_view(now, pb, &tiles(height, pinned))
            .expect("view");
        w.run_for(Duration::from_millis(3000));
        layers.push(
            w.clients[b]
                .video_frames(&track, start)
                .last()
                .map(|f| f.layer),
        );
    }
    let frames = w.clients[b].video_frames(&track, start);
    let mut seen: Vec<u8> = frames.iter().map(|f| f.layer).collect();
    seen.dedup();
    // A resumed video starts small and climbs back.
    assert!(
        seen.ends_with(&[0, 1, 2, 1, 0, 1]),
        "layers: {seen:?}, at each step's end: {layers:?}"
    );
    let paused = frames
        .windows(2)
        .filter(|p| p[1].time - p[0].time > 90_000)
        .count();
    assert_eq!(paused, 1, "one pause");

    // With last-N 1, `b` has one camera slot: `a`'s video and, while `a` is paused, `c`'s go
    // through it, one RTP stream across both.
    let client = &w.clients[b];
    let mids: std::collections::BTreeSet<_> = client.rtp.iter().map(|p| p.mid).collect();
    assert_eq!(mids.len(), 1, "one camera slot: {mids:?}");
    let mid = *mids.first().expect("the camera slot's mid");
    let rtp: Vec<_> = w.clients[b].rtp.iter().filter(|p| p.mid == mid).collect();
    assert!(rtp.len() > 300, "{} packets", rtp.len());
    for pair in rtp.windows(2) {
        let (x, y) = (pair[0], pair[1]);
        assert_eq!(
            y.seq,
            x.seq.wrapping_add(1),
            "sequence numbers: {x:?} -> {y:?}"
        );
        let (px, py) = (
            x.picture_id.expect("PictureID"),
            y.picture_id.expect("PictureID"),
        );
        let (tx, ty) = (
            x.tl0_pic_idx.expect("TL0PICIDX"),
            y.tl0_pic_idx.expect("TL0PICIDX"),
        );
        if y.frame_start {
            assert_eq!(py, (px + 1) % 0x8000, "PictureID: {x:?} -> {y:?}");
            assert_eq!(ty, tx.wrapping_add(1), "TL0PICIDX: {x:?} -> {y:?}");
        } else {
            assert_eq!((py, ty), (px, tx), "same frame: {x:?} -> {y:?}");
        }
    }
}
