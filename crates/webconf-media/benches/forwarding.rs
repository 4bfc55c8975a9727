//! Benchmarks of the forwarding hot path, so that regressions show:
//!
//! - `decision`: what the core does per packet and per subscriber before handing the packet to
//!   str0m (layer decision and timestamp rewriting);
//! - `call`: 200 ms of a whole simulated call (5 participants, one of them simulcasting),
//!   through the deterministic test harness: SRTP, packetization, forwarding, allocation.
//! - `server`: the server's share only of a 10-person call (everyone publishing audio and
//!   video, everyone receiving): the time spent in the core's drive functions, per datagram
//!   it sends (criterion's throughput, in datagrams). The str0m clients' work is left out.
//! - `meeting`: the same for a 30-person meeting as the server's defaults run it: last-N 9
//!   cameras and the 5 loudest microphones per subscriber, two people talking. Most packets
//!   reach only some of the subscribers: the per-subscriber work of a packet not sent shows
//!   here, not in `server`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use webconf_media::bench_support::Forwarding;

#[allow(dead_code)]
#[path = "../tests/it/harness.rs"]
mod harness;

fn decision(c: &mut Criterion) {
    let t0 = Instant::now();
    c.bench_function("decision: 1000 frames x 1 subscriber", |b| {
        b.iter_batched(
            || {
                let mut f = Forwarding::new();
                f.target = Some(1);
                f
            },
            |mut f| {
                for i in 0..1000u64 {
                    let layer = (i % 3) as usize;
                    let key = i % 90 == 1;
                    if let webconf_media::bench_support::Decision::Forward { switched } =
                        f.on_video_packet(layer, key)
                    {
                        std::hint::black_box(f.out_time(
                            i * 3000,
                            90_000,
                            t0 + Duration::from_millis(i * 33),
                            switched,
                        ));
                    }
                }
                f
            },
            BatchSize::SmallInput,
        )
    });
}

fn call(c: &mut Criterion) {
    let mut w = harness::World::new();
    w.join_with(1, harness::JoinOptions { simulcast: true });
    for _ in 0..4 {
        w.join(1);
    }
    w.run_for(Duration::from_secs(3));
    let mut group = c.benchmark_group("call");
    group.sample_size(10);
    group.bench_function("200 ms of a 5-person call", |b| {
        b.iter(|| w.run_for(Duration::from_millis(200)))
    });
    group.finish();
}

/// Benchmarks the server's share of 200 ms of `w`'s call, per datagram it sends: the time
/// spent inside the core's drive functions (`World::sfu_busy`), once the call is established.
fn server_share(c: &mut Criterion, group: &str, name: &str, mut w: harness::World) {
    w.run_for(Duration::from_secs(3));
    let sent = |w: &harness::World| w.sent_to.values().sum::<u64>();
    // Datagrams the server sends in 200 ms.
    let before = sent(&w);
    w.run_for(Duration::from_millis(200));
    let per_run = sent(&w) - before;
    let mut group = c.benchmark_group(group);
    group.sample_size(10);
    group.throughput(Throughput::Elements(per_run));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let busy = w.sfu_busy;
            for _ in 0..iters {
                w.run_for(Duration::from_millis(200));
            }
            w.sfu_busy - busy
        })
    });
    group.finish();
}

fn server(c: &mut Criterion) {
    let mut w = harness::World::new();
    for _ in 0..10 {
        w.join(1);
    }
    server_share(
        c,
        "server",
        "200 ms of a 10-person call (datagrams sent)",
        w,
    );
}

fn meeting(c: &mut Criterion) {
    let mut w = harness::World::new();
    for _ in 0..30 {
        w.join(1);
    }
    for (i, client) in w.clients.iter_mut().enumerate() {
        client.audio_level = Some(if i < 2 { -30 } else { -127 });
    }
    server_share(
        c,
        "meeting",
        "200 ms of a 30-person meeting, last-N 9 (datagrams sent)",
        w,
    );
}

criterion_group!(benches, decision, call, server, meeting);
criterion_main!(benches);
