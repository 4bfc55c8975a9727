//! Room and display names come from the network (`join`) and the URL: parsing never panics,
//! and an accepted room name always follows the rule.
#![no_main]
use libfuzzer_sys::fuzz_target;
use webconf_room::{DisplayName, RoomName};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(name) = RoomName::parse(text) {
            let s = name.as_str();
            assert!(s.len() >= 10 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
            assert!(s.bytes().filter(u8::is_ascii_digit).count() >= 3);
        }
        let _ = DisplayName::parse(text);
    }
});
