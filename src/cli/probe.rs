//! `esm-workbench probe`: the paper's probes from the command line.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use candle_core::Device;

use super::progress::with_progress_bar;
use super::progress::with_progress_bar_and_log;
pub use super::study_args::{ModelArg, store_list, write_result_table};
use super::study_args::{StoreArgs, StudyArgs, parse_layers};
use crate::analysis::contact_study::{
    BEST_CONTACT_LAYER, ContactStudy, ContactStudyRequest, estimate_contact_study,
    run_contact_study,
};
use crate::analysis::contact_study_table::contact_study_table;
use crate::analysis::heads_study::{
    BEST_HEADS_LAYER, HeadScore, HeadsStudy, HeadsStudyRequest, estimate_heads_study,
    run_heads_study,
};
use crate::analysis::heads_study_table::heads_study_table;
use crate::analysis::homology_study::{
    BEST_HOMOLOGY_LAYER, HomologyStudyRequest, estimate_homology_study, run_homology_study,
};
use crate::analysis::homology_study_table::homology_study_table;
use crate::analysis::ss8_study::{
    BEST_LAYER, Ss8Study, Ss8StudyRequest, estimate_ss8_study, run_ss8_study,
};
use crate::analysis::ss8_study_table::ss8_study_table;
use crate::data::SS8_CLASSES;
use crate::model::LoadedModel;
use crate::probes::{
    ContactPrecision, ContactProbeParams, Ss8ProbeParams, metric_text_with_decimals,
};

/// Which probe.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ProbeCommand {
    /// SS8 linear probe: logistic regression on one layer's per-residue representations.
    Ss8(Ss8Args),
    /// Apply a saved SS8 probe (`probe ss8 --save`) to new sequences.
    Ss8Predict(Ss8PredictArgs),
    /// Apply a saved contact probe (`probe contacts --save`) to new sequences.
    ContactsPredict(ContactsPredictArgs),
    /// Whether the amino-acid embeddings group by biochemistry (nearest-neighbour agreement).
    AaGroups(AaGroupsArgs),
    /// Remote homology on SCOPe/ASTRAL: cosine nearest neighbours, Hit-10 and AUC.
    Homology(HomologyArgs),
    /// Alignment within protein families: cosine similarity of aligned against unaligned
    /// residue pairs (histograms, ROC AUC per family and its mean).
    Alignment(super::alignment::AlignmentArgs),
    /// Contacts: the model's own contact head and/or the bilinear probe trained on --train
    /// structures, scored on --structures (precision at L, L/2, L/5 by range).
    Contacts(ContactsArgs),
    /// Attention heads as contact predictors: every layer's and head's APC-corrected map
    /// scored on --structures (precision at L, L/2, L/5 by range) and its confident attention
    /// (weight above --threshold) on contacts, beside the background rate.
    Heads(HeadsArgs),
}

/// Options of `probe heads`.
#[derive(Debug, Clone, clap::Args)]
pub struct HeadsArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArg,
    /// Structures: PDB / mmCIF files or folders, or TS50-style backbone JSON sets.
    #[arg(long, num_args = 1.., required = true)]
    pub structures: Vec<PathBuf>,
    /// Layers screened (1-based blocks): all (default), an index (negative from the end) or a
    /// list; layer 0 (the embedding) has no heads.
    #[arg(long, num_args = 1.., allow_negative_numbers = true, value_name = "LAYERS")]
    pub layers: Vec<String>,
    /// Attention weight above which a head counts as confident (Vig et al. 2021: 0.3).
    #[arg(long, default_value_t = crate::probes::DEFAULT_ATTENTION_THRESHOLD)]
    pub threshold: f64,
    /// Also screen an untrained copy of the model beside it (the paper's baseline).
    #[arg(long)]
    pub compare_untrained: bool,
    /// Heads printed, best first.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Training structures for the all-heads regression (fair-esm's contact head refitted:
    /// L1 logistic regression on every head's APC map), scored on --structures.
    #[arg(long, num_args = 1..)]
    pub train: Vec<PathBuf>,
    /// Inverse L1 strength of the regression (scikit-learn's C; Rao et al. 0.15).
    #[arg(long, default_value_t = 0.15)]
    pub l1_c: f64,
    /// Save the trained model's regression here as a contact head (safetensors:
    /// regression.weight, regression.bias, metadata).
    #[arg(long)]
    pub save_regression: Option<PathBuf>,
    /// Write the table of every head here (.csv or .parquet; see
    /// `analysis::heads_study_table`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the regression's training rows are kept (its `pairs` folder; a refit reads them
    /// back), and the forward batch size.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// A saved probe, its model and the sequences to apply it to.
