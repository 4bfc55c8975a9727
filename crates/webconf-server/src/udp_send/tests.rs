//! The grouping (pure) and the real-socket sending of [`super::UdpSender`].

use super::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn a_frame_to_one_subscriber_is_one_run_and_the_short_last_packet_closes_it() {
    let (src, a, b) = (
        addr("127.0.0.1:10000"),
        addr("127.0.0.1:5000"),
        addr("127.0.0.1:6000"),
    );
    let mut batch = Batcher::default();
    for len in [1100, 1100, 1100, 700] {
        batch.push(src, a, &vec![1; len]);
    }
    // After a short one, even an equal-size datagram to the same place starts a new run.
    batch.push(src, a, &[2; 1100]);
    batch.push(src, b, &[3; 90]);
    let runs = batch.runs();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert_eq!(
        (runs[0].count, runs[0].segment, runs[0].len),
        (4, 1100, 4000)
    );
    assert_eq!(
        (runs[1].count, runs[1].start, runs[1].destination),
        (1, 4000, a)
    );
    assert_eq!((runs[2].count, runs[2].destination), (1, b));
    assert_eq!(batch.bytes(&runs[2]), &[3; 90]);
}

#[test]
fn a_larger_datagram_another_socket_or_a_full_run_starts_a_new_run() {
    let (s1, s2, a) = (
        addr("127.0.0.1:10000"),
        addr("127.0.0.1:10001"),
        addr("[::1]:5000"),
    );
    let mut batch = Batcher::default();
    batch.push(s1, a, &[0; 500]);
    batch.push(s1, a, &[0; 600]);
    batch.push(s2, a, &[0; 600]);
    for _ in 0..MAX_SEGMENTS + 1 {
        batch.push(s1, a, &[0; 100]);
    }
    let counts: Vec<usize> = batch.runs().iter().map(|r| r.count).collect();
    assert_eq!(counts, [1, 1, 1, MAX_SEGMENTS, 1]);
    batch.clear();
    assert!(batch.is_empty());
}

#[test]
fn runs_stay_below_the_largest_udp_payload() {
    let (s, a) = (addr("127.0.0.1:10000"), addr("127.0.0.1:5000"));
    let mut batch = Batcher::default();
    for _ in 0..20 {
        batch.push(s, a, &[0; 5000]);
    }
    assert!(batch.runs().iter().all(|r| r.len <= MAX_RUN_BYTES));
    assert_eq!(batch.runs().iter().map(|r| r.count).sum::<usize>(), 20);
}

/// Real sockets: what a GSO call sends arrives as the separate datagrams it was made of,
/// in order, and with GSO off as well.
#[tokio::test]
async fn segments_arrive_as_the_datagrams_they_were() {
    for gso in [true, false] {
        let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (src, dst) = (server.local_addr().unwrap(), client.local_addr().unwrap());
        // As in the server, whose sockets have long been known writable to tokio.
        server.writable().await.unwrap();
        let sockets = HashMap::from([(src, server)]);
        let mut sender = UdpSender::new(gso);
        let sent: Vec<Vec<u8>> = (0..5u8)
            .map(|i| vec![i; if i == 4 { 300 } else { 1200 }])
            .collect();
        for d in &sent {
            sender.push(src, dst, d);
        }
        sender.push(src, dst, &[9; 40]);
        sender.send(&sockets);
        let mut buf = [0u8; 2048];
        for want in sent.iter().map(Vec::as_slice).chain([&[9u8; 40][..]]) {
            let (n, from) = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                client.recv_from(&mut buf),
            )
            .await
            .expect("datagram")
            .unwrap();
            assert_eq!((from, &buf[..n]), (src, want), "gso {gso}");
        }
        let counts = sender.counts();
        assert_eq!(counts.datagrams, 6);
        assert_eq!(counts.dropped, 0);
        // With GSO (when this kernel has it): one call for the five, one for the last;
        // without, one `sendmmsg` for all six.
        if gso && sender.gso() {
            assert_eq!(counts.calls, 2);
        } else {
            assert_eq!(counts.calls, 1);
        }
    }
}

