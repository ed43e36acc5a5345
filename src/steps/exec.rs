//! `exec`: a local program. An argv list runs directly — templated values
//! never pass through a shell — unless the drill says `shell:` explicitly.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::attempt::{Attempt, Captured, excerpt, register_secret_capture, shorten};
use super::check_context::CheckContext;
use super::context::StepContext;
use super::error::StepError;
use super::kind::{Action, AttemptFuture, Kind, Resolved, Results};
use super::matchers::{InvalidRegex, compile};
use super::target::ResolvedTarget;
use crate::drill::diagnostic::Diagnostic;
use crate::drill::model::{CaptureSpec, ExecAction, Spanned, Step};
use crate::drill::template::Renderer;
use crate::kind::StepKind;

/// An `exec:` step as written.
pub(crate) struct ExecKind<'a>(pub &'a Spanned<ExecAction>);

impl ExecKind<'_> {
    /// The command as written, templates and all.
    fn command(&self) -> Option<String> {
        let e = &self.0.value;
        match (&e.argv, &e.shell) {
            (Some(argv), _) => {
                let words: Vec<&str> = argv.value.iter().map(|a| a.value.as_str()).collect();
                Some(words.join(" "))
            }
            (None, Some(shell)) => Some(shell.value.clone()),
            (None, None) => None,
        }
    }
}

impl Kind for ExecKind<'_> {
    fn check(&self, ctx: &mut CheckContext<'_, '_>) {
        let exec = self.0;
        let e = &exec.value;
        match (&e.argv, &e.shell) {
            (Some(argv), None) => {
                if argv.value.is_empty() {
                    ctx.error(argv.referenced, "`argv` is empty: name the program to run");
                }
                for arg in &argv.value {
                    ctx.render_string(arg);
                }
            }
            (None, Some(shell)) => ctx.render_string(shell),
            (Some(_), Some(shell)) => ctx.push(
                Diagnostic::new(
                    shell.referenced,
                    "an exec step has `argv` or `shell`, not both",
                )
                .at_key("shell")
                .with_help("prefer `argv`: it never goes through a shell"),
            ),
            (None, None) => ctx.push(
                Diagnostic::new(
                    exec.referenced,
                    "an exec step needs `argv` (a list) or `shell` (a string)",
                )
                .with_help("for example `exec: { argv: [echo, hello] }`"),
            ),
        }
        for value in e.env.values() {
            ctx.render_string(value);
        }
        if let Some(cwd) = &e.cwd {
            ctx.render_string(cwd);
        }
    }

    fn auto_name(&self) -> String {
        self.command()
            .map_or_else(|| "step".to_string(), |command| shorten(&command))
    }

    fn results(&self) -> Results {
        Results::ProgramOutput
    }

    fn describe_runbook(&self, _step: &Step) -> String {
        let mut text = format!("Run `{}`", self.command().unwrap_or_default());
        if let Some(cwd) = &self.0.value.cwd {
            text.push_str(&format!(" in `{}`", cwd.value));
        }
        format!("{text}.")
    }

    fn resolve(
        &self,
        step: &Step,
        renderer: &mut Renderer<'_>,
        _target: &ResolvedTarget,
    ) -> Result<Action, StepError> {
        ExecCommand::resolve(&self.0.value, step, renderer)
            .map(|command| Box::new(command) as Action)
            .map_err(StepError::from)
    }
}

