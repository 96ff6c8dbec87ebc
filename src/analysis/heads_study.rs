//! Which attention heads know the structure (Rao et al. 2020; Vig et al. 2021): the heads
//! study, the one workflow behind the GUI's Heads view and `probe heads`, a [`Study`] on the
//! study engine. For every layer and head, over a set of structures:
//!
//! - the head's symmetrised, APC-corrected attention map ranked as a contact predictor
//!   (precision at L, L/2, L/5 per separation range, Cβ < 8 Å, mean over chains), the map
//!   fair-esm's contact head regresses on;
//! - the share of its confident attention (weight above [`HeadsStudyRequest::threshold`],
//!   Vig et al. use 0.3; BOS and EOS dropped; residue pairs at least 6 apart, both directions)
//!   that falls on contacts, pooled over chains, beside the background rate (the share of
//!   those pairs in contact).
//!
//! The screen stores nothing (the optional all-heads regression keeps its training rows in a
//! pair store, [`super::heads_regression`]): [`Study::prepare`] runs one forward pass per batch of chains and scores each
//! layer's heads as the pass hands them over ([`crate::model::EsmModel::forward_with_attention`]),
//! so one layer's `(heads, L, L)` maps are alive at a time (84 MB at 1,022 residues for
//! ESM-1b, against 2.8 GB for all 33). Attention needs the whole chain in one pass: a chain
//! longer than the model's limit (1,022 residues for ESM-1b) is scored on its first
//! `limit` residues, as the model's own contact head is ([`super::contact_head_run`]).
//!
//! Layer numbers are 1-based: layer `ℓ` is the `ℓ`-th Transformer block, whose output is
//! representation layer `ℓ` (layer 0, the embedding, has no attention).

use candle_core::Tensor;

use super::batch_maps::BatchMaps;
use super::contact_head_run::{CONTACT_THRESHOLD_ANGSTROM, truncate};
use super::heads_regression::{
    FittedRegression, RegressionData, fit_head_regression, regression_plan,
};
use super::study::{LayerCost, LayerSweep, StoredSet, Study, Sweep};
use super::study_driver::{estimate_study, run_study};
use super::study_error::StudyError;
use super::study_estimate::StudyEstimate;
use super::study_stores::embed_seconds_of;
use crate::data::{ProteinChain, read_structures};
use crate::jobs::JobCtx;
use crate::model::{ContactHead, ForwardRequest, Layers, LoadedModel, TokenBatch};
use crate::params::real_in;
use crate::probes::{
    AttentionRegression, ChainPairs, ConfidentAttention, ContactPrecision,
    DEFAULT_ATTENTION_THRESHOLD, RangePrecision, SparseLogisticParams,
};
use crate::store::{FeatureStore, StoreOptions};

/// How the best layer is chosen.
pub const BEST_HEADS_LAYER: &str = "the layer of the head with the highest mean long-range (|i - j| >= 24) precision at L over the chains, trained model (ties: the lower layer)";

/// The screen's batched forward passes, handing over every layer's attention, against a
/// plain batched forward (652M ESM-1b, the 50 TS50 chains: 45 s against 32 s for `store fill
/// --layers -1`; Intel Xeon, 2 cores, AVX-512).
const ATTENTION_FORWARD_FACTOR: f64 = 1.4;

/// Everything a heads study needs.
#[derive(Debug, Clone)]
pub struct HeadsStudyRequest {
    /// The chains scored (with coordinates).
    pub chains: Vec<ProteinChain>,
    /// Their set's name (the result's provenance).
    pub set_name: String,
    /// Layers screened (layer 0 has no heads and is left out); default all.
    pub layers: Layers,
    /// Attention weight above which a head is confident (Vig et al.: 0.3), in `(0, 1)`.
    pub threshold: f64,
    /// Also screen an untrained copy of the model.
    pub compare_untrained: bool,
    /// Store options: the regression's training rows go to a pair store under the root
    /// ([`crate::store::PairStore`]); the screen itself stores nothing.
    pub store: StoreOptions,
    /// Training structures for the all-heads regression (none: no regression is fitted).
    pub train: Vec<ProteinChain>,
    /// Their set's name.
    pub train_name: String,
    /// The regression's L1 fit.
    pub regression: SparseLogisticParams,
}

