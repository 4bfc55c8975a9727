//! Runs one simulated call through the deterministic test harness and prints how many
//! datagrams the core sent, for counting the core's instructions per datagram with callgrind,
//! which a loaded machine does not disturb (docs/benchmarks.md, "Instructions per datagram"):
//!
//! ```text
//! cargo build --release --example core_cost -p webconf-media
//! valgrind --tool=callgrind --toggle-collect='*Sfu*handle_packet*' \
//!     --toggle-collect='*Sfu*handle_timeout*' --toggle-collect='*Sfu*poll_output*' \
//!     target/release/examples/core_cost meeting30 5
//! ```
//!
//! Scenarios: `meeting30` (30 people, everyone publishing audio and video, two talking, last-N
//! 9, five microphones), `mesh10` (10 people, all talking), `fanout10` (one publisher, ten
//! listeners), `audio50` (50 microphones, two talking). The call runs 3 s to settle, then the
//! given seconds; the core's work during the first 3 s is counted too, so take the difference
//! of two runs of different lengths.

use std::time::Duration;

#[allow(dead_code)]
#[path = "../tests/it/harness.rs"]
mod harness;

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap_or_else(|| "meeting30".into());
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2);
    let mut w = harness::World::new();
    match scenario.as_str() {
        "meeting30" => {
            for _ in 0..30 {
                w.join(1);
            }
            for (i, c) in w.clients.iter_mut().enumerate() {
                c.audio_level = Some(if i < 2 { -30 } else { -127 });
            }
        }
        "mesh10" => {
            for _ in 0..10 {
                w.join(1);
            }
            for c in &mut w.clients {
                c.audio_level = Some(-30);
            }
        }
        "fanout10" => {
            w.join(1);
            for _ in 0..10 {
                let i = w.join(1);
                w.clients[i].sends_video = false;
            }
        }
        "audio50" => {
            for _ in 0..50 {
                let i = w.join(1);
                w.clients[i].sends_video = false;
            }
            for (i, c) in w.clients.iter_mut().enumerate() {
                c.audio_level = Some(if i < 2 { -30 } else { -127 });
            }
        }
        other => {
            eprintln!("unknown scenario {other}: meeting30, mesh10, fanout10 or audio50");
            std::process::exit(2);
        }
    }
    w.run_for(Duration::from_secs(3 + secs));
    let sent: u64 = w.sent_to.values().sum();
    println!(
        "{scenario} {secs}s: {sent} datagrams sent, core busy {:?}",
        w.sfu_busy
    );
}
