//! The queue from the media readers (the UDP socket tasks, the ICE-TCP connections) to the
//! engine.
//!
//! A UDP reader hands over everything one batched read gave it ([`DatagramBatch`]: one
//! message, one engine wake-up and two allocations for up to 32 datagrams, where it was one of
//! each per datagram). The queue is bounded in **datagrams**, not in messages, so that its
//! bound keeps the meaning it had: a full queue (the engine behind) drops what arrives, as a
//! full network card would, and the readers never wait for the engine.

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::engine::Datagram;

/// The datagrams of one read of one UDP socket, in the order they arrived.
///
/// They share the local address (each socket is bound to one) and the time of the read; their
/// bytes lie one after the other in one buffer.
#[derive(Debug)]
pub struct DatagramBatch {
    /// When they were read.
    pub at: Instant,
    /// The local socket address they arrived on.
    pub local: SocketAddr,
    bytes: Vec<u8>,
    datagrams: Vec<(SocketAddr, Range<usize>)>,
}

impl DatagramBatch {
    /// An empty batch with room for `datagrams` datagrams of `bytes` bytes in all.
    pub fn with_capacity(
        at: Instant,
        local: SocketAddr,
        datagrams: usize,
        bytes: usize,
    ) -> DatagramBatch {
        DatagramBatch {
            at,
            local,
            bytes: Vec::with_capacity(bytes),
            datagrams: Vec::with_capacity(datagrams),
        }
    }

    /// Adds a datagram from `remote` after the others.
    pub fn push(&mut self, remote: SocketAddr, data: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(data);
        self.datagrams.push((remote, start..self.bytes.len()));
    }

    /// How many datagrams.
    pub fn len(&self) -> usize {
        self.datagrams.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.datagrams.is_empty()
    }

    /// Each datagram's sender and bytes, in order.
    pub fn iter(&self) -> impl Iterator<Item = (SocketAddr, &[u8])> + '_ {
        self.datagrams
            .iter()
            .map(|(remote, range)| (*remote, self.bytes.get(range.clone()).unwrap_or_default()))
    }
}

/// What the readers give the engine.
#[derive(Debug)]
pub enum MediaIn {
    /// One batched read of a UDP socket.
    Batch(DatagramBatch),
    /// One datagram (an ICE-TCP frame, [`crate::tcp_media`]).
    One(Datagram),
}

impl MediaIn {
    /// How many datagrams it carries (what it counts against the queue's bound).
    pub fn datagrams(&self) -> usize {
        match self {
            MediaIn::Batch(b) => b.len(),
            MediaIn::One(_) => 1,
        }
    }
}

impl From<Datagram> for MediaIn {
    fn from(dg: Datagram) -> MediaIn {
        MediaIn::One(dg)
    }
}

impl From<DatagramBatch> for MediaIn {
    fn from(batch: DatagramBatch) -> MediaIn {
        MediaIn::Batch(batch)
    }
}

/// The engine is gone: the reader should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// A queue holding at most `max_datagrams` datagrams; its two ends.
pub fn channel(max_datagrams: usize) -> (MediaSender, MediaReceiver) {
    // Every message carries at least one datagram, so the channel's own bound (in messages)
    // is never the one that binds.
    let (tx, rx) = mpsc::channel(max_datagrams.max(1));
    let queued = Arc::new(AtomicUsize::new(0));
    (
        MediaSender {
            tx,
            queued: queued.clone(),
            max: max_datagrams,
        },
        MediaReceiver { rx, queued },
    )
}

/// The readers' end (cloned for each).
#[derive(Debug, Clone)]
pub struct MediaSender {
    tx: mpsc::Sender<MediaIn>,
    /// Datagrams sent and not yet received by the engine.
    queued: Arc<AtomicUsize>,
    max: usize,
}

