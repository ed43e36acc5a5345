//! Errors in a drill file, located as `file:line:col` with the source line
//! and a caret, rendered by miette.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, SourceSpan};

use super::model::Location;
use super::template::TemplateError;

/// One problem in a drill file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Where it is; `None` for problems of the file as a whole.
    pub at: Option<Location>,
    /// Text to point at from `at` on (an expression inside a string).
    pub near: Option<String>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What was probably meant, or how to fix it.
    pub help: Option<String>,
    /// `near` is a map key written before `at` (which is its value).
    pub near_is_key: bool,
}

impl Diagnostic {
    /// A problem at `at` (unknown when the parser gave no place).
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

    /// A problem at a byte offset of `text`, for what is found before there
    /// is a parsed location: invalid UTF-8, a file over the size cap.
    pub fn at_offset(text: &str, offset: usize, message: impl Into<String>) -> Self {
        match location_at(text, offset) {
            Some(at) => Diagnostic::new(at, message),
            None => Diagnostic::whole_file(message),
        }
    }

    /// Adds what was probably meant, or how to fix it.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Names the text the caret should point at, inside the located value.
    #[must_use]
    pub fn near(mut self, text: impl Into<String>) -> Self {
        self.near = Some(text.into());
        self
    }

    /// Points at the map key `key` whose value sits at `at`.
    #[must_use]
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
    /// The drill file, as named on the command line.
    pub path: PathBuf,
    /// Its text, for the source lines shown under each problem.
    pub source: Arc<str>,
    /// Every problem found, in file order.
    pub items: Vec<Diagnostic>,
    /// Problems found but not kept, past [`MAX_SHOWN`].
    pub omitted: usize,
}

/// Where a diagnostic points, resolved against the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// One-based line.
    pub line: usize,
    /// One-based column, in characters.
    pub column: usize,
    /// Where the pointed-at text starts, in bytes from the start of the file.
    pub byte_offset: usize,
    /// How many bytes the caret underlines.
    pub byte_len: usize,
}

/// At most this many problems are shown; the rest are counted.
pub const MAX_SHOWN: usize = 50;

/// Source lines longer than this (in bytes) are shown cut to a window
/// around the caret.
const MAX_LINE_BYTES: usize = 160;

/// Messages longer than this (in characters) are cut: they can quote a
/// value from the file, and a value can be megabytes long.
const MAX_MESSAGE_CHARS: usize = 500;

impl Diagnostics {
    /// Diagnostics in the order they appear in the file. Only the first
    /// [`MAX_SHOWN`] are kept.
    pub fn new(path: &Path, source: Arc<str>, items: Vec<Diagnostic>) -> Self {
        let mut diagnostics = Diagnostics {
            path: path.to_path_buf(),
            source,
            items: Vec::new(),
            omitted: 0,
        };
        // Order by where each value starts (cheap), keep the first ones,
        // then order those exactly: a hostile file can hold a hundred
        // thousand errors on one line.
        let mut items = items;
        items.sort_by_key(|d| diagnostics.start_offset(d));
        if items.len() > MAX_SHOWN {
            diagnostics.omitted = items.len() - MAX_SHOWN;
            items.truncate(MAX_SHOWN);
        }
        let mut keyed: Vec<(Option<Position>, Diagnostic)> = items
            .into_iter()
            .map(|d| (diagnostics.position(&d), d))
            .collect();
        keyed.sort_by_key(|(p, _)| p.map(|p| (p.line, p.column)));
        diagnostics.items = keyed.into_iter().map(|(_, d)| d).collect();
        diagnostics
    }

    /// How many problems there are in all, shown or not.
    pub fn count(&self) -> usize {
        self.items.len() + self.omitted
    }

    fn start_offset(&self, diagnostic: &Diagnostic) -> Option<usize> {
        let at = diagnostic.at?;
        if at.line() == 0 {
            return None;
        }
        Some(at.byte_offset().map_or_else(
            || byte_of_char(&self.source, at.char_offset() as usize),
            |b| b as usize,
        ))
    }

