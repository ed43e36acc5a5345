//! Comparing an actual value with what a drill expects: a literal value or
//! a matcher such as `{ contains: … }`, `{ matches: regex }`, `{ lt: n }`.

use serde_json::Value;

/// The matchers `expect.json` and `expect.headers` understand.
pub(crate) const MATCHERS: &[&str] = &[
    "exists", "contains", "matches", "lt", "le", "gt", "ge", "eq", "ne", "length", "one_of",
];

/// The JSON Schema of an expected value (`expect.json`, `expect.headers`):
/// any value, compared literally, but a map whose one key names a matcher
/// must give that matcher the argument it takes (what `firedrill check`
/// says of each).
pub(crate) fn expected_value_schema() -> Value {
    let number = serde_json::json!({ "anyOf": [
        { "type": "number" },
        { "type": "string", "pattern": "\\$\\{" },
    ]});
    let branches: Vec<Value> = MATCHERS
        .iter()
        .map(|&matcher| {
            let arg = match matcher {
                "exists" => serde_json::json!({ "type": "boolean" }),
                "matches" => serde_json::json!({ "type": "string" }),
                "lt" | "le" | "gt" | "ge" | "length" => number.clone(),
                "one_of" => serde_json::json!({ "type": "array" }),
                _ => serde_json::json!(true),
            };
            serde_json::json!({
                "title": matcher,
                "required": [matcher],
                "properties": { matcher: arg },
            })
        })
        .collect();
    serde_json::json!({
        "description": "A value compared literally, or a matcher: `{ exists: true|false }`, `{ contains: … }` (substring, list element or object key), `{ matches: regex }`, `{ lt | le | gt | ge: n }`, `{ eq: … }`, `{ ne: … }`, `{ length: n }`, `{ one_of: [...] }`.",
        "if": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": { "enum": MATCHERS },
        },
        "then": { "anyOf": branches },
    })
}

/// A pattern (`matches`, `stdout_matches`, `stdout_regex`) that is not a
/// regular expression; found when the step is resolved or checked.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid regular expression `{pattern}`: {source}")]
pub(crate) struct InvalidRegex {
    pattern: String,
    source: regex::Error,
}

/// Compiles a pattern a drill wrote.
pub(crate) fn compile(pattern: &str) -> Result<regex::Regex, InvalidRegex> {
    regex::Regex::new(pattern).map_err(|source| InvalidRegex {
        pattern: pattern.to_string(),
        source,
    })
}

/// Why a value does not meet what the drill expects of it. The values in
/// the words are shown as JSON, cut short ([`show`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Mismatch {
    /// A value was there, but not the one (or the kind) expected.
    #[error("expected {expected}, got {got}")]
    Got { expected: String, got: String },
    /// Something was expected, and nothing was found.
    #[error("expected {expected}, found nothing")]
    Nothing { expected: String },
    /// `length`: the value was there, its length was not the one expected.
    #[error("expected length {want}, got length {len}: {got}")]
    Length {
        want: usize,
        len: usize,
        got: String,
    },
    /// `matches` with a pattern that is not a regular expression.
    #[error(transparent)]
    Regex(#[from] InvalidRegex),
    /// A matcher this version does not know (the checks refuse these, so
    /// only an unchecked drill gets here).
    #[error("unknown matcher `{0}`")]
    Unknown(String),
}

/// Checks `actual` (`None`: nothing was found) against `expected`. The
/// error says what was expected and what was there.
pub(crate) fn check(actual: Option<&Value>, expected: &Value) -> Result<(), Mismatch> {
    if let Some((matcher, arg)) = as_matcher(expected) {
        return check_matcher(actual, matcher, arg);
    }
    match actual {
        Some(actual) if equal(actual, expected) => Ok(()),
        Some(actual) => Err(Mismatch::Got {
            expected: show(expected),
            got: show(actual),
        }),
        None => Err(Mismatch::Nothing {
            expected: show(expected),
        }),
    }
}

/// A map with exactly one key that names a matcher is a matcher; any other
/// value is compared literally.
fn as_matcher(expected: &Value) -> Option<(&str, &Value)> {
    let Value::Object(map) = expected else {
        return None;
    };
    if map.len() != 1 {
        return None;
    }
    let (key, arg) = map.iter().next()?;
    MATCHERS
        .contains(&key.as_str())
        .then_some((key.as_str(), arg))
}

