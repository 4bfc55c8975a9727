//! The shared HTTPS/ICE-TCP port's parsers (`crates/webconf-server/src/demux.rs`, included
//! as-is: it uses only `std`): whatever a TCP client sends, in whatever pieces, classifying and
//! de-framing never panic, every frame returned is within the limit, the buffer stays bounded,
//! and re-framing the frames gives back the bytes consumed.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/webconf-server/src/demux.rs"]
#[allow(dead_code)]
mod demux;

use demux::{classify, frame_into, is_stun_binding_request, Deframer, MAX_FRAME};

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the read size, the rest is the stream.
    let Some((&step, stream)) = data.split_first() else { return };
    if let Some(&first) = stream.first() {
        let _ = classify(first);
    }
    let step = usize::from(step % 64) + 1;
    let mut d = Deframer::new();
    let mut reframed = Vec::new();
    let mut refused = false;
    'outer: for piece in stream.chunks(step) {
        d.push(piece);
        loop {
            match d.next_frame() {
                Ok(Some(frame)) => {
                    assert!(!frame.is_empty() && frame.len() <= MAX_FRAME);
                    let _ = is_stun_binding_request(frame);
                    assert!(frame_into(&mut reframed, frame));
                }
                Ok(None) => break,
                Err(_) => {
                    refused = true;
                    break 'outer;
                }
            }
        }
        assert!(d.pending() <= 2 + MAX_FRAME + step);
    }
    // What was accepted is exactly a prefix of the stream.
    assert_eq!(&stream[..reframed.len()], &reframed[..]);
    if !refused {
        assert_eq!(reframed.len() + d.pending(), stream.len());
    }
});
