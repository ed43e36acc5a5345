//! A fast reader of drills, straight from the YAML parser's events.
//!
//! serde-saphyr reads a drill through many layers (recorded keys, merge
//! queues, budget and anchor bookkeeping, comment plumbing) that an
//! ordinary drill never needs: for a 1000-step drill they cost more than
//! parsing itself. This reader drives the same event parser serde-saphyr
//! uses (granit-parser, which serde-saphyr re-exports: the very version it
//! reads with, and the same options), so every event and every span is the
//! one serde-saphyr sees, and implements serde-saphyr's
//! semantics only for the plain cases it is sure of.
//!
//! It is *conservative*: on anything else (anchors, aliases, tags, merge
//! keys, complex or duplicate keys, a scalar whose type resolution is not
//! obvious, nesting, size or event limits, a parser error, any serde error)
//! it gives up with a [`Bail`], and `parse_str` reads the drill again with
//! serde-saphyr, which stays the single source of truth for results and
//! diagnostics. Whenever this reader succeeds, its drill is the one
//! serde-saphyr returns, locations included (`fast_tests.rs` compares
//! them on every drill of the repository and many variations).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span, StrInput};

use super::limits;
use super::model::Drill;
use super::spanned::{Location, MARKER, SPANNED_NEWTYPE};

/// Why the fast reader gave up. Never carries text from the drill (a
/// value could be a secret): only which construct it did not take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Bail {
    #[error("the parser reported an error")]
    Parser,
    #[error("an anchor, alias or merge key")]
    Anchors,
    #[error("a tag")]
    Tag,
    #[error("a key that is not a plain string")]
    Key,
    #[error("a duplicate key")]
    DuplicateKey,
    #[error("a scalar whose type is not obvious")]
    Scalar,
    #[error("nesting close to the depth limit")]
    Depth,
    #[error("more events, values or text than the fast reader takes")]
    Size,
    #[error("not exactly one document")]
    Documents,
    #[error("an event the fast reader does not expect here")]
    Structure,
    #[error("a shape the fast reader does not read")]
    Unsupported,
    #[error("the model refused a value")]
    Serde,
}

impl de::Error for Bail {
    /// Every error of the model is a bail: serde-saphyr words it, with
    /// its location. The message is dropped (it may quote a secret).
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Bail::Serde
    }
}

/// Reads a drill, or says why not. Never panics and never errors for the
/// user: a bail only means "ask serde-saphyr".
pub(crate) fn parse(text: &str) -> Result<Drill, Bail> {
    let mut events = Events::new(text);
    events.expect_start()?;
    let drill = Drill::deserialize(Reader { ev: &mut events })?;
    events.expect_end()?;
    Ok(drill)
}

/// The parser options serde-saphyr reads drills with (its `Budget`'s
/// `parser_options` for the budget of `parse::options`): the same input is
/// accepted or refused by both readers alike.
fn parser_options() -> serde_saphyr::granit_parser::Options {
    /// serde-saphyr's default `simple_key_max_lookahead`.
    const SIMPLE_KEY_MAX_LOOKAHEAD: usize = 1024;
    let mut options = serde_saphyr::granit_parser::Options::default();
    options.simple_key_max_lookahead = SIMPLE_KEY_MAX_LOOKAHEAD;
    options.flow_nesting_limit = limits::MAX_DEPTH;
    options.block_nesting_limit = options
        .block_nesting_limit
        .max(limits::MAX_DEPTH.saturating_add(1));
    options.set_emit_comments(false);
    options
}

/// The most events and values the fast reader takes: well inside
/// serde-saphyr's limits (`MAX_NODES` values, `MAX_EVENTS` events), so a
/// drill it reads is never one serde-saphyr would refuse for its size.
const MAX_FAST_EVENTS: usize = limits::MAX_NODES / 2;

/// Collections may nest at most this deep here; serde-saphyr refuses
/// beyond `MAX_DEPTH`, and a margin keeps off-by-one questions away.
const MAX_FAST_DEPTH: usize = limits::MAX_DEPTH - 2;

/// A scalar event's parts that the reader needs.
struct Scalar<'a> {
    value: Cow<'a, str>,
    style: ScalarStyle,
}

/// One parser event, already checked for what the reader refuses.
enum Ev<'a> {
    Scalar(Scalar<'a>),
    SeqStart,
    SeqEnd,
    MapStart,
    MapEnd,
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
}

