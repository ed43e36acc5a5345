//! The JSON Schema of the drill format, for editors (`firedrill schema`).
//!
//! The model derives `schemars::JsonSchema`; this file holds what a derive
//! cannot say: the types with hand-written `Deserialize` impls (durations,
//! sizes, status codes, captures, `volumes`), [`Spanned`] as the value it
//! wraps, and the rules "exactly one kind per step" and "exactly one verb
//! per Docker action, with that verb's fields".

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::json;

use super::model::{ByteSize, CaptureSpec, HumanDuration, StatusSpec, VolumesSpec};
use super::spanned::Spanned;

/// What `humantime` reads: numbers (fractions too) each with a unit,
/// optionally separated by spaces, or a lone `0`.
pub(crate) const DURATION_PATTERN: &str = concat!(
    r"^\s*(0|([0-9]+(\.[0-9]+)?\s*(nanos|nsec|ns|usec|us|µs|millis|msec|ms|seconds|second|secs|sec|s",
    r"|minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w|months|month|M",
    r"|years|year|yrs|yr|y)\s*)+)$"
);

/// What [`ByteSize::parse`] reads: a number and a unit, case ignored.
pub(crate) const SIZE_PATTERN: &str = r"^\s*[0-9]+(\.[0-9]+)?\s*([bB]|[kKmMgG][iI]?[bB])\s*$";

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration written with a unit: `500ms`, `30s`, `2m`, `1h 30m`.",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["500ms", "30s", "2m", "1h 30m"],
        })
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size with a unit: `B`, `KB`, `KiB`, `MB`, `MiB`, `GB`, `GiB` (1B to 1GiB).",
            "type": "string",
            "pattern": SIZE_PATTERN,
            "examples": ["512KiB", "10MiB"],
        })
    }
}

impl JsonSchema for StatusSpec {
    fn schema_name() -> Cow<'static, str> {
        "Status".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let code = json!({
            "anyOf": [
                { "type": "integer", "minimum": 100, "maximum": 599 },
                { "type": "string", "pattern": r"^\s*[1-5][0-9][0-9]\s*$" },
            ]
        });
        json_schema!({
            "description": "A status code or a list; without it anything below 400 passes.",
            "anyOf": [code.clone(), { "type": "array", "items": code }],
        })
    }
}

impl JsonSchema for CaptureSpec {
    fn schema_name() -> Cow<'static, str> {
        "Capture".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let map = generator.subschema_for::<super::model::CaptureMap>();
        json_schema!({
            "description": "`http`: a JSONPath (`$` is the whole body), `status`, `{ header: Location }` or `{ path: \"$.token\", secret: true }`. `exec`: `stdout`, `stderr`, `exit_code` or `{ stdout_regex: \"version (\\\\S+)\" }`.",
            "anyOf": [{ "type": "string" }, map],
        })
    }
}

impl JsonSchema for VolumesSpec {
    fn schema_name() -> Cow<'static, str> {
        "Volumes".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "array", "items": { "type": "string" } },
                { "type": "boolean" },
            ]
        })
    }
}

/// The drill format's JSON Schema (draft 2020-12), as the model reads it.
/// Expected values are any value here; the steps layer, which knows the
/// matchers, narrows them (see `steps::matchers`).
pub(crate) fn drill_schema() -> Schema {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<super::model::Drill>();
    schema.insert("title".into(), "firedrill drill".into());
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duration_pattern_agrees_with_the_parser() {
        let pattern = regex::Regex::new(DURATION_PATTERN).unwrap();
        for text in [
            "500ms", "30s", "2m", "1h 30m", "1.5s", "0", " 2 min ", "1h30m", "3days", "30", "",
            "2x", "-1s", "1.s", "s", "1h,2m",
        ] {
            assert_eq!(
                pattern.is_match(text),
                humantime::parse_duration(text.trim()).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_size_pattern_agrees_with_the_parser() {
        let pattern = regex::Regex::new(SIZE_PATTERN).unwrap();
        for text in [
            "10MiB", "512 KiB", "1.5MB", "100B", "1gib", "10", "10XB", "MiB", "1e3B",
        ] {
            assert_eq!(
                pattern.is_match(text),
                ByteSize::parse(text).is_ok(),
                "{text:?}"
            );
        }
    }
}
