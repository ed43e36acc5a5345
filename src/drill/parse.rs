//! Reading a drill file (YAML, or JSON, which is YAML too) into the model,
//! turning every parser error into a located diagnostic.

use std::path::Path;
use std::sync::Arc;

use super::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use super::model::Drill;

/// Drill files larger than this are refused before parsing: no real drill
/// comes close, and it bounds the memory a hostile file can take.
pub const MAX_DRILL_BYTES: u64 = 4 * 1024 * 1024;

/// Reads and parses a drill file.
pub fn read(path: &Path) -> Result<(Drill, Arc<str>), Diagnostics> {
    let fail =
        |source: &str, item: Diagnostic| Diagnostics::new(path, Arc::from(source), vec![item]);
    let metadata = std::fs::metadata(path).map_err(|err| {
        fail(
            "",
            Diagnostic::whole_file(format!("cannot read the drill: {err}")),
        )
    })?;
    if metadata.len() > MAX_DRILL_BYTES {
        return Err(fail(
            "",
            Diagnostic::whole_file(format!(
                "the drill is {} bytes; drills larger than {} bytes are refused",
                metadata.len(),
                MAX_DRILL_BYTES
            )),
        ));
    }
    let bytes = std::fs::read(path).map_err(|err| {
        fail(
            "",
            Diagnostic::whole_file(format!("cannot read the drill: {err}")),
        )
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let lossy = String::from_utf8_lossy(err.as_bytes()).into_owned();
            return Err(fail(
                &lossy,
                Diagnostic::whole_file(format!(
                    "line {line}, column {column}: the file is not valid UTF-8"
                ))
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
pub fn parse_str(text: &str) -> Result<Drill, Diagnostic> {
    serde_saphyr::from_str::<Drill>(text).map_err(|err| diagnostic_of(&err))
}

/// Parses any YAML or JSON document (an answers file, say) with located
/// errors, like a drill.
pub fn parse_any<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str::<T>(text).map_err(|err| diagnostic_of(&err))
}

fn diagnostic_of(err: &serde_saphyr::Error) -> Diagnostic {
    let message = strip_location(&err.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off
    }));
    let mut diagnostic = match err.location() {
        Some(at) => Diagnostic::new(at, message),
        None => Diagnostic::whole_file(message),
    };
    if let serde_saphyr::Error::SerdeUnknownField {
        field, expected, ..
    } = err.without_snippet()
    {
        diagnostic.message = format!("unknown field `{field}`");
        let list = expected.join(", ");
        diagnostic.help = Some(match did_you_mean(field, expected) {
            Some(meant) => format!("did you mean `{meant}`? (expected one of: {list})"),
            None => format!("expected one of: {list}"),
        });
    }
    diagnostic
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
}
