//! The drill file as written: serde types that keep where each value sits.
//!
//! Every field a user can get wrong is wrapped in [`Spanned`] so that
//! validation and run-time errors can point at the exact line and column.
//! Step kinds are one optional field each (never `flatten` or `untagged`),
//! because those make serde buffer the input and the locations are lost.

use std::fmt;
use std::hash::{BuildHasherDefault, DefaultHasher};
use std::time::Duration;

pub(crate) use super::spanned::{Location, Spanned};
pub(crate) use super::verbs::DockerVerb;
pub(crate) use crate::kind::StepKind;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// A duration written the human way (`500ms`, `30s`, `1h 30m`).
///
/// Bare numbers are refused: `timeout: 30` is ambiguous, and a drill that
/// guesses seconds where the author meant milliseconds lies about its timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl serde::de::Visitor<'_> for DurationVisitor {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as 500ms, 30s or 2m")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<HumanDuration, E> {
                humantime::parse_duration(text.trim())
                    .map(HumanDuration)
                    .map_err(|err| {
                        E::custom(format!(
                            "invalid duration `{text}`: {err} (write it like 500ms, 30s, 2m or 1h 30m)"
                        ))
                    })
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "a duration needs a unit: write `{n}s` or `{n}ms`, not `{n}`"
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "a duration needs a unit: write `{n}s` or `{n}ms`, not `{n}`"
                )))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "a duration needs a unit: write `{n}s`, not `{n}`"
                )))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// A size in bytes, written with a unit: `512KiB`, `10MiB`, `1MB`, `100B`.
///
/// As with durations, bare numbers are refused: `max_response: 10` is more
/// likely a mistake than ten bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ByteSize(pub u64);

impl ByteSize {
    /// The largest size a drill may ask for: responses are kept in memory.
    pub(crate) const MAX: u64 = 1024 * 1024 * 1024;

    /// Parses `10MiB`, `512 KiB`, `1.5MB`, `100B` (units: B, KB, KiB, MB,
    /// MiB, GB, GiB; case does not matter).
    pub(crate) fn parse(text: &str) -> Result<ByteSize, SizeError> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let unit = unit.trim();
        let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
            "b" => 1,
            "kb" => 1000,
            "kib" => 1024,
            "mb" => 1000 * 1000,
            "mib" => 1024 * 1024,
            "gb" => 1000 * 1000 * 1000,
            "gib" => 1024 * 1024 * 1024,
            "" => return Err(SizeError::NoUnit(number.to_string())),
            other => return Err(SizeError::UnknownUnit(other.to_string())),
        };
        let value: f64 = number
            .parse()
            .map_err(|_| SizeError::NotASize(text.to_string()))?;
        let bytes = value * multiplier as f64;
        if !(1.0..=Self::MAX as f64).contains(&bytes) {
            return Err(SizeError::OutOfRange(text.to_string()));
        }
        Ok(ByteSize(bytes as u64))
    }
}