/// The parser's events with one of lookahead, counted against the limits.
struct Events<'a> {
    parser: Parser<'a, StrInput<'a>>,
    peeked: Option<(Ev<'a>, Location)>,
    events: usize,
    depth: usize,
    scalar_bytes: usize,
}

impl<'a> Events<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            parser: Parser::with_options(StrInput::new(text), parser_options()),
            peeked: None,
            events: 0,
            depth: 0,
            scalar_bytes: 0,
        }
    }

    /// The next event, checked and counted.
    fn pull(&mut self) -> Result<(Ev<'a>, Location), Bail> {
        let (event, span) = match self.parser.next() {
            Some(Ok(item)) => item,
            Some(Err(_)) => return Err(Bail::Parser),
            None => return Err(Bail::Structure),
        };
        self.events += 1;
        if self.events > MAX_FAST_EVENTS {
            return Err(Bail::Size);
        }
        let ev = match event {
            Event::Scalar(value, style, anchor, tag) => {
                refuse_properties(anchor, tag.is_some())?;
                self.scalar_bytes = self.scalar_bytes.saturating_add(value.len());
                if self.scalar_bytes > limits::MAX_SCALAR_BYTES / 2 {
                    return Err(Bail::Size);
                }
                Ev::Scalar(Scalar { value, style })
            }
            Event::SequenceStart(_, anchor, tag) => {
                refuse_properties(anchor, tag.is_some())?;
                self.enter()?;
                Ev::SeqStart
            }
            Event::MappingStart(_, anchor, tag) => {
                refuse_properties(anchor, tag.is_some())?;
                self.enter()?;
                Ev::MapStart
            }
            Event::SequenceEnd => {
                self.depth = self.depth.saturating_sub(1);
                Ev::SeqEnd
            }
            Event::MappingEnd => {
                self.depth = self.depth.saturating_sub(1);
                Ev::MapEnd
            }
            Event::Alias(_) => return Err(Bail::Anchors),
            Event::StreamStart => Ev::StreamStart,
            Event::StreamEnd => Ev::StreamEnd,
            Event::DocumentStart(..) => Ev::DocumentStart,
            Event::DocumentEnd => Ev::DocumentEnd,
            // Comments, anchor metadata and whatever a later parser adds.
            #[allow(unreachable_patterns)]
            _ => return Err(Bail::Unsupported),
        };
        Ok((ev, location_of(&span)))
    }

    /// One more level of nesting, refused near the limit.
    fn enter(&mut self) -> Result<(), Bail> {
        self.depth += 1;
        if self.depth > MAX_FAST_DEPTH {
            return Err(Bail::Depth);
        }
        Ok(())
    }

    /// The next event without taking it, and where it is.
    fn peek(&mut self) -> Result<&(Ev<'a>, Location), Bail> {
        if self.peeked.is_none() {
            self.peeked = Some(self.pull()?);
        }
        self.peeked.as_ref().ok_or(Bail::Structure)
    }

    /// Takes the next event.
    fn next(&mut self) -> Result<(Ev<'a>, Location), Bail> {
        match self.peeked.take() {
            Some(item) => Ok(item),
            None => self.pull(),
        }
    }

    /// Where the next event is: what serde-saphyr gives a `Spanned` value
    /// as `referenced` (it peeks the value's first event the same way).
    fn next_location(&mut self) -> Result<Location, Bail> {
        Ok(self.peek()?.1)
    }

    /// The stream and the (only) document open.
    fn expect_start(&mut self) -> Result<(), Bail> {
        match self.next()?.0 {
            Ev::StreamStart => {}
            _ => return Err(Bail::Structure),
        }
        match self.next()?.0 {
            Ev::DocumentStart => Ok(()),
            _ => Err(Bail::Documents),
        }
    }

    /// The document and the stream close, with nothing after them.
    fn expect_end(&mut self) -> Result<(), Bail> {
        match self.next()?.0 {
            Ev::DocumentEnd => {}
            _ => return Err(Bail::Documents),
        }
        match self.next()?.0 {
            Ev::StreamEnd => {}
            _ => return Err(Bail::Documents),
        }
        match self.parser.next() {
            None => Ok(()),
            Some(_) => Err(Bail::Documents),
        }
    }
}

/// Anchors and tags are left to serde-saphyr.
fn refuse_properties(anchor: usize, tagged: bool) -> Result<(), Bail> {
    if anchor != 0 {
        return Err(Bail::Anchors);
    }
    if tagged {
        return Err(Bail::Tag);
    }
    Ok(())
}

