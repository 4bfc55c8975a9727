//! Random tokens from the operating system's generator (through aws-lc, the binary's one crypto
//! library).
//!
//! Used for the pending-code cookie, agent session ids and the code store's HMAC key.

/// Fills `buf` with bytes from the OS generator.
///
/// # Panics
/// Never in practice: aws-lc's `RAND_bytes` always returns success and aborts the process itself
/// if the entropy source fails. The check below exists so that, should that ever change, the
/// service fails closed (no request gets a guessable secret) instead of going on with a buffer of
/// zeros.
pub(crate) fn fill(buf: &mut [u8]) {
    if aws_lc_rs::rand::fill(buf).is_err() {
        panic!("the operating system's random generator failed");
    }
}

/// `n` random bytes from the OS generator, hex-encoded (lower case), so `2 * n` characters.
///
/// Call it for any secret identifier handed to a browser: `random_hex(16)` gives the 128-bit
/// values of the `__Host-webconf-pending` cookie and of [`crate::SessionId`].
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    fill(&mut bytes);
    hex(&bytes)
}

/// Lower-case hexadecimal text of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_hex_has_the_right_length_and_alphabet() {
        for n in [0, 1, 16, 33] {
            let s = random_hex(n);
            assert_eq!(s.len(), 2 * n);
            assert!(s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        }
    }

    #[test]
    fn random_hex_varies() {
        assert_ne!(random_hex(16), random_hex(16));
    }

    #[test]
    fn hex_encodes_known_bytes() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
