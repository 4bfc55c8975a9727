//! Datagrams and SDP from the network reach the media core: whatever they hold, the core must
//! not panic. The first byte picks the input kind.
#![no_main]
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use webconf_media::{PeerId, RoomId, Sfu, SfuConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let now = Instant::now();
    let mut sfu = Sfu::new(SfuConfig::default());
    let _ = sfu.add_peer(now, PeerId(1), RoomId(1), "p1".into());
    let _ = sfu.add_peer(now, PeerId(2), RoomId(1), "p2".into());
    let local: SocketAddr = "127.0.0.1:10000".parse().expect("addr");
    let remote: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
    let text = String::from_utf8_lossy(rest);
    match kind % 4 {
        0 => {
            let _ = sfu.handle_datagram(now, remote, local, rest);
        }
        1 => {
            let _ = sfu.handle_offer(now, PeerId(1), &text);
        }
        2 => {
            let _ = sfu.handle_answer(now, PeerId(2), &text);
        }
        _ => {
            for chunk in rest.chunks(64) {
                let _ = sfu.handle_datagram(now, remote, local, chunk);
            }
        }
    }
    sfu.handle_timeout(now + Duration::from_secs(1));
    while sfu.poll_output().is_some() {}
});
