//! Sending the core's UDP datagrams in as few system calls as possible.
//!
//! One `sendto` per datagram was the largest single cost of forwarding (docs/benchmarks.md,
//! "Where a forwarded packet's CPU goes"). Two ways to need fewer calls, both used:
//!
//! - The core emits a video frame for one subscriber as several datagrams in a row, all to the
//!   same address and of the same size but the last: exactly what UDP generic segmentation
//!   offload (GSO, `UDP_SEGMENT`, Linux ≥ 4.18) sends in one `sendmsg`, the kernel (or the
//!   network card) cutting it into datagrams below the socket.
//! - Everything else one socket sends in a turn (in RTP mode mostly one datagram per
//!   subscriber per incoming packet, to as many addresses) goes in one `sendmmsg`: many
//!   datagrams, each to its own address, in one call.
//!
//! [`Batcher`] is the pure part: it groups the datagrams of one engine turn into runs, in
//! order, and [`Plan`] turns the runs into calls, grouped by socket (a destination's datagrams
//! keep their order; datagrams of different sockets never shared a path, so their relative
//! order does not matter). [`UdpSender`] makes the calls. If the kernel or the interface
//! refuses GSO (`EIO` without checksum offload, `EINVAL` on old kernels), GSO is turned off
//! for good and the runs' datagrams go in the `sendmmsg` calls with the others.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tracing::{debug, warn};

mod sys;
#[cfg(test)]
mod tests;

/// Most datagrams in one GSO call (the kernel accepts up to 64).
pub const MAX_SEGMENTS: usize = 32;
/// Most bytes in one GSO call (an IP packet's payload is at most 65 507 bytes).
const MAX_RUN_BYTES: usize = 60_000;
/// Most datagrams in one `sendmmsg` (the kernel takes up to 1024).
pub const MAX_MESSAGES: usize = 64;

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
    /// Where each of its datagrams lies in the batcher's buffer, in order.
    pub fn segments(&self) -> impl Iterator<Item = Range<usize>> {
        let (end, step) = (self.start + self.len, self.segment.max(1));
        (self.start..end)
            .step_by(step)
            .map(move |start| start..(start + step).min(end))
    }

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
        self.runs.push(Run {
            source,
            destination,
            start,
            len,
            segment: len,
            count: 1,
        });
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

/// A datagram of a `sendmmsg`: its destination and where its bytes are in the batcher's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The remote address.
    pub destination: SocketAddr,
    /// Its bytes in [`Batcher`]'s buffer.
    pub bytes: Range<usize>,
}

/// One system call of a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// One GSO `sendmsg` of the run `Batcher::runs()[i]` (two datagrams or more, one address).
    Segments(usize),
    /// One `sendmmsg` from `source` of `Plan::messages[messages]`.
    Messages {
        /// The local socket.
        source: SocketAddr,
        /// Which of the plan's messages.
        messages: Range<usize>,
    },
}

/// The calls that send a turn's runs (its buffers are kept from turn to turn).
#[derive(Debug, Default)]
pub struct Plan {
    order: Vec<usize>,
    /// The calls, in the order to make them.
    pub calls: Vec<Call>,
    /// The datagrams of the [`Call::Messages`] calls.
    pub messages: Vec<Message>,
}

impl Plan {
    /// Plans `batch`: its runs grouped by socket (stably: each socket's in their order); with
    /// `gso`, each run of two datagrams or more is one [`Call::Segments`]; the rest of a
    /// socket's datagrams (the single ones, and with `gso` off the runs' too) go in
    /// [`Call::Messages`] of at most [`MAX_MESSAGES`]. A GSO run ends the `sendmmsg` before
    /// it, so that every destination's datagrams leave in their order.
    pub fn make(&mut self, batch: &Batcher, gso: bool) {
        self.calls.clear();
        self.messages.clear();
        self.order.clear();
        self.order.extend(0..batch.runs.len());
        let runs = &batch.runs;
        self.order.sort_by_key(|&i| runs.get(i).map(|r| r.source));
        // The `sendmmsg` being filled: its socket and its first message.
        let mut open: Option<(SocketAddr, usize)> = None;
        for &i in &self.order {
            let Some(run) = runs.get(i) else { continue };
            if open.is_some_and(|(source, _)| source != run.source) {
                close(&mut self.calls, &mut open, self.messages.len());
            }
            if gso && run.count > 1 {
                close(&mut self.calls, &mut open, self.messages.len());
                self.calls.push(Call::Segments(i));
                continue;
            }
            for bytes in run.segments() {
                let (_, first) = *open.get_or_insert((run.source, self.messages.len()));
                self.messages.push(Message {
                    destination: run.destination,
                    bytes,
                });
                if self.messages.len() - first >= MAX_MESSAGES {
                    close(&mut self.calls, &mut open, self.messages.len());
                }
            }
        }
        close(&mut self.calls, &mut open, self.messages.len());
    }
}

