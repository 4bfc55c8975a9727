//! Room logic and signaling protocol of webconf, without I/O.
//!
//! - [`names`]: the validated names and ids ([`RoomName`], [`DisplayName`], [`ParticipantId`]):
//!   a value of these types that exists is valid ("parse, don't validate").
//! - [`protocol`]: the signaling messages, one tagged enum per direction, documented in
//!   `docs/protocol.md`.
//! - [`rooms`]: who is in which room, and who must be told what when someone joins, changes or
//!   leaves. It returns the messages to send instead of sending them.
//!
//! # Invariants
//! - A participant is in at most one room; a room with no participant does not exist.
//! - Nothing here reads the clock, touches the network or spawns.

mod lifecycle;
pub mod moderation;
pub mod names;
pub mod protocol;
pub mod rooms;
pub mod whiteboard;

pub use moderation::{ActionError, ModeratorAction};
pub use names::{DisplayName, NameError, ParticipantId, RoomName};
pub use protocol::{
    ClientMessage, EndReason, ErrorCode, MediaKindName, ParticipantInfo, ProtocolError, Role,
    ServerMessage, Slot,
};
pub use rooms::{Admission, Effects, JoinError, MediaControl, Outbox, RoomPolicy, Rooms};
