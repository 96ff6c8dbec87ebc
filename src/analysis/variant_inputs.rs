//! What a user gives a variant study, read and checked where it enters: the wild type from a
//! FASTA record or typed, typed mutations and a deep mutational scan, and the numbering offset
//! (given, or found from the wild-type letters).

use super::study_error::StudyError;
use super::variant_scan::ScoringStrategy;
use super::variant_ss8_track::Ss8ProbeFile;
use super::variant_study::VariantStudyRequest;
use crate::data::Variant;
use crate::store::StoreOptions;

/// What a user gives a variant study (the GUI's fields and the CLI's flags).
#[derive(Debug, Clone, Default)]
pub struct VariantInputs {
    /// A FASTA file holding the protein.
    pub fasta: Option<std::path::PathBuf>,
    /// Its record (default: the first).
    pub id: Option<String>,
    /// Or the sequence itself.
    pub sequence: Option<String>,
    /// Typed variants (`A23K`, `A23K:G40P`).
    pub mutations: Vec<String>,
    /// A deep mutational scan: file, mutant column, score column.
    pub dms: Option<(std::path::PathBuf, Option<String>, Option<String>)>,
    /// The numbering offset (found from the variants when not given; 1 without variants).
    pub offset: Option<i64>,
    /// A saved SS8 probe of the scored model, for the secondary-structure track.
    pub ss8_probe: Option<std::path::PathBuf>,
}

impl VariantStudyRequest {
    /// The request `inputs` describe, scored by `strategies` (inputs read and checked here:
    /// the record, the variants, the offset).
    pub fn from_inputs(
        inputs: &VariantInputs,
        strategies: Vec<ScoringStrategy>,
    ) -> Result<Self, StudyError> {
        let (protein, source) = protein_of(inputs)?;
        let mut variants: Vec<(Variant, Option<f64>)> = Vec::new();
        for text in &inputs.mutations {
            let variant = crate::data::parse_variant(text)
                .map_err(|reason| StudyError::Empty(format!("--mutations: {reason}")))?;
            variants.push((variant, None));
        }
        let mut assay = String::new();
        if let Some((path, mutant, score)) = &inputs.dms {
            let table = crate::data::read_dms(path, mutant.as_deref(), score.as_deref())?;
            assay = format!(
                "{}, column {}",
                crate::store::dataset_label(path),
                table.score_column
            );
            variants.extend(table.variants.into_iter().map(|(v, m)| (v, Some(m))));
        }
        let listed: Vec<Variant> = variants.iter().map(|(v, _)| v.clone()).collect();
        let offset = match inputs.offset {
            Some(offset) => offset,
            None if listed.is_empty() => 1,
            None => crate::data::find_offset(&protein.1, &listed)
                .map_err(|e| StudyError::Empty(format!("{}: {e} (--offset)", protein.0)))?,
        };
        let ss8_probe = match &inputs.ss8_probe {
            Some(path) => Some(std::sync::Arc::new(Ss8ProbeFile::read(path)?)),
            None => None,
        };
        Ok(Self {
            protein,
            source,
            strategies,
            variants,
            offset,
            assay,
            compare_untrained: false,
            store: StoreOptions::default(),
            ss8_probe,
        })
    }
}

/// `((id, sequence), source)` of the inputs' protein.
fn protein_of(inputs: &VariantInputs) -> Result<((String, String), String), StudyError> {
    match (&inputs.sequence, &inputs.fasta) {
        (Some(sequence), None) => {
            let sequence: String = sequence
                .split_whitespace()
                .collect::<String>()
                .to_ascii_uppercase();
            let id = inputs.id.clone().unwrap_or_else(|| "sequence".into());
            Ok(((id, sequence), "typed sequence".into()))
        }
        (None, Some(path)) => {
            let records = crate::data::FastaReader::read_all(path)?;
            let record = match &inputs.id {
                None => &records[0],
                Some(id) => records.iter().find(|r| &r.id == id).ok_or_else(|| {
                    StudyError::Empty(format!(
                        "no record {id:?} in {} (--id); its first is {:?}",
                        path.display(),
                        records[0].id
                    ))
                })?,
            };
            Ok((
                (record.id.clone(), record.sequence.clone()),
                crate::store::dataset_label(path),
            ))
        }
        (Some(_), Some(_)) => Err(StudyError::Empty(
            "give the protein once: --sequence or --fasta, not both".into(),
        )),
        (None, None) => Err(StudyError::Empty(
            "give the wild-type protein: --sequence or --fasta".into(),
        )),
    }
}
