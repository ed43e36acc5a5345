//! One try of a step: attempts under its timeout and retry policy, a grace
//! period when the run is stopped, then its `wait:` for the service.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::context::Executor;
use super::event::Event;
use crate::drill::model::Retry;
use crate::record::format::millis;
use crate::record::{Intervention, Outcome, ServiceFacts};
use crate::steps::poll::{Poll, PollEnd};
use crate::steps::target::NoBaseUrl;
use crate::steps::{Action, Captured, StepContext, Verdict};

/// What a try of a step needs.
pub(super) struct TryPlan<'a> {
    pub action: &'a Action,
    pub ctx: &'a StepContext<'a>,
    pub timeout: Duration,
    pub retry: Option<&'a Retry>,
    pub wait: Option<&'a WaitPlan>,
    pub cancel: &'a CancellationToken,
    /// How long the attempt may go on after `cancel` fires.
    pub grace: Duration,
}

/// `wait:` resolved: poll `url` for 2xx `every` so often, `within` a limit.
pub(super) struct WaitPlan {
    pub url: Result<String, NoBaseUrl>,
    pub within: Duration,
    pub every: Duration,
}

/// Counts across the tries of one step.
#[derive(Default)]
pub(super) struct Progress {
    pub attempts: u32,
    pub human: Duration,
}

/// How one try of a step ended.
pub(super) struct Tried {
    pub outcome: Outcome,
    pub error: Option<String>,
    pub captures: Vec<Captured>,
    pub intervention: Option<Intervention>,
    /// A service step's convergence facts, from its last attempt.
    pub service: Option<ServiceFacts>,
}

impl Tried {
    pub(super) fn stop(outcome: Outcome, error: impl Into<String>) -> Self {
        Tried {
            outcome,
            error: Some(error.into()),
            captures: Vec::new(),
            intervention: None,
            service: None,
        }
    }

    /// The same ending, keeping what a service step saw.
    fn with_service(mut self, service: Option<ServiceFacts>) -> Self {
        self.service = service;
        self
    }
}

/// How one attempt ended: for good, or failed in a way a retry may fix.
enum AttemptEnd {
    Done(Tried),
    Failed {
        why: String,
        timed_out: bool,
        service: Option<ServiceFacts>,
    },
}

/// A step's retry policy, timed from its first attempt.
struct RetryPolicy {
    retries: bool,
    started: Instant,
    every: Duration,
    max_attempts: u32,
    deadline: Option<Instant>,
}

impl RetryPolicy {
    fn new(retry: Option<&Retry>) -> Self {
        let started = Instant::now();
        RetryPolicy {
            retries: retry.is_some(),
            started,
            every: retry
                .and_then(|r| r.every)
                .map_or(Duration::from_secs(1), |e| e.0),
            max_attempts: retry.map_or(1, |r| r.attempts.unwrap_or(u32::MAX)),
            deadline: retry.and_then(|r| r.within).map(|w| started + w.0),
        }
    }

    /// The step's timeout, cut to what is left of `retry.for`.
    fn attempt_timeout(&self, timeout: Duration) -> Duration {
        match self.deadline {
            Some(deadline) => timeout.min(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            ),
            None => timeout,
        }
    }

    fn may_retry(&self, attempts: u32) -> bool {
        let next_try = Instant::now() + self.every;
        self.retries && attempts < self.max_attempts && self.deadline.is_none_or(|d| next_try < d)
    }

    /// The last failure, with the attempts it took when there were several.
    fn give_up(&self, why: String, timed_out: bool, attempts: u32) -> Tried {
        let outcome = if timed_out {
            Outcome::TimedOut
        } else {
            Outcome::Failed
        };
        let why = if attempts > 1 {
            format!(
                "{why} (after {attempts} attempts in {})",
                humantime::format_duration(round_ms(self.started.elapsed()))
            )
        } else {
            why
        };
        Tried::stop(outcome, why)
    }
}