/// Why a text is not a size.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SizeError {
    #[error("a size needs a unit: write `{0}B`, `{0}KiB` or `{0}MiB`")]
    NoUnit(String),
    #[error("unknown size unit `{0}`: use B, KB, KiB, MB, MiB, GB or GiB")]
    UnknownUnit(String),
    #[error("`{0}` is not a size: write it like 512KiB or 10MiB")]
    NotASize(String),
    #[error("`{0}` is out of range: a size is from 1B to 1GiB")]
    OutOfRange(String),
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n >= 1024 * 1024 && n % (1024 * 1024) == 0 {
            write!(f, "{}MiB", n / (1024 * 1024))
        } else if n >= 1024 && n % 1024 == 0 {
            write!(f, "{}KiB", n / 1024)
        } else {
            write!(f, "{n}B")
        }
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl serde::de::Visitor<'_> for SizeVisitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as 512KiB or 10MiB")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ByteSize, E> {
                ByteSize::parse(text).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<ByteSize, E> {
                Err(E::custom(format!(
                    "a size needs a unit: write `{n}B`, `{n}KiB` or `{n}MiB`, not `{n}`"
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<ByteSize, E> {
                self.visit_u64(n.unsigned_abs())
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<ByteSize, E> {
                Err(E::custom(format!(
                    "a size needs a unit: write `{n}MiB`, not `{n}`"
                )))
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

/// A map inside a step (headers, captures, JSON expectations, ...). Its
/// hasher has no per-map keys, so the map is 16 bytes smaller than with the
/// default one: a 10,000-step drill holds tens of thousands of these, most
/// of them empty. Its keys come from the drill's author, so a fixed-key
/// hash (still `SipHash`) is no flooding risk.
pub(crate) type StepMap<V> = IndexMap<String, V, BuildHasherDefault<DefaultHasher>>;

/// Reads a map of a step and gives back its spare room: a map read from
/// YAML starts with room for several entries, and a step's maps mostly hold
/// one or two — across a 10,000-step drill that is megabytes of nothing.
fn compact_map<'de, D, V>(deserializer: D) -> Result<StepMap<V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    let mut map = StepMap::<V>::deserialize(deserializer)?;
    map.shrink_to_fit();
    Ok(map)
}

/// A step and where it starts. The step is boxed: it is several hundred
/// bytes of mostly absent optional fields, and the list of a 10,000-step
/// drill would otherwise be reallocated at full size while it is read and
/// keep up to twice the room it needs.
pub(crate) type LocatedStep = Spanned<Box<Step>>;

// Optional fields that most steps leave out (`manual`, `sleep`, `when`,
// `wait`, a request's body or timeout, the `exec` expectations, ...) are
// boxed: absent, they take 8 bytes instead of 40 to 150, and the model of
// a drill is held for the whole run — for 10,000 steps, megabytes.

/// A drill: steps that firedrill runs against a real target, timing every one (see the README's
/// "Writing a drill").
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Drill {
    /// The drill's name: runs of the same name are compared.
    pub drill: Spanned<String>,
    /// What the drill rehearses, in a sentence.
    #[serde(default)]
    pub description: Option<String>,
    /// Default owner of every step.
    #[serde(default)]
    pub owner: Option<String>,
    /// Soft budget for the whole drill: going over it is flagged, and fails the run only with
    /// `--strict`.
    #[serde(default)]
    pub budget: Option<Spanned<HumanDuration>>,
    /// Hard limit: past it the steps stop, cleanup runs, the run fails.
    #[serde(default)]
    pub timeout: Option<Spanned<HumanDuration>>,
    /// Where the drill's HTTP and Docker calls go.
    #[serde(default)]
    pub target: Target,
    /// Several Docker engines by name (`primary: unix:///var/run/docker.sock`), instead of
    /// `target.docker`; the first one is the default.
    #[serde(default)]
    pub engines: Option<Spanned<IndexMap<String, Spanned<String>>>>,
    /// Secrets by name, each `{ env: NAME }` or `{ file: path }`; used as `${secret.NAME}`, never
    /// printed.
    #[serde(default)]
    pub secrets: IndexMap<String, Spanned<SecretSource>>,
    /// Vars by name, used as `${name}`; they resolve top to bottom, so a var may use only the
    /// vars above it.
    #[serde(default)]
    pub vars: IndexMap<String, Spanned<Value>>,
    /// Settings every step inherits unless it says otherwise: `timeout`, `retry`, `max_response`.
    #[serde(default)]
    pub defaults: Defaults,
    /// The steps, in order. Every step has exactly one kind: `http`, `exec`, `docker`, `manual`,
    /// `sleep` or `parallel`.
    #[schemars(length(min = 1))]
    pub steps: Spanned<Vec<LocatedStep>>,
    /// Steps that always run: after success, failure or Ctrl-C.
    #[serde(default)]
    pub cleanup: Vec<LocatedStep>,
}

impl Drill {
    /// `defaults.max_response` in bytes, when the drill sets it.
    pub(crate) fn max_response(&self) -> Option<usize> {
        self.defaults
            .max_response
            .as_ref()
            .map(|size| size.value.0 as usize)
    }
}

/// Where the drill's HTTP and Docker calls go.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Target {
    /// The base URL relative `url`s of `http` steps are joined to.
    #[serde(default)]
    pub base_url: Option<Spanned<String>>,
    /// Headers sent with every HTTP step (a step's own headers win).
    #[serde(default)]
    pub headers: IndexMap<String, Spanned<String>>,
    /// Where the Docker engine is (`unix://`, `tcp://`, `ssh://`); else `DOCKER_HOST`, else
    /// `unix:///var/run/docker.sock`.
    #[serde(default)]
    pub docker: Option<Spanned<String>>,
    /// `true` turns TLS certificate verification off for every HTTP step of the drill: an
    /// explicit opt-in, warned about on stderr and in the record.
    #[serde(default)]
    pub insecure: Option<Spanned<bool>>,
    /// A PEM file of one or more CA certificates, trusted besides the system's, for a target with
    /// a private CA.
    #[serde(default)]
    pub ca_file: Option<Spanned<String>>,
}

impl Target {
    /// Whether the drill turned certificate checks off.
    pub(crate) fn is_insecure(&self) -> bool {
        self.insecure.as_ref().is_some_and(|i| i.value)
    }
}

/// Where a secret's value comes from. Secrets are never written in the drill.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretSource {
    /// The environment variable that holds the secret.
    #[serde(default)]
    pub env: Option<String>,
    /// The file that holds the secret.
    #[serde(default)]
    pub file: Option<String>,
}

/// Settings every step inherits unless it says otherwise.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Defaults {
    /// The timeout of one attempt of every step (default 30s; manual steps 1h).
    #[serde(default)]
    pub timeout: Option<Spanned<HumanDuration>>,
    /// The retry of every step that sets none.
    #[serde(default)]
    pub retry: Option<Spanned<Retry>>,
    /// The largest HTTP response body a step reads, and the most output an `exec` or Docker
    /// `exec` step keeps (default 10MiB).
    #[serde(default)]
    pub max_response: Option<Spanned<ByteSize>>,
}

/// One step: common fields plus exactly one kind key.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = super::schema_rules::one_kind)]
pub(crate) struct Step {
    /// The step's name; a step without a name is named after what it does.
    #[serde(default)]
    pub name: Option<Spanned<String>>,

    // The kinds: exactly one must be present.
    // Boxed: a drill holds thousands of steps, and moving a fat struct
    // through the deserializer's layers showed up as memcpy in profiles.
    /// An HTTP request against the target.
    #[serde(default)]
    pub http: Option<Box<Spanned<HttpAction>>>,
    /// A local program: `argv` (a list, run directly) or `shell` (a string for `sh -c`, only when
    /// you ask for it).
    #[serde(default)]
    pub exec: Option<Box<Spanned<ExecAction>>>,
    /// A step a person does: the instructions, templated (`Open ${target.base_url}/admin and
    /// check ${tenant} is listed.`).
    #[serde(default)]
    pub manual: Option<Box<Spanned<String>>>,
    /// A pause: a duration, `sleep: 2s`.
    #[serde(default)]
    pub sleep: Option<Box<Spanned<HumanDuration>>>,
    /// A Docker action: a verb and its subject, with the verb's fields beside it.
    #[serde(default)]
    pub docker: Option<Box<Spanned<DockerAction>>>,
    /// Sub-steps run concurrently.
    #[serde(default)]
    pub parallel: Option<Box<Spanned<ParallelGroup>>>,

    /// What the result must look like. `http`: `status`, `headers`, `json`, `body_contains`.
    /// `exec`: `exit_code`, `stdout_contains`, `stderr_contains`, `stdout_matches`.
    #[serde(default)]
    pub expect: Option<Box<Spanned<Expect>>>,
    /// Values taken from the result by name, usable as `${name}` after the step.
    #[serde(default, deserialize_with = "compact_map")]
    pub capture: StepMap<Spanned<CaptureSpec>>,
    /// Repeats the step until its expectations pass (`for` or `attempts` is required); every
    /// attempt is counted in the record.
    #[serde(default)]
    pub retry: Option<Box<Spanned<Retry>>>,
    /// Cuts one attempt (default: `defaults.timeout`, else 30s; manual steps 1h).
    #[serde(default)]
    pub timeout: Option<Box<Spanned<HumanDuration>>>,
    /// Soft budget: going over it is flagged, and fails the run only with `--strict`.
    #[serde(default)]
    pub budget: Option<Box<Spanned<HumanDuration>>>,
    /// Who owns the step (default: the drill's `owner`).
    #[serde(default)]
    pub owner: Option<String>,
    /// Polls after the step until the URL answers 2xx (for deploys and restarts): `{ http:
    /// /health, for: 30s, every: 250ms }`.
    #[serde(default)]
    pub wait: Option<Box<Spanned<Wait>>>,
    /// Runs the step only when true: `"${mode} == full"` (or `!=`, or a single value that is
    /// false when empty, `false`, `0`, `no` or `null`).
    #[serde(default)]
    pub when: Option<Box<Spanned<String>>>,
}

/// A step's kind key with its spec, as written. This is the one list of
/// kinds in the model: a new kind adds a field to [`Step`] and an arm here.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StepSpec<'a> {
    Http(&'a Spanned<HttpAction>),
    Exec(&'a Spanned<ExecAction>),
    Manual(&'a Spanned<String>),
    Sleep(&'a Spanned<HumanDuration>),
    Docker(&'a Spanned<DockerAction>),
    Parallel(&'a Spanned<ParallelGroup>),
}

impl StepSpec<'_> {
    /// Which kind this is.
    pub(crate) fn kind(&self) -> StepKind {
        match self {
            StepSpec::Http(_) => StepKind::Http,
            StepSpec::Exec(_) => StepKind::Exec,
            StepSpec::Manual(_) => StepKind::Manual,
            StepSpec::Sleep(_) => StepKind::Sleep,
            StepSpec::Docker(_) => StepKind::Docker,
            StepSpec::Parallel(_) => StepKind::Parallel,
        }
    }

    /// Where the kind's key is written.
    pub(crate) fn at(&self) -> Location {
        match self {
            StepSpec::Http(v) => v.referenced,
            StepSpec::Exec(v) => v.referenced,
            StepSpec::Manual(v) => v.referenced,
            StepSpec::Sleep(v) => v.referenced,
            StepSpec::Docker(v) => v.referenced,
            StepSpec::Parallel(v) => v.referenced,
        }
    }
}

impl Step {
    /// Every kind key the step has, in the order of the fields. A checked
    /// step has exactly one; validation reports the others.
    pub(crate) fn specs(&self) -> Vec<StepSpec<'_>> {
        self.kind_fields().into_iter().flatten().collect()
    }

    /// The step's kind with its spec (the first, if it has several).
    pub(crate) fn spec(&self) -> Option<StepSpec<'_>> {
        self.kind_fields().into_iter().flatten().next()
    }

    fn kind_fields(&self) -> [Option<StepSpec<'_>>; 6] {
        [
            self.http.as_deref().map(StepSpec::Http),
            self.exec.as_deref().map(StepSpec::Exec),
            self.manual.as_deref().map(StepSpec::Manual),
            self.sleep.as_deref().map(StepSpec::Sleep),
            self.docker.as_deref().map(StepSpec::Docker),
            self.parallel.as_deref().map(StepSpec::Parallel),
        ]
    }

    /// The step's kind; `None` only for a step that failed validation.
    pub(crate) fn kind(&self) -> Option<StepKind> {
        self.spec().map(|spec| spec.kind())
    }
}

/// An HTTP request against the target.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpAction {
    /// The HTTP method (default GET).
    #[serde(default)]
    pub method: Option<Box<Spanned<String>>>,
    /// Relative to `target.base_url`, or absolute.
    pub url: Spanned<String>,
    /// Request headers (over the target's).
    #[serde(default, deserialize_with = "compact_map")]
    pub headers: StepMap<Spanned<String>>,
    /// Query parameters by name.
    #[serde(default, deserialize_with = "compact_map")]
    pub query: StepMap<Spanned<Value>>,
    /// A JSON body.
    #[serde(default)]
    pub json: Option<Box<Spanned<Value>>>,
    /// A text body.
    #[serde(default)]
    pub body: Option<Box<Spanned<String>>>,
    /// A form body (`application/x-www-form-urlencoded`).
    #[serde(default)]
    pub form: Option<Box<Spanned<IndexMap<String, Value>>>>,
    /// `{ bearer: … }` or `{ basic: { user, password } }`, replacing the target's
    /// `Authorization`.
    #[serde(default)]
    pub auth: Option<Box<Spanned<HttpAuth>>>,
    /// Cuts this request (over the step's `timeout`).
    #[serde(default)]
    pub timeout: Option<Box<Spanned<HumanDuration>>>,
    /// This request's response size limit, over `defaults.max_response`.
    #[serde(default)]
    pub max_response: Option<Box<Spanned<ByteSize>>>,
}

/// Credentials for one request; the values are usually `${secret.X}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpAuth {
    /// A bearer token, usually `${secret.NAME}`.
    #[serde(default)]
    pub bearer: Option<Spanned<String>>,
    /// HTTP basic credentials: `{ user, password }`.
    #[serde(default)]
    pub basic: Option<BasicAuth>,
}

/// HTTP basic credentials.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BasicAuth {
    /// The user name.
    pub user: Spanned<String>,
    /// The password, usually `${secret.NAME}`.
    #[serde(default)]
    pub password: Option<Spanned<String>>,
}

/// A local program: an argv list, or a shell string only when asked for.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{ "required": ["argv"] }, { "required": ["shell"] }]))]
pub(crate) struct ExecAction {
    /// The program and its arguments, run directly: templated values never go through a shell.
    #[serde(default)]
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    /// A string for `sh -c`, only when you ask for it.
    #[serde(default)]
    pub shell: Option<Spanned<String>>,
    /// Environment variables for the program.
    #[serde(default, deserialize_with = "compact_map")]
    pub env: StepMap<Spanned<String>>,
    /// The directory the program runs in.
    #[serde(default)]
    pub cwd: Option<Spanned<String>>,
    /// Cuts the program (over the step's `timeout`).
    #[serde(default)]
    pub timeout: Option<Spanned<HumanDuration>>,
}

/// What a step's result must look like. Which fields apply depends on the
/// kind; validation says which field belongs to which kind.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
    // http
    /// `http`: a code or a list; without it anything below 400 passes.
    #[serde(default)]
    pub status: Option<Spanned<StatusSpec>>,
    /// `http`: header name → a value or a matcher.
    #[serde(default, deserialize_with = "compact_map")]
    pub headers: StepMap<Spanned<Value>>,
    /// `http`: JSONPath (RFC 9535, `$.items[0].name`) → a value or a matcher; a path that matches
    /// several nodes compares as a list.
    #[serde(default, deserialize_with = "compact_map")]
    pub json: StepMap<Spanned<Value>>,
    /// `http`: text the body must contain.
    #[serde(default)]
    pub body_contains: Option<Box<Spanned<String>>>,
    // exec
    /// `exec`: the exit code (default 0).
    #[serde(default)]
    pub exit_code: Option<Box<Spanned<i64>>>,
    /// `exec`: text standard output must contain.
    #[serde(default)]
    pub stdout_contains: Option<Box<Spanned<String>>>,
    /// `exec`: text standard error must contain.
    #[serde(default)]
    pub stderr_contains: Option<Box<Spanned<String>>>,
    /// `exec`: a regex standard output must match (`$` matches at the end of the last line).
    #[serde(default)]
    pub stdout_matches: Option<Box<Spanned<String>>>,
}

