//! The words a drill may write for a service's enumerated fields, read by
//! both the checks (located errors, did-you-mean) and the resolving.

use crate::steps::docker::swarm::{FailureAction, Order, PublishMode, RestartCondition, Until};

/// `until:` values that wait for a service (the others wait for a container).
pub(crate) const SERVICE_UNTIL: &[&str] = &["converged", "rolled_back"];
/// `until:` values of a container `wait`.
pub(crate) const CONTAINER_UNTIL: &[&str] = &["running", "healthy", "exited"];
pub(crate) const ORDERS: &[&str] = &["stop-first", "start-first"];
pub(crate) const FAILURE_ACTIONS: &[&str] = &["pause", "continue", "rollback"];
pub(crate) const CONDITIONS: &[&str] = &["none", "on-failure", "any"];
pub(crate) const MODES: &[&str] = &["replicated", "global"];
pub(crate) const PUBLISH: &[&str] = &["ingress", "host"];

pub(crate) fn until(word: &str) -> Option<Until> {
    match word {
        "converged" => Some(Until::Converged),
        "rolled_back" => Some(Until::RolledBack),
        _ => None,
    }
}

pub(crate) fn order(word: &str) -> Option<Order> {
    match word {
        "stop-first" => Some(Order::StopFirst),
        "start-first" => Some(Order::StartFirst),
        _ => None,
    }
}

pub(crate) fn failure_action(word: &str) -> Option<FailureAction> {
    match word {
        "pause" => Some(FailureAction::Pause),
        "continue" => Some(FailureAction::Continue),
        "rollback" => Some(FailureAction::Rollback),
        _ => None,
    }
}

pub(crate) fn condition(word: &str) -> Option<RestartCondition> {
    match word {
        "none" => Some(RestartCondition::None),
        "on-failure" => Some(RestartCondition::OnFailure),
        "any" => Some(RestartCondition::Any),
        _ => None,
    }
}

pub(crate) fn publish(word: &str) -> Option<PublishMode> {
    match word {
        "ingress" => Some(PublishMode::Ingress),
        "host" => Some(PublishMode::Host),
        _ => None,
    }
}

/// A service port that is not `PUBLISHED:TARGET` with two ports from 1 to
/// 65535: located by the checks, or found once a template is rendered.
#[derive(Debug, thiserror::Error)]
#[error(
    "port `{0}` of a service is PUBLISHED:TARGET, like \"18090:8080\" (numbers from 1 to 65535)"
)]
pub(crate) struct PortError(String);

/// `"18090:8080"`: the published port, then the task's port.
pub(crate) fn port(text: &str) -> Result<(u16, u16), PortError> {
    let parsed = text
        .split_once(':')
        .and_then(|(published, target)| Some((published.parse().ok()?, target.parse().ok()?)));
    match parsed {
        Some((published, target)) if published > 0 && target > 0 => Ok((published, target)),
        _ => Err(PortError(text.to_string())),
    }
}