#[derive(Debug, Clone, clap::Args)]
pub struct SavedProbeArgs {
    /// The probe file written by `probe ss8 --save` or `probe contacts --save`.
    #[arg(long)]
    pub probe: PathBuf,
    /// The model the probe was trained on (checked by fingerprint).
    #[arg(long)]
    pub model: PathBuf,
    /// Sequences (FASTA).
    #[arg(long)]
    pub fasta: PathBuf,
}

impl SavedProbeArgs {
    /// The model and the `(id, sequence)` records.
    fn model_and_records(&self) -> anyhow::Result<(LoadedModel, Vec<(String, String)>)> {
        let loaded = LoadedModel::load(&self.model, &Device::Cpu)
            .with_context(|| format!("loading {}", self.model.display()))?;
        let records = crate::data::FastaReader::read_all(&self.fasta)?
            .into_iter()
            .map(|r| (r.id, r.sequence))
            .collect();
        Ok((loaded, records))
    }

    /// The predictions' provenance: the model and the FASTA file.
    fn provenance(
        &self,
        loaded: &LoadedModel,
        records: &[(String, String)],
    ) -> crate::provenance::Provenance {
        let name = self.fasta.file_name().map_or_else(
            || self.fasta.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        crate::provenance::Provenance {
            model: loaded.model_ref(),
            data: vec![crate::provenance::DataInput::of(&name, records)],
        }
    }
}

/// Options of `probe ss8-predict`.
#[derive(Debug, Clone, clap::Args)]
pub struct Ss8PredictArgs {
    /// Probe, model and sequences.
    #[command(flatten)]
    pub input: SavedProbeArgs,
    /// Per-residue table (.csv or .parquet): id, position, residue, ss8, ss3, confidence and
    /// the eight class probabilities.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Options of `probe contacts`.
#[derive(Debug, Clone, clap::Args)]
pub struct ContactsArgs {
    /// The model; its own contact head is scored when it has one.
    #[command(flatten)]
    pub model: ModelArg,
    /// Test structures: PDB / mmCIF files, or TS50-style backbone JSON sets.
    #[arg(long, num_args = 1.., required = true)]
    pub structures: Vec<PathBuf>,
    /// Training structures for the bilinear contact probe (the paper's supervised probe).
    #[arg(long, num_args = 1..)]
    pub train: Vec<PathBuf>,
    /// Width of the probe's projection.
    #[arg(long, default_value_t = 64)]
    pub rank: usize,
    /// Training epochs of the probe.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// AdamW learning rate of the probe.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Non-contacts sampled per contact of each training chain (weighted to stand for all of
    /// them); 0 trains on every pair.
    #[arg(long, default_value_t = crate::probes::DEFAULT_NEGATIVES_PER_POSITIVE)]
    pub negatives_per_positive: usize,
    /// Layers, feature store, training-residue cap (whole chains), untrained baseline.
    #[command(flatten)]
    pub study: StudyArgs,
    /// Write the precision table here (.csv or .parquet).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Save the probe of the best layer (long-range P@L) here (safetensors + metadata).
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Also score this contact-head file on the test structures, beside the probe and the
    /// model's own head: an all-heads regression saved by `probe heads --save-regression`, or
    /// a fair-esm `*-contact-regression.pt`.
    #[arg(long, value_name = "FILE")]
    pub regression: Option<PathBuf>,
}

/// Options of `probe contacts-predict`.
#[derive(Debug, Clone, clap::Args)]
pub struct ContactsPredictArgs {
    /// Probe, model and sequences.
    #[command(flatten)]
    pub input: SavedProbeArgs,
    /// Top-L pairs (|i - j| >= 6) per protein as a table (.csv or .parquet): id, i, j (1-based),
    /// separation, probability.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write each protein's full L x L probability map as `<DIR>/<n>_<id>.npy`.
    #[arg(long)]
    pub maps: Option<PathBuf>,
}

/// Options of `probe homology`.
#[derive(Debug, Clone, clap::Args)]
pub struct HomologyArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArg,
    /// SCOPe/ASTRAL FASTA.
    #[arg(long)]
    pub astral: PathBuf,
    /// Representation layers: last (default), all, an index (negative from the end), or a
    /// list (`0,6,-1` or `0 6 -1`).
    #[arg(long, num_args = 1.., allow_negative_numbers = true, value_name = "LAYERS")]
    pub layers: Vec<String>,
    /// Use N domains spread evenly over the file (every k-th; the file is sorted by sccs).
    #[arg(long)]
    pub max_domains: Option<usize>,
    /// Also score an untrained copy of the model beside it (the paper's baseline).
    #[arg(long)]
    pub compare_untrained: bool,
    /// Feature store (per-domain means only).
    #[command(flatten)]
    pub store: StoreArgs,
    /// Write the scores here (.csv or .parquet): one row per model and layer (see
    /// `analysis::homology_study_table`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Options of `probe aa-groups`.
#[derive(Debug, Clone, clap::Args)]
pub struct AaGroupsArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArg,
    /// Proteins whose residues are averaged per amino acid at each layer (FASTA); without it
    /// only the token embedding table is scored.
    #[arg(long)]
    pub fasta: Option<PathBuf>,
    /// Representation layers: all (default), last, an index (negative from the end), or a
    /// list (`0,6,-1` or `0 6 -1`).
    #[arg(long, num_args = 1.., allow_negative_numbers = true, value_name = "LAYERS")]
    pub layers: Vec<String>,
    /// Also score an untrained copy of the model beside it (the paper's baseline).
    #[arg(long)]
    pub compare_untrained: bool,
    /// Feature store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Write the scores here (.csv or .parquet): one row per model and layer (see
    /// `analysis::aa_groups_study_table`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Options of `probe ss8`.
#[derive(Debug, Clone, clap::Args)]
pub struct Ss8Args {
    /// The model.
    #[command(flatten)]
    pub model: ModelArg,
    /// Training labels: an SS8 table (TSV/CSV/3-line) or structures (PDB/mmCIF/JSON, or a
    /// folder) labelled by the workbench's DSSP. Default: the bundled kit's 1,000 PISCES chains.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Test labels, e.g. CB513, in the same forms. Default: the bundled kit's TS50 chains
    /// (no chain within 25 % identity of a kit training chain), labelled by DSSP.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Layers, store, residue cap, untrained baseline.
    #[command(flatten)]
    pub study: StudyArgs,
    /// Use only the first N training proteins.
    #[arg(long)]
    pub max_train: Option<usize>,
    /// L2 strength.
    #[arg(long, default_value_t = 1.0)]
    pub l2: f64,
    /// L-BFGS iterations.
    #[arg(long, default_value_t = 100)]
    pub max_iterations: u64,
    /// Write the metrics here: .csv/.parquet (one row per layer and class) or .json (all).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Save the probe of the best layer (test Q8) here (safetensors + metadata).
    #[arg(long)]
    pub save: Option<PathBuf>,
}

/// Runs a probe subcommand.
pub fn run(command: &ProbeCommand) -> anyhow::Result<()> {
    match command {
        ProbeCommand::Ss8(args) => ss8(args),
        ProbeCommand::Homology(args) => homology(args),
        ProbeCommand::Alignment(args) => super::alignment::run(args),
        ProbeCommand::Contacts(args) => contacts(args),
        ProbeCommand::Ss8Predict(args) => ss8_predict(args),
        ProbeCommand::ContactsPredict(args) => contacts_predict(args),
        ProbeCommand::AaGroups(args) => aa_groups(args),
        ProbeCommand::Heads(args) => heads(args),
    }
}

fn ss8_predict(args: &Ss8PredictArgs) -> anyhow::Result<()> {
    use crate::analysis::probe_apply::predict_ss8;
    use polars::prelude::{Column, DataFrame};
    let (probe, metadata) = crate::probes::load_ss8_probe(&args.input.probe)?;
    let (loaded, records) = args.input.model_and_records()?;
    let provenance = args.input.provenance(&loaded, &records);
    let shared = std::sync::Arc::new(records);
    let job_records = shared.clone();
    let predictions = with_progress_bar("ss8 predict", move |ctx| {
        predict_ss8(&loaded, &probe, &metadata, &job_records, &ctx)
    })??;
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); 5];
    let (mut positions, mut confidence) = (Vec::<u32>::new(), Vec::<f32>::new());
    let mut probabilities: Vec<Vec<f32>> = vec![Vec::new(); SS8_CLASSES.len()];
    for ((_, sequence), prediction) in shared.iter().zip(&predictions) {
        let best = prediction.best();
        let ss8: String = best.iter().map(|&(c, _)| SS8_CLASSES[c]).collect();
        println!(">{}\n{sequence}\n{ss8}", prediction.id);
        for (k, (&(class, p), residue)) in best.iter().zip(sequence.chars()).enumerate() {
            columns[0].push(prediction.id.clone());
            columns[1].push(residue.to_string());
            columns[2].push(SS8_CLASSES[class].to_string());
            columns[3].push(
                crate::data::SS3_CLASSES[usize::from(crate::data::ss3_of(class as u8))].to_string(),
            );
            positions.push(k as u32 + 1);
            confidence.push(p);
            for (c, column) in probabilities.iter_mut().enumerate() {
                column.push(prediction.probabilities[(k, c)]);
            }
        }
    }
    if let Some(out) = &args.out {
        let height = positions.len();
        let mut frame_columns = vec![
            Column::new("id".into(), std::mem::take(&mut columns[0])),
            Column::new("position".into(), positions),
            Column::new("residue".into(), std::mem::take(&mut columns[1])),
            Column::new("ss8".into(), std::mem::take(&mut columns[2])),
            Column::new("ss3".into(), std::mem::take(&mut columns[3])),
            Column::new("confidence".into(), confidence),
        ];
        for (class, column) in SS8_CLASSES.iter().zip(probabilities) {
            frame_columns.push(Column::new(format!("p_{class}").into(), column));
        }
        let mut frame = DataFrame::new(height, frame_columns)?;
        write_result_table(out, &mut frame, &provenance)?;
    }
    Ok(())
}

