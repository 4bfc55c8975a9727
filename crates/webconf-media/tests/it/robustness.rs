//! Bad input reaches the core without harming a running call.

use std::net::SocketAddr;
use std::time::Duration;

use str0m::media::MediaKind;
use webconf_media::{PeerId, RoomId, SfuError};

use crate::harness::{stream_of, World, SERVER_IP};

#[test]
fn garbage_datagrams_and_sdp_are_refused_and_the_call_goes_on() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    let before = w.clients[a].frames_from(&stream_of(b), MediaKind::Audio);

    let now = w.now;
    let server = SocketAddr::new(SERVER_IP, 10000);
    let stranger: SocketAddr = "10.9.9.9:4444".parse().expect("addr");
    // From an unknown address: refused by the router, whatever the bytes.
    for junk in [
        &[][..],
        &[0u8; 1][..],
        &[0u8, 1, 0, 0][..],
        &[22u8; 300][..],
        &[0x80u8; 1500][..],
    ] {
        assert!(matches!(
            w.sfu.handle_datagram(now, stranger, server, junk),
            Err(SfuError::Unroutable(_))
        ));
    }
    // From a known peer's address: garbage is handed to its session, which drops it.
    let a_addr = w.clients[a].addr;
    let a_server = (0..3)
        .map(|i| SocketAddr::new(SERVER_IP, 10000 + i))
        .find(|s| {
            w.sfu
                .handle_datagram(now, a_addr, *s, &[0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1])
                .is_ok()
        });
    assert!(a_server.is_some(), "a's address pair is indexed");
    for junk in [
        &[][..],
        &[0xffu8; 9][..],
        &[23u8, 254, 253, 0, 0][..],
        &[0x81u8, 200, 0, 1][..],
    ] {
        let _ = w
            .sfu
            .handle_datagram(now, a_addr, a_server.expect("pair"), junk);
    }
    // Bad SDP.
    assert!(matches!(
        w.sfu.handle_offer(now, w.clients[a].peer, "hello"),
        Err(SfuError::BadSdp(_)) | Err(SfuError::Negotiation(_))
    ));
    assert!(w.sfu.handle_answer(now, w.clients[a].peer, "v=0").is_err());
    assert!(w.sfu.handle_offer(now, PeerId(999), "v=0").is_err());
    assert!(matches!(
        w.sfu.remove_peer(now, PeerId(999)),
        Err(SfuError::UnknownPeer(_))
    ));
    assert!(matches!(
        w.sfu
            .add_peer(now, w.clients[a].peer, RoomId(1), "dup".into()),
        Err(SfuError::DuplicatePeer(_))
    ));

    w.run_for(Duration::from_secs(2));
    let after = w.clients[a].frames_from(&stream_of(b), MediaKind::Audio);
    assert!(after > before + 80, "call continued: {before} -> {after}");
}

#[test]
fn peers_are_spread_over_the_ports() {
    let mut w = World::new();
    for _ in 0..6 {
        w.join(1);
    }
    w.run_for(Duration::from_secs(1));
    // Each of the 3 ports carries traffic for 2 peers.
    let mut per_port = std::collections::HashMap::<u16, usize>::new();
    let now = w.now;
    for c in &w.clients {
        for port in 10000..10003u16 {
            let local = SocketAddr::new(SERVER_IP, port);
            // A bogus RTP packet from the client's address routes only on its own port.
            if w.sfu
                .handle_datagram(
                    now,
                    c.addr,
                    local,
                    &[0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],
                )
                .is_ok()
            {
                *per_port.entry(port).or_default() += 1;
            }
        }
    }
    assert_eq!(per_port.len(), 3, "{per_port:?}");
    assert!(per_port.values().all(|n| *n == 2), "{per_port:?}");
}

#[test]
fn thousands_of_random_datagrams_from_a_peer_address_do_not_break_the_call() {
    let mut w = World::new();
    let a = w.join(1);
    let b = w.join(1);
    w.run_for(Duration::from_secs(2));
    let now = w.now;
    let a_addr = w.clients[a].addr;
    let a_server = (0..3)
        .map(|i| SocketAddr::new(SERVER_IP, 10000 + i))
        .find(|s| {
            w.sfu
                .handle_datagram(now, a_addr, *s, &[0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1])
                .is_ok()
        })
        .expect("a's pair is indexed");
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..5000 {
        let len = (next() % 1400) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Make most of them look like the real thing at first glance.
        if let Some(first) = d.first_mut() {
            *first = [0x00, 0x01, 22, 23, 0x80, 0x90, 0x81, *first][i % 8];
        }
        let _ = w.sfu.handle_datagram(now, a_addr, a_server, &d);
    }
    let before = w.clients[b].frames_from(&stream_of(a), MediaKind::Audio);
    w.run_for(Duration::from_secs(2));
    let after = w.clients[b].frames_from(&stream_of(a), MediaKind::Audio);
    assert!(
        after > before + 80,
        "a's media still reaches b: {before} -> {after}"
    );
}

/// A publisher whose RTP payloads are garbage (what a broken or hostile client can send inside
/// valid SRTP: truncated or malformed VP8 descriptors and H.264 NAL headers, random lengths,
/// sequence numbers jumping back and forth, random markers and layers) reaches the per-packet
/// parsers and the rewriting of every subscriber. Nothing panics, and the others' call goes on.
#[test]
fn garbage_rtp_payloads_from_a_publisher_break_nothing() {
    use str0m::format::Codec;
    use str0m::media::Rid;
    use str0m::rtp::RtpWrite;

    let mut w = World::new();
    let bad = w.join_rtp_publisher(1, crate::harness::JoinOptions { simulcast: true });
    let b = w.join(1);
    let c = w.join(1);
    w.run_for(Duration::from_secs(2));
    let video = crate::harness::video_track(c);
    let before = w.clients[b].frames_of_track(&video);

    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        // xorshift64: the same sequence on every run.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pt = w.clients[bad]
        .rtc
        .codec_config()
        .iter()
        .find(|p| p.spec().codec == Codec::Vp8)
        .map(|p| p.pt());
    let pt = pt.expect("VP8 negotiated");
    let mid = w.clients[bad].video_mid;
    let mut seq = 40_000u64;
    for i in 0..3_000u32 {
        let r = next();
        let len = (r % 80) as usize;
        let mut payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half of them start like a VP8 descriptor (X and S bits, PictureID flags), to get past
        // the first checks.
        if r & 1 == 0 && !payload.is_empty() {
            payload[0] |= 0x90;
        }
        seq = match r % 7 {
            0 => seq.saturating_sub(r % 3000),
            1 => seq + r % 20_000,
            _ => seq + 1,
        };
        let rid = Rid::from(["l", "m", "h"][(r >> 8) as usize % 3]);
        let now = w.now;
        let mut api = w.clients[bad].rtc.direct_api();
        if let Some(stream) = api.stream_tx_by_mid(mid, Some(rid)) {
            let time = (r >> 16) as u32;
            stream.write_rtp(
                RtpWrite::new(pt, seq.into(), time, now, payload)
                    .marker(r & 2 == 0)
                    .nackable(true),
            );
        }
        if i % 10 == 0 {
            w.run_for(Duration::from_millis(5));
        }
    }
    w.run_for(Duration::from_secs(1));
    // c's video still reaches b at its rate (25 frames/s over the 2.5 s simulated).
    let after = w.clients[b].frames_of_track(&video);
    assert!(
        after >= before + 55,
        "c's video at b: {before} -> {after} frames"
    );
}
