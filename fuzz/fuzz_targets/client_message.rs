//! Every WebSocket text frame goes through `ClientMessage::parse`: it must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = webconf_room::ClientMessage::parse(text);
    }
});
