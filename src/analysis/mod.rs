//! Analyses over models and data: embedding runs (cached), extraction to files, jobs
//! (progress + cancel). No GUI imports.

pub mod aa_groups_study;
pub mod aa_groups_study_table;
pub mod alignment_pairs;
pub mod alignment_study;
pub mod alignment_study_table;
pub mod batch_maps;
pub mod best_probe;
pub mod contact_head_run;
pub mod contact_study;
pub mod contact_study_table;
pub mod embed_run;
pub mod extract;
pub mod heads_overlay;
pub mod heads_regression;
pub mod heads_study;
pub mod heads_study_table;
pub mod homology_run;
pub mod homology_study;
pub mod homology_study_table;
pub mod map_study;
pub mod map_table;
pub mod measured_rates;
pub mod probe_apply;
pub mod projection_run;
pub mod resources;
pub mod ss8_probe_run;
pub mod ss8_study;
pub mod ss8_study_table;
pub mod study;
pub mod study_driver;
pub mod study_error;
pub mod study_estimate;
pub mod study_split;
pub mod study_stores;
pub mod variant_ensemble;
pub mod variant_inputs;
pub mod variant_scan;
pub mod variant_ss8_track;
pub mod variant_study;
pub mod variant_study_table;

pub use crate::jobs::{Cancelled, JobCtx};
