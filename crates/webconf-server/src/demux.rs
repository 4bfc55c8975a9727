//! Telling HTTPS from ICE-TCP on the shared listening port, and RFC 4571 framing.
//!
//! Browsers whose UDP is blocked reach the media core over TCP, on the port they already use
//! for HTTPS (see `tcp_media`). The first byte of a connection is enough to tell them apart:
//!
//! - a TLS ClientHello is a handshake record: `0x16`;
//! - plain HTTP (with `http.tls = "off"`) starts with a method name: an ASCII letter;
//! - ICE-TCP (RFC 6544) frames every packet with a 2-byte big-endian length (RFC 4571) and its
//!   first packet is a STUN binding request of a few hundred bytes, so the first byte is the
//!   high byte of a small length: below [`MAX_FRAME`] / 256.
//!
//! [`MAX_FRAME`] is far below `0x1600` (5632) and `0x4100` (`A`…), so no byte is ambiguous.
//!
//! This file uses only `std`: the fuzz target `fuzz/fuzz_targets/tcp_framing.rs` includes it.

/// The largest RFC 4571 frame accepted (a packet the media core would take over UDP: STUN,
/// DTLS, RTP and RTCP all stay under the path MTU). A longer one closes the connection.
pub const MAX_FRAME: usize = 2048;

/// What a connection on the shared port is, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A TLS ClientHello: HTTPS.
    Tls,
    /// An HTTP/1 request line (or an HTTP/2 preface): plain HTTP.
    Http,
    /// An RFC 4571 length prefix small enough for a media packet: ICE-TCP.
    IceTcp,
    /// Anything else.
    Unknown,
}

/// Classifies a connection by its first byte.
pub fn classify(first: u8) -> Kind {
    match first {
        0x16 => Kind::Tls,
        b'A'..=b'Z' => Kind::Http,
        b if usize::from(b) < MAX_FRAME.div_ceil(256) => Kind::IceTcp,
        _ => Kind::Unknown,
    }
}

/// Why a stream of frames is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// A frame announces more than [`MAX_FRAME`] bytes.
    TooLarge(usize),
    /// A zero-length frame: never sent by a browser.
    Empty,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge(n) => write!(f, "frame of {n} bytes (at most {MAX_FRAME})"),
            FrameError::Empty => write!(f, "empty frame"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Cuts a TCP byte stream into RFC 4571 frames, whatever the reads' boundaries. Holds at most
/// one partial frame (2 + [`MAX_FRAME`] bytes) plus what one read adds.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    start: usize,
}

impl Deframer {
    /// An empty deframer.
    pub fn new() -> Deframer {
        Deframer::default()
    }

    /// Appends bytes read from the connection.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > MAX_FRAME {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame's payload, `None` until one is complete, or an error for a
    /// frame that must not be read (the connection should then be closed).
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let rest = &self.buf[self.start..];
        let Some(header) = rest.get(..2) else {
            return Ok(None);
        };
        let len = usize::from(u16::from_be_bytes([header[0], header[1]]));
        if len == 0 {
            return Err(FrameError::Empty);
        }
        if len > MAX_FRAME {
            return Err(FrameError::TooLarge(len));
        }
        if rest.len() < 2 + len {
            return Ok(None);
        }
        let from = self.start + 2;
        self.start = from + len;
        Ok(Some(&self.buf[from..from + len]))
    }

    /// Bytes held that are not yet a whole frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

/// Appends `packet` to `out` as one RFC 4571 frame. Packets over 65535 bytes cannot be framed
/// and are refused (`false`); the media core never makes them.
pub fn frame_into(out: &mut Vec<u8>, packet: &[u8]) -> bool {
    let Ok(len) = u16::try_from(packet.len()) else {
        return false;
    };
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(packet);
    true
}