    /// The line, column and byte range a diagnostic points at: the exact
    /// expression when it names one, else the value's start.
    pub fn position(&self, diagnostic: &Diagnostic) -> Option<Position> {
        let at = diagnostic.at?;
        let start = self.start_offset(diagnostic)?.min(self.source.len());
        let start = floor_char_boundary(&self.source, start);
        let mut position = Position {
            line: at.line() as usize,
            column: at.column() as usize,
            byte_offset: start,
            byte_len: (at.byte_len().unwrap_or(0) as usize).max(1),
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
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_context_lines(1)
            .with_width(200);
        let mut out = String::new();
        for diagnostic in &self.items {
            let message = format!(
                "{}: {}",
                self.locate(diagnostic),
                clip_chars(&diagnostic.message, MAX_MESSAGE_CHARS)
            );
            let position = self.position(diagnostic);
            let excerpt = position.map(|p| Excerpt::new(&self.path, &self.source, p));
            let report = Snippet {
                message: message.clone(),
                span: excerpt
                    .as_ref()
                    .map(|e| SourceSpan::new(e.caret.into(), e.caret_len)),
                code: excerpt.unwrap_or_else(|| Excerpt::empty(&self.path)),
                help: diagnostic
                    .help
                    .as_deref()
                    .map(|h| clip_chars(h, MAX_MESSAGE_CHARS)),
            };
            let mut rendered = String::new();
            match handler.render_report(&mut rendered, &report) {
                Ok(()) => out.push_str(&rendered),
                Err(_) => out.push_str(&message),
            }
            out.push('\n');
        }
        if self.omitted > 0 {
            out.push_str(&format!(
                "… and {} more error{} not shown\n",
                self.omitted,
                if self.omitted == 1 { "" } else { "s" }
            ));
        }
        let count = self.count();
        out.push_str(&format!(
            "{count} error{} in {}\n",
            if count == 1 { "" } else { "s" },
            self.path.display()
        ));
        out
    }
}

/// At most `max` characters of `text`, with `…` when cut.
fn clip_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The lines around a diagnostic, each cut to a window around the caret
/// when they are long, so a megabyte-long line prints as a short one (and
/// miette, which cannot draw very wide lines, never sees it). Line and
/// column numbers stay those of the file.
#[derive(Debug)]
struct Excerpt {
    name: String,
    text: String,
    /// 1-based line number of the excerpt's first line in the file.
    first_line: usize,
    /// Byte offset and length of the caret within `text`.
    caret: usize,
    caret_len: usize,
    /// 0-based line of the caret within `text`, and its 1-based column in
    /// the file.
    caret_line: usize,
    caret_column: usize,
}

impl Excerpt {
    fn empty(path: &Path) -> Self {
        Excerpt {
            name: path.display().to_string(),
            text: String::new(),
            first_line: 1,
            caret: 0,
            caret_len: 0,
            caret_line: 0,
            caret_column: 1,
        }
    }

