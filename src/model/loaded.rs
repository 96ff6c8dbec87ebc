//! A model together with where it came from, ready for the GUI and the CLI.

use std::path::Path;

use candle_core::Device;

use super::checkpoint::{Checkpoint, CheckpointSource};
use super::error::Result;
use super::esm::EsmModel;

/// A built model plus its provenance.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    /// The runnable model.
    pub model: EsmModel,
    /// Where the weights came from.
    pub source: CheckpointSource,
    /// Parameters held (tied embeddings counted once).
    pub parameter_count: usize,
    /// Display name: the file (or folder) stem, e.g. `esm1b_t33_650M_UR50S`.
    pub name: String,
    /// Content fingerprint of the weights ([`Checkpoint::fingerprint`]).
    pub fingerprint: String,
}

impl LoadedModel {
    /// Reads, validates and builds a model from any supported checkpoint format.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        Self::from_checkpoint(Checkpoint::read(path)?, device)
    }

    /// [`Self::load`] with the contact head of `head` (a saved all-heads regression or a
    /// fair-esm `*-contact-regression.pt`) in place of the checkpoint's own
    /// ([`Self::with_contact_head_file`]).
    pub fn load_with_contact_head(
        path: &Path,
        head: Option<&Path>,
        device: &Device,
    ) -> Result<Self> {
        let loaded = Self::load(path, device)?;
        match head {
            Some(head) => loaded.with_contact_head_file(head),
            None => Ok(loaded),
        }
    }

    /// Builds the model from an already validated checkpoint (f32 weights on `device`).
    pub fn from_checkpoint(checkpoint: Checkpoint, device: &Device) -> Result<Self> {
        checkpoint.validate()?;
        let heads = checkpoint.heads();
        let parameter_count = checkpoint.parameter_count();
        let fingerprint = checkpoint.fingerprint()?;
        let Checkpoint {
            config,
            tensors,
            source,
        } = checkpoint;
        let model = EsmModel::from_tensors(config, heads, tensors, device)?;
        let name = source
            .path
            .file_stem()
            .map_or_else(|| "model".to_owned(), |s| s.to_string_lossy().into_owned());
        Ok(Self {
            model,
            source,
            parameter_count,
            name,
            fingerprint,
        })
    }

    /// The model as results name it (name and fingerprint).
    pub fn model_ref(&self) -> crate::provenance::ModelRef {
        crate::provenance::ModelRef {
            name: self.name.clone(),
            fingerprint: self.fingerprint.clone(),
            shown_with: None,
        }
    }

    /// The paper's untrained baseline: random weights (seeded) with this model's architecture,
    /// named `<name> (untrained)`.
    pub fn untrained_copy(&self, seed: u64) -> Result<Self> {
        let checkpoint = Checkpoint::random(self.model.config().clone(), seed)?;
        let mut copy = Self::from_checkpoint(checkpoint, &Device::Cpu)?;
        copy.name = format!("{} (untrained)", self.name);
        Ok(copy)
    }

    /// A one-line description, e.g. `ESM-1b, 33 layers, 1280 dim, 20 heads, 652.4M parameters`.
    pub fn summary(&self) -> String {
        let c = self.model.config();
        format!(
            "{}, {} layers, {} dim, {} heads, {:.1}M parameters, LM head: {}, contact head: {}",
            c.architecture,
            c.num_layers,
            c.embed_dim,
            c.attention_heads,
            self.parameter_count as f64 / 1e6,
            if self.model.has_lm_head() {
                "yes"
            } else {
                "no"
            },
            if self.model.has_contact_head() {
                "yes"
            } else {
                "no"
            }
        )
    }
}
