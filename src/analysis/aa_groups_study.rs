//! The amino-acid groups study, the one workflow behind the Embedding map's "Amino-acid groups"
//! panel and `probe aa-groups` (Rives et al. 2021, Fig. 2: the model's vectors of the 20 amino
//! acids cluster by biochemistry; an untrained model's do not).
//!
//! Two kinds of vectors are scored with [`grouping_score`]:
//! - the token embedding table (the input layer, tied to the LM head in ESM-1b), always;
//! - per representation layer, each amino acid's mean over every residue of a data set, read
//!   from a feature store (embedded once, resumable, reused by later studies).
//!
//! Peak RAM: the model, one forward batch, one chunk of one layer's rows and 20 running sums.
//! The best layer is the trained model's layer with the highest nearest-neighbour agreement
//! ([`BEST_LAYER`]).

use super::study::{LayerCost, LayerSweep, StoredSet, Study, Sweep};
use super::study_driver::{estimate_study, run_study};
use super::study_error::StudyError;
use super::study_estimate::StudyEstimate;
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::probes::{GroupingScore, embedding_table_grouping, grouped_amino_acids, grouping_score};
use crate::store::{FeatureStore, LayerReader, StoreOptions};

/// How the best layer is chosen.
pub const BEST_LAYER: &str = "highest nearest-neighbour group agreement of the trained model \
                              (ties: larger within-minus-between cosine, then the lower layer)";

/// Rows read from a store at once.
const CHUNK_ROWS: usize = 16_384;

/// Everything the study needs.
#[derive(Debug, Clone)]
pub struct AaGroupsRequest {
    /// `(id, sequence)` of the proteins whose residues are averaged per amino acid; empty to
    /// score the embedding table only.
    pub records: Vec<(String, String)>,
    /// Name of the data set (stores are labelled with it).
    pub dataset_name: String,
    /// Representation layers scored (ignored when `records` is empty).
    pub layers: Layers,
    /// Also score an untrained copy of the model (the paper's baseline).
    pub compare_untrained: bool,
    /// Feature stores.
    pub store: StoreOptions,
}

/// The score of one layer's per-amino-acid mean vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct AaGroupsRun {
    /// Representation layer (0 = after the embedding).
    pub layer: usize,
    /// Agreement, cosine contrast and chance.
    pub score: GroupingScore,
    /// Standard residues averaged.
    pub residues: usize,
}

/// A finished study.
#[derive(Debug, Clone)]
pub struct AaGroupsStudy {
    /// One run per layer, trained and untrained (none without records), the best layer
    /// ([`BEST_LAYER`]) and the cost.
    pub sweep: LayerSweep<AaGroupsRun>,
    /// The token embedding table of the model.
    pub table: GroupingScore,
    /// The same for the untrained copy (when compared).
    pub untrained_table: Option<GroupingScore>,
    /// Standard residues averaged per layer (0 without records).
    pub residues: usize,
}

impl Study for AaGroupsRequest {
    /// The model's embedding-table score.
    type Prepared = GroupingScore;
    type Run = AaGroupsRun;
    const BEST_RULE: &'static str = BEST_LAYER;
    const LAYER_STAGE: &'static str = "averaging per amino acid";

    fn check(&self) -> Result<(), StudyError> {
        Ok(())
    }

