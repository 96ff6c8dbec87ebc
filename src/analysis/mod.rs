//! Analyses over models and data: embedding extraction, jobs (progress + cancel). No GUI imports.

pub mod extract;
pub mod jobs;

pub use jobs::{Cancelled, JobCtx};
