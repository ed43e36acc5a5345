//! `firedrill schema`: the JSON Schema (draft 2020-12) of the drill format,
//! or with `--record` of the run record, generated from the model.

use serde_json::{Map, Value};

use super::{SchemaArgs, emit};

pub(super) fn schema(args: &SchemaArgs) -> i32 {
    let schema = if args.record {
        crate::record::record_schema().to_value()
    } else {
        drill_schema()
    };
    let mut text = serde_json::to_string_pretty(&tidy(schema)).unwrap_or_default();
    text.push('\n');
    emit(args.output.as_deref(), text.as_bytes())
}

/// The drill format's schema: the model's, with expected values narrowed
/// to the matchers the steps understand.
fn drill_schema() -> Value {
    let mut schema = crate::drill::schema::drill_schema().to_value();
    schema["$defs"]["ExpectedValue"] = crate::steps::matchers::expected_value_schema();
    for field in ["json", "headers"] {
        if let Some(property) = schema.pointer_mut(&format!("/$defs/Expect/properties/{field}")) {
            property["additionalProperties"] =
                serde_json::json!({ "$ref": "#/$defs/ExpectedValue" });
        }
    }
    schema
}

/// The schema as people read it: `$schema`, `title` and `description`
/// first, and descriptions as the doc comments say them, without the
/// comments' line breaks.
fn tidy(schema: Value) -> Value {
    let Value::Object(mut map) = unwrap_lines(schema) else {
        return Value::Null;
    };
    let mut ordered = Map::new();
    for key in ["$schema", "title", "description"] {
        if let Some(value) = map.remove(key) {
            ordered.insert(key.to_string(), value);
        }
    }
    ordered.extend(map);
    Value::Object(ordered)
}

/// Every `description` with its single line breaks turned to spaces
/// (a blank line, a paragraph, stays).
fn unwrap_lines(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| match (key.as_str(), value) {
                    ("description", Value::String(text)) => {
                        let paragraphs: Vec<String> =
                            text.split("\n\n").map(|p| p.replace('\n', " ")).collect();
                        (key, Value::String(paragraphs.join("\n\n")))
                    }
                    (_, value) => (key, unwrap_lines(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(unwrap_lines).collect()),
        other => other,
    }
}
