//! Reading a drill file (YAML, or JSON, which is YAML too) into the model,
//! turning every parser error into a located diagnostic.

use std::path::Path;
use std::sync::Arc;

use super::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use super::limits;
use super::model::Drill;

/// Drill files larger than this are refused before parsing: no real drill
/// comes close, and it bounds the memory a hostile file can take.
pub(crate) const MAX_DRILL_BYTES: u64 = 4 * 1024 * 1024;

/// The serde-saphyr options every drill is read with: explicit limits,
/// duplicate keys are errors, unknown `!tags` are errors.
pub(crate) fn options() -> serde_saphyr::Options {
    use limits::{
        MAX_ALIAS_DEPTH, MAX_ALIASES, MAX_ANCHORED_EVENTS, MAX_ANCHORS, MAX_DEPTH, MAX_EVENTS,
        MAX_NODES, MAX_REPLAYED_EVENTS, MAX_SCALAR_BYTES,
    };
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            flow_nesting_limit: MAX_DEPTH,
            max_events: MAX_EVENTS,
            max_nodes: MAX_NODES,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ANCHORS,
            max_recorded_anchor_events: MAX_ANCHORED_EVENTS,
            max_recorded_anchor_bytes: MAX_SCALAR_BYTES,
            max_total_scalar_bytes: MAX_SCALAR_BYTES,
            max_documents: 2,
            max_merge_keys: MAX_ALIASES,
            max_inclusion_depth: 0,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
            max_replay_stack_depth: MAX_ALIAS_DEPTH,
            max_alias_expansions_per_anchor: MAX_ALIASES,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        reject_unsupported_tags: true,
        with_snippet: false,
    }
}

/// Reads and parses a drill file.
pub(crate) fn read(path: &Path) -> Result<(Drill, Arc<str>), Diagnostics> {
    let fail =
        |source: &str, item: Diagnostic| Diagnostics::new(path, Arc::from(source), vec![item]);
    let cannot_read = |err: std::io::Error| {
        fail(
            "",
            Diagnostic::whole_file(format!("cannot read the drill: {err}")),
        )
    };
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    // Read one byte past the cap, never more: a file that grows while it is
    // read, or a FIFO, is bounded too.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_DRILL_BYTES + 1),
        &mut bytes,
    )
    .map_err(cannot_read)?;
    parse_bytes(path, bytes)
}

/// Parses the bytes of a drill file named `path`: the size cap, UTF-8,
/// then YAML. Every problem is located.
pub(crate) fn parse_bytes(path: &Path, bytes: Vec<u8>) -> Result<(Drill, Arc<str>), Diagnostics> {
    let fail =
        |source: &str, item: Diagnostic| Diagnostics::new(path, Arc::from(source), vec![item]);
    if bytes.len() as u64 > MAX_DRILL_BYTES {
        // Point at where the cap falls, in the part that was read.
        let mut cut = MAX_DRILL_BYTES as usize;
        let valid = match std::str::from_utf8(&bytes[..cut]) {
            Ok(text) => text,
            Err(err) => {
                cut = err.valid_up_to();
                std::str::from_utf8(&bytes[..cut]).unwrap_or_default()
            }
        };
        return Err(fail(
            valid,
            Diagnostic::at_offset(
                valid,
                cut,
                format!(
                    "the drill is larger than {} bytes ({} MiB), the most firedrill reads",
                    MAX_DRILL_BYTES,
                    MAX_DRILL_BYTES / (1024 * 1024)
                ),
            )
            .with_help("no drill needs that much: move data into files the steps read"),
        ));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid_up_to = err.utf8_error().valid_up_to();
            let bad = err.as_bytes().get(valid_up_to).copied().unwrap_or_default();
            // Show the text up to the bad byte, and the rest of its line
            // with replacement characters.
            let lossy = String::from_utf8_lossy(err.as_bytes()).into_owned();
            return Err(fail(
                &lossy,
                Diagnostic::at_offset(
                    &lossy,
                    valid_up_to,
                    format!("the file is not valid UTF-8: byte 0x{bad:02x} cannot start or continue a character here"),
                )
                .with_help("save the drill as UTF-8"),
            ));
        }
    };
    let source: Arc<str> = Arc::from(text);
    match parse_str(&source) {
        Ok(drill) => Ok((drill, source)),
        Err(item) => Err(Diagnostics::new(path, source, vec![item])),
    }
}

