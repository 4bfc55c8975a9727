//! The HTTPS port also takes ICE-TCP media (`webconf_server::listener`): whatever arrives on
//! it that is neither TLS nor a well-formed ICE-TCP stream for a live session is closed, and
//! HTTPS goes on answering meanwhile. Through the real binary.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::network::{free_udp_pair, get, serve};
use crate::support::TempDir;

/// Whether the server closes the connection within `within` (EOF or reset), rather than
/// keeping it open.
fn closed_by_server(sock: &mut TcpStream, within: Duration) -> bool {
    sock.set_read_timeout(Some(within)).expect("timeout");
    let start = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return true,
            // Something came back (a TLS alert to garbage): keep reading until the close.
            Ok(_) if start.elapsed() < within => continue,
            Ok(_) => return false,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

fn connect_and_send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.write_all(bytes).expect("send");
    sock
}

/// A framed STUN binding request with USERNAME `user` (no integrity: only its shape and
/// ufrag matter before the session checks it).
fn framed_binding_request(user: &str) -> Vec<u8> {
    let mut attr = vec![0x00, 0x06];
    attr.extend_from_slice(&(user.len() as u16).to_be_bytes());
    attr.extend_from_slice(user.as_bytes());
    while attr.len() % 4 != 0 {
        attr.push(0);
    }
    let mut stun = vec![0x00, 0x01];
    stun.extend_from_slice(&(attr.len() as u16).to_be_bytes());
    stun.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
    stun.extend_from_slice(&[3; 12]);
    stun.extend_from_slice(&attr);
    let mut framed = (stun.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&stun);
    framed
}

#[test]
fn garbage_and_stray_media_on_the_https_port_are_closed_and_https_still_answers() {
    let dir = TempDir::new("tcp-media");
    let (min, max) = free_udp_pair();
    let data = dir.path().join("data");
    let config = format!(
        "data_dir = {data:?}\n\n[http]\nlisten = \"127.0.0.1:0\"\ntls = \"self-signed\"\n\n\
         [media]\nport_min = {min}\nport_max = {max}\naddresses = [\"127.0.0.1\"]\n"
    );
    let server = serve(dir.path(), &config);
    let addr = server.addr;

    // A connection that has not finished its first frame is held open meanwhile, and does
    // not stop HTTPS.
    let mut partial = connect_and_send(addr, &[0x00]);
    let (status, _, _) = get(dir.path(), addr, "/api/network");
    assert!(status.contains(" 200 "), "{status}");

    let long = Duration::from_secs(10);
    let cases: [(&str, Vec<u8>); 6] = [
        ("binary garbage", vec![0xff, 0xfe, 0x00, 0x01, 0x02, 0x03]),
        (
            "plain HTTP on the HTTPS port",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        (
            "a frame that is not STUN",
            vec![0x00, 0x0c, 0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],
        ),
        ("an empty frame", vec![0x00, 0x00, 0x00, 0x04]),
        ("an oversized frame", vec![0x07, 0xff, 0x00, 0x01]),
        (
            "a binding request for no session",
            framed_binding_request("nosuchufrag:client"),
        ),
    ];
    for (what, bytes) in &cases {
        let mut sock = connect_and_send(addr, bytes);
        // The oversized frame is refused from its header, before its body: no wait needed.
        assert!(
            closed_by_server(&mut sock, long),
            "{what}: the connection stays open"
        );
    }

    // The silent media connection is closed by its first-frame deadline (5 s).
    assert!(
        closed_by_server(&mut partial, long),
        "a connection without a first frame stays open"
    );

    // HTTPS answers, TLS and all, on the same port after all that.
    let (status, _, body) = get(dir.path(), addr, "/api/network");
    assert!(status.contains(" 200 "), "{status}\n{body}");
    let (status, _, _) = get(dir.path(), addr, "/");
    assert!(status.contains(" 200 "), "{status}");
}

#[test]
fn with_media_tcp_off_an_ice_tcp_connection_is_closed_at_once() {
    let dir = TempDir::new("tcp-media-off");
    let (min, max) = free_udp_pair();
    let data = dir.path().join("data");
    let config = format!(
        "data_dir = {data:?}\n\n[http]\nlisten = \"127.0.0.1:0\"\ntls = \"self-signed\"\n\n\
         [media]\nport_min = {min}\nport_max = {max}\naddresses = [\"127.0.0.1\"]\ntcp = false\n"
    );
    let server = serve(dir.path(), &config);
    let mut sock = connect_and_send(server.addr, &framed_binding_request("x:y")[..2]);
    // Not even the first frame's body is awaited.
    assert!(closed_by_server(&mut sock, Duration::from_secs(3)));
    let (status, _, _) = get(dir.path(), server.addr, "/api/network");
    assert!(status.contains(" 200 "), "{status}");
}
