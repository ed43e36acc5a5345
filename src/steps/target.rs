//! The drill's target as resolved at the start of a run, and how step URLs
//! are joined to its base URL. Used by the HTTP kind, Docker health polls,
//! `wait:` and the checks (a relative URL needs a base).

/// The target as resolved at the start of the run.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResolvedTarget {
    pub base_url: Option<String>,
    pub headers: Vec<(String, String)>,
    /// `target.docker`, resolved; `None` falls back to `DOCKER_HOST`.
    pub docker: Option<String>,
    /// `base_url` and `headers` parsed once, on first use, for every
    /// request of the run.
    parsed: std::sync::OnceLock<ParsedTarget>,
}

impl ResolvedTarget {
    /// The base URL and headers in the form requests are built from.
    pub(crate) fn parsed(&self) -> &ParsedTarget {
        self.parsed
            .get_or_init(|| ParsedTarget::new(self.base_url.as_deref(), &self.headers))
    }
}

/// A URL that names its own scheme and host, and is never joined to
/// `base_url`.
pub(crate) fn is_absolute(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// A relative URL in a drill without `target.base_url`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{0}` is relative, and the drill has no target.base_url")]
pub(crate) struct NoBaseUrl(String);

/// A step URL joined to `base_url` unless it is absolute.
pub(crate) fn join_url(base: Option<&str>, url: &str) -> Result<String, NoBaseUrl> {
    if is_absolute(url) {
        return Ok(url.to_string());
    }
    let Some(base) = base else {
        return Err(NoBaseUrl(url.to_string()));
    };
    Ok(format!(
        "{}/{}",
        base.trim_end_matches('/'),
        url.trim_start_matches('/')
    ))
}

/// The target's base URL and headers, parsed once for the whole run.
///
/// Parsing a URL's host (IDNA mapping included) is the most expensive part
/// of building a request, and a drill's requests nearly all share the
/// target's host: they are resolved against the parsed base instead.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParsedTarget {
    /// `base_url` with a trailing `/`, when it parses and has no query or
    /// fragment (relative URLs are then joined to it).
    base: Option<reqwest::Url>,
    /// `target.headers`, when every one is a valid header.
    pub headers: Option<reqwest::header::HeaderMap>,
}

impl ParsedTarget {
    pub(crate) fn new(base_url: Option<&str>, headers: &[(String, String)]) -> Self {
        let base = base_url
            .and_then(|b| reqwest::Url::parse(&format!("{}/", b.trim_end_matches('/'))).ok())
            .filter(|b| b.query().is_none() && b.fragment().is_none() && !b.cannot_be_a_base());
        let mut map = reqwest::header::HeaderMap::with_capacity(headers.len());
        let mut valid = true;
        for (name, value) in headers {
            match (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) {
                (Ok(name), Ok(value)) => {
                    map.append(name, value);
                }
                _ => valid = false,
            }
        }
        ParsedTarget {
            base,
            headers: valid.then_some(map),
        }
    }

    /// `joined` (what [`join_url`] made of `url`) parsed: relative URLs
    /// from the parsed base, absolute ones from scratch.
    pub(crate) fn url(&self, url: &str, joined: &str) -> Option<reqwest::Url> {
        match &self.base {
            // `./` keeps a first segment with a colon (`v1:batch`) a path.
            Some(base) if !is_absolute(url) => base
                .join(&format!("./{}", url.trim_start_matches('/')))
                .ok(),
            _ => reqwest::Url::parse(joined).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joining to the parsed base must send exactly what parsing the joined
    /// text would: the fast path may not change a single URL.
    #[test]
    fn urls_joined_to_the_parsed_base_are_the_ones_the_text_parses_to() {
        let bases = [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://api.example.com/v2/",
            "http://[::1]:9/a/b",
            "http://bücher.example/",
            "http://h/api?x=1",
            "http://h/#top",
        ];
        let urls = [
            "",
            "/",
            "tenants",
            "/tenants/t-1/users/ana",
            "tenants/t 1?q=a b&r=ü#frag",
            "v1:batch",
            "/v1:batch/x",
            "../../up",
            "./here/./there/..",
            "//other.host/x",
            "?only=query",
            "#only-fragment",
            "%2F%2e%2e",
            "a\\b",
            "http://elsewhere:1/x",
            "https://elsewhere/y?z",
        ];
        for base in bases {
            let parsed = ParsedTarget::new(Some(base), &[]);
            for url in urls {
                let joined = join_url(Some(base), url).unwrap();
                assert_eq!(
                    parsed.url(url, &joined).map(String::from),
                    reqwest::Url::parse(&joined).ok().map(String::from),
                    "{base} + {url}"
                );
            }
        }
    }

    #[test]
    fn target_headers_are_parsed_once_or_not_at_all() {
        let good = [("X-A".to_string(), "1".to_string())];
        assert_eq!(ParsedTarget::new(None, &good).headers.unwrap().len(), 1);
        let bad = [("X-A".to_string(), "line\nbreak".to_string())];
        assert!(ParsedTarget::new(None, &bad).headers.is_none());
    }
}