/// Parses drill text; the error is located in `text`.
pub(crate) fn parse_str(text: &str) -> Result<Drill, Diagnostic> {
    if text.len() as u64 > MAX_DRILL_BYTES {
        return Err(Diagnostic::at_offset(
            text,
            MAX_DRILL_BYTES as usize,
            format!("the drill is larger than {MAX_DRILL_BYTES} bytes, the most firedrill reads"),
        ));
    }
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(
            Diagnostic::at_offset(text, text.len(), "the drill file is empty")
                .with_help("a drill needs at least `drill: NAME` and `steps:`"),
        );
    }
    match super::fast::parse(text) {
        Ok(drill) => return Ok(drill),
        Err(why) => {
            tracing::debug!(%why, "the fast drill reader gave up; reading with serde-saphyr");
        }
    }
    serde_saphyr::from_str_with_options::<Drill>(text, options()).map_err(|err| diagnostic_of(&err))
}

/// Reads drill text with serde-saphyr only: the reference the fast reader
/// is compared with.
#[cfg(test)]
pub(crate) fn parse_str_slow(text: &str) -> Result<Drill, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options::<Drill>(text, options())
}

/// The error itself, without the wrappers that add a snippet or the place
/// an alias was defined.
fn innermost(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    loop {
        match err {
            serde_saphyr::Error::WithSnippet { error, .. } => err = error,
            serde_saphyr::Error::AliasError { error, .. } => err = error,
            other => return other,
        }
    }
}

/// Parses any YAML or JSON document (an answers file, say) with located
/// errors, like a drill.
pub(crate) fn parse_any<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options::<T>(text, options()).map_err(|err| diagnostic_of(&err))
}

fn diagnostic_of(err: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    const ALIASES: &str =
        "anchors and aliases are for sharing a few values: write this part out, or simplify it";
    let message = strip_location(&err.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off
    }));
    let mut diagnostic = match err.location() {
        Some(at) => Diagnostic::new(at.into(), message),
        None => Diagnostic::whole_file(message),
    };
    let too_complex = |(what, help): (String, &str)| {
        (
            format!("the drill is too large or too complex to read: {what}"),
            help.to_string(),
        )
    };
    let (message, help) = match innermost(err) {
        E::SerdeUnknownField {
            field, expected, ..
        } => {
            let list = expected.join(", ");
            (
                format!("unknown field `{field}`"),
                match did_you_mean(field, expected) {
                    Some(meant) => format!("did you mean `{meant}`? (expected one of: {list})"),
                    None => format!("expected one of: {list}"),
                },
            )
        }
        E::DuplicateMappingKey { key, .. } => (
            match key {
                Some(key) => format!("duplicate key `{}`", clip(key, 80)),
                None => "duplicate key".to_string(),
            },
            "a key may appear once in a mapping: remove or rename one of them".to_string(),
        ),
        E::MultipleDocuments { .. } => (
            "a second YAML document: a drill file holds exactly one".to_string(),
            "remove the `---` line, or split the drills into separate files".to_string(),
        ),
        E::Eof { .. } => (
            "the drill ends too early".to_string(),
            "a drill needs at least `drill: NAME` and `steps:`".to_string(),
        ),
        E::InvalidScalar { ty, .. } => match number_range(ty) {
            Some(range) => (
                format!("expected a whole number from {range}"),
                "write the number without a sign, fraction or exponent, in that range".to_string(),
            ),
            None => return diagnostic,
        },
        E::NullIntoString { .. } => (
            "a value is needed here, not null".to_string(),
            "write a value, or remove the key".to_string(),
        ),
        E::Budget { breach, .. } => too_complex(describe_breach(breach)),
        E::AliasReplayLimitExceeded { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasExpansionLimitExceeded { .. } => too_complex((
            format!(
                "its aliases expand to more than {} values",
                limits::MAX_REPLAYED_EVENTS
            ),
            ALIASES,
        )),
        E::AliasReplayStackDepthExceeded { .. } => too_complex((
            format!(
                "aliases refer to aliases more than {} deep",
                limits::MAX_ALIAS_DEPTH
            ),
            ALIASES,
        )),
        _ => return diagnostic,
    };
    diagnostic.message = message;
    diagnostic.help = Some(help);
    diagnostic
}

/// The range of an unsigned integer type, for messages.
fn number_range(ty: &str) -> Option<String> {
    let max = match ty {
        "u8" => u64::from(u8::MAX),
        "u16" => u64::from(u16::MAX),
        "u32" => u64::from(u32::MAX),
        "u64" => u64::MAX,
        _ => return None,
    };
    Some(format!("0 to {max}"))
}