fn contacts_predict(args: &ContactsPredictArgs) -> anyhow::Result<()> {
    use crate::analysis::probe_apply::predict_contacts;
    use crate::probes::CONTACT_MIN_SEPARATION;
    use polars::prelude::{Column, DataFrame};
    let (probe, metadata) = crate::probes::load_contact_probe(&args.input.probe)?;
    let (loaded, records) = args.input.model_and_records()?;
    let provenance = args.input.provenance(&loaded, &records);
    let predictions = with_progress_bar("contacts predict", move |ctx| {
        predict_contacts(&loaded, &probe, &metadata, &records, &ctx)
    })??;
    if let Some(dir) = &args.maps {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (n, p) in predictions.iter().enumerate() {
            let safe: String =
                p.id.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
            let path = dir.join(format!("{n}_{safe}.npy"));
            crate::export::write_npy_f32(&path, &[p.len, p.len], &p.probabilities)?;
        }
        eprintln!("wrote {} maps to {}", predictions.len(), dir.display());
    }
    let (mut ids, mut first, mut second, mut separation, mut probability) = (
        Vec::new(),
        Vec::<u32>::new(),
        Vec::<u32>::new(),
        Vec::<u32>::new(),
        Vec::<f32>::new(),
    );
    for p in &predictions {
        let pairs = crate::probes::top_contact_pairs(
            &p.probabilities,
            p.len,
            p.len,
            CONTACT_MIN_SEPARATION,
        );
        let long = pairs.iter().filter(|(i, j, _)| j - i >= 24).count();
        println!(
            "{}\t{} residues\ttop-L pairs: {long} long-range (|i-j| >= 24)",
            p.id, p.len
        );
        for (i, j, prob) in pairs {
            ids.push(p.id.clone());
            first.push(i as u32 + 1);
            second.push(j as u32 + 1);
            separation.push((j - i) as u32);
            probability.push(prob);
        }
    }
    if let Some(out) = &args.out {
        let mut frame = DataFrame::new(
            ids.len(),
            vec![
                Column::new("id".into(), ids),
                Column::new("i".into(), first),
                Column::new("j".into(), second),
                Column::new("separation".into(), separation),
                Column::new("probability".into(), probability),
            ],
        )?;
        write_result_table(out, &mut frame, &provenance)?;
    }
    Ok(())
}