// One arm per matcher: the function reads as the table of matchers.
#[allow(clippy::too_many_lines)]
fn check_matcher(actual: Option<&Value>, matcher: &str, arg: &Value) -> Result<(), Mismatch> {
    if matcher == "exists" {
        let want = arg.as_bool().unwrap_or(true);
        return match (want, actual) {
            (true, Some(_)) | (false, None) => Ok(()),
            (true, None) => Err(Mismatch::Nothing {
                expected: "it to exist".into(),
            }),
            (false, Some(v)) => Err(Mismatch::Got {
                expected: "nothing".into(),
                got: show(v),
            }),
        };
    }
    let Some(actual) = actual else {
        return Err(Mismatch::Nothing {
            expected: format!("{matcher} {}", show(arg)),
        });
    };
    let fail = |expected: String| {
        Err(Mismatch::Got {
            expected,
            got: show(actual),
        })
    };
    match matcher {
        "eq" => {
            if equal(actual, arg) {
                Ok(())
            } else {
                fail(show(arg))
            }
        }
        "ne" => {
            if equal(actual, arg) {
                fail(format!("anything but {}", show(arg)))
            } else {
                Ok(())
            }
        }
        "contains" => {
            let found = match (actual, arg) {
                (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
                (Value::Array(items), wanted) => items.iter().any(|item| equal(item, wanted)),
                (Value::Object(map), Value::String(key)) => map.contains_key(key),
                _ => false,
            };
            if found {
                Ok(())
            } else {
                fail(format!("something containing {}", show(arg)))
            }
        }
        "matches" => {
            let pattern = arg.as_str().unwrap_or_default();
            let regex = compile(pattern)?;
            let text = match actual {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if regex.is_match(&text) {
                Ok(())
            } else {
                fail(format!("a match for /{pattern}/"))
            }
        }
        "lt" | "le" | "gt" | "ge" => {
            let (Some(a), Some(b)) = (number(actual), number(arg)) else {
                return fail(format!("a number {matcher} {}", show(arg)));
            };
            let ok = match matcher {
                "lt" => a < b,
                "le" => a <= b,
                "gt" => a > b,
                _ => a >= b,
            };
            let symbol = match matcher {
                "lt" => "<",
                "le" => "<=",
                "gt" => ">",
                _ => ">=",
            };
            if ok {
                Ok(())
            } else {
                fail(format!("a number {symbol} {}", show(arg)))
            }
        }
        "length" => {
            let length = match actual {
                Value::String(s) => Some(s.chars().count()),
                Value::Array(items) => Some(items.len()),
                Value::Object(map) => Some(map.len()),
                _ => None,
            };
            let want = number(arg).map(|n| n as usize);
            match (length, want) {
                (Some(len), Some(want)) if len == want => Ok(()),
                (Some(len), Some(want)) => Err(Mismatch::Length {
                    want,
                    len,
                    got: show(actual),
                }),
                _ => fail(format!("something of length {}", show(arg))),
            }
        }
        "one_of" => {
            let options = arg.as_array().cloned().unwrap_or_default();
            if options.iter().any(|option| equal(actual, option)) {
                Ok(())
            } else {
                fail(format!("one of {}", show(arg)))
            }
        }
        other => Err(Mismatch::Unknown(other.to_string())),
    }
}

/// Equality where `1` and `1.0` are the same number.
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A value as shown in messages: JSON, cut short.
pub(crate) fn show(value: &Value) -> String {
    super::excerpt(&value.to_string(), 200)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_and_matchers() {
        assert!(check(Some(&json!("done")), &json!("done")).is_ok());
        assert_eq!(
            check(Some(&json!("running")), &json!("done"))
                .unwrap_err()
                .to_string(),
            r#"expected "done", got "running""#
        );
        assert!(check(Some(&json!(2)), &json!(2.0)).is_ok());
        assert!(check(None, &json!({"exists": false})).is_ok());
        assert!(check(None, &json!({"exists": true})).is_err());
        assert!(check(Some(&json!("abc")), &json!({"contains": "b"})).is_ok());
        assert!(check(Some(&json!([1, 2])), &json!({"contains": 2})).is_ok());
        assert!(check(Some(&json!("v2.0.1")), &json!({"matches": "^v2\\."})).is_ok());
        assert!(check(Some(&json!(5)), &json!({"lt": 10})).is_ok());
        assert!(check(Some(&json!(15)), &json!({"lt": 10})).is_err());
        assert!(check(Some(&json!([1, 2, 3])), &json!({"length": 3})).is_ok());
        assert!(check(Some(&json!("b")), &json!({"one_of": ["a", "b"]})).is_ok());
        // A map that is not a matcher is compared literally.
        assert!(check(Some(&json!({"a": 1})), &json!({"a": 1})).is_ok());
    }
}
