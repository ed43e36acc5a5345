//! Keeps secret values out of every byte firedrill writes.
//!
//! Secrets are known by value (from `secrets:` and `capture … secret: true`),
//! and every output path — terminal, logs, journal, record, reports — passes
//! its text through [`redact`]. Matching by value catches a token wherever it
//! ends up: in a header, an error message or a response echoed back.

use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret becomes in output.
pub const MASK: &str = "***";

/// Secrets shorter than this cannot be masked without mangling unrelated
/// text, so firedrill refuses them instead of pretending to protect them.
pub const MIN_SECRET_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value; from now on it never appears in output.
pub fn register(value: &str) {
    if value.is_empty() {
        return;
    }
    let mut forms = vec![value.to_string()];
    // The same value as it appears inside a JSON string.
    let escaped = serde_json::to_string(value).unwrap_or_default();
    let escaped = escaped.trim_matches('"');
    if escaped != value {
        forms.push(escaped.to_string());
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for form in forms {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    if secrets.iter().all(|s| !text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

/// A `tracing` writer that masks secrets in every log line, whatever crate
/// (reqwest, hyper, bollard) wrote it.
#[derive(Clone, Copy, Default)]
pub struct RedactingWriter;

impl std::io::Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_and_json_escaped_forms() {
        register("s3cr\"et-value");
        assert_eq!(redact("token s3cr\"et-value!"), "token ***!");
        assert_eq!(redact(r#"{"t":"s3cr\"et-value"}"#), r#"{"t":"***"}"#);
        assert_eq!(redact("nothing here"), "nothing here");
    }
}
