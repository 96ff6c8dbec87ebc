//! Zero-shot variant effects, a [`Study`] on the study engine (the one workflow behind
//! `variants` and the Variants view): one protein's 20 × L substitution matrix by wt- and/or
//! masked-marginals ([`super::variant_scan`]), the listed variants (a deep mutational scan or
//! typed mutations) scored by every strategy asked for, multi-mutants summed as predict.py
//! sums them, and, with measured values, each strategy's Spearman ρ against the assay over all
//! variants and per position (single substitutions at that position). The untrained copy can
//! be scored beside the model: its ρ is the baseline a random model reaches.
//!
//! The study reads the final layer only (the language-model head); nothing is stored.

use super::study::{LayerCost, LayerSweep, StoredSet, Study, Sweep};
use super::study_driver::{estimate_study, run_study};
use super::study_error::StudyError;
use super::study_estimate::StudyEstimate;
use super::study_stores::model_embed_seconds;
use super::variant_scan::{
    ScoringStrategy, position_log_probs, pseudo_log_likelihood, substitution_matrix,
};
use super::variant_ss8_track::{Ss8ProbeFile, Ss8Track};
use crate::data::{AMINO_ACIDS, Variant, check_offset};
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::probes::{Correlation, spearman};
use crate::store::StoreOptions;
use std::sync::Arc;

/// How the best "layer" is chosen (there is one: the LM head reads the last layer).
pub const BEST_VARIANT_RULE: &str =
    "the language-model head reads the last layer only; ranked by the first strategy's Spearman ρ";

/// Everything a variant study needs.
#[derive(Debug, Clone)]
pub struct VariantStudyRequest {
    /// `(id, wild-type sequence)`.
    pub protein: (String, String),
    /// Where the sequence came from (provenance).
    pub source: String,
    /// Strategies to score with, in the order shown.
    pub strategies: Vec<ScoringStrategy>,
    /// Variants to score, with the assay's value when measured.
    pub variants: Vec<(Variant, Option<f64>)>,
    /// Numbering offset of the variants: `position - offset` is the 0-based residue.
    pub offset: i64,
    /// Where the variants came from (`BLAT.csv, column 2500`), empty for none.
    pub assay: String,
    /// Also score the untrained copy.
    pub compare_untrained: bool,
    /// Forward batch size (`toks_per_batch`); nothing is stored.
    pub store: StoreOptions,
    /// A saved SS8 probe of the scored model: the wild type's predicted classes are drawn
    /// above the heatmap and written beside the positions.
    pub ss8_probe: Option<Arc<Ss8ProbeFile>>,
}

/// One strategy's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyScores {
    /// The strategy.
    pub strategy: ScoringStrategy,
    /// `L x 20` substitution scores `log p(mt) - log p(wt)` ([`AMINO_ACIDS`] order); `None`
    /// for pseudo-ppl, which scores listed variants only.
    pub matrix: Option<Vec<[f32; 20]>>,
    /// Each request variant's score (pseudo-ppl: the mutated sequence's pseudo-log-likelihood,
    /// as predict.py writes it).
    pub variant_scores: Vec<f64>,
    /// Spearman against the assay (`None` without measured values).
    pub spearman: Option<Correlation>,
    /// Per position (as numbered in the variants) with at least 3 measured single
    /// substitutions: Spearman over them.
    pub by_position: Vec<(i64, Correlation)>,
}

/// The scores of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantRun {
    /// The layer read (the last).
    pub layer: usize,
    /// One entry per strategy, in request order.
    pub strategies: Vec<StrategyScores>,
}

/// A finished study.
#[derive(Debug, Clone)]
pub struct VariantStudy {
    /// The model's scores (one run) and the untrained copy's, with provenance.
    pub sweep: LayerSweep<VariantRun>,
    /// The protein scored.
    pub protein: (String, String),
    /// The variants and their measured values.
    pub variants: Vec<(Variant, Option<f64>)>,
    /// The numbering offset.
    pub offset: i64,
    /// Where the variants came from.
    pub assay: String,
    /// The wild type's SS8 classes by the request's probe (the model that probe reads only).
    pub ss8: Option<Ss8Track>,
}

/// What [`Study::prepare`] makes of one model: its scores, and the SS8 track when the request's
/// probe reads this model.
#[derive(Debug, Clone)]
pub struct PreparedVariants {
    /// The scores.
    pub run: VariantRun,
    /// The wild type's SS8 classes.
    pub ss8: Option<Ss8Track>,
}

impl VariantStudy {
    /// "BLAT_ECOLX: 263 residues, numbered from 24; 4996 variants from …".
    pub fn describe(&self) -> String {
        let (id, sequence) = &self.protein;
        let source = if self.assay.is_empty() {
            String::new()
        } else {
            format!(" from {}", self.assay)
        };
        let variants = match self.variants.len() {
            1 => "1 variant".to_owned(),
            n => format!("{n} variants"),
        };
        format!(
            "{id}: {} residues, numbered from {}; {variants}{source}",
            sequence.len(),
            self.offset
        )
    }

    /// The trained model's scores.
    pub fn run(&self) -> Option<&VariantRun> {
        self.sweep.runs.first()
    }
}

