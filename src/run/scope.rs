//! The values `${…}` resolves to while a drill runs.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::drill::inputs::Environment;
use crate::drill::template::{Lookup, LookupError, Reference};

/// Run-wide facts, fixed when the run starts.
#[derive(Debug, Clone)]
pub(crate) struct RunFacts {
    pub id: String,
    pub drill: String,
    pub started_at: String,
    pub base_url: Option<String>,
    /// What `${env.NAME}` reads (with `--env-file` values).
    pub env: Environment,
}

/// Vars, captures and secrets of one run.
///
/// Cloned for every branch of a parallel group: everything is shared until
/// a branch captures something (then its values are copied once), and the
/// branch's `${item}` is kept apart, so ten thousand branches start without
/// copying the vars ten thousand times.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub facts: Arc<RunFacts>,
    values: Arc<HashMap<String, Value>>,
    item: Option<Value>,
    secrets: Arc<HashMap<String, String>>,
}

impl Scope {
    pub(crate) fn new(facts: RunFacts) -> Self {
        Scope {
            facts: Arc::new(facts),
            values: Arc::new(HashMap::new()),
            item: None,
            secrets: Arc::new(HashMap::new()),
        }
    }

    /// Sets a var or a capture.
    pub(crate) fn set(&mut self, name: &str, value: Value) {
        Arc::make_mut(&mut self.values).insert(name.to_string(), value);
    }

    /// Sets `${item}`, in a branch of a `for_each` group.
    pub(crate) fn set_item(&mut self, item: Value) {
        self.item = Some(item);
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        match &self.item {
            Some(item) if name == "item" => Some(item),
            _ => self.values.get(name),
        }
    }

    /// Sets a secret (already registered with the redactor).
    pub(crate) fn set_secret(&mut self, name: &str, value: String) {
        Arc::make_mut(&mut self.secrets).insert(name.to_string(), value);
    }
}

/// Marks a lookup error as "this capture was never made", which skips a
/// cleanup step instead of failing it.
pub(crate) const NEVER_CAPTURED: &str = "was never captured";

impl Lookup for Scope {
    fn lookup(&self, reference: &Reference) -> Result<Option<Value>, LookupError> {
        match reference {
            Reference::Env(name) => Ok(self.facts.env.get(name).map(Value::String)),
            Reference::Secret(name) => self
                .secrets
                .get(name)
                .map(|v| Some(Value::String(v.clone())))
                .ok_or_else(|| LookupError::new(format!("secret `{name}` is not declared"))),
            Reference::Run(field) => match field.as_str() {
                "id" => Ok(Some(Value::String(self.facts.id.clone()))),
                "drill" => Ok(Some(Value::String(self.facts.drill.clone()))),
                "started_at" => Ok(Some(Value::String(self.facts.started_at.clone()))),
                other => Err(LookupError::new(format!("`run.{other}` does not exist"))),
            },
            Reference::Target(field) => match (field.as_str(), &self.facts.base_url) {
                ("base_url", Some(url)) => Ok(Some(Value::String(url.clone()))),
                _ => Err(LookupError::new(format!("`target.{field}` is not set"))),
            },
            Reference::Name { root, path } => {
                let Some(mut value) = self.get(root) else {
                    return Err(LookupError::new(format!("`{root}` {NEVER_CAPTURED}")));
                };
                for (depth, part) in path.iter().enumerate() {
                    let next = match value {
                        Value::Object(map) => map.get(part),
                        Value::Array(items) => {
                            part.parse::<usize>().ok().and_then(|i| items.get(i))
                        }
                        _ => None,
                    };
                    value = next.ok_or_else(|| {
                        LookupError::new(format!(
                            "`{root}.{}` does not exist in the value of `{root}`",
                            path[..=depth].join(".")
                        ))
                    })?;
                }
                Ok(Some(value.clone()))
            }
        }
    }
}