/// Ends the `sendmmsg` being filled, if any, at message `end`.
fn close(calls: &mut Vec<Call>, open: &mut Option<(SocketAddr, usize)>, end: usize) {
    if let Some((source, first)) = open.take() {
        calls.push(Call::Messages {
            source,
            messages: first..end,
        });
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
    plan: Plan,
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
        UdpSender {
            batch: Batcher::default(),
            plan: Plan::default(),
            gso,
            counts: SendCounts::default(),
        }
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

    /// Sends everything queued ([`Plan`]). A full send buffer drops the datagrams (UDP): one
    /// slow path must not stall the loop that serves every other participant.
    pub fn send(&mut self, sockets: &HashMap<SocketAddr, Arc<UdpSocket>>) {
        if self.batch.is_empty() {
            return;
        }
        self.plan.make(&self.batch, self.gso);
        for c in 0..self.plan.calls.len() {
            match self.plan.calls.get(c).cloned() {
                Some(Call::Segments(i)) => self.send_run(sockets, i),
                Some(Call::Messages { source, messages }) => {
                    let Some(sock) = sockets.get(&source) else {
                        self.counts.dropped += messages.len() as u64;
                        continue;
                    };
                    let messages = self.plan.messages.get(messages).unwrap_or_default();
                    send_all(sock, &self.batch.buf, messages, &mut self.counts);
                }
                None => {}
            }
        }
        self.batch.clear();
    }

    /// Sends run `i` with one GSO call; if GSO is refused, turns it off for good and sends the
    /// run's datagrams with `sendmmsg`.
    fn send_run(&mut self, sockets: &HashMap<SocketAddr, Arc<UdpSocket>>, i: usize) {
        let Some(run) = self.batch.runs().get(i).copied() else {
            return;
        };
        let Some(sock) = sockets.get(&run.source) else {
            self.counts.dropped += run.count as u64;
            return;
        };
        if self.gso {
            match sys::send_segments(sock, run.destination, self.batch.bytes(&run), run.segment) {
                Ok(()) => {
                    self.counts.calls += 1;
                    self.counts.datagrams += run.count as u64;
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.counts.dropped += run.count as u64;
                    return;
                }
                Err(e) => {
                    warn!("UDP segmentation offload refused ({e}): sending datagrams without it from now on");
                    self.gso = false;
                }
            }
        }
        let messages: Vec<Message> = run
            .segments()
            .map(|bytes| Message {
                destination: run.destination,
                bytes,
            })
            .collect();
        for chunk in messages.chunks(MAX_MESSAGES) {
            send_all(sock, &self.batch.buf, chunk, &mut self.counts);
        }
    }
}

/// Sends `messages` from `sock` in as few `sendmmsg` as the kernel allows, counting. When the
/// kernel takes only the first few, the rest go in another call (whose error, if any, is the
/// failed datagram's): a datagram that fails is dropped alone, except on a full send buffer
/// (`WouldBlock`), which drops every datagram left (tokio then holds the socket not writable,
/// so the turn's later calls on it fail at once, without a system call).
fn send_all(sock: &UdpSocket, buf: &[u8], messages: &[Message], counts: &mut SendCounts) {
    let mut left = messages;
    while let Some(first) = left.first() {
        counts.calls += 1;
        match sys::send_messages(sock, buf, left) {
            Ok(n) if n > 0 => {
                counts.datagrams += n.min(left.len()) as u64;
                left = left.get(n..).unwrap_or_default();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                counts.dropped += left.len() as u64;
                return;
            }
            other => {
                counts.dropped += 1;
                debug!("send to {} failed: {:?}", first.destination, other.err());
                left = left.get(1..).unwrap_or_default();
            }
        }
    }
}