/// One accepted status code or a list of them.
#[derive(Debug, Clone)]
pub(crate) enum StatusSpec {
    One(u16),
    Many(Vec<u16>),
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;
        impl<'de> serde::de::Visitor<'de> for StatusVisitor {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an HTTP status code (100-599) or a list of them")
            }
            fn visit_u64<E: serde::de::Error>(self, code: u64) -> Result<StatusSpec, E> {
                status_code(&code.to_string()).map(StatusSpec::One)
            }
            fn visit_i64<E: serde::de::Error>(self, code: i64) -> Result<StatusSpec, E> {
                status_code(&code.to_string()).map(StatusSpec::One)
            }
            fn visit_f64<E: serde::de::Error>(self, code: f64) -> Result<StatusSpec, E> {
                status_code(&code.to_string()).map(StatusSpec::One)
            }
            fn visit_str<E: serde::de::Error>(self, code: &str) -> Result<StatusSpec, E> {
                status_code(code).map(StatusSpec::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StatusSpec, A::Error> {
                let mut codes = Vec::new();
                while let Some(code) = seq.next_element::<OneCode>()? {
                    codes.push(code.0);
                }
                Ok(StatusSpec::Many(codes))
            }
        }
        /// One code inside a list.
        struct OneCode(u16);
        impl<'de> Deserialize<'de> for OneCode {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                match deserializer.deserialize_any(StatusVisitor)? {
                    StatusSpec::One(code) => Ok(OneCode(code)),
                    StatusSpec::Many(_) => Err(serde::de::Error::custom(
                        "a list of status codes holds codes, not lists",
                    )),
                }
            }
        }
        /// A code written as a number or a string of digits.
        fn status_code<E: serde::de::Error>(text: &str) -> Result<u16, E> {
            match text.trim().parse::<u16>() {
                Ok(code) if (100..=599).contains(&code) => Ok(code),
                _ => Err(E::custom(format!(
                    "{} is not an HTTP status code (100-599)",
                    excerpt(text, 40)
                ))),
            }
        }
        deserializer.deserialize_any(StatusVisitor)
    }
}

