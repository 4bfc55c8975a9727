//! The two system calls of [`super::UdpSender`], each non-blocking through tokio's readiness.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrStorage};
use rustix::net::addr::SocketAddrArg;
use rustix::net::{sendmmsg, MMsgHdr, SendAncillaryBuffer, SendFlags, SocketAddrAny};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::Message;

/// One `sendmsg` with `UDP_SEGMENT`: the kernel cuts `bytes` into datagrams of `segment` bytes.
pub(super) fn send_segments(
    sock: &UdpSocket,
    destination: SocketAddr,
    bytes: &[u8],
    segment: usize,
) -> io::Result<()> {
    let segment =
        u16::try_from(segment).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let addr = SockaddrStorage::from(destination);
    let iov = [IoSlice::new(bytes)];
    let cmsg = [ControlMessage::UdpGsoSegments(&segment)];
    sock.try_io(Interest::WRITABLE, || {
        sendmsg(
            sock.as_raw_fd(),
            &iov,
            &cmsg,
            MsgFlags::empty(),
            Some(&addr),
        )
        .map_err(io::Error::from)
    })
    .map(|_| ())
}

/// One `sendmmsg` of `messages` (their bytes in `buf`), each a datagram to its own address
/// (one `sendto` for a single one).
/// Returns how many the kernel took, from the first: fewer than all when one failed after
/// others were sent (its error is then lost, and the caller tries again from it); an error
/// only when the first failed.
///
/// `rustix`'s `sendmmsg`, not `nix`'s: `nix` gives every message the same control messages
/// and returns a result that can only be counted by reading addresses it never initialised.
pub(super) fn send_messages(
    sock: &UdpSocket,
    buf: &[u8],
    messages: &[Message],
) -> io::Result<usize> {
    // One datagram: a plain `sendto`, without the headers' allocations.
    if let [m] = messages {
        return sock
            .try_send_to(buf.get(m.bytes.clone()).unwrap_or_default(), m.destination)
            .map(|_| 1);
    }
    let addrs: Vec<SocketAddrAny> = messages.iter().map(|m| m.destination.as_any()).collect();
    let iovs: Vec<[IoSlice<'_>; 1]> = messages
        .iter()
        .map(|m| [IoSlice::new(buf.get(m.bytes.clone()).unwrap_or_default())])
        .collect();
    let mut controls: Vec<SendAncillaryBuffer<'_, '_, '_>> = messages
        .iter()
        .map(|_| SendAncillaryBuffer::default())
        .collect();
    let mut headers: Vec<MMsgHdr<'_>> = addrs
        .iter()
        .zip(&iovs)
        .zip(controls.iter_mut())
        .map(|((addr, iov), control)| MMsgHdr::new_with_addr(addr, iov, control))
        .collect();
    sock.try_io(Interest::WRITABLE, || {
        sendmmsg(sock, &mut headers, SendFlags::empty()).map_err(io::Error::from)
    })
}
