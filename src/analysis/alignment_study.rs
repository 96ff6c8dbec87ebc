//! The alignment study (Rives et al. 2021, "learning encodes alignment within a protein
//! family"), a [`Study`] on the study engine, the one workflow behind the Alignment view and
//! `probe alignment`: each family's sequences are embedded once into a per-residue feature
//! store; per layer, the cosine similarity of the representations of aligned residue pairs
//! (one column) and of unaligned pairs (different columns; [`super::alignment_pairs`]) is
//! histogrammed, and the ROC AUC of cosine similarity at telling the two apart is computed per
//! family and averaged over families. Each residue's cosine distance from its column's mean
//! is kept for the view's coloured alignment. The untrained copy is run the same way.
//!
//! Peak RAM: the model, one forward batch, one family's rows of one layer (twice: read and
//! normalised). The best layer: [`BEST_ALIGNMENT_LAYER`].

use std::path::PathBuf;

use ndarray::Array2;

use super::alignment_pairs::{FamilyPairs, Residue, sample_pairs};
use super::study::{LayerCost, LayerSweep, StoredSet, Study, Sweep};
use super::study_driver::{estimate_study, run_study};
use super::study_error::StudyError;
use super::study_estimate::StudyEstimate;
use crate::data::{Alignment, read_alignments, spread_evenly};
use crate::jobs::JobCtx;
use crate::model::{Layers, LoadedModel};
use crate::probes::roc_auc;
use crate::store::{FeatureStore, LayerReader, StoreOptions};

/// How the best layer is chosen.
pub const BEST_ALIGNMENT_LAYER: &str =
    "highest mean ROC AUC over the families of the trained model (ties: the lower layer)";

/// Default aligned pairs per family (and as many unaligned).
pub const DEFAULT_PAIRS_PER_FAMILY: usize = 20_000;
/// Default most sequences per family (spread evenly over the alignment).
pub const DEFAULT_MAX_SEQUENCES: usize = 200;
/// Histogram bins over cosine similarity `[-1, 1]`.
pub const HISTOGRAM_BINS: usize = 40;

/// Everything an alignment study needs.
#[derive(Debug, Clone)]
pub struct AlignmentStudyRequest {
    /// The families.
    pub families: Vec<Alignment>,
    /// The files they came from (provenance, store labels).
    pub source: String,
    /// Layers to score.
    pub layers: Layers,
    /// Also score the untrained copy.
    pub compare_untrained: bool,
    /// Aligned pairs sampled per family (as many unaligned).
    pub pairs_per_family: usize,
    /// Seed of the pair samples.
    pub seed: u64,
    /// Feature stores.
    pub store: StoreOptions,
}

/// One family's scores at one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyScore {
    /// Family name.
    pub name: String,
    /// Sequences embedded.
    pub sequences: usize,
    /// Aligned pairs scored (as many unaligned), and how many the family has.
    pub pairs: (usize, u64),
    /// ROC AUC of cosine similarity, aligned against unaligned.
    pub auc: f64,
    /// Mean cosine similarity of aligned and of unaligned pairs.
    pub mean_cosine: (f64, f64),
    /// Counts per bin of [`HISTOGRAM_BINS`] over `[-1, 1]`: aligned, unaligned.
    pub histograms: (Vec<u32>, Vec<u32>),
    /// Per sequence and residue: cosine distance (1 - cosine) from its column's mean
    /// representation; `None` for inserts and residues the model did not read.
    pub column_distance: Vec<Vec<Option<f32>>>,
}

/// One layer's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignmentRun {
    /// Representation layer (0 = after the embedding).
    pub layer: usize,
    /// One per family, in request order.
    pub families: Vec<FamilyScore>,
    /// Mean of the families' AUCs.
    pub mean_auc: f64,
}

/// A finished study.
#[derive(Debug, Clone)]
pub struct AlignmentStudy {
    /// One run per layer, trained and untrained, the best layer and the cost.
    pub sweep: LayerSweep<AlignmentRun>,
    /// The families (as embedded: after the sequence cap).
    pub families: Vec<Alignment>,
}

