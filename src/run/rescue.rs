//! When a standalone step fails, a person may fix it and retry, do it by
//! hand, skip it or abort. Their time at the prompt is human time, and
//! what they did is the step's intervention.

use std::time::{Duration, Instant};

use super::attempts::{Progress, Tried, TryPlan};
use super::context::Executor;
use super::event::Event;
use crate::operator::{FailureAnswer, FailureChoice, FailureRequest};
use crate::record::{Intervention, InterventionKind, Outcome, ServiceFacts};
use crate::steps::Captured;

/// How a step ended after its tries and any rescue.
pub(super) struct Rescued {
    pub outcome: Outcome,
    pub error: Option<String>,
    pub captures: Vec<Captured>,
    pub intervention: Option<Intervention>,
    pub attempts: u32,
    pub human: Duration,
    pub service: Option<ServiceFacts>,
}

/// What the operator's answer does with a failed try.
enum Next {
    /// Fixed: try again, and remember who fixed it.
    TryAgain(Intervention),
    Stop(Box<Tried>),
}

impl Executor<'_> {
    /// Tries the step; while it fails and may be rescued, asks the operator.
    pub(super) async fn try_and_rescue(&self, plan: &TryPlan<'_>, rescuable: bool) -> Rescued {
        let mut progress = Progress::default();
        let mut rescue: Option<Intervention> = None;
        let tried = loop {
            let tried = self.try_step(plan, &mut progress).await;
            let failed = matches!(tried.outcome, Outcome::Failed | Outcome::TimedOut);
            if !failed || plan.action.is_manual() || !rescuable {
                break tried;
            }
            let Ok(answer) = self.ask_operator(plan, &tried, &mut progress).await else {
                break Tried::stop(
                    Outcome::Cancelled,
                    "cancelled while waiting for the operator",
                );
            };
            let Some(answer) = answer else {
                break tried;
            };
            match apply_answer(tried, &answer) {
                Next::TryAgain(fixed) => rescue = Some(fixed),
                Next::Stop(tried) => break *tried,
            }
        };
        let (outcome, intervention) = match (tried.outcome, rescue) {
            (Outcome::Passed, Some(rescue)) => (Outcome::Intervened, Some(rescue)),
            (outcome, Some(rescue))
                if tried.intervention.is_none() && outcome != Outcome::Cancelled =>
            {
                (outcome, Some(rescue))
            }
            (outcome, _) => (outcome, tried.intervention),
        };
        Rescued {
            outcome,
            error: tried.error,
            captures: tried.captures,
            intervention,
            attempts: progress.attempts,
            human: progress.human,
            service: tried.service,
        }
    }

    /// Asks the operator what to do about a failed try; `Err` when the run
    /// is stopped meanwhile, `None` when nobody answers.
    async fn ask_operator(
        &self,
        plan: &TryPlan<'_>,
        tried: &Tried,
        progress: &mut Progress,
    ) -> Result<Option<FailureAnswer>, ()> {
        let name = plan.ctx.step_name;
        let request = FailureRequest {
            step: name.to_string(),
            error: crate::redact::redact(tried.error.as_deref().unwrap_or("failed")).into_owned(),
            attempts: progress.attempts,
        };
        self.observers.emit(Event::WaitingForOperator { name });
        let asked = Instant::now();
        let operator = self.options.operator.clone();
        let answer = tokio::select! {
            biased;
            () = plan.cancel.cancelled() => Err(()),
            answer = tokio::task::spawn_blocking(move || operator.on_failure(&request)) => Ok(answer.ok().flatten()),
        };
        progress.human += asked.elapsed();
        self.observers.emit(Event::OperatorAnswered { name });
        answer
    }
}

/// The operator's choice applied to a failed try.
fn apply_answer(tried: Tried, answer: &FailureAnswer) -> Next {
    let intervention = |kind| Intervention {
        kind,
        operator: answer.operator.clone(),
        note: answer.note.clone(),
        needed_help: answer.helped_by.is_some(),
        helped_by: answer.helped_by.clone(),
    };
    let service = tried.service.clone();
    let ended = |outcome, error, intervention| {
        Next::Stop(Box::new(Tried {
            outcome,
            error,
            captures: Vec::new(),
            intervention,
            service: service.clone(),
        }))
    };
    match answer.choice {
        FailureChoice::Retry => Next::TryAgain(intervention(InterventionKind::RetriedAfterFix)),
        FailureChoice::ByHand => ended(
            Outcome::Intervened,
            tried.error,
            Some(intervention(InterventionKind::DoneByHand)),
        ),
        FailureChoice::Skip => ended(
            Outcome::Skipped,
            tried
                .error
                .map(|e| format!("skipped by {} after: {e}", answer.operator)),
            Some(intervention(InterventionKind::Skipped)),
        ),
        FailureChoice::Abort => ended(
            tried.outcome,
            tried
                .error
                .map(|e| format!("aborted by {}: {e}", answer.operator)),
            None,
        ),
    }
}
