//! firedrill rehearses deployment operations as code: a drill file of HTTP,
//! exec and manual steps runs against a real target, every step timed, every
//! human action recorded apart from machine time.
//!
//! The binary is a thin shell over this library: [`cli`] parses arguments,
//! [`drill`] loads and checks the file, [`run`] executes it and emits
//! events, [`report`] turns events into output and the run record.

pub mod cli;
pub mod drill;
pub(crate) mod history;
pub mod kind;
pub mod operator;
pub mod plan;
pub mod record;
pub mod redact;
pub(crate) mod report;
pub mod run;
pub(crate) mod runbook;
pub mod steps;
