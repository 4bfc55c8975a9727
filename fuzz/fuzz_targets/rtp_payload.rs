//! RTP payloads from any publisher reach the forwarding path's readers (VP8 descriptor and
//! keyframe header, H.264 keyframe test) after SRTP: whatever they hold, none may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webconf_media::fuzz_support::read_payload(data);
});
