//! The `http` step as written: its checks, automatic name, runbook
//! sentence, and the resolving of its templates into an [`HttpRequest`].

use super::HttpRequest;
use crate::drill::diagnostic::{Diagnostic, did_you_mean};
use crate::drill::model::{HttpAction, HttpAuth, Spanned, Step};
use crate::drill::template::Renderer;
use crate::steps::attempt::plain;
use crate::steps::check_context::CheckContext;
use crate::steps::error::StepError;
use crate::steps::kind::{Action, Kind, Results};
use crate::steps::target::ResolvedTarget;

/// HTTP methods a drill may use.
pub(super) const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// An `http:` step.
pub(crate) struct HttpKind<'a>(pub &'a Spanned<HttpAction>);

impl HttpKind<'_> {
    /// The method as sent: upper case, `GET` when absent.
    fn method(&self) -> String {
        self.0
            .value
            .method
            .as_ref()
            .map_or("GET".to_string(), |m| m.value.to_uppercase())
    }
}

impl Kind for HttpKind<'_> {
    fn check(&self, ctx: &mut CheckContext<'_, '_>) {
        let h = &self.0.value;
        if let Some(method) = &h.method {
            check_method(ctx, method);
        }
        ctx.render_string(&h.url);
        ctx.needs_base_url(&h.url);
        for value in h.headers.values() {
            ctx.render_string(value);
        }
        for value in h.query.values() {
            ctx.render_value(value);
        }
        check_body(ctx, h);
        if let Some(auth) = &h.auth {
            check_auth(ctx, auth);
        }
    }

    fn auto_name(&self) -> String {
        format!("{} {}", self.method(), self.0.value.url.value)
    }

    fn results(&self) -> Results {
        Results::Response
    }

    fn describe_runbook(&self, _step: &Step) -> String {
        let h = &self.0.value;
        let mut text = format!("Send `{} {}`", self.method(), h.url.value);
        if let Some(json) = &h.json {
            text.push_str(&format!(" with the JSON `{}`", plain(&json.value)));
        } else if h.body.is_some() {
            text.push_str(" with a text body");
        } else if h.form.is_some() {
            text.push_str(" with a form");
        }
        if !h.query.is_empty() {
            let query: Vec<String> = h
                .query
                .iter()
                .map(|(k, v)| format!("{k}={}", plain(&v.value)))
                .collect();
            text.push_str(&format!(" and the query `{}`", query.join("&")));
        }
        if h.auth.is_some() {
            text.push_str(", with its own credentials");
        }
        format!("{text}.")
    }

    fn resolve(
        &self,
        step: &Step,
        renderer: &mut Renderer<'_>,
        target: &ResolvedTarget,
    ) -> Result<Action, StepError> {
        HttpRequest::resolve(&self.0.value, step, renderer, target)
            .map(|request| Box::new(request) as Action)
            .map_err(StepError::from)
    }
}

fn check_method(ctx: &mut CheckContext<'_, '_>, method: &Spanned<String>) {
    let upper = method.value.to_uppercase();
    if METHODS.contains(&upper.as_str()) {
        return;
    }
    let mut d = Diagnostic::new(
        method.referenced,
        format!("unknown HTTP method `{}`", method.value),
    );
    d.help = Some(match did_you_mean(&upper, METHODS) {
        Some(meant) => format!("did you mean `{meant}`?"),
        None => format!("use one of: {}", METHODS.join(", ")),
    });
    ctx.push(d);
}

/// One body at most, and the templates inside it.
fn check_body(ctx: &mut CheckContext<'_, '_>, h: &HttpAction) {
    let bodies = [
        h.json.as_ref().map(|b| ("json", b.referenced)),
        h.body.as_ref().map(|b| ("body", b.referenced)),
        h.form.as_ref().map(|b| ("form", b.referenced)),
    ];
    let bodies: Vec<_> = bodies.into_iter().flatten().collect();
    if let [(first, _), (second, at), ..] = bodies.as_slice() {
        ctx.push(
            Diagnostic::new(
                *at,
                format!("a request has one body; this one has `{first}` and `{second}`"),
            )
            .at_key(*second)
            .with_help("keep one of json, body, form"),
        );
    }
    if let Some(json) = &h.json {
        ctx.render_value(json);
    }
    if let Some(body) = &h.body {
        ctx.render_string(body);
    }
    if let Some(form) = &h.form {
        ctx.render_values_at(form.value.values(), form.referenced);
    }
}

fn check_auth(ctx: &mut CheckContext<'_, '_>, auth: &Spanned<HttpAuth>) {
    match (&auth.value.bearer, &auth.value.basic) {
        (Some(token), None) => ctx.render_string(token),
        (None, Some(basic)) => {
            ctx.render_string(&basic.user);
            if let Some(password) = &basic.password {
                ctx.render_string(password);
            }
        }
        _ => ctx.push(
            Diagnostic::new(auth.referenced, "`auth` needs exactly one of `bearer` or `basic`")
                .with_help("write `auth: { bearer: \"${secret.TOKEN}\" }` or `auth: { basic: { user: u, password: p } }`"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::check::testing::{names, problem};

    const TARGET: &str = "drill: d\ntarget: { base_url: \"http://localhost\" }\nsteps:\n";

    #[test]
    fn an_unknown_method_gets_a_did_you_mean() {
        let yaml = format!("{TARGET}  - http: {{ method: PSOT, url: /x }}\n");
        assert_eq!(
            problem(&yaml),
            "4:21 unknown HTTP method `PSOT` (did you mean `POST`?)"
        );
    }

    #[test]
    fn a_request_has_one_body() {
        let yaml = format!("{TARGET}  - http: {{ url: /x, json: {{a: 1}}, body: text }}\n");
        assert_eq!(
            problem(&yaml),
            "4:36 a request has one body; this one has `json` and `body` (keep one of json, body, form)"
        );
    }

    #[test]
    fn a_relative_url_needs_a_base_url() {
        assert_eq!(
            problem("drill: d\nsteps:\n  - http: { url: /health }\n"),
            "3:18 `/health` is relative, but the drill has no `target.base_url` (add `target: { base_url: http://… }` or write an absolute URL)"
        );
    }

    #[test]
    fn an_exec_expectation_on_http_names_the_http_ones() {
        let yaml = format!("{TARGET}  - http: {{ url: /x }}\n    expect: {{ exit_code: 0 }}\n");
        assert_eq!(
            problem(&yaml),
            "5:15 `exit_code` is not an expectation of http steps (http steps expect: status, headers, json, body_contains)"
        );
    }

    #[test]
    fn unnamed_requests_are_named_by_method_and_url() {
        let yaml =
            format!("{TARGET}  - http: {{ url: /a }}\n  - http: {{ method: post, url: /b }}\n");
        assert_eq!(names(&yaml), ["GET /a", "POST /b"]);
    }
}
