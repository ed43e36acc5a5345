//! Checks of the Swarm service fields: enumerated words with located
//! did-you-mean errors, the combinations that cannot work, the templates.

use super::words;
use crate::drill::diagnostic::{Diagnostic, did_you_mean};
use crate::drill::model::{DockerAction, DockerVerb, Spanned, UpdatePolicySpec};
use crate::steps::check_context::CheckContext;

/// Checks what a service verb (or a service `wait`) adds to the docker
/// checks.
pub(crate) fn check(ctx: &mut CheckContext<'_, '_>, action: &DockerAction, verb: DockerVerb) {
    if let Some(mode) = &action.mode {
        word(ctx, mode, "mode", words::MODES);
        if mode.value == "global"
            && let Some(replicas) = &action.replicas
        {
            ctx.push(
                Diagnostic::new(
                    replicas.referenced,
                    "a `mode: global` service runs one task per node; `replicas` does not go with it",
                )
                .at_key("replicas"),
            );
        }
    }
    if let Some(publish) = &action.publish {
        word(ctx, publish, "publish", words::PUBLISH);
    }
    for text in action.ports.iter().flat_map(|p| &p.value) {
        if verb == DockerVerb::ServiceCreate
            && !text.value.contains("${")
            && let Err(why) = words::port(&text.value)
        {
            ctx.push(Diagnostic::new(text.referenced, why.to_string()));
        }
    }
    if let Some(update) = &action.update {
        policy(ctx, &update.value, false);
    }
    if let Some(rollback) = &action.rollback {
        policy(ctx, &rollback.value, true);
    }
    if let Some(condition) = action
        .restart_policy
        .as_ref()
        .and_then(|p| p.value.condition.as_ref())
    {
        word(ctx, condition, "condition", words::CONDITIONS);
    }
    if verb == DockerVerb::ServiceCreate {
        service_healthcheck(ctx, action);
    }
    if verb == DockerVerb::ServiceUpdate {
        update_changes_something(ctx, action);
    }
    detached_waits_for_nothing(ctx, action);
    render(ctx, action);
}

/// `detach: true` ends the step when the engine accepted the change: a
/// goal or a bound for a wait that never happens is a mistake.
fn detached_waits_for_nothing(ctx: &mut CheckContext<'_, '_>, action: &DockerAction) {
    if !action.detach.as_ref().is_some_and(|d| d.value) {
        return;
    }
    let waits = [
        ("until", action.until.as_ref().map(|v| v.referenced)),
        ("for", action.within.as_ref().map(|v| v.referenced)),
    ];
    for (field, at) in waits {
        if let Some(at) = at {
            ctx.push(
                Diagnostic::new(at, format!("`{field}` does not go with `detach: true`"))
                    .at_key(field)
                    .with_help(
                        "a detached step does not wait; add a `wait: NAME, until: …` step after it",
                    ),
            );
        }
    }
}

/// `until` of `wait` (container or service) and of `service_update`.
pub(crate) fn check_until(ctx: &mut CheckContext<'_, '_>, action: &DockerAction, verb: DockerVerb) {
    let Some(until) = &action.until else { return };
    let allowed: Vec<&str> = match verb {
        DockerVerb::ServiceUpdate => words::SERVICE_UNTIL.to_vec(),
        _ => [words::CONTAINER_UNTIL, words::SERVICE_UNTIL].concat(),
    };
    if !allowed.contains(&until.value.as_str()) {
        let help = match did_you_mean(&until.value, &allowed) {
            Some(meant) => format!("did you mean `{meant}`?"),
            None if verb == DockerVerb::ServiceUpdate => {
                "use converged or rolled_back".to_string()
            }
            None => "use running, healthy or exited for a container, converged or rolled_back for a service (or `log: text`)".to_string(),
        };
        ctx.push(
            Diagnostic::new(
                until.referenced,
                format!("unknown `until: {}`", until.value),
            )
            .with_help(help),
        );
        return;
    }
    if words::until(&until.value).is_none() {
        return;
    }
    // A service wait: the container wait's fields do not go with it.
    let container_only = [
        ("exit_code", action.exit_code.as_ref().map(|v| v.referenced)),
        ("log", action.log.as_ref().map(|v| v.referenced)),
        ("times", action.times.as_ref().map(|v| v.referenced)),
    ];
    for (field, at) in container_only {
        if let Some(at) = at {
            ctx.push(
                Diagnostic::new(
                    at,
                    format!("`{field}` does not go with `until: {}`", until.value),
                )
                .at_key(field)
                .with_help("a service wait takes `until` and `for`"),
            );
        }
    }
}

/// One of `allowed`, else a located error with a did-you-mean.
fn word(ctx: &mut CheckContext<'_, '_>, value: &Spanned<String>, field: &str, allowed: &[&str]) {
    if allowed.contains(&value.value.as_str()) {
        return;
    }
    let help = match did_you_mean(&value.value, allowed) {
        Some(meant) => format!("did you mean `{meant}`?"),
        None => format!("use one of: {}", allowed.join(", ")),
    };
    ctx.push(
        Diagnostic::new(
            value.referenced,
            format!("unknown `{field}: {}`", value.value),
        )
        .with_help(help),
    );
}

fn policy(ctx: &mut CheckContext<'_, '_>, policy: &UpdatePolicySpec, rollback: bool) {
    if let Some(order) = &policy.order {
        word(ctx, order, "order", words::ORDERS);
    }
    if let Some(action) = &policy.failure_action {
        if rollback && action.value == "rollback" {
            ctx.push(
                Diagnostic::new(
                    action.referenced,
                    "a rollback cannot itself roll back: its `failure_action` is pause or continue",
                )
                .at_key("failure_action"),
            );
        } else {
            word(ctx, action, "failure_action", words::FAILURE_ACTIONS);
        }
    }
    if let Some(ratio) = &policy.max_failure_ratio
        && !(0.0..=1.0).contains(&ratio.value)
    {
        ctx.push(Diagnostic::new(
            ratio.referenced,
            format!(
                "`max_failure_ratio: {}` is a fraction from 0 to 1",
                ratio.value
            ),
        ));
    }
}

/// A service's healthcheck is the engine's: `cmd`, run without a shell.
fn service_healthcheck(ctx: &mut CheckContext<'_, '_>, action: &DockerAction) {
    let Some(check) = &action.healthcheck else {
        return;
    };
    if check.value.http.is_some() || check.value.within.is_some() {
        ctx.push(
            Diagnostic::new(
                check.referenced,
                "a service's healthcheck is the engine's: `cmd`, `interval`, `timeout`, `retries`",
            )
            .with_help("`healthcheck: { cmd: [/demo-app, --check-health], interval: 1s }`; the step waits until the service converges"),
        );
    }
}

fn update_changes_something(ctx: &mut CheckContext<'_, '_>, action: &DockerAction) {
    let changes = action.image.is_some()
        || !action.env.is_empty()
        || action.env_remove.is_some()
        || action.replicas.is_some()
        || action.force.as_ref().is_some_and(|f| f.value);
    if !changes && let Some(subject) = &action.service_update {
        ctx.push(
            Diagnostic::new(subject.referenced, "`service_update` changes nothing")
                .with_help("give `image`, `env`, `env_remove`, `replicas` or `force: true`"),
        );
    }
}

fn render(ctx: &mut CheckContext<'_, '_>, action: &DockerAction) {
    for list in [&action.networks, &action.mounts, &action.env_remove]
        .into_iter()
        .flatten()
    {
        for text in &list.value {
            ctx.render_string(text);
        }
    }
}