fn contacts(args: &ContactsArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.save {
        crate::analysis::best_probe::check_free(path)?;
    }
    let loaded = args.model.load()?;
    let request = ContactStudyRequest {
        layers: parse_layers(&args.study.layers)?,
        params: ContactProbeParams {
            rank: args.rank,
            epochs: args.epochs,
            learning_rate: args.lr,
            seed: args.study.sample_seed,
            negatives_per_positive: args.negatives_per_positive,
            ..ContactProbeParams::default()
        },
        residue_cap: args.study.residue_cap,
        compare_untrained: args.study.compare_untrained,
        regression: args.regression.clone(),
        store: args.study.store.options(),
        ..ContactStudyRequest::from_structures(&args.train, &args.structures)?
    };
    if !request.train.is_empty() || request.regression.is_some() {
        let estimate = estimate_contact_study(&loaded, &request)?;
        super::progress::announce_estimate(&estimate)?;
    }
    let ctx = super::progress::cancellable_on_ctrl_c()?;
    let model_ref = loaded.model_ref();
    let study = with_progress_bar_and_log("contact study", ctx, move |ctx, _| {
        run_contact_study(&loaded, &request, &ctx)
    })??;
    if let Some(path) = &args.save {
        let saved = crate::analysis::best_probe::save_best_contact_probe(&study, &model_ref, path)?;
        eprintln!("{saved}");
    }
    print_contact_study(&study);
    if let Some(out) = &args.out {
        let mut frame = contact_study_table(&study)?;
        write_result_table(out, &mut frame, &study.sweep.provenance)?;
    }
    Ok(())
}

