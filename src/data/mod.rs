//! Input data: sequence files and (later) label tables and structures. No GUI imports.

pub mod fasta;

pub use fasta::{FastaError, FastaReader, FastaRecord};
