//! `esm-workbench store`: list, delete and fill feature stores. `fill --shard i/n` embeds one
//! share of a dataset's batches, so several processes (a Slurm job array) fill one store; a
//! study run afterwards finds it complete and does no forward pass.

use std::path::PathBuf;

use super::probe::ModelArg;
use super::progress::with_progress_bar_and_log;
use super::study_args::{StoreArgs, parse_layers};
use crate::analysis::ss8_study::study_policy;
use crate::data::{FastaReader, read_ss8_labels};
use crate::store::{
    FeatureStore, Shard, StoreSpec, default_store_root, delete_store, fill_store, human_bytes,
    list_stores, remove_partial_stores,
};

/// Store subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum StoreCommand {
    /// List the stores in a folder: model, dataset, size, layers, finished batches.
    List {
        /// Feature-store folder (default: ~/.cache/esm-workbench/features).
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
    /// Delete stores (folders listed by `store list`), or all of them with --all.
    Delete {
        /// Store folders.
        dirs: Vec<PathBuf>,
        /// Every store in the folder (and unfinished creations).
        #[arg(long)]
        all: bool,
        /// Feature-store folder for --all.
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
    /// Embed a dataset into a store (all of it, or one shard).
    Fill(FillArgs),
}

/// Options of `store fill`.
#[derive(Debug, Clone, clap::Args)]
pub struct FillArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArg,
    /// Proteins from a FASTA file.
    #[arg(long, conflicts_with = "ss8")]
    pub fasta: Option<PathBuf>,
    /// Proteins from an SS8 table (as `probe ss8 --train/--test` reads it).
    #[arg(long)]
    pub ss8: Option<PathBuf>,
    /// Use only the first N proteins (as `probe ss8 --max-train`).
    #[arg(long)]
    pub max_records: Option<usize>,
    /// Layers to store (default: all).
    #[arg(long, num_args = 1.., allow_negative_numbers = true)]
    pub layers: Vec<String>,
    /// This process's share of the batches, i/n (e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT).
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
    /// Store only per-protein means (what `probe homology` and protein maps read): no
    /// per-residue rows, 1/residues of the disk.
    #[arg(long)]
    pub means_only: bool,
    /// Store options.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs a store subcommand.
pub fn run(command: &StoreCommand) -> anyhow::Result<()> {
    match command {
        StoreCommand::List { store } => {
            let root = store.clone().unwrap_or_else(default_store_root);
            let stores = list_stores(&root);
            println!("{} stores in {}", stores.len(), root.display());
            for s in &stores {
                println!(
                    "{}  {} on {}: {} proteins, {} residues, {} layers, {}/{} batches, {}",
                    s.dir.display(),
                    s.model_name,
                    s.dataset,
                    s.proteins,
                    s.residues,
                    s.layers.len(),
                    s.batches_done,
                    s.batches,
                    human_bytes(s.bytes)
                );
            }
            Ok(())
        }
        StoreCommand::Delete { dirs, all, store } => {
            let mut targets = dirs.clone();
            if *all {
                let root = store.clone().unwrap_or_else(default_store_root);
                targets.extend(list_stores(&root).into_iter().map(|s| s.dir));
                let partial = remove_partial_stores(&root);
                if partial > 0 {
                    eprintln!("removed {partial} unfinished store creations");
                }
            }
            for dir in &targets {
                delete_store(dir)?;
                eprintln!("deleted {}", dir.display());
            }
            Ok(())
        }
        StoreCommand::Fill(args) => fill(args),
    }
}

fn fill(args: &FillArgs) -> anyhow::Result<()> {
    let (dataset, records) = fill_records(args)?;
    let loaded = args.model.load()?;
    let layers = if args.layers.is_empty() {
        crate::model::Layers::All
    } else {
        parse_layers(&args.layers)?
    }
    .resolve(loaded.model.config().num_layers)?;
    let options = args.store.options();
    let policy = study_policy(&loaded);
    let spec = StoreSpec {
        root: options.root.clone(),
        dataset: dataset.clone(),
        records: &records,
        layers,
        length_policy: policy,
        dtype: options.dtype,
        toks_per_batch: options.toks_per_batch,
        per_residue: !args.means_only,
    };
    let store = FeatureStore::open_or_create(&loaded, &spec)?;
    eprintln!(
        "store {} ({} proteins, {} layers, {} batches; shard {})",
        store.dir().display(),
        records.len(),
        store.manifest().layers.len(),
        store.manifest().batches.len(),
        args.shard
    );
    let ctx = super::progress::cancellable_on_ctrl_c()?;
    let shard = args.shard;
    let dir = store.dir().to_owned();
    let report = with_progress_bar_and_log("embedding", ctx, move |ctx, _| {
        fill_store(&loaded, &store, &records, policy, shard, &ctx)
    })??;
    eprintln!(
        "embedded {} batches ({} residues); {} were already done; {}",
        report.batches_run,
        report.residues_embedded,
        report.batches_already_done,
        if FeatureStore::open(&dir)?.is_complete() {
            "the store is complete"
        } else {
            "other shards remain"
        }
    );
    Ok(())
}

/// `(dataset name, (id, sequence) records)` from --fasta or --ss8.
fn fill_records(args: &FillArgs) -> anyhow::Result<(String, Vec<(String, String)>)> {
    let (path, mut records) = match (&args.fasta, &args.ss8) {
        (Some(path), _) => (
            path,
            FastaReader::read_all(path)?
                .into_iter()
                .map(|r| (r.id, r.sequence))
                .collect::<Vec<_>>(),
        ),
        (None, Some(path)) => (
            path,
            read_ss8_labels(path)?
                .into_iter()
                .map(|r| (r.id, r.sequence))
                .collect(),
        ),
        (None, None) => anyhow::bail!("give --fasta or --ss8"),
    };
    if let Some(n) = args.max_records {
        records.truncate(n);
    }
    Ok((crate::store::dataset_label(path), records))
}
