//! Masked-language-model pretraining of ESM-1b-architecture models in candle: masking,
//! batching, AdamW, held-out perplexity and the resumable training loop. Pure compute.

mod adamw;
mod batching;
mod corpus;
mod error;
mod files;
mod kmer_overlap;
mod masking;
mod perplexity;
mod pretrain;

pub use adamw::{AdamW, AdamWParams, learning_rate};
pub use batching::{BUCKET_WIDTH, build_batch, crop_with_bos_eos, epoch_batches};
pub use corpus::{Corpus, HeldoutSplit};
pub use error::TrainError;
pub use kmer_overlap::{KMER, KmerSet};
pub use masking::{MaskedBatch, MaskingScheme, STANDARD_AMINO_ACIDS, mask_batch};
pub use perplexity::{
    EVAL_MASK_SEED, PerplexityReport, SequenceScore, UnigramModel, heldout_perplexity,
    masked_lm_loss, masked_lm_nll, score_sequences,
};
pub use pretrain::{
    LogEntry, PretrainConfig, RunState, TrainEvent, latest_checkpoint, pretrain, read_state,
};