/// At most `max` characters of `text`, for messages that quote a value.
fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

impl StatusSpec {
    /// The accepted codes.
    pub(crate) fn codes(&self) -> Vec<u16> {
        match self {
            StatusSpec::One(code) => vec![*code],
            StatusSpec::Many(codes) => codes.clone(),
        }
    }
}

/// How a captured value is taken from a step's result.
///
/// Written as a bare string (`"$.id"`, `status`, `stdout`) or as a map
/// (`{ header: … }`, `{ path: …, secret: true }`, `{ stdout_regex: … }`).
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaptureMap {
    /// A JSONPath into the response body (`$` is the whole body).
    #[serde(default)]
    pub path: Option<String>,
    /// A response header (`{ header: Location }`).
    #[serde(default)]
    pub header: Option<String>,
    /// `exec`: a regex on standard output; the value is the first group, or the whole match.
    #[serde(default)]
    pub stdout_regex: Option<String>,
    /// Treat the captured value as a secret from then on (never stored, masked everywhere).
    #[serde(default)]
    pub secret: bool,
}

/// A capture as written: the bare-string form or the map form.
#[derive(Debug, Clone)]
pub(crate) enum CaptureSpec {
    /// `"$.id"`, `status`, `stdout`, `stderr` or `exit_code`.
    Shorthand(String),
    Map(CaptureMap),
}

