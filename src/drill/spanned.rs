//! Values that remember where they were written, kept small.
//!
//! serde-saphyr's own `Spanned<T>` carries two full locations (where a value
//! is used and where its anchor defined it), 56 bytes on every value, and
//! on every absent optional field too. Error
//! messages need only the first, and a 10,000-step drill holds about 150,000
//! located values, so the model reads the value and where it is used from
//! the view serde-saphyr gives its own type (without building that type)
//! and keeps one 20-byte [`Location`]: the parsed model of such a drill is
//! half the size it would be otherwise.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A value and the place in the drill file where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    pub value: T,
    /// Where the value is written; for an `*alias`, where the alias is.
    pub referenced: Location,
}

/// serde-saphyr hands a value with its location to a newtype struct of
/// this name (the one its own `Spanned<T>` asks for).
pub(crate) const SPANNED_NEWTYPE: &str = "__yaml_spanned";

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    /// Reads serde-saphyr's view of a located value, `{marker, value,
    /// referenced, defined}`, directly and takes only `value` and
    /// `referenced`. Going through `serde_saphyr::Spanned` allocated the
    /// marker key as a `String` and read two full locations for every value.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(SPANNED_NEWTYPE, NewtypeVisitor(PhantomData))
    }
}

/// Takes serde-saphyr's newtype and asks for its map view.
struct NewtypeVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for NewtypeVisitor<T> {
    type Value = Spanned<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a located value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_struct("Spanned", REPR_FIELDS, ReprVisitor(PhantomData))
    }
}

/// The first key of serde-saphyr's view, which tells it from a user's map.
pub(crate) const MARKER: &str = "__serde_saphyr_private_spanned";
/// The keys of serde-saphyr's view, in the order it gives them.
const REPR_FIELDS: &[&str] = &[MARKER, "value", "referenced", "defined"];

/// Reads `{marker, value, referenced, ..}`; `defined` is left unread.
struct ReprVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ReprVisitor<T> {
    type Value = Spanned<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a located value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Only serde-saphyr's deserializer gives this view; the model is
        // never read through serde's buffering (no `flatten`, no `untagged`).
        let expect = |map: &mut A, key: Key| match map.next_key::<Key>()? {
            Some(found) if found == key => Ok(()),
            _ => Err(A::Error::custom(
                "a located value can only be read by serde-saphyr",
            )),
        };
        expect(&mut map, Key::Marker)?;
        map.next_value::<IgnoredAny>()?;
        expect(&mut map, Key::Value)?;
        let value = map.next_value::<T>()?;
        expect(&mut map, Key::Referenced)?;
        let referenced: Location = map.next_value()?;
        Ok(Spanned { value, referenced })
    }
}

/// A key of serde-saphyr's view, read without allocating.
#[derive(PartialEq, Eq)]
enum Key {
    Marker,
    Value,
    Referenced,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key of a located value")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    MARKER => Key::Marker,
                    "value" => Key::Value,
                    "referenced" => Key::Referenced,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
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

/// The name under which a deserializer hands a [`Location`] over.
const LOCATION_STRUCT: &str = "Location";

/// serde-saphyr's own fields of a location, as its view gives them.
const LOCATION_FIELDS: &[&str] = &["line", "column", "span", "source_id"];

/// Length of the packed form [`Location::to_packed`] gives.
pub(crate) const PACKED_LOCATION_LEN: usize = 20;

impl Location {
    /// A position straight from a parser's markers: 1-based line and
    /// column, character offset, and the byte range when it is known
    /// (`None` is recorded as "not known", as serde-saphyr does).
    pub(crate) fn from_parser(
        line: usize,
        column: usize,
        char_offset: usize,
        bytes: Option<(usize, usize)>,
    ) -> Self {
        let small = |n: usize| u32::try_from(n).unwrap_or(NOT_KNOWN - 1);
        let (byte_offset, byte_len) = match bytes {
            Some((offset, len)) => (small(offset), small(len)),
            None => (NOT_KNOWN, NOT_KNOWN),
        };
        Self {
            line: small(line),
            column: small(column),
            char_offset: small(char_offset),
            byte_offset,
            byte_len,
        }
    }

    /// The five fields as little-endian bytes: the form the fast reader
    /// (`fast.rs`) hands a location over in, read back by `Deserialize`.
    pub(crate) fn to_packed(self) -> [u8; PACKED_LOCATION_LEN] {
        let mut out = [0; PACKED_LOCATION_LEN];
        let fields = [
            self.line,
            self.column,
            self.char_offset,
            self.byte_offset,
            self.byte_len,
        ];
        for (chunk, field) in out.chunks_exact_mut(4).zip(fields) {
            chunk.copy_from_slice(&field.to_le_bytes());
        }
        out
    }

    /// The inverse of [`Location::to_packed`].
    fn from_packed(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != PACKED_LOCATION_LEN {
            return None;
        }
        let mut fields = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        Some(Self {
            line: fields.next()?,
            column: fields.next()?,
            char_offset: fields.next()?,
            byte_offset: fields.next()?,
            byte_len: fields.next()?,
        })
    }
}

/// A location is read from either deserializer that fills [`Spanned`]:
/// serde-saphyr gives its own `Location` as a map, the fast reader gives
/// the packed bytes (no map of strings to match for every value).
impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LocationVisitor;
        impl<'de> Visitor<'de> for LocationVisitor {
            type Value = Location;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a location")
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Location, E> {
                Location::from_packed(bytes).ok_or_else(|| E::custom("a malformed location"))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Location, A::Error> {
                let at = serde_saphyr::Location::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(at.into())
            }
        }
        deserializer.deserialize_struct(LOCATION_STRUCT, LOCATION_FIELDS, LocationVisitor)
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