/// What limit a file went over, and what to do about it.
fn describe_breach(breach: &serde_saphyr::budget::BudgetBreach) -> (String, &'static str) {
    use limits::{MAX_ALIASES, MAX_ANCHORS, MAX_DEPTH, MAX_EVENTS, MAX_NODES, MAX_SCALAR_BYTES};
    use serde_saphyr::budget::BudgetBreach as B;
    const ALIASES: &str =
        "anchors and aliases are for sharing a few values: write this part out, or simplify it";
    const SPLIT: &str = "split it into several drills, or move data into files the steps read";
    match breach {
        B::Depth { .. } => (
            format!("it nests deeper than {MAX_DEPTH} levels"),
            "flatten the nesting: no drill needs it this deep",
        ),
        B::Nodes { .. } => (
            format!("it holds more than {MAX_NODES} values (aliases expanded)"),
            SPLIT,
        ),
        B::Events { .. } => (
            format!("it holds more than {MAX_EVENTS} YAML events"),
            SPLIT,
        ),
        B::ScalarBytes { .. } => (
            format!("its text adds up to more than {MAX_SCALAR_BYTES} bytes (aliases expanded)"),
            SPLIT,
        ),
        B::Aliases { .. } => (format!("it uses more than {MAX_ALIASES} aliases"), ALIASES),
        B::Anchors { .. } => (
            format!("it defines more than {MAX_ANCHORS} anchors"),
            ALIASES,
        ),
        B::MergeKeys { .. } => (
            format!("it uses more than {MAX_ALIASES} merge keys (`<<`)"),
            ALIASES,
        ),
        B::AliasAnchorRatio { .. } => ("it uses far more aliases than anchors".into(), ALIASES),
        B::RecordedAnchorEvents { .. } | B::RecordedAnchorBytes { .. } => {
            ("its anchors and aliases expand to too much".into(), ALIASES)
        }
        B::Documents { .. } => (
            "it holds more than one YAML document".into(),
            "remove the `---` line, or split the drills into separate files",
        ),
        other => (format!("{other:?}"), SPLIT),
    }
}

/// At most `max` characters of `text`.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// serde-saphyr ends its messages with " at line N, column M"; the
/// diagnostic says where already.
fn strip_location(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    match first.rfind(" at line ") {
        Some(pos) => first[..pos].to_string(),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_located_with_a_suggestion() {
        let err = parse_str("drill: x\nsteps:\n  - name: a\n    htp: {}\n").unwrap_err();
        let at = err.at.unwrap();
        assert_eq!((at.line(), at.column()), (4, 5));
        assert_eq!(err.message, "unknown field `htp`");
        assert!(err.help.unwrap().starts_with("did you mean `http`?"));
    }

    #[test]
    fn bad_duration_points_at_the_value() {
        let err = parse_str("drill: x\nsteps:\n  - sleep: 5 parsecs\n").unwrap_err();
        let at = err.at.unwrap();
        assert_eq!((at.line(), at.column()), (3, 12));
        assert!(
            err.message.contains("invalid duration `5 parsecs`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let err = parse_str("drill: x\nsteps:\n  - sleep: 1ms\ndrill: y\n").unwrap_err();
        let at = err.at.unwrap();
        assert_eq!((at.line(), at.column()), (4, 1));
        assert_eq!(err.message, "duplicate key `drill`");
    }

    #[test]
    fn alias_bombs_stop_at_the_limits() {
        let mut text = String::from("drill: x\nvars:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (name, previous) in ["b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g"])
        {
            text.push_str(&format!(
                "  {name}: &{name} [{}]\n",
                vec![format!("*{previous}"); 10].join(", ")
            ));
        }
        text.push_str("steps:\n  - sleep: 1ms\n");
        let started = std::time::Instant::now();
        let err = parse_str(&text).unwrap_err();
        assert!(
            err.message.contains("too large or too complex"),
            "{}",
            err.message
        );
        assert!(err.at.is_some());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn a_second_document_and_an_empty_file_are_errors() {
        let err = parse_str("drill: x\nsteps:\n  - sleep: 1ms\n---\ndrill: y\n").unwrap_err();
        assert!(
            err.message.contains("a second YAML document"),
            "{}",
            err.message
        );
        assert_eq!(
            parse_str("  \n# only a comment\n").unwrap_err().message,
            "the drill file is empty"
        );
    }

    #[test]
    fn too_deep_nesting_is_an_error() {
        let text = format!(
            "drill: x\nvars:\n  v: {}{}\nsteps:\n  - sleep: 1ms\n",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(parse_str(&text).is_err());
        let text = format!(
            "drill: x\nvars:\n  v: {}{}\nsteps:\n  - sleep: 1ms\n",
            "[".repeat(20),
            "]".repeat(20)
        );
        assert!(parse_str(&text).is_ok());
    }
}