/// One head's scores over the chains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadScore {
    /// Head, 0-based.
    pub head: usize,
    /// Mean precision of its APC map over the chains.
    pub precision: ContactPrecision,
    /// Confident weights and those on contacts, pooled over the chains.
    pub attention: ConfidentAttention,
}

/// One layer's heads.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadLayerRun {
    /// Layer, 1-based (the block's number).
    pub layer: usize,
    /// One score per head, in head order.
    pub heads: Vec<HeadScore>,
}

impl HeadLayerRun {
    /// The head with the highest long-range precision at L (the lower head on ties).
    pub fn best_head(&self) -> Option<&HeadScore> {
        let key = |h: &HeadScore| finite_or_min(h.precision.long.at_l);
        self.heads
            .iter()
            .fold(None, |best: Option<&HeadScore>, h| match best {
                Some(b) if key(b) >= key(h) => Some(b),
                _ => Some(h),
            })
    }
}

fn finite_or_min(value: f64) -> f64 {
    if value.is_nan() {
        f64::NEG_INFINITY
    } else {
        value
    }
}

/// What one model's screen saw.
#[derive(Debug, Clone)]
pub struct HeadScreen {
    /// One run per layer screened, ascending.
    layers: Vec<HeadLayerRun>,
    /// Evaluable pairs at least 6 apart, and the contacts among them, over all chains.
    pub background: (usize, usize),
    /// The all-heads regression fitted on the training structures and its mean precision
    /// on the screened chains.
    pub regression: Option<(FittedRegression, ContactPrecision)>,
    /// The checkpoint's own contact head on the screened chains.
    pub contact_head: Option<ContactPrecision>,
}

/// A finished heads study.
#[derive(Debug, Clone)]
pub struct HeadsStudy {
    /// One run per layer, trained and untrained ([`BEST_HEADS_LAYER`]).
    pub sweep: LayerSweep<HeadLayerRun>,
    /// The chains, in the order they were scored.
    pub chains: Vec<ProteinChain>,
    /// Residues scored per chain (the first `limit` of a longer chain).
    pub scored_residues: Vec<usize>,
    /// Heads per layer.
    pub heads: usize,
    /// The confidence threshold used.
    pub threshold: f64,
    /// Trained model: evaluable pairs at least 6 apart and the contacts among them.
    pub background: (usize, usize),
    /// The trained model's all-heads regression and its mean precision on the chains.
    pub regression: Option<(FittedRegression, ContactPrecision)>,
    /// The untrained copy's regression, fitted the same way.
    pub untrained_regression: Option<(FittedRegression, ContactPrecision)>,
    /// The checkpoint's own contact head on the chains.
    pub contact_head: Option<ContactPrecision>,
}

impl HeadsStudy {
    /// The share of evaluable pairs at least 6 apart that are contacts: what confident
    /// attention falling at random would score.
    pub fn background_share(&self) -> f64 {
        let (pairs, contacts) = self.background;
        if pairs == 0 {
            f64::NAN
        } else {
            contacts as f64 / pairs as f64
        }
    }

    /// The best head of the trained model: `(layer, head score)`.
    pub fn best_head(&self) -> Option<(usize, &HeadScore)> {
        let run = self.sweep.best_run()?;
        Some((run.layer, run.best_head()?))
    }

    /// The trained (or untrained) model's score of `head` in `layer`.
    pub fn score(&self, untrained: bool, layer: usize, head: usize) -> Option<&HeadScore> {
        let runs = if untrained {
            &self.sweep.untrained
        } else {
            &self.sweep.runs
        };
        runs.iter()
            .find(|r| r.layer == layer)
            .and_then(|r| r.heads.get(head))
    }

