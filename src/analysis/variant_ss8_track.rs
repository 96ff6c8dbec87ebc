//! The secondary-structure track of a variant study: a saved SS8 probe (the SS8 study's best
//! probe, `probe ss8 --save` or the SS8 view's "Save best probe") applied to the wild type, so
//! the heatmap shows which substitutions fall in helices, strands and loops. The probe must
//! have been trained on the scored model (checked by fingerprint before anything runs); the
//! untrained copy and other ensemble members get no track.

use std::path::{Path, PathBuf};

use super::probe_apply::{ApplyProbeError, Ss8Prediction, predict_ss8};
use super::study_error::StudyError;
use crate::data::SS8_CLASSES;
use crate::jobs::JobCtx;
use crate::model::LoadedModel;
use crate::probes::{ProbeMetadata, Ss8Probe, load_ss8_probe};

/// A saved SS8 probe, read where it enters.
#[derive(Debug, Clone)]
pub struct Ss8ProbeFile {
    /// The file.
    pub path: PathBuf,
    /// The probe.
    pub probe: Ss8Probe,
    /// What it was trained on.
    pub metadata: ProbeMetadata,
}

/// The wild type's predicted classes.
#[derive(Debug, Clone)]
pub struct Ss8Track {
    /// "ss8_probe.safetensors (layer 33)".
    pub probe: String,
    /// Per residue: the most probable class letter and its probability.
    pub classes: Vec<(char, f32)>,
}

impl Ss8ProbeFile {
    /// Reads `path` (an SS8 probe file; the error names the file).
    pub fn read(path: &Path) -> Result<Self, StudyError> {
        let (probe, metadata) = load_ss8_probe(path)?;
        Ok(Self {
            path: path.to_owned(),
            probe,
            metadata,
        })
    }

    /// Whether the probe reads `model`'s representations.
    pub fn reads(&self, model: &LoadedModel) -> bool {
        self.metadata.model_fingerprint == model.fingerprint
    }

    /// Refuses a probe trained on another model than `model`, naming both.
    pub fn check_model(&self, model: &LoadedModel) -> Result<(), StudyError> {
        if self.reads(model) {
            return Ok(());
        }
        Err(ApplyProbeError::WrongModel {
            probe_model: format!("{} ({})", self.metadata.model_name, self.path.display()),
            probe_fingerprint: self.metadata.model_fingerprint.clone(),
            model: model.name.clone(),
            fingerprint: model.fingerprint.clone(),
        }
        .into())
    }

    /// The track of `protein` on `model` (one forward pass at the probe's layer).
    pub fn track(
        &self,
        model: &LoadedModel,
        protein: &(String, String),
        ctx: &JobCtx,
    ) -> Result<Ss8Track, StudyError> {
        self.check_model(model)?;
        ctx.set_stage(format!(
            "SS8 of {} at layer {}",
            protein.0, self.metadata.layer
        ));
        let prediction: Ss8Prediction = predict_ss8(
            model,
            &self.probe,
            &self.metadata,
            std::slice::from_ref(protein),
            ctx,
        )?
        .into_iter()
        .next()
        .ok_or_else(|| StudyError::Empty(format!("{} has no residues", protein.0)))?;
        Ok(Ss8Track {
            probe: format!(
                "{} (layer {})",
                crate::store::dataset_label(&self.path),
                self.metadata.layer
            ),
            classes: prediction
                .best()
                .into_iter()
                .map(|(class, p)| (SS8_CLASSES[class], p))
                .collect(),
        })
    }
}
