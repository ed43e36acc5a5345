//! `${…}` templating: parsing, and rendering against any source of values.
//!
//! The same rendering code serves `run` (real values), `check` (is every
//! name defined here?) and `plan` (show what is known, keep the rest as
//! `${name}`): only the [`Lookup`] differs, so the three can never disagree.

use serde_json::Value;

use super::model::{Location, Spanned};

/// What a `${…}` expression refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// `${env.NAME}`: the process environment.
    Env(String),
    /// `${secret.NAME}`: a value declared under `secrets:`.
    Secret(String),
    /// `${run.id}` and friends.
    Run(String),
    /// `${target.base_url}`.
    Target(String),
    /// `${name}` or `${name.field.0}`: a var, a capture, or `item`.
    /// A var or a capture, and the path into its value (`tenant.users.0`).
    Name {
        /// The var or capture.
        root: String,
        /// Fields and indexes into its value.
        path: Vec<String>,
    },
}

impl Reference {
    /// The name as a user wrote it, for messages.
    pub fn display(&self) -> String {
        match self {
            Reference::Env(name) => format!("env.{name}"),
            Reference::Secret(name) => format!("secret.{name}"),
            Reference::Run(name) => format!("run.{name}"),
            Reference::Target(name) => format!("target.{name}"),
            Reference::Name { root, path } if path.is_empty() => root.clone(),
            Reference::Name { root, path } => format!("{root}.{}", path.join(".")),
        }
    }
}

/// One `${…}` expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    /// The whole expression as written, `${…}` included: used to point at it.
    pub source: String,
    /// What the expression refers to.
    pub reference: Reference,
    /// The text after `:-`, used when the value is missing or empty.
    pub default: Option<String>,
}

/// A parsed template string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Literal text, `$${` already unescaped.
    Text(String),
    /// A `${…}` expression.
    Expr(Expr),
}

/// A syntax error inside one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The offending text, to point at it in the source.
    pub near: String,
    /// What is wrong with the template.
    pub message: String,
}

/// Splits a string into literal text and `${…}` expressions. `$${` writes a
/// literal `${`.
pub fn parse(text: &str) -> Result<Vec<Segment>, SyntaxError> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        literal.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(stripped) = after.strip_prefix("$${") {
            literal.push_str("${");
            rest = stripped;
        } else if after.starts_with("${") {
            let Some(end) = after.find('}') else {
                return Err(SyntaxError {
                    near: after.chars().take(40).collect(),
                    message: "unclosed `${`: every `${` needs a matching `}`".into(),
                });
            };
            let source = &after[..=end];
            let expr = parse_expr(source, &after[2..end])?;
            if !literal.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Expr(expr));
            rest = &after[end + 1..];
        } else {
            literal.push('$');
            rest = &after[1..];
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    Ok(segments)
}

/// [`parse`], remembered per distinct text: the same templates render once
/// per step, thousands of times in a long drill.
fn parse_cached(text: &str) -> Result<std::rc::Rc<Vec<Segment>>, SyntaxError> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;
    thread_local! {
        static PARSED: RefCell<HashMap<String, Rc<Vec<Segment>>>> = RefCell::new(HashMap::new());
    }
    if let Some(found) = PARSED.with(|cache| cache.borrow().get(text).cloned()) {
        return Ok(found);
    }
    let parsed = Rc::new(parse(text)?);
    PARSED.with(|cache| {
        let mut cache = cache.borrow_mut();
        // Bounded: at most 10 000 texts of at most 4 KiB each.
        if cache.len() < 10_000 && text.len() <= 4096 {
            cache.insert(text.to_string(), parsed.clone());
        }
    });
    Ok(parsed)
}