impl<'de> Deserialize<'de> for CaptureSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A hand-written visitor instead of `untagged`, so errors inside the
        // map form keep their own line and column.
        struct CaptureVisitor;
        impl<'de> serde::de::Visitor<'de> for CaptureVisitor {
            type Value = CaptureSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSONPath such as \"$.id\", `status`, `stdout`, or a map like { header: Location }")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<CaptureSpec, E> {
                Ok(CaptureSpec::Shorthand(text.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<CaptureSpec, A::Error> {
                CaptureMap::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(CaptureSpec::Map)
            }
        }
        deserializer.deserialize_any(CaptureVisitor)
    }
}

/// Steps run concurrently: each sub-step once, or the sub-steps in order
/// for each item of `for_each` (`${item}` inside), at most `max` at once.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParallelGroup {
    /// At most this many branches at once (default: all, up to 64).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max: Option<Spanned<u32>>,
    /// `{ range: [1, 20] }`, a list, or `"${a_captured_list}"`: each item is a branch that runs
    /// the sub-steps in order, with `${item}` set.
    #[serde(default)]
    pub for_each: Option<Spanned<serde_json::Value>>,
    /// The first failure stops the rest (the default: true); `false` lets the other branches
    /// finish.
    #[serde(default)]
    pub fail_fast: Option<bool>,
    /// `{ list_name: capture }`: after the group, `${list_name}` is the list of that capture from
    /// every branch, in item order.
    #[serde(default, deserialize_with = "compact_map")]
    pub collect: StepMap<Spanned<String>>,
    /// The sub-steps (manual steps cannot run in parallel, and groups do not nest).
    pub steps: Spanned<Vec<LocatedStep>>,
}

