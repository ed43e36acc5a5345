//! Checks of a `docker` step: one verb, only the fields that verb takes,
//! the fields it needs, and the templates of every field. The verbs and
//! their fields come from [`DockerVerb`], the one table of them.

use crate::drill::diagnostic::{Diagnostic, did_you_mean};
use crate::drill::model::{DockerAction, DockerVerb, Spanned, VolumesSpec};
use crate::steps::check_context::CheckContext;

/// Checks a `docker:` step.
pub(super) fn check(ctx: &mut CheckContext<'_, '_>, docker: &Spanned<DockerAction>) {
    let action = &docker.value;
    let Some((verb, subject)) = one_verb(ctx, docker) else {
        return;
    };
    ctx.render_string(subject);
    check_fields_go_with(ctx, action, verb);
    check_required(ctx, action, verb, subject);
    check_verb_values(ctx, action, verb, subject);
    super::service::check::check_until(ctx, action, verb);
    if verb.is_service() {
        super::service::check::check(ctx, action, verb);
    }
    check_volumes(ctx, action, verb);
    check_healthcheck(ctx, action);
    check_engines(ctx, action, verb);
    render_fields(ctx, action);
}

/// `on:`, and `copy_image`'s `from`/`to`, name engines of `engines:`; a
/// name that is not there is located, with the closest one.
fn check_engines(ctx: &mut CheckContext<'_, '_>, action: &DockerAction, verb: DockerVerb) {
    if let Some(on) = &action.on {
        if verb == DockerVerb::CopyImage {
            ctx.push(
                Diagnostic::new(
                    on.referenced,
                    "`copy_image` names its engines with `from` and `to`, not `on`",
                )
                .at_key("on"),
            );
        } else {
            check_engine_name(ctx, on, "on");
        }
    }
    if verb != DockerVerb::CopyImage {
        return;
    }
    for (field, name) in [("from", &action.from), ("to", &action.to)] {
        if let Some(name) = name {
            check_engine_name(ctx, name, field);
        }
    }
    if let (Some(from), Some(to)) = (&action.from, &action.to) {
        if from.value == to.value {
            ctx.push(
                Diagnostic::new(
                    to.referenced,
                    format!("`copy_image` from `{}` to itself", from.value),
                )
                .with_help("`from` and `to` name two different engines of `engines:`"),
            );
        }
    }
}

/// One engine name, as written (engine names are never templated: the
/// check must know them).
fn check_engine_name(ctx: &mut CheckContext<'_, '_>, name: &Spanned<String>, field: &str) {
    let known = ctx.engine_names();
    if known.contains(&name.value.as_str()) {
        return;
    }
    let diagnostic = if known.is_empty() {
        Diagnostic::new(
            name.referenced,
            format!("`{field}: {}` names an engine, and the drill has no `engines:`", name.value),
        )
        .with_help("declare them at the top: `engines: { primary: \"unix:///var/run/docker.sock\", safe: \"${env.SAFE_DOCKER_HOST}\" }`")
    } else {
        let help = match did_you_mean(&name.value, &known) {
            Some(close) => format!("did you mean `{close}`? engines: {}", known.join(", ")),
            None => format!("engines: {}", known.join(", ")),
        };
        Diagnostic::new(
            name.referenced,
            format!("no engine `{}` in `engines:`", name.value),
        )
        .with_help(help)
    };
    ctx.push(diagnostic);
}

/// The action's one verb, or a located error.
fn one_verb<'a>(
    ctx: &mut CheckContext<'_, '_>,
    docker: &'a Spanned<DockerAction>,
) -> Option<(DockerVerb, &'a Spanned<String>)> {
    match docker.value.verbs().as_slice() {
        [] => {
            let names: Vec<&str> = DockerVerb::ALL.map(DockerVerb::name).to_vec();
            ctx.push(
                Diagnostic::new(docker.referenced, "a docker step needs a verb")
                    .with_help(format!("one of: {}", names.join(", "))),
            );
            None
        }
        [one] => Some(*one),
        [(first, _), (second, at), ..] => {
            ctx.push(
                Diagnostic::new(
                    at.referenced,
                    format!("a docker step has one verb; this one has `{first}` and `{second}`"),
                )
                .at_key(second.name())
                .with_help("split it into two steps"),
            );
            None
        }
    }
}

/// Every field set must be one the verb takes.
fn check_fields_go_with(ctx: &mut CheckContext<'_, '_>, action: &DockerAction, verb: DockerVerb) {
    let allowed = verb.fields();
    for (field, at) in action.fields() {
        if allowed.contains(&field) {
            continue;
        }
        let help = if allowed.is_empty() {
            format!("`{verb}` takes no other fields")
        } else {
            format!("`{verb}` takes: {}", allowed.join(", "))
        };
        ctx.push(
            Diagnostic::new(at, format!("`{field}` does not go with `{verb}`"))
                .at_key(field)
                .with_help(help),
        );
    }
}

