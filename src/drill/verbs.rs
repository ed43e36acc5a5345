//! The Docker verbs as one table: each verb's name, the fields it takes and
//! the ones it needs, written once; validation, its help texts, the JSON
//! Schema and the Docker step's dispatch all read it. The model's
//! `DockerAction` has one field per verb.

use std::fmt;

/// The Docker verbs, one per field of the model's `DockerAction`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DockerVerb {
    Run,
    Start,
    Stop,
    Restart,
    Remove,
    Replace,
    Exec,
    Wait,
    CopyOut,
    CopyIn,
    Build,
    Sweep,
    CopyImage,
    ServiceCreate,
    ServiceUpdate,
    ServiceRollback,
    ServiceScale,
    ServiceRemove,
}

/// A field a verb cannot do without, and an example for the message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequiredField {
    pub field: &'static str,
    /// Another field that stands in for it (`log` for `until`).
    pub or: Option<&'static str>,
    pub example: &'static str,
}

impl DockerVerb {
    /// Every verb, in the order messages list them.
    pub(crate) const ALL: [DockerVerb; 18] = [
        DockerVerb::Run,
        DockerVerb::Start,
        DockerVerb::Stop,
        DockerVerb::Restart,
        DockerVerb::Remove,
        DockerVerb::Replace,
        DockerVerb::Exec,
        DockerVerb::Wait,
        DockerVerb::CopyOut,
        DockerVerb::CopyIn,
        DockerVerb::Build,
        DockerVerb::Sweep,
        DockerVerb::CopyImage,
        DockerVerb::ServiceCreate,
        DockerVerb::ServiceUpdate,
        DockerVerb::ServiceRollback,
        DockerVerb::ServiceScale,
        DockerVerb::ServiceRemove,
    ];

    /// The verb's key in a drill file.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DockerVerb::Run => "run",
            DockerVerb::Start => "start",
            DockerVerb::Stop => "stop",
            DockerVerb::Restart => "restart",
            DockerVerb::Remove => "remove",
            DockerVerb::Replace => "replace",
            DockerVerb::Exec => "exec",
            DockerVerb::Wait => "wait",
            DockerVerb::CopyOut => "copy_out",
            DockerVerb::CopyIn => "copy_in",
            DockerVerb::Build => "build",
            DockerVerb::Sweep => "sweep",
            DockerVerb::CopyImage => "copy_image",
            DockerVerb::ServiceCreate => "service_create",
            DockerVerb::ServiceUpdate => "service_update",
            DockerVerb::ServiceRollback => "service_rollback",
            DockerVerb::ServiceScale => "service_scale",
            DockerVerb::ServiceRemove => "service_remove",
        }
    }

    /// A Swarm service verb (`wait` decides by its `until`).
    pub(crate) fn is_service(self) -> bool {
        matches!(
            self,
            DockerVerb::ServiceCreate
                | DockerVerb::ServiceUpdate
                | DockerVerb::ServiceRollback
                | DockerVerb::ServiceScale
                | DockerVerb::ServiceRemove
        )
    }

    /// The fields the verb takes beside its subject.
    pub(crate) fn fields(self) -> &'static [&'static str] {
        match self {
            DockerVerb::Run => &[
                "name",
                "env",
                "command",
                "entrypoint",
                "ports",
                "volumes",
                "network",
                "labels",
                "healthcheck",
                "user",
                "workdir",
            ],
            DockerVerb::Start => &["healthcheck"],
            DockerVerb::Stop => &["grace"],
            DockerVerb::Restart => &["grace", "healthcheck"],
            DockerVerb::Remove => &["volumes"],
            DockerVerb::Replace => &["image", "grace", "healthcheck"],
            DockerVerb::Exec => &["argv", "env", "user", "workdir"],
            DockerVerb::Wait => &["until", "for", "exit_code", "log", "times"],
            DockerVerb::CopyOut => &["path", "to"],
            DockerVerb::CopyIn => &["from", "path"],
            DockerVerb::Build => &["dockerfile", "tag", "args", "labels"],
            DockerVerb::Sweep | DockerVerb::ServiceRemove => &[],
            DockerVerb::CopyImage => &["from", "to"],
            DockerVerb::ServiceCreate => &[
                "image",
                "replicas",
                "mode",
                "env",
                "command",
                "ports",
                "publish",
                "network",
                "networks",
                "mounts",
                "labels",
                "healthcheck",
                "update",
                "rollback",
                "restart_policy",
                "grace",
                "detach",
                "for",
            ],
            DockerVerb::ServiceUpdate => &[
                "image",
                "env",
                "env_remove",
                "replicas",
                "force",
                "until",
                "detach",
                "for",
            ],
            DockerVerb::ServiceRollback => &["detach", "for"],
            DockerVerb::ServiceScale => &["replicas", "detach", "for"],
        }
    }

    /// The fields the verb cannot do without, in the order they are checked.
    pub(crate) fn required(self) -> &'static [RequiredField] {
        const COPY_OUT: &str = "docker: { copy_out: app, path: /data, to: backup.tar }";
        const COPY_IN: &str = "docker: { copy_in: app, from: backup.tar, path: / }";
        const REPLACE: &[RequiredField] = &[need(
            "image",
            "docker: { replace: app, image: \"demo-app:2\" }",
        )];
        const EXEC: &[RequiredField] = &[need(
            "argv",
            "docker: { exec: app, argv: [cat, /data/FORMAT] }",
        )];
        const WAIT: &[RequiredField] = &[RequiredField {
            field: "until",
            or: Some("log"),
            example: "docker: { wait: app, until: healthy, for: 30s }",
        }];
        const COPY_OUT_NEEDS: &[RequiredField] = &[need("path", COPY_OUT), need("to", COPY_OUT)];
        const COPY_IN_NEEDS: &[RequiredField] = &[need("from", COPY_IN), need("path", COPY_IN)];
        const BUILD: &[RequiredField] = &[need("tag", "docker: { build: ., tag: \"demo-app:1\" }")];
        const COPY_IMAGE: &str = "docker: { copy_image: \"demo-app:1\", from: primary, to: safe }";
        const COPY_IMAGE_NEEDS: &[RequiredField] =
            &[need("from", COPY_IMAGE), need("to", COPY_IMAGE)];
        const SERVICE_CREATE: &[RequiredField] = &[need(
            "image",
            "docker: { service_create: demo, image: \"demo-app:1\", replicas: 2 }",
        )];
        const SERVICE_SCALE: &[RequiredField] = &[need(
            "replicas",
            "docker: { service_scale: demo, replicas: 3 }",
        )];
        match self {
            DockerVerb::Replace => REPLACE,
            DockerVerb::Exec => EXEC,
            DockerVerb::Wait => WAIT,
            DockerVerb::CopyOut => COPY_OUT_NEEDS,
            DockerVerb::CopyIn => COPY_IN_NEEDS,
            DockerVerb::Build => BUILD,
            DockerVerb::CopyImage => COPY_IMAGE_NEEDS,
            DockerVerb::ServiceCreate => SERVICE_CREATE,
            DockerVerb::ServiceScale => SERVICE_SCALE,
            _ => &[],
        }
    }
}

/// A required field that nothing stands in for.
const fn need(field: &'static str, example: &'static str) -> RequiredField {
    RequiredField {
        field,
        or: None,
        example,
    }
}

impl fmt::Display for DockerVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
