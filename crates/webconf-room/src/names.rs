//! Validated names and identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a room name or display name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Fewer than [`RoomName::MIN_LEN`] characters.
    #[error("a room name has at least {min} characters", min = RoomName::MIN_LEN)]
    RoomTooShort,
    /// More than [`RoomName::MAX_LEN`] characters.
    #[error("a room name has at most {max} characters", max = RoomName::MAX_LEN)]
    RoomTooLong,
    /// A character other than an ASCII letter or digit.
    #[error("a room name has only letters and digits")]
    RoomBadCharacter,
    /// Fewer than [`RoomName::MIN_DIGITS`] digits.
    #[error("a room name has at least {min} digits", min = RoomName::MIN_DIGITS)]
    RoomTooFewDigits,
    /// Empty after trimming.
    #[error("the display name is empty")]
    DisplayEmpty,
    /// Longer than [`DisplayName::MAX_CHARS`] characters.
    #[error("the display name has more than {max} characters", max = DisplayName::MAX_CHARS)]
    DisplayTooLong,
    /// Contains a control character (new line, escape...).
    #[error("the display name has a control character")]
    DisplayControl,
}

/// A room name that follows the service's rule: 10 to 64 ASCII letters or digits, at least 3 of
/// them digits; stored in lower case (names are case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RoomName(String);

impl RoomName {
    /// Minimum length, from the service's FAQ.
    pub const MIN_LEN: usize = 10;
    /// Maximum length: long enough for any generated or typed name, short enough for a URL.
    pub const MAX_LEN: usize = 64;
    /// Minimum number of digits, from the service's FAQ.
    pub const MIN_DIGITS: usize = 3;

    /// Checks a name typed or received from the network and normalises it to lower case.
    pub fn parse(s: &str) -> Result<RoomName, NameError> {
        if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(NameError::RoomBadCharacter);
        }
        if s.len() < Self::MIN_LEN {
            return Err(NameError::RoomTooShort);
        }
        if s.len() > Self::MAX_LEN {
            return Err(NameError::RoomTooLong);
        }
        if s.chars().filter(char::is_ascii_digit).count() < Self::MIN_DIGITS {
            return Err(NameError::RoomTooFewDigits);
        }
        Ok(RoomName(s.to_ascii_lowercase()))
    }

    /// The normalised (lower-case) name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RoomName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RoomName::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The name a participant shows to the others: 1 to 64 characters, trimmed, no control
/// characters. Rendered as text only by the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Maximum length in characters (not bytes).
    pub const MAX_CHARS: usize = 64;

    /// Checks a display name received from the network.
    pub fn parse(s: &str) -> Result<DisplayName, NameError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(NameError::DisplayEmpty);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(NameError::DisplayTooLong);
        }
        if s.chars().any(char::is_control) {
            return Err(NameError::DisplayControl);
        }
        Ok(DisplayName(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Identifies a participant for the duration of its presence in a room: `p` and 16 hex digits
/// from the OS random generator, so that ids cannot be guessed across rooms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(String);

impl ParticipantId {
    /// A fresh random id (thread-local CSPRNG seeded from the OS).
    pub fn random() -> ParticipantId {
        let n: u64 = rand::random();
        ParticipantId(format!("p{n:016x}"))
    }

    /// The id as text (also the WebRTC stream id of the participant's tracks).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_follow_the_rule() {
        assert_eq!(
            RoomName::parse("Reunion2024abc").map(|n| n.0),
            Ok("reunion2024abc".into())
        );
        assert_eq!(
            RoomName::parse("abcdefg123").map(|n| n.0),
            Ok("abcdefg123".into())
        );
        assert_eq!(RoomName::parse("abcdef123"), Err(NameError::RoomTooShort));
        assert_eq!(
            RoomName::parse("abcdefgh12"),
            Err(NameError::RoomTooFewDigits)
        );
        assert_eq!(
            RoomName::parse("abcdefg 123"),
            Err(NameError::RoomBadCharacter)
        );
        assert_eq!(
            RoomName::parse("réunion12345"),
            Err(NameError::RoomBadCharacter)
        );
        assert_eq!(
            RoomName::parse("../../etc/passwd123"),
            Err(NameError::RoomBadCharacter)
        );
        assert_eq!(
            RoomName::parse(&"a1".repeat(33)),
            Err(NameError::RoomTooLong)
        );
        assert!(RoomName::parse(&"a1".repeat(32)).is_ok());
    }

    #[test]
    fn room_names_deserialize_through_the_rule() {
        let ok: RoomName = serde_json::from_str("\"ABCdef1234\"").expect("valid");
        assert_eq!(ok.as_str(), "abcdef1234");
        assert!(serde_json::from_str::<RoomName>("\"short1\"").is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Alice  ").map(|n| n.0),
            Ok("Alice".into())
        );
        assert_eq!(DisplayName::parse("   "), Err(NameError::DisplayEmpty));
        assert_eq!(
            DisplayName::parse("a\u{1b}[31m"),
            Err(NameError::DisplayControl)
        );
        assert_eq!(DisplayName::parse("x\ny"), Err(NameError::DisplayControl));
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        assert_eq!(
            DisplayName::parse(&"é".repeat(65)),
            Err(NameError::DisplayTooLong)
        );
    }

    #[test]
    fn participant_ids_are_random_and_well_formed() {
        let a = ParticipantId::random();
        let b = ParticipantId::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 17);
        assert!(a.as_str().starts_with('p'));
    }
}
