//! ICE-TCP (RFC 6544, passive side): media over TCP connections accepted on the HTTPS port,
//! for browsers whose UDP is blocked.
//!
//! The listener (`listener`) hands over connections whose first byte is an RFC 4571 length
//! prefix ([`crate::demux`]). Each gets one task that
//!
//! - reads frames and gives each to the engine as a [`Datagram`] marked TCP, with the remote
//!   address of the connection and, as local address, the ICE-TCP candidate the browser
//!   reached (the connection's local IP and the advertised port);
//! - writes back, framed, the packets the engine queues for it in [`TcpConns`] (by remote
//!   address). The queue is bounded: when a slow connection lets it fill, packets are dropped,
//!   as a full UDP socket would, and the engine never waits.
//!
//! Limits: at most [`TcpLimits::max_connections`] at once (more are closed at once); the first
//! frame must come within [`TcpLimits::first_frame_timeout`] and be a STUN binding request,
//! and the engine closes the connection (by forgetting its queue) when the request names no
//! session, or when any later packet belongs to none; frames are at most
//! [`crate::demux::MAX_FRAME`] bytes; a connection silent for [`TcpLimits::idle_timeout`] is
//! closed (browsers send ICE consent checks every few seconds).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tracing::debug;
use webconf_media::Protocol;

use crate::demux::{frame_into, is_stun_binding_request, Deframer};
use crate::engine::Datagram;
use crate::media_queue::MediaSender;

/// Packets queued for one connection before new ones are dropped.
const QUEUE: usize = 256;

/// The limits of ICE-TCP connections.
#[derive(Debug, Clone)]
pub struct TcpLimits {
    /// Connections open at once; more are closed on arrival.
    pub max_connections: usize,
    /// Time allowed for the first frame (a STUN binding request).
    pub first_frame_timeout: Duration,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_connections: 4000,
            first_frame_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

struct Writer {
    /// Distinguishes two connections from the same remote address, one after the other.
    id: u64,
    tx: mpsc::Sender<Vec<u8>>,
}

/// The outgoing queues of the open ICE-TCP connections, by remote address: the engine's side.
#[derive(Clone, Default)]
pub struct TcpConns {
    inner: Arc<Mutex<HashMap<SocketAddr, Writer>>>,
}

impl TcpConns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Writer>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a packet for the connection from `remote`; dropped when there is none or its
    /// queue is full.
    pub fn send(&self, remote: SocketAddr, packet: Vec<u8>) -> bool {
        match self.lock().get(&remote) {
            Some(w) => w.tx.try_send(packet).is_ok(),
            None => false,
        }
    }

    /// Closes the connection from `remote` (its task sees its queue closed and ends).
    pub fn close(&self, remote: SocketAddr) {
        self.lock().remove(&remote);
    }

    /// Number of open connections.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&self, remote: SocketAddr, id: u64, tx: mpsc::Sender<Vec<u8>>) {
        self.lock().insert(remote, Writer { id, tx });
    }

    fn remove_if(&self, remote: SocketAddr, id: u64) {
        let mut map = self.lock();
        if map.get(&remote).is_some_and(|w| w.id == id) {
            map.remove(&remote);
        }
    }
}

/// Accepts ICE-TCP connections and runs them.
pub struct TcpMedia {
    conns: TcpConns,
    limits: TcpLimits,
    slots: Arc<Semaphore>,
    /// The port browsers are given (the HTTPS port, or `media.tcp_port`).
    port: u16,
    datagrams: MediaSender,
    next_id: AtomicU64,
}

impl TcpMedia {
    /// A new acceptor feeding `datagrams`; `conns` is shared with the engine.
    pub fn new(conns: TcpConns, port: u16, limits: TcpLimits, datagrams: MediaSender) -> TcpMedia {
        TcpMedia {
            conns,
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            limits,
            port,
            datagrams,
            next_id: AtomicU64::new(1),
        }
    }

    /// Runs one connection whose first byte said ICE-TCP, until it closes or breaks a rule.
    pub async fn serve(self: Arc<Self>, stream: TcpStream, remote: SocketAddr) {
        let Ok(_slot) = self.slots.clone().try_acquire_owned() else {
            debug!("ICE-TCP: too many connections; closing a new one");
            return;
        };
        let Ok(local) = stream.local_addr() else {
            return;
        };
        let local = SocketAddr::new(local.ip().to_canonical(), self.port);
        let remote = SocketAddr::new(remote.ip().to_canonical(), remote.port());
        let _ = stream.set_nodelay(true);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(QUEUE);
        // Registered before the first packet reaches the engine, so the engine can close it.
        self.conns.insert(remote, id, tx);
        let why = self.run(stream, local, remote, rx).await;
        self.conns.remove_if(remote, id);
        debug!("ICE-TCP connection closed: {why}");
    }

    async fn run(
        &self,
        mut stream: TcpStream,
        local: SocketAddr,
        remote: SocketAddr,
        mut rx: mpsc::Receiver<Vec<u8>>,
    ) -> &'static str {
        let (mut reader, mut writer) = stream.split();
        let mut deframer = Deframer::new();
        let mut buf = vec![0u8; 4096];
        let mut out = Vec::with_capacity(4096);
        let mut first = true;
        let mut deadline = tokio::time::Instant::now() + self.limits.first_frame_timeout;
        loop {
            tokio::select! {
                read = reader.read(&mut buf) => {
                    let n = match read {
                        Ok(0) => return "closed by the browser",
                        Ok(n) => n,
                        Err(_) => return "read error",
                    };
                    deframer.push(&buf[..n]);
                    loop {
                        let frame = match deframer.next_frame() {
                            Ok(Some(f)) => f,
                            Ok(None) => break,
                            Err(_) => return "bad frame",
                        };
                        if first && !is_stun_binding_request(frame) {
                            return "first packet is not a STUN binding request";
                        }
                        first = false;
                        deadline = tokio::time::Instant::now() + self.limits.idle_timeout;
                        let dg = Datagram {
                            at: Instant::now(),
                            local,
                            remote,
                            data: frame.to_vec(),
                            transport: Protocol::Tcp,
                        };
                        // A full queue drops the frame, as it drops UDP datagrams.
                        if self.datagrams.try_send(dg).is_err() {
                            return "server stopping";
                        }
                    }
                }
                packet = rx.recv() => {
                    let Some(packet) = packet else {
                        return "closed by the engine (no such session)";
                    };
                    out.clear();
                    if !frame_into(&mut out, &packet) {
                        continue;
                    }
                    // Whatever else is queued goes in the same write.
                    while out.len() < 16 * 1024 {
                        match rx.try_recv() {
                            Ok(p) => {
                                frame_into(&mut out, &p);
                            }
                            Err(_) => break,
                        }
                    }
                    if writer.write_all(&out).await.is_err() {
                        return "write error";
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    return if first { "no STUN binding request in time" } else { "idle" };
                }
            }
        }
    }
}