    /// Chains scored on fewer residues than they have.
    pub fn truncated_chains(&self) -> usize {
        self.chains
            .iter()
            .zip(&self.scored_residues)
            .filter(|(c, n)| c.sequence.len() > **n)
            .count()
    }
}

impl HeadsStudyRequest {
    /// A request over the chains of the structure files `paths` (PDB/mmCIF files, folders,
    /// TS50-style JSON), named after their files, every other field at its default: the one
    /// builder both shells start from.
    pub fn from_structures(paths: &[std::path::PathBuf]) -> Result<Self, StudyError> {
        if paths.is_empty() {
            return Err(StudyError::Empty(
                "give structures (PDB/mmCIF files, folders or TS50 JSON)".into(),
            ));
        }
        let set_name = paths
            .iter()
            .map(|p| crate::store::dataset_label(p))
            .collect::<Vec<_>>()
            .join("+");
        Ok(Self {
            chains: read_structures(paths)?,
            set_name,
            layers: Layers::All,
            threshold: DEFAULT_ATTENTION_THRESHOLD,
            compare_untrained: false,
            store: StoreOptions::default(),
            train: Vec::new(),
            train_name: String::new(),
            regression: SparseLogisticParams::default(),
        })
    }

    /// The regression's training chains and where their pair rows are stored.
    fn regression_data(&self) -> RegressionData<'_> {
        RegressionData {
            chains: &self.train,
            name: &self.train_name,
            store: &self.store,
        }
    }

    /// `(id, sequence)` of the chains, each cut to the residues scored on `model`.
    fn scored_records(&self, model: &LoadedModel) -> Vec<(String, String)> {
        let limit = model.model.config().max_residues();
        self.chains
            .iter()
            .map(|c| {
                let len = c.sequence.len().min(limit);
                (c.id.clone(), c.sequence[..len].to_owned())
            })
            .collect()
    }
}

impl Study for HeadsStudyRequest {
    type Prepared = HeadScreen;
    type Run = HeadLayerRun;
    const BEST_RULE: &'static str = BEST_HEADS_LAYER;
    const LAYER_STAGE: &'static str = "collecting the heads of";

    fn check(&self) -> Result<(), StudyError> {
        real_in(
            "confident-attention threshold (--threshold)",
            self.threshold,
            (0.0, 1.0),
            true,
        )?;
        if !self.train.is_empty() {
            real_in(
                "inverse L1 strength of the regression (--l1-c)",
                self.regression.c,
                (0.0, 1e6),
                true,
            )?;
        }
        if self.chains.is_empty() {
            return Err(StudyError::Empty(format!(
                "{} has no protein chains with coordinates",
                self.set_name
            )));
        }
        Ok(())
    }

