//! `http`: one request against the target, its expectations and captures.
//! `kind.rs` checks, names and describes the step as written; this module
//! runs it.

mod error;
mod kind;
mod tls;

pub(crate) use error::HttpError;
pub(crate) use kind::HttpKind;

use reqwest::header::HeaderMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::attempt::{Attempt, Captured, error_chain, excerpt, register_secret_capture};
use super::context::StepContext;
use super::json_path::compile_path;
use super::kind::{AttemptFuture, Resolved};
use super::matchers::{check, show};
use super::target::{ResolvedTarget, join_url};
use crate::drill::diagnostic::Diagnostic;
use crate::drill::model::{CaptureSpec, Expect, HttpAction, HttpAuth, Step, Target};
use crate::drill::template::{Renderer, to_text};
use crate::kind::StepKind;

/// A request body.
#[derive(Debug)]
pub(crate) enum Body {
    None,
    Json(Value),
    Text(String),
    Form(Vec<(String, String)>),
}

/// Credentials, resolved.
#[derive(Debug)]
pub(crate) enum Auth {
    Bearer(String),
    Basic {
        user: String,
        password: Option<String>,
    },
}

/// Where a capture reads from.
#[derive(Debug)]
pub(crate) enum CaptureSource {
    Path(Arc<JsonPath>),
    Header(String),
    Status,
}

/// A capture, resolved.
#[derive(Debug)]
pub(crate) struct Capture {
    pub name: String,
    pub source: CaptureSource,
    pub secret: bool,
}

/// The expectations of an HTTP step, resolved.
#[derive(Debug, Default)]
pub(crate) struct Expectations {
    /// Accepted codes; `None` accepts anything below 400.
    pub status: Option<Vec<u16>>,
    pub headers: Vec<(String, Value)>,
    pub json: Vec<(String, Arc<JsonPath>, Value)>,
    pub body_contains: Option<String>,
}

/// An HTTP step ready to run.
#[derive(Debug)]
pub(crate) struct HttpRequest {
    pub method: Method,
    /// The URL as the drill wrote it, for messages.
    pub url: String,
    /// The same URL parsed, as it is sent; `None` when it does not parse
    /// (sending then fails with a clear error).
    pub parsed_url: Option<reqwest::Url>,
    /// Every header the request sends but `auth`: the target's, replaced
    /// or added to by the step's.
    pub headers: Vec<(String, String)>,
    /// The target's headers are sent unchanged, already parsed.
    pub target_headers: Option<reqwest::header::HeaderMap>,
    pub query: Vec<(String, String)>,
    pub body: Body,
    pub auth: Option<Auth>,
    pub timeout: Option<Duration>,
    /// This request's own response-size limit (`max_response`), over the
    /// drill's.
    pub max_response: Option<usize>,
    pub expect: Expectations,
    pub captures: Vec<Capture>,
}