/// A parser span as serde-saphyr turns it into a location: 1-based line
/// and column, character offset, and the byte range when both ends know
/// their byte offsets (and it fits in 32 bits).
fn location_of(span: &Span) -> Location {
    let (start, end) = (&span.start, &span.end);
    let bytes = match (start.byte_offset(), end.byte_offset()) {
        (Some(from), Some(to)) => {
            let len = to.saturating_sub(from);
            let fits = |n: usize| u32::try_from(n).is_ok();
            (fits(from) && fits(len)).then_some((from, len))
        }
        _ => None,
    };
    Location::from_parser(start.line(), start.col() + 1, start.index(), bytes)
}

/// What serde-saphyr makes of a plain scalar read without a target type
/// (`deserialize_any`): only the spellings whose reading is certain.
#[derive(Debug, PartialEq)]
enum Plain {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Text,
}

/// Plain scalars serde-saphyr reads as null (its `scalar_is_nullish`).
fn is_nullish(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Spellings that are booleans, or that some YAML reads as booleans or
/// non-finite floats: left to serde-saphyr unless exactly `true`/`false`.
fn is_doubtful_word(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "true", "false", "yes", "no", "y", "n", "on", "off", "inf", "infinity", "nan", ".inf",
        ".nan",
    ];
    text.len() <= 8 && WORDS.iter().any(|w| text.eq_ignore_ascii_case(w))
}

/// `-?(0|[1-9][0-9]*)` with at most 18 digits: an integer every reader
/// agrees on, that fits in 64 bits either way.
fn simple_integer(text: &str) -> Option<(bool, u64)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let ok = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && !(negative && digits == "0");
    if !ok {
        return None;
    }
    digits.parse().ok().map(|n| (negative, n))
}

/// `-?(0|[1-9][0-9]*)\.[0-9]+`, at most 30 characters: a decimal that
/// serde-saphyr reads with Rust's own `f64` parser, as this reader does.
fn simple_decimal(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.')?;
    let ok = text.len() <= 30
        && simple_integer(whole).is_some()
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    text.parse().ok().filter(|v: &f64| v.is_finite())
}

/// Characters serde-saphyr's integer parser accepts in some radix (digits,
/// hex digits, `_`, the `0x`/`0o`/`0b` prefixes and a sign).
fn may_be_in_an_integer(c: char) -> bool {
    c.is_ascii_hexdigit() || matches!(c, '_' | 'x' | 'X' | 'o' | 'O' | 'b' | 'B' | '+' | '-')
}

/// Resolves a plain scalar as serde-saphyr's `deserialize_any` does, or
/// `None` when this reader is not sure (see `is_doubtful_word`; numbers in
/// another radix, with `_`, a `+`, leading zeros, an exponent, `.5`, ...).
fn classify_plain(text: &str) -> Option<Plain> {
    if is_nullish(text) {
        return Some(Plain::Null);
    }
    match text {
        "true" => return Some(Plain::Bool(true)),
        "false" => return Some(Plain::Bool(false)),
        _ => {}
    }
    // serde-saphyr trims spaces, tabs and line breaks before resolving.
    if is_doubtful_word(text) || text.trim_matches([' ', '\t', '\r', '\n']) != text {
        return None;
    }
    let first = text.chars().next()?;
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) {
        return Some(Plain::Text);
    }
    if let Some((negative, n)) = simple_integer(text) {
        return Some(if negative {
            Plain::Signed(-i64::try_from(n).ok()?)
        } else {
            Plain::Unsigned(n)
        });
    }
    if let Some(v) = simple_decimal(text) {
        return Some(Plain::Float(v));
    }
    // Text for sure: no integer in any radix (a character no integer has),
    // no float for Rust's parser (serde-saphyr's), and no `.inf`/`.nan`.
    let unsigned = text.trim_start_matches(['+', '-']);
    let non_finite = unsigned.len() == 4
        && [".inf", ".nan"]
            .iter()
            .any(|w| unsigned.eq_ignore_ascii_case(w));
    let text_for_sure =
        text.parse::<f64>().is_err() && !text.chars().all(may_be_in_an_integer) && !non_finite;
    text_for_sure.then_some(Plain::Text)
}

/// A plain scalar's text that serde-saphyr reads as an integer here, in
/// the simple decimal form only.
fn plain_integer(scalar: &Scalar<'_>) -> Result<(bool, u64), Bail> {
    if scalar.style != ScalarStyle::Plain {
        return Err(Bail::Scalar);
    }
    simple_integer(&scalar.value).ok_or(Bail::Scalar)
}

