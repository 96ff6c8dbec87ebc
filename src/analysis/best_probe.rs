//! Saving a study's best probe, for the model that made it: the one function each for SS8 and
//! contact studies that both shells call (`probe ss8|contacts --save`, the views' "Save best
//! probe"). The probe file records the study's model; a study made with another model than the
//! one loaded is refused, as is an existing file.

use std::path::Path;

use super::contact_study::ContactStudy;
use super::ss8_study::Ss8Study;
use crate::data::SS8_CLASSES;
use crate::probes::{ProbeFileError, ProbeMetadata, save_contact_probe, save_ss8_probe};
use crate::provenance::{ModelRef, Provenance};

/// Why a best probe was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveProbeError {
    /// The result on hand was made with another model than the one loaded.
    #[error(
        "this result was made with {made_with}, not with the loaded model {loaded}: load {made_with} to save its probe, or run the study again"
    )]
    OtherModel {
        /// The result's model, with its fingerprint.
        made_with: String,
        /// The loaded model, with its fingerprint.
        loaded: String,
    },
    /// The study trained no probe (only the contact head was scored).
    #[error("the study trained no probe to save (only the model's contact head was scored)")]
    NoProbe,
    /// The file exists.
    #[error("{} exists; not overwriting (choose another name)", .0.display())]
    Exists(std::path::PathBuf),
    /// Writing failed.
    #[error(transparent)]
    File(#[from] ProbeFileError),
}

/// Saves the best layer's SS8 probe of `study` to `path` when the study was made with the
/// `loaded` model; returns "saved the layer-L probe to PATH".
pub fn save_best_ss8_probe(
    study: &Ss8Study,
    loaded: &ModelRef,
    path: &Path,
) -> Result<String, SaveProbeError> {
    check_target(&study.sweep.provenance, loaded, path)?;
    let best = study.best_run();
    let metadata = ProbeMetadata {
        kind: "ss8".into(),
        layer: best.layer,
        classes: SS8_CLASSES.iter().collect(),
        test_metrics: Some(best.test.clone()),
        contact_precision: None,
        model_fingerprint: study.sweep.provenance.model.fingerprint.clone(),
        model_name: study.sweep.provenance.model.name.clone(),
    };
    save_ss8_probe(&best.probe, &metadata, path)?;
    Ok(saved(best.layer, "", path))
}

/// Saves the best layer's contact probe of `study` to `path`.
pub fn save_best_contact_probe(
    study: &ContactStudy,
    loaded: &ModelRef,
    path: &Path,
) -> Result<String, SaveProbeError> {
    check_target(&study.sweep.provenance, loaded, path)?;
    let best = study.best_run().ok_or(SaveProbeError::NoProbe)?;
    let metadata = ProbeMetadata {
        kind: "contacts".into(),
        layer: best.layer,
        classes: "contact".into(),
        test_metrics: None,
        contact_precision: Some(best.mean),
        model_fingerprint: study.sweep.provenance.model.fingerprint.clone(),
        model_name: study.sweep.provenance.model.name.clone(),
    };
    save_contact_probe(&best.probe, &metadata, path)?;
    Ok(saved(best.layer, " contact", path))
}

/// The result's model is the loaded one, and `path` is free.
fn check_target(
    provenance: &Provenance,
    loaded: &ModelRef,
    path: &Path,
) -> Result<(), SaveProbeError> {
    if !provenance.model.is(&loaded.fingerprint) {
        return Err(SaveProbeError::OtherModel {
            made_with: provenance.model.label(),
            loaded: loaded.label(),
        });
    }
    check_free(path)
}

/// Refuses an existing `path` (checked again before the study runs, so a long study does not
/// end in a refusal).
pub fn check_free(path: &Path) -> Result<(), SaveProbeError> {
    if path.exists() {
        return Err(SaveProbeError::Exists(path.to_owned()));
    }
    Ok(())
}

fn saved(layer: usize, what: &str, path: &Path) -> String {
    format!("saved the layer-{layer}{what} probe to {}", path.display())
}
