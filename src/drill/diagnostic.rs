//! Errors in a drill file, located as `file:line:col` with the source line
//! and a caret, rendered by miette.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource, SourceSpan};

use super::model::Location;
use super::template::TemplateError;

/// One problem in a drill file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Where it is; `None` for problems of the file as a whole.
    pub at: Option<Location>,
    /// Text to point at from `at` on (an expression inside a string).
    pub near: Option<String>,
    pub message: String,
    /// What was probably meant, or how to fix it.
    pub help: Option<String>,
    /// `near` is a map key written before `at` (which is its value).
    pub near_is_key: bool,
}

impl Diagnostic {
    pub fn new(at: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            at: Some(at),
            near: None,
            message: message.into(),
            help: None,
            near_is_key: false,
        }
    }

    /// A problem with no single location (an unreadable file, say).
    pub fn whole_file(message: impl Into<String>) -> Self {
        Diagnostic {
            at: None,
            near: None,
            message: message.into(),
            help: None,
            near_is_key: false,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn near(mut self, text: impl Into<String>) -> Self {
        self.near = Some(text.into());
        self
    }

    /// Points at the map key `key` whose value sits at `at`.
    pub fn at_key(mut self, key: impl Into<String>) -> Self {
        self.near = Some(key.into());
        self.near_is_key = true;
        self
    }
}

impl From<TemplateError> for Diagnostic {
    fn from(err: TemplateError) -> Self {
        Diagnostic {
            at: Some(err.at),
            near: err.near,
            message: err.message,
            help: err.help,
            near_is_key: false,
        }
    }
}

/// All problems found in one file, with the text needed to show them.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub path: PathBuf,
    pub source: Arc<str>,
    pub items: Vec<Diagnostic>,
}

/// Where a diagnostic points, resolved against the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub byte_offset: usize,
    pub byte_len: usize,
}

impl Diagnostics {
    /// Diagnostics in the order they appear in the file.
    pub fn new(path: &Path, source: Arc<str>, items: Vec<Diagnostic>) -> Self {
        let mut diagnostics = Diagnostics {
            path: path.to_path_buf(),
            source,
            items: Vec::new(),
        };
        let mut keyed: Vec<(Option<Position>, Diagnostic)> = items
            .into_iter()
            .map(|d| (diagnostics.position(&d), d))
            .collect();
        keyed.sort_by_key(|(p, _)| p.map(|p| (p.line, p.column)));
        diagnostics.items = keyed.into_iter().map(|(_, d)| d).collect();
        diagnostics
    }

    /// The line, column and byte range a diagnostic points at: the exact
    /// expression when it names one, else the value's start.
    pub fn position(&self, diagnostic: &Diagnostic) -> Option<Position> {
        let at = diagnostic.at?;
        if at.line() == 0 {
            return None;
        }
        let start = at
            .span()
            .byte_offset()
            .map(|b| b as usize)
            .unwrap_or_else(|| byte_of_char(&self.source, at.span().offset() as usize))
            .min(self.source.len());
        let mut position = Position {
            line: at.line() as usize,
            column: at.column() as usize,
            byte_offset: start,
            byte_len: (at.span().byte_len().unwrap_or(0) as usize).max(1),
        };
        if let Some(near) = &diagnostic.near {
            // Look for the expression within the value that starts here, or
            // for the key just before it.
            let found = if diagnostic.near_is_key {
                let window_start = floor_char_boundary(&self.source, start.saturating_sub(4096));
                self.source[window_start..start]
                    .rfind(near.as_str())
                    .map(|i| window_start + i)
            } else {
                let window_end = (start + 64 * 1024).min(self.source.len());
                let window_end = floor_char_boundary(&self.source, window_end);
                self.source[start..window_end]
                    .find(near.as_str())
                    .map(|i| start + i)
            };
            if let Some(offset) = found {
                let line_start = self.source[..offset].rfind('\n').map_or(0, |i| i + 1);
                position.line = self.source[..offset].matches('\n').count() + 1;
                position.column = self.source[line_start..offset].chars().count() + 1;
                position.byte_offset = offset;
                position.byte_len = near.len().max(1);
            }
        }
        position.byte_len = position
            .byte_len
            .min(self.source.len().saturating_sub(position.byte_offset));
        Some(position)
    }

    /// The `file:line:col` of a diagnostic.
    pub fn locate(&self, diagnostic: &Diagnostic) -> String {
        match self.position(diagnostic) {
            Some(p) => format!("{}:{}:{}", self.path.display(), p.line, p.column),
            None => self.path.display().to_string(),
        }
    }

    /// Renders every diagnostic: a `file:line:col: message` line, the source
    /// line with a caret, and the help.
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
        let mut out = String::new();
        for diagnostic in &self.items {
            let report = Snippet {
                message: format!("{}: {}", self.locate(diagnostic), diagnostic.message),
                code: NamedSource::new(self.path.display().to_string(), self.source.to_string()),
                span: self
                    .position(diagnostic)
                    .map(|p| SourceSpan::new(p.byte_offset.into(), p.byte_len)),
                help: diagnostic.help.clone(),
            };
            if handler.render_report(&mut out, &report).is_err() {
                out.push_str(&report.message);
            }
            out.push('\n');
        }
        let count = self.items.len();
        out.push_str(&format!(
            "{count} error{} in {}\n",
            if count == 1 { "" } else { "s" },
            self.path.display()
        ));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}

/// The miette view of one diagnostic.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
struct Snippet {
    message: String,
    #[source_code]
    code: NamedSource<String>,
    #[label("here")]
    span: Option<SourceSpan>,
    #[help]
    help: Option<String>,
}

fn byte_of_char(text: &str, char_offset: usize) -> usize {
    text.char_indices()
        .nth(char_offset)
        .map_or(text.len(), |(byte, _)| byte)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The closest of `candidates` to `word`, if any is close enough to be what
/// was meant.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
