//! The tensors of an architecture: every canonical name with its shape, and the parameter
//! count they imply. Checkpoint validation and the memory estimates read the same list.

use serde::{Deserialize, Serialize};

use super::alphabet::Alphabet;
use super::config::{Architecture, EsmConfig};

/// Which optional heads a checkpoint carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heads {
    /// The masked-LM head (`lm_head.*`): absent from Hugging Face `EsmModel` files.
    pub lm: bool,
    /// The contact regression (`contact_head.regression.*`).
    pub contact: bool,
}

impl Heads {
    /// Both heads.
    pub const ALL: Self = Self {
        lm: true,
        contact: true,
    };
}

/// Every canonical tensor an architecture needs, with its shape.
pub fn expected_shapes(cfg: &EsmConfig, heads: Heads) -> Vec<(String, Vec<usize>)> {
    let (e, f, v) = (cfg.embed_dim, cfg.ffn_embed_dim, Alphabet::SIZE);
    let mut shapes = vec![("embed_tokens.weight".to_owned(), vec![v, e])];
    if let (Architecture::Esm1b, Some(rows)) = (cfg.architecture, cfg.position_rows()) {
        shapes.push(("embed_positions.weight".into(), vec![rows, e]));
    }
    let layer_norm = |shapes: &mut Vec<(String, Vec<usize>)>, prefix: &str| {
        shapes.push((format!("{prefix}.weight"), vec![e]));
        shapes.push((format!("{prefix}.bias"), vec![e]));
    };
    if cfg.emb_layer_norm_before && cfg.architecture == Architecture::Esm1b {
        layer_norm(&mut shapes, "emb_layer_norm_before");
    }
    for i in 0..cfg.num_layers {
        for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
            shapes.push((format!("layers.{i}.self_attn.{proj}.weight"), vec![e, e]));
            shapes.push((format!("layers.{i}.self_attn.{proj}.bias"), vec![e]));
        }
        layer_norm(&mut shapes, &format!("layers.{i}.self_attn_layer_norm"));
        shapes.push((format!("layers.{i}.fc1.weight"), vec![f, e]));
        shapes.push((format!("layers.{i}.fc1.bias"), vec![f]));
        shapes.push((format!("layers.{i}.fc2.weight"), vec![e, f]));
        shapes.push((format!("layers.{i}.fc2.bias"), vec![e]));
        layer_norm(&mut shapes, &format!("layers.{i}.final_layer_norm"));
    }
    layer_norm(&mut shapes, "emb_layer_norm_after");
    if heads.lm {
        shapes.push(("lm_head.dense.weight".into(), vec![e, e]));
        shapes.push(("lm_head.dense.bias".into(), vec![e]));
        layer_norm(&mut shapes, "lm_head.layer_norm");
        shapes.push(("lm_head.bias".into(), vec![v]));
    }
    if heads.contact {
        shapes.push((
            "contact_head.regression.weight".into(),
            vec![1, cfg.num_layers * cfg.attention_heads],
        ));
        shapes.push(("contact_head.regression.bias".into(), vec![1]));
    }
    shapes
}

impl EsmConfig {
    /// Parameter count implied by the configuration, both heads included (tied embeddings
    /// counted once): the sum over [`expected_shapes`].
    pub fn parameter_count(&self) -> usize {
        expected_shapes(self, Heads::ALL)
            .iter()
            .map(|(_, shape)| shape.iter().product::<usize>())
            .sum()
    }
}
