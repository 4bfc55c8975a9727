//! The shared whiteboard of a room, and the annotation layers drawn over shared screens.
//!
//! The board lives only in memory, as long as its room; it is deleted with it. Every object
//! that arrives from a browser is checked here (size, number of points, coordinates, colours,
//! text length) and the board as a whole is capped, so a bad or oversized message is refused
//! and leaves the board unchanged.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::names::ParticipantId;
use crate::protocol::ServerMessage;
use crate::rooms::{Effects, Rooms};

/// Coordinates are in a virtual square of this many units a side, whatever the screen size.
pub const CANVAS: u32 = 10_000;
/// Most points in one free-hand stroke.
pub const MAX_POINTS: usize = 2_000;
/// Most objects on one board (all layers together).
pub const MAX_OBJECTS: usize = 5_000;
/// Most points on one board (all strokes together).
pub const MAX_BOARD_POINTS: usize = 200_000;
/// Longest text object, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// Where an object is drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// The whiteboard itself.
    Board,
    /// Over the screen shared by `owner`.
    Screen {
        /// Who shares the screen.
        owner: ParticipantId,
    },
}

/// What an object is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// Free drawing.
    Path {
        /// The stroke's points.
        points: Vec<[u32; 2]>,
    },
    /// A straight line, optionally ending in an arrow head.
    Line {
        /// Start.
        from: [u32; 2],
        /// End.
        to: [u32; 2],
        /// Draw an arrow head at `to`.
        #[serde(default)]
        arrow: bool,
    },
    /// A rectangle.
    Rect {
        /// Top-left corner.
        at: [u32; 2],
        /// Width and height.
        size: [u32; 2],
    },
    /// An ellipse inscribed in a rectangle.
    Ellipse {
        /// Top-left corner of the bounding box.
        at: [u32; 2],
        /// Width and height of the bounding box.
        size: [u32; 2],
    },
    /// Text, rendered as text only.
    Text {
        /// Position of the first line's baseline start.
        at: [u32; 2],
        /// The text.
        text: String,
    },
}

/// One object of the board, as sent by a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawObject {
    /// Chosen by the drawing browser: 1 to 32 of `[A-Za-z0-9_-]`, unique on the board.
    pub id: String,
    /// Where it is drawn.
    pub layer: Layer,
    /// Colour, `#rrggbb`.
    pub color: String,
    /// Stroke width (or text size), 1 to 100 units.
    pub width: u32,
    /// The shape.
    pub shape: Shape,
}

/// An object on the board, with who drew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardObject {
    /// Who drew it (or last moved it).
    pub author: ParticipantId,
    /// The object.
    #[serde(flatten)]
    pub object: DrawObject,
}

/// Why a whiteboard message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    /// A field is out of its bounds (id, colour, width, coordinates, points, text).
    #[error("the drawing is invalid: {0}")]
    Invalid(&'static str),
    /// The board would exceed its caps.
    #[error("the whiteboard is full; a moderator can clear it")]
    Full,
    /// No object with that id.
    #[error("no such drawing")]
    NotFound,
    /// The id is already used.
    #[error("a drawing with that id exists")]
    Duplicate,
    /// Not allowed for this participant (clearing the board needs a moderator).
    #[error("only moderators may clear the whiteboard")]
    Forbidden,
    /// The sender is in no room.
    #[error("you are not in a room")]
    NotInRoom,
}

/// The objects of one room, in drawing order.
#[derive(Debug, Default)]
pub struct Board {
    objects: Vec<BoardObject>,
    points: usize,
}

fn check_point(p: [u32; 2]) -> Result<(), BoardError> {
    if p[0] > CANVAS || p[1] > CANVAS {
        return Err(BoardError::Invalid("coordinates are outside the canvas"));
    }
    Ok(())
}

