//! Polling a URL until it answers 2xx: `wait:` after a deploy and a Docker
//! container's HTTP healthcheck share this one loop, so both count time,
//! cut requests and describe the last answer the same way.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// No request of a poll waits longer than this for its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// What to poll, for how long and how often.
pub(crate) struct Poll<'a> {
    pub http: &'a reqwest::Client,
    pub url: &'a str,
    pub within: Duration,
    pub every: Duration,
}

/// Why a poll ended without a 2xx answer; `E` is the error of the check
/// between two polls.
#[derive(Debug)]
pub(crate) enum PollEnd<E> {
    /// `within` ran out; `last` says what the URL answered last.
    TimedOut { last: String },
    /// The token was cancelled.
    Cancelled,
    /// The check between two polls gave up (a container exited, say).
    Stopped(E),
}

impl Poll<'_> {
    /// Polls until a 2xx answer. After each other answer, `between` runs
    /// (it may end the poll), then the poll sleeps `every`, cut to the
    /// deadline.
    pub(crate) async fn until_2xx<F, Fut, E>(
        &self,
        cancel: &CancellationToken,
        mut between: F,
    ) -> Result<(), PollEnd<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let deadline = Instant::now() + self.within;
        let mut last = String::from("no answer yet");
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(PollEnd::TimedOut { last });
            }
            let request = self
                .http
                .get(self.url)
                .timeout(remaining.min(REQUEST_TIMEOUT))
                .send();
            let result = tokio::select! {
                () = cancel.cancelled() => return Err(PollEnd::Cancelled),
                result = request => result,
            };
            match result {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last = format!("status {}", response.status().as_u16()),
                Err(err) => last = super::http::describe_send_error(self.url, &err),
            }
            between().await.map_err(PollEnd::Stopped)?;
            let pause = self
                .every
                .min(deadline.saturating_duration_since(Instant::now()));
            tokio::select! {
                () = cancel.cancelled() => return Err(PollEnd::Cancelled),
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}
