//! One head's map of one chain, for drawing over its true contacts: the head's symmetrised,
//! APC-corrected attention map and, in the same forward pass, the checkpoint's own contact
//! head's probabilities when it has one. Only the chosen layer's maps are read out; the chain
//! is cut to the model's limit as the heads screen cuts it ([`super::heads_study`]).

use candle_core::Tensor;

use super::batch_maps::head_maps;
use super::contact_head_run::{CONTACT_THRESHOLD_ANGSTROM, truncate};
use super::study_error::StudyError;
use crate::data::{ContactMap, ProteinChain};
use crate::jobs::JobCtx;
use crate::model::{ContactHead, ForwardRequest, LoadedModel, TokenBatch};

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
}

/// Computes [`HeadOverlay`] of `chain` for `head` of `layer` (1-based) with one forward pass.
pub fn head_overlay(
    model: &LoadedModel,
    chain: &ProteinChain,
    (layer, head): (usize, usize),
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
    let mut head_map = None;
    let mut visit = |block: usize, probs: &Tensor| -> crate::model::Result<()> {
        if block + 1 == layer {
            let one = probs.narrow(1, head, 1)?;
            head_map = Some(head_maps(&one, &eos_pairs)?.0);
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
        let overlay = head_overlay(&model, chain, (2, 1), &JobCtx::default())?;
        assert_eq!(overlay.sequence.len(), study.scored_residues[0]);
        let want = study.score(false, 2, 1).ok_or("no score")?.precision;
        let got = ChainPairs::new(&overlay.truth).precision(&overlay.head_map);
        assert_eq!(got, want);
        let contacts = overlay
            .contact_head
            .ok_or("the fixture has a contact head")?;
        assert_eq!(contacts.len(), overlay.sequence.len().pow(2));
        assert!(head_overlay(&model, chain, (0, 0), &JobCtx::default()).is_err());
        assert!(head_overlay(&model, chain, (1, 99), &JobCtx::default()).is_err());
        Ok(())
    }
}
