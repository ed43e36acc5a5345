//! Bytes in, a drill out: loading (size cap, UTF-8, YAML with its limits),
//! every check `firedrill check` makes, the located diagnostics rendered as
//! the terminal shows them, and the templates of a loaded drill rendered as
//! `firedrill plan` does. Then the bytes as one template string, rendered
//! against a lookup that answers everything. Nothing may panic.
#![no_main]

use std::path::Path;

use firedrill::drill::Location;
use firedrill::drill::template::{self, Lookup, LookupError, Reference, Renderer};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// Answers every name, with values of every JSON type, and fails some.
struct Anything;

impl Lookup for Anything {
    fn lookup(&self, reference: &Reference) -> Result<Option<Value>, LookupError> {
        match reference {
            Reference::Env(name) if name.len() % 3 == 0 => Ok(None),
            Reference::Secret(name) if name.len() % 2 == 0 => {
                Err(LookupError::new(format!("secret `{name}` is not declared")))
            }
            Reference::Name { root, path } => Ok(Some(match root.len() % 4 {
                0 => json!({ "root": root, "path": path, "list": [1, 2.5, null, true] }),
                1 => json!(path.len()),
                2 => Value::Null,
                _ => Value::String(root.repeat(2)),
            })),
            other => Ok(Some(Value::String(other.display()))),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match firedrill::steps::load_bytes(Path::new("fuzz.yaml"), data.to_vec(), &[]) {
        Ok(loaded) => {
            let _ = firedrill::plan::plan(&loaded, &firedrill::drill::inputs::Inputs::default());
        }
        Err(diagnostics) => {
            let _ = diagnostics.render(false);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = template::parse(text);
        let _ = template::expressions(text);
        let mut renderer = Renderer::new(&Anything);
        let _ = renderer.value_at(&Value::String(text.to_string()), &Location::UNKNOWN);
        let _ = renderer.value_at(&json!({ text: [text, 1] }), &Location::UNKNOWN);
    }
});
