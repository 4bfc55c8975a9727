//! The UDP media sockets: one per configured address and port, each with a reader task that
//! hands datagrams to the engine.
//!
//! Binding each address separately (rather than `0.0.0.0`) tells us the local address every
//! datagram arrived on, which ICE needs, without `IP_PKTINFO`; it also keeps the traffic of
//! different networks on different sockets.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::warn;

use webconf_media::Protocol;

use crate::engine::Datagram;

/// Largest datagram we read; WebRTC stays under the path MTU.
const MAX_DATAGRAM: usize = 2048;

/// Why the media sockets could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum MediaIoError {
    /// A bind failed (port in use, address not on this machine).
    #[error("cannot bind UDP {addr} (check media.addresses and media.port_min/port_max): {source}")]
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

/// Starts one reader task per socket. A full engine queue drops the datagram (UDP semantics)
/// rather than stalling the reader.
pub fn spawn_readers(sockets: &HashMap<SocketAddr, Arc<UdpSocket>>, tx: mpsc::Sender<Datagram>) {
    for (local, sock) in sockets {
        let (local, sock, tx) = (*local, sock.clone(), tx.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                match sock.recv_from(&mut buf).await {
                    Ok((n, remote)) => {
                        let dg = Datagram {
                            at: Instant::now(),
                            local,
                            remote,
                            data: buf[..n].to_vec(),
                            transport: Protocol::Udp,
                        };
                        match tx.try_send(dg) {
                            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {}
                            Err(mpsc::error::TrySendError::Closed(_)) => return,
                        }
                    }
                    // ICMP errors (port unreachable) surface here on Linux; keep reading.
                    Err(e) => warn!("UDP {local}: {e}"),
                }
            }
        });
    }
}