/// Which split the scores are on, and a warning when the sets share sequences (stderr).
fn announce_split(split: &crate::analysis::study_split::StudySplit) {
    eprintln!("{}", split.describe());
    if let Some(warning) = split.overlap_warning() {
        eprintln!("warning: {warning}");
    }
}

/// Training pairs, then mean precision per predictor and range, on stdout.
fn print_contact_study(study: &ContactStudy) {
    if !study.sweep.runs.is_empty() {
        announce_split(&study.split);
        let p = &study.pairs;
        eprintln!(
            "trained on {} chains ({} residues): {} contacts and {} of {} non-contacts (sampled, weighted); embedded {} residues in {:.1} s, probes {:.1} s",
            p.chains,
            p.residues,
            p.contacts,
            p.sampled_non_contacts,
            p.non_contacts,
            study.sweep.cost.residues_embedded,
            study.sweep.cost.embed_seconds,
            study.sweep.cost.analysis_seconds
        );
    }
    let mut rows: Vec<(String, &ContactPrecision)> = Vec::new();
    if let Some(head) = &study.head {
        rows.push(("contact head".into(), &head.mean));
    }
    if let Some(scored) = &study.regression {
        rows.push((scored.model.name.clone(), &scored.evaluation.mean));
    }
    for (model, runs) in [
        ("probe", &study.sweep.runs),
        ("untrained", &study.sweep.untrained),
    ] {
        for run in runs.iter() {
            rows.push((format!("{model}, layer {}", run.layer), &run.mean));
        }
    }
    println!(
        "{} test chains; mean precision (Cβ < 8 Å):",
        study.test.len()
    );
    println!(
        "{:<20} {:<7} {:>6}  {:>6}  {:>6}",
        "predictor", "range", "P@L", "P@L/2", "P@L/5"
    );
    for (name, precision) in &rows {
        for (range, r) in [
            ("short", precision.short),
            ("medium", precision.medium),
            ("long", precision.long),
        ] {
            println!(
                "{name:<20} {range:<7} {:>6.3}  {:>6.3}  {:>6.3}",
                r.at_l, r.at_l2, r.at_l5
            );
        }
    }
    if let Some(best) = study.best_run() {
        println!("best layer {} ({BEST_CONTACT_LAYER})", best.layer);
    }
}

fn heads(args: &HeadsArgs) -> anyhow::Result<()> {
    let loaded = args.model.load()?;
    let request = HeadsStudyRequest {
        layers: if args.layers.is_empty() {
            crate::model::Layers::All
        } else {
            parse_layers(&args.layers)?
        },
        threshold: args.threshold,
        compare_untrained: args.compare_untrained,
        train: if args.train.is_empty() {
            Vec::new()
        } else {
            crate::data::read_structures(&args.train)?
        },
        train_name: args
            .train
            .iter()
            .map(|p| crate::store::dataset_label(p))
            .collect::<Vec<_>>()
            .join("+"),
        regression: crate::probes::SparseLogisticParams {
            c: args.l1_c,
            ..crate::probes::SparseLogisticParams::default()
        },
        store: args.store.options(),
        ..HeadsStudyRequest::from_structures(&args.structures)?
    };
    if args.save_regression.is_some() && request.train.is_empty() {
        anyhow::bail!("--save-regression needs --train structures to fit the regression on");
    }
    if let Some(path) = &args.save_regression {
        crate::analysis::best_probe::check_free(path)?;
    }
    let estimate = estimate_heads_study(&loaded, &request)?;
    super::progress::announce_estimate(&estimate)?;
    let ctx = super::progress::cancellable_on_ctrl_c()?;
    let study = with_progress_bar_and_log("heads study", ctx, move |ctx, _| {
        run_heads_study(&loaded, &request, &ctx)
    })??;
    print_heads_study(&study, args.top);
    if let (Some(path), Some((fitted, precision))) = (&args.save_regression, &study.regression) {
        let metadata = crate::probes::ProbeMetadata {
            kind: String::new(),
            model_fingerprint: study.sweep.provenance.model.fingerprint.clone(),
            model_name: study.sweep.provenance.model.name.clone(),
            layer: 0,
            classes: String::new(),
            test_metrics: None,
            contact_precision: Some(*precision),
        };
        fitted.regression.save(&metadata, path)?;
        eprintln!(
            "saved the all-heads regression ({} of {} heads used) to {}",
            fitted.regression.heads_used(),
            fitted.regression.weights.len(),
            path.display()
        );
    }
    if let Some(out) = &args.out {
        let mut frame = heads_study_table(&study)?;
        write_result_table(out, &mut frame, &study.sweep.provenance)?;
    }
    Ok(())
}