/// Whether `packet` has the shape of a STUN binding request (RFC 5389 header: type 0x0001,
/// a length that matches and is a multiple of 4, the magic cookie). Whose ufrag it carries is
/// checked by the media core, which knows the sessions.
pub fn is_stun_binding_request(packet: &[u8]) -> bool {
    if packet.len() < 20 {
        return false;
    }
    let kind = u16::from_be_bytes([packet[0], packet[1]]);
    let len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    kind == 0x0001
        && len % 4 == 0
        && len + 20 == packet.len()
        && packet[4..8] == [0x21, 0x12, 0xa4, 0x42]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun(attrs: usize) -> Vec<u8> {
        let mut p = vec![0x00, 0x01];
        p.extend_from_slice(&(attrs as u16).to_be_bytes());
        p.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
        p.extend_from_slice(&[7; 12]);
        p.extend(std::iter::repeat_n(0u8, attrs));
        p
    }

    #[test]
    fn the_first_byte_tells_tls_http_and_ice_tcp_apart() {
        assert_eq!(classify(0x16), Kind::Tls);
        for method in ["GET", "POST", "HEAD", "OPTIONS", "PRI * HTTP/2.0"] {
            assert_eq!(classify(method.as_bytes()[0]), Kind::Http, "{method}");
        }
        // A framed STUN binding request of 100 bytes: 0x00 0x64 0x00 0x01 …
        assert_eq!(classify(0x00), Kind::IceTcp);
        assert_eq!(classify(((MAX_FRAME - 1) >> 8) as u8), Kind::IceTcp);
        for other in [0x08, 0x15, 0x17, 0x80, 0xff, b'a', b'{', b' '] {
            assert_eq!(classify(other), Kind::Unknown, "{other:#x}");
        }
    }

    #[test]
    fn frames_are_cut_whatever_the_read_boundaries() {
        let packets: Vec<Vec<u8>> = vec![stun(80), vec![0x80; 1200], vec![22; 3], vec![1]];
        let mut wire = Vec::new();
        for p in &packets {
            assert!(frame_into(&mut wire, p));
        }
        for chunk in [1, 2, 3, 7, 100, wire.len()] {
            let mut d = Deframer::new();
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                d.push(piece);
                while let Some(f) = d.next_frame().expect("valid frames") {
                    got.push(f.to_vec());
                }
            }
            assert_eq!(got, packets, "reads of {chunk} bytes");
            assert_eq!(d.pending(), 0);
        }
    }

    #[test]
    fn a_partial_frame_waits_for_the_rest() {
        let mut d = Deframer::new();
        d.push(&[0x00]);
        assert_eq!(d.next_frame(), Ok(None));
        d.push(&[0x03, 1, 2]);
        assert_eq!(d.next_frame(), Ok(None));
        assert_eq!(d.pending(), 4);
        d.push(&[3, 0x00]);
        assert_eq!(d.next_frame(), Ok(Some(&[1u8, 2, 3][..])));
        assert_eq!(d.next_frame(), Ok(None));
        assert_eq!(d.pending(), 1);
    }

    #[test]
    fn oversized_and_empty_frames_are_refused() {
        let mut d = Deframer::new();
        d.push(&((MAX_FRAME + 1) as u16).to_be_bytes());
        assert_eq!(d.next_frame(), Err(FrameError::TooLarge(MAX_FRAME + 1)));
        let mut d = Deframer::new();
        d.push(&[0xff, 0xff, 1, 2, 3]);
        assert_eq!(d.next_frame(), Err(FrameError::TooLarge(65535)));
        let mut d = Deframer::new();
        d.push(&[0, 0, 1]);
        assert_eq!(d.next_frame(), Err(FrameError::Empty));
        // Exactly the limit is fine.
        let mut d = Deframer::new();
        let mut wire = Vec::new();
        frame_into(&mut wire, &vec![9; MAX_FRAME]);
        d.push(&wire);
        assert_eq!(
            d.next_frame().map(|f| f.map(<[u8]>::len)),
            Ok(Some(MAX_FRAME))
        );
    }

    #[test]
    fn a_long_stream_keeps_the_buffer_small() {
        let mut d = Deframer::new();
        let mut wire = Vec::new();
        frame_into(&mut wire, &[5; 1000]);
        for _ in 0..10_000 {
            d.push(&wire[..500]);
            assert_eq!(d.next_frame(), Ok(None));
            d.push(&wire[500..]);
            assert!(d.next_frame().expect("frame").is_some());
        }
        assert!(
            d.buf.capacity() < 4 * (MAX_FRAME + 2),
            "{}",
            d.buf.capacity()
        );
    }

    #[test]
    fn only_a_well_formed_binding_request_opens_a_connection() {
        assert!(is_stun_binding_request(&stun(0)));
        assert!(is_stun_binding_request(&stun(84)));
        let mut response = stun(8);
        response[1] = 0x01;
        response[0] = 0x01; // 0x0101: binding success response
        assert!(!is_stun_binding_request(&response));
        let mut wrong_len = stun(8);
        wrong_len[3] = 12;
        assert!(!is_stun_binding_request(&wrong_len));
        let mut no_cookie = stun(8);
        no_cookie[4] = 0;
        assert!(!is_stun_binding_request(&no_cookie));
        assert!(!is_stun_binding_request(&[0, 1, 0, 0]));
        assert!(!is_stun_binding_request(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        ));
        assert!(!is_stun_binding_request(&[22; 100]));
    }
}