    fn new(path: &Path, source: &str, p: Position) -> Self {
        let offset = floor_char_boundary(source, p.byte_offset.min(source.len()));
        let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i);
        // One line of context each side, as miette is asked to show.
        let prev_start = if line_start == 0 {
            None
        } else {
            Some(source[..line_start - 1].rfind('\n').map_or(0, |i| i + 1))
        };
        let next_end = if line_end >= source.len() {
            None
        } else {
            Some(
                source[line_end + 1..]
                    .find('\n')
                    .map_or(source.len(), |i| line_end + 1 + i),
            )
        };
        let mut lines: Vec<(usize, usize)> = Vec::new();
        if let Some(start) = prev_start {
            lines.push((start, line_start - 1));
        }
        let caret_line = lines.len();
        lines.push((line_start, line_end));
        if let Some(end) = next_end {
            lines.push((line_end + 1, end));
        }
        let long = lines.iter().any(|(a, b)| b - a > MAX_LINE_BYTES);
        // The window, in bytes from the start of each line.
        let caret_in_line = offset - line_start;
        let (from, to) = if long {
            let from = caret_in_line.saturating_sub(MAX_LINE_BYTES / 3);
            (from, from + MAX_LINE_BYTES)
        } else {
            (0, usize::MAX)
        };
        let mut text = String::new();
        let mut caret = 0;
        let mut caret_len = 0;
        for (i, (start, end)) in lines.iter().copied().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            let line = &source[start..end];
            let a = floor_char_boundary(line, from.min(line.len()));
            let b = floor_char_boundary(line, to.min(line.len()));
            if a > 0 {
                text.push('…');
            }
            if i == caret_line {
                let at = floor_char_boundary(line, caret_in_line.min(line.len()));
                caret = text.len() + at.saturating_sub(a);
                caret_len = p.byte_len.min(b.saturating_sub(at));
            }
            text.push_str(&line[a..b]);
            if b < line.len() {
                text.push('…');
            }
        }
        Excerpt {
            name: path.display().to_string(),
            text,
            first_line: p.line.saturating_sub(caret_line).max(1),
            caret,
            caret_len,
            caret_line,
            caret_column: p.column.max(1),
        }
    }
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let column = if inner.line() == self.caret_line && span.offset() == self.caret {
            self.caret_column - 1
        } else {
            inner.column()
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line - 1,
            column,
            inner.line_count(),
        )))
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
    code: Excerpt,
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

/// The location of a byte offset in `text` (clamped to a character
/// boundary), pointing at one character.
pub fn location_at(text: &str, offset: usize) -> Option<Location> {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let char_offset = before.chars().count();
    let char_len = text[offset..].chars().next().map_or(0, char::len_utf8);
    Some(Location::new(line, column, char_offset, (offset, char_len)))
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
        .or_else(|| one_slip_away(word, candidates))
}

/// A candidate one typing slip away (a swapped pair, a missed, extra or
/// wrong letter): short names such as `tdi` for `tid` score too low on
/// similarity but are plainly the same name.
fn one_slip_away<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let allowed = if word.chars().count() >= 8 { 2 } else { 1 };
    candidates
        .iter()
        .map(|c| (strsim::osa_distance(word, c), *c))
        .filter(|(distance, c)| *distance <= allowed && c.chars().count() > 1)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// miette panics drawing a caret past column 65535; long lines are cut
    /// to a window first, and the numbers stay those of the file.
    #[test]
    fn a_swapped_pair_in_a_short_name_is_suggested() {
        assert_eq!(did_you_mean("tdi", &["tid", "url"]), Some("tid"));
        assert_eq!(
            did_you_mean("tenatn_id", &["tenant_id", "x"]),
            Some("tenant_id")
        );
        assert_eq!(did_you_mean("abc", &["xyz"]), None);
    }

    #[test]
    fn a_long_line_renders_as_a_short_window() {
        let text = format!("drill: x\nname: {}!\nsteps: []\n", "a".repeat(200_000));
        let offset = text.find('!').unwrap();
        let diagnostics = Diagnostics::new(
            Path::new("d.yaml"),
            Arc::from(text.as_str()),
            vec![Diagnostic::at_offset(&text, offset, "bang")],
        );
        let out = diagnostics.render(false);
        assert!(out.contains("d.yaml:2:200007: bang"), "{out}");
        assert!(out.contains("[d.yaml:2:200007]"), "{out}");
        assert!(out.contains("a!"), "{out}");
        assert!(out.len() < 2_000, "{out}");
    }

    #[test]
    fn only_the_first_problems_are_kept() {
        let text = "x\n".repeat(200);
        let items = (0..200)
            .map(|i| Diagnostic::at_offset(&text, i * 2, format!("problem {i}")))
            .collect();
        let diagnostics = Diagnostics::new(Path::new("d.yaml"), Arc::from(text.as_str()), items);
        assert_eq!(diagnostics.items.len(), MAX_SHOWN);
        assert_eq!(diagnostics.count(), 200);
        let out = diagnostics.render(false);
        assert!(out.contains("d.yaml:1:1: problem 0"), "{out}");
        assert!(out.contains("… and 150 more errors not shown"), "{out}");
    }
}
