//! `sleep`: wait a fixed time, e.g. for a cache to expire.

use std::time::Duration;

use super::Attempt;

/// A fixed wait.
#[derive(Debug)]
pub struct Sleep(pub Duration);

impl Sleep {
    /// Sleeps; the executor cancels it like any other step.
    pub async fn attempt(&self) -> Attempt {
        tokio::time::sleep(self.0).await;
        Attempt::passed(Vec::new())
    }
}