fn parse_expr(source: &str, inner: &str) -> Result<Expr, SyntaxError> {
    let error = |message: String| SyntaxError {
        near: source.to_string(),
        message,
    };
    let (name, default) = match inner.split_once(":-") {
        Some((name, default)) => (name.trim(), Some(default.to_string())),
        None => (inner.trim(), None),
    };
    if name.is_empty() {
        return Err(error("empty `${}`: write a name, like `${tenant}`".into()));
    }
    let parts: Vec<&str> = name.split('.').collect();
    for part in &parts {
        let valid = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(error(format!(
                "`{name}` is not a valid name: use letters, digits, `_` and `-`, with `.` between parts"
            )));
        }
    }
    let rest = || parts[1..].join(".");
    let namespaced = |ns: &str| -> Result<String, SyntaxError> {
        if parts.len() != 2 {
            return Err(error(format!(
                "write `${{{ns}.NAME}}` with exactly one name after `{ns}.`"
            )));
        }
        Ok(rest())
    };
    let reference = match parts[0] {
        "env" => Reference::Env(namespaced("env")?),
        "secret" => Reference::Secret(namespaced("secret")?),
        "run" => Reference::Run(namespaced("run")?),
        "target" => Reference::Target(namespaced("target")?),
        root => Reference::Name {
            root: root.to_string(),
            path: parts[1..]
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
        },
    };
    Ok(Expr {
        source: source.to_string(),
        reference,
        default,
    })
}

/// Why a name could not be given a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError {
    /// Why the name has no value.
    pub message: String,
    /// What was probably meant.
    pub help: Option<String>,
}

impl LookupError {
    /// A lookup failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        LookupError {
            message: message.into(),
            help: None,
        }
    }

    /// Adds what was probably meant.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A source of values for `${…}`: real ones when running, symbolic ones when
/// checking or planning.
pub trait Lookup {
    /// The value of `reference`, `Ok(None)` when it is defined but has no
    /// value (an unset variable: the default applies).
    fn lookup(&self, reference: &Reference) -> Result<Option<Value>, LookupError>;
}

/// Resolves nothing: every `${…}` stays as written, for text meant for any
/// run (a runbook), not one.
pub struct AsWritten;

impl Lookup for AsWritten {
    fn lookup(&self, reference: &Reference) -> Result<Option<Value>, LookupError> {
        Ok(Some(Value::String(format!("${{{}}}", reference.display()))))
    }
}

/// A template problem with where it is, for a located diagnostic.
#[derive(Debug, Clone)]
pub struct TemplateError {
    /// Where the failing expression is written.
    pub at: Location,
    /// The exact text to point at inside the value (an expression).
    pub near: Option<String>,
    /// Why it could not be rendered.
    pub message: String,
    /// What was probably meant.
    pub help: Option<String>,
}

/// Renders templates against a [`Lookup`] and collects every error with its
/// location instead of stopping at the first one.
pub struct Renderer<'a> {
    lookup: &'a dyn Lookup,
    /// Every expression that failed, in order: rendering goes on past them.
    pub errors: Vec<TemplateError>,
}

impl<'a> Renderer<'a> {
    /// A renderer that looks names up in `lookup`.
    pub fn new(lookup: &'a dyn Lookup) -> Self {
        Renderer {
            lookup,
            errors: Vec::new(),
        }
    }

    /// Renders a string; the result is always text.
    pub fn string(&mut self, text: &Spanned<String>) -> String {
        self.text_at(&text.value, &text.referenced)
    }

    /// Renders text that sits at `at`.
    pub fn text_at(&mut self, text: &str, at: &Location) -> String {
        match self.render(text, at) {
            Value::String(s) => s,
            other => to_text(&other),
        }
    }

    /// Renders any value: strings inside it are rendered, and a string that
    /// is exactly one `${name}` keeps the value's JSON type.
    pub fn value(&mut self, value: &Spanned<Value>) -> Value {
        self.value_at(&value.value, &value.referenced)
    }

