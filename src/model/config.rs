//! Hyperparameters of an ESM model, always read from the checkpoint, never guessed.

use serde::{Deserialize, Serialize};

/// Which member of the ESM family the weights belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// ESM-1b / ESM-1v (`ProteinBertModel`, fairseq arch `roberta_large`): learned absolute
    /// positions with a padding offset, optional `emb_layer_norm_before`.
    Esm1b,
    /// ESM-2 (`esm.model.esm2.ESM2`): rotary position embeddings, no learned positions.
    Esm2,
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Esm1b => "ESM-1b",
            Self::Esm2 => "ESM-2",
        })
    }
}

/// Model hyperparameters (names follow fair-esm's upgraded `args`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EsmConfig {
    /// Architecture family.
    pub architecture: Architecture,
    /// Number of transformer blocks (33 for ESM-1b).
    pub num_layers: usize,
    /// Residual stream width (1280 for ESM-1b).
    pub embed_dim: usize,
    /// Hidden width of each feed-forward block (5120 for ESM-1b; `4 * embed_dim` for ESM-2).
    pub ffn_embed_dim: usize,
    /// Attention heads per layer (20 for ESM-1b).
    pub attention_heads: usize,
    /// Longest token row, BOS and EOS included (1024 for ESM-1b). `None` for ESM-2, whose
    /// rotary embeddings have no hard limit; fair-esm's tools still truncate at 1022 residues.
    pub max_positions: Option<usize>,
    /// Rescale embeddings for `<mask>` tokens as fair-esm does at inference.
    #[serde(default)]
    pub token_dropout: bool,
    /// ESM-1b only: a LayerNorm after the embeddings (present when the checkpoint has it).
    #[serde(default)]
    pub emb_layer_norm_before: bool,
    /// LayerNorm epsilon (1e-5 in fair-esm's `torch.nn.LayerNorm`).
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
}

fn default_layer_norm_eps() -> f64 {
    1e-5
}

/// fair-esm's default residue limit when truncating (`esm-extract --truncation_seq_length`).
pub const DEFAULT_MAX_RESIDUES: usize = 1022;

impl EsmConfig {
    /// ESM-1b's published hyperparameters (`esm1b_t33_650M_UR50S`).
    pub fn esm1b_650m() -> Self {
        Self {
            architecture: Architecture::Esm1b,
            num_layers: 33,
            embed_dim: 1280,
            ffn_embed_dim: 5120,
            attention_heads: 20,
            max_positions: Some(1024),
            token_dropout: true,
            emb_layer_norm_before: false,
            layer_norm_eps: 1e-5,
        }
    }

    /// Multiply-adds x2 of one forward pass over `tokens` tokens (BOS/EOS included) with the LM
    /// head: per layer `8E² + 4EF` per token for the projections and `4TE` for attention.
    pub fn forward_flops(&self, tokens: usize) -> f64 {
        let (e, f, t) = (
            self.embed_dim as f64,
            self.ffn_embed_dim as f64,
            tokens as f64,
        );
        let per_token_layer = 8.0 * e * e + 4.0 * e * f + 4.0 * t * e;
        let lm_head = 2.0 * e * e + 2.0 * e * super::Alphabet::SIZE as f64;
        t * (self.num_layers as f64 * per_token_layer + lm_head)
    }

    /// Size of one attention head.
    pub fn head_dim(&self) -> usize {
        self.embed_dim / self.attention_heads
    }

    /// The most residues (BOS/EOS excluded) one forward pass accepts.
    ///
    /// ESM-1b: `max_positions - 2` (1022). ESM-2: 1022, the limit fair-esm's tools use, since
    /// the model was trained on crops of that length.
    pub fn max_residues(&self) -> usize {
        self.max_positions
            .map_or(DEFAULT_MAX_RESIDUES, |p| p.saturating_sub(2))
    }

    /// Number of learned position rows in an ESM-1b checkpoint: `max_positions + padding_idx + 1`.
    pub fn position_rows(&self) -> Option<usize> {
        self.max_positions
            .map(|p| p + super::Alphabet::PAD as usize + 1)
    }

    /// Checks internal consistency (e.g. heads divide the width).
    pub fn validate(&self) -> Result<(), String> {
        if self.num_layers == 0 || self.embed_dim == 0 || self.attention_heads == 0 {
            return Err(format!(
                "layers, embed_dim and heads must be positive: {self:?}"
            ));
        }
        if !self.embed_dim.is_multiple_of(self.attention_heads) {
            return Err(format!(
                "embed_dim {} is not divisible by {} attention heads",
                self.embed_dim, self.attention_heads
            ));
        }
        if self.architecture == Architecture::Esm2 && !self.head_dim().is_multiple_of(2) {
            return Err(format!(
                "rotary embeddings need an even head size, got {}",
                self.head_dim()
            ));
        }
        if self.architecture == Architecture::Esm1b && self.max_positions.is_none() {
            return Err("ESM-1b needs max_positions".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_match_fair_esm() {
        let mut cfg = EsmConfig::esm1b_650m();
        // fair-esm: sum(p.numel() for p in ProteinBertModel(args, alphabet).parameters())
        // (tied LM head counted once, contact regression 661 included).
        assert_eq!(cfg.parameter_count(), 652_356_534);
        cfg.emb_layer_norm_before = true;
        assert_eq!(cfg.parameter_count(), 652_359_094);
        assert_eq!(cfg.max_residues(), 1022);
        // ESM2(num_layers=6, embed_dim=320, attention_heads=20): esm2_t6_8M_UR50D.
        let esm2 = EsmConfig {
            architecture: Architecture::Esm2,
            num_layers: 6,
            embed_dim: 320,
            ffn_embed_dim: 1280,
            attention_heads: 20,
            max_positions: None,
            token_dropout: true,
            emb_layer_norm_before: false,
            layer_norm_eps: 1e-5,
        };
        assert_eq!(esm2.parameter_count(), 7_512_474);
    }
}