impl HttpRequest {
    /// Resolves templates and compiles `JSONPaths`.
    pub(crate) fn resolve(
        spec: &HttpAction,
        step: &Step,
        r: &mut Renderer<'_>,
        target: &ResolvedTarget,
    ) -> Result<Self, HttpError> {
        let method_text = spec
            .method
            .as_ref()
            .map_or("GET".to_string(), |m| m.value.to_uppercase());
        let method = Method::from_bytes(method_text.as_bytes())
            .map_err(|_| HttpError::Method(method_text.clone()))?;
        let path = r.string(&spec.url);
        let url = join_url(target.base_url.as_deref(), &path)?;
        let parsed = target.parsed();
        let parsed_url = parsed.url(&path, &url);
        let mut headers = target.headers.clone();
        for (name, value) in &spec.headers {
            let value = r.string(value);
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value));
        }
        let query = spec
            .query
            .iter()
            .map(|(name, value)| (name.clone(), to_text(&r.value(value))))
            .collect();
        let body = Body::resolve(spec, r);
        let auth = spec
            .auth
            .as_ref()
            .and_then(|auth| Auth::resolve(&auth.value, r));
        if auth.is_some() {
            // The step's own credentials replace the target's.
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        }
        let target_headers = (headers == target.headers)
            .then(|| parsed.headers.clone())
            .flatten();
        let expect = match &step.expect {
            Some(e) => Expectations::resolve(&e.value, r)?,
            None => Expectations::default(),
        };
        let captures = Capture::resolve_all(step)?;
        Ok(HttpRequest {
            method,
            url,
            parsed_url,
            headers,
            target_headers,
            query,
            body,
            auth,
            timeout: spec.timeout.as_ref().map(|t| t.value.0),
            max_response: spec.max_response.as_ref().map(|m| m.value.0 as usize),
            expect,
            captures,
        })
    }

    /// Sends the request, reads the response (bounded), checks it and
    /// captures from it.
    pub(crate) async fn send(&self, ctx: &StepContext<'_>) -> Attempt {
        let mut response = match self.request(ctx).send().await {
            Ok(response) => response,
            Err(err) => return Attempt::failed(describe_send_error(&self.url, &err)),
        };
        let status = response.status().as_u16();
        // Reading the body needs no header: take them rather than copy.
        let headers = std::mem::take(response.headers_mut());
        let limit = self.max_response.unwrap_or(ctx.max_body_bytes);
        let body = match self.read_body(response, limit).await {
            Ok(body) => body,
            Err(why) => return Attempt::failed(why.to_string()),
        };
        let checked = self
            .check(status, &headers, &body)
            .and_then(|json| self.capture(status, &headers, &json));
        match checked {
            Ok(captured) => Attempt::passed(captured),
            Err(why) => Attempt::failed(why.to_string()),
        }
    }

    /// The request as resolved: URL, headers, query, body and credentials.
    fn request(&self, ctx: &StepContext<'_>) -> reqwest::RequestBuilder {
        let mut builder = match &self.parsed_url {
            Some(url) => ctx.http.request(self.method.clone(), url.clone()),
            None => ctx.http.request(self.method.clone(), &self.url),
        };
        match &self.target_headers {
            Some(parsed) => builder = builder.headers(parsed.clone()),
            None => {
                for (name, value) in &self.headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
            }
        }
        if !self.query.is_empty() {
            builder = builder.query(&self.query);
        }
        builder = match &self.body {
            Body::None => builder,
            Body::Json(value) => builder.json(value),
            Body::Text(text) => builder.body(text.clone()),
            Body::Form(fields) => builder.form(fields),
        };
        match &self.auth {
            Some(Auth::Bearer(token)) => builder.bearer_auth(token),
            Some(Auth::Basic { user, password }) => builder.basic_auth(user, password.as_ref()),
            None => builder,
        }
    }

    /// Reads the body, never more than `limit` bytes: a declared length
    /// over it fails before reading anything.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        limit: usize,
    ) -> Result<Vec<u8>, HttpError> {
        let too_large = |declared: bool| HttpError::TooLarge {
            method: self.method.clone(),
            url: self.url.clone(),
            limit,
            declared,
        };
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large(true));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(too_large(false));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(source) => {
                    return Err(HttpError::Read {
                        method: self.method.clone(),
                        url: self.url.clone(),
                        source,
                    });
                }
            }
        }
    }

    /// Checks status, headers, body text and JSON; the parsed JSON when a
    /// check or capture needs it (else null).
    fn check(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Result<Value, HttpError> {
        // Decoded only when a message or `body_contains` needs it: most
        // steps never look at the body as text.
        let text = || String::from_utf8_lossy(body);
        self.check_status(status, &text)?;
        for (name, expected) in &self.expect.headers {
            let actual = headers
                .get(name.as_str())
                .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()));
            check(actual.as_ref(), expected).map_err(|source| HttpError::Header {
                name: name.clone(),
                source,
            })?;
        }
        if let Some(part) = &self.expect.body_contains {
            if !text().contains(part.as_str()) {
                return Err(HttpError::BodyLacks {
                    part: part.clone(),
                    body: excerpt(&text(), 300),
                });
            }
        }
        let needs_json = !self.expect.json.is_empty()
            || self
                .captures
                .iter()
                .any(|c| matches!(c.source, CaptureSource::Path(_)));
        if !needs_json {
            return Ok(Value::Null);
        }
        let json: Value = serde_json::from_slice(body).map_err(|source| HttpError::NotJson {
            source,
            body: excerpt(&text(), 300),
        })?;
        for (path, compiled, expected) in &self.expect.json {
            let found = query(compiled, &json);
            check(found.as_ref(), expected).map_err(|source| HttpError::Json {
                path: path.clone(),
                source,
            })?;
        }
        Ok(json)
    }

    fn check_status<'b>(
        &self,
        status: u16,
        text: &impl Fn() -> std::borrow::Cow<'b, str>,
    ) -> Result<(), HttpError> {
        let ok_status = match &self.expect.status {
            Some(codes) => codes.contains(&status),
            None => status < 400,
        };
        if ok_status {
            return Ok(());
        }
        let wanted = match &self.expect.status {
            Some(codes) if codes.len() == 1 => codes[0].to_string(),
            Some(codes) => format!(
                "one of {}",
                codes
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "a status below 400".to_string(),
        };
        Err(HttpError::Status {
            wanted,
            status,
            body: excerpt(&text(), 300),
        })
    }

    /// Takes every capture from the checked response.
    fn capture(
        &self,
        status: u16,
        headers: &HeaderMap,
        json: &Value,
    ) -> Result<Vec<Captured>, HttpError> {
        let mut captured = Vec::with_capacity(self.captures.len());
        for capture in &self.captures {
            let value = match &capture.source {
                CaptureSource::Status => Value::from(status),
                CaptureSource::Header(name) => match headers.get(name.as_str()) {
                    Some(v) => Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                    None => {
                        return Err(HttpError::NoHeader {
                            capture: capture.name.clone(),
                            header: name.clone(),
                        });
                    }
                },
                CaptureSource::Path(path) => {
                    query(path, json).ok_or_else(|| HttpError::NothingAt {
                        capture: capture.name.clone(),
                        path: path.to_string(),
                        json: show(json),
                    })?
                }
            };
            if capture.secret {
                register_secret_capture(&capture.name, &value)?;
            }
            captured.push(Captured {
                name: capture.name.clone(),
                value,
            });
        }
        Ok(captured)
    }
}

