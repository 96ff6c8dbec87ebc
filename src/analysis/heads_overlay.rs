//! One head's map of one chain, for drawing over its true contacts: the head's symmetrised,
//! APC-corrected attention map and, in the same forward pass, the checkpoint's own contact
//! head's probabilities when it has one and the refitted all-heads regression's when given. Only the chosen layer's maps are read out; the chain
//! is cut to the model's limit as the heads screen cuts it ([`super::heads_study`]).

use candle_core::Tensor;

use super::batch_maps::{BatchMaps, head_maps};
use super::contact_head_run::{CONTACT_THRESHOLD_ANGSTROM, truncate};
use super::study_error::StudyError;
use crate::data::{ContactMap, ProteinChain};
use crate::jobs::JobCtx;
use crate::model::{ContactHead, ForwardRequest, LoadedModel, TokenBatch};
use crate::probes::AttentionRegression;

/// One head's map of one chain and the model's own contact map.
#[derive(Debug, Clone)]
pub struct HeadOverlay {
    /// The chain's id.
    pub chain_id: String,
    /// Its residues as scored (the first `limit`).
    pub sequence: String,
    /// Layer (1-based block) and head (0-based).
    pub layer: usize,
    /// See [`Self::layer`].
    pub head: usize,
    /// True contacts of the residues scored (Cβ < 8 Å), distances dropped.
    pub truth: ContactMap,
    /// The head's APC-corrected map, row-major `L x L` (not probabilities: rank them).
    pub head_map: Vec<f32>,
    /// The checkpoint's contact head's probabilities, row-major `L x L` (`None` without one).
    pub contact_head: Option<Vec<f32>>,
    /// The all-heads regression's probabilities, row-major `L x L` (`None` when none was
    /// given).
    pub regression: Option<Vec<f32>>,
}

/// Computes [`HeadOverlay`] of `chain` for `head` of `layer` (1-based) with one forward pass,
/// with `regression`'s map when given (fitted for this model's layers and heads).
pub fn head_overlay(
    model: &LoadedModel,
    chain: &ProteinChain,
    (layer, head): (usize, usize),
    regression: Option<&AttentionRegression>,
    ctx: &JobCtx,
) -> Result<HeadOverlay, StudyError> {
    let config = model.model.config();
    if layer == 0 || layer > config.num_layers || head >= config.attention_heads {
        return Err(StudyError::Empty(format!(
            "{} has no layer {layer}, head {} (layers 1 to {}, heads 1 to {})",
            model.name,
            head + 1,
            config.num_layers,
            config.attention_heads
        )));
    }
    let len = chain.sequence.len().min(config.max_residues());
    let sequence = &chain.sequence[..len];
    let batch = TokenBatch::encode([(chain.id.as_str(), sequence)])?;
    let eos_pairs =
        ContactHead::eos_pair_mask(&batch.tokens, 1, batch.max_len, model.model.device())?;
    let request = ForwardRequest {
        contacts: model.model.has_contact_head(),
        stop: Some(ctx.stop_flag()),
        ..ForwardRequest::default()
    };
    if let Some(r) = regression
        && (r.layers, r.heads) != (config.num_layers, config.attention_heads)
    {
        return Err(StudyError::Empty(format!(
            "the regression was fitted for {} layers x {} heads, not {}'s {} x {}",
            r.layers, r.heads, model.name, config.num_layers, config.attention_heads
        )));
    }
    let mut head_map = None;
    let mut logits = vec![0f32; len * len];
    let mut visit = |block: usize, probs: &Tensor| -> crate::model::Result<()> {
        if block + 1 == layer {
            let one = probs.narrow(1, head, 1)?;
            head_map = Some(head_maps(&one, &eos_pairs)?.0);
        }
        if let Some(regression) = regression {
            let maps = BatchMaps::of(probs, &eos_pairs)?;
            let apc = |h: usize, i: usize, j: usize| maps.apc_at(0, h, (i, j));
            regression.add_layer(block, apc, &mut logits, len);
        }
        Ok(())
    };
    let output = model
        .model
        .forward_with_attention(&batch, &request, &mut visit)
        .map_err(StudyError::from_forward)?;
    let contact_head = match output.contacts {
        Some(contacts) => Some(contacts.flatten_all()?.to_vec1::<f32>()?),
        None => None,
    };
    let mut truth = truncate(&chain.contact_map(CONTACT_THRESHOLD_ANGSTROM), len);
    truth.distances = Vec::new();
    ctx.checkpoint(1.0)?;
    Ok(HeadOverlay {
        chain_id: chain.id.clone(),
        sequence: sequence.to_owned(),
        layer,
        head,
        truth,
        head_map: head_map
            .ok_or_else(|| StudyError::Empty(format!("layer {layer} gave no attention")))?,
        contact_head,
        regression: regression.map(|r| r.probabilities(&logits)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::read_backbone_json;
    use crate::probes::ChainPairs;

    /// The overlay's head map scores as the heads screen scored that head on that chain.
    #[test]
    fn the_overlay_map_is_the_head_the_screen_scored() -> Result<(), Box<dyn std::error::Error>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let model = LoadedModel::load(
            &root.join("tests/fixtures/esm1b_tiny_t2.pt"),
            &candle_core::Device::Cpu,
        )?;
        let chains = read_backbone_json(&root.join("datasets/demo/structures.json"))?;
        let chain = &chains[1];
        let request = super::super::heads_study::HeadsStudyRequest {
            chains: vec![chain.clone()],
            ..super::super::heads_study::HeadsStudyRequest::from_structures(&[
                root.join("datasets/demo/structures.json")
            ])?
        };
        let study =
            super::super::heads_study::run_heads_study(&model, &request, &JobCtx::default())?;
        // The checkpoint's own head as a regression draws the checkpoint head's map.
        let own = AttentionRegression::of_model(&model.model)?.ok_or("fixture head")?;
        let overlay = head_overlay(&model, chain, (2, 1), Some(&own), &JobCtx::default())?;
        assert_eq!(overlay.sequence.len(), study.scored_residues[0]);
        let want = study.score(false, 2, 1).ok_or("no score")?.precision;
        let got = ChainPairs::new(&overlay.truth).precision(&overlay.head_map);
        assert_eq!(got, want);
        let contacts = overlay
            .contact_head
            .ok_or("the fixture has a contact head")?;
        assert_eq!(contacts.len(), overlay.sequence.len().pow(2));
        let by_regression = overlay.regression.ok_or("the regression's map")?;
        let worst = by_regression
            .iter()
            .zip(&contacts)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst < 1e-5,
            "regression map differs from the contact head by {worst}"
        );
        let none = head_overlay(&model, chain, (0, 0), None, &JobCtx::default());
        assert!(none.is_err());
        assert!(head_overlay(&model, chain, (1, 99), None, &JobCtx::default()).is_err());
        let wrong = AttentionRegression::new(1, 1, vec![1.0], 0.0).ok_or("shape")?;
        assert!(head_overlay(&model, chain, (1, 0), Some(&wrong), &JobCtx::default()).is_err());
        Ok(())
    }
}
