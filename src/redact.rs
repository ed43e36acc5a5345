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
    let mut secrets = SECRETS
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
    let secrets = SECRETS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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

/// A writer that masks secrets line by line, for output too large to hold
/// as one string first (the record of a long drill). Pretty JSON never
/// breaks a string across lines, so a secret cannot straddle two.
pub struct RedactingLines<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

/// How much [`RedactingLines`] gathers before masking it.
const BLOCK: usize = 16 * 1024;

impl<W: std::io::Write> RedactingLines<W> {
    /// Masks what is written through it before it reaches `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    /// Writes what is left of the last line and hands the writer back.
    pub fn finish(mut self) -> std::io::Result<W> {
        let rest = std::mem::take(&mut self.pending);
        self.inner
            .write_all(redact(&String::from_utf8_lossy(&rest)).as_bytes())?;
        Ok(self.inner)
    }
}

impl<W: std::io::Write> std::io::Write for RedactingLines<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        // Masked a block of lines at a time: serializers write a few bytes
        // per call.
        if self.pending.len() < BLOCK {
            return Ok(buf.len());
        }
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            let lines = String::from_utf8_lossy(&self.pending[..=end]);
            self.inner.write_all(redact(&lines).as_bytes())?;
            self.pending.drain(..=end);
        }
        Ok(buf.len())
    }

    /// Flushes what was masked only: a line cut in two could cut a secret.
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
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

    #[test]
    fn streamed_lines_are_masked_even_when_written_in_pieces() {
        use std::io::Write;
        register("streamed-secret");
        let mut out = RedactingLines::new(Vec::new());
        for piece in [
            "{\"a\": \"strea",
            "med-sec",
            "ret\",\n  \"b\": 1,\n",
            "\"c\": \"streamed-",
            "secret\"}",
        ] {
            out.write_all(piece.as_bytes()).unwrap();
        }
        let text = String::from_utf8(out.finish().unwrap()).unwrap();
        assert_eq!(text, "{\"a\": \"***\",\n  \"b\": 1,\n\"c\": \"***\"}");

        // Past a block, lines are masked as they fill: the same result.
        let line = "  \"token\": \"streamed-secret\", \"n\": 12345,\n";
        let whole: String = (0..2000)
            .map(|i| format!("{i}{line}"))
            .collect::<Vec<_>>()
            .concat();
        let mut out = RedactingLines::new(Vec::new());
        for piece in whole.as_bytes().chunks(7) {
            out.write_all(piece).unwrap();
        }
        let text = String::from_utf8(out.finish().unwrap()).unwrap();
        assert_eq!(text, redact(&whole));
        assert!(!text.contains("streamed-secret") && text.matches("***").count() == 2000);
    }
}