    fn sweep(&self) -> Sweep<'_> {
        Sweep::new(&self.layers, self.compare_untrained, &self.store)
    }

    fn stored_sets(&self) -> Vec<StoredSet> {
        Vec::new()
    }

    fn data_sets(&self) -> Vec<StoredSet> {
        vec![StoredSet {
            name: self.set_name.clone(),
            records: self
                .chains
                .iter()
                .map(|c| (c.id.clone(), c.sequence.clone()))
                .collect(),
            per_residue: false,
        }]
    }

    fn analysed_layers(&self, num_layers: usize) -> Result<Vec<usize>, StudyError> {
        let layers: Vec<usize> = self
            .layers
            .resolve(num_layers)?
            .into_iter()
            .filter(|&l| l > 0)
            .collect();
        if layers.is_empty() {
            return Err(StudyError::Empty(
                "layer 0 is the embedding and has no attention heads: choose layers 1 and up (--layers)"
                    .into(),
            ));
        }
        Ok(layers)
    }

    fn layer_cost(&self, _: &LoadedModel) -> LayerCost {
        LayerCost {
            seconds: 1e-3,
            ram: 0,
        }
    }

    fn prepare_cost(&self, model: &LoadedModel) -> LayerCost {
        let config = model.model.config();
        let records = self.scored_records(model);
        let limit = config.max_residues();
        let longest = records.iter().map(|(_, s)| s.len()).max().unwrap_or(0) + 2;
        let batch_tokens = self.store.toks_per_batch.max(longest);
        // One batch's layer of maps as probabilities, masked, APC-corrected and read out, plus
        // its activations.
        let maps = config.attention_heads * batch_tokens * longest * 4 * 5;
        let activations = batch_tokens * (config.ffn_embed_dim + 4 * config.embed_dim) * 4 * 2;
        // Training pairs as sampled; their forward passes only when the pair store lacks them.
        let (rows, stored) = if self.train.is_empty() {
            (0, true)
        } else {
            let (rows, stored, _) = regression_plan(model, &self.regression_data());
            (rows, stored)
        };
        let train: Vec<(String, String)> = if stored {
            Vec::new()
        } else {
            self.train
                .iter()
                .map(|c| {
                    (
                        c.id.clone(),
                        c.sequence[..c.sequence.len().min(limit)].to_owned(),
                    )
                })
                .collect()
        };
        let features = config.num_layers * config.attention_heads;
        // FISTA: about 300 steps of three passes (2 flops per feature and row each).
        let fit_flops = 300.0 * 3.0 * 2.0 * (rows * features) as f64;
        let fit_seconds = fit_flops
            / (super::study_estimate::FIT_FLOPS_PER_CORE * rayon::current_num_threads() as f64);
        LayerCost {
            seconds: ATTENTION_FORWARD_FACTOR
                * (embed_seconds_of(model, &records)
                    + if train.is_empty() {
                        0.0
                    } else {
                        embed_seconds_of(model, &train)
                    })
                + fit_seconds,
            ram: (maps + activations + rows * features * 4) as u64,
        }
    }

    fn prepare(
        &self,
        model: &LoadedModel,
        _: &[FeatureStore],
        ctx: &JobCtx,
    ) -> Result<HeadScreen, StudyError> {
        let num_layers = model.model.config().num_layers;
        let layers = self.analysed_layers(num_layers)?;
        let heads = model.model.config().attention_heads;
        let mut sums = vec![vec![HeadSums::default(); heads]; layers.len()];
        let records = self.scored_records(model);
        let pairs: Vec<ChainPairs> = self
            .chains
            .iter()
            .zip(&records)
            .map(|(chain, (_, sequence))| {
                let map = chain.contact_map(CONTACT_THRESHOLD_ANGSTROM);
                ChainPairs::new(&truncate(&map, sequence.len()))
            })
            .collect();
        let background = pairs
            .iter()
            .map(ChainPairs::background)
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        // Length-sorted batches of padded tokens, as the stores embed: one layer's attention
        // of a batch is at most `toks_per_batch * longest` pairs per head.
        let lengths: Vec<usize> = records.iter().map(|(_, s)| s.len()).collect();
        let batches = crate::batching::batches_by_tokens(&lengths, self.store.toks_per_batch, 2);
        let (fitted, ctx) = if self.train.is_empty() {
            (None, ctx.clone())
        } else {
            let phases = ctx.phases(&[self.train.len() as f64, self.chains.len() as f64]);
            let fit =
                fit_head_regression(model, &self.regression_data(), &self.regression, &phases[0])?;
            (Some(fit), phases[1].clone())
        };
        let ctx = &ctx;
        let regression = fitted.as_ref().map(|f| &f.regression);
        let (mut by_regression, mut by_head) = (Vec::new(), Vec::new());
        let mut done = 0;
        for (k, batch_rows) in batches.iter().enumerate() {
            ctx.set_stage(format!(
                "attention of batch {}/{} ({} chains)",
                k + 1,
                batches.len(),
                batch_rows.len()
            ));
            let rows: Vec<&ChainPairs> = batch_rows.iter().map(|&i| &pairs[i]).collect();
            let batch = TokenBatch::encode(
                batch_rows
                    .iter()
                    .map(|&i| (records[i].0.as_str(), records[i].1.as_str())),
            )?;
            let predicted = screen_batch(
                model,
                (&batch, &rows),
                (&layers, &mut sums),
                (self.threshold, regression),
                ctx,
            )?;
            for (r, h) in predicted {
                by_regression.extend(r);
                by_head.extend(h);
            }
            done += batch_rows.len();
            ctx.checkpoint(done as f32 / records.len() as f32)?;
        }
        let layers = layers
            .iter()
            .zip(sums)
            .map(|(&layer, sums)| HeadLayerRun {
                layer,
                heads: sums
                    .iter()
                    .enumerate()
                    .map(|(head, s)| s.score(head))
                    .collect(),
            })
            .collect();
        let mean = |all: &[ContactPrecision]| {
            (!all.is_empty()).then(|| super::contact_head_run::mean_precision(all.iter()))
        };
        Ok(HeadScreen {
            layers,
            background,
            contact_head: mean(&by_head),
            regression: fitted.zip(mean(&by_regression)),
        })
    }

    fn run_layer(
        &self,
        screen: &HeadScreen,
        _: &[FeatureStore],
        layer: usize,
        _: &JobCtx,
    ) -> Result<HeadLayerRun, StudyError> {
        screen
            .layers
            .iter()
            .find(|r| r.layer == layer)
            .cloned()
            .ok_or_else(|| StudyError::Empty(format!("layer {layer} was not screened")))
    }

    fn layer_score(run: &HeadLayerRun) -> f64 {
        run.best_head().map_or(f64::NAN, |h| h.precision.long.at_l)
    }
}

