//! `manual`: a planned step a person does. The operator (a terminal prompt,
//! an answers file or a policy) says how it went; the wait is human time.

use std::time::Instant;

use super::{Attempt, StepContext, Verdict};
use crate::operator::{ManualAnswer, ManualRequest, ManualResult};
use crate::record::{Intervention, InterventionKind};

/// A manual step ready to show.
#[derive(Debug)]
pub struct ManualPrompt {
    /// The instructions, with templates resolved.
    pub instructions: String,
}

impl ManualPrompt {
    /// Asks the operator and times the answer.
    pub async fn attempt(&self, ctx: &StepContext<'_>) -> Attempt {
        let request = ManualRequest {
            step: ctx.step_name.to_string(),
            instructions: self.instructions.clone(),
            owner: ctx.owner.map(str::to_string),
            budget: ctx.budget,
        };
        let operator = ctx.operator.clone();
        let started = Instant::now();
        // Prompts block on a terminal read: keep them off the async workers.
        let answer = tokio::task::spawn_blocking(move || operator.manual(&request)).await;
        let human = started.elapsed();
        let answer =
            answer.unwrap_or_else(|err| ManualAnswer::failed(format!("the prompt crashed: {err}")));
        let intervention = |needed_help: bool| Intervention {
            kind: InterventionKind::ManualStep,
            operator: answer.operator.clone(),
            note: answer.note.clone(),
            needed_help,
            helped_by: answer.helped_by.clone(),
        };
        let (verdict, intervention) = match &answer.result {
            ManualResult::Done => (Verdict::ManualDone, Some(intervention(false))),
            ManualResult::Helped => (Verdict::ManualDone, Some(intervention(true))),
            ManualResult::Failed(why) => (Verdict::Failed(why.clone()), Some(intervention(false))),
            ManualResult::Skipped(why) => (Verdict::Skipped(why.clone()), None),
        };
        Attempt {
            verdict,
            captures: Vec::new(),
            human,
            intervention,
        }
    }
}