    /// Like [`Renderer::value`] for a value nested at `at`.
    pub fn value_at(&mut self, value: &Value, at: &Location) -> Value {
        match value {
            Value::String(text) => self.render(text, at),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.value_at(v, at)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text_at(k, at), self.value_at(v, at)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn render(&mut self, text: &str, at: &Location) -> Value {
        if !text.contains('$') {
            return Value::String(text.to_string());
        }
        let segments = match parse_cached(text) {
            Ok(segments) => segments,
            Err(err) => {
                self.errors.push(TemplateError {
                    at: *at,
                    near: Some(err.near),
                    message: err.message,
                    help: None,
                });
                return Value::String(text.to_string());
            }
        };
        if let [Segment::Expr(expr)] = segments.as_slice() {
            return self.expr(expr, at);
        }
        let mut out = String::new();
        for segment in segments.iter() {
            match segment {
                Segment::Text(literal) => out.push_str(literal),
                Segment::Expr(expr) => out.push_str(&to_text(&self.expr(expr, at))),
            }
        }
        Value::String(out)
    }

    fn expr(&mut self, expr: &Expr, at: &Location) -> Value {
        let found = self.lookup.lookup(&expr.reference);
        let missing = |value: &Value| match value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        let is_env = matches!(expr.reference, Reference::Env(_));
        match found {
            Ok(Some(value)) if !missing(&value) => value,
            Ok(_) if expr.default.is_some() => {
                Value::String(expr.default.clone().unwrap_or_default())
            }
            Err(_) if is_env && expr.default.is_some() => {
                Value::String(expr.default.clone().unwrap_or_default())
            }
            Ok(Some(value)) => value,
            Ok(None) => {
                self.errors.push(TemplateError {
                    at: *at,
                    near: Some(expr.source.clone()),
                    message: format!("`{}` has no value", expr.reference.display()),
                    help: Some(format!(
                        "give it one, or a default: `${{{}:-something}}`",
                        expr.reference.display()
                    )),
                });
                Value::String(String::new())
            }
            Err(err) => {
                self.errors.push(TemplateError {
                    at: *at,
                    near: Some(expr.source.clone()),
                    message: err.message,
                    help: err.help,
                });
                Value::String(String::new())
            }
        }
    }
}

/// How a value reads inside a longer string: strings as they are, anything
/// else as compact JSON.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Every expression in a string, for checks that need the names only.
pub fn expressions(text: &str) -> Vec<Expr> {
    parse(text)
        .map(|segments| {
            segments
                .into_iter()
                .filter_map(|segment| match segment {
                    Segment::Expr(expr) => Some(expr),
                    Segment::Text(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<String, Value>);

    impl Lookup for Map {
        fn lookup(&self, reference: &Reference) -> Result<Option<Value>, LookupError> {
            match reference {
                Reference::Env(name) => Ok(self.0.get(&format!("env.{name}")).cloned()),
                other => self
                    .0
                    .get(&other.display())
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| {
                        LookupError::new(format!("`{}` is not defined", other.display()))
                    }),
            }
        }
    }

    fn map(pairs: &[(&str, Value)]) -> Map {
        Map(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect())
    }

    fn render(lookup: &Map, text: &str) -> (Value, Vec<String>) {
        let mut renderer = Renderer::new(lookup);
        let value = renderer.value_at(&Value::String(text.into()), &Location::UNKNOWN);
        (
            value,
            renderer.errors.into_iter().map(|e| e.message).collect(),
        )
    }

    #[test]
    fn whole_value_keeps_its_json_type() {
        let lookup = map(&[("obj", serde_json::json!({"a": [1, 2]})), ("n", 3.into())]);
        assert_eq!(
            render(&lookup, "${obj}").0,
            serde_json::json!({"a": [1, 2]})
        );
        assert_eq!(render(&lookup, "${n}").0, serde_json::json!(3));
        assert_eq!(render(&lookup, "n=${n}").0, serde_json::json!("n=3"));
    }

    #[test]
    fn env_defaults_apply_when_unset_or_empty() {
        let lookup = map(&[("env.EMPTY", "".into()), ("env.SET", "x".into())]);
        assert_eq!(render(&lookup, "${env.UNSET:-d}").0, serde_json::json!("d"));
        assert_eq!(render(&lookup, "${env.EMPTY:-d}").0, serde_json::json!("d"));
        assert_eq!(render(&lookup, "${env.SET:-d}").0, serde_json::json!("x"));
        let (_, errors) = render(&lookup, "${env.UNSET}");
        assert_eq!(errors, vec!["`env.UNSET` has no value"]);
    }

    #[test]
    fn escapes_and_stray_dollars_are_literal() {
        let lookup = map(&[]);
        assert_eq!(
            render(&lookup, "$${x} costs $5").0,
            serde_json::json!("${x} costs $5")
        );
    }

    #[test]
    fn syntax_errors_say_what_is_wrong() {
        assert!(parse("a ${b").unwrap_err().message.contains("unclosed"));
        assert!(parse("${}").unwrap_err().message.contains("empty"));
        assert!(
            parse("${a b}")
                .unwrap_err()
                .message
                .contains("not a valid name")
        );
        assert!(
            parse("${env.A.B}")
                .unwrap_err()
                .message
                .contains("exactly one name")
        );
    }
}