/// The chains, the background, the best `top` heads of each model, on stdout.
fn print_heads_study(study: &HeadsStudy, top: usize) {
    let truncated = study.truncated_chains();
    eprintln!(
        "{} chains{}; attention {:.1} s",
        study.chains.len(),
        if truncated > 0 {
            format!(" ({truncated} scored on their first residues, the model's limit)")
        } else {
            String::new()
        },
        study.sweep.cost.embed_seconds + study.sweep.cost.analysis_seconds
    );
    println!(
        "background: {:.1} % of residue pairs >= 6 apart are contacts (Cβ < 8 Å); confident attention: weight > {}",
        100.0 * study.background_share(),
        study.threshold
    );
    for (model, runs) in [
        ("trained", &study.sweep.runs),
        ("untrained", &study.sweep.untrained),
    ] {
        if runs.is_empty() {
            continue;
        }
        let mut heads: Vec<(usize, &HeadScore)> = runs
            .iter()
            .flat_map(|r| r.heads.iter().map(move |h| (r.layer, h)))
            .collect();
        heads.sort_by(|a, b| {
            let key = |h: &HeadScore| h.precision.long.at_l;
            key(b.1).total_cmp(&key(a.1))
        });
        heads.retain(|h| !h.1.precision.long.at_l.is_nan());
        println!(
            "{model} model, best {} of {} heads by long-range P@L:",
            top.min(heads.len()),
            runs.len() * study.heads
        );
        println!(
            "{:>5} {:>4}  {:>8} {:>7} {:>10} {:>9}  {:>10}",
            "layer", "head", "long P@L", "P@L/5", "medium P@L", "short P@L", "on contacts"
        );
        for (layer, h) in heads.iter().take(top) {
            let p = &h.precision;
            println!(
                "{layer:>5} {:>4}  {:>8.3} {:>7.3} {:>10.3} {:>9.3}  {:>10}",
                h.head + 1,
                p.long.at_l,
                p.long.at_l5,
                p.medium.at_l,
                p.short.at_l,
                percent_or_none(h.attention.share(), h.attention.confident)
            );
        }
    }
    for (name, predictor) in [
        ("all-heads regression", &study.regression),
        ("untrained copy's regression", &study.untrained_regression),
    ] {
        if let Some((fitted, p)) = predictor {
            println!(
                "{name}: long P@L {:.3}, P@L/5 {:.3}, medium P@L {:.3} ({} of {} heads; {} training chains, {} pairs, {} contacts, {}; {} L1 steps{})",
                p.long.at_l,
                p.long.at_l5,
                p.medium.at_l,
                fitted.regression.heads_used(),
                fitted.regression.weights.len(),
                fitted.chains,
                fitted.pairs.0,
                fitted.pairs.1,
                crate::analysis::heads_regression::rows_source(fitted),
                fitted.steps.0,
                if fitted.steps.1 {
                    ""
                } else {
                    ", not converged"
                }
            );
        }
    }
    if let Some(p) = &study.contact_head {
        println!(
            "checkpoint's contact head: long P@L {:.3}, P@L/5 {:.3}, medium P@L {:.3}",
            p.long.at_l, p.long.at_l5, p.medium.at_l
        );
    }
    if let Some((layer, head)) = study.best_head() {
        println!(
            "best head: layer {layer}, head {} (both 1-based; {BEST_HEADS_LAYER})",
            head.head + 1
        );
    }
}

/// `share` as a percentage of `count` weights, or "none" when no weight passed.
fn percent_or_none(share: f64, count: usize) -> String {
    if count == 0 {
        "none".into()
    } else {
        format!("{:.1} % of {count}", 100.0 * share)
    }
}