/// Why an exec step (or a Docker `exec`, which expects and captures like
/// one) cannot be resolved, or why its program's output cannot be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExecError {
    /// `expect.stdout_matches` or a `stdout_regex` capture, once rendered,
    /// is not a regular expression.
    #[error(transparent)]
    Regex(#[from] InvalidRegex),
    /// A capture names a source a program's result does not have (the
    /// checks refuse these, so only an unchecked drill gets here).
    #[error("capture `{0}` cannot read a program's result")]
    CaptureSource(String),
    /// Neither `argv` nor `shell` (refused by the checks too).
    #[error("an exec step needs `argv` or `shell`")]
    NoCommand,
    /// Reading the program's stdout or stderr failed.
    #[error("reading program output failed: {0}")]
    Read(#[source] std::io::Error),
    /// The program wrote more than the drill's body limit.
    #[error("program output is larger than {limit} bytes; firedrill stopped reading it")]
    TooLarge { limit: usize },
}

/// What a program's result must look like; shared with Docker `exec`.
#[derive(Debug, Default)]
pub(crate) struct OutputExpectations {
    pub exit_code: i64,
    pub stdout_contains: Option<String>,
    pub stderr_contains: Option<String>,
    pub stdout_matches: Option<Regex>,
}

/// Where a capture reads a program's result.
#[derive(Debug)]
pub(crate) enum OutputCapture {
    Stdout,
    Stderr,
    ExitCode,
    /// The first group of the regex (or the whole match) in stdout.
    StdoutRegex(Regex),
}

/// A capture of a program's result: name, source, secret.
pub(crate) type OutputCaptures = Vec<(String, OutputCapture, bool)>;

/// The finished program, as expectations and captures see it.
#[derive(Debug)]
pub(crate) struct ProgramOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

impl OutputExpectations {
    /// Resolves an exec-style `expect` and `capture`.
    pub(crate) fn resolve(
        step: &Step,
        r: &mut Renderer<'_>,
    ) -> Result<(Self, OutputCaptures), ExecError> {
        let mut expect = OutputExpectations::default();
        if let Some(e) = &step.expect {
            let e = &e.value;
            expect.exit_code = e.exit_code.as_ref().map_or(0, |c| c.value);
            expect.stdout_contains = e.stdout_contains.as_ref().map(|t| r.string(t));
            expect.stderr_contains = e.stderr_contains.as_ref().map(|t| r.string(t));
            if let Some(pattern) = &e.stdout_matches {
                expect.stdout_matches = Some(compile(&r.string(pattern))?);
            }
        }
        let mut captures = Vec::new();
        for (name, spec) in &step.capture {
            let (source, secret) = match &spec.value {
                CaptureSpec::Shorthand(s) if s == "stdout" => (OutputCapture::Stdout, false),
                CaptureSpec::Shorthand(s) if s == "stderr" => (OutputCapture::Stderr, false),
                CaptureSpec::Shorthand(s) if s == "exit_code" => (OutputCapture::ExitCode, false),
                CaptureSpec::Map(map) if map.stdout_regex.is_some() => (
                    OutputCapture::StdoutRegex(compile(
                        map.stdout_regex.as_deref().unwrap_or_default(),
                    )?),
                    map.secret,
                ),
                _ => return Err(ExecError::CaptureSource(name.clone())),
            };
            captures.push((name.clone(), source, secret));
        }
        Ok((expect, captures))
    }

    /// Checks a finished program and takes its captures.
    pub(crate) fn judge(
        &self,
        output: &ProgramOutput,
        captures: &[(String, OutputCapture, bool)],
    ) -> Attempt {
        let tail = || {
            format!(
                "stdout: {}; stderr: {}",
                excerpt(&output.stdout, 300),
                excerpt(&output.stderr, 300)
            )
        };
        if output.exit_code != self.exit_code {
            return Attempt::failed(format!(
                "exit code: expected {}, got {}; {}",
                self.exit_code,
                output.exit_code,
                tail()
            ));
        }
        if let Some(part) = &self.stdout_contains {
            if !output.stdout.contains(part.as_str()) {
                return Attempt::failed(format!(
                    "stdout: expected it to contain {part:?}; {}",
                    tail()
                ));
            }
        }
        if let Some(part) = &self.stderr_contains {
            if !output.stderr.contains(part.as_str()) {
                return Attempt::failed(format!(
                    "stderr: expected it to contain {part:?}; {}",
                    tail()
                ));
            }
        }
        if let Some(regex) = &self.stdout_matches {
            // `$` should match at the end of the last line, as people expect.
            if !regex.is_match(output.stdout.trim_end_matches(['\n', '\r'])) {
                return Attempt::failed(format!(
                    "stdout: expected a match for /{regex}/; {}",
                    tail()
                ));
            }
        }
        let mut captured = Vec::new();
        for (name, source, secret) in captures {
            let value = match source {
                OutputCapture::Stdout => Value::String(output.stdout.trim_end().to_string()),
                OutputCapture::Stderr => Value::String(output.stderr.trim_end().to_string()),
                OutputCapture::ExitCode => Value::from(output.exit_code),
                OutputCapture::StdoutRegex(regex) => match regex.captures(&output.stdout) {
                    Some(found) => {
                        let m = found.get(1).or_else(|| found.get(0));
                        Value::String(m.map_or("", |m| m.as_str()).to_string())
                    }
                    None => {
                        return Attempt::failed(format!(
                            "capture `{name}`: /{regex}/ matched nothing in stdout: {}",
                            excerpt(&output.stdout, 300)
                        ));
                    }
                },
            };
            if *secret {
                if let Err(err) = register_secret_capture(name, &value) {
                    return Attempt::failed(err.to_string());
                }
            }
            captured.push(Captured {
                name: name.clone(),
                value,
            });
        }
        Attempt::passed(captured)
    }
}

/// An exec step ready to run.
#[derive(Debug)]
pub(crate) struct ExecCommand {
    pub argv: Vec<String>,
    /// Whether `argv` is `sh -c <shell>` because the drill asked for a shell.
    pub shell: bool,
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    pub timeout: Option<Duration>,
    pub expect: OutputExpectations,
    pub captures: OutputCaptures,
}

impl ExecCommand {
    pub(crate) fn resolve(
        spec: &ExecAction,
        step: &Step,
        r: &mut Renderer<'_>,
    ) -> Result<Self, ExecError> {
        let (argv, shell) = match (&spec.argv, &spec.shell) {
            (Some(argv), _) => (argv.value.iter().map(|a| r.string(a)).collect(), false),
            (None, Some(script)) => (vec!["sh".into(), "-c".into(), r.string(script)], true),
            (None, None) => return Err(ExecError::NoCommand),
        };
        let env = spec
            .env
            .iter()
            .map(|(name, value)| (name.clone(), r.string(value)))
            .collect();
        let cwd = spec.cwd.as_ref().map(|c| PathBuf::from(r.string(c)));
        let (expect, captures) = OutputExpectations::resolve(step, r)?;
        Ok(ExecCommand {
            argv,
            shell,
            env,
            cwd,
            timeout: spec.timeout.as_ref().map(|t| t.value.0),
            expect,
            captures,
        })
    }

    /// Runs the program to completion. Dropping the future (timeout,
    /// Ctrl-C) kills it.
    pub(crate) async fn run(&self, ctx: &StepContext<'_>) -> Attempt {
        let Some((program, args)) = self.argv.split_first() else {
            return Attempt::failed("nothing to run");
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => return Attempt::failed(format!("cannot start `{program}`: {err}")),
        };
        let limit = ctx.max_body_bytes;
        let stdout = read_bounded(child.stdout.take(), limit);
        let stderr = read_bounded(child.stderr.take(), limit);
        let (stdout, stderr, status) = tokio::join!(stdout, stderr, child.wait());
        let status = match status {
            Ok(status) => status,
            Err(err) => return Attempt::failed(format!("waiting for `{program}` failed: {err}")),
        };
        let (stdout, stderr) = match (stdout, stderr) {
            (Ok(out), Ok(err)) => (out, err),
            (Err(e), _) | (_, Err(e)) => return Attempt::failed(e.to_string()),
        };
        let exit_code = exit_code(status);
        self.expect.judge(
            &ProgramOutput {
                exit_code,
                stdout,
                stderr,
            },
            &self.captures,
        )
    }
}

/// A process's exit code; killed by a signal reads as 128 + the signal,
/// as shells report it.
fn exit_code(status: std::process::ExitStatus) -> i64 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .map(i64::from)
        .or_else(|| status.signal().map(|s| 128 + i64::from(s)))
        .unwrap_or(-1)
}

