//! Values that remember where they were written, kept small.
//!
//! serde-saphyr's own `Spanned<T>` carries two full locations (where a value
//! is used and where its anchor defined it), 56 bytes on every value, and
//! on every absent optional field too. Error
//! messages need only the first, and a 10,000-step drill holds about 150,000
//! located values, so the model reads each value through serde-saphyr's type
//! and keeps one 20-byte [`Location`]: the parsed model of such a drill is
//! half the size it would be otherwise.

use serde::{Deserialize, Deserializer};

/// A value and the place in the drill file where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    pub value: T,
    /// Where the value is written; for an `*alias`, where the alias is.
    pub referenced: Location,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        Ok(Self {
            value: spanned.value,
            referenced: spanned.referenced.into(),
        })
    }
}

/// A position in a drill file. Drill files are at most a few MiB, so every
/// field fits in 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    line: u32,
    column: u32,
    char_offset: u32,
    byte_offset: u32,
    byte_len: u32,
}

/// Marks a byte offset or length serde-saphyr did not know.
const NOT_KNOWN: u32 = u32::MAX;

impl Location {
    /// No position: line 0, which diagnostics show without a snippet.
    pub const UNKNOWN: Self = Self {
        line: 0,
        column: 0,
        char_offset: 0,
        byte_offset: NOT_KNOWN,
        byte_len: NOT_KNOWN,
    };

    /// A position from its parts: 1-based line and column (in characters),
    /// and the byte range of the text it points at.
    pub fn new(line: usize, column: usize, char_offset: usize, bytes: (usize, usize)) -> Self {
        let small = |n: usize| u32::try_from(n).unwrap_or(NOT_KNOWN - 1);
        Self {
            line: small(line),
            column: small(column),
            char_offset: small(char_offset),
            byte_offset: small(bytes.0),
            byte_len: small(bytes.1),
        }
    }

    /// 1-based line; 0 when not known.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// 1-based column, in characters.
    pub fn column(&self) -> u32 {
        self.column
    }

    /// Offset of the value's first character, in characters.
    pub fn char_offset(&self) -> u32 {
        self.char_offset
    }

    /// Offset of the value's first byte, when the parser knew it.
    pub fn byte_offset(&self) -> Option<u32> {
        (self.byte_offset != NOT_KNOWN).then_some(self.byte_offset)
    }

    /// Length of the value's text in bytes, when the parser knew it.
    pub fn byte_len(&self) -> Option<u32> {
        (self.byte_len != NOT_KNOWN).then_some(self.byte_len)
    }
}

impl From<serde_saphyr::Location> for Location {
    fn from(at: serde_saphyr::Location) -> Self {
        let span = at.span();
        let small = |n: u64| u32::try_from(n).unwrap_or(NOT_KNOWN - 1);
        Self {
            line: small(at.line()),
            column: small(at.column()),
            char_offset: small(span.offset()),
            byte_offset: span.byte_offset().map_or(NOT_KNOWN, small),
            byte_len: span.byte_len().map_or(NOT_KNOWN, small),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_located_value_costs_little_more_than_the_value() {
        assert_eq!(std::mem::size_of::<Location>(), 20);
        assert!(
            std::mem::size_of::<Spanned<String>>() <= std::mem::size_of::<String>() + 24,
            "every value in a drill carries its location"
        );
    }

    #[test]
    fn keeps_where_the_value_was_written() {
        #[derive(Deserialize)]
        struct Inner {
            c: Spanned<String>,
        }
        #[derive(Deserialize)]
        struct Doc {
            b: Inner,
        }
        let text = "a: 1\nb:\n  c: \"héllo\"\n";
        let doc: Doc = serde_saphyr::from_str(text).unwrap();
        let at = doc.b.c.referenced;
        assert_eq!((at.line(), at.column()), (3, 6));
        let start = at.byte_offset().unwrap() as usize;
        assert_eq!(
            &text[start..start + at.byte_len().unwrap() as usize],
            "\"héllo\""
        );
        assert_eq!(Location::UNKNOWN.byte_offset(), None);
    }
}
