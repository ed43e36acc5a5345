//! What a step kind may use while it runs.

use std::sync::Arc;
use std::time::Duration;

use super::docker::engine::Engine;
use crate::operator::Operator;

/// What every step kind may use while it runs.
pub(crate) struct StepContext<'a> {
    pub http: &'a reqwest::Client,
    /// The Docker engine, connected on first use.
    pub docker: &'a Engine,
    pub operator: &'a Arc<dyn Operator>,
    /// Labels what Docker steps create, so a sweep finds it.
    pub run_id: &'a str,
    pub drill: &'a str,
    pub step_name: &'a str,
    pub owner: Option<&'a str>,
    pub budget: Option<Duration>,
    /// Responses and program output larger than this are cut with an error.
    pub max_body_bytes: usize,
}