impl VariantStudyRequest {
    fn measured(&self) -> Vec<f64> {
        self.variants
            .iter()
            .map(|(_, m)| m.unwrap_or(f64::NAN))
            .collect()
    }

    /// Scores every request variant from an `L x 20` matrix (multi-mutants summed).
    fn scores_from_matrix(&self, matrix: &[[f32; 20]]) -> Vec<f64> {
        let len = self.protein.1.len();
        self.variants
            .iter()
            .map(|(v, _)| {
                v.substitutions
                    .iter()
                    .map(|s| {
                        let (Some(i), Some(k)) =
                            (s.index(self.offset, len), AMINO_ACIDS.find(s.mutant))
                        else {
                            return f64::NAN;
                        };
                        matrix[i][k] as f64
                    })
                    .sum()
            })
            .collect()
    }

    /// The variant's mutated sequence.
    fn mutated(&self, variant: &Variant) -> String {
        let mut residues: Vec<char> = self.protein.1.chars().collect();
        for s in &variant.substitutions {
            if let Some(i) = s.index(self.offset, residues.len()) {
                residues[i] = s.mutant;
            }
        }
        residues.into_iter().collect()
    }

    /// Spearman overall and per position of `scores` against the assay.
    pub(crate) fn correlations(
        &self,
        scores: &[f64],
    ) -> (Option<Correlation>, Vec<(i64, Correlation)>) {
        let measured = self.measured();
        if measured.iter().all(|m| !m.is_finite()) {
            return (None, Vec::new());
        }
        let mut positions: std::collections::BTreeMap<i64, (Vec<f64>, Vec<f64>)> =
            Default::default();
        for (k, (v, m)) in self.variants.iter().enumerate() {
            if let ([s], Some(m)) = (v.substitutions.as_slice(), m) {
                let entry = positions.entry(s.position).or_default();
                entry.0.push(scores[k]);
                entry.1.push(*m);
            }
        }
        let by_position = positions
            .into_iter()
            .filter(|(_, (s, _))| s.len() >= 3)
            .map(|(p, (s, m))| (p, spearman(&s, &m)))
            .collect();
        (Some(spearman(scores, &measured)), by_position)
    }

    fn score_strategy(
        &self,
        model: &LoadedModel,
        strategy: ScoringStrategy,
        ctx: &JobCtx,
    ) -> Result<StrategyScores, StudyError> {
        let toks = self.store.toks_per_batch;
        let (id, sequence) = (&self.protein.0, &self.protein.1);
        let (matrix, variant_scores) = match strategy {
            ScoringStrategy::PseudoPpl => {
                let mut scores = Vec::with_capacity(self.variants.len());
                for (k, (variant, _)) in self.variants.iter().enumerate() {
                    ctx.set_stage(format!(
                        "pseudo-ppl of variant {}/{} ({})",
                        k + 1,
                        self.variants.len(),
                        variant.text
                    ));
                    let part = ctx.scoped(
                        k as f32 / self.variants.len() as f32,
                        (k + 1) as f32 / self.variants.len() as f32,
                    );
                    let mutated = self.mutated(variant);
                    scores.push(pseudo_log_likelihood(model, (id, &mutated), toks, &part)?);
                }
                (None, scores)
            }
            _ => {
                ctx.set_stage(format!("{} of {id}", strategy.name()));
                let log_probs = position_log_probs(model, (id, sequence), strategy, toks, ctx)?;
                let matrix = substitution_matrix(sequence, &log_probs);
                let scores = self.scores_from_matrix(&matrix);
                (Some(matrix), scores)
            }
        };
        let (spearman, by_position) = self.correlations(&variant_scores);
        Ok(StrategyScores {
            strategy,
            matrix,
            variant_scores,
            spearman,
            by_position,
        })
    }

    /// Forward passes of one model over the protein for `strategy` (one row each): the
    /// estimate's count and the job's progress weights.
    fn forward_passes(&self, strategy: ScoringStrategy) -> usize {
        let len = self.protein.1.len();
        match strategy {
            ScoringStrategy::WtMarginals => 1,
            ScoringStrategy::MaskedMarginals => len,
            ScoringStrategy::PseudoPpl => len * self.variants.len(),
        }
    }
}

impl Study for VariantStudyRequest {
    type Prepared = PreparedVariants;
    type Run = VariantRun;
    const BEST_RULE: &'static str = BEST_VARIANT_RULE;
    const LAYER_STAGE: &'static str = "scoring variants with";

    fn check(&self) -> Result<(), StudyError> {
        let (id, sequence) = &self.protein;
        if sequence.is_empty() {
            return Err(StudyError::Empty(format!("{id} has no residues")));
        }
        if let Some(bad) = sequence
            .chars()
            .find(|c| !AMINO_ACIDS.contains(c.to_ascii_uppercase()))
        {
            return Err(StudyError::Empty(format!(
                "{id}: {bad:?} is not one of the 20 amino acids; variant scores need a standard wild type"
            )));
        }
        if self.strategies.is_empty() {
            return Err(StudyError::Empty(
                "choose at least one scoring strategy".into(),
            ));
        }
        if self.strategies.contains(&ScoringStrategy::PseudoPpl) && self.variants.is_empty() {
            return Err(StudyError::Empty(
                "pseudo-ppl scores listed variants: give mutations or a DMS file".into(),
            ));
        }
        let variants: Vec<Variant> = self.variants.iter().map(|(v, _)| v.clone()).collect();
        check_offset(sequence, &variants, self.offset)
            .map_err(|e| StudyError::Empty(format!("{id}: {e}")))?;
        Ok(())
    }