fn homology(args: &HomologyArgs) -> anyhow::Result<()> {
    let loaded = args.model.load()?;
    let request = HomologyStudyRequest {
        layers: parse_layers(&args.layers)?,
        compare_untrained: args.compare_untrained,
        store: args.store.options(),
        ..HomologyStudyRequest::from_astral(&args.astral, args.max_domains)?
    };
    let estimate = estimate_homology_study(&loaded, &request)?;
    super::progress::announce_estimate(&estimate)?;
    let ctx = super::progress::cancellable_on_ctrl_c()?;
    let study = with_progress_bar_and_log("homology study", ctx, move |ctx, _| {
        run_homology_study(&loaded, &request, &ctx)
    })??;
    eprintln!(
        "embedded {} residues in {:.1} s, scored in {:.1} s; stores: {}",
        study.sweep.cost.residues_embedded,
        study.sweep.cost.embed_seconds,
        study.sweep.cost.analysis_seconds,
        store_list(&study.sweep.cost.stores)
    );
    println!("{} domains", study.domains.len());
    println!("model      layer  fold Hit-10  fold AUC  superfamily Hit-10  superfamily AUC");
    for (model, runs) in [
        ("trained", &study.sweep.runs),
        ("untrained", &study.sweep.untrained),
    ] {
        for r in runs.iter() {
            let cell = |value: Option<f64>| metric_text_with_decimals(value.unwrap_or(f64::NAN), 4);
            println!(
                "{model:<9}  {:>5}  {:>11}  {:>8}  {:>18}  {:>15}",
                r.layer,
                cell(r.fold.scored_hit10()),
                cell(r.fold.scored_auc()),
                cell(r.superfamily.scored_hit10()),
                cell(r.superfamily.scored_auc())
            );
        }
    }
    println!(
        "best layer {} ({BEST_HOMOLOGY_LAYER})",
        study.best_run().layer
    );
    if let Some(out) = &args.out {
        let mut frame = homology_study_table(&study)?;
        write_result_table(out, &mut frame, &study.sweep.provenance)?;
    }
    Ok(())
}

fn aa_groups(args: &AaGroupsArgs) -> anyhow::Result<()> {
    use crate::analysis::aa_groups_study::{
        AaGroupsRequest, BEST_LAYER as BEST_GROUPS_LAYER, estimate_aa_groups_study,
        run_aa_groups_study,
    };
    let loaded = args.model.load()?;
    let (records, dataset_name) = match &args.fasta {
        Some(fasta) => (
            crate::data::FastaReader::read_all(fasta)?
                .into_iter()
                .map(|r| (r.id, r.sequence))
                .collect(),
            crate::store::dataset_label(fasta),
        ),
        None => (Vec::new(), String::new()),
    };
    let layers = if args.layers.is_empty() {
        crate::model::Layers::All
    } else {
        parse_layers(&args.layers)?
    };
    let request = AaGroupsRequest {
        records,
        dataset_name,
        layers,
        compare_untrained: args.compare_untrained,
        store: args.store.options(),
    };
    let estimate = estimate_aa_groups_study(&loaded, &request)?;
    super::progress::announce_estimate(&estimate)?;
    let ctx = super::progress::cancellable_on_ctrl_c()?;
    let study = with_progress_bar_and_log("amino-acid groups study", ctx, move |ctx, _| {
        run_aa_groups_study(&loaded, &request, &ctx)
    })??;
    if !study.sweep.cost.stores.is_empty() {
        eprintln!(
            "embedded {} residues in {:.1} s; {} standard residues averaged per layer; stores: {}",
            study.sweep.cost.residues_embedded,
            study.sweep.cost.embed_seconds,
            study.residues,
            store_list(&study.sweep.cost.stores)
        );
    }
    println!(
        "model      vectors          layer  NN group agreement  chance  within-between cosine"
    );
    let line = |model: &str, vectors: &str, layer: String, s: &crate::probes::GroupingScore| {
        println!(
            "{model:<9}  {vectors:<15}  {layer:>5}  {:>18.3}  {:>6.3}  {:>21.3}",
            s.nearest_neighbour_agreement, s.chance_agreement, s.within_minus_between_cosine
        );
    };
    line("trained", "embedding table", "-".into(), &study.table);
    if let Some(table) = &study.untrained_table {
        line("untrained", "embedding table", "-".into(), table);
    }
    for (model, runs) in [
        ("trained", &study.sweep.runs),
        ("untrained", &study.sweep.untrained),
    ] {
        for r in runs {
            line(model, "layer mean", r.layer.to_string(), &r.score);
        }
    }
    if let Some(best) = study.sweep.best {
        println!(
            "best layer {} ({BEST_GROUPS_LAYER})",
            study.sweep.runs[best].layer
        );
    }
    if let Some(out) = &args.out {
        let mut frame = crate::analysis::aa_groups_study_table::aa_groups_study_table(&study)?;
        write_result_table(out, &mut frame, &study.sweep.provenance)?;
    }
    Ok(())
}

/// `given`, else the bundled file `relative` (an error saying where it was looked for).
fn given_or_bundled(given: Option<&Path>, relative: &str) -> anyhow::Result<PathBuf> {
    match given {
        Some(path) => Ok(path.to_path_buf()),
        None => crate::bundled::bundled_path(relative).with_context(|| {
            format!(
                "the bundled {relative} is not installed beside this executable; give the file, \
                 or set {} to the folder holding datasets/",
                crate::bundled::HOME_VARIABLE
            )
        }),
    }
}

