//! Rules of the drill's JSON Schema that the derives cannot say, called by
//! the model's `#[schemars(transform = …)]`: exactly one kind per step, and
//! exactly one verb per Docker action with that verb's fields. They read
//! the kind list and the verb table, never the model, so the model can
//! name them.

use schemars::Schema;
use serde_json::{Value, json};

use super::verbs::DockerVerb;
use crate::kind::StepKind;

/// `Step`: exactly one kind key.
pub(crate) fn one_kind(schema: &mut Schema) {
    let kinds: Vec<Value> = StepKind::ALL
        .iter()
        .map(|kind| json!({ "required": [kind.as_str()] }))
        .collect();
    schema.insert("oneOf".into(), Value::Array(kinds));
}

/// `DockerAction`: exactly one verb, the fields that verb needs, and no
/// field of another verb (what `firedrill check` says of each).
pub(crate) fn one_verb(schema: &mut Schema) {
    let verbs: Vec<Value> = DockerVerb::ALL
        .iter()
        .map(|&verb| verb_branch(verb))
        .collect();
    schema.insert("oneOf".into(), Value::Array(verbs));
}

/// The schema of one verb's action.
fn verb_branch(verb: DockerVerb) -> Value {
    let mut names: Vec<&str> = vec![verb.name()];
    if verb != DockerVerb::CopyImage {
        names.push("on");
    }
    names.extend(verb.fields());
    let mut required = vec![verb.name()];
    let mut either = Vec::new();
    for need in verb.required() {
        match need.or {
            None => required.push(need.field),
            Some(or) => either.push(json!({ "anyOf": [
                { "required": [need.field] }, { "required": [or] },
            ]})),
        }
    }
    let mut branch = json!({
        "title": verb.name(),
        "required": required,
        "propertyNames": { "enum": names },
    });
    if verb == DockerVerb::Sweep {
        branch["properties"] = json!({ "sweep": { "const": "run" } });
    }
    if let Some(rule) = either.pop() {
        branch["allOf"] = json!([rule]);
    }
    branch
}