/// One forward pass of a batch of chains (`rows[b]`: row `b`'s pairs): every screened
/// layer's heads scored as the pass hands them over, added to `sums` (one per screened layer
/// and head).
fn screen_batch(
    model: &LoadedModel,
    (batch, rows): (&TokenBatch, &[&ChainPairs]),
    (layers, sums): (&[usize], &mut [Vec<HeadSums>]),
    (threshold, regression): (f64, Option<&AttentionRegression>),
    ctx: &JobCtx,
) -> Result<Vec<RowPredictions>, StudyError> {
    let (b, t) = (batch.batch_size, batch.max_len);
    let eos_pairs = ContactHead::eos_pair_mask(&batch.tokens, b, t, model.model.device())?;
    let request = ForwardRequest {
        stop: Some(ctx.stop_flag()),
        contacts: model.model.has_contact_head(),
        ..ForwardRequest::default()
    };
    let heads = model.model.config().attention_heads;
    let mut logits: Vec<Vec<f32>> = rows.iter().map(|p| vec![0.0; p.len() * p.len()]).collect();
    let mut visit = |block: usize, probs: &Tensor| -> crate::model::Result<()> {
        let slot = layers.iter().position(|&l| l == block + 1);
        if slot.is_none() && regression.is_none() {
            return Ok(());
        }
        let maps = BatchMaps::of(probs, &eos_pairs)?;
        if let Some(regression) = regression {
            for (row, logits) in logits.iter_mut().enumerate() {
                let apc = |h: usize, i: usize, j: usize| maps.apc_at(row, h, (i, j));
                regression.add_layer(block, apc, logits, rows[row].len());
            }
        }
        let Some(slot) = slot else {
            return Ok(());
        };
        let scored: Vec<(ContactPrecision, ConfidentAttention)> = {
            use rayon::prelude::*;
            (0..b * heads)
                .into_par_iter()
                .map(|task| {
                    let (row, head) = (task / heads, task % heads);
                    let pairs = rows[row];
                    let (apc, raw) = maps.block(row, head, pairs.len());
                    (
                        pairs.precision(&apc),
                        pairs.confident_attention(&raw, threshold),
                    )
                })
                .collect()
        };
        for (task, (precision, attention)) in scored.into_iter().enumerate() {
            sums[slot][task % heads].add(&precision, attention);
        }
        Ok(())
    };
    let output = model
        .model
        .forward_with_attention(batch, &request, &mut visit)
        .map_err(StudyError::from_forward)?;
    let contacts = match output.contacts {
        Some(c) => Some((c.dim(1)?, c.flatten_all()?.to_vec1::<f32>()?)),
        None => None,
    };
    Ok(rows
        .iter()
        .enumerate()
        .map(|(row, pairs)| {
            let by_regression = regression.map(|r| pairs.precision(&r.probabilities(&logits[row])));
            let by_head = contacts.as_ref().map(|(side, all)| {
                let len = pairs.len();
                let base = row * side * side;
                let block: Vec<f32> = (0..len * len)
                    .map(|k| all[base + (k / len) * side + k % len])
                    .collect();
                pairs.precision(&block)
            });
            (by_regression, by_head)
        })
        .collect())
}

