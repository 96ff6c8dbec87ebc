//! Options every probe study shares on the command line: layers, feature store, residue cap,
//! untrained baseline; and the estimate printed (or the refusal) before a study starts.

use std::path::PathBuf;

use anyhow::Context as _;
use candle_core::Device;

use crate::model::{Checkpoint, LoadedModel};

use crate::analysis::ss8_study::DEFAULT_RESIDUE_CAP;
use crate::model::Layers;
use crate::store::{DEFAULT_TOKS_PER_BATCH, StoreDtype, StoreOptions, default_store_root};

/// Where features are stored and how they are computed.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Feature-store folder (default: ~/.cache/esm-workbench/features).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Element type of stored per-residue features: f32, or f16 (half the disk).
    #[arg(long, default_value = "f32")]
    pub dtype: StoreDtype,
    /// Padded tokens per forward batch.
    #[arg(long, default_value_t = DEFAULT_TOKS_PER_BATCH)]
    pub toks_per_batch: usize,
}

impl StoreArgs {
    /// As the study's options.
    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            root: self.store.clone().unwrap_or_else(default_store_root),
            dtype: self.dtype,
            toks_per_batch: self.toks_per_batch,
        }
    }
}

/// What a probe study compares.
#[derive(Debug, Clone, clap::Args)]
pub struct StudyArgs {
    /// Representation layers: last (default), all, an index (negative from the end), or a
    /// list (`0,6,-1` or `0 6 -1`); one probe each.
    #[arg(long, num_args = 1.., allow_negative_numbers = true, value_name = "LAYERS")]
    pub layers: Vec<String>,
    /// Training residues per layer at most; above it a seeded sample is used.
    #[arg(long, default_value_t = DEFAULT_RESIDUE_CAP)]
    pub residue_cap: usize,
    /// Seed of that sample.
    #[arg(long, default_value_t = 0)]
    pub sample_seed: u64,
    /// Also probe an untrained copy of the model beside it (the paper's baseline).
    #[arg(long)]
    pub compare_untrained: bool,
    /// Feature store.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `--layers` values as a [`Layers`]: none means the last.
pub fn parse_layers(values: &[String]) -> anyhow::Result<Layers> {
    if values.is_empty() {
        return Ok(Layers::Last);
    }
    Ok(values.join(",").parse::<Layers>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_values_join_into_one_choice() -> anyhow::Result<()> {
        assert_eq!(parse_layers(&[])?, Layers::Last);
        assert_eq!(parse_layers(&["all".into()])?, Layers::All);
        assert_eq!(
            parse_layers(&["0".into(), "-1".into()])?,
            Layers::List(vec![0, -1])
        );
        assert_eq!(parse_layers(&["0,6".into()])?, Layers::List(vec![0, 6]));
        assert!(parse_layers(&["x".into()]).is_err());
        Ok(())
    }
}

/// A model, trained or its untrained copy.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArg {
    /// Checkpoint (fair-esm .pt, Hugging Face folder, workbench .safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// Use random weights with the model's architecture instead (the paper's untrained baseline).
    #[arg(long)]
    pub untrained: bool,
    /// Seed of the untrained weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A contact head to use instead of the checkpoint's own (or where it has none): an
    /// all-heads regression saved by `probe heads --save-regression`, or a fair-esm
    /// `*-contact-regression.pt`.
    #[arg(long, value_name = "FILE")]
    pub contact_head: Option<PathBuf>,
}

impl ModelArg {
    pub fn load(&self) -> anyhow::Result<LoadedModel> {
        let checkpoint = Checkpoint::read(&self.model)
            .with_context(|| format!("reading {}", self.model.display()))?;
        let checkpoint = if self.untrained {
            Checkpoint::random(checkpoint.config, self.seed)?
        } else {
            checkpoint
        };
        let loaded = LoadedModel::from_checkpoint(checkpoint, &Device::Cpu)?;
        match &self.contact_head {
            Some(head) => loaded
                .with_contact_head_file(head)
                .with_context(|| format!("attaching the contact head {}", head.display())),
            None => Ok(loaded),
        }
    }
}

/// The store folders, comma-separated.
pub fn store_list(stores: &[std::path::PathBuf]) -> String {
    stores
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes a study's table with its provenance beside it (`NAME.provenance.json`).
pub fn write_result_table(
    out: &std::path::Path,
    frame: &mut polars::prelude::DataFrame,
    provenance: &crate::provenance::Provenance,
) -> anyhow::Result<()> {
    let sidecar = crate::export::write_table_with_provenance(out, frame, provenance)?;
    eprintln!("wrote {} and {}", out.display(), sidecar.display());
    Ok(())
}
