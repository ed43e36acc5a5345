//! An in-process harness for the executor: a drill built from text, run
//! with a scripted operator and an observer that keeps every event, so a
//! test can assert on the event sequence and the record without spawning
//! the binary. Steps here are local programs (`exec`), so no target is
//! needed and each test takes milliseconds.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use firedrill::drill::LoadedDrill;
use firedrill::operator::{
    FailureAnswer, FailureChoice, FailureRequest, ManualAnswer, ManualRequest, ManualResult,
    Operator,
};
use firedrill::record::RunRecord;
use firedrill::record::format::timestamp;
use firedrill::run::event::{Event, Observer, Observers};
use firedrill::run::{Cancellation, RunOptions, Stop};

/// An event as a test sees it: owned, and only what tests assert on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    RunStarted { steps: usize, cleanup: usize },
    StepStarted(String),
    AttemptFailed { step: String, attempt: u32 },
    WaitingForOperator(String),
    StepFinished { step: String, outcome: String },
    CleanupStarted { interrupted: bool },
    RunFinished(String),
}

/// Keeps every event it is sent, in order.
#[derive(Default)]
pub(crate) struct EventLog(Mutex<Vec<Seen>>);

impl EventLog {
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

impl Observer for EventLog {
    fn on_event(&self, event: &Event<'_>) {
        let seen = match event {
            Event::RunStarted { steps, cleanup, .. } => Seen::RunStarted {
                steps: *steps,
                cleanup: *cleanup,
            },
            Event::StepStarted { name, .. } => Seen::StepStarted(name.to_string()),
            Event::AttemptFailed { name, attempt, .. } => Seen::AttemptFailed {
                step: name.to_string(),
                attempt: *attempt,
            },
            Event::WaitingForOperator { name } => Seen::WaitingForOperator(name.to_string()),
            Event::StepFinished { step } => Seen::StepFinished {
                step: step.name.clone(),
                outcome: format!("{:?}", step.outcome),
            },
            Event::CleanupStarted { interrupted } => Seen::CleanupStarted {
                interrupted: *interrupted,
            },
            Event::RunFinished { record } => Seen::RunFinished(format!("{:?}", record.outcome)),
            _ => return,
        };
        self.0.lock().unwrap().push(seen);
    }
}

/// An operator whose answers are written by the test, in order; what it
/// was asked is kept for the test to check.
#[derive(Default)]
pub(crate) struct Scripted {
    pub manual: Mutex<VecDeque<ManualResult>>,
    pub failures: Mutex<VecDeque<FailureChoice>>,
    pub asked: Mutex<Vec<String>>,
}

impl Scripted {
    pub(crate) fn on_failure(choices: &[FailureChoice]) -> Self {
        let scripted = Scripted::default();
        scripted.failures.lock().unwrap().extend(choices);
        scripted
    }

    pub(crate) fn at_manual(results: Vec<ManualResult>) -> Self {
        let scripted = Scripted::default();
        scripted.manual.lock().unwrap().extend(results);
        scripted
    }
}

impl Operator for Scripted {
    fn manual(&self, request: &ManualRequest) -> ManualAnswer {
        self.asked
            .lock()
            .unwrap()
            .push(format!("manual: {}", request.step));
        let result = self.manual.lock().unwrap().pop_front();
        match result {
            Some(result) => ManualAnswer {
                result,
                operator: "scripted".into(),
                note: Some("as scripted".into()),
                helped_by: None,
            },
            None => ManualAnswer::failed("the script has no answer"),
        }
    }

    fn on_failure(&self, request: &FailureRequest) -> Option<FailureAnswer> {
        self.asked
            .lock()
            .unwrap()
            .push(format!("failure: {}", request.step));
        let choice = self.failures.lock().unwrap().pop_front()?;
        Some(FailureAnswer {
            choice,
            operator: "scripted".into(),
            note: Some("fixed it".into()),
            helped_by: None,
        })
    }
}

/// Loads and checks a drill written in the test; panics with the rendered
/// diagnostics when it is invalid.
pub(crate) fn drill(text: &str) -> LoadedDrill {
    firedrill::steps::load_bytes(Path::new("test.yaml"), text.as_bytes().to_vec(), &[])
        .unwrap_or_else(|d| panic!("the test's drill is invalid:\n{}", d.render(false)))
}

/// How a harness run goes: the operator, `--strict`, and a stop to apply
/// before the run starts.
pub(crate) struct Setup {
    pub operator: Arc<dyn Operator>,
    pub strict: bool,
    pub stop_before: Option<Stop>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            operator: Arc::new(Scripted::default()),
            strict: false,
            stop_before: None,
        }
    }
}

/// Runs a drill in this process: its record and every event it emitted.
pub(crate) fn run(drill: LoadedDrill, setup: Setup) -> (RunRecord, Vec<Seen>) {
    let options = RunOptions {
        run_id: "test-run".into(),
        vars: Vec::new(),
        env: firedrill::drill::inputs::Environment::default(),
        operator: setup.operator,
        operator_name: "tester".into(),
        strict: setup.strict,
        max_body_bytes: 1024 * 1024,
        resume: None,
        timeout: None,
        cleanup_timeout: Duration::from_secs(30),
        grace: Duration::from_millis(200),
    };
    let started_at = timestamp(SystemTime::now());
    let prepared = firedrill::run::prepare(&drill, &options, &started_at)
        .unwrap_or_else(|d| panic!("prepare failed:\n{}", d.render(false)));
    let http = firedrill::run::http_client(&drill)
        .unwrap_or_else(|d| panic!("http client:\n{}", d.render(false)));
    let log = Arc::new(EventLog::default());
    let mut observers = Observers::default();
    observers.push(log.clone());
    let cancel = Cancellation::default();
    if let Some(stop) = setup.stop_before {
        cancel.stop(stop);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let record = runtime.block_on(firedrill::run::execute(
        drill, prepared, &options, http, &observers, &cancel,
    ));
    (record, log.seen())
}

/// The finished steps, `name: outcome`, in the order they finished.
pub(crate) fn finished(events: &[Seen]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Seen::StepFinished { step, outcome } => Some(format!("{step}: {outcome}")),
            _ => None,
        })
        .collect()
}
