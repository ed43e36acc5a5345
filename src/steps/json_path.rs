//! `JSONPaths`: compiled once per distinct text, and bounded so that a
//! hostile path cannot overflow the stack. Used by the HTTP kind and by the
//! checks of `expect.json` and captures.

use std::sync::Arc;

use serde_json_path::JsonPath;

use super::attempt::excerpt;

/// Why a `JSONPath` cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsonPathError {
    /// Nested past what the parser's recursion survives; an excerpt.
    #[error(
        "invalid JSONPath `{0}`: it nests brackets and parentheses deeper than {MAX_PATH_NESTING} levels"
    )]
    TooDeep(String),
    #[error("invalid JSONPath `{path}`: {reason}")]
    Invalid { path: String, reason: String },
}

/// Compiles a `JSONPath` once per distinct text: a drill runs the same paths
/// many times, and parsing one costs more than the query.
pub(crate) fn compile_path(path: &str) -> Result<Arc<JsonPath>, JsonPathError> {
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, Arc<JsonPath>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(found) = COMPILED.with(|cache| cache.borrow().get(path).cloned()) {
        return Ok(found);
    }
    // serde_json_path parses nested brackets and parentheses by recursion:
    // a few thousand levels overflow the stack, which aborts the process.
    if nesting(path) > MAX_PATH_NESTING {
        return Err(JsonPathError::TooDeep(excerpt(path, 30)));
    }
    let compiled = Arc::new(JsonPath::parse(path).map_err(|err| JsonPathError::Invalid {
        path: path.to_string(),
        reason: err.to_string(),
    })?);
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        // Bounded: at most 10 000 paths of at most 4 KiB each.
        if cache.len() < 10_000 && path.len() <= 4096 {
            cache.insert(path.to_string(), compiled.clone());
        }
    });
    Ok(compiled)
}

/// How deeply a `JSONPath` may nest `[…]` and `(…)`.
pub(crate) const MAX_PATH_NESTING: usize = 32;

/// The deepest nesting of brackets and parentheses in a `JSONPath`, outside
/// its quoted strings.
fn nesting(path: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ']' | ')') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by a hand-made probe: `serde_json_path` parses nesting by recursion,
    /// and a few thousand levels overflowed the stack (an abort, not an
    /// error). Deep nesting is refused before parsing.
    #[test]
    fn deeply_nested_json_paths_are_refused_not_a_stack_overflow() {
        for path in [
            format!("$[?{}@.a{}]", "(".repeat(5000), ")".repeat(5000)),
            format!("$[?{}]{}", "@[?".repeat(3000), "]".repeat(3000)),
        ] {
            let err = compile_path(&path).unwrap_err();
            assert!(err.to_string().contains("deeper than 32 levels"), "{err}");
        }
        // Brackets inside quoted names do not count; 32 levels still parse.
        assert!(compile_path("$['[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[']").is_ok());
        let deep = format!("$[?{}@.a{}]", "(".repeat(31), ")".repeat(31));
        assert!(compile_path(&deep).is_ok(), "{deep}");
    }
}