#[test]
fn a_sockets_runs_go_in_one_sendmmsg_around_its_gso_runs() {
    let (s1, s2) = (addr("127.0.0.1:10000"), addr("127.0.0.1:10001"));
    let (a, b, c) = (
        addr("127.0.0.1:5000"),
        addr("127.0.0.1:6000"),
        addr("[::1]:7000"),
    );
    let mut batch = Batcher::default();
    batch.push(s1, a, &[0; 100]);
    batch.push(s2, a, &[1; 100]);
    for len in [1100, 1100, 700] {
        batch.push(s1, b, &vec![2; len]);
    }
    batch.push(s1, c, &[3; 90]);
    batch.push(s2, b, &[4; 50]);
    batch.push(s1, a, &[5; 100]);
    let mut plan = Plan::default();
    plan.make(&batch, true);
    // s1's single datagrams before its GSO run, then those after it; then s2's.
    assert_eq!(
        plan.calls,
        [
            Call::Messages {
                source: s1,
                messages: 0..1
            },
            Call::Segments(2),
            Call::Messages {
                source: s1,
                messages: 1..3
            },
            Call::Messages {
                source: s2,
                messages: 3..5
            },
        ]
    );
    let sent: Vec<(SocketAddr, u8, usize)> = plan
        .messages
        .iter()
        .map(|m| (m.destination, batch.buf[m.bytes.start], m.bytes.len()))
        .collect();
    assert_eq!(
        sent,
        [
            (a, 0, 100),
            (c, 3, 90),
            (a, 5, 100),
            (a, 1, 100),
            (b, 4, 50)
        ]
    );
    // Without GSO the run's datagrams join the others, in their place.
    plan.make(&batch, false);
    assert_eq!(
        plan.calls,
        [
            Call::Messages {
                source: s1,
                messages: 0..6
            },
            Call::Messages {
                source: s2,
                messages: 6..8
            }
        ]
    );
    let lens: Vec<usize> = plan
        .messages
        .iter()
        .take(6)
        .map(|m| m.bytes.len())
        .collect();
    assert_eq!(lens, [100, 1100, 1100, 700, 90, 100]);
}

#[test]
fn a_sendmmsg_takes_at_most_max_messages() {
    let s = addr("127.0.0.1:10000");
    let mut batch = Batcher::default();
    for i in 0..2 * MAX_MESSAGES + 5 {
        let dest = if i % 2 == 0 {
            addr("127.0.0.1:5000")
        } else {
            addr("127.0.0.1:6000")
        };
        batch.push(s, dest, &[0; 10]);
    }
    let mut plan = Plan::default();
    plan.make(&batch, true);
    let sizes: Vec<usize> = plan
        .calls
        .iter()
        .map(|c| match c {
            Call::Messages { messages, .. } => messages.len(),
            Call::Segments(_) => 0,
        })
        .collect();
    assert_eq!(sizes, [MAX_MESSAGES, MAX_MESSAGES, 5]);
}

/// Real sockets: two sockets sending to three places, interleaved, with a GSO run among
/// them: every datagram arrives from its socket, each place's in order, in one call per
/// socket (plus the GSO run's); a datagram for a socket that does not exist is dropped.
#[tokio::test]
async fn every_destination_gets_its_datagrams_in_order_from_its_socket() {
    for gso in [true, false] {
        let mut servers = Vec::new();
        for _ in 0..2 {
            let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            sock.writable().await.unwrap();
            servers.push((sock.local_addr().unwrap(), sock));
        }
        let (s1, s2) = (servers[0].0, servers[1].0);
        let sockets: HashMap<SocketAddr, Arc<UdpSocket>> = servers.into_iter().collect();
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        }
        let to: Vec<SocketAddr> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
        let plan: [(SocketAddr, usize, usize, u8); 8] = [
            (s1, 0, 1200, 1),
            (s2, 1, 60, 2),
            (s1, 0, 1200, 3),
            (s1, 0, 300, 4),
            (s1, 1, 100, 5),
            (s1, 2, 200, 6),
            (s2, 2, 70, 7),
            (s1, 0, 50, 8),
        ];
        let mut sender = UdpSender::new(gso);
        for (source, client, len, fill) in plan {
            sender.push(source, to[client], &vec![fill; len]);
        }
        sender.push(addr("127.0.0.1:9"), to[0], &[0; 10]);
        sender.send(&sockets);
        let mut buf = [0u8; 2048];
        for (client, sock) in clients.iter().enumerate() {
            let mut got = Vec::new();
            for _ in plan.iter().filter(|p| p.1 == client) {
                let (n, from) = tokio::time::timeout(
                    std::time::Duration::from_secs(2),
                    sock.recv_from(&mut buf),
                )
                .await
                .expect("datagram")
                .unwrap();
                got.push((from, n, buf[0]));
            }
            // In order from each socket (the two sockets' datagrams may interleave either way).
            for source in [s1, s2] {
                let want: Vec<(SocketAddr, usize, u8)> = plan
                    .iter()
                    .filter(|p| p.1 == client && p.0 == source)
                    .map(|p| (p.0, p.2, p.3))
                    .collect();
                let from_source: Vec<(SocketAddr, usize, u8)> =
                    got.iter().copied().filter(|g| g.0 == source).collect();
                assert_eq!(from_source, want, "gso {gso}, client {client}");
            }
        }
        let counts = sender.counts();
        assert_eq!((counts.datagrams, counts.dropped), (8, 1));
        // s1: its first datagram, its GSO run (the two that follow to the first client), one
        // `sendmmsg` for its other three; s2: one `sendmmsg`. Without GSO: one per socket.
        assert_eq!(counts.calls, if gso && sender.gso() { 4 } else { 2 });
    }
}