impl MediaSender {
    /// Queues `input` if its datagrams fit, else drops it: `Ok(true)` if queued, `Ok(false)` if
    /// dropped (the queue is full), `Err(Closed)` if the engine stopped. Never waits.
    pub fn try_send(&self, input: impl Into<MediaIn>) -> Result<bool, Closed> {
        let input = input.into();
        let n = input.datagrams();
        if n == 0 {
            return Ok(true);
        }
        let reserved = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                q.checked_add(n).filter(|t| *t <= self.max)
            });
        if reserved.is_err() {
            return if self.tx.is_closed() {
                Err(Closed)
            } else {
                Ok(false)
            };
        }
        match self.tx.try_send(input) {
            Ok(()) => Ok(true),
            Err(e) => {
                self.queued.fetch_sub(n, Ordering::AcqRel);
                match e {
                    mpsc::error::TrySendError::Full(_) => Ok(false),
                    mpsc::error::TrySendError::Closed(_) => Err(Closed),
                }
            }
        }
    }
}

/// The engine's end.
#[derive(Debug)]
pub struct MediaReceiver {
    rx: mpsc::Receiver<MediaIn>,
    queued: Arc<AtomicUsize>,
}

impl MediaReceiver {
    /// The next input, waiting for one; `None` once every sender is gone. Cancel-safe (as
    /// `tokio::sync::mpsc::Receiver::recv`), so it may be a `select!` branch.
    pub async fn recv(&mut self) -> Option<MediaIn> {
        let input = self.rx.recv().await?;
        self.release(&input);
        Some(input)
    }

    /// The next input if one is queued.
    pub fn try_recv(&mut self) -> Option<MediaIn> {
        let input = self.rx.try_recv().ok()?;
        self.release(&input);
        Some(input)
    }

    /// Frees the queue's room taken by `input`.
    fn release(&self, input: &MediaIn) {
        self.queued.fetch_sub(input.datagrams(), Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webconf_media::Protocol;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn batch(n: usize) -> DatagramBatch {
        let mut b = DatagramBatch::with_capacity(Instant::now(), addr("127.0.0.1:10000"), n, 0);
        for i in 0..n {
            b.push(addr("127.0.0.1:5000"), &[i as u8; 3]);
        }
        b
    }

    #[test]
    fn a_batch_gives_back_its_datagrams_in_order() {
        let mut b = batch(0);
        b.push(addr("127.0.0.1:5000"), &[1, 2, 3]);
        b.push(addr("[::1]:6000"), &[]);
        b.push(addr("127.0.0.1:5001"), &[4]);
        let got: Vec<(SocketAddr, Vec<u8>)> = b.iter().map(|(a, d)| (a, d.to_vec())).collect();
        assert_eq!(
            got,
            [
                (addr("127.0.0.1:5000"), vec![1, 2, 3]),
                (addr("[::1]:6000"), vec![]),
                (addr("127.0.0.1:5001"), vec![4])
            ]
        );
        assert_eq!(b.len(), 3);
    }

    #[tokio::test]
    async fn the_bound_counts_datagrams_and_a_full_queue_drops_without_waiting() {
        let (tx, mut rx) = channel(10);
        assert_eq!(tx.try_send(batch(6)), Ok(true));
        // 6 + 5 > 10: dropped whole, at once.
        assert_eq!(tx.try_send(batch(5)), Ok(false));
        assert_eq!(tx.try_send(batch(4)), Ok(true));
        let tcp = Datagram {
            at: Instant::now(),
            local: addr("127.0.0.1:443"),
            remote: addr("127.0.0.1:5000"),
            data: vec![0],
            transport: Protocol::Tcp,
        };
        assert_eq!(tx.try_send(tcp), Ok(false));
        // An empty batch takes no room and is not delivered.
        assert_eq!(tx.try_send(batch(0)), Ok(true));
        assert_eq!(rx.recv().await.map(|m| m.datagrams()), Some(6));
        // Receiving frees the room.
        assert_eq!(tx.try_send(batch(6)), Ok(true));
        assert_eq!(rx.try_recv().map(|m| m.datagrams()), Some(4));
        assert_eq!(rx.try_recv().map(|m| m.datagrams()), Some(6));
        assert!(rx.try_recv().is_none());
        drop(rx);
        assert_eq!(tx.try_send(batch(1)), Err(Closed));
    }
}
