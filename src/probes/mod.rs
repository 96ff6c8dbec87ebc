//! Probes of what a representation encodes (Rives et al. 2021): the SS8 linear probe, remote
//! homology by nearest neighbours, amino-acid groups, and their metrics. Pure compute: no GUI imports.

mod amino_acid_groups;
mod attention_regression;
mod classification_metrics;
mod contact_pairs;
mod contact_precision;
mod contact_probe;
mod head_scores;
mod homology;
mod homology_search;
mod lbfgs;
pub mod logistic;
mod logistic_kernels;
mod precision_at_l;
mod probe_file;
mod roc_auc;
mod sparse_logistic;
mod spearman;
mod ss8_probe;

pub use amino_acid_groups::{
    AMINO_ACID_GROUPS, GroupingScore, amino_acid_group, embedding_table_grouping,
    grouped_amino_acids, grouping_score,
};
pub use attention_regression::{ATTENTION_REGRESSION_KIND, AttentionRegression};
pub use classification_metrics::{
    ClassMetrics, ClassificationMetrics, metric_text, metric_text_with_decimals,
};
pub use contact_pairs::{
    DEFAULT_NEGATIVES_PER_POSITIVE, MIN_SEPARATION as CONTACT_MIN_SEPARATION, SampledPairs,
    sample_pairs,
};
pub use contact_precision::{contact_precision, random_precision, top_contact_pairs};
pub use contact_probe::{
    ContactProbe, ContactProbeError, ContactProbeParams, TrainingChain, pair_sample,
    standardise_in_place,
};
pub use head_scores::{ChainPairs, ConfidentAttention, DEFAULT_ATTENTION_THRESHOLD};
pub use homology::{
    HomologyLevel, HomologyMetrics, LabelIds, QueryOutcome, ScopLabels, chance_hit10,
    cosine_similarities, homology_metrics, scop_labels, score_query, summarise, unit_vectors,
};
pub use homology_search::{HomologySearchError, QUERY_BLOCK, homology_scores};
pub use lbfgs::{LbfgsResult, LbfgsSettings, StopReason};
pub use precision_at_l::{ContactPrecision, RangePrecision};
pub use probe_file::{
    ProbeFileError, ProbeMetadata, load_contact_probe, load_ss8_probe, save_contact_probe,
    save_ss8_probe,
};
pub use roc_auc::roc_auc;
pub use sparse_logistic::{
    SparseLogistic, SparseLogisticError, SparseLogisticParams, WeightedRows, fit_sparse_logistic,
};
pub use spearman::{Correlation, spearman};
pub use ss8_probe::{Ss8Metrics, Ss8Probe, Ss8ProbeParams, residue_dataset, ss8_metrics};