impl AlignmentStudyRequest {
    /// A request over every family in `paths`, each cut to at most `max_sequences` sequences
    /// spread over its alignment, every other field at its default.
    pub fn from_files(paths: &[PathBuf], max_sequences: usize) -> Result<Self, StudyError> {
        crate::params::whole_in(
            "sequences per family (--max-sequences)",
            max_sequences,
            2..=100_000,
        )?;
        let mut families = Vec::new();
        for path in paths {
            for mut family in read_alignments(path)? {
                family.sequences = spread_evenly(family.sequences, max_sequences);
                families.push(family);
            }
        }
        Ok(Self {
            families,
            source: paths
                .iter()
                .map(|p| crate::store::dataset_label(p))
                .collect::<Vec<_>>()
                .join(", "),
            layers: Layers::Last,
            compare_untrained: false,
            pairs_per_family: DEFAULT_PAIRS_PER_FAMILY,
            seed: 0,
            store: StoreOptions::default(),
        })
    }
}

impl Study for AlignmentStudyRequest {
    /// Each family's pairs.
    type Prepared = Vec<FamilyPairs>;
    type Run = AlignmentRun;
    const BEST_RULE: &'static str = BEST_ALIGNMENT_LAYER;
    const LAYER_STAGE: &'static str = "scoring aligned pairs";

    fn check(&self) -> Result<(), StudyError> {
        crate::params::whole_in(
            "aligned pairs per family (--pairs)",
            self.pairs_per_family,
            10..=10_000_000,
        )?;
        if self.families.is_empty() {
            return Err(StudyError::Empty(format!(
                "{} holds no alignment",
                self.source
            )));
        }
        for family in &self.families {
            let multi = family
                .sequences
                .iter()
                .filter(|s| s.columns.iter().any(Option::is_some))
                .count();
            if multi < 2 {
                return Err(StudyError::Empty(format!(
                    "family {} ({}) has {multi} aligned sequence(s); aligned pairs need at least 2",
                    family.name, self.source
                )));
            }
        }
        Ok(())
    }

    fn sweep(&self) -> Sweep<'_> {
        Sweep::new(&self.layers, self.compare_untrained, &self.store)
    }

    fn stored_sets(&self) -> Vec<StoredSet> {
        self.families
            .iter()
            .map(|family| StoredSet {
                name: format!("{} ({})", family.name, self.source),
                records: family.records(),
                per_residue: true,
            })
            .collect()
    }

    fn layer_cost(&self, model: &LoadedModel) -> LayerCost {
        let rows = self
            .families
            .iter()
            .map(|f| f.sequences.iter().map(|s| s.sequence.len()).sum::<usize>())
            .max()
            .unwrap_or(0);
        let dim = model.model.config().embed_dim;
        let pairs = 2 * self.pairs_per_family * self.families.len();
        LayerCost {
            // Two dot products of `dim` per pair, plus reading the rows (400 MB/s).
            seconds: (pairs * dim * 2) as f64 / 2e9
                + (rows * dim * 4 * self.families.len()) as f64 / 4e8,
            ram: (rows * dim * 4 * 3) as u64,
        }
    }

    fn prepare(
        &self,
        _: &LoadedModel,
        stores: &[FeatureStore],
        _: &JobCtx,
    ) -> Result<Vec<FamilyPairs>, StudyError> {
        Ok(self
            .families
            .iter()
            .zip(stores)
            .enumerate()
            .map(|(k, (family, store))| {
                let offsets = store.row_offsets();
                let read: Vec<usize> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
                sample_pairs(family, &read, self.pairs_per_family, self.seed ^ k as u64)
            })
            .collect())
    }

    fn run_layer(
        &self,
        pairs: &Vec<FamilyPairs>,
        stores: &[FeatureStore],
        layer: usize,
        ctx: &JobCtx,
    ) -> Result<AlignmentRun, StudyError> {
        let mut families = Vec::with_capacity(self.families.len());
        for (k, ((family, store), pairs)) in self.families.iter().zip(stores).zip(pairs).enumerate()
        {
            families.push(score_family(family, store, pairs, layer)?);
            ctx.checkpoint((k + 1) as f32 / self.families.len() as f32)?;
        }
        let aucs: Vec<f64> = families
            .iter()
            .map(|f| f.auc)
            .filter(|a| a.is_finite())
            .collect();
        Ok(AlignmentRun {
            layer,
            mean_auc: if aucs.is_empty() {
                f64::NAN
            } else {
                aucs.iter().sum::<f64>() / aucs.len() as f64
            },
            families,
        })
    }

    fn layer_score(run: &AlignmentRun) -> f64 {
        run.mean_auc
    }
}