/// The fields the verb cannot do without, reported at the verb.
fn check_required(
    ctx: &mut CheckContext<'_, '_>,
    action: &DockerAction,
    verb: DockerVerb,
    subject: &Spanned<String>,
) {
    let set: Vec<&str> = action.fields().into_iter().map(|(name, _)| name).collect();
    for need in verb.required() {
        let present = set.contains(&need.field) || need.or.is_some_and(|or| set.contains(&or));
        if !present {
            ctx.push(
                Diagnostic::new(
                    subject.referenced,
                    format!("`{verb}` needs `{}`", need.field),
                )
                .with_help(format!("for example `{}`", need.example)),
            );
        }
    }
}

/// Values only some verbs constrain: the subject of `sweep` (`until` is
/// checked with the service fields: it decides container or service).
fn check_verb_values(
    ctx: &mut CheckContext<'_, '_>,
    _action: &DockerAction,
    verb: DockerVerb,
    subject: &Spanned<String>,
) {
    match verb {
        DockerVerb::Sweep if subject.value != "run" => ctx.push(
            Diagnostic::new(
                subject.referenced,
                format!("`sweep: {}` is not a sweep", subject.value),
            )
            .with_help("write `sweep: run` to remove everything this run created"),
        ),
        _ => {}
    }
}

/// `volumes` is a list of mounts for `run` and a yes/no for `remove`.
fn check_volumes(ctx: &mut CheckContext<'_, '_>, action: &DockerAction, verb: DockerVerb) {
    let Some(volumes) = &action.volumes else {
        return;
    };
    let message = match (&volumes.value, verb) {
        (VolumesSpec::Remove(_), DockerVerb::Run) => {
            "`volumes` of `run` is a list of mounts, like [\"app-data:/data\"]"
        }
        (VolumesSpec::Mounts(_), DockerVerb::Remove) => "`volumes` of `remove` is true or false",
        _ => return,
    };
    ctx.push(Diagnostic::new(volumes.referenced, message));
}

fn check_healthcheck(ctx: &mut CheckContext<'_, '_>, action: &DockerAction) {
    let Some(check) = &action.healthcheck else {
        return;
    };
    if check.value.http.is_none() && check.value.cmd.is_none() {
        ctx.push(
            Diagnostic::new(check.referenced, "a healthcheck needs `http` or `cmd`")
                .with_help("`healthcheck: { http: /health }` polls the published port; `{ cmd: [...] }` runs in the container"),
        );
    }
    if let Some(path) = &check.value.http {
        ctx.render_string(path);
    }
}