    fn sweep(&self) -> Sweep<'_> {
        Sweep::new(&Layers::Last, self.compare_untrained, &self.store)
    }

    fn stored_sets(&self) -> Vec<StoredSet> {
        Vec::new()
    }

    fn data_sets(&self) -> Vec<StoredSet> {
        let mut sets = vec![StoredSet {
            name: self.source.clone(),
            records: vec![self.protein.clone()],
            per_residue: false,
        }];
        if !self.variants.is_empty() {
            let name = if self.assay.is_empty() {
                format!("{} listed variants", self.variants.len())
            } else {
                format!("{} ({} variants)", self.assay, self.variants.len())
            };
            sets.push(StoredSet {
                name,
                records: Vec::new(),
                per_residue: false,
            });
        }
        sets
    }

    fn analysed_layers(&self, num_layers: usize) -> Result<Vec<usize>, StudyError> {
        Ok(vec![num_layers])
    }

    fn layer_cost(&self, _: &LoadedModel) -> LayerCost {
        LayerCost {
            seconds: 1e-3,
            ram: 0,
        }
    }

    fn prepare_cost(&self, model: &LoadedModel) -> LayerCost {
        let config = model.model.config();
        let rows = (self.store.toks_per_batch / (self.protein.1.len() + 2)).max(1);
        let tokens = rows * (self.protein.1.len().min(config.max_residues()) + 2);
        // The SS8 track is one more pass (counted for the untrained copy too, which skips it).
        let track = self.ss8_probe.as_ref().is_some_and(|p| p.reads(model));
        let passes: usize = self
            .strategies
            .iter()
            .map(|&s| self.forward_passes(s))
            .sum::<usize>()
            + usize::from(track);
        LayerCost {
            // Every pass embeds the protein (as counted before: its residues, in rows of at
            // most a window).
            seconds: model_embed_seconds(
                model,
                passes * self.protein.1.len(),
                (self.protein.1.len() + 2).min(config.max_residues() + 2),
            ),
            // The batch's logits and their log-softmax, and the 20 x L matrices.
            ram: (tokens * 33 * 4 * 3 + self.protein.1.len() * 20 * 4 * 4) as u64,
        }
    }

    fn prepare(
        &self,
        model: &LoadedModel,
        _: &[crate::store::FeatureStore],
        ctx: &JobCtx,
    ) -> Result<PreparedVariants, StudyError> {
        let probe = self.ss8_probe.as_ref().filter(|p| p.reads(model));
        let mut weights: Vec<f64> = self
            .strategies
            .iter()
            .map(|&s| self.forward_passes(s) as f64)
            .collect();
        weights.push(if probe.is_some() { 1.0 } else { 0.0 });
        let phases = ctx.phases(&weights);
        let strategies = self
            .strategies
            .iter()
            .zip(&phases)
            .map(|(&s, phase)| self.score_strategy(model, s, phase))
            .collect::<Result<Vec<_>, _>>()?;
        let ss8 = match probe {
            Some(probe) => {
                Some(probe.track(model, &self.protein, &phases[self.strategies.len()])?)
            }
            None => None,
        };
        Ok(PreparedVariants {
            run: VariantRun {
                layer: model.model.config().num_layers,
                strategies,
            },
            ss8,
        })
    }

    fn run_layer(
        &self,
        prepared: &PreparedVariants,
        _: &[crate::store::FeatureStore],
        _: usize,
        _: &JobCtx,
    ) -> Result<VariantRun, StudyError> {
        Ok(prepared.run.clone())
    }

    fn layer_score(run: &VariantRun) -> f64 {
        run.strategies
            .first()
            .and_then(|s| s.spearman)
            .map_or(f64::NAN, |c| c.rho)
    }
}

/// Time and RAM of `request` on `model`.
pub fn estimate_variant_study(
    model: &LoadedModel,
    request: &VariantStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    if let Some(probe) = &request.ss8_probe {
        probe.check_model(model)?;
    }
    estimate_study(model, request)
}

/// Runs the study; refuses first if it cannot fit.
pub fn run_variant_study(
    model: &LoadedModel,
    request: &VariantStudyRequest,
    ctx: &JobCtx,
) -> Result<VariantStudy, StudyError> {
    if let Some(probe) = &request.ss8_probe {
        probe.check_model(model)?;
    }
    let outcome = run_study(model, request, ctx)?;
    Ok(VariantStudy {
        sweep: outcome.sweep,
        protein: request.protein.clone(),
        variants: request.variants.clone(),
        offset: request.offset,
        assay: request.assay.clone(),
        ss8: outcome.trained.prepared.ss8,
    })
}
