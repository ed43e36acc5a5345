//! Semantic checks that run before anything touches a target: undefined
//! names (a capture exists only after its step), the right fields for each
//! step kind, JSONPath and regex syntax, duplicate names, empty drills.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::diagnostic::{Diagnostic, did_you_mean};
use super::model::{CaptureSpec, Drill, Expect, LocatedStep, Location, Spanned, Step, VolumesSpec};
use super::template::{Lookup, LookupError, Reference, Renderer};

/// The matchers `expect.json` and `expect.headers` understand.
pub const MATCHERS: &[&str] = &[
    "exists", "contains", "matches", "lt", "le", "gt", "ge", "eq", "ne", "length", "one_of",
];

/// Fields of `run.*`.
pub const RUN_FIELDS: &[&str] = &["id", "drill", "started_at"];

/// HTTP methods a drill may use.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Checks a parsed drill. `extra_vars` are names given with `--var`.
pub fn validate(drill: &Drill, extra_vars: &[String]) -> Vec<Diagnostic> {
    let mut checker = Checker {
        drill,
        diagnostics: Vec::new(),
        defined: extra_vars.iter().cloned().collect(),
        captured_later: HashMap::new(),
        current_var: None,
    };
    checker.check();
    checker.diagnostics
}

/// The display name of every step, in order: its `name`, or one made from
/// what it does. Steps without a name that would collide get ` #2`, ` #3`.
pub fn step_names(steps: &[LocatedStep]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    steps
        .iter()
        .map(|step| {
            let step = &step.value;
            if let Some(name) = &step.name {
                return name.value.clone();
            }
            let base = auto_name(step);
            let count = seen.entry(base.clone()).or_default();
            *count += 1;
            if *count == 1 {
                base
            } else {
                format!("{base} #{count}")
            }
        })
        .collect()
}

fn auto_name(step: &Step) -> String {
    if let Some(http) = &step.http {
        let method = http
            .value
            .method
            .as_ref()
            .map_or("GET".to_string(), |m| m.value.to_uppercase());
        return format!("{method} {}", http.value.url.value);
    }
    if let Some(exec) = &step.exec {
        if let Some(argv) = &exec.value.argv {
            let words: Vec<&str> = argv.value.iter().map(|a| a.value.as_str()).collect();
            return shorten(&words.join(" "));
        }
        if let Some(shell) = &exec.value.shell {
            return shorten(&shell.value);
        }
    }
    if let Some(manual) = &step.manual {
        return shorten(manual.value.lines().next().unwrap_or("manual step"));
    }
    if let Some(sleep) = &step.sleep {
        return format!("sleep {}", humantime::format_duration(sleep.value.0));
    }
    if let Some(group) = &step.parallel {
        return format!("{} steps in parallel", group.value.steps.value.len());
    }
    if let Some(docker) = &step.docker {
        if let Some((verb, subject)) = crate::steps::docker::verbs(&docker.value).first() {
            return format!("docker {verb} {}", subject.value);
        }
    }
    "step".to_string()
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= 60 {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(59).collect::<String>())
    }
}

/// The names a step defines for the steps after it: its captures, or a
/// parallel group's collected lists.
pub fn defines(step: &Step) -> Vec<String> {
    let mut names: Vec<String> = step.capture.keys().cloned().collect();
    if let Some(group) = &step.parallel {
        names.extend(group.value.collect.keys().cloned());
    }
    names
}

/// The kinds a step has, with where each is written.
pub fn step_kinds(step: &Step) -> Vec<(&'static str, Location)> {
    let mut kinds = Vec::new();
    if let Some(v) = &step.http {
        kinds.push(("http", v.referenced));
    }
    if let Some(v) = &step.exec {
        kinds.push(("exec", v.referenced));
    }
    if let Some(v) = &step.manual {
        kinds.push(("manual", v.referenced));
    }
    if let Some(v) = &step.sleep {
        kinds.push(("sleep", v.referenced));
    }
    if let Some(v) = &step.docker {
        kinds.push(("docker", v.referenced));
    }
    if let Some(v) = &step.parallel {
        kinds.push(("parallel", v.referenced));
    }
    kinds
}