impl DrawObject {
    /// Checks every bound; returns the number of points the object holds.
    pub fn validate(&self) -> Result<usize, BoardError> {
        let id_ok = (1..=32).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(BoardError::Invalid("id"));
        }
        let color_ok = self.color.len() == 7
            && self.color.starts_with('#')
            && self.color.bytes().skip(1).all(|b| b.is_ascii_hexdigit());
        if !color_ok {
            return Err(BoardError::Invalid("colour"));
        }
        if !(1..=100).contains(&self.width) {
            return Err(BoardError::Invalid("width"));
        }
        match &self.shape {
            Shape::Path { points } => {
                if points.is_empty() || points.len() > MAX_POINTS {
                    return Err(BoardError::Invalid("number of points"));
                }
                points.iter().try_for_each(|p| check_point(*p))?;
                Ok(points.len())
            }
            Shape::Line { from, to, .. } => {
                check_point(*from)?;
                check_point(*to)?;
                Ok(2)
            }
            Shape::Rect { at, size } | Shape::Ellipse { at, size } => {
                check_point(*at)?;
                check_point([at[0].saturating_add(size[0]), at[1].saturating_add(size[1])])?;
                Ok(2)
            }
            Shape::Text { at, text } => {
                check_point(*at)?;
                let n = text.chars().count();
                if n == 0 || n > MAX_TEXT_CHARS || text.chars().any(|c| c.is_control() && c != '\n')
                {
                    return Err(BoardError::Invalid("text"));
                }
                Ok(1)
            }
        }
    }
}

impl Board {
    /// Every object, in drawing order (for a newcomer).
    pub fn objects(&self) -> &[BoardObject] {
        &self.objects
    }

    /// Adds a new object.
    pub fn add(&mut self, author: &ParticipantId, object: DrawObject) -> Result<(), BoardError> {
        let points = object.validate()?;
        if self.objects.iter().any(|o| o.object.id == object.id) {
            return Err(BoardError::Duplicate);
        }
        if self.objects.len() >= MAX_OBJECTS || self.points + points > MAX_BOARD_POINTS {
            return Err(BoardError::Full);
        }
        self.points += points;
        self.objects.push(BoardObject {
            author: author.clone(),
            object,
        });
        Ok(())
    }

    /// Replaces an object (moved or edited); it keeps its place in the drawing order.
    pub fn update(&mut self, author: &ParticipantId, object: DrawObject) -> Result<(), BoardError> {
        let points = object.validate()?;
        let index = self
            .objects
            .iter()
            .position(|o| o.object.id == object.id)
            .ok_or(BoardError::NotFound)?;
        let old = self
            .objects
            .get(index)
            .map(|o| o.object.validate().unwrap_or(0))
            .unwrap_or(0);
        if self.points - old + points > MAX_BOARD_POINTS {
            return Err(BoardError::Full);
        }
        self.points = self.points - old + points;
        if let Some(slot) = self.objects.get_mut(index) {
            *slot = BoardObject {
                author: author.clone(),
                object,
            };
        }
        Ok(())
    }

    /// Removes an object (the eraser, or an undo).
    pub fn remove(&mut self, id: &str) -> Result<(), BoardError> {
        let index = self
            .objects
            .iter()
            .position(|o| o.object.id == id)
            .ok_or(BoardError::NotFound)?;
        let removed = self.objects.remove(index);
        self.points -= removed.object.validate().unwrap_or(0);
        Ok(())
    }

    /// Removes every object of a layer, or only those of one author.
    pub fn clear(&mut self, layer: &Layer, author: Option<&ParticipantId>) {
        self.objects
            .retain(|o| !(&o.object.layer == layer && author.is_none_or(|a| &o.author == a)));
        self.points = self
            .objects
            .iter()
            .map(|o| o.object.validate().unwrap_or(0))
            .sum();
    }
}

impl Rooms {
    fn board_of(&mut self, id: &ParticipantId) -> Result<&mut crate::rooms::Room, BoardError> {
        let name = self.room_of(id).cloned().ok_or(BoardError::NotInRoom)?;
        self.rooms.get_mut(&name).ok_or(BoardError::NotInRoom)
    }

    /// A participant draws a new object; everyone (the author included, as confirmation) gets it.
    pub fn board_add(
        &mut self,
        now: Instant,
        by: &ParticipantId,
        object: DrawObject,
    ) -> Result<Effects, BoardError> {
        let room = self.board_of(by)?;
        room.board.add(by, object.clone())?;
        room.last_activity = now;
        Ok(to_all(
            room,
            ServerMessage::BoardAdd {
                object: BoardObject {
                    author: by.clone(),
                    object,
                },
            },
        ))
    }