/// One row's precision by the all-heads regression and by the checkpoint's contact head.
type RowPredictions = (Option<ContactPrecision>, Option<ContactPrecision>);

/// Running sums of one head's precisions (finite values only, as
/// [`super::contact_head_run::mean_precision`] averages) and its confident counts.
#[derive(Debug, Clone, Copy, Default)]
struct HeadSums {
    /// Per range (short, medium, long) and cut (L, L/2, L/5): sum and count.
    precision: [[(f64, u32); 3]; 3],
    attention: ConfidentAttention,
}

impl HeadSums {
    fn add(&mut self, precision: &ContactPrecision, attention: ConfidentAttention) {
        for (slot, range) in
            self.precision
                .iter_mut()
                .zip([precision.short, precision.medium, precision.long])
        {
            for (cell, value) in slot.iter_mut().zip([range.at_l, range.at_l2, range.at_l5]) {
                if value.is_finite() {
                    cell.0 += value;
                    cell.1 += 1;
                }
            }
        }
        self.attention.add(attention);
    }

    fn score(&self, head: usize) -> HeadScore {
        let mean = |(sum, n): (f64, u32)| if n == 0 { f64::NAN } else { sum / f64::from(n) };
        let range = |k: usize| RangePrecision {
            at_l: mean(self.precision[k][0]),
            at_l2: mean(self.precision[k][1]),
            at_l5: mean(self.precision[k][2]),
        };
        HeadScore {
            head,
            precision: ContactPrecision {
                short: range(0),
                medium: range(1),
                long: range(2),
            },
            attention: self.attention,
        }
    }
}

/// Time and RAM of `request` on `model`.
pub fn estimate_heads_study(
    model: &LoadedModel,
    request: &HeadsStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    estimate_study(model, request)
}

/// Runs the screen (and the untrained copy's when asked); refuses first if it cannot fit.
pub fn run_heads_study(
    model: &LoadedModel,
    request: &HeadsStudyRequest,
    ctx: &JobCtx,
) -> Result<HeadsStudy, StudyError> {
    let outcome = run_study(model, request, ctx)?;
    let limit = model.model.config().max_residues();
    Ok(HeadsStudy {
        sweep: outcome.sweep,
        scored_residues: request
            .chains
            .iter()
            .map(|c| c.sequence.len().min(limit))
            .collect(),
        chains: request.chains.clone(),
        heads: model.model.config().attention_heads,
        threshold: request.threshold,
        background: outcome.trained.prepared.background,
        regression: outcome.trained.prepared.regression.clone(),
        untrained_regression: outcome
            .untrained
            .as_ref()
            .and_then(|u| u.prepared.regression.clone()),
        contact_head: outcome.trained.prepared.contact_head,
    })
}
