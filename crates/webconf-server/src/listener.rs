//! The shared TCP listener: HTTPS (or plain HTTP) and ICE-TCP media on one port.
//!
//! One accept loop takes every connection and spawns a short task that waits for its first
//! byte ([`crate::demux::classify`]): ICE-TCP goes to [`TcpMedia`]; TLS is handshaken here
//! (rustls) and the stream handed to axum through [`DemuxListener`], an [`axum::serve::Listener`]
//! fed by a channel; anything else is closed. The accept loop never waits on a client: a
//! connection that sends nothing is dropped after [`FIRST_BYTE_TIMEOUT`].

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::demux::{classify, Kind};
use crate::tcp_media::TcpMedia;

/// Time a new connection has to send its first byte.
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP connections ready for axum, waiting to be taken.
const READY_QUEUE: usize = 256;

/// How the HTTP side of the port is served.
#[derive(Clone)]
pub enum Http {
    /// TLS, then HTTP: what `http.tls` gives unless `off`.
    Tls(tokio_rustls::TlsAcceptor),
    /// Plain HTTP behind a reverse proxy (`http.tls = "off"`).
    Plain,
}

/// An HTTP connection, over TLS or not.
pub enum Conn {
    /// Handshaken TLS.
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// Plain TCP.
    Plain(TcpStream),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Tls(s) => s.is_write_vectored(),
            Conn::Plain(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// The HTTP connections the accept loop has sorted out, as an axum listener.
pub struct DemuxListener {
    rx: mpsc::Receiver<(Conn, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for DemuxListener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept loop ended: nothing will come again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Starts the accept loop on `listener`: HTTP connections come out of the returned axum
/// listener, ICE-TCP ones go to `media` (closed when it is `None`). The loop ends when the
/// returned listener is dropped.
pub fn spawn(
    listener: TcpListener,
    http: Http,
    media: Option<Arc<TcpMedia>>,
) -> io::Result<DemuxListener> {
    let local = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(READY_QUEUE);
    tokio::spawn(accept_loop(listener, http, media, tx));
    Ok(DemuxListener { rx, local })
}

async fn accept_loop(
    listener: TcpListener,
    http: Http,
    media: Option<Arc<TcpMedia>>,
    ready: mpsc::Sender<(Conn, SocketAddr)>,
) {
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = ready.closed() => return,
        };
        tokio::spawn(dispatch(
            stream,
            remote,
            http.clone(),
            media.clone(),
            ready.clone(),
        ));
    }
}

/// Sorts one connection out by its first byte.
async fn dispatch(
    stream: TcpStream,
    remote: SocketAddr,
    http: Http,
    media: Option<Arc<TcpMedia>>,
    ready: mpsc::Sender<(Conn, SocketAddr)>,
) {
    let mut first = [0u8; 1];
    match tokio::time::timeout(FIRST_BYTE_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return,
    }
    let conn = match (classify(first[0]), http, media) {
        (Kind::IceTcp, _, Some(media)) => return media.serve(stream, remote).await,
        (Kind::Tls, Http::Tls(acceptor), _) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => Conn::Tls(Box::new(tls)),
                Ok(Err(e)) => return debug!("TLS handshake failed: {e}"),
                Err(_) => return debug!("TLS handshake timed out"),
            }
        }
        // Without TLS, everything that is not ICE-TCP is HTTP's to answer (or refuse).
        (_, Http::Plain, _) => Conn::Plain(stream),
        (kind, Http::Tls(_), _) => return debug!(?kind, "not TLS on the HTTPS port; closing"),
    };
    let _ = ready.send((conn, remote)).await;
}
