//! Sending the core's UDP datagrams in as few system calls as possible.
//!
//! One `sendto` per datagram was the largest single cost of forwarding (docs/benchmarks.md,
//! "Where a forwarded packet's CPU goes"). The core emits a video frame for one subscriber as
//! several datagrams in a row, all to the same address and of the same size but the last:
//! exactly what UDP generic segmentation offload (GSO, `UDP_SEGMENT`, Linux ≥ 4.18) sends in
//! one call, the kernel (or the network card) cutting it into datagrams below the socket.
//!
//! [`Batcher`] is the pure part: it groups the datagrams of one engine turn into runs, in
//! order. [`UdpSender`] sends each run with one `sendmsg` (a run of one is a plain datagram).
//! If the kernel or the interface refuses GSO (`EIO` without checksum offload, `EINVAL` on old
//! kernels), GSO is turned off for good and runs go out one datagram at a time, as before.

use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrStorage};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tracing::{debug, warn};

/// Most datagrams in one GSO call (the kernel accepts up to 64).
pub const MAX_SEGMENTS: usize = 32;
/// Most bytes in one GSO call (an IP packet's payload is at most 65 507 bytes).
const MAX_RUN_BYTES: usize = 60_000;

/// Datagrams from one local socket to one address: `count` segments of `segment` bytes, the
/// last possibly shorter, stored one after the other in the batcher's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// The local socket.
    pub source: SocketAddr,
    /// The remote address.
    pub destination: SocketAddr,
    /// Where the run starts in the buffer.
    pub start: usize,
    /// Its total length.
    pub len: usize,
    /// The size of every segment but the last.
    pub segment: usize,
    /// How many datagrams.
    pub count: usize,
}

impl Run {
    /// Whether the datagram `len` bytes long from `source` to `destination` may end this run.
    fn accepts(&self, source: SocketAddr, destination: SocketAddr, len: usize) -> bool {
        self.source == source
            && self.destination == destination
            // All segments are `segment` long but the last: nothing follows a short one.
            && self.len == self.segment * self.count
            && len > 0
            && len <= self.segment
            && self.count < MAX_SEGMENTS
            && self.len + len <= MAX_RUN_BYTES
    }
}

/// Groups datagrams, in order, into runs that one GSO call can send.
#[derive(Debug, Default)]
pub struct Batcher {
    buf: Vec<u8>,
    runs: Vec<Run>,
}

impl Batcher {
    /// Adds a datagram after the others.
    pub fn push(&mut self, source: SocketAddr, destination: SocketAddr, contents: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(contents);
        let len = contents.len();
        if let Some(run) = self.runs.last_mut() {
            if run.accepts(source, destination, len) {
                run.len += len;
                run.count += 1;
                return;
            }
        }
        self.runs.push(Run { source, destination, start, len, segment: len, count: 1 });
    }

    /// The runs so far, in order.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// The bytes of a run.
    pub fn bytes(&self, run: &Run) -> &[u8] {
        &self.buf[run.start..run.start + run.len]
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Forgets everything (the buffer's capacity is kept for the next turn).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.runs.clear();
    }
}

/// What the sender did, for the logs and the tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendCounts {
    /// Datagrams handed to the kernel.
    pub datagrams: u64,
    /// System calls made for them.
    pub calls: u64,
    /// Datagrams dropped (full send buffer, unknown socket, or an error).
    pub dropped: u64,
}

/// Sends batches of datagrams on the media sockets.
#[derive(Debug)]
pub struct UdpSender {
    batch: Batcher,
    gso: bool,
    counts: SendCounts,
}

impl Default for UdpSender {
    fn default() -> Self {
        UdpSender::new(true)
    }
}

impl UdpSender {
    /// A sender; `gso = false` sends every datagram with its own call.
    pub fn new(gso: bool) -> UdpSender {
        UdpSender { batch: Batcher::default(), gso, counts: SendCounts::default() }
    }

    /// Queues a datagram for the next [`UdpSender::send`].
    pub fn push(&mut self, source: SocketAddr, destination: SocketAddr, contents: &[u8]) {
        self.batch.push(source, destination, contents);
    }

    /// Bytes waiting for [`UdpSender::send`].
    pub fn queued_bytes(&self) -> usize {
        self.batch.buf.len()
    }

    /// Whether GSO is (still) used.
    pub fn gso(&self) -> bool {
        self.gso
    }

