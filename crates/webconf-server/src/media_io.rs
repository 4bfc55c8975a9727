//! The UDP media sockets: one per configured address and port, each with a reader task that
//! hands datagrams to the engine.
//!
//! A reader reads in batches: `quinn-udp`'s `UdpSocketState::recv` takes up to 32 datagrams
//! in one `recvmmsg` (Linux), and with UDP generic receive offload (`UDP_GRO`, which it turns
//! on) one buffer may hold several datagrams of one sender, cut at `RecvMeta::stride`. What
//! one read gave goes to the engine as one [`DatagramBatch`]: one wake-up of the engine and two
//! allocations per read, where it was one of each per datagram (docs/benchmarks.md, "Batched
//! reads and sends").
//!
//! Binding each address separately (rather than `0.0.0.0`) tells us the local address every
//! datagram arrived on, which ICE needs, without `IP_PKTINFO`; it also keeps the traffic of
//! different networks on different sockets.

use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use quinn_udp::{RecvMeta, UdpSocketState, BATCH_SIZE};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tracing::warn;

use crate::media_queue::{DatagramBatch, MediaSender};

/// Largest datagram we read; WebRTC stays under the path MTU.
const MAX_DATAGRAM: usize = 2048;

/// Room for one read buffer with GRO on: the kernel coalesces at most 64 KiB (an IP packet).
/// Only the pages a read writes become resident, so a large buffer costs address space, not
/// memory, unless GRO really fills it.
const GRO_BUFFER: usize = 64 * 1024;

/// Why the media sockets could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum MediaIoError {
    /// A bind failed (port in use, address not on this machine).
    #[error(
        "cannot bind UDP {addr} (check media.addresses and media.port_min/port_max): {source}"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The system error.
        source: std::io::Error,
    },
}

/// Binds every `address × port` pair.
pub async fn bind(
    addresses: &[IpAddr],
    ports: impl Iterator<Item = u16> + Clone,
) -> Result<HashMap<SocketAddr, Arc<UdpSocket>>, MediaIoError> {
    let mut sockets = HashMap::new();
    for ip in addresses {
        for port in ports.clone() {
            let addr = SocketAddr::new(*ip, port);
            let sock = UdpSocket::bind(addr)
                .await
                .map_err(|source| MediaIoError::Bind { addr, source })?;
            sockets.insert(addr, Arc::new(sock));
        }
    }
    Ok(sockets)
}

/// Starts one reader task per socket ([`read_loop`]).
pub fn spawn_readers(sockets: &HashMap<SocketAddr, Arc<UdpSocket>>, tx: MediaSender) {
    for (local, sock) in sockets {
        tokio::spawn(read_loop(*local, sock.clone(), tx.clone()));
    }
}

/// Reads `sock` until the engine stops: each time it is readable, one batched read, handed
/// over as one [`DatagramBatch`] stamped with the time of the read. A full engine queue drops
/// the batch (UDP semantics) rather than stalling the reader.
async fn read_loop(local: SocketAddr, sock: Arc<UdpSocket>, tx: MediaSender) {
    // `None`: the socket options `quinn-udp` needs were refused; read one datagram at a time.
    let state = UdpSocketState::new((&*sock).into())
        .map_err(|e| {
            warn!("UDP {local}: batched reads unavailable ({e}); reading one datagram at a time")
        })
        .ok();
    let (slots, slot) = match &state {
        Some(st) if st.gro_segments() > 1 => (BATCH_SIZE, GRO_BUFFER),
        Some(_) => (BATCH_SIZE, MAX_DATAGRAM),
        None => (1, MAX_DATAGRAM),
    };
    let mut buf = vec![0u8; slots * slot];
    let mut bufs: Vec<IoSliceMut<'_>> = buf.chunks_mut(slot).map(IoSliceMut::new).collect();
    let mut meta = vec![RecvMeta::default(); slots];
    loop {
        if let Err(e) = sock.readable().await {
            warn!("UDP {local}: {e}; reader stopped");
            return;
        }
        let n = match recv_batch(&sock, state.as_ref(), &mut bufs, &mut meta) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            // ICMP errors (port unreachable) surface here on Linux; keep reading.
            Err(e) => {
                warn!("UDP {local}: {e}");
                continue;
            }
        };
        let batch = split(
            Instant::now(),
            local,
            &bufs,
            meta.get(..n).unwrap_or_default(),
        );
        if tx.try_send(batch).is_err() {
            return;
        }
    }
}