    /// A participant moves or edits an object.
    pub fn board_update(
        &mut self,
        by: &ParticipantId,
        object: DrawObject,
    ) -> Result<Effects, BoardError> {
        let room = self.board_of(by)?;
        room.board.update(by, object.clone())?;
        Ok(to_all(
            room,
            ServerMessage::BoardUpdate {
                object: BoardObject {
                    author: by.clone(),
                    object,
                },
            },
        ))
    }

    /// A participant erases an object.
    pub fn board_remove(&mut self, by: &ParticipantId, id: &str) -> Result<Effects, BoardError> {
        let room = self.board_of(by)?;
        room.board.remove(id)?;
        Ok(to_all(
            room,
            ServerMessage::BoardRemove { id: id.to_owned() },
        ))
    }

    /// Clears a layer. The whole board, or all of a screen's annotations, needs a moderator;
    /// anyone may clear their own annotations (`mine`).
    pub fn board_clear(
        &mut self,
        by: &ParticipantId,
        layer: Layer,
        mine: bool,
    ) -> Result<Effects, BoardError> {
        let moderator = self.is_moderator(by);
        if !mine && !moderator {
            return Err(BoardError::Forbidden);
        }
        let room = self.board_of(by)?;
        let author = if mine { Some(by.clone()) } else { None };
        room.board.clear(&layer, author.as_ref());
        Ok(to_all(room, ServerMessage::BoardClear { layer, author }))
    }
}

