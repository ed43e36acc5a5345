//! The executor's rules, tested in process (tests/common/harness.rs): the
//! order of events, skip and cancel rules, retries, rescues, manual steps,
//! captures and cleanup. Every step is a local program, so each test takes
//! milliseconds and needs no target.

mod common;

use std::sync::Arc;

use common::harness::{Scripted, Seen, Setup, drill, finished, run};
use firedrill::operator::{FailureChoice, ManualResult};
use firedrill::record::{InterventionKind, Outcome, RunOutcome};
use firedrill::run::Stop;

#[test]
fn steps_run_in_order_and_every_one_is_announced_then_finished() {
    let d = drill(
        "drill: order\nsteps:\n  - name: One\n    exec: { argv: [true] }\n  - name: Two\n    exec: { argv: [true] }\ncleanup:\n  - name: Tidy\n    exec: { argv: [true] }\n",
    );
    let (record, events) = run(d, Setup::default());
    assert_eq!(record.outcome, RunOutcome::Passed);
    assert_eq!(
        events,
        vec![
            Seen::RunStarted {
                steps: 2,
                cleanup: 1
            },
            Seen::StepStarted("One".into()),
            Seen::StepFinished {
                step: "One".into(),
                outcome: "Passed".into()
            },
            Seen::StepStarted("Two".into()),
            Seen::StepFinished {
                step: "Two".into(),
                outcome: "Passed".into()
            },
            Seen::CleanupStarted { interrupted: false },
            Seen::StepStarted("Tidy".into()),
            Seen::StepFinished {
                step: "Tidy".into(),
                outcome: "Passed".into()
            },
            Seen::RunFinished("Passed".into()),
        ]
    );
}

#[test]
fn after_a_failure_the_rest_is_skipped_and_cleanup_still_runs() {
    let d = drill(
        "drill: fails\nsteps:\n  - name: Breaks\n    exec: { argv: [\"false\"] }\n  - name: Never\n    exec: { argv: [true] }\ncleanup:\n  - name: Tidy\n    exec: { argv: [true] }\n",
    );
    let (record, events) = run(d, Setup::default());
    assert_eq!(record.outcome, RunOutcome::Failed);
    assert_eq!(
        finished(&events),
        ["Breaks: Failed", "Never: Skipped", "Tidy: Passed"]
    );
    let source = record.steps[0]
        .source
        .as_ref()
        .expect("a failed step says where it is");
    assert_eq!(
        (source.file.as_str(), source.line, source.column),
        ("test.yaml", 3, 5)
    );
    assert!(record.steps[1].source.is_none(), "only failures carry it");
    let never = &record.steps[1];
    assert_eq!(
        never.error.as_deref(),
        Some("not run: an earlier step failed")
    );
    assert_eq!(never.attempts, 0);
    assert!(
        record.reasons[0].starts_with("step `Breaks` failed"),
        "{:?}",
        record.reasons
    );
}

#[test]
fn a_stopped_run_cancels_every_step_but_runs_cleanup() {
    let d = drill(
        "drill: stopped\nsteps:\n  - name: One\n    exec: { argv: [true] }\ncleanup:\n  - name: Tidy\n    exec: { argv: [true] }\n",
    );
    let setup = Setup {
        stop_before: Some(Stop::Interrupted("SIGINT".into())),
        ..Setup::default()
    };
    let (record, events) = run(d, setup);
    assert_eq!(record.outcome, RunOutcome::Interrupted);
    assert_eq!(finished(&events), ["One: Cancelled", "Tidy: Passed"]);
    assert!(events.contains(&Seen::CleanupStarted { interrupted: true }));
    assert_eq!(
        record.steps[0].error.as_deref(),
        Some("not run: the run was interrupted")
    );
}

#[test]
fn every_retry_is_an_attempt_and_each_failure_is_announced() {
    let d = drill(
        "drill: retries\nsteps:\n  - name: Flaky\n    exec: { argv: [\"false\"] }\n    retry: { every: 10ms, attempts: 3 }\n",
    );
    let (record, events) = run(d, Setup::default());
    assert_eq!(record.steps[0].attempts, 3);
    assert_eq!(record.steps[0].outcome, Outcome::Failed);
    let failed_attempts: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            Seen::AttemptFailed { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed_attempts,
        [1, 2],
        "the last attempt is the step's end"
    );
}