/// Checks the templates of every string field.
fn render_fields(ctx: &mut CheckContext<'_, '_>, action: &DockerAction) {
    let mut strings: Vec<&Spanned<String>> = Vec::new();
    strings.extend(action.env.values());
    strings.extend(action.labels.values());
    strings.extend(action.args.values());
    for list in [
        &action.command,
        &action.entrypoint,
        &action.ports,
        &action.argv,
    ]
    .into_iter()
    .flatten()
    {
        strings.extend(list.value.iter());
    }
    for single in [
        &action.name,
        &action.image,
        &action.network,
        &action.user,
        &action.workdir,
        &action.log,
        &action.path,
        &action.to,
        &action.from,
        &action.dockerfile,
        &action.tag,
    ]
    .into_iter()
    .flatten()
    {
        strings.push(single);
    }
    for text in strings {
        ctx.render_string(text);
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::check::testing::{names, problem, problems};

    fn docker(action: &str) -> String {
        format!("drill: d\nsteps:\n  - docker: {{ {action} }}\n")
    }

    #[test]
    fn a_docker_step_without_a_verb_is_told_every_verb() {
        assert_eq!(
            problem(&docker("name: app")),
            "3:13 a docker step needs a verb (one of: run, start, stop, restart, remove, replace, exec, wait, copy_out, copy_in, build, sweep, copy_image, service_create, service_update, service_rollback, service_scale, service_remove)"
        );
    }

    #[test]
    fn two_verbs_point_at_the_second_in_table_order() {
        assert_eq!(
            problem(&docker("stop: app, start: app")),
            "3:15 a docker step has one verb; this one has `start` and `stop` (split it into two steps)"
        );
    }

    #[test]
    fn a_field_of_another_verb_is_refused_with_the_verbs_fields() {
        assert_eq!(
            problem(&docker("stop: app, image: x")),
            "3:26 `image` does not go with `stop` (`stop` takes: grace)"
        );
    }

    #[test]
    fn a_required_field_is_asked_for_with_an_example() {
        assert_eq!(
            problem(&docker("replace: app")),
            "3:24 `replace` needs `image` (for example `docker: { replace: app, image: \"demo-app:2\" }`)"
        );
        // `log` stands in for `until`.
        assert_eq!(names(&docker("wait: app, log: ready")), ["docker wait app"]);
    }

    #[test]
    fn volumes_of_remove_are_a_yes_or_no() {
        assert_eq!(
            problem(&docker("remove: app, volumes: [a]")),
            "3:37 `volumes` of `remove` is true or false ()"
        );
    }

    #[test]
    fn only_a_docker_exec_expects() {
        let yaml = "drill: d\nsteps:\n  - docker: { stop: app }\n    expect: { exit_code: 0 }\n";
        assert_eq!(
            problem(yaml),
            "4:13 a docker step has no `expect` (expectations apply to http and exec steps)"
        );
    }

    fn two_engines(step: &str) -> String {
        format!(
            "drill: d\nengines: {{ primary: \"unix:///var/run/docker.sock\", safe: \"${{env.SAFE}}\" }}\nsteps:\n  - docker: {{ {step} }}\n"
        )
    }

    #[test]
    fn an_unknown_engine_is_located_with_the_closest_name() {
        assert_eq!(
            problem(&two_engines("stop: app, on: saef")),
            "4:30 no engine `saef` in `engines:` (did you mean `safe`? engines: primary, safe)"
        );
        assert_eq!(
            problem(&two_engines("copy_image: x, from: primary, to: prod")),
            "4:49 no engine `prod` in `engines:` (engines: primary, safe)"
        );
        assert_eq!(
            names(&two_engines("stop: app, on: safe")),
            ["docker stop app"]
        );
    }

    #[test]
    fn on_needs_engines_and_copy_image_needs_two_of_them() {
        assert!(
            problem(&docker("stop: app, on: safe"))
                .starts_with("3:30 `on: safe` names an engine, and the drill has no `engines:`")
        );
        assert_eq!(
            problem(&two_engines("copy_image: x, from: safe, to: safe")),
            "4:46 `copy_image` from `safe` to itself (`from` and `to` name two different engines of `engines:`)"
        );
        assert!(
            problems(&two_engines("copy_image: x, from: primary"))
                .iter()
                .any(|p| p.contains("`copy_image` needs `to`"))
        );
        assert!(
            problem(&two_engines(
                "copy_image: x, from: primary, to: safe, on: safe"
            ))
            .contains("names its engines with `from` and `to`, not `on`")
        );
    }

    #[test]
    fn engines_and_target_docker_do_not_go_together_and_addresses_are_checked() {
        let both = "drill: d\ntarget: { docker: \"unix:///a.sock\" }\nengines: { primary: \"unix:///b.sock\" }\nsteps:\n  - sleep: 1s\n";
        assert!(
            problem(both)
                .starts_with("2:11 `target.docker` and `engines:` both say where Docker is"),
            "{}",
            problem(both)
        );
        let bad =
            "drill: d\nengines: { primary: \"/var/run/docker.sock\" }\nsteps:\n  - sleep: 1s\n";
        assert!(
            problem(bad).starts_with(
                "2:21 engine `primary`: `/var/run/docker.sock` is not an engine address"
            ),
            "{}",
            problem(bad)
        );
        let empty = "drill: d\nengines: { primary: \"\" }\nsteps:\n  - sleep: 1s\n";
        assert!(problem(empty).contains("engine `primary`: the address is empty"));
    }

    #[test]
    fn unnamed_docker_steps_are_named_by_verb_and_subject() {
        let yaml = docker("copy_out: app, path: /data, to: b.tar");
        assert_eq!(names(&yaml), ["docker copy_out app"]);
    }

    #[test]
    fn service_words_are_checked_where_they_are_written() {
        assert_eq!(
            problem(&docker(
                "service_create: d, image: x, update: { order: start-frist }"
            )),
            "3:61 unknown `order: start-frist` (did you mean `start-first`?)"
        );
        assert_eq!(
            problem(&docker("wait: d, until: rolledback")),
            "3:31 unknown `until: rolledback` (did you mean `rolled_back`?)"
        );
        assert_eq!(
            problem(&docker("service_update: d, image: x, until: healthy")),
            "3:51 unknown `until: healthy` (use converged or rolled_back)"
        );
    }

    #[test]
    fn service_verbs_take_their_own_fields_and_are_named() {
        assert_eq!(
            problem(&docker("service_scale: d, replicas: 2, image: x")),
            "3:46 `image` does not go with `service_scale` (`service_scale` takes: replicas, detach, for)"
        );
        assert_eq!(
            names(&docker("wait: d, until: converged, for: 1m")),
            ["docker wait d"]
        );
        assert_eq!(
            names(&docker("service_rollback: d")),
            ["docker service_rollback d"]
        );
    }
}
