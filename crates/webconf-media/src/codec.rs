//! What forwarding reads of an RTP payload, per codec: whether a packet starts a keyframe, and
//! where a VP8 frame begins after its payload descriptor. Pure functions, no allocation.

use crate::rewrite::Vp8Ids;

/// A VP8 RTP payload descriptor (RFC 7741 §4.2), as far as forwarding reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vp8Header {
    /// Where the VP8 frame starts: the descriptor's length.
    pub offset: usize,
    /// Its PictureID (and width) and TL0PICIDX.
    pub ids: Vp8Ids,
}

/// Reads a VP8 payload descriptor. `None` if the payload is too short to hold one and a byte
/// of frame.
pub(crate) fn vp8_header(payload: &[u8]) -> Option<Vp8Header> {
    let required = *payload.first()?;
    let mut offset = 1;
    let mut ids = Vp8Ids::default();
    if required & 0x80 != 0 {
        let extension = *payload.get(offset)?;
        offset += 1;
        if extension & 0x80 != 0 {
            // PictureID: 7 bits, or 15 when the first byte's M bit is set.
            let high = *payload.get(offset)?;
            ids.picture_id = Some(if high & 0x80 != 0 {
                let low = *payload.get(offset + 1)?;
                offset += 2;
                ((u16::from(high & 0x7f) << 8) | u16::from(low), true)
            } else {
                offset += 1;
                (u16::from(high), false)
            });
        }
        if extension & 0x40 != 0 {
            ids.tl0_pic_idx = Some(*payload.get(offset)?);
            offset += 1;
        }
        if extension & 0x30 != 0 {
            offset += 1; // TID / Y / KEYIDX
        }
    }
    (offset < payload.len()).then_some(Vp8Header { offset, ids })
}

/// Whether an H.264 RTP payload (RFC 6184) starts a keyframe: an IDR slice or a sequence
/// parameter set, as a single NAL unit, inside a STAP-A aggregate, or at the start of a FU-A
/// fragment. (Browsers send SPS and PPS right before each IDR, in one STAP-A or alone: the
/// first packet of a keyframe is the one with the SPS.)
pub(crate) fn h264_starts_keyframe(payload: &[u8]) -> bool {
    const IDR: u8 = 5;
    const SPS: u8 = 7;
    const STAP_A: u8 = 24;
    const FU_A: u8 = 28;
    let key = |nal_type: u8| nal_type == IDR || nal_type == SPS;
    let Some(&header) = payload.first() else {
        return false;
    };
    match header & 0x1f {
        STAP_A => {
            // Then (16-bit size, NAL unit) pairs.
            let mut rest = &payload[1..];
            while rest.len() > 2 {
                let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                if size == 0 || rest.len() < 2 + size {
                    return false;
                }
                if key(rest[2] & 0x1f) {
                    return true;
                }
                rest = &rest[2 + size..];
            }
            false
        }
        // FU header: S bit, then the fragmented unit's type.
        FU_A => payload
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && key(fu & 0x1f)),
        nal_type => key(nal_type),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use str0m::rtp::Vp8Descriptor;

    /// A VP8 payload: descriptor (15-bit PictureID 300, TL0PICIDX 7, TID) then the frame.
    fn vp8(start: bool, frame: &[u8]) -> Vec<u8> {
        let mut p = vec![
            0x80 | if start { 0x10 } else { 0 },
            0x80 | 0x40 | 0x20,
            0x80 | 0x01,
            0x2c,
            7,
            0x00,
        ];
        p.extend_from_slice(frame);
        p
    }

    #[test]
    fn vp8_keyframes_and_frame_offsets() {
        let key = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01];
        let inter = [0x11, 0x02, 0x00, 0x00];
        let p = vp8(true, &key);
        let d = Vp8Descriptor::parse(&p).expect("parses");
        assert_eq!(d.picture_id(), Some(300));
        assert_eq!(d.tl0_pic_idx(), Some(7));
        assert!(d.starts_keyframe(&p));
        let h = vp8_header(&p).expect("a descriptor");
        assert_eq!(h.offset, 6);
        assert_eq!(
            h.ids,
            Vp8Ids {
                picture_id: Some((300, true)),
                tl0_pic_idx: Some(7)
            }
        );
        assert_eq!(
            crate::simulcast::vp8_keyframe_size(&p[h.offset..]),
            Some((640, 360))
        );
        // An interframe, and a keyframe's later packet (S bit clear), start no keyframe.
        let p = vp8(true, &inter);
        assert!(!Vp8Descriptor::parse(&p)
            .expect("parses")
            .starts_keyframe(&p));
        let p = vp8(false, &key);
        assert!(!Vp8Descriptor::parse(&p)
            .expect("parses")
            .starts_keyframe(&p));
        // 7-bit PictureID, no TL0PICIDX; the bare descriptor of str0m's own packetizer.
        let h = vp8_header(&[0x90, 0x80, 0x05, 0x10]).expect("a descriptor");
        assert_eq!(
            (h.offset, h.ids.picture_id, h.ids.tl0_pic_idx),
            (3, Some((5, false)), None)
        );
        assert_eq!(
            vp8_header(&[0x10, 0x10]).map(|h| (h.offset, h.ids)),
            Some((1, Vp8Ids::default()))
        );
        // Truncated.
        assert_eq!(vp8_header(&[0x90, 0x80, 0x85]), None);
        assert_eq!(vp8_header(&[0x90, 0x80, 0x85, 0x01]), None);
        assert_eq!(vp8_header(&[]), None);
    }

    #[test]
    fn h264_keyframes_in_every_packetization() {
        // Single NAL units: IDR (5) and SPS (7) start one; a non-IDR slice (1), PPS (8) do not.
        assert!(h264_starts_keyframe(&[0x65, 0x88, 0x84]));
        assert!(h264_starts_keyframe(&[0x67, 0x42, 0xc0, 0x1f]));
        assert!(!h264_starts_keyframe(&[0x41, 0x9a]));
        assert!(!h264_starts_keyframe(&[0x68, 0xce]));
        // STAP-A: SPS + PPS (+ IDR), or PPS then IDR; a STAP-A of two slices is not one.
        let stap = [0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce];
        assert!(h264_starts_keyframe(&stap));
        assert!(h264_starts_keyframe(&[
            0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x65, 0x88
        ]));
        assert!(!h264_starts_keyframe(&[
            0x78, 0x00, 0x02, 0x41, 0x9a, 0x00, 0x02, 0x41, 0x9b
        ]));
        // Malformed aggregates (a size past the end, zero) are not keyframes.
        assert!(!h264_starts_keyframe(&[0x78, 0x00, 0x09, 0x67, 0x42]));
        assert!(!h264_starts_keyframe(&[0x78, 0x00, 0x00, 0x67]));
        // FU-A: only the first fragment of an IDR.
        assert!(h264_starts_keyframe(&[0x7c, 0x85, 0x88]));
        assert!(
            !h264_starts_keyframe(&[0x7c, 0x05, 0x88]),
            "middle fragment"
        );
        assert!(!h264_starts_keyframe(&[0x7c, 0x45, 0x88]), "end fragment");
        assert!(!h264_starts_keyframe(&[0x7c, 0x81, 0x9a]), "non-IDR slice");
        assert!(!h264_starts_keyframe(&[0x7c]));
        assert!(!h264_starts_keyframe(&[]));
    }
}