/// A Docker action: a verb and its subject (`run: "demo-app:1"`,
/// `stop: app`), with the verb's fields beside it. Which fields go with
/// which verb is checked by validation, each error at its own line.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = super::schema_rules::one_verb)]
pub(crate) struct DockerAction {
    // Verbs: exactly one.
    /// Verb: run a container from this image (never pulled).
    #[serde(default)]
    pub run: Option<Spanned<String>>,
    /// Verb: start this container.
    #[serde(default)]
    pub start: Option<Spanned<String>>,
    /// Verb: stop this container (`grace`).
    #[serde(default)]
    pub stop: Option<Spanned<String>>,
    /// Verb: restart this container (`grace`).
    #[serde(default)]
    pub restart: Option<Spanned<String>>,
    /// Verb: remove this container (`volumes: true` with its named volumes).
    #[serde(default)]
    pub remove: Option<Spanned<String>>,
    /// Verb: the rollback primitive: stop this container, recreate it from `image` with the
    /// configuration it was given, and start it.
    #[serde(default)]
    pub replace: Option<Spanned<String>>,
    /// Verb: run `argv` in this container; `expect`/`capture` as for `exec`.
    #[serde(default)]
    pub exec: Option<Spanned<String>>,
    /// Verb: wait for this container (`until: running | healthy | exited`, or `log`) or service
    /// (`until: converged | rolled_back`).
    #[serde(default)]
    pub wait: Option<Spanned<String>>,
    /// Verb: copy `path` out of this container into the tar file `to` (a backup).
    #[serde(default)]
    pub copy_out: Option<Spanned<String>>,
    /// Verb: copy the tar file `from` into this container at `path` (a restore, also into a
    /// stopped container).
    #[serde(default)]
    pub copy_in: Option<Spanned<String>>,
    /// Verb: build an image from this context directory (`dockerfile`, `tag`, `args`).
    #[serde(default)]
    pub build: Option<Spanned<String>>,
    /// Verb: `sweep: run` removes every container, volume, image and service this run created.
    #[serde(default)]
    pub sweep: Option<Spanned<String>>,
    /// Verb: move this image from engine `from` to engine `to` without a registry.
    #[serde(default)]
    pub copy_image: Option<Spanned<String>>,
    /// Which of the drill's `engines:` the action acts on (default: the first).
    #[serde(default)]
    pub on: Option<Spanned<String>>,
    /// Verb: create this Swarm service (`image`, `replicas`, …) and wait until it converges.
    #[serde(default)]
    pub service_create: Option<Spanned<String>>,
    /// Verb: update this Swarm service (`image`, `env`, `env_remove`, `replicas`, `force`) and
    /// wait until it converges (or `until: rolled_back`).
    #[serde(default)]
    pub service_update: Option<Spanned<String>>,
    /// Verb: the engine's rollback of this service to its previous spec.
    #[serde(default)]
    pub service_rollback: Option<Spanned<String>>,
    /// Verb: scale this service to `replicas`.
    #[serde(default)]
    pub service_scale: Option<Spanned<String>>,
    /// Verb: remove this service.
    #[serde(default)]
    pub service_remove: Option<Spanned<String>>,

    // Fields.
    /// `run`: the container's name.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// `replace`, `service_create`, `service_update`: the image (never pulled).
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    /// `run`, `exec`, `service_create`, `service_update`: environment variables (merged into the
    /// service's on `service_update`).
    #[serde(default, deserialize_with = "compact_map")]
    pub env: StepMap<Spanned<String>>,
    /// `run`, `service_create`: the command, a list.
    #[serde(default)]
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    /// `run`: the entrypoint, a list.
    #[serde(default)]
    pub entrypoint: Option<Spanned<Vec<Spanned<String>>>>,
    /// `run`: `HOST:CONTAINER` or `IP:HOST:CONTAINER`; services: `PUBLISHED:TARGET`.
    #[serde(default)]
    pub ports: Option<Spanned<Vec<Spanned<String>>>>,
    /// `run`: a list of mounts like `app-data:/data`; `remove`: `true` removes its named volumes.
    #[serde(default)]
    pub volumes: Option<Spanned<VolumesSpec>>,
    /// `run`, `service_create`: the network (`host` is host networking).
    #[serde(default)]
    pub network: Option<Spanned<String>>,
    /// `run`, `build`, `service_create`: labels, besides `firedrill.run` and `firedrill.drill`.
    #[serde(default, deserialize_with = "compact_map")]
    pub labels: StepMap<Spanned<String>>,
    /// `run`, `start`, `restart`, `replace`, `service_create`: `{ http: /health, for: 30s }`
    /// polls that path on the published port; `{ cmd: [...], interval, timeout, retries }` sets
    /// an engine healthcheck.
    #[serde(default)]
    pub healthcheck: Option<Spanned<Healthcheck>>,
    /// `stop`, `restart`, `replace`, `service_create`: how long the container may take to stop.
    #[serde(default)]
    pub grace: Option<Spanned<HumanDuration>>,
    /// `exec`: the program and its arguments.
    #[serde(default)]
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    /// `run`, `exec`: the user.
    #[serde(default)]
    pub user: Option<Spanned<String>>,
    /// `run`, `exec`: the working directory.
    #[serde(default)]
    pub workdir: Option<Spanned<String>>,
    /// `wait`: `running`, `healthy`, `exited`, `converged` or `rolled_back`; `service_update`:
    /// `rolled_back` expects the engine to undo the update.
    #[serde(default)]
    pub until: Option<Spanned<String>>,
    /// `wait`, service verbs: how long to wait (default 30s, services 2m).
    #[serde(rename = "for", default)]
    pub within: Option<Spanned<HumanDuration>>,
    /// `wait` with `until: exited`: the exit code expected.
    #[serde(default)]
    pub exit_code: Option<Spanned<i64>>,
    /// `wait`: text the container's log must show (`times` times).
    #[serde(default)]
    pub log: Option<Spanned<String>>,
    /// `wait` with `log`: how many times the text must show.
    #[serde(default)]
    pub times: Option<Spanned<u32>>,
    /// `copy_out`, `copy_in`: the path in the container.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// `copy_out`: the tar file to write; `copy_image`: the engine to copy to.
    #[serde(default)]
    pub to: Option<Spanned<String>>,
    /// `copy_in`: the tar file to read; `copy_image`: the engine to copy from.
    #[serde(default)]
    pub from: Option<Spanned<String>>,
    /// `build`: the Dockerfile, relative to the context.
    #[serde(default)]
    pub dockerfile: Option<Spanned<String>>,
    /// `build`: the image's tag.
    #[serde(default)]
    pub tag: Option<Spanned<String>>,
    /// `build`: build arguments.
    #[serde(default, deserialize_with = "compact_map")]
    pub args: StepMap<Spanned<String>>,