/// Reads one value from the events.
struct Reader<'p, 'a> {
    ev: &'p mut Events<'a>,
}

impl<'a> Reader<'_, 'a> {
    /// Takes the next event, which must be a scalar.
    fn scalar(&mut self) -> Result<Scalar<'a>, Bail> {
        match self.ev.next()?.0 {
            Ev::Scalar(scalar) => Ok(scalar),
            _ => Err(Bail::Structure),
        }
    }

    /// Whether the next event is a plain null-like scalar.
    fn next_is_null(&mut self) -> Result<bool, Bail> {
        Ok(matches!(
            &self.ev.peek()?.0,
            Ev::Scalar(Scalar { value, style: ScalarStyle::Plain }) if is_nullish(value)
        ))
    }

    /// An unsigned integer of a type whose range is `max`.
    fn unsigned(&mut self, max: u64) -> Result<u64, Bail> {
        let scalar = self.scalar()?;
        match plain_integer(&scalar)? {
            (false, n) if n <= max => Ok(n),
            _ => Err(Bail::Scalar),
        }
    }

    /// A signed integer in `min..=max`.
    fn signed(&mut self, min: i64, max: i64) -> Result<i64, Bail> {
        let scalar = self.scalar()?;
        let (negative, n) = plain_integer(&scalar)?;
        let n = i64::try_from(n).map_err(|_| Bail::Scalar)?;
        let n = if negative { -n } else { n };
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(Bail::Scalar)
        }
    }
}

/// Hands a scalar's text to a visitor, borrowed when the parser borrowed it.
fn visit_text<'de, V: Visitor<'de>>(value: Cow<'de, str>, visitor: V) -> Result<V::Value, Bail> {
    match value {
        Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
        Cow::Owned(text) => visitor.visit_string(text),
    }
}