    /// What was sent so far.
    pub fn counts(&self) -> SendCounts {
        self.counts
    }

    /// Sends everything queued, in order. A full send buffer drops the datagrams (UDP): one
    /// slow path must not stall the loop that serves every other participant.
    pub fn send(&mut self, sockets: &HashMap<SocketAddr, Arc<UdpSocket>>) {
        if self.batch.is_empty() {
            return;
        }
        for i in 0..self.batch.runs().len() {
            let run = self.batch.runs()[i];
            let Some(sock) = sockets.get(&run.source) else {
                self.counts.dropped += run.count as u64;
                continue;
            };
            if run.count > 1 && self.gso {
                match send_segments(sock, run.destination, self.batch.bytes(&run), run.segment) {
                    Ok(()) => {
                        self.counts.calls += 1;
                        self.counts.datagrams += run.count as u64;
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.counts.dropped += run.count as u64;
                        continue;
                    }
                    Err(e) => {
                        warn!("UDP segmentation offload refused ({e}): sending datagrams one by one from now on");
                        self.gso = false;
                    }
                }
            }
            let bytes = self.batch.bytes(&run);
            for segment in bytes.chunks(run.segment) {
                self.counts.calls += 1;
                match sock.try_send_to(segment, run.destination) {
                    Ok(_) => self.counts.datagrams += 1,
                    Err(e) => {
                        self.counts.dropped += 1;
                        debug!("send to {} failed: {e}", run.destination);
                    }
                }
            }
        }
        self.batch.clear();
    }
}

/// One `sendmsg` with `UDP_SEGMENT`: the kernel cuts `bytes` into datagrams of `segment` bytes.
fn send_segments(sock: &UdpSocket, destination: SocketAddr, bytes: &[u8], segment: usize) -> io::Result<()> {
    let segment = u16::try_from(segment).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let addr = SockaddrStorage::from(destination);
    let iov = [IoSlice::new(bytes)];
    let cmsg = [ControlMessage::UdpGsoSegments(&segment)];
    sock.try_io(Interest::WRITABLE, || {
        sendmsg(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), Some(&addr)).map_err(io::Error::from)
    })
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_frame_to_one_subscriber_is_one_run_and_the_short_last_packet_closes_it() {
        let (src, a, b) = (addr("127.0.0.1:10000"), addr("127.0.0.1:5000"), addr("127.0.0.1:6000"));
        let mut batch = Batcher::default();
        for len in [1100, 1100, 1100, 700] {
            batch.push(src, a, &vec![1; len]);
        }
        // After a short one, even an equal-size datagram to the same place starts a new run.
        batch.push(src, a, &[2; 1100]);
        batch.push(src, b, &[3; 90]);
        let runs = batch.runs();
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert_eq!((runs[0].count, runs[0].segment, runs[0].len), (4, 1100, 4000));
        assert_eq!((runs[1].count, runs[1].start, runs[1].destination), (1, 4000, a));
        assert_eq!((runs[2].count, runs[2].destination), (1, b));
        assert_eq!(batch.bytes(&runs[2]), &[3; 90]);
    }

    #[test]
    fn a_larger_datagram_another_socket_or_a_full_run_starts_a_new_run() {
        let (s1, s2, a) = (addr("127.0.0.1:10000"), addr("127.0.0.1:10001"), addr("[::1]:5000"));
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
            let sent: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; if i == 4 { 300 } else { 1200 }]).collect();
            for d in &sent {
                sender.push(src, dst, d);
            }
            sender.push(src, dst, &[9; 40]);
            sender.send(&sockets);
            let mut buf = [0u8; 2048];
            for want in sent.iter().map(Vec::as_slice).chain([&[9u8; 40][..]]) {
                let (n, from) = tokio::time::timeout(std::time::Duration::from_secs(2), client.recv_from(&mut buf))
                    .await
                    .expect("datagram")
                    .unwrap();
                assert_eq!((from, &buf[..n]), (src, want), "gso {gso}");
            }
            let counts = sender.counts();
            assert_eq!(counts.datagrams, 6);
            assert_eq!(counts.dropped, 0);
            // With GSO (when this kernel has it): one call for the five, one for the last.
            if gso && sender.gso() {
                assert_eq!(counts.calls, 2);
            } else {
                assert_eq!(counts.calls, 6);
            }
        }
    }
}
