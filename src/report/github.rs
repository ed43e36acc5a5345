//! GitHub Actions: when `GITHUB_ACTIONS=true`, a run also prints workflow
//! commands — `::error` for each failed step, pointing at its line in the
//! drill, `::warning` for each budget overrun — and appends its Markdown
//! summary to `$GITHUB_STEP_SUMMARY`. An observer of the run's last event,
//! after [`AfterRun`] (whose verdict it reads: a regression that failed the
//! run fails it here too).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::after_run::AfterRun;
use crate::record::format::duration_ms;
use crate::record::{RunOutcome, RunRecord, StepRecord};
use crate::redact::redact;
use crate::run::event::{Event, Observer};

/// What the GitHub Actions reporter needs from its environment.
pub(crate) struct GithubSettings {
    /// `$GITHUB_STEP_SUMMARY`: the file the Markdown summary is appended to.
    pub step_summary: Option<PathBuf>,
    /// `$GITHUB_WORKSPACE`: an absolute drill path under it is annotated
    /// relative to it, as GitHub expects.
    pub workspace: Option<PathBuf>,
}

/// Prints the annotations and appends the step summary when the run ends.
pub(crate) struct Github {
    settings: GithubSettings,
    after_run: Arc<AfterRun>,
}

impl Github {
    pub(crate) fn new(settings: GithubSettings, after_run: Arc<AfterRun>) -> Self {
        Github {
            settings,
            after_run,
        }
    }

    fn append_summary(path: &Path, markdown: &str) {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| {
                file.write_all(redact(markdown).as_bytes())?;
                file.write_all(b"\n")
            });
        if let Err(err) = appended {
            eprintln!(
                "warning: cannot append the summary to $GITHUB_STEP_SUMMARY ({}): {err}",
                path.display()
            );
        }
    }
}

impl Observer for Github {
    fn on_event(&self, event: &Event<'_>) {
        let Event::RunFinished { record } = event else {
            return;
        };
        self.after_run.with_verdict(|verdict| {
            let record = verdict.failed_record.as_ref().unwrap_or(record);
            print!(
                "{}",
                annotations(record, self.settings.workspace.as_deref())
            );
            if let Some(path) = &self.settings.step_summary {
                let markdown = super::markdown::render(record, Some(&verdict.comparison));
                Self::append_summary(path, &markdown);
            }
        });
    }
}

/// The workflow commands for a finished run: an `::error` per failed step
/// (at its line), a `::warning` per budget overrun, and an `::error` for
/// the run when it failed for a reason no step shows (`--strict`, a
/// regression, an interrupt). Secrets are masked before escaping.
pub(crate) fn annotations(record: &RunRecord, workspace: Option<&Path>) -> String {
    let drill_file = workspace_path(&record.drill_file, workspace);
    let mut out = String::new();
    for step in &record.steps {
        if step.outcome.is_failure() {
            let message = step.error.as_deref().unwrap_or(step.outcome.label());
            out.push_str(&command(
                "error",
                &at_step(step, &drill_file, &step.name, workspace),
                message,
            ));
        }
        if step.over_budget {
            let message = format!(
                "took {}, over its budget of {}",
                duration_ms(step.duration_ms),
                duration_ms(step.budget_ms.unwrap_or(0))
            );
            let title = format!("{} went over its budget", step.name);
            out.push_str(&command(
                "warning",
                &at_step(step, &drill_file, &title, workspace),
                &message,
            ));
        }
    }
    run_annotations(record, &drill_file, &mut out);
    out
}

/// The run's own annotations: why it failed when no step says, and its
/// budget overrun.
fn run_annotations(record: &RunRecord, drill_file: &str, out: &mut String) {
    let at_drill = |title: String| vec![("file", drill_file.to_string()), ("title", title)];
    if record.outcome != RunOutcome::Passed {
        // The failed steps' own reasons are annotated at their lines.
        let other: Vec<&str> = record
            .reasons
            .iter()
            .map(String::as_str)
            .filter(|r| !r.starts_with("step `") && !r.starts_with("cleanup step `"))
            .collect();
        let any_step = record.steps.iter().any(|s| s.outcome.is_failure());
        if !other.is_empty() || !any_step {
            let message = if other.is_empty() {
                format!("the run {}", record.outcome.label())
            } else {
                other.join("\n")
            };
            let title = format!("drill {} {}", record.drill, record.outcome.label());
            out.push_str(&command("error", &at_drill(title), &message));
        }
    }
    if record.over_budget {
        let message = format!(
            "took {}, over its budget of {}",
            duration_ms(record.duration_ms),
            duration_ms(record.budget_ms.unwrap_or(0))
        );
        let title = format!("drill {} went over its budget", record.drill);
        out.push_str(&command("warning", &at_drill(title), &message));
    }
}

/// `file`, `line`, `col` and `title` of a step's annotation: its own place
/// in the drill when the record has it, else the drill file.
fn at_step(
    step: &StepRecord,
    drill_file: &str,
    title: &str,
    workspace: Option<&Path>,
) -> Vec<(&'static str, String)> {
    match &step.source {
        Some(source) => vec![
            ("file", workspace_path(&source.file, workspace)),
            ("line", source.line.to_string()),
            ("col", source.column.to_string()),
            ("title", title.to_string()),
        ],
        None => vec![
            ("file", drill_file.to_string()),
            ("title", title.to_string()),
        ],
    }
}

/// One workflow command line: `::error file=…,line=…::message`.
fn command(name: &str, properties: &[(&str, String)], message: &str) -> String {
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(&redact(value))))
        .collect();
    format!(
        "::{name} {}::{}\n",
        properties.join(","),
        escape_data(&redact(message))
    )
}

/// A message as a workflow command carries it: `%`, CR and LF escaped.
pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as a message, and `:` and `,` escaped too.
pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The drill's path as GitHub wants it: relative to the workspace (an
/// absolute path under `$GITHUB_WORKSPACE` loses that prefix), without a
/// leading `./`.
fn workspace_path(file: &str, workspace: Option<&Path>) -> String {
    if let Some(rest) = workspace.and_then(|w| Path::new(file).strip_prefix(w).ok()) {
        return rest.display().to_string();
    }
    file.strip_prefix("./").unwrap_or(file).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_data_and_properties_as_the_runner_reads_them() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(
            escape_property("Create tenant: a, b\n%"),
            "Create tenant%3A a%2C b%0A%25"
        );
    }

    #[test]
    fn paths_are_relative_to_the_workspace() {
        let ws = Some(Path::new("/home/runner/work/app"));
        assert_eq!(
            workspace_path("/home/runner/work/app/drills/x.yaml", ws),
            "drills/x.yaml"
        );
        assert_eq!(workspace_path("./drills/x.yaml", ws), "drills/x.yaml");
        assert_eq!(workspace_path("/elsewhere/x.yaml", ws), "/elsewhere/x.yaml");
        assert_eq!(workspace_path("drills/x.yaml", None), "drills/x.yaml");
    }
}