    // Swarm service fields.
    /// `service_create`, `service_update`, `service_scale`: how many tasks.
    #[serde(default)]
    pub replicas: Option<Spanned<u64>>,
    /// `service_create`: `replicated` (the default) or `global`.
    #[serde(default)]
    pub mode: Option<Spanned<String>>,
    /// `service_create`: how `ports` are published: `ingress` (the routing mesh, the default) or
    /// `host`.
    #[serde(default)]
    pub publish: Option<Spanned<String>>,
    /// `service_create`: networks to attach.
    #[serde(default)]
    pub networks: Option<Spanned<Vec<Spanned<String>>>>,
    /// `service_create`: `volume:/path` or `/host/path:/path`, optionally `:ro`.
    #[serde(default)]
    pub mounts: Option<Spanned<Vec<Spanned<String>>>>,
    /// `service_create`: the update policy.
    #[serde(default)]
    pub update: Option<Spanned<UpdatePolicySpec>>,
    /// `service_create`: the rollback policy.
    #[serde(default)]
    pub rollback: Option<Spanned<UpdatePolicySpec>>,
    /// `service_create`: `{ condition: any, max_attempts: 3, delay: 1s }` (`restart_policy`, not
    /// `restart`: `restart` is the container verb).
    #[serde(default)]
    pub restart_policy: Option<Spanned<RestartPolicySpec>>,
    /// `service_update`: environment variables to remove.
    #[serde(default)]
    pub env_remove: Option<Spanned<Vec<Spanned<String>>>>,
    /// `service_update`: redeploy even when nothing changed.
    #[serde(default)]
    pub force: Option<Spanned<bool>>,
    /// Service verbs: do not wait for the service to converge (the docker CLI's `--detach`).
    #[serde(default)]
    pub detach: Option<Spanned<bool>>,
}

/// A service's `update:` or `rollback:` policy as written; unset fields
/// keep the engine's defaults.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdatePolicySpec {
    /// How many tasks are updated at once.
    #[serde(default)]
    pub parallelism: Option<Spanned<u64>>,
    /// The pause between batches.
    #[serde(default)]
    pub delay: Option<Spanned<HumanDuration>>,
    /// `stop-first` or `start-first`.
    #[serde(default)]
    pub order: Option<Spanned<String>>,
    /// `pause`, `continue` or `rollback` (not for a rollback policy).
    #[serde(default)]
    pub failure_action: Option<Spanned<String>>,
    /// How long after each task's update a failure still counts.
    #[serde(default)]
    pub monitor: Option<Spanned<HumanDuration>>,
    /// The share of tasks that may fail (0 to 1).
    #[serde(default)]
    pub max_failure_ratio: Option<Spanned<f64>>,
}

/// A service's `restart_policy:` as written.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestartPolicySpec {
    /// `none`, `on-failure` or `any`.
    #[serde(default)]
    pub condition: Option<Spanned<String>>,
    /// How many restarts at most.
    #[serde(default)]
    pub max_attempts: Option<Spanned<u64>>,
    /// The pause between restarts.
    #[serde(default)]
    pub delay: Option<Spanned<HumanDuration>>,
}

impl DockerAction {
    /// The verbs set in the action, with their subjects, in the order of
    /// [`DockerVerb::ALL`]. A checked action has exactly one.
    pub(crate) fn verbs(&self) -> Vec<(DockerVerb, &Spanned<String>)> {
        DockerVerb::ALL
            .into_iter()
            .filter_map(|verb| self.subject(verb).as_ref().map(|s| (verb, s)))
            .collect()
    }

    fn subject(&self, verb: DockerVerb) -> &Option<Spanned<String>> {
        match verb {
            DockerVerb::Run => &self.run,
            DockerVerb::Start => &self.start,
            DockerVerb::Stop => &self.stop,
            DockerVerb::Restart => &self.restart,
            DockerVerb::Remove => &self.remove,
            DockerVerb::Replace => &self.replace,
            DockerVerb::Exec => &self.exec,
            DockerVerb::Wait => &self.wait,
            DockerVerb::CopyOut => &self.copy_out,
            DockerVerb::CopyIn => &self.copy_in,
            DockerVerb::Build => &self.build,
            DockerVerb::Sweep => &self.sweep,
            DockerVerb::CopyImage => &self.copy_image,
            DockerVerb::ServiceCreate => &self.service_create,
            DockerVerb::ServiceUpdate => &self.service_update,
            DockerVerb::ServiceRollback => &self.service_rollback,
            DockerVerb::ServiceScale => &self.service_scale,
            DockerVerb::ServiceRemove => &self.service_remove,
        }
    }

