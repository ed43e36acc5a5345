//! Parser limits. A real drill is a few hundred lines with a handful of
//! anchors; these bound what a hostile file (an alias bomb, ten thousand
//! nested lists, a stream of documents) can cost before it is refused.
//!
//! Both readers of a drill (serde-saphyr's, and the fast one in `fast.rs`,
//! which gives up before any of these) are held to them.

/// Nesting of mappings and lists, block or flow.
pub(crate) const MAX_DEPTH: usize = 64;
/// Parser events (every scalar, start and end of a collection).
pub(crate) const MAX_EVENTS: usize = 1_000_000;
/// Values (scalars, lists, mappings), aliases replayed included.
pub(crate) const MAX_NODES: usize = 500_000;
/// `*alias` uses and `&anchor` definitions.
pub(crate) const MAX_ALIASES: usize = 10_000;
pub(crate) const MAX_ANCHORS: usize = 10_000;
/// Events replayed by all aliases together, and how deep an alias may
/// refer to another.
pub(crate) const MAX_REPLAYED_EVENTS: usize = 200_000;
/// Events kept to replay anchors, counted once per open anchor.
pub(crate) const MAX_ANCHORED_EVENTS: usize = 20_000;
pub(crate) const MAX_ALIAS_DEPTH: usize = 16;
/// Text of all scalars together: an alias of a long string counts each
/// time it is used.
pub(crate) const MAX_SCALAR_BYTES: usize = 16 * 1024 * 1024;
