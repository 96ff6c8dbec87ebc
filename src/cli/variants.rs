//! `variants`: zero-shot variant effects of one protein (the variant study, the same one the
//! Variants view runs): a full substitution scan, listed mutations or a deep mutational scan,
//! scored by wt-marginals, masked-marginals and/or pseudo-ppl, with Spearman against the assay.

use std::path::PathBuf;

use super::probe::ModelArg;
use super::progress::{announce_estimate, cancellable_on_ctrl_c, with_progress_bar_and_log};
use crate::analysis::variant_ensemble::{estimate_variant_ensemble, run_variant_ensemble};
use crate::analysis::variant_inputs::VariantInputs;
use crate::analysis::variant_scan::ScoringStrategy;
use crate::analysis::variant_study::{VariantStudy, VariantStudyRequest};
use crate::analysis::variant_study_table::{
    correlation_table, matrix_table, position_table, variant_table,
};
use crate::store::DEFAULT_TOKS_PER_BATCH;

/// predict.py's `--scoring-strategy` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// One forward pass over the wild type.
    WtMarginals,
    /// One masked pass per position.
    MaskedMarginals,
    /// Pseudo-log-likelihood of each mutated sequence (one masked pass per position and variant).
    PseudoPpl,
}

impl From<StrategyArg> for ScoringStrategy {
    fn from(arg: StrategyArg) -> Self {
        match arg {
            StrategyArg::WtMarginals => Self::WtMarginals,
            StrategyArg::MaskedMarginals => Self::MaskedMarginals,
            StrategyArg::PseudoPpl => Self::PseudoPpl,
        }
    }
}

/// Options of `variants`.
#[derive(Debug, Clone, clap::Args)]
pub struct VariantsArgs {
    /// The model (it needs its language-model head).
    #[command(flatten)]
    pub model: ModelArg,
    /// The wild-type sequence.
    #[arg(long, conflicts_with = "fasta")]
    pub sequence: Option<String>,
    /// A FASTA file holding the wild type (its first record, or --id).
    #[arg(long)]
    pub fasta: Option<PathBuf>,
    /// The FASTA record to score.
    #[arg(long)]
    pub id: Option<String>,
    /// Variants to score: A23K, several joined by ':' for a multi-mutant; comma- or
    /// space-separated.
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    pub mutations: Vec<String>,
    /// A deep mutational scan (CSV or TSV) to score and correlate with.
    #[arg(long)]
    pub dms: Option<PathBuf>,
    /// Its mutant column.
    #[arg(long, default_value = crate::data::dms::DEFAULT_MUTANT_COLUMN)]
    pub mutant_col: String,
    /// Its score column (ProteinGym's DMS_score; fair-esm's BLAT example scores 2500).
    #[arg(long, default_value = crate::data::dms::DEFAULT_SCORE_COLUMN)]
    pub score_col: String,
    /// Numbering offset: position - offset is the 0-based residue (predict.py's --offset-idx).
    /// Found from the wild-type letters when omitted; 1 without variants.
    #[arg(long, allow_negative_numbers = true)]
    pub offset: Option<i64>,
    /// Scoring strategies (default: wt-marginals and masked-marginals).
    #[arg(long, num_args = 1.., value_enum)]
    pub strategy: Vec<StrategyArg>,
    /// More checkpoints scored the same way and averaged with --model's (an ensemble such as
    /// ESM-1v's five models); loaded one at a time.
    #[arg(long, num_args = 1..)]
    pub ensemble: Vec<PathBuf>,
    /// A saved SS8 probe of --model (`probe ss8 --save`): the wild type's predicted classes are
    /// written beside the positions (`ss8`, `ss8_probability` in --matrix and --positions).
    #[arg(long)]
    pub ss8_probe: Option<PathBuf>,
    /// Also score the untrained copy (the baseline).
    #[arg(long)]
    pub compare_untrained: bool,
    /// Padded tokens per forward batch of masked copies.
    #[arg(long, default_value_t = DEFAULT_TOKS_PER_BATCH)]
    pub toks_per_batch: usize,
    /// Write every variant's scores here (.csv or .parquet).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the 20 x L substitution matrix here (.csv or .parquet).
    #[arg(long)]
    pub matrix: Option<PathBuf>,
    /// Write each position's Spearman over its measured substitutions here (.csv or .parquet).
    #[arg(long)]
    pub positions: Option<PathBuf>,
}

/// Runs `variants`.
pub fn run(args: &VariantsArgs) -> anyhow::Result<()> {
    let strategies: Vec<ScoringStrategy> = if args.strategy.is_empty() {
        vec![
            ScoringStrategy::WtMarginals,
            ScoringStrategy::MaskedMarginals,
        ]
    } else {
        args.strategy.iter().map(|&s| s.into()).collect()
    };
    let inputs = VariantInputs {
        fasta: args.fasta.clone(),
        id: args.id.clone(),
        sequence: args.sequence.clone(),
        mutations: args.mutations.clone(),
        dms: args.dms.clone().map(|path| {
            (
                path,
                Some(args.mutant_col.clone()),
                Some(args.score_col.clone()),
            )
        }),
        offset: args.offset,
        ss8_probe: args.ss8_probe.clone(),
    };
    let mut request = VariantStudyRequest::from_inputs(&inputs, strategies)?;
    request.compare_untrained = args.compare_untrained;
    request.store.toks_per_batch = args.toks_per_batch;
    let study = score_with(args.model.load()?, &args.ensemble, &request)?;
    print_summary(&study);
    let provenance = &study.sweep.provenance;
    if let Some(out) = &args.out {
        super::probe::write_result_table(out, &mut variant_table(&study)?, provenance)?;
    }
    if let Some(out) = &args.matrix {
        super::probe::write_result_table(out, &mut matrix_table(&study)?, provenance)?;
    }
    if let Some(out) = &args.positions {
        super::probe::write_result_table(out, &mut position_table(&study)?, provenance)?;
    }
    Ok(())
}

/// Runs the study on `model` and the ensemble `members` (announcing the estimate first); each
/// model is dropped once scored.
fn score_with(
    model: crate::model::LoadedModel,
    members: &[PathBuf],
    request: &VariantStudyRequest,
) -> anyhow::Result<VariantStudy> {
    announce_estimate(&estimate_variant_ensemble(&model, members, request, false)?)?;
    let (members, request) = (members.to_vec(), request.clone());
    let label = match members.len() {
        0 => format!("variants, {}", model.name),
        n => format!("variants, {} and {n} more", model.name),
    };
    // One Ctrl-C handler and one progress for the whole ensemble, a phase per member.
    let ctx = cancellable_on_ctrl_c()?;
    Ok(with_progress_bar_and_log(&label, ctx, move |ctx, _| {
        run_variant_ensemble(std::borrow::Cow::Owned(model), &members, &request, &ctx)
    })??)
}

/// The protein, the offset and each strategy's Spearman, on stdout.
fn print_summary(study: &VariantStudy) {
    println!("model: {}", study.sweep.provenance.model.label());
    println!("{}", study.describe());
    if let Ok(table) = correlation_table(study) {
        for row in 0..table.height() {
            let cell = |name: &str| {
                table
                    .column(name)
                    .ok()
                    .and_then(|c| c.get(row).ok())
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            };
            println!(
                "{} {}: Spearman {} (n = {})",
                cell("model").trim_matches('"'),
                cell("strategy").trim_matches('"'),
                cell("spearman"),
                cell("n")
            );
        }
    }
}