    fn sweep(&self) -> Sweep<'_> {
        Sweep::new(&self.layers, self.compare_untrained, &self.store)
    }

    fn stored_sets(&self) -> Vec<StoredSet> {
        if self.records.is_empty() {
            return Vec::new();
        }
        vec![StoredSet {
            name: self.dataset_name.clone(),
            records: self.records.clone(),
            per_residue: true,
        }]
    }

    fn analysed_layers(&self, num_layers: usize) -> Result<Vec<usize>, StudyError> {
        if self.records.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.layers.resolve(num_layers)?)
    }

    fn layer_cost(&self, model: &LoadedModel) -> LayerCost {
        LayerCost {
            seconds: 1e-3,
            ram: (CHUNK_ROWS * model.model.config().embed_dim * 4) as u64,
        }
    }

    fn prepare(
        &self,
        model: &LoadedModel,
        _: &[FeatureStore],
        _: &JobCtx,
    ) -> Result<GroupingScore, StudyError> {
        embedding_table_grouping(model.model.token_embeddings())?.ok_or_else(|| {
            StudyError::Empty(format!(
                "the embedding table of {} lacks a standard amino acid",
                model.name
            ))
        })
    }

    fn run_layer(
        &self,
        _: &GroupingScore,
        stores: &[FeatureStore],
        layer: usize,
        ctx: &JobCtx,
    ) -> Result<AaGroupsRun, StudyError> {
        let (means, residues) = amino_acid_means(&stores[0], &self.records, layer, ctx)?;
        let score = grouping_score(|r| means.get(&r).cloned()).ok_or_else(|| {
            StudyError::Empty(format!(
                "{} lacks a standard amino acid (all 20 are needed)",
                self.dataset_name
            ))
        })?;
        Ok(AaGroupsRun {
            layer,
            score,
            residues,
        })
    }

    fn layer_score(run: &AaGroupsRun) -> f64 {
        run.score.nearest_neighbour_agreement
    }

    fn tie_break(run: &AaGroupsRun) -> f64 {
        run.score.within_minus_between_cosine
    }
}

/// Time, RAM and disk of `request` on `model` (untrained stores counted as new).
pub fn estimate_aa_groups_study(
    model: &LoadedModel,
    request: &AaGroupsRequest,
) -> Result<StudyEstimate, StudyError> {
    estimate_study(model, request)
}

/// Runs the study; refuses first if it cannot fit (see [`estimate_aa_groups_study`]).
pub fn run_aa_groups_study(
    model: &LoadedModel,
    request: &AaGroupsRequest,
    ctx: &JobCtx,
) -> Result<AaGroupsStudy, StudyError> {
    let outcome = run_study(model, request, ctx)?;
    Ok(AaGroupsStudy {
        residues: outcome.sweep.runs.last().map_or(0, |run| run.residues),
        table: outcome.trained.prepared,
        untrained_table: outcome.untrained.map(|state| state.prepared),
        sweep: outcome.sweep,
    })
}

/// Each standard amino acid's mean `[embed_dim]` vector of `layer` over every stored residue,
/// read in chunks of about [`CHUNK_ROWS`] rows; and the residues averaged.
fn amino_acid_means(
    store: &FeatureStore,
    records: &[(String, String)],
    layer: usize,
    ctx: &JobCtx,
) -> Result<(std::collections::HashMap<char, Vec<f32>>, usize), StudyError> {
    let mut reader = LayerReader::open(store, layer)?;
    let mut sums: std::collections::HashMap<char, (Vec<f64>, usize)> = grouped_amino_acids()
        .map(|r| (r, (vec![0.0; reader.dim()], 0)))
        .collect();
    let offsets = store.row_offsets();
    for chunk in store.record_chunks(CHUNK_ROWS) {
        let (first, last) = (chunk.start, chunk.end);
        let block = reader.read_range(offsets[first], offsets[last] - offsets[first])?;
        for (i, (_, sequence)) in records.iter().enumerate().take(last).skip(first) {
            let stored = offsets[i + 1] - offsets[i];
            for (p, residue) in sequence.chars().take(stored).enumerate() {
                let Some((sum, count)) = sums.get_mut(&residue.to_ascii_uppercase()) else {
                    continue;
                };
                for (s, &x) in sum
                    .iter_mut()
                    .zip(block.row(offsets[i] - offsets[first] + p))
                {
                    *s += f64::from(x);
                }
                *count += 1;
            }
        }
        ctx.checkpoint(last as f32 / records.len() as f32)?;
    }
    let averaged = sums.values().map(|(_, count)| count).sum();
    let means = sums
        .into_iter()
        .filter(|(_, (_, count))| *count > 0)
        .map(|(r, (sum, count))| (r, sum.iter().map(|s| (s / count as f64) as f32).collect()))
        .collect();
    Ok((means, averaged))
}