/// Rows of `layer` scaled to unit length, `[rows, dim]` (zero rows stay zero).
fn unit_rows(store: &FeatureStore, layer: usize) -> Result<Array2<f32>, StudyError> {
    let mut reader = LayerReader::open(store, layer)?;
    let rows = reader.rows();
    let mut block = reader.read_range(0, rows)?;
    for mut row in block.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
    Ok(block)
}

/// One family's AUC, histograms and column distances at `layer`.
fn score_family(
    family: &Alignment,
    store: &FeatureStore,
    pairs: &FamilyPairs,
    layer: usize,
) -> Result<FamilyScore, StudyError> {
    let unit = unit_rows(store, layer)?;
    let offsets = store.row_offsets();
    let row = |(s, p): (u32, u32)| offsets[s as usize] + p as usize;
    let cosines = |set: &[(Residue, Residue)]| -> Vec<f32> {
        set.iter()
            .map(|&(a, b)| unit.row(row(a)).dot(&unit.row(row(b))))
            .collect()
    };
    let (aligned, unaligned) = (cosines(&pairs.aligned), cosines(&pairs.unaligned));
    let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len().max(1) as f64;
    Ok(FamilyScore {
        name: family.name.clone(),
        sequences: family.sequences.len(),
        pairs: (pairs.aligned.len(), pairs.aligned_total),
        auc: roc_auc(&aligned, &unaligned).unwrap_or(f64::NAN),
        mean_cosine: (mean(&aligned), mean(&unaligned)),
        histograms: (histogram(&aligned), histogram(&unaligned)),
        column_distance: column_distances(family, &unit, offsets),
    })
}

/// Counts of `values` in [`HISTOGRAM_BINS`] bins over `[-1, 1]`.
pub fn histogram(values: &[f32]) -> Vec<u32> {
    let mut bins = vec![0; HISTOGRAM_BINS];
    for &v in values.iter().filter(|v| v.is_finite()) {
        let k = ((v + 1.0) / 2.0 * HISTOGRAM_BINS as f32).floor() as isize;
        bins[k.clamp(0, HISTOGRAM_BINS as isize - 1) as usize] += 1;
    }
    bins
}

/// Each residue's cosine distance from its column's mean unit representation.
fn column_distances(
    family: &Alignment,
    unit: &Array2<f32>,
    offsets: &[usize],
) -> Vec<Vec<Option<f32>>> {
    let dim = unit.ncols();
    let mut sums = Array2::<f32>::zeros((family.width, dim));
    let read = |s: usize| offsets[s + 1] - offsets[s];
    for (s, sequence) in family.sequences.iter().enumerate() {
        for (p, column) in sequence.columns.iter().enumerate().take(read(s)) {
            if let Some(c) = column {
                let mut sum = sums.row_mut(*c as usize);
                sum += &unit.row(offsets[s] + p);
            }
        }
    }
    for mut sum in sums.rows_mut() {
        let norm = sum.dot(&sum).sqrt();
        if norm > 0.0 {
            sum /= norm;
        }
    }
    family
        .sequences
        .iter()
        .enumerate()
        .map(|(s, sequence)| {
            sequence
                .columns
                .iter()
                .enumerate()
                .map(|(p, column)| {
                    let c = (*column)?;
                    (p < read(s)).then(|| 1.0 - unit.row(offsets[s] + p).dot(&sums.row(c as usize)))
                })
                .collect()
        })
        .collect()
}

/// Time, RAM and disk of `request` on `model` (untrained stores counted as new).
pub fn estimate_alignment_study(
    model: &LoadedModel,
    request: &AlignmentStudyRequest,
) -> Result<StudyEstimate, StudyError> {
    estimate_study(model, request)
}

/// Runs the study; refuses first if it cannot fit.
pub fn run_alignment_study(
    model: &LoadedModel,
    request: &AlignmentStudyRequest,
    ctx: &JobCtx,
) -> Result<AlignmentStudy, StudyError> {
    let outcome = run_study(model, request, ctx)?;
    Ok(AlignmentStudy {
        sweep: outcome.sweep,
        families: request.families.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_bin_cosines_over_minus_one_to_one() {
        let bins = histogram(&[-1.0, -0.99, 0.0, 0.999, 1.0, f32::NAN]);
        assert_eq!(bins.len(), HISTOGRAM_BINS);
        assert_eq!(bins[0], 2);
        assert_eq!(bins[HISTOGRAM_BINS / 2], 1);
        assert_eq!(bins[HISTOGRAM_BINS - 1], 2, "1.0 falls in the last bin");
        assert_eq!(bins.iter().sum::<u32>(), 5, "NaN dropped");
    }
}