async fn read_bounded<R: AsyncRead + Unpin>(
    reader: Option<R>,
    limit: usize,
) -> Result<String, ExecError> {
    let Some(reader) = reader else {
        return Ok(String::new());
    };
    let mut buffer = Vec::new();
    let mut limited = reader.take(limit as u64 + 1);
    limited
        .read_to_end(&mut buffer)
        .await
        .map_err(ExecError::Read)?;
    if buffer.len() > limit {
        return Err(ExecError::TooLarge { limit });
    }
    Ok(String::from_utf8_lossy(&buffer).into_owned())
}

impl Resolved for ExecCommand {
    fn kind(&self) -> StepKind {
        StepKind::Exec
    }

    fn own_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The command line, for `plan` and logs.
    fn describe(&self) -> String {
        if self.shell {
            format!(
                "sh -c {:?}",
                self.argv.last().map(String::as_str).unwrap_or_default()
            )
        } else {
            self.argv.join(" ")
        }
    }

    fn attempt<'a>(&'a self, ctx: &'a StepContext<'_>) -> AttemptFuture<'a> {
        Box::pin(self.run(ctx))
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::check::testing::{names, problem};

    #[test]
    fn argv_and_shell_together_point_at_shell() {
        assert_eq!(
            problem("drill: d\nsteps:\n  - exec: { argv: [ls], shell: ls }\n"),
            "3:25 an exec step has `argv` or `shell`, not both (prefer `argv`: it never goes through a shell)"
        );
    }

    #[test]
    fn an_empty_argv_is_refused() {
        assert_eq!(
            problem("drill: d\nsteps:\n  - exec: { argv: [] }\n"),
            "3:19 `argv` is empty: name the program to run ()"
        );
    }

    #[test]
    fn a_capture_reads_only_what_a_program_gives() {
        let yaml = "drill: d\nsteps:\n  - exec: { argv: [ls] }\n    capture: { x: status }\n";
        assert_eq!(
            problem(yaml),
            "4:19 capture `x` of an exec step cannot read `status` (use `stdout`, `stderr`, `exit_code` or `{ stdout_regex: \"…\" }`)"
        );
    }

    #[test]
    fn unnamed_programs_are_named_by_their_command() {
        let yaml =
            "drill: d\nsteps:\n  - exec: { argv: [echo, hi] }\n  - exec: { shell: \"ls | wc\" }\n";
        assert_eq!(names(yaml), ["echo hi", "ls | wc"]);
    }
}
