//! The step kinds, as one enum. It sits at the bottom of the crate and
//! imports nothing of it: the drill model, the step kinds, the executor,
//! the record and every reporter name a kind through it, never by a string.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a step does. Serialized as the key written in the drill file
/// (`"http"`, `"exec"`, …), which is also what run records have always
/// stored, so old records load unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// An HTTP request against the target.
    Http,
    /// A local program.
    Exec,
    /// A step a person does.
    Manual,
    /// A pause.
    Sleep,
    /// A Docker engine action (containers, images, Swarm services).
    Docker,
    /// A group of steps run concurrently.
    Parallel,
}

impl StepKind {
    /// Every kind, in the order messages list them.
    pub const ALL: [StepKind; 6] = [
        StepKind::Http,
        StepKind::Exec,
        StepKind::Docker,
        StepKind::Manual,
        StepKind::Sleep,
        StepKind::Parallel,
    ];

    /// The key of the kind in a drill file and in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Http => "http",
            StepKind::Exec => "exec",
            StepKind::Manual => "manual",
            StepKind::Sleep => "sleep",
            StepKind::Docker => "docker",
            StepKind::Parallel => "parallel",
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::StepKind;

    #[test]
    fn kinds_serialize_as_the_drill_keys() {
        for kind in StepKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<StepKind>(&json).unwrap(), kind);
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }
}