impl<'de> de::Deserializer<'de> for Reader<'_, 'de> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        match &self.ev.peek()?.0 {
            Ev::SeqStart => return self.deserialize_seq(visitor),
            Ev::MapStart => return self.deserialize_map(visitor),
            Ev::Scalar(_) => {}
            _ => return Err(Bail::Structure),
        }
        let scalar = self.scalar()?;
        if scalar.style != ScalarStyle::Plain {
            return visit_text(scalar.value, visitor);
        }
        match classify_plain(&scalar.value).ok_or(Bail::Scalar)? {
            Plain::Null => visitor.visit_unit(),
            Plain::Bool(b) => visitor.visit_bool(b),
            Plain::Unsigned(n) => visitor.visit_u64(n),
            Plain::Signed(n) => visitor.visit_i64(n),
            Plain::Float(v) => visitor.visit_f64(v),
            Plain::Text => visit_text(scalar.value, visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let scalar = self.scalar()?;
        match (scalar.style, scalar.value.as_ref()) {
            (ScalarStyle::Plain, "true") => visitor.visit_bool(true),
            (ScalarStyle::Plain, "false") => visitor.visit_bool(false),
            _ => Err(Bail::Scalar),
        }
    }

    fn deserialize_u8<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let n = self.unsigned(u64::from(u8::MAX))?;
        visitor.visit_u8(u8::try_from(n).map_err(|_| Bail::Scalar)?)
    }

    fn deserialize_u16<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let n = self.unsigned(u64::from(u16::MAX))?;
        visitor.visit_u16(u16::try_from(n).map_err(|_| Bail::Scalar)?)
    }

    fn deserialize_u32<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let n = self.unsigned(u64::from(u32::MAX))?;
        visitor.visit_u32(u32::try_from(n).map_err(|_| Bail::Scalar)?)
    }

    fn deserialize_u64<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_u64(self.unsigned(u64::MAX)?)
    }

    fn deserialize_i8<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let n = self.signed(i64::from(i8::MIN), i64::from(i8::MAX))?;
        visitor.visit_i8(i8::try_from(n).map_err(|_| Bail::Scalar)?)
    }

    fn deserialize_i16<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let n = self.signed(i64::from(i16::MIN), i64::from(i16::MAX))?;
        visitor.visit_i16(i16::try_from(n).map_err(|_| Bail::Scalar)?)
    }

    fn deserialize_i32<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let n = self.signed(i64::from(i32::MIN), i64::from(i32::MAX))?;
        visitor.visit_i32(i32::try_from(n).map_err(|_| Bail::Scalar)?)
    }

    fn deserialize_i64<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_i64(self.signed(i64::MIN, i64::MAX)?)
    }

    /// A float target: plain integers and simple decimals, read by Rust's
    /// parser as serde-saphyr does; exponents and `.inf` are left to it.
    fn deserialize_f64<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let scalar = self.scalar()?;
        if scalar.style != ScalarStyle::Plain {
            return Err(Bail::Scalar);
        }
        let text = scalar.value.as_ref();
        let value = match simple_integer(text) {
            Some(_) => text.parse::<f64>().ok(),
            None => simple_decimal(text),
        };
        visitor.visit_f64(value.ok_or(Bail::Scalar)?)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    /// A string target: any scalar but a plain null-like one (serde-saphyr
    /// refuses those, with its own message).
    fn deserialize_str<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        let scalar = self.scalar()?;
        if scalar.style == ScalarStyle::Plain && is_nullish(&scalar.value) {
            return Err(Bail::Scalar);
        }
        visit_text(scalar.value, visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        self.deserialize_str(visitor)
    }

    /// `None` for a plain null-like scalar, as in serde-saphyr; a value
    /// otherwise (a mapping's value is never missing: the parser gives an
    /// empty value as a plain `~`).
    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        if self.next_is_null()? {
            self.ev.next()?;
            return visitor.visit_none();
        }
        match &self.ev.peek()?.0 {
            Ev::Scalar(_) | Ev::SeqStart | Ev::MapStart => visitor.visit_some(self),
            _ => Err(Bail::Structure),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Bail> {
        if self.next_is_null()? {
            self.ev.next()?;
            return visitor.visit_unit();
        }
        Err(Bail::Unsupported)
    }

    /// `Spanned<T>` asks for serde-saphyr's located view by name; other
    /// newtypes are transparent. serde-saphyr's other private wrappers
    /// (`__yaml_*`) are not read here.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Bail> {
        if name == SPANNED_NEWTYPE {
            let referenced = self.ev.next_location()?;
            return visitor.visit_newtype_struct(SpannedView {
                ev: self.ev,
                referenced,
                state: 0,
            });
        }
        if name.starts_with("__yaml_") {
            return Err(Bail::Unsupported);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        match self.ev.next()?.0 {
            Ev::SeqStart => {}
            _ => return Err(Bail::Structure),
        }
        let mut access = Seq {
            ev: self.ev,
            done: false,
        };
        let value = visitor.visit_seq(&mut access)?;
        // A visitor that stopped early leaves events serde-saphyr would
        // have judged: leave them to it.
        if !access.done {
            return Err(Bail::Unsupported);
        }
        Ok(value)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        match self.ev.next()?.0 {
            Ev::MapStart => {}
            _ => return Err(Bail::Structure),
        }
        let mut access = Map {
            ev: self.ev,
            keys: Keys::default(),
            done: false,
        };
        let value = visitor.visit_map(&mut access)?;
        if !access.done {
            return Err(Bail::Unsupported);
        }
        Ok(value)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Bail> {
        self.deserialize_map(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _visitor: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    fn deserialize_char<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Bail> {
        Err(Bail::Unsupported)
    }
}

/// The elements of a sequence.
struct Seq<'p, 'a> {
    ev: &'p mut Events<'a>,
    done: bool,
}

impl<'de> SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        if self.done {
            return Ok(None);
        }
        if matches!(self.ev.peek()?.0, Ev::SeqEnd) {
            self.ev.next()?;
            self.done = true;
            return Ok(None);
        }
        seed.deserialize(Reader { ev: self.ev }).map(Some)
    }
}

/// The keys seen in one mapping, to find duplicates. Few keys are
/// compared in a list; many go into a set.
#[derive(Default)]
struct Keys<'a> {
    few: Vec<Cow<'a, str>>,
    many: std::collections::HashSet<Cow<'a, str>>,
}

impl<'a> Keys<'a> {
    /// Keeps `key`; false when it was seen already.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        const FEW: usize = 16;
        if self.many.is_empty() {
            if self.few.contains(&key) {
                return false;
            }
            if self.few.len() < FEW {
                self.few.push(key);
                return true;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(key)
    }
}

/// Whether serde-saphyr could read a plain key as something other than
/// its text: an integer (whose duplicates are found by value: `1` and
/// `0x1`), null, or the merge key `<<`.
fn key_is_doubtful(scalar: &Scalar<'_>) -> bool {
    let text = scalar.value.as_ref();
    if text == "<<" {
        return true;
    }
    if scalar.style != ScalarStyle::Plain {
        return false;
    }
    let integer_like = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '+' || c == '-')
        && text.chars().all(may_be_in_an_integer);
    is_nullish(text) || integer_like
}