/// One non-blocking read: `recvmmsg` through `quinn-udp`, or one `recvfrom` without it.
/// Returns how many of `meta` (and `bufs`) were filled.
fn recv_batch(
    sock: &UdpSocket,
    state: Option<&UdpSocketState>,
    bufs: &mut [IoSliceMut<'_>],
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    match state {
        Some(st) => sock.try_io(Interest::READABLE, || st.recv(sock.into(), bufs, meta)),
        None => {
            let (Some(buf), Some(m)) = (bufs.first_mut(), meta.first_mut()) else {
                return Ok(0);
            };
            let (len, addr) = sock.try_recv_from(buf)?;
            (m.addr, m.len, m.stride) = (addr, len, len);
            Ok(1)
        }
    }
}

/// The datagrams of a read, in order: each filled buffer `bufs[i]` holds `meta[i].len` bytes
/// from `meta[i].addr`, one datagram or, coalesced by GRO, several of `meta[i].stride` bytes
/// (the last possibly shorter). Empty datagrams are left out (no WebRTC packet is empty).
fn split(
    at: Instant,
    local: SocketAddr,
    bufs: &[IoSliceMut<'_>],
    meta: &[RecvMeta],
) -> DatagramBatch {
    let bytes = meta.iter().map(|m| m.len).sum();
    let mut batch = DatagramBatch::with_capacity(at, local, meta.len(), bytes);
    for (buf, m) in bufs.iter().zip(meta) {
        let filled: &[u8] = buf;
        let data = filled.get(..m.len).unwrap_or(filled);
        let stride = if m.stride == 0 { data.len() } else { m.stride };
        for datagram in data.chunks(stride.max(1)) {
            batch.push(m.addr, datagram);
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media_queue::{self, MediaIn};
    use crate::udp_send::UdpSender;

    fn meta(addr: SocketAddr, len: usize, stride: usize) -> RecvMeta {
        let mut m = RecvMeta::default();
        (m.addr, m.len, m.stride) = (addr, len, stride);
        m
    }

    #[test]
    fn gro_buffers_are_cut_at_the_stride_and_bad_lengths_do_not_panic() {
        let (local, a, b) = (
            "127.0.0.1:10000".parse().unwrap(),
            "127.0.0.1:5000".parse().unwrap(),
            "[::1]:6000".parse().unwrap(),
        );
        let mut gro: Vec<u8> = (0..2500).map(|i| (i / 1000) as u8).collect();
        let mut one = [7u8; 90];
        let mut short = [9u8; 4];
        let mut empty = [0u8; 8];
        let bufs = [
            IoSliceMut::new(&mut gro),
            IoSliceMut::new(&mut one),
            IoSliceMut::new(&mut short),
            IoSliceMut::new(&mut empty),
        ];
        // A stride of 0 (no GRO information), a length beyond the buffer, an empty datagram.
        let metas = [
            meta(a, 2500, 1000),
            meta(b, 90, 0),
            meta(a, 100, 100),
            meta(b, 0, 0),
        ];
        let batch = split(Instant::now(), local, &bufs, &metas);
        let got: Vec<(SocketAddr, usize, u8)> =
            batch.iter().map(|(r, d)| (r, d.len(), d[0])).collect();
        assert_eq!(
            got,
            [
                (a, 1000, 0),
                (a, 1000, 1),
                (a, 500, 2),
                (b, 90, 7),
                (a, 4, 9)
            ]
        );
        assert_eq!(batch.local, local);
    }

    /// Real sockets: plain datagrams and a GSO-sent run (coalesced again by GRO on the way in
    /// when the kernel does that on loopback) reach the engine's queue as the datagrams they
    /// were, in order, with their sender and the socket's address.
    #[tokio::test]
    async fn a_reader_hands_over_every_datagram_in_order() {
        let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let local = server.local_addr().unwrap();
        let (tx, mut rx) = media_queue::channel(2048);
        spawn_readers(&HashMap::from([(local, server)]), tx);
        let plain = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let gso = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let (plain_addr, gso_addr) = (plain.local_addr().unwrap(), gso.local_addr().unwrap());
        gso.writable().await.unwrap();
        let mut want: Vec<(SocketAddr, Vec<u8>)> = Vec::new();
        for i in 0..5u8 {
            let d = vec![i; 100 + usize::from(i)];
            plain.send_to(&d, local).await.unwrap();
            want.push((plain_addr, d));
        }
        let mut sender = UdpSender::new(true);
        for i in 0..4u8 {
            let d = vec![10 + i; if i == 3 { 300 } else { 1200 }];
            sender.push(gso_addr, local, &d);
            want.push((gso_addr, d));
        }
        sender.send(&HashMap::from([(gso_addr, gso)]));
        let mut got = Vec::new();
        while got.len() < want.len() {
            let input = tokio::time::timeout(std::time::Duration::from_secs(2), rx.recv())
                .await
                .expect("datagrams")
                .unwrap();
            let MediaIn::Batch(batch) = input else {
                panic!("a UDP reader sends batches")
            };
            assert_eq!(batch.local, local);
            got.extend(batch.iter().map(|(r, d)| (r, d.to_vec())));
        }
        assert_eq!(got, want);
    }
}
