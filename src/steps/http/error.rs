//! Every way an HTTP step can fail short of sending: resolving it (a
//! method, a URL, a `JSONPath`), reading its response, checking it and
//! capturing from it. Sending itself fails with
//! [`describe_send_error`](super::describe_send_error)'s words.

use reqwest::Method;

use crate::drill::model::ByteSize;
use crate::steps::attempt::{SecretTooShort, error_chain};
use crate::steps::json_path::JsonPathError;
use crate::steps::matchers::Mismatch;
use crate::steps::target::NoBaseUrl;

/// An HTTP step's failure. `Display` is the one line the record keeps.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// `method`, once upper-cased, is not a token HTTP allows.
    #[error("invalid HTTP method `{0}`")]
    Method(String),
    /// A relative URL and no `target.base_url` to join it to.
    #[error(transparent)]
    NoBaseUrl(#[from] NoBaseUrl),
    /// An `expect.json` path or a capture's path, once rendered, does not
    /// compile.
    #[error(transparent)]
    JsonPath(#[from] JsonPathError),
    /// A capture with neither `path` nor `header` (refused by the checks,
    /// so only an unchecked drill gets here).
    #[error("capture `{0}` has no source")]
    CaptureWithoutSource(String),
    /// The response is over the size limit: by its declared length
    /// (`declared`, nothing was read) or while it was being read.
    #[error(
        "the response of {method} {url} is larger than {limit} bytes ({}){}; raise `max_response` if that is expected",
        ByteSize(*.limit as u64),
        if *.declared { ", by its Content-Length" } else { "; firedrill stopped reading it" }
    )]
    TooLarge {
        method: Method,
        url: String,
        limit: usize,
        declared: bool,
    },
    /// The connection broke while the body was read.
    #[error("reading the response of {method} {url} failed: {}", error_chain(.source))]
    Read {
        method: Method,
        url: String,
        source: reqwest::Error,
    },
    /// The status is not one `expect.status` accepts (by default, any
    /// below 400); `body` is an excerpt.
    #[error("status: expected {wanted}, got {status}; body: {body}")]
    Status {
        wanted: String,
        status: u16,
        body: String,
    },
    /// An `expect.headers` entry does not match.
    #[error("header {name}: {source}")]
    Header { name: String, source: Mismatch },
    /// `expect.body_contains` is not in the body (an excerpt).
    #[error("body: expected it to contain {part:?}, got {body}")]
    BodyLacks { part: String, body: String },
    /// A JSON check or capture needs the body, and it is not JSON.
    #[error("expected a JSON body, but it does not parse ({source}): {body}")]
    NotJson {
        source: serde_json::Error,
        body: String,
    },
    /// An `expect.json` entry does not match at its path.
    #[error("{path}: {source}")]
    Json { path: String, source: Mismatch },
    /// A header capture, and the response has no such header.
    #[error("capture `{capture}`: the response has no `{header}` header")]
    NoHeader { capture: String, header: String },
    /// A path capture that selects nothing in the body (shown cut short).
    #[error("capture `{capture}`: `{path}` matched nothing in {json}")]
    NothingAt {
        capture: String,
        path: String,
        json: String,
    },
    /// A `secret: true` capture too short to redact safely.
    #[error(transparent)]
    Secret(#[from] SecretTooShort),
}
