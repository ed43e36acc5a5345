//! Prometheus: the run's metrics in the `OpenMetrics` text format, written
//! to a file (`--metrics`, for `node_exporter`'s textfile collector) and
//! pushed to a Pushgateway (`--pushgateway`) once the run has ended —
//! passed, failed or interrupted.
//!
//! Every metric is a gauge holding the last run's value: a run is one push,
//! and a counter that starts again at every push would read as a reset to
//! `rate()`. Gauges also keep one type under both parsers (the
//! Pushgateway's and `node_exporter`'s read the classic text format, which
//! this output also is), so the Pushgateway's type-consistency check never
//! refuses a later push.
//!
//! The push replaces (`PUT`) the group `/metrics/job/<job>/drill/<drill>`:
//! one series per drill and step, and a step removed or renamed since the
//! last run loses its series instead of keeping a stale value.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::after_run::AfterRun;
use super::write_report;
use crate::record::{InterventionKind, Phase, RunOutcome, RunRecord, StepRecord};
use crate::redact::redact;
use crate::run::event::{Event, Observer};

/// How long a push may take before it is given up (with a warning).
pub(crate) const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The `job` label when none is given.
pub(crate) const DEFAULT_JOB: &str = "firedrill";

/// Where the metrics go.
pub(crate) struct MetricsSettings {
    /// `--metrics FILE`: the `OpenMetrics` text, written atomically.
    pub file: Option<PathBuf>,
    /// `--pushgateway URL`: the Pushgateway's base URL.
    pub pushgateway: Option<reqwest::Url>,
    /// The `job` label (`--metrics-job`).
    pub job: String,
}

/// Renders the metrics when the run ends, writes the file, and keeps them
/// for [`Metrics::push`].
pub(crate) struct Metrics {
    settings: MetricsSettings,
    after_run: Arc<AfterRun>,
    /// The drill's name and the rendered metrics, once the run has ended.
    rendered: Mutex<Option<(String, String)>>,
    /// Why `--metrics FILE` could not be written.
    problem: Mutex<Option<String>>,
}

impl Metrics {
    pub(crate) fn new(settings: MetricsSettings, after_run: Arc<AfterRun>) -> Self {
        Metrics {
            settings,
            after_run,
            rendered: Mutex::new(None),
            problem: Mutex::new(None),
        }
    }

    /// Why the metrics file could not be written, if it could not: like
    /// any report, that fails the run's exit code.
    pub(crate) fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }

    /// Pushes the run's metrics to the Pushgateway, if one was given. A
    /// push that fails is a warning on stderr, never a failed run.
    pub(crate) async fn push(&self) {
        let Some(base) = &self.settings.pushgateway else {
            return;
        };
        let Some((drill, text)) = self.rendered.lock().ok().and_then(|mut r| r.take()) else {
            return;
        };
        let url = group_url(base, &self.settings.job, &drill);
        let shown = shown_url(&url);
        match send(&url, text).await {
            Ok(()) => tracing::info!(url = shown, "metrics pushed"),
            Err(why) => eprintln!(
                "warning: cannot push the metrics to {shown}: {}",
                redact(&why.to_string())
            ),
        }
    }
}

impl Observer for Metrics {
    fn on_event(&self, event: &Event<'_>) {
        let Event::RunFinished { record } = event else {
            return;
        };
        // Nobody asked for metrics: rendering them costs as much as
        // writing the record (a line per step).
        if self.settings.file.is_none() && self.settings.pushgateway.is_none() {
            return;
        }
        let mut judged = None;
        self.after_run.with_verdict(|verdict| {
            judged = verdict
                .failed_record
                .as_ref()
                .map(|r| render(r, &self.settings.job));
        });
        let text = judged.unwrap_or_else(|| render(record, &self.settings.job));
        if let Some(path) = &self.settings.file {
            if let Err(err) = write_report(path, &text) {
                if let Ok(mut problem) = self.problem.lock() {
                    *problem = Some(format!("cannot write {}: {err}", path.display()));
                }
            }
        }
        if let Ok(mut rendered) = self.rendered.lock() {
            *rendered = Some((record.drill.clone(), text));
        }
    }
}