fn to_all(room: &crate::rooms::Room, msg: ServerMessage) -> Effects {
    let mut fx = Effects::default();
    for m in &room.members {
        fx.outbox.push((m.id.clone(), msg.clone()));
    }
    fx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(id: &str, points: Vec<[u32; 2]>) -> DrawObject {
        DrawObject {
            id: id.into(),
            layer: Layer::Board,
            color: "#000091".into(),
            width: 4,
            shape: Shape::Path { points },
        }
    }

    #[test]
    fn valid_objects_are_kept_in_order_and_bad_ones_change_nothing() {
        let me = ParticipantId::random();
        let mut b = Board::default();
        b.add(&me, path("a1", vec![[0, 0], [10_000, 10_000]]))
            .expect("add");
        let bad = [
            path("", vec![[1, 1]]),
            path("a b", vec![[1, 1]]),
            path("x", vec![]),
            path("x", vec![[10_001, 0]]),
            path("x", vec![[0, 0]; MAX_POINTS + 1]),
            DrawObject {
                color: "red".into(),
                ..path("x", vec![[1, 1]])
            },
            DrawObject {
                width: 0,
                ..path("x", vec![[1, 1]])
            },
            DrawObject {
                shape: Shape::Rect {
                    at: [9_000, 9_000],
                    size: [2_000, 10],
                },
                ..path("x", vec![])
            },
            DrawObject {
                shape: Shape::Text {
                    at: [1, 1],
                    text: "\u{1b}[2J".into(),
                },
                ..path("x", vec![])
            },
            DrawObject {
                shape: Shape::Text {
                    at: [1, 1],
                    text: "é".repeat(501),
                },
                ..path("x", vec![])
            },
        ];
        for o in bad {
            assert!(
                matches!(b.add(&me, o.clone()), Err(BoardError::Invalid(_))),
                "{o:?}"
            );
        }
        assert_eq!(
            b.add(&me, path("a1", vec![[1, 1]])),
            Err(BoardError::Duplicate)
        );
        assert_eq!(b.objects().len(), 1);
        b.add(
            &me,
            DrawObject {
                shape: Shape::Text {
                    at: [5, 5],
                    text: "Ordre du jour".into(),
                },
                ..path("t1", vec![])
            },
        )
        .expect("text");
        b.update(&me, path("a1", vec![[5, 5], [6, 6], [7, 7]]))
            .expect("move");
        assert_eq!(b.objects()[0].object.id, "a1", "keeps its place");
        assert_eq!(
            b.update(&me, path("zz", vec![[1, 1]])),
            Err(BoardError::NotFound)
        );
        b.remove("a1").expect("erase");
        assert_eq!(b.remove("a1"), Err(BoardError::NotFound));
        assert_eq!(b.objects().len(), 1);
    }

    #[test]
    fn the_board_is_capped() {
        let me = ParticipantId::random();
        let mut b = Board::default();
        let per = MAX_POINTS;
        for i in 0..(MAX_BOARD_POINTS / per) {
            b.add(&me, path(&format!("p{i}"), vec![[1, 1]; per]))
                .expect("fits");
        }
        assert_eq!(
            b.add(&me, path("over", vec![[1, 1]])),
            Err(BoardError::Full)
        );
        b.remove("p0").expect("erase");
        b.add(&me, path("again", vec![[1, 1]])).expect("room again");
    }

    #[test]
    fn clearing_by_layer_and_author() {
        let (a, b_) = (ParticipantId::random(), ParticipantId::random());
        let screen = Layer::Screen { owner: a.clone() };
        let mut b = Board::default();
        b.add(&a, path("b1", vec![[1, 1]])).expect("add");
        b.add(
            &a,
            DrawObject {
                layer: screen.clone(),
                ..path("s1", vec![[1, 1]])
            },
        )
        .expect("add");
        b.add(
            &b_,
            DrawObject {
                layer: screen.clone(),
                ..path("s2", vec![[1, 1]])
            },
        )
        .expect("add");
        b.clear(&screen, Some(&b_));
        assert_eq!(
            b.objects()
                .iter()
                .map(|o| o.object.id.as_str())
                .collect::<Vec<_>>(),
            vec!["b1", "s1"]
        );
        b.clear(&screen, None);
        assert_eq!(b.objects().len(), 1);
    }

    #[test]
    fn everyone_sees_a_drawing_and_a_late_joiner_gets_the_board() {
        use crate::names::{DisplayName, RoomName};
        use crate::protocol::Role;
        use crate::rooms::RoomPolicy;
        let now = Instant::now();
        let mut rooms = Rooms::new(RoomPolicy::default());
        let room = RoomName::parse("salon12345").expect("room");
        let (a, g, late) = (
            ParticipantId::random(),
            ParticipantId::random(),
            ParticipantId::random(),
        );
        let name = DisplayName::parse("X").expect("name");
        rooms
            .join(
                now,
                room.clone(),
                a.clone(),
                name.clone(),
                Role::Moderator,
                false,
            )
            .expect("join");
        rooms
            .join(
                now,
                room.clone(),
                g.clone(),
                name.clone(),
                Role::Guest,
                false,
            )
            .expect("join");
        let fx = rooms
            .board_add(now, &g, path("g1", vec![[1, 2], [3, 4]]))
            .expect("draw");
        assert_eq!(fx.outbox.len(), 2);
        assert!(rooms
            .board_add(now, &g, path("bad", vec![[20_000, 0]]))
            .is_err());
        assert_eq!(
            rooms.board_clear(&g, Layer::Board, false).err(),
            Some(BoardError::Forbidden)
        );
        let fx = rooms
            .join(now, room.clone(), late.clone(), name, Role::Guest, false)
            .expect("join");
        let state = fx.outbox.iter().find_map(|(to, m)| match m {
            ServerMessage::BoardState { objects } if to == &late => Some(objects.clone()),
            _ => None,
        });
        let objects = state.expect("the board is sent to the newcomer");
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].author, g);
        rooms
            .board_clear(&a, Layer::Board, false)
            .expect("moderator clears");
    }

    #[test]
    fn objects_parse_from_the_documented_json() {
        let o: DrawObject = serde_json::from_str(
            r##"{"id":"k3","layer":{"on":"board"},"color":"#e1000f","width":6,"shape":{"kind":"line","from":[0,0],"to":[500,500],"arrow":true}}"##,
        )
        .expect("parses");
        assert_eq!(o.validate(), Ok(2));
        assert!(serde_json::from_str::<DrawObject>(r##"{"id":"k3","layer":{"on":"board"},"color":"#000000","width":6,"shape":{"kind":"blob"}}"##).is_err());
        assert!(serde_json::from_str::<DrawObject>(r##"{"id":"k3","layer":{"on":"board"},"color":"#000000","width":6,"shape":{"kind":"line","from":[-1,0],"to":[1,1]}}"##).is_err());
    }
}