#[test]
fn a_failure_rescued_by_hand_is_an_intervention_and_strict_fails_it() {
    let text = "drill: rescued\nsteps:\n  - name: Breaks\n    exec: { argv: [\"false\"] }\n  - name: After\n    exec: { argv: [true] }\n";
    let operator = Arc::new(Scripted::on_failure(&[FailureChoice::ByHand]));
    let (record, events) = run(
        drill(text),
        Setup {
            operator: operator.clone(),
            ..Setup::default()
        },
    );
    assert_eq!(record.outcome, RunOutcome::Passed);
    assert_eq!(finished(&events), ["Breaks: Intervened", "After: Passed"]);
    assert!(events.contains(&Seen::WaitingForOperator("Breaks".into())));
    let intervention = record.steps[0].intervention.as_ref().expect("intervention");
    assert_eq!(intervention.kind, InterventionKind::DoneByHand);
    assert_eq!(*operator.asked.lock().unwrap(), ["failure: Breaks"]);

    let strict = Setup {
        operator: Arc::new(Scripted::on_failure(&[FailureChoice::ByHand])),
        strict: true,
        ..Setup::default()
    };
    let (record, _) = run(drill(text), strict);
    assert_eq!(record.outcome, RunOutcome::Failed);
    assert!(
        record
            .reasons
            .iter()
            .any(|r| r == "--strict: step `Breaks` needed an intervention"),
        "{:?}",
        record.reasons
    );
}

#[test]
fn an_abort_fails_the_step_skips_the_rest_and_cleanup_runs() {
    let d = drill(
        "drill: aborted\nsteps:\n  - name: Breaks\n    exec: { argv: [\"false\"] }\n  - name: Never\n    exec: { argv: [true] }\ncleanup:\n  - name: Tidy\n    exec: { argv: [true] }\n",
    );
    let setup = Setup {
        operator: Arc::new(Scripted::on_failure(&[FailureChoice::Abort])),
        ..Setup::default()
    };
    let (record, events) = run(d, setup);
    assert_eq!(record.outcome, RunOutcome::Failed);
    assert_eq!(
        finished(&events),
        ["Breaks: Failed", "Never: Skipped", "Tidy: Passed"]
    );
    assert!(
        record.steps[0]
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("aborted by scripted")),
        "{:?}",
        record.steps[0].error
    );
}

#[test]
fn a_manual_step_done_is_manual_done_and_counts_as_planned() {
    let d = drill("drill: manual\nsteps:\n  - name: Look\n    manual: Look at the dashboard.\n");
    let setup = Setup {
        operator: Arc::new(Scripted::at_manual(vec![ManualResult::Done])),
        strict: true,
        ..Setup::default()
    };
    let (record, events) = run(d, setup);
    assert_eq!(record.outcome, RunOutcome::Passed, "{:?}", record.reasons);
    assert_eq!(finished(&events), ["Look: ManualDone"]);
    let intervention = record.steps[0].intervention.as_ref().expect("intervention");
    assert_eq!(intervention.kind, InterventionKind::ManualStep);
}

#[test]
fn a_capture_reaches_later_steps_and_a_missing_one_skips_cleanup() {
    let d = drill(
        "drill: captures\nsteps:\n  - name: Say\n    exec: { argv: [echo, blue] }\n    capture: { colour: stdout }\n  - name: Hear\n    exec: { argv: [echo, \"sky is ${colour}\"] }\n    expect: { stdout_contains: sky is blue }\n  - name: Breaks\n    exec: { argv: [\"false\"] }\n  - name: Late\n    exec: { argv: [echo, x] }\n    capture: { late: stdout }\ncleanup:\n  - name: Uses late\n    exec: { argv: [echo, \"${late}\"] }\n",
    );
    let (record, events) = run(d, Setup::default());
    assert_eq!(
        finished(&events),
        [
            "Say: Passed",
            "Hear: Passed",
            "Breaks: Failed",
            "Late: Skipped",
            "Uses late: Skipped"
        ]
    );
    assert_eq!(record.steps[0].captures["colour"], "blue");
}

#[test]
fn when_false_skips_the_step_without_failing_the_run() {
    let d = drill(
        "drill: when\nvars: { enabled: \"no\" }\nsteps:\n  - name: Optional\n    when: ${enabled}\n    exec: { argv: [\"false\"] }\n  - name: Always\n    exec: { argv: [true] }\n",
    );
    let (record, events) = run(d, Setup::default());
    assert_eq!(record.outcome, RunOutcome::Passed);
    assert_eq!(finished(&events), ["Optional: Skipped", "Always: Passed"]);
}

#[test]
fn a_parallel_group_reports_each_sub_step_and_the_group() {
    let d = drill(
        "drill: group\nsteps:\n  - name: Fan\n    parallel:\n      max: 2\n      for_each: [a, b, c]\n      steps:\n        - name: Echo\n          exec: { argv: [echo, \"${item}\"] }\n",
    );
    let (record, events) = run(d, Setup::default());
    assert_eq!(record.outcome, RunOutcome::Passed);
    let done = finished(&events);
    assert_eq!(done.len(), 4, "three sub-steps and the group: {done:?}");
    assert_eq!(done.last().map(String::as_str), Some("Fan: Passed"));
    let children: Vec<_> = record
        .steps
        .iter()
        .filter(|s| s.parent.as_deref() == Some("Fan"))
        .collect();
    assert_eq!(children.len(), 3);
}