    /// The fields set in the action (verbs aside), with where they are.
    pub(crate) fn fields(&self) -> Vec<(&'static str, Location)> {
        fn at<T>(v: &Option<Spanned<T>>) -> Option<Location> {
            v.as_ref().map(|v| v.referenced)
        }
        fn first<T>(map: &StepMap<Spanned<T>>) -> Option<Location> {
            map.values().next().map(|v| v.referenced)
        }
        let all = [
            ("name", at(&self.name)),
            ("image", at(&self.image)),
            ("env", first(&self.env)),
            ("command", at(&self.command)),
            ("entrypoint", at(&self.entrypoint)),
            ("ports", at(&self.ports)),
            ("volumes", at(&self.volumes)),
            ("network", at(&self.network)),
            ("labels", first(&self.labels)),
            ("healthcheck", at(&self.healthcheck)),
            ("grace", at(&self.grace)),
            ("argv", at(&self.argv)),
            ("user", at(&self.user)),
            ("workdir", at(&self.workdir)),
            ("until", at(&self.until)),
            ("for", at(&self.within)),
            ("exit_code", at(&self.exit_code)),
            ("log", at(&self.log)),
            ("times", at(&self.times)),
            ("path", at(&self.path)),
            ("to", at(&self.to)),
            ("from", at(&self.from)),
            ("dockerfile", at(&self.dockerfile)),
            ("tag", at(&self.tag)),
            ("args", first(&self.args)),
            ("replicas", at(&self.replicas)),
            ("mode", at(&self.mode)),
            ("publish", at(&self.publish)),
            ("networks", at(&self.networks)),
            ("mounts", at(&self.mounts)),
            ("update", at(&self.update)),
            ("rollback", at(&self.rollback)),
            ("restart_policy", at(&self.restart_policy)),
            ("env_remove", at(&self.env_remove)),
            ("force", at(&self.force)),
            ("detach", at(&self.detach)),
        ];
        all.into_iter()
            .filter_map(|(name, at)| at.map(|at| (name, at)))
            .collect()
    }
}

/// `volumes:` is a list of mounts for `run`, and a yes/no for `remove`.
#[derive(Debug, Clone)]
pub(crate) enum VolumesSpec {
    Mounts(Vec<String>),
    Remove(bool),
}

impl<'de> Deserialize<'de> for VolumesSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VolumesVisitor;
        impl<'de> serde::de::Visitor<'de> for VolumesVisitor {
            type Value = VolumesSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a list of mounts like [\"app-data:/data\"], or true/false with `remove`",
                )
            }
            fn visit_bool<E: serde::de::Error>(self, remove: bool) -> Result<VolumesSpec, E> {
                Ok(VolumesSpec::Remove(remove))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<VolumesSpec, A::Error> {
                let mut mounts = Vec::new();
                while let Some(mount) = seq.next_element::<String>()? {
                    mounts.push(mount);
                }
                Ok(VolumesSpec::Mounts(mounts))
            }
        }
        deserializer.deserialize_any(VolumesVisitor)
    }
}

/// How to tell a container is healthy: firedrill polls an HTTP path on its
/// published port (`http`), or the engine runs a command (`cmd`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Healthcheck {
    /// A path polled on the container's published port until it answers 2xx.
    #[serde(default)]
    pub http: Option<Spanned<String>>,
    /// An engine healthcheck, CMD form (runs without a shell).
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// `cmd`: how often the engine checks.
    #[serde(default)]
    pub interval: Option<HumanDuration>,
    /// `cmd`: how long one check may take.
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    /// `cmd`: failures in a row before the container is unhealthy.
    #[serde(default)]
    pub retries: Option<u32>,
    /// How long to wait for health (default 30s).
    #[serde(rename = "for", default)]
    pub within: Option<HumanDuration>,
}

/// Polls after a step until the service answers, e.g. after a deploy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Wait {
    /// A path under `target.base_url` (or an absolute URL) that must answer 2xx.
    pub http: Spanned<String>,
    /// How long to poll before the step fails.
    #[serde(rename = "for")]
    pub within: Spanned<HumanDuration>,
    /// How often to poll.
    #[serde(default)]
    pub every: Option<Spanned<HumanDuration>>,
}

/// Repeat a step until its expectations pass.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{ "required": ["for"] }, { "required": ["attempts"] }]))]
pub(crate) struct Retry {
    /// The pause between attempts.
    #[serde(default)]
    pub every: Option<HumanDuration>,
    /// How long to keep trying.
    #[serde(rename = "for", default)]
    pub within: Option<HumanDuration>,
    /// How many attempts at most.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub attempts: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A drill's model is held for the whole run: 10,000 steps of it were
    /// most of a run's peak memory. An absent kind or rare field costs one
    /// pointer, an empty map carries no hash keys.
    #[test]
    fn a_step_and_its_http_parts_stay_small() {
        assert_eq!(std::mem::size_of::<StepMap<Spanned<Value>>>(), 56);
        assert!(
            std::mem::size_of::<Step>() <= 224,
            "{}",
            std::mem::size_of::<Step>()
        );
        assert!(std::mem::size_of::<HttpAction>() <= 216);
        assert!(std::mem::size_of::<Expect>() <= 200);
    }
}