struct Checker<'a> {
    drill: &'a Drill,
    diagnostics: Vec<Diagnostic>,
    /// Names that have a value at this point of the drill.
    defined: HashSet<String>,
    /// Capture name → the step that captures it, for "runs after this one".
    captured_later: HashMap<String, String>,
    /// The var whose value is being checked: vars resolve in order.
    current_var: Option<&'a str>,
}

impl Checker<'_> {
    fn check(&mut self) {
        let drill = self.drill;
        if drill.drill.value.trim().is_empty() {
            self.error(drill.drill.referenced, "the drill needs a name");
        }
        for (name, source) in &drill.secrets {
            let s = &source.value;
            match (&s.env, &s.file) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => self.push(
                    Diagnostic::new(
                        source.referenced,
                        format!("secret `{name}` needs exactly one source"),
                    )
                    .with_help(format!(
                        "write `{name}: {{ env: VARIABLE }}` or `{name}: {{ file: path }}`"
                    )),
                ),
            }
        }
        for (name, value) in &drill.vars {
            self.check_name(name, value.referenced, "var");
            self.current_var = Some(name);
            self.render_value(value);
            self.current_var = None;
            self.defined.insert(name.clone());
        }
        if let Some(base_url) = &drill.target.base_url {
            self.render_string(base_url);
        }
        for header in drill.target.headers.values() {
            self.render_string(header);
        }
        if let Some(docker) = &drill.target.docker {
            self.render_string(docker);
        }
        if let (Some(ca_file), true) = (&drill.target.ca_file, drill.target.is_insecure()) {
            self.push(
                Diagnostic::new(
                    ca_file.referenced,
                    "`ca_file` is unused: `insecure: true` turns certificate checks off",
                )
                .at_key("ca_file")
                .with_help("keep `ca_file` and remove `insecure`: the CA file is the safe way to trust a private certificate"),
            );
        }
        if drill.steps.value.is_empty() {
            self.push(
                Diagnostic::new(drill.steps.referenced, "the drill has no steps")
                    .with_help("add at least one step under `steps:`"),
            );
        }

        let main_names = step_names(&drill.steps.value);
        for (step, name) in drill.steps.value.iter().zip(&main_names) {
            for capture in &defines(&step.value) {
                self.captured_later
                    .entry(capture.clone())
                    .or_insert_with(|| format!("step `{name}` (line {})", step.referenced.line()));
            }
        }
        let mut seen_names = HashMap::new();
        for step in &drill.steps.value {
            self.check_step(step, &mut seen_names);
            for capture in defines(&step.value) {
                self.defined.insert(capture.clone());
                self.captured_later.remove(&capture);
            }
        }
        // Cleanup may use any capture: a missing one skips that cleanup step.
        self.captured_later.clear();
        for step in &drill.cleanup {
            self.check_step(step, &mut seen_names);
            for capture in defines(&step.value) {
                self.defined.insert(capture);
            }
        }
    }

    fn check_step(&mut self, spanned: &LocatedStep, seen_names: &mut HashMap<String, Location>) {
        let step = &spanned.value;
        let kinds = step_kinds(step);
        let kind = match kinds.as_slice() {
            [] => {
                self.push(
                    Diagnostic::new(spanned.referenced, "this step has no kind").with_help(
                        "give it exactly one of: http, exec, docker, manual, sleep, parallel",
                    ),
                );
                return;
            }
            [(kind, _)] => *kind,
            [(first, _), (second, at), ..] => {
                self.push(
                    Diagnostic::new(
                        *at,
                        format!(
                            "a step has exactly one kind; this one has `{first}` and `{second}`"
                        ),
                    )
                    .at_key(*second)
                    .with_help("split it into two steps"),
                );
                return;
            }
        };
        if let Some(name) = &step.name {
            if name.value.trim().is_empty() {
                self.error(name.referenced, "a step name cannot be empty");
            } else if let Some(first) = seen_names.get(&name.value) {
                self.push(
                    Diagnostic::new(
                        name.referenced,
                        format!("duplicate step name `{}`", name.value),
                    )
                    .with_help(format!(
                        "the first step with this name is at line {}; names key the answers file and history, so they must be unique",
                        first.line()
                    )),
                );
            } else {
                seen_names.insert(name.value.clone(), name.referenced);
            }
        }
        if let Some(when) = &step.when {
            self.render_string(when);
        }
        if let Some(wait) = &step.wait {
            self.render_string(&wait.value.http);
            self.needs_base_url(&wait.value.http);
        }
        if let Some(retry) = &step.retry {
            self.check_retry(retry);
        }
        match kind {
            "http" => self.check_http(step),
            "exec" => self.check_exec(step),
            "docker" => self.check_docker(step),
            "parallel" => self.check_parallel(step, seen_names),
            "manual" => {
                if let Some(manual) = &step.manual {
                    self.render_string(manual);
                }
            }
            _ => {}
        }
        // A docker exec expects and captures like a local exec.
        let docker_exec = step.docker.as_ref().is_some_and(|d| d.value.exec.is_some());
        let result_kind = if docker_exec { "exec" } else { kind };
        if let Some(expect) = &step.expect {
            self.check_expect(result_kind, expect);
        }
        for (name, capture) in &step.capture {
            self.check_name(name, capture.referenced, "capture");
            self.check_capture(result_kind, name, capture);
        }
    }

    fn check_retry(&mut self, retry: &Spanned<super::model::Retry>) {
        let r = &retry.value;
        if r.attempts == Some(0) {
            self.error(retry.referenced, "`attempts` must be at least 1");
        }
        if r.every.is_some_and(|e| e.0.is_zero()) {
            self.error(retry.referenced, "`every` must be longer than zero");
        }
        if r.within.is_none() && r.attempts.is_none() {
            self.push(
                Diagnostic::new(retry.referenced, "a retry needs a limit")
                    .with_help("add `for: 60s` or `attempts: 5`, so the step cannot retry forever"),
            );
        }
    }

    fn check_http(&mut self, step: &Step) {
        let Some(http) = &step.http else { return };
        let h = &http.value;
        if let Some(method) = &h.method {
            let upper = method.value.to_uppercase();
            if !METHODS.contains(&upper.as_str()) {
                let mut d = Diagnostic::new(
                    method.referenced,
                    format!("unknown HTTP method `{}`", method.value),
                );
                d.help = Some(match did_you_mean(&upper, METHODS) {
                    Some(meant) => format!("did you mean `{meant}`?"),
                    None => format!("use one of: {}", METHODS.join(", ")),
                });
                self.push(d);
            }
        }
        self.render_string(&h.url);
        self.needs_base_url(&h.url);
        for value in h.headers.values() {
            self.render_string(value);
        }
        for value in h.query.values() {
            self.render_value(value);
        }
        let bodies = [
            h.json.as_ref().map(|b| ("json", b.referenced)),
            h.body.as_ref().map(|b| ("body", b.referenced)),
            h.form.as_ref().map(|b| ("form", b.referenced)),
        ];
        let bodies: Vec<_> = bodies.into_iter().flatten().collect();
        if let [(first, _), (second, at), ..] = bodies.as_slice() {
            self.push(
                Diagnostic::new(
                    *at,
                    format!("a request has one body; this one has `{first}` and `{second}`"),
                )
                .at_key(*second)
                .with_help("keep one of json, body, form"),
            );
        }
        if let Some(json) = &h.json {
            self.render_value(json);
        }
        if let Some(body) = &h.body {
            self.render_string(body);
        }
        if let Some(form) = &h.form {
            let at = form.referenced;
            let mut renderer = Renderer::new(self);
            for value in form.value.values() {
                renderer.value_at(value, &at);
            }
            let errors = std::mem::take(&mut renderer.errors);
            self.diagnostics.extend(errors.into_iter().map(Into::into));
        }
        if let Some(auth) = &h.auth {
            match (&auth.value.bearer, &auth.value.basic) {
                (Some(token), None) => self.render_string(token),
                (None, Some(basic)) => {
                    self.render_string(&basic.user);
                    if let Some(password) = &basic.password {
                        self.render_string(password);
                    }
                }
                _ => self.push(
                    Diagnostic::new(auth.referenced, "`auth` needs exactly one of `bearer` or `basic`")
                        .with_help("write `auth: { bearer: \"${secret.TOKEN}\" }` or `auth: { basic: { user: u, password: p } }`"),
                ),
            }
        }
    }

    fn check_exec(&mut self, step: &Step) {
        let Some(exec) = &step.exec else { return };
        let e = &exec.value;
        match (&e.argv, &e.shell) {
            (Some(argv), None) => {
                if argv.value.is_empty() {
                    self.error(argv.referenced, "`argv` is empty: name the program to run");
                }
                for arg in &argv.value {
                    self.render_string(arg);
                }
            }
            (None, Some(shell)) => self.render_string(shell),
            (Some(_), Some(shell)) => self.push(
                Diagnostic::new(
                    shell.referenced,
                    "an exec step has `argv` or `shell`, not both",
                )
                .at_key("shell")
                .with_help("prefer `argv`: it never goes through a shell"),
            ),
            (None, None) => self.push(
                Diagnostic::new(
                    exec.referenced,
                    "an exec step needs `argv` (a list) or `shell` (a string)",
                )
                .with_help("for example `exec: { argv: [echo, hello] }`"),
            ),
        }
        for value in e.env.values() {
            self.render_string(value);
        }
        if let Some(cwd) = &e.cwd {
            self.render_string(cwd);
        }
    }

    fn check_parallel(&mut self, step: &Step, seen_names: &mut HashMap<String, Location>) {
        let Some(group) = &step.parallel else { return };
        let g = &group.value;
        if let Some(max) = &g.max {
            if max.value == 0 {
                self.error(max.referenced, "`max` must be at least 1");
            }
        }
        if let Some(for_each) = &g.for_each {
            match &for_each.value {
                Value::Array(_) => self.render_value(for_each),
                Value::String(text) if text.trim_start().starts_with("${") => {
                    self.render_value(for_each)
                }
                Value::Object(map) if map.len() == 1 && map.contains_key("range") => {
                    let bounds = map["range"]
                        .as_array()
                        .map(|r| r.iter().map(Value::as_i64).collect::<Vec<_>>());
                    match bounds.as_deref() {
                        Some([Some(from), Some(to)]) if from <= to && to - from < 1_000_000 => {}
                        _ => self.push(
                            Diagnostic::new(
                                for_each.referenced,
                                "`range` takes two whole numbers, lowest first: `range: [1, 20]`",
                            )
                            .with_help("at most a million items"),
                        ),
                    }
                }
                _ => self.push(Diagnostic::new(
                    for_each.referenced,
                    "`for_each` takes a list, `{ range: [FROM, TO] }` or `\"${a_captured_list}\"`",
                )),
            }
        }
        if g.steps.value.is_empty() {
            self.push(Diagnostic::new(
                g.steps.referenced,
                "a parallel group needs steps",
            ));
        }
        // Inside the group: `item` is defined, and a capture is defined for
        // the later steps of its own branch only.
        let before = self.defined.clone();
        if g.for_each.is_some() {
            self.defined.insert("item".to_string());
        }
        let mut branch_captures = HashMap::new();
        for sub in &g.steps.value {
            let kinds = step_kinds(&sub.value);
            match kinds.first() {
                Some(("manual", at)) => self.push(
                    Diagnostic::new(*at, "a manual step cannot run in parallel")
                        .at_key("manual")
                        .with_help("a person does one thing at a time: put the manual step before or after the group"),
                ),
                Some(("parallel", at)) => self.push(
                    Diagnostic::new(*at, "parallel groups do not nest")
                        .at_key("parallel")
                        .with_help("use one group with `for_each`, or two groups one after the other"),
                ),
                _ => {}
            }
            self.check_step(sub, seen_names);
            for (capture, spec) in &sub.value.capture {
                branch_captures.insert(capture.clone(), spec.referenced);
                if g.for_each.is_some() {
                    self.defined.insert(capture.clone());
                }
            }
        }
        self.defined = before;
        for (list, capture) in &g.collect {
            self.check_name(list, capture.referenced, "collected list");
            if !branch_captures.contains_key(&capture.value) {
                let known: Vec<&str> = branch_captures.keys().map(String::as_str).collect();
                let mut d = Diagnostic::new(
                    capture.referenced,
                    format!("no step in the group captures `{}`", capture.value),
                );
                if let Some(meant) = did_you_mean(&capture.value, &known) {
                    d = d.with_help(format!("did you mean `{meant}`?"));
                }
                self.push(d);
            }
        }
    }

    fn check_docker(&mut self, step: &Step) {
        use crate::steps::docker::{VERBS, fields, verbs};
        let Some(docker) = &step.docker else { return };
        let action = &docker.value;
        let set = verbs(action);
        let verb_names: Vec<&str> = VERBS.iter().map(|(v, _)| *v).collect();
        let (verb, subject) = match set.as_slice() {
            [] => {
                self.push(
                    Diagnostic::new(docker.referenced, "a docker step needs a verb")
                        .with_help(format!("one of: {}", verb_names.join(", "))),
                );
                return;
            }
            [one] => *one,
            [(first, _), (second, at), ..] => {
                self.push(
                    Diagnostic::new(
                        at.referenced,
                        format!(
                            "a docker step has one verb; this one has `{first}` and `{second}`"
                        ),
                    )
                    .at_key(*second)
                    .with_help("split it into two steps"),
                );
                return;
            }
        };
        self.render_string(subject);
        let allowed = VERBS
            .iter()
            .find(|(v, _)| *v == verb)
            .map_or(&[][..], |(_, f)| *f);
        for (field, at) in fields(action) {
            if !allowed.contains(&field) {
                let help = if allowed.is_empty() {
                    format!("`{verb}` takes no other fields")
                } else {
                    format!("`{verb}` takes: {}", allowed.join(", "))
                };
                self.push(
                    Diagnostic::new(at, format!("`{field}` does not go with `{verb}`"))
                        .at_key(field)
                        .with_help(help),
                );
            }
        }
        let need = |checker: &mut Self, present: bool, field: &str, example: &str| {
            if !present {
                checker.push(
                    Diagnostic::new(subject.referenced, format!("`{verb}` needs `{field}`"))
                        .with_help(format!("for example `{example}`")),
                );
            }
        };
        match verb {
            "replace" => need(
                self,
                action.image.is_some(),
                "image",
                "docker: { replace: app, image: \"demo-app:2\" }",
            ),
            "exec" => need(
                self,
                action.argv.is_some(),
                "argv",
                "docker: { exec: app, argv: [cat, /data/FORMAT] }",
            ),
            "wait" => {
                need(
                    self,
                    action.until.is_some() || action.log.is_some(),
                    "until",
                    "docker: { wait: app, until: healthy, for: 30s }",
                );
                if let Some(until) = &action.until {
                    if !["running", "healthy", "exited"].contains(&until.value.as_str()) {
                        self.push(
                            Diagnostic::new(
                                until.referenced,
                                format!("unknown `until: {}`", until.value),
                            )
                            .with_help("use running, healthy or exited (or `log: text`)"),
                        );
                    }
                }
            }
            "copy_out" => {
                need(
                    self,
                    action.path.is_some(),
                    "path",
                    "docker: { copy_out: app, path: /data, to: backup.tar }",
                );
                need(
                    self,
                    action.to.is_some(),
                    "to",
                    "docker: { copy_out: app, path: /data, to: backup.tar }",
                );
            }
            "copy_in" => {
                need(
                    self,
                    action.from.is_some(),
                    "from",
                    "docker: { copy_in: app, from: backup.tar, path: / }",
                );
                need(
                    self,
                    action.path.is_some(),
                    "path",
                    "docker: { copy_in: app, from: backup.tar, path: / }",
                );
            }
            "build" => need(
                self,
                action.tag.is_some(),
                "tag",
                "docker: { build: ., tag: \"demo-app:1\" }",
            ),
            "sweep" if subject.value != "run" => self.push(
                Diagnostic::new(
                    subject.referenced,
                    format!("`sweep: {}` is not a sweep", subject.value),
                )
                .with_help("write `sweep: run` to remove everything this run created"),
            ),
            _ => {}
        }
        if let Some(volumes) = &action.volumes {
            let ok = match (&volumes.value, verb) {
                (VolumesSpec::Mounts(_), "run") | (VolumesSpec::Remove(_), "remove") => true,
                _ => verb != "run" && verb != "remove",
            };
            if !ok {
                self.push(Diagnostic::new(
                    volumes.referenced,
                    match verb {
                        "run" => {
                            "`volumes` of `run` is a list of mounts, like [\"app-data:/data\"]"
                        }
                        _ => "`volumes` of `remove` is true or false",
                    },
                ));
            }
        }
        if let Some(check) = &action.healthcheck {
            if check.value.http.is_none() && check.value.cmd.is_none() {
                self.push(
                    Diagnostic::new(check.referenced, "a healthcheck needs `http` or `cmd`")
                        .with_help("`healthcheck: { http: /health }` polls the published port; `{ cmd: [...] }` runs in the container"),
                );
            }
            if let Some(path) = &check.value.http {
                self.render_string(path);
            }
        }
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
            self.render_string(text);
        }
    }

    fn check_expect(&mut self, kind: &str, expect: &Spanned<Box<Expect>>) {
        let e = &expect.value;
        let http_fields = [
            ("status", e.status.as_ref().map(|v| v.referenced)),
            ("headers", e.headers.values().next().map(|v| v.referenced)),
            ("json", e.json.values().next().map(|v| v.referenced)),
            (
                "body_contains",
                e.body_contains.as_ref().map(|v| v.referenced),
            ),
        ];
        let exec_fields = [
            ("exit_code", e.exit_code.as_ref().map(|v| v.referenced)),
            (
                "stdout_contains",
                e.stdout_contains.as_ref().map(|v| v.referenced),
            ),
            (
                "stderr_contains",
                e.stderr_contains.as_ref().map(|v| v.referenced),
            ),
            (
                "stdout_matches",
                e.stdout_matches.as_ref().map(|v| v.referenced),
            ),
        ];
        let (foreign, own_list) = match kind {
            "http" => (&exec_fields[..], "status, headers, json, body_contains"),
            "exec" => (
                &http_fields[..],
                "exit_code, stdout_contains, stderr_contains, stdout_matches",
            ),
            _ => {
                self.push(
                    Diagnostic::new(expect.referenced, format!("a {kind} step has no `expect`"))
                        .with_help("expectations apply to http and exec steps"),
                );
                return;
            }
        };
        for (field, at) in foreign {
            if let Some(at) = at {
                self.push(
                    Diagnostic::new(
                        *at,
                        format!("`{field}` is not an expectation of {kind} steps"),
                    )
                    .at_key(*field)
                    .with_help(format!("{kind} steps expect: {own_list}")),
                );
            }
        }
        for (path, value) in &e.json {
            self.check_json_path_key(path, value.referenced);
            self.check_matcher(value);
        }
        for value in e.headers.values() {
            self.check_matcher(value);
        }
        if let Some(text) = &e.body_contains {
            self.render_string(text);
        }
        for text in [&e.stdout_contains, &e.stderr_contains]
            .into_iter()
            .flatten()
        {
            self.render_string(text);
        }
        if let Some(pattern) = &e.stdout_matches {
            self.render_string(pattern);
            self.check_regex(&pattern.value, pattern.referenced);
        }
    }

    fn check_matcher(&mut self, value: &Spanned<Value>) {
        self.render_value(value);
        let Value::Object(map) = &value.value else {
            return;
        };
        if map.len() != 1 {
            return;
        }
        let Some((key, arg)) = map.iter().next() else {
            return;
        };
        if !MATCHERS.contains(&key.as_str()) {
            if let Some(meant) = did_you_mean(key, MATCHERS) {
                self.push(
                    Diagnostic::new(value.referenced, format!("unknown matcher `{key}`"))
                        .near(key.clone())
                        .with_help(format!(
                            "did you mean `{meant}`? (matchers: {})",
                            MATCHERS.join(", ")
                        )),
                );
            }
            return;
        }
        match key.as_str() {
            "matches" => match arg {
                Value::String(pattern) => self.check_regex(pattern, value.referenced),
                _ => self.error(
                    value.referenced,
                    "`matches` takes a regular expression string",
                ),
            },
            "lt" | "le" | "gt" | "ge" | "length" => {
                let templated = matches!(arg, Value::String(s) if s.contains("${"));
                if !arg.is_number() && !templated {
                    self.error(value.referenced, format!("`{key}` takes a number"));
                }
            }
            "exists" if !arg.is_boolean() => {
                self.error(value.referenced, "`exists` takes true or false");
            }
            "one_of" if !arg.is_array() => {
                self.error(value.referenced, "`one_of` takes a list");
            }
            _ => {}
        }
    }

    fn check_capture(&mut self, kind: &str, name: &str, capture: &Spanned<CaptureSpec>) {
        let at = capture.referenced;
        match (kind, &capture.value) {
            ("http", CaptureSpec::Shorthand(text)) => {
                if text != "status" {
                    self.check_json_path(text, at);
                }
            }
            ("http", CaptureSpec::Map(map)) => {
                match (&map.path, &map.header, &map.stdout_regex) {
                    (Some(path), None, None) => self.check_json_path(path, at),
                    (None, Some(_), None) => {}
                    _ => self.push(
                        Diagnostic::new(at, format!("capture `{name}` of an http step needs exactly one of `path` or `header`"))
                            .with_help("for example `{ path: \"$.token\", secret: true }` or `{ header: Location }`"),
                    ),
                }
            }
            ("exec", CaptureSpec::Shorthand(text)) => {
                if !["stdout", "stderr", "exit_code"].contains(&text.as_str()) {
                    self.push(
                        Diagnostic::new(at, format!("capture `{name}` of an exec step cannot read `{text}`"))
                            .with_help("use `stdout`, `stderr`, `exit_code` or `{ stdout_regex: \"…\" }`"),
                    );
                }
            }
            ("exec", CaptureSpec::Map(map)) => match (&map.stdout_regex, &map.path, &map.header) {
                (Some(pattern), None, None) => self.check_regex(pattern, at),
                _ => self.push(
                    Diagnostic::new(at, format!("capture `{name}` of an exec step takes `stdout_regex`"))
                        .with_help("for example `{ stdout_regex: \"version (\\\\S+)\" }`"),
                ),
            },
            _ => self.push(
                Diagnostic::new(at, format!("a {kind} step captures nothing"))
                    .with_help("captures apply to http and exec steps"),
            ),
        }
    }

    fn check_json_path(&mut self, path: &str, at: Location) {
        if let Some(d) = json_path_problem(path, at) {
            self.push(d);
        }
    }

    /// A JSONPath written as a map key, its value at `at`.
    fn check_json_path_key(&mut self, path: &str, at: Location) {
        if let Some(d) = json_path_problem(path, at) {
            self.push(d.at_key(path));
        }
    }

    fn check_regex(&mut self, pattern: &str, at: Location) {
        if pattern.contains("${") {
            return;
        }
        if let Err(err) = regex::Regex::new(pattern) {
            let detail = err.to_string();
            let last = detail.lines().last().unwrap_or(&detail).trim().to_string();
            self.push(Diagnostic::new(
                at,
                format!("invalid regular expression `{pattern}`: {last}"),
            ));
        }
    }

    fn check_name(&mut self, name: &str, at: Location, what: &str) {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !["env", "secret", "run", "target", "item"].contains(&name);
        if !valid {
            self.push(
                Diagnostic::new(at, format!("`{name}` cannot be a {what} name"))
                    .with_help("use letters, digits, `_` and `-`; env, secret, run, target and item are reserved"),
            );
        }
    }

    fn needs_base_url(&mut self, url: &Spanned<String>) {
        let absolute = crate::steps::http::is_absolute(&url.value) || url.value.starts_with("${");
        if !absolute && self.drill.target.base_url.is_none() {
            self.push(
                Diagnostic::new(
                    url.referenced,
                    format!(
                        "`{}` is relative, but the drill has no `target.base_url`",
                        url.value
                    ),
                )
                .with_help("add `target: { base_url: http://… }` or write an absolute URL"),
            );
        }
    }

    fn render_string(&mut self, text: &Spanned<String>) {
        let mut renderer = Renderer::new(self);
        renderer.string(text);
        let errors = std::mem::take(&mut renderer.errors);
        self.diagnostics.extend(errors.into_iter().map(Into::into));
    }

    fn render_value(&mut self, value: &Spanned<Value>) {
        let mut renderer = Renderer::new(self);
        renderer.value(value);
        let errors = std::mem::take(&mut renderer.errors);
        self.diagnostics.extend(errors.into_iter().map(Into::into));
    }

    fn error(&mut self, at: Location, message: impl Into<String>) {
        self.push(Diagnostic::new(at, message));
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

impl Lookup for Checker<'_> {
    fn lookup(&self, reference: &Reference) -> Result<Option<Value>, LookupError> {
        let placeholder = || Ok(Some(Value::String(format!("${{{}}}", reference.display()))));
        match reference {
            Reference::Env(_) => placeholder(),
            Reference::Secret(name) => {
                if self.drill.secrets.contains_key(name) {
                    return placeholder();
                }
                let declared: Vec<&str> = self.drill.secrets.keys().map(String::as_str).collect();
                let err = LookupError::new(format!("secret `{name}` is not declared"));
                Err(match did_you_mean(name, &declared) {
                    Some(meant) => err.with_help(format!("did you mean `secret.{meant}`?")),
                    None => err.with_help(format!(
                        "declare it: `secrets: {{ {name}: {{ env: VARIABLE }} }}`"
                    )),
                })
            }
            Reference::Run(field) => {
                if RUN_FIELDS.contains(&field.as_str()) {
                    placeholder()
                } else {
                    Err(LookupError::new(format!("`run.{field}` does not exist"))
                        .with_help(format!("available: run.{}", RUN_FIELDS.join(", run."))))
                }
            }
            Reference::Target(field) => {
                if field == "base_url" && self.drill.target.base_url.is_some() {
                    placeholder()
                } else {
                    Err(
                        LookupError::new(format!("`target.{field}` is not set")).with_help(
                            "only `target.base_url` can be referenced, when the drill sets it",
                        ),
                    )
                }
            }
            Reference::Name { root, .. } => {
                if self.defined.contains(root) {
                    return placeholder();
                }
                if let Some(step) = self.captured_later.get(root) {
                    return Err(LookupError::new(format!(
                        "`{root}` is captured by {step}, which runs after this one"
                    ))
                    .with_help("move this step after the one that captures it"));
                }
                if root == "item" {
                    return Err(LookupError::new("`item` is defined only inside `for_each`"));
                }
                if let Some(current) = self.current_var {
                    if current == root {
                        return Err(LookupError::new(format!("var `{root}` refers to itself"))
                            .with_help("a var cannot be defined in terms of itself: give it a value, or use another var defined above it"));
                    }
                    if let Some(later) = self.drill.vars.get(root.as_str()) {
                        let line = later.referenced.line();
                        if refers_to(&later.value, current) {
                            return Err(LookupError::new(format!(
                                "vars `{current}` and `{root}` refer to each other"
                            ))
                            .with_help(format!(
                                "vars resolve in order, so neither can come first: give one of them a value (`{root}` is at line {line})"
                            )));
                        }
                        return Err(LookupError::new(format!(
                            "`{root}` is defined later, at line {line}"
                        ))
                        .with_help(format!(
                            "vars resolve in order, top to bottom: move `{root}` above `{current}`"
                        )));
                    }
                }
                let known: Vec<&str> = self.defined.iter().map(String::as_str).collect();
                let err = LookupError::new(format!("`{root}` is not defined"));
                Err(match did_you_mean(root, &known) {
                    Some(meant) => err.with_help(format!("did you mean `{meant}`?")),
                    None => err.with_help(
                        "define it under `vars:`, capture it in an earlier step, pass `--var NAME=VALUE`, or use `${env.NAME}`",
                    ),
                })
            }
        }
    }
}

/// Whether a var's value uses `${name}` (or `${name.field}`) anywhere.
fn refers_to(value: &Value, name: &str) -> bool {
    match value {
        Value::String(text) => super::template::expressions(text)
            .iter()
            .any(|expr| matches!(&expr.reference, Reference::Name { root, .. } if root == name)),
        Value::Array(items) => items.iter().any(|v| refers_to(v, name)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| refers_to(&Value::String(k.clone()), name) || refers_to(v, name)),
        _ => false,
    }
}

fn json_path_problem(path: &str, at: Location) -> Option<Diagnostic> {
    if path.contains("${") {
        return None;
    }
    let err = crate::steps::http::compile_path(path).err()?;
    Some(
        Diagnostic::new(at, err)
            .with_help("JSONPath starts at `$`: `$.id`, `$.items[0].name`, `$[*].role` (RFC 9535)"),
    )
}
