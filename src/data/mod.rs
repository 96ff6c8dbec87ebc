//! Input data: sequences (FASTA), SCOPe/ASTRAL domains, SS8 label tables and structures.
//! No GUI imports.

pub mod alignment;
pub mod dms;
pub mod dssp;
pub mod error;
pub mod fasta;
pub mod frame;
pub mod mutations;
pub mod open_files;
pub mod protein_set;
pub mod scope;
pub mod ss8;
pub mod ss8_labels;
pub mod structure;

pub use alignment::{AlignedSequence, Alignment, read_alignments};
pub use dms::{DmsTable, read_dms};
pub use error::DataError;
pub use fasta::{FastaReader, FastaRecord, duplicate_ids};
pub use mutations::{
    AMINO_ACIDS, OffsetError, Substitution, Variant, check_offset, find_offset, parse_variant,
};
pub use open_files::{DataFileKind, classify_data_file, open_data_files};
pub use protein_set::ProteinSet;
pub use scope::{ScopDomain, ScopLabels, read_astral, scop_labels, spread_evenly};
pub use ss8::{SS3_CLASSES, SS8_CLASSES, Ss8Record, read_ss8, ss3_of, ss8_index};
pub use ss8_labels::read_ss8_labels;
pub use structure::{
    ContactMap, ProteinChain, SeparationRange, read_backbone_json, read_structure, read_structures,
};