impl Body {
    /// The one body a request has (validation refused more than one).
    fn resolve(spec: &HttpAction, r: &mut Renderer<'_>) -> Body {
        if let Some(json) = &spec.json {
            Body::Json(r.value(json))
        } else if let Some(text) = &spec.body {
            Body::Text(r.string(text))
        } else if let Some(form) = &spec.form {
            Body::Form(
                form.value
                    .iter()
                    .map(|(k, v)| (k.clone(), to_text(&r.value_at(v, &form.referenced))))
                    .collect(),
            )
        } else {
            Body::None
        }
    }
}

impl Auth {
    fn resolve(auth: &HttpAuth, r: &mut Renderer<'_>) -> Option<Auth> {
        match (&auth.bearer, &auth.basic) {
            (Some(token), _) => Some(Auth::Bearer(r.string(token))),
            (None, Some(basic)) => Some(Auth::Basic {
                user: r.string(&basic.user),
                password: basic.password.as_ref().map(|p| r.string(p)),
            }),
            (None, None) => None,
        }
    }
}

impl Expectations {
    /// The response side of `expect`, `JSONPaths` compiled.
    fn resolve(e: &Expect, r: &mut Renderer<'_>) -> Result<Expectations, HttpError> {
        let mut expect = Expectations {
            status: e.status.as_ref().map(|s| s.value.codes()),
            ..Expectations::default()
        };
        for (name, value) in &e.headers {
            expect.headers.push((name.clone(), r.value(value)));
        }
        for (path, value) in &e.json {
            let rendered = r.text_at(path, &value.referenced);
            let compiled = compile_path(&rendered)?;
            expect.json.push((rendered, compiled, r.value(value)));
        }
        expect.body_contains = e.body_contains.as_ref().map(|t| r.string(t));
        Ok(expect)
    }
}

impl Capture {
    /// Every capture of the step, read from the response.
    fn resolve_all(step: &Step) -> Result<Vec<Capture>, HttpError> {
        let mut captures = Vec::new();
        for (name, spec) in &step.capture {
            let (source, secret) = match &spec.value {
                CaptureSpec::Shorthand(text) if text == "status" => (CaptureSource::Status, false),
                CaptureSpec::Shorthand(path) => (CaptureSource::Path(compile_path(path)?), false),
                CaptureSpec::Map(map) => match (&map.path, &map.header) {
                    (Some(path), _) => (CaptureSource::Path(compile_path(path)?), map.secret),
                    (None, Some(header)) => (CaptureSource::Header(header.clone()), map.secret),
                    (None, None) => return Err(HttpError::CaptureWithoutSource(name.clone())),
                },
            };
            captures.push(Capture {
                name: name.clone(),
                source,
                secret,
            });
        }
        Ok(captures)
    }
}

