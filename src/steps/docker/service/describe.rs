//! A service command in plain words, for `plan`, `runbook` and logs:
//! "roll the service demo to image demo-app:2, then wait until it
//! converges (at most 2m)".

use std::time::Duration;

use super::{ServiceAction, ServiceCommand, ServiceWait};
use crate::steps::docker::swarm::{
    Change, FailureAction, Mode, Order, PublishMode, ServiceInput, Until, UpdatePolicy,
};

impl ServiceCommand {
    /// The action, then the wait, in one sentence (lower case first: the
    /// runbook capitalises it).
    pub(crate) fn describe(&self) -> String {
        let action = match &self.action {
            ServiceAction::Create(input) => create(input),
            ServiceAction::Update { name, change } => update(name, change),
            ServiceAction::Rollback { name } => {
                format!("ask the engine to roll the service {name} back to its previous spec")
            }
            ServiceAction::Scale { name, replicas } => {
                format!("scale the service {name} to {}", replicas_words(*replicas))
            }
            ServiceAction::Remove { name } => format!("remove the service {name}"),
            ServiceAction::Wait { name } => {
                return match self.wait {
                    Some(wait) => format!("wait until {}", goal(name, wait)),
                    None => format!("wait for the service {name}"),
                };
            }
        };
        match self.wait {
            Some(wait) => format!("{action}; then wait until {}", goal("it", wait)),
            None => format!("{action}, without waiting for it to converge"),
        }
    }
}

/// "the service demo converges (at most 2m)".
fn goal(subject: &str, wait: ServiceWait) -> String {
    let subject = if subject == "it" {
        subject.to_string()
    } else {
        format!("the service {subject}")
    };
    let within = humantime::format_duration(wait.within);
    match wait.until {
        Until::Converged => format!("{subject} converges (at most {within})"),
        Until::RolledBack => {
            format!("the engine has rolled {subject} back to the previous spec (at most {within})")
        }
    }
}

fn create(input: &ServiceInput) -> String {
    let mut text = format!(
        "create the service {} from image {}",
        input.name, input.image
    );
    match input.mode {
        Mode::Replicated(n) => text.push_str(&format!(" with {}", replicas_words(n))),
        Mode::Global => text.push_str(", one task on every node"),
    }
    if input.networks.iter().any(|n| n == "host") {
        text.push_str(" on host networking");
    }
    if !input.ports.is_empty() {
        let ports: Vec<String> = input
            .ports
            .iter()
            .map(|p| format!("{}:{}", p.published, p.target))
            .collect();
        let how = match input.ports[0].mode {
            PublishMode::Host => "on each node running a task",
            PublishMode::Ingress => "through the routing mesh",
        };
        text.push_str(&format!(", publishing {} {how}", ports.join(", ")));
    }
    if let Some(policy) = &input.update {
        text.push_str(&format!("; updates go {}", policy_words(policy)));
    }
    text
}

fn update(name: &str, change: &Change) -> String {
    let mut text = match &change.image {
        Some(image) => format!("roll the service {name} to image {image}"),
        None => format!("update the service {name}"),
    };
    let mut parts = Vec::new();
    if !change.env.is_empty() {
        let set: Vec<String> = change.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(format!("setting {}", set.join(", ")));
    }
    if !change.env_remove.is_empty() {
        parts.push(format!("removing {}", change.env_remove.join(", ")));
    }
    if let Some(replicas) = change.replicas {
        parts.push(format!("at {}", replicas_words(replicas)));
    }
    if change.force {
        parts.push("redeploying every task".to_string());
    }
    if !parts.is_empty() {
        let joiner = if change.image.is_some() { ", " } else { ": " };
        text.push_str(joiner);
        text.push_str(&parts.join(", "));
    }
    text
}

/// "one task at a time, starting new tasks before stopping old ones; the
/// engine rolls back on failure".
pub(super) fn policy_words(policy: &UpdatePolicy) -> String {
    let mut parts = vec![match policy.parallelism {
        None | Some(1) => "one task at a time".to_string(),
        Some(0) => "all tasks at once".to_string(),
        Some(n) => format!("{n} tasks at a time"),
    }];
    parts.push(
        match policy.order {
            Some(Order::StartFirst) => "starting new tasks before stopping old ones",
            None | Some(Order::StopFirst) => "stopping old tasks before starting new ones",
        }
        .to_string(),
    );
    if let Some(delay) = policy.delay.filter(|d| !d.is_zero()) {
        parts.push(format!("{} apart", human(delay)));
    }
    if let Some(monitor) = policy.monitor {
        parts.push(format!("watching each new task for {}", human(monitor)));
    }
    let on_failure = match policy.failure_action {
        Some(FailureAction::Rollback) => "the engine rolls back on failure",
        Some(FailureAction::Continue) => "the engine carries on past failures",
        None | Some(FailureAction::Pause) => "the engine pauses on failure",
    };
    format!("{}; {on_failure}", parts.join(", "))
}

fn replicas_words(n: u64) -> String {
    if n == 1 {
        "1 replica".to_string()
    } else {
        format!("{n} replicas")
    }
}

fn human(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_policy_reads_as_a_sentence() {
        let policy = UpdatePolicy {
            parallelism: Some(1),
            order: Some(Order::StartFirst),
            failure_action: Some(FailureAction::Rollback),
            ..Default::default()
        };
        assert_eq!(
            policy_words(&policy),
            "one task at a time, starting new tasks before stopping old ones; the engine rolls back on failure"
        );
    }

    #[test]
    fn a_wait_says_what_and_how_long() {
        let command = ServiceCommand {
            action: ServiceAction::Wait {
                name: "demo".into(),
            },
            wait: Some(ServiceWait {
                until: Until::Converged,
                within: Duration::from_secs(120),
            }),
        };
        assert_eq!(
            command.describe(),
            "wait until the service demo converges (at most 2m)"
        );
    }
}
