//! `--resume`: which steps of an earlier run stand, so the new run starts
//! at the first one that did not finish, with the captures made before it.

use crate::drill::LoadedDrill;
use crate::drill::model::CaptureSpec;
use crate::record::{Outcome, Phase, RunRecord, StepRecord};

/// The steps of `previous` a resumed run keeps, by index: every step up to
/// the first one that did not finish. A step whose captures were secret
/// (never stored) is run again, and so is everything after it.
pub(super) fn carried_steps(drill: &LoadedDrill, previous: &RunRecord) -> Vec<StepRecord> {
    let mut carried = Vec::new();
    for (index, step) in drill.drill.steps.value.iter().enumerate() {
        let Some(done) = previous
            .steps
            .iter()
            .find(|s| s.phase == Phase::Steps && s.name == drill.step_names[index])
        else {
            break;
        };
        let finished = done.started_at.is_some()
            && matches!(
                done.outcome,
                Outcome::Passed | Outcome::ManualDone | Outcome::Intervened | Outcome::Skipped
            );
        let secret_capture = step
            .value
            .capture
            .values()
            .any(|c| matches!(&c.value, CaptureSpec::Map(m) if m.secret));
        if !finished || secret_capture {
            break;
        }
        let mut kept = done.clone();
        kept.carried_from
            .get_or_insert_with(|| previous.run_id.clone());
        carried.push(kept);
    }
    carried
}