/// The entries of a mapping.
struct Map<'p, 'a> {
    ev: &'p mut Events<'a>,
    keys: Keys<'a>,
    done: bool,
}

impl<'de> MapAccess<'de> for Map<'_, 'de> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        if self.done {
            return Ok(None);
        }
        let scalar = match self.ev.next()?.0 {
            Ev::MapEnd => {
                self.done = true;
                return Ok(None);
            }
            Ev::Scalar(scalar) => scalar,
            _ => return Err(Bail::Key),
        };
        if key_is_doubtful(&scalar) {
            return Err(Bail::Key);
        }
        if !self.keys.insert(scalar.value.clone()) {
            return Err(Bail::DuplicateKey);
        }
        seed.deserialize(KeyReader(scalar.value)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Bail> {
        seed.deserialize(Reader { ev: self.ev })
    }
}

/// A mapping key, read as a string only (struct fields, `String` keys,
/// `serde_json` object keys); anything that resolves key types bails.
struct KeyReader<'de>(Cow<'de, str>);

impl<'de> de::Deserializer<'de> for KeyReader<'de> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Bail> {
        Err(Bail::Key)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visit_text(self.0, visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visit_text(self.0, visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visit_text(self.0, visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum ignored_any
    }
}

/// serde-saphyr's located view of a value, `{marker, value, referenced}`,
/// as `Spanned` reads it; `referenced` in the packed form `Location` reads.
struct SpannedView<'p, 'a> {
    ev: &'p mut Events<'a>,
    referenced: Location,
    state: u8,
}

impl<'de> de::Deserializer<'de> for SpannedView<'_, 'de> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_map(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for SpannedView<'_, 'de> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        let key = match self.state {
            0 => MARKER,
            1 => "value",
            2 => "referenced",
            _ => return Ok(None),
        };
        self.state += 1;
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Bail> {
        match self.state {
            1 => seed.deserialize(true.into_deserializer()),
            2 => seed.deserialize(Reader { ev: self.ev }),
            3 => seed.deserialize(PackedLocation(self.referenced)),
            _ => Err(Bail::Structure),
        }
    }
}

/// A location handed to `Location`'s `Deserialize` as packed bytes.
struct PackedLocation(Location);

impl<'de> de::Deserializer<'de> for PackedLocation {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_bytes(&self.0.to_packed())
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_only_when_certain() {
        assert_eq!(classify_plain("~"), Some(Plain::Null));
        assert_eq!(classify_plain(""), Some(Plain::Null));
        assert_eq!(classify_plain("true"), Some(Plain::Bool(true)));
        assert_eq!(classify_plain("200"), Some(Plain::Unsigned(200)));
        assert_eq!(classify_plain("-3"), Some(Plain::Signed(-3)));
        assert_eq!(classify_plain("0.25"), Some(Plain::Float(0.25)));
        for text in [
            "30s", "500ms", "1h 30m", "10MiB", "1.5MB", "t-123", "./x", "a b",
        ] {
            assert_eq!(classify_plain(text), Some(Plain::Text), "{text}");
        }
        for doubtful in [
            "yes",
            "No",
            "on",
            "OFF",
            "True",
            "y",
            "0x1f",
            "0o7",
            "1_000",
            ".inf",
            "-.inf",
            ".nan",
            "+1",
            "007",
            "1e3",
            ".5",
            "-0",
            "5.",
            "inf",
            "NaN",
            "0b1",
            "12345678901234567890",
        ] {
            assert_eq!(classify_plain(doubtful), None, "{doubtful}");
        }
    }

    #[test]
    fn a_plain_drill_is_read() {
        let drill = parse("drill: x\nsteps:\n  - sleep: 1s\n").unwrap();
        assert_eq!(drill.drill.value, "x");
    }

    #[test]
    fn anchors_tags_and_duplicates_bail() {
        let bail = |text: &str| parse(text).unwrap_err();
        assert_eq!(bail("drill: &a x\nsteps: []\n"), Bail::Anchors);
        assert_eq!(bail("drill: !!str x\nsteps: []\n"), Bail::Tag);
        assert_eq!(bail("drill: x\ndrill: y\nsteps: []\n"), Bail::DuplicateKey);
        assert_eq!(
            bail("drill: x\nsteps: []\n---\ndrill: y\n"),
            Bail::Documents
        );
        assert_eq!(bail("drill: x\n1: y\nsteps: []\n"), Bail::Key);
    }
}
