use webconf_room::{ClientMessage, DisplayName, RoomName};

/// A tiny deterministic generator (xorshift64*), so a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    r#"{"type":"join","version":1,"room":"reunion2024abc","name":"Alice"}"#,
    r#"{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}"#,
    r#"{"type":"answer","sdp":"v=0"}"#,
    r#"{"type":"media_state","audio":false,"video":true}"#,
    r#"{"type":"leave"}"#,
    r#"{"type":"ping"}"#,
    r##"{"type":"board_add","object":{"id":"k3","layer":{"on":"board"},"color":"#e1000f","width":6,"shape":{"kind":"path","points":[[0,0],[5,8]]}}}"##,
    r#"{"type":"chat","text":"Bonjour","to":"p0c1d2e3f40516273"}"#,
    r#"{"type":"set_password","password":"correct horse"}"#,
];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "\\u0000",
    "\\ud800",
    "null",
    "true",
    "1e999",
    "-0",
    "\"type\"",
    "\"join\"",
    "\u{0}",
    "é",
    "\u{202e}",
    "99999999999999999999",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut s: Vec<char> = seed.chars().collect();
    for _ in 0..=rng.below(4) {
        match rng.below(4) {
            0 if !s.is_empty() => {
                let i = rng.below(s.len());
                s.remove(i);
            }
            1 => {
                let i = rng.below(s.len() + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                for (k, c) in t.chars().enumerate() {
                    s.insert(i + k, c);
                }
            }
            2 if !s.is_empty() => {
                let i = rng.below(s.len());
                s[i] = char::from_u32(rng.below(0x3000) as u32).unwrap_or('x');
            }
            _ => {
                let i = rng.below(s.len() + 1);
                s.truncate(i);
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn client_message_parser_never_panics_on_mutated_frames() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for i in 0..20_000 {
        let input = mutate(&mut rng, SEEDS[i % SEEDS.len()]);
        if let Ok(msg) = ClientMessage::parse(&input) {
            accepted += 1;
            // Whatever parsed, validating a drawing never panics either.
            if let ClientMessage::BoardAdd { object } = msg {
                let _ = object.validate();
            }
        }
    }
    // Some mutations keep the message valid, most do not: both paths were exercised.
    assert!(accepted > 100 && accepted < 19_000, "accepted {accepted}");
}

#[test]
fn name_parsers_never_panic_and_only_accept_valid_names() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..20_000 {
        let input = mutate(&mut rng, "Reunion2024abc");
        if let Ok(room) = RoomName::parse(&input) {
            let s = room.as_str();
            assert!((10..=64).contains(&s.len()), "{input:?}");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{input:?}"
            );
            assert!(
                s.bytes().filter(u8::is_ascii_digit).count() >= 3,
                "{input:?}"
            );
        }
        if let Ok(name) = DisplayName::parse(&input) {
            assert!(!name.as_str().chars().any(char::is_control), "{input:?}");
            assert!(!name.as_str().is_empty());
        }
    }
}