fn ss8(args: &Ss8Args) -> anyhow::Result<()> {
    if let Some(path) = &args.save {
        crate::analysis::best_probe::check_free(path)?;
    }
    let loaded = args.model.load()?;
    let train_path = given_or_bundled(args.train.as_deref(), crate::bundled::kit::SS8_TRAIN)?;
    let test_path = given_or_bundled(args.test.as_deref(), crate::bundled::kit::TS50)?;
    let request = Ss8StudyRequest {
        layers: parse_layers(&args.study.layers)?,
        params: Ss8ProbeParams {
            l2: args.l2,
            max_iterations: args.max_iterations,
        },
        residue_cap: args.study.residue_cap,
        seed: args.study.sample_seed,
        compare_untrained: args.study.compare_untrained,
        store: args.study.store.options(),
        ..Ss8StudyRequest::from_files(&train_path, &test_path, args.max_train)?
    };
    let estimate = estimate_ss8_study(&loaded, &request)?;
    super::progress::announce_estimate(&estimate)?;
    let ctx = super::progress::cancellable_on_ctrl_c()?;
    let model_ref = loaded.model_ref();
    let started = std::time::Instant::now();
    let study = with_progress_bar_and_log("ss8 study", ctx, move |ctx, _| {
        run_ss8_study(&loaded, &request, &ctx)
    })??;
    announce_split(&study.split);
    eprintln!(
        "finished in {:.1} s (embedding {:.1} s, fitting and scoring {:.1} s); embedded {} residues; stores: {}",
        started.elapsed().as_secs_f64(),
        study.sweep.cost.embed_seconds,
        study.sweep.cost.analysis_seconds,
        study.sweep.cost.residues_embedded,
        store_list(&study.sweep.cost.stores)
    );
    if let Some(path) = &args.save {
        let saved = crate::analysis::best_probe::save_best_ss8_probe(&study, &model_ref, path)?;
        eprintln!("{saved}");
    }
    print_ss8_study(&study);
    if let Some(out) = &args.out {
        if out.extension().is_some_and(|e| e == "json") {
            let runs = |model: &str,
                        runs: &[crate::analysis::ss8_probe_run::Ss8ProbeRun]|
             -> Vec<serde_json::Value> {
                runs.iter()
                    .map(|r| serde_json::json!({ "model": model, "layer": r.layer, "train_residues": r.train_residues, "train": r.train, "test": r.test }))
                    .collect()
            };
            let json = [
                runs("trained", &study.sweep.runs),
                runs("untrained", &study.sweep.untrained),
            ]
            .concat();
            let text = serde_json::to_string_pretty(&json)?;
            crate::atomic_write::write_atomic(out, |w| {
                use std::io::Write as _;
                w.write_all(text.as_bytes())
            })?;
            let sidecar = study.sweep.provenance.write_sidecar(out)?;
            eprintln!("wrote {} and {}", out.display(), sidecar.display());
        } else {
            let mut frame = ss8_study_table(&study)?;
            write_result_table(out, &mut frame, &study.sweep.provenance)?;
        }
    }
    Ok(())
}

/// The study's scores per layer and the best layer's per-class detail, on stdout.
fn print_ss8_study(study: &Ss8Study) {
    let best = study.best_run();
    println!(
        "{} training residues, {} test residues (majority class {:.4})",
        best.train_residues,
        best.test.ss8.count,
        best.test.ss8.majority_baseline()
    );
    let untrained: std::collections::BTreeMap<usize, f64> = study
        .sweep
        .untrained
        .iter()
        .map(|r| (r.layer, r.test.q8))
        .collect();
    println!("layer  train Q8  test Q8  test Q3  untrained test Q8");
    for run in &study.sweep.runs {
        let baseline = untrained
            .get(&run.layer)
            .map_or_else(|| "-".to_owned(), |q| format!("{q:.4}"));
        println!(
            "{:>5}  {:>8.4}  {:>7.4}  {:>7.4}  {baseline:>17}",
            run.layer, run.train.q8, run.test.q8, run.test.q3
        );
    }
    println!("per class at layer {} ({BEST_LAYER}, test):", best.layer);
    println!("class  precision  recall  support");
    for (class, m) in SS8_CLASSES.iter().zip(&best.test.ss8.per_class) {
        println!(
            "{class}      {:>9}  {:>6}  {:>7}",
            crate::probes::metric_text(m.precision),
            crate::probes::metric_text(m.recall),
            m.support
        );
    }
    println!(
        "(–: undefined; a class never predicted has no precision, one absent from the labels no recall)"
    );
}