impl Executor<'_> {
    /// One try of a step: attempts under its retry policy, then `wait`.
    pub(super) async fn try_step(&self, plan: &TryPlan<'_>, progress: &mut Progress) -> Tried {
        let tried = self.attempts(plan, progress).await;
        if tried.outcome != Outcome::Passed {
            return tried;
        }
        match plan.wait {
            Some(wait) => match self.wait_until_up(wait, plan.cancel).await {
                Ok(()) => tried,
                Err(err) if plan.cancel.is_cancelled() => {
                    Tried::stop(Outcome::Cancelled, err.to_string()).with_service(tried.service)
                }
                Err(err) => {
                    Tried::stop(Outcome::Failed, err.to_string()).with_service(tried.service)
                }
            },
            None => tried,
        }
    }

    /// Attempts until one passes, the policy gives up or the run stops.
    async fn attempts(&self, plan: &TryPlan<'_>, progress: &mut Progress) -> Tried {
        let policy = RetryPolicy::new(plan.retry);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            progress.attempts += 1;
            let timeout = policy.attempt_timeout(plan.timeout);
            let why = match self.attempt(plan, timeout, progress).await {
                AttemptEnd::Done(tried) => return tried,
                AttemptEnd::Failed {
                    why,
                    timed_out,
                    service,
                } if !policy.may_retry(attempts) => {
                    return policy
                        .give_up(why, timed_out, attempts)
                        .with_service(service);
                }
                AttemptEnd::Failed { why, .. } => why,
            };
            let shown = crate::redact::redact(&why);
            self.observers.emit(Event::AttemptFailed {
                name: plan.ctx.step_name,
                attempt: attempts,
                error: &shown,
                retry_in: policy.every,
            });
            tokio::select! {
                biased;
                () = plan.cancel.cancelled() => return Tried::stop(Outcome::Cancelled, format!("cancelled while retrying; last error: {why}")),
                () = tokio::time::sleep(policy.every) => {}
            }
        }
    }

    /// One attempt under `timeout`, cancelled `grace` after a stop.
    async fn attempt(
        &self,
        plan: &TryPlan<'_>,
        timeout: Duration,
        progress: &mut Progress,
    ) -> AttemptEnd {
        let (name, action) = (plan.ctx.step_name, plan.action);
        if action.is_manual() {
            self.observers.emit(Event::WaitingForOperator { name });
        }
        let result = tokio::select! {
            biased;
            () = after_grace(plan.cancel, plan.grace) => None,
            result = tokio::time::timeout(timeout, action.attempt(plan.ctx)) => Some(result),
        };
        if action.is_manual() {
            self.observers.emit(Event::OperatorAnswered { name });
        }
        let attempt = match result {
            None => {
                let tried = Tried::stop(Outcome::Cancelled, "cancelled: the run was interrupted");
                return AttemptEnd::Done(tried);
            }
            Some(Err(_)) => {
                let why = format!("timed out after {}", humantime::format_duration(timeout));
                return AttemptEnd::Failed {
                    why,
                    timed_out: true,
                    service: None,
                };
            }
            Some(Ok(attempt)) => attempt,
        };
        progress.human += attempt.human;
        let done = |outcome, error| {
            AttemptEnd::Done(Tried {
                outcome,
                error,
                captures: Vec::new(),
                intervention: attempt.intervention.clone(),
                service: attempt.service.clone(),
            })
        };
        match attempt.verdict {
            Verdict::Passed => AttemptEnd::Done(Tried {
                outcome: Outcome::Passed,
                error: None,
                captures: attempt.captures,
                intervention: attempt.intervention,
                service: attempt.service,
            }),
            Verdict::ManualDone => done(Outcome::ManualDone, None),
            Verdict::Skipped(why) => done(Outcome::Skipped, Some(why)),
            Verdict::Failed(why) if action.is_manual() => done(Outcome::Failed, Some(why)),
            Verdict::Failed(why) => AttemptEnd::Failed {
                why,
                timed_out: false,
                service: attempt.service,
            },
        }
    }

    /// Polls the `wait:` URL until it answers 2xx, for a deploy to come up.
    async fn wait_until_up(
        &self,
        wait: &WaitPlan,
        cancel: &CancellationToken,
    ) -> Result<(), WaitError> {
        let url = wait
            .url
            .as_deref()
            .map_err(|err| WaitError::BadUrl(err.clone()))?;
        let poll = Poll {
            http: &self.http,
            url,
            within: wait.within,
            every: wait.every,
        };
        // Nothing to check between two polls: the poll never stops early.
        poll.until_2xx(cancel, || async { Ok::<(), Infallible>(()) })
            .await
            .map_err(|end| match end {
                PollEnd::TimedOut { last } => WaitError::NotUp {
                    url: url.to_string(),
                    within: wait.within,
                    last,
                },
                PollEnd::Cancelled => WaitError::Cancelled,
                PollEnd::Stopped(never) => match never {},
            })
    }
}

/// Why a step's `wait:` did not see the service come up.
#[derive(Debug, thiserror::Error)]
pub(super) enum WaitError {
    /// The URL could not be made from the base URL and the path.
    #[error(transparent)]
    BadUrl(NoBaseUrl),
    #[error("wait: {url} did not answer 2xx within {}; last: {last}", humantime::format_duration(*.within))]
    NotUp {
        url: String,
        within: Duration,
        last: String,
    },
    #[error("cancelled while waiting for the service")]
    Cancelled,
}

/// Resolves `grace` after `cancel` fires: a running step gets that long to
/// finish before it is cancelled.
async fn after_grace(cancel: &CancellationToken, grace: Duration) {
    cancel.cancelled().await;
    tokio::time::sleep(grace).await;
}

fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(millis(duration))
}
