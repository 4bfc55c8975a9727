//! The per-subscriber rewriting of a forwarded track's RTP packets (str0m's RTP mode): one
//! continuous stream of sequence numbers, VP8 PictureIDs and TL0PICIDXs out of the packets of
//! whichever layer is sent, across layer switches, pauses and resumes.
//!
//! A *run* is what is sent of one layer (or of an audio track) between two switches. It
//! starts at a switch ([`Rewrite::packet`] with `switched`): the offsets are reset so that the
//! run's first packet follows the last one sent. Within a run every value is the source's plus
//! the run's offset, so a late or retransmitted packet keeps its place (and fills the hole the
//! subscriber NACKed); a packet older than the run's first is dropped (it belongs to what was
//! sent before the switch, under other numbers). Pure: no I/O, no clock, no allocation.

/// The VP8 payload descriptor fields that are rewritten.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vp8Ids {
    /// The PictureID, and whether its field is 15 bits wide (else 7).
    pub picture_id: Option<(u16, bool)>,
    /// The TL0PICIDX.
    pub tl0_pic_idx: Option<u8>,
}

/// What one packet becomes for one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewritten {
    /// Its extended sequence number (str0m derives the SRTP rollover counter from it).
    pub seq: u64,
    /// Its VP8 ids, in the same field widths as the source's.
    pub vp8: Vp8Ids,
}

/// The rewriting state of one forwarded track toward one subscriber.
#[derive(Debug, Clone, Default)]
pub struct Rewrite {
    started: bool,
    /// The run's first source sequence number: older packets are dropped.
    seq_base: u64,
    /// Added (wrapping) to the source's extended sequence number.
    seq_offset: u64,
    /// The highest sequence number sent.
    seq_max: Option<u64>,
    /// Added to the source's PictureID, modulo its field's range.
    pid_offset: u16,
    /// The newest PictureID sent.
    pid_last: Option<u16>,
    /// Added (wrapping) to the source's TL0PICIDX.
    tl0_offset: u8,
    /// The newest TL0PICIDX sent.
    tl0_last: Option<u8>,
}

/// The range of a 15-bit PictureID.
const PID_RANGE: u16 = 1 << 15;
/// The range of a 7-bit PictureID.
const PID_SHORT_RANGE: u16 = 1 << 7;

/// Whether `a` comes after `b` modulo `range` (a power of two): less than half the range ahead.
fn newer(a: u16, b: u16, range: u16) -> bool {
    let d = (u32::from(a) + u32::from(range) - u32::from(b) % u32::from(range)) % u32::from(range);
    d != 0 && d < u32::from(range / 2)
}

impl Rewrite {
    /// Rewrites a packet of the source's extended sequence number `seq` carrying `vp8`;
    /// `switched` when it starts a run (the first packet of a keyframe of the new layer, the
    /// first packet after a resume). `None`: drop it.
    pub fn packet(&mut self, switched: bool, seq: u64, vp8: Vp8Ids) -> Option<Rewritten> {
        if switched || !self.started {
            self.start(seq, vp8);
        } else if seq < self.seq_base {
            return None;
        }
        let out = seq.wrapping_add(self.seq_offset);
        self.seq_max = Some(self.seq_max.map_or(out, |m| m.max(out)));
        let picture_id = vp8.picture_id.map(|(id, wide)| {
            let range = if wide { PID_RANGE } else { PID_SHORT_RANGE };
            // Both below 2^15: no overflow. `range` divides 2^15, so this is the 15-bit sum
            // reduced to the field.
            let id = (id % range + self.pid_offset) % range;
            if self.pid_last.is_none_or(|last| newer(id, last, range)) {
                self.pid_last = Some(id);
            }
            (id, wide)
        });
        let tl0_pic_idx = vp8.tl0_pic_idx.map(|idx| {
            let idx = idx.wrapping_add(self.tl0_offset);
            if self
                .tl0_last
                .is_none_or(|last| newer(u16::from(idx), u16::from(last), 256))
            {
                self.tl0_last = Some(idx);
            }
            idx
        });
        Some(Rewritten {
            seq: out,
            vp8: Vp8Ids {
                picture_id,
                tl0_pic_idx,
            },
        })
    }

