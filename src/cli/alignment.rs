//! `probe alignment`: whether the model's representations encode alignment within protein
//! families (the alignment study, the same one the Alignment view runs).

use std::path::PathBuf;

use super::progress::{announce_estimate, cancellable_on_ctrl_c, with_progress_bar_and_log};
use super::study_args::{ModelArg, StoreArgs, parse_layers, store_list, write_result_table};
use crate::analysis::alignment_study::{
    AlignmentStudyRequest, BEST_ALIGNMENT_LAYER, DEFAULT_MAX_SEQUENCES, DEFAULT_PAIRS_PER_FAMILY,
    estimate_alignment_study, run_alignment_study,
};
use crate::analysis::alignment_study_table::{alignment_family_table, alignment_histogram_table};

/// Options of `probe alignment`.
#[derive(Debug, Clone, clap::Args)]
pub struct AlignmentArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArg,
    /// Family alignments: Stockholm (several families a file, e.g. Pfam seeds), aligned FASTA,
    /// A2M or A3M; `.gz` read as is.
    #[arg(long, num_args = 1.., required = true)]
    pub alignments: Vec<PathBuf>,
    /// Representation layers: last (default), all, an index (negative from the end), or a
    /// list (`0,6,-1` or `0 6 -1`).
    #[arg(long, num_args = 1.., allow_negative_numbers = true, value_name = "LAYERS")]
    pub layers: Vec<String>,
    /// Most sequences per family, spread evenly over its alignment.
    #[arg(long, default_value_t = DEFAULT_MAX_SEQUENCES)]
    pub max_sequences: usize,
    /// Aligned pairs sampled per family (and as many unaligned pairs).
    #[arg(long, default_value_t = DEFAULT_PAIRS_PER_FAMILY)]
    pub pairs: usize,
    /// Seed of the pair samples.
    #[arg(long, default_value_t = 0)]
    pub pair_seed: u64,
    /// Also score an untrained copy of the model beside it (the paper's baseline).
    #[arg(long)]
    pub compare_untrained: bool,
    /// Feature store (per-residue rows of every family).
    #[command(flatten)]
    pub store: StoreArgs,
    /// Write the AUC table here (.csv or .parquet): one row per model, layer and family, and
    /// each model and layer's mean (see `analysis::alignment_study_table`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the cosine-similarity histograms here (.csv or .parquet).
    #[arg(long)]
    pub histograms: Option<PathBuf>,
}

/// Runs `probe alignment`.
pub fn run(args: &AlignmentArgs) -> anyhow::Result<()> {
    let loaded = args.model.load()?;
    let request = AlignmentStudyRequest {
        layers: parse_layers(&args.layers)?,
        compare_untrained: args.compare_untrained,
        pairs_per_family: args.pairs,
        seed: args.pair_seed,
        store: args.store.options(),
        ..AlignmentStudyRequest::from_files(&args.alignments, args.max_sequences)?
    };
    announce_estimate(&estimate_alignment_study(&loaded, &request)?)?;
    let ctx = cancellable_on_ctrl_c()?;
    let study = with_progress_bar_and_log("alignment study", ctx, move |ctx, _| {
        run_alignment_study(&loaded, &request, &ctx)
    })??;
    eprintln!(
        "embedded {} residues in {:.1} s, scored in {:.1} s; stores: {}",
        study.sweep.cost.residues_embedded,
        study.sweep.cost.embed_seconds,
        study.sweep.cost.analysis_seconds,
        store_list(&study.sweep.cost.stores)
    );
    println!(
        "model      layer  family                 seqs   pairs    AUC  cos aligned  cos unaligned"
    );
    for (model, runs) in [
        ("trained", &study.sweep.runs),
        ("untrained", &study.sweep.untrained),
    ] {
        for run in runs.iter() {
            for f in &run.families {
                println!(
                    "{model:<9}  {:>5}  {:<20}  {:>5}  {:>6}  {:.3}  {:>11.3}  {:>13.3}",
                    run.layer,
                    f.name,
                    f.sequences,
                    f.pairs.0,
                    f.auc,
                    f.mean_cosine.0,
                    f.mean_cosine.1
                );
            }
            println!(
                "{model:<9}  {:>5}  {:<20}  {:>5}  {:>6}  {:.3}",
                run.layer, "mean", "", "", run.mean_auc
            );
        }
    }
    if let Some(best) = study.sweep.best_run() {
        println!("best layer {} ({BEST_ALIGNMENT_LAYER})", best.layer);
    }
    let provenance = &study.sweep.provenance;
    if let Some(out) = &args.out {
        write_result_table(out, &mut alignment_family_table(&study)?, provenance)?;
    }
    if let Some(out) = &args.histograms {
        write_result_table(out, &mut alignment_histogram_table(&study)?, provenance)?;
    }
    Ok(())
}