/// Why a push did not land; shown as a warning, never a failed drill.
#[derive(Debug, thiserror::Error)]
enum PushError {
    /// No answer: the connection, the timeout or the client (its causes on
    /// one line).
    #[error("{0}")]
    Unreachable(String),
    /// The Pushgateway answered, and refused (its words, cut short).
    #[error("the Pushgateway answered {status}: {body}")]
    Refused {
        status: reqwest::StatusCode,
        body: String,
    },
}

/// `PUT`s the text to the group's URL.
async fn send(url: &reqwest::Url, text: String) -> Result<(), PushError> {
    let unreachable = |err: &dyn std::error::Error| PushError::Unreachable(error_chain(err));
    let client = reqwest::Client::builder()
        .timeout(PUSH_TIMEOUT)
        .build()
        .map_err(|err| unreachable(&err))?;
    let response = client
        .put(url.clone())
        // The classic text format: what the Pushgateway parses. The
        // OpenMetrics lines it does not know (`# UNIT`, `# EOF`) are
        // comments there.
        .header(
            reqwest::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )
        .body(text)
        .send()
        .await
        .map_err(|err| unreachable(&err.without_url()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let body: String = body.trim().chars().take(300).collect();
    Err(PushError::Refused { status, body })
}

/// An error and its causes, on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The URL as shown in a warning: without its password.
fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    redact(shown.as_str()).into_owned()
}

/// The group of a drill's metrics: `<base>/metrics/job/<job>/drill/<drill>`,
/// a value that is not a plain path segment in base64url (`drill@base64/…`).
pub(crate) fn group_url(base: &reqwest::Url, job: &str, drill: &str) -> reqwest::Url {
    let mut url = base.clone();
    let path = format!(
        "{}/metrics/{}/{}",
        base.path().trim_end_matches('/'),
        segment("job", job),
        segment("drill", drill)
    );
    url.set_path(&path);
    url
}

/// `name/value`, or `name@base64/…` for a value with a `/`, a character
/// a URL would escape, or none at all.
fn segment(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if plain {
        format!("{name}/{value}")
    } else if value.is_empty() {
        format!("{name}@base64/=")
    } else {
        format!("{name}@base64/{}", base64url(value.as_bytes()))
    }
}

/// RFC 4648 base64url, without padding (the Pushgateway takes both).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// One metric family: name, help, and its samples (extra labels, value).
struct Family<'a> {
    name: &'a str,
    help: &'a str,
    unit: Option<&'a str>,
    samples: Vec<(Vec<(&'a str, String)>, f64)>,
}

/// The run's metrics in the `OpenMetrics` text format (which, `# EOF` and
/// `# UNIT` being comments there, is also the classic text format).
/// Every sample carries `job` and `drill`; secrets are masked.
pub(crate) fn render(record: &RunRecord, job: &str) -> String {
    let run = |value: f64| vec![(Vec::new(), value)];
    let seconds = |ms: u64| ms as f64 / 1000.0;
    let interventions = record
        .steps
        .iter()
        .filter_map(|s| s.intervention.as_ref())
        .filter(|i| i.kind != InterventionKind::ManualStep)
        .count();
    let families = [
        Family {
            name: "firedrill_run_duration_seconds",
            help: "Wall time of the last run, human time included.",
            unit: Some("seconds"),
            samples: run(seconds(record.duration_ms)),
        },
        Family {
            name: "firedrill_run_machine_seconds",
            help: "Machine time of the last run: its wall time less human time.",
            unit: Some("seconds"),
            samples: run(seconds(record.machine_ms())),
        },
        Family {
            name: "firedrill_run_human_seconds",
            help: "Time the last run waited for people.",
            unit: Some("seconds"),
            samples: run(seconds(record.human_ms)),
        },
        Family {
            name: "firedrill_run_passed",
            help: "1 if the last run passed, 0 if it failed or was interrupted.",
            unit: None,
            samples: run(if record.outcome == RunOutcome::Passed {
                1.0
            } else {
                0.0
            }),
        },
        Family {
            name: "firedrill_step_duration_seconds",
            help: "Wall time of each step of the last run that ran (parallel groups as a whole).",
            unit: Some("seconds"),
            samples: step_samples(&record.steps),
        },
        Family {
            name: "firedrill_interventions_total",
            help: "Unplanned interventions in the last run (rescues, not manual steps).",
            unit: None,
            samples: run(interventions as f64),
        },
    ];
    let common = [("job", job.to_string()), ("drill", record.drill.clone())];
    let mut out = String::new();
    for family in &families {
        let _ = writeln!(out, "# TYPE {} gauge", family.name);
        if let Some(unit) = family.unit {
            let _ = writeln!(out, "# UNIT {} {unit}", family.name);
        }
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        for (labels, value) in &family.samples {
            let labels: Vec<String> = common
                .iter()
                .chain(labels)
                .map(|(key, value)| format!("{key}=\"{}\"", escape_label(&redact(value))))
                .collect();
            let _ = writeln!(out, "{}{{{}}} {value}", family.name, labels.join(","));
        }
    }
    out.push_str("# EOF\n");
    out
}

/// One sample per top-level step that ran, labelled `step` and `phase`; a
/// name used twice in a phase gets ` (2)`, ` (3)`… so no two series clash.
fn step_samples(steps: &[StepRecord]) -> Vec<(Vec<(&'static str, String)>, f64)> {
    let mut seen: Vec<(Phase, &str)> = Vec::new();
    let mut samples = Vec::new();
    for step in steps
        .iter()
        .filter(|s| s.parent.is_none() && s.started_at.is_some())
    {
        seen.push((step.phase, &step.name));
        let count = seen
            .iter()
            .filter(|s| **s == (step.phase, &*step.name))
            .count();
        let name = if count > 1 {
            format!("{} ({count})", step.name)
        } else {
            step.name.clone()
        };
        let phase = match step.phase {
            Phase::Steps => "steps",
            Phase::Cleanup => "cleanup",
        };
        let seconds = if step.duration_us > 0 {
            step.duration_us as f64 / 1e6
        } else {
            step.duration_ms as f64 / 1000.0
        };
        samples.push((vec![("step", name), ("phase", phase.to_string())], seconds));
    }
    samples
}

/// A label value as both text formats write it: `\`, `"` and newlines
/// escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
            ("z/y", "ei95"),
            ("\u{fb}\u{ff}", "w7vDvw"),
        ] {
            assert_eq!(base64url(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn group_urls_keep_the_base_path_and_encode_odd_values() {
        let base = reqwest::Url::parse("http://127.0.0.1:9091/").unwrap();
        assert_eq!(
            group_url(&base, "firedrill", "quickstart").as_str(),
            "http://127.0.0.1:9091/metrics/job/firedrill/drill/quickstart"
        );
        let base = reqwest::Url::parse("https://ops.example/pushgateway").unwrap();
        assert_eq!(
            group_url(&base, "ci", "team/rollback drill").as_str(),
            "https://ops.example/pushgateway/metrics/job/ci/drill@base64/dGVhbS9yb2xsYmFjayBkcmlsbA"
        );
        assert_eq!(segment("drill", ""), "drill@base64/=");
        assert_eq!(segment("drill", ".."), "drill@base64/Li4");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(
            escape_label("a \"b\"\\c\nd, e: f"),
            "a \\\"b\\\"\\\\c\\nd, e: f"
        );
    }
}