    /// Starts a run at this packet: it follows the newest values sent. The very first run keeps
    /// the source's values (the sequence number within the first rollover, see `RtpWrite`).
    fn start(&mut self, seq: u64, vp8: Vp8Ids) {
        self.started = true;
        let out = self.seq_max.map_or(seq & 0xffff, |m| m + 1);
        self.seq_offset = out.wrapping_sub(seq);
        self.seq_base = seq;
        if let Some((id, wide)) = vp8.picture_id {
            let range = if wide { PID_RANGE } else { PID_SHORT_RANGE };
            let id = id % range;
            let next = self.pid_last.map_or(id, |last| (last + 1) % range);
            self.pid_offset = (next + PID_RANGE - id) % PID_RANGE;
        }
        if let Some(idx) = vp8.tl0_pic_idx {
            let next = self.tl0_last.map_or(idx, |last| last.wrapping_add(1));
            self.tl0_offset = next.wrapping_sub(idx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(pid: u16, wide: bool, tl0: u8) -> Vp8Ids {
        Vp8Ids {
            picture_id: Some((pid, wide)),
            tl0_pic_idx: Some(tl0),
        }
    }

    /// Sends `frames` frames of `packets` packets each from a layer whose next sequence number,
    /// PictureID and TL0PICIDX are `at`; the first packet starts a run when `switch`. Returns
    /// what came out.
    fn run(
        r: &mut Rewrite,
        at: &mut (u64, u16, u8),
        wide: bool,
        frames: usize,
        packets: usize,
        switch: bool,
    ) -> Vec<Rewritten> {
        let range = if wide { PID_RANGE } else { PID_SHORT_RANGE };
        let mut out = Vec::new();
        for f in 0..frames {
            for p in 0..packets {
                let switched = switch && f == 0 && p == 0;
                out.push(
                    r.packet(switched, at.0, ids(at.1, wide, at.2))
                        .expect("forwarded"),
                );
                at.0 += 1;
            }
            at.1 = (at.1 + 1) % range;
            at.2 = at.2.wrapping_add(1);
        }
        out
    }

    /// Sequence numbers +1 each packet; PictureID and TL0PICIDX +1 each frame of `packets`.
    fn assert_continuous(out: &[Rewritten], packets: usize, range: u16) {
        for (i, w) in out.windows(2).enumerate() {
            let (a, b) = (w[0], w[1]);
            assert_eq!(b.seq, a.seq + 1, "packet {i}: {a:?} -> {b:?}");
            let (pa, pb) = (
                a.vp8.picture_id.expect("pid").0,
                b.vp8.picture_id.expect("pid").0,
            );
            let (ta, tb) = (
                a.vp8.tl0_pic_idx.expect("tl0"),
                b.vp8.tl0_pic_idx.expect("tl0"),
            );
            let step = u16::from((i + 1) % packets == 0);
            assert_eq!(
                pb,
                (pa + step) % range,
                "PictureID at packet {i}: {a:?} -> {b:?}"
            );
            assert_eq!(
                tb,
                ta.wrapping_add(step as u8),
                "TL0PICIDX at packet {i}: {a:?} -> {b:?}"
            );
        }
    }

    #[test]
    fn switches_keep_every_number_continuous_with_15_bit_picture_ids() {
        let mut r = Rewrite::default();
        // Three layers, far apart; the middle one's PictureID about to wrap.
        let mut low = (70_000, 1_000, 10);
        let mut mid = (5, 32_766, 250);
        let mut high = (40_000, 20_000, 100);
        let mut out = run(&mut r, &mut low, true, 3, 2, true);
        assert_eq!(
            out[0].seq,
            70_000 & 0xffff,
            "the first run keeps the source's numbers"
        );
        assert_eq!(out[0].vp8, ids(1_000, true, 10));
        out.extend(run(&mut r, &mut mid, true, 4, 3, true));
        out.extend(run(&mut r, &mut high, true, 2, 1, true));
        out.extend(run(&mut r, &mut low, true, 2, 2, true));
        // The lone frames of `high` make the steps uneven: check each run, then the joins.
        assert_continuous(&out[..6], 2, PID_RANGE);
        assert_continuous(&out[6..18], 3, PID_RANGE);
        assert_continuous(&out[18..20], 1, PID_RANGE);
        for join in [6, 18, 20] {
            let (a, b) = (out[join - 1], out[join]);
            assert_eq!(b.seq, a.seq + 1, "{a:?} -> {b:?}");
            assert_eq!(
                b.vp8.picture_id.expect("pid").0,
                (a.vp8.picture_id.expect("pid").0 + 1) % PID_RANGE
            );
            assert_eq!(
                b.vp8.tl0_pic_idx,
                a.vp8.tl0_pic_idx.map(|t| t.wrapping_add(1))
            );
        }
        // The middle run crossed the source's PictureID wrap (32767 -> 0) in step.
        assert!(out[6..18].iter().all(|p| p.vp8.picture_id.expect("pid").1));
    }

    #[test]
    fn seven_bit_picture_ids_wrap_at_128_and_stay_seven_bit() {
        let mut r = Rewrite::default();
        let mut a = (100, 120, 0);
        let mut b = (9_000, 3, 77);
        let mut out = run(&mut r, &mut a, false, 5, 1, true);
        out.extend(run(&mut r, &mut b, false, 200, 1, true));
        assert_continuous(&out, 1, PID_SHORT_RANGE);
        assert!(out
            .iter()
            .all(|p| p.vp8.picture_id.expect("pid").0 < 128 && !p.vp8.picture_id.expect("pid").1));
        // It went around: 120..=124, then 125, 126, 127, 0, ...
        assert_eq!(out[8].vp8.picture_id, Some((0, false)));
    }

    #[test]
    fn late_packets_keep_their_place_and_older_ones_are_dropped() {
        let mut r = Rewrite::default();
        let first = r.packet(true, 500, ids(40, true, 4)).expect("sent");
        // 501 is late: 502 goes out first, then 501 in its place with its frame's ids.
        let p502 = r.packet(false, 502, ids(41, true, 5)).expect("sent");
        let p501 = r
            .packet(false, 501, ids(40, true, 4))
            .expect("a late packet is sent");
        assert_eq!((p502.seq, p501.seq), (first.seq + 2, first.seq + 1));
        assert_eq!(p501.vp8, first.vp8, "same frame, same ids");
        // Switch to another layer at its packet 9000; a retransmission from before the
        // switch point (8999) is dropped, one after it (9001, late) keeps its place.
        let key = r.packet(true, 9_000, ids(7_000, true, 200)).expect("sent");
        assert_eq!(key.seq, p502.seq + 1);
        assert_eq!(
            key.vp8,
            ids(42, true, 6),
            "after the newest ids sent, not the late packet's"
        );
        assert_eq!(r.packet(false, 8_999, ids(6_999, true, 199)), None);
        let p9002 = r.packet(false, 9_002, ids(7_001, true, 201)).expect("sent");
        let p9001 = r.packet(false, 9_001, ids(7_000, true, 200)).expect("sent");
        assert_eq!((p9001.seq, p9002.seq), (key.seq + 1, key.seq + 2));
        assert_eq!(p9001.vp8, key.vp8);
        assert_eq!(p9002.vp8, ids(43, true, 7));
    }

    #[test]
    fn a_pause_and_resume_continue_the_numbers() {
        let mut r = Rewrite::default();
        let mut a = (65_530, 32_760, 255);
        let mut out = run(&mut r, &mut a, true, 4, 2, true);
        // Paused: the source goes on, nothing is sent; resumed on a later keyframe.
        a = (a.0 + 300, (a.1 + 150) % PID_RANGE, a.2.wrapping_add(150));
        out.extend(run(&mut r, &mut a, true, 4, 2, true));
        assert_continuous(&out, 2, PID_RANGE);
        // Sequence numbers cross 65535 as extended numbers (str0m rolls the SRTP counter over).
        assert!(out.last().expect("sent").seq > 0xffff);
        // Audio: no VP8 ids, sequence numbers only.
        let mut r = Rewrite::default();
        let s: Vec<u64> = [(true, 7), (false, 8), (true, 30), (false, 31)]
            .into_iter()
            .map(|(switched, seq)| {
                r.packet(switched, seq, Vp8Ids::default())
                    .expect("sent")
                    .seq
            })
            .collect();
        assert_eq!(s, vec![7, 8, 9, 10]);
    }

    #[test]
    fn a_layer_without_picture_ids_leaves_them_alone() {
        let mut r = Rewrite::default();
        let p = r.packet(true, 1, Vp8Ids::default()).expect("sent");
        assert_eq!(p.vp8, Vp8Ids::default());
        // A later layer with ids starts from its own.
        let p = r.packet(true, 50, ids(9, true, 3)).expect("sent");
        assert_eq!((p.seq, p.vp8), (2, ids(9, true, 3)));
    }
}
