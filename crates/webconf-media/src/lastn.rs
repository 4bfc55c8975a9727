//! Last-N: which participants' cameras one subscriber receives. A pure function.
//!
//! A subscriber receives at most N cameras: first those it pinned, then the participants who
//! spoke most recently, then the others in the order they joined (stable, so tiles do not
//! jump). The others are shown by the client as their avatar and name. Screen shares are not
//! counted here: they are always sent (their bandwidth is still subject to the estimate).

/// The cameras to send, in priority order (at most `n`).
///
/// - `candidates`: the cameras the subscriber could show, in join order (with a view, only
///   those it shows);
/// - `pinned`: the ones it pinned;
/// - `speakers`: the room's speakers, most recent first.
pub(crate) fn select<K: Copy + Eq>(
    candidates: &[K],
    pinned: &[K],
    speakers: &[K],
    n: usize,
) -> Vec<K> {
    let mut out: Vec<K> = Vec::with_capacity(n.min(candidates.len()));
    let pinned_first = candidates.iter().filter(|c| pinned.contains(c));
    let speakers_next = speakers.iter().filter(|s| candidates.contains(s));
    for k in pinned_first.chain(speakers_next).chain(candidates.iter()) {
        if out.len() >= n {
            break;
        }
        if !out.contains(k) {
            out.push(*k);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::select;

    #[test]
    fn everyone_fits_under_n() {
        assert_eq!(select(&[1, 2, 3], &[], &[], 9), vec![1, 2, 3]);
        assert_eq!(select::<u8>(&[], &[], &[1], 9), Vec::<u8>::new());
    }

    #[test]
    fn speakers_come_first_then_join_order() {
        assert_eq!(select(&[1, 2, 3, 4, 5, 6], &[], &[], 3), vec![1, 2, 3]);
        assert_eq!(select(&[1, 2, 3, 4, 5, 6], &[], &[5], 3), vec![5, 1, 2]);
        assert_eq!(
            select(&[1, 2, 3, 4, 5, 6], &[], &[6, 5, 4, 1], 3),
            vec![6, 5, 4]
        );
    }

    #[test]
    fn pinned_beats_speakers_and_unknown_keys_are_ignored() {
        assert_eq!(select(&[1, 2, 3, 4, 5, 6], &[4], &[6, 5], 3), vec![4, 6, 5]);
        // A speaker who is not a candidate (left, or hidden by the view) takes no place.
        assert_eq!(select(&[1, 2, 3], &[9], &[8, 2], 2), vec![2, 1]);
        assert_eq!(select(&[1, 2, 3], &[], &[], 0), Vec::<i32>::new());
    }
}
