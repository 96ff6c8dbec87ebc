//! ESM Workbench: explore what protein language models (ESM-1b, ESM-2) have learned.
//!
//! Pure compute lives in [`model`], [`data`], [`analysis`] and [`train`]; the GUI (feature `gui`) and the
//! CLI are thin shells over them.

pub mod analysis;
pub mod atomic_write;
pub mod batching;
pub mod bundled;
pub mod cli;
pub mod data;
pub mod export;
#[cfg(feature = "gui")]
pub mod gui;
pub mod io_reason;
pub mod jobs;
pub mod model;
pub mod params;
pub mod probes;
pub mod projection;
pub mod provenance;
pub mod rng;
pub mod stop_flag;
pub mod store;
pub mod train;
