//! What a synthetic participant tells webconf it shows (`view`, docs/protocol.md): every other
//! participant's camera in a tile of one height, as a browser's grid does. Sans-IO: the caller
//! feeds roster changes and the time, and polls the message to send.
//!
//! Like the browser client (`web/js/ui/viewsender.js`), a view goes out a little after the
//! roster settles and only when it changed. The delay runs from the first unsent change and is
//! not pushed back by later ones, so a participant sends at most one `view` per
//! [`DEBOUNCE`], far below the server's message rate (50 per second).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long after a roster change the view goes out (the browser client waits ~300 ms for its
/// layout to settle).
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// Most tiles in one `view`: more is refused by the server (`bad_view`).
pub const MAX_TILES: usize = 200;

/// One tile of a `view` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tile {
    /// Whose camera.
    pub participant: String,
    /// Always false here: the generator shares no screens.
    pub screen: bool,
    /// The tile's height in device pixels.
    pub height: u32,
    /// Always false: a grid pins nobody.
    pub pinned: bool,
}

/// The roster of one participant and the `view` it owes the server.
#[derive(Debug, Clone)]
pub struct ViewReporter {
    height: u32,
    others: BTreeSet<String>,
    /// When the pending view is to go out; `None`: nothing pending.
    due: Option<Instant>,
    /// The participants of the last view sent.
    sent: Option<Vec<String>>,
}

impl ViewReporter {
    /// After `welcome`: `others` are the participants already in the room. The first view is
    /// due [`DEBOUNCE`] after `now`.
    pub fn new(height: u32, others: impl IntoIterator<Item = String>, now: Instant) -> Self {
        ViewReporter {
            height,
            others: others.into_iter().collect(),
            due: Some(now + DEBOUNCE),
            sent: None,
        }
    }

    /// Someone entered the room (`participant_joined`).
    pub fn handle_joined(&mut self, id: String, now: Instant) {
        if self.others.insert(id) {
            self.touch(now);
        }
    }

    /// Someone left (`participant_left`).
    pub fn handle_left(&mut self, id: &str, now: Instant) {
        if self.others.remove(id) {
            self.touch(now);
        }
    }

    fn touch(&mut self, now: Instant) {
        self.due.get_or_insert(now + DEBOUNCE);
    }

    /// When [`ViewReporter::poll_view`] has something to give, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.due
    }

    /// The tiles to send now, if a view is due and differs from the last one sent. The first
    /// [`MAX_TILES`] participants by id when the room is larger.
    pub fn poll_view(&mut self, now: Instant) -> Option<Vec<Tile>> {
        if self.due.is_none_or(|t| t > now) {
            return None;
        }
        self.due = None;
        let ids: Vec<String> = self.others.iter().take(MAX_TILES).cloned().collect();
        if self.sent.as_ref() == Some(&ids) {
            return None;
        }
        let tiles = ids
            .iter()
            .map(|id| Tile {
                participant: id.clone(),
                screen: false,
                height: self.height,
                pinned: false,
            })
            .collect();
        self.sent = Some(ids);
        Some(tiles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(tiles: &[Tile]) -> Vec<&str> {
        tiles.iter().map(|t| t.participant.as_str()).collect()
    }

    #[test]
    fn first_view_after_the_debounce_then_only_on_change() {
        let t0 = Instant::now();
        let mut v = ViewReporter::new(180, ["b".to_string(), "a".to_string()], t0);
        assert_eq!(v.poll_timeout(), Some(t0 + DEBOUNCE));
        assert_eq!(v.poll_view(t0 + Duration::from_millis(299)), None);
        let tiles = v.poll_view(t0 + DEBOUNCE).expect("first view");
        assert_eq!(ids(&tiles), ["a", "b"]);
        assert!(tiles
            .iter()
            .all(|t| t.height == 180 && !t.pinned && !t.screen));
        assert_eq!(v.poll_timeout(), None);

        // Someone joins and leaves before the view went out: nothing changed, nothing sent.
        let t1 = t0 + Duration::from_secs(1);
        v.handle_joined("c".into(), t1);
        v.handle_left("c", t1 + Duration::from_millis(100));
        assert_eq!(v.poll_view(t1 + DEBOUNCE), None);
        assert_eq!(v.poll_timeout(), None);

        // A real change goes out DEBOUNCE after the first change, however many follow.
        let t2 = t0 + Duration::from_secs(2);
        v.handle_joined("c".into(), t2);
        v.handle_joined("d".into(), t2 + Duration::from_millis(250));
        assert_eq!(v.poll_timeout(), Some(t2 + DEBOUNCE));
        let tiles = v.poll_view(t2 + DEBOUNCE).expect("changed view");
        assert_eq!(ids(&tiles), ["a", "b", "c", "d"]);

        // Unknown ids and repeats change nothing.
        v.handle_left("zz", t2);
        v.handle_joined("a".into(), t2);
        assert_eq!(v.poll_timeout(), None);
    }

    #[test]
    fn the_view_is_capped_at_the_servers_limit_and_serializes_as_the_protocol_says() {
        let t0 = Instant::now();
        let mut v = ViewReporter::new(90, (0..250).map(|i| format!("p{i:03}")), t0);
        let tiles = v.poll_view(t0 + DEBOUNCE).expect("view");
        assert_eq!(tiles.len(), MAX_TILES);
        assert_eq!(
            serde_json::to_string(&tiles[0]).unwrap(),
            r#"{"participant":"p000","screen":false,"height":90,"pinned":false}"#
        );
    }
}
