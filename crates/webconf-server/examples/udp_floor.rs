//! The kernel's share of forwarding a packet: the CPU time one `sendto` of a media-sized UDP
//! datagram costs the sending thread on this machine, delivery to a receiving socket on
//! loopback included (the loopback interface delivers in the sender's system call, so a
//! server measured on loopback pays it, as it would not with a real network interface).
//!
//! docs/benchmarks.md ("What is left is not ours"): the floor under any SFU's CPU per
//! forwarded packet in `webconf-load` and `bench-vs-janus` runs, which send one datagram per
//! forwarded packet and per subscriber.
//!
//! ```sh
//! cargo build --release --example udp_floor -p webconf-server
//! taskset -c 0 target/release/examples/udp_floor recv 127.0.0.1:19999 &
//! taskset -c 1 target/release/examples/udp_floor send 127.0.0.1:19999 500000 1200 20000
//! ```

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// CPU time this thread has used so far (the scheduler's own count, in nanoseconds).
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = s
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: udp_floor recv ADDR | udp_floor send ADDR COUNT SIZE [RATE]";
    let (Some(mode), Some(addr)) = (args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().map_err(std::io::Error::other)?;
    match mode.as_str() {
        "recv" => {
            let sock = UdpSocket::bind(addr)?;
            sock.set_read_timeout(Some(Duration::from_secs(3)))?;
            let mut buf = [0u8; 2048];
            let mut n = 0u64;
            while sock.recv(&mut buf).is_ok() {
                n += 1;
            }
            println!("received {n} datagrams");
        }
        "send" => {
            let count: u64 = args
                .get(3)
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000_000);
            let size: usize = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(1200);
            // Datagrams per second: slow enough for the receiver to take them all (a full
            // receive buffer drops in the sender's call, which is cheaper than a delivery).
            let rate: u64 = args.get(5).and_then(|v| v.parse().ok()).unwrap_or(50_000);
            let sock = UdpSocket::bind(SocketAddr::new(addr.ip(), 0))?;
            let payload = vec![0x80u8; size];
            let (cpu0, wall0) = (thread_cpu(), Instant::now());
            let mut errors = 0u64;
            for i in 0..count {
                if sock.send_to(&payload, addr).is_err() {
                    errors += 1;
                }
                // Sleeping is off this thread's CPU time, but each wake-up costs some: sleep
                // only when 1 ms ahead, so datagrams leave in bursts, as from a server's turn.
                let due = wall0 + Duration::from_secs_f64(i as f64 / rate as f64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    if wait >= Duration::from_millis(1) {
                        std::thread::sleep(wait);
                    }
                }
            }
            let (cpu, wall) = (thread_cpu() - cpu0, wall0.elapsed());
            println!(
                "sent {count} datagrams of {size} bytes ({errors} errors) in {:.2} s: {:.2} µs of CPU each",
                wall.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / count as f64
            );
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
    Ok(())
}