impl Resolved for HttpRequest {
    fn kind(&self) -> StepKind {
        StepKind::Http
    }

    fn own_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// `POST http://…/tenants`.
    fn describe(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    fn plan_details(&self) -> Vec<String> {
        match &self.body {
            Body::Json(body) => vec![format!("json: {body}")],
            _ => Vec::new(),
        }
    }

    fn attempt<'a>(&'a self, ctx: &'a StepContext<'_>) -> AttemptFuture<'a> {
        Box::pin(self.send(ctx))
    }
}

/// The HTTP client of a drill: certificates verified against the system's
/// roots plus `target.ca_file`, or not at all with `target.insecure: true`.
/// A CA file that cannot be read, or holds no certificate, is an error
/// located at `ca_file`.
pub(crate) fn client(target: &Target) -> Result<reqwest::Client, Diagnostic> {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("firedrill/", env!("CARGO_PKG_VERSION")));
    let cannot =
        |why: String| Diagnostic::whole_file(format!("cannot set up the HTTP client: {why}"));
    if target.is_insecure() {
        // No certificate is checked: no root is ever read.
        return builder
            .tls_danger_accept_invalid_certs(true)
            .build()
            .map_err(|err| cannot(error_chain(&err)));
    }
    let mut certificates = Vec::new();
    if let Some(ca_file) = &target.ca_file {
        certificates = ca_file_certificates(ca_file)?;
    }
    let tls = tls::client_config(certificates).map_err(|err| cannot(err.to_string()))?;
    builder
        .use_preconfigured_tls(tls)
        .build()
        .map_err(|err| cannot(error_chain(&err)))
}

/// The certificates of `target.ca_file`, PEM; a file that cannot be read
/// or holds none is a located error.
fn ca_file_certificates(
    ca_file: &crate::drill::spanned::Spanned<String>,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, Diagnostic> {
    use rustls::pki_types::pem::PemObject;
    let problem = |why: String| {
        Diagnostic::new(
            ca_file.referenced,
            format!("target.ca_file `{}`: {why}", ca_file.value),
        )
        .with_help(
            "give a PEM file of CA certificates (paths are relative to where firedrill runs)",
        )
    };
    let pem =
        std::fs::read(&ca_file.value).map_err(|err| problem(format!("cannot read it: {err}")))?;
    let certificates = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| problem(format!("not a PEM certificate bundle: {err}")))?;
    if certificates.is_empty() {
        return Err(problem("it holds no certificate".into()));
    }
    Ok(certificates)
}

/// What a drill's target settings weaken, in words: printed when the run
/// starts and kept in the record's `warnings`.
pub(crate) fn target_warnings(target: &Target) -> Vec<String> {
    let mut warnings = Vec::new();
    if target.is_insecure() {
        warnings.push(
            "target.insecure is true: TLS certificates are not verified for any HTTP step of this run"
                .to_string(),
        );
    }
    warnings
}

/// The nodes a `JSONPath` selects: nothing, one value, or an array of them.
fn query(path: &JsonPath, json: &Value) -> Option<Value> {
    let nodes = path.query(json).all();
    match nodes.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
    }
}

/// A send error in one line a person can act on: which address, and what
/// kind of failure, never a raw hyper error chain.
pub(crate) fn describe_send_error(url: &str, err: &reqwest::Error) -> String {
    let what = if err.is_connect() {
        "cannot connect"
    } else if err.is_timeout() {
        "timed out"
    } else if err.is_builder() {
        "invalid request"
    } else {
        "request failed"
    };
    let cause = error_chain(err);
    if cause.contains("certificate") {
        return format!(
            "{what} to {url}: TLS: {cause}; if the target uses a private CA, give it as `target.ca_file`"
        );
    }
    format!("{what} to {url}: {cause}")
}
