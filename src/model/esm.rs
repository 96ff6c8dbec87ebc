//! ESM-1b (Rives et al., PNAS 2021) and ESM-2 (Lin et al., Science 2023) in candle, ported from
//! fair-esm 2.0.0: `esm/model/esm1.py` (`ProteinBertModel`, arch `roberta_large`) and
//! `esm/model/esm2.py` (`ESM2`).
//!
//! Representation layers are numbered as in fair-esm: 0 is the embedding output, `i` the output
//! of block `i`, and `num_layers` the final block after `emb_layer_norm_after`.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use candle_nn::{Embedding, Module as _, VarBuilder};

use super::alphabet::{Alphabet, TokenBatch};
use super::attention::{RotaryTables, key_padding_bias};
use super::config::{Architecture, EsmConfig};
use super::contact_head::ContactHead;
use super::error::{ModelError, Result};
use super::linear::{LayerNorm, layer_norm};
use super::lm_head::LmHead;
use super::rotary::RotaryEmbedding;
use super::tensor_shapes::Heads;
use super::transformer_layer::TransformerLayer;

/// fair-esm's training mask ratio used to rescale embeddings (`0.15 * 0.8`).
const MASK_RATIO_TRAIN: f32 = 0.15 * 0.8;

/// What one forward pass should return. Layers a request does not need are not computed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardRequest {
    /// Representation layers in `0..=num_layers` (see [`super::Layers::resolve`]).
    pub repr_layers: Vec<usize>,
    /// Return LM logits.
    pub logits: bool,
    /// Return all attention maps.
    pub attentions: bool,
    /// Return contact probabilities (needs a contact head).
    pub contacts: bool,
    /// Checked before each layer: when raised the pass ends with [`ModelError::Stopped`]
    /// (a job's Cancel takes effect within one layer, not one batch).
    pub stop: Option<super::StopFlag>,
}

/// Results of a forward pass over a padded batch of `batch` rows of `seq_len` tokens
/// (BOS and EOS included).
#[derive(Debug, Clone)]
pub struct ForwardOutput {
    /// `(batch, seq_len, vocab)`.
    pub logits: Option<Tensor>,
    /// Layer → `(batch, seq_len, embed_dim)`.
    pub representations: BTreeMap<usize, Tensor>,
    /// `(batch, layers, heads, seq_len, seq_len)`, zero on padding rows/columns.
    pub attentions: Option<Tensor>,
    /// `(batch, seq_len - 2, seq_len - 2)`: residue-residue contact probabilities; for a row with
    /// `L` residues only the top-left `L x L` block is meaningful.
    pub contacts: Option<Tensor>,
}

/// Position information: learned absolute positions (ESM-1b) or rotary embeddings (ESM-2).
#[derive(Debug, Clone)]
enum Positions {
    Learned(Embedding),
    Rotary(RotaryEmbedding),
}

/// An ESM-1b or ESM-2 model with its LM head and (optionally) its contact head.
#[derive(Debug, Clone)]
pub struct EsmModel {
    config: EsmConfig,
    embed_tokens: Embedding,
    positions: Positions,
    emb_layer_norm_before: Option<LayerNorm>,
    layers: Vec<TransformerLayer>,
    emb_layer_norm_after: LayerNorm,
    lm_head: Option<LmHead>,
    contact_head: Option<ContactHead>,
    device: Device,
}

impl EsmModel {
    /// Builds the model from canonical fair-esm tensor names (`embed_tokens.weight`,
    /// `layers.0.self_attn.qkv_proj.weight` after [`super::attention::fuse_qkv`], …); `heads`
    /// says whether `lm_head.*` and `contact_head.regression.*` exist.
    pub fn new(config: EsmConfig, heads: Heads, vb: VarBuilder) -> candle_core::Result<Self> {
        let (e, eps) = (config.embed_dim, config.layer_norm_eps);
        let token_table = vb.get((Alphabet::SIZE, e), "embed_tokens.weight")?;
        let embed_tokens = Embedding::new(token_table.clone(), e);
        let positions = match config.architecture {
            Architecture::Esm1b => {
                let rows = config.position_rows().unwrap_or(0);
                Positions::Learned(Embedding::new(
                    vb.get((rows, e), "embed_positions.weight")?,
                    e,
                ))
            }
            Architecture::Esm2 => Positions::Rotary(RotaryEmbedding::new(config.head_dim())),
        };
        let emb_layer_norm_before = if config.emb_layer_norm_before {
            Some(layer_norm(e, eps, vb.pp("emb_layer_norm_before"))?)
        } else {
            None
        };
        let layers = (0..config.num_layers)
            .map(|i| TransformerLayer::new(&config, vb.pp(format!("layers.{i}"))))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let emb_layer_norm_after = layer_norm(e, eps, vb.pp("emb_layer_norm_after"))?;
        let lm_head = if heads.lm {
            Some(LmHead::new(
                e,
                Alphabet::SIZE,
                eps,
                token_table,
                vb.pp("lm_head"),
            )?)
        } else {
            None
        };
        let contact_head = if heads.contact {
            Some(ContactHead::new(
                config.num_layers * config.attention_heads,
                vb.pp("contact_head"),
            )?)
        } else {
            None
        };
        Ok(Self {
            config,
            embed_tokens,
            positions,
            emb_layer_norm_before,
            layers,
            emb_layer_norm_after,
            lm_head,
            contact_head,
            device: vb.device().clone(),
        })
    }

    /// Builds the model from canonical tensors as a [`super::Checkpoint`] holds them (separate
    /// `q_proj`/`k_proj`/`v_proj`, fused here). Tensors that carry a gradient graph (training
    /// variables) keep it, so a loss computed with the model back-propagates to them.
    pub fn from_tensors(
        config: EsmConfig,
        heads: Heads,
        mut tensors: std::collections::HashMap<String, Tensor>,
        device: &Device,
    ) -> candle_core::Result<Self> {
        for layer in 0..config.num_layers {
            super::attention::fuse_qkv(
                &mut tensors,
                &format!("layers.{layer}.self_attn"),
                config.head_dim(),
            )?;
        }
        let vb = VarBuilder::from_tensors(tensors, candle_core::DType::F32, device);
        Self::new(config, heads, vb)
    }

    /// LM-head logits for final-layer representations: `(..., embed_dim)` → `(..., vocab)`.
    pub fn lm_logits(&self, hidden: &Tensor) -> Result<Tensor> {
        let head = self.lm_head.as_ref().ok_or(ModelError::NoLmHead)?;
        Ok(head.forward(hidden)?)
    }

    /// The token embedding table `(vocab, embed_dim)` (tied to the LM head's output layer).
    pub fn token_embeddings(&self) -> &Tensor {
        self.embed_tokens.embeddings()
    }

    /// The hyperparameters.
    pub fn config(&self) -> &EsmConfig {
        &self.config
    }

    /// Whether logits can be predicted (Hugging Face `EsmModel` files have no LM head).
    pub fn has_lm_head(&self) -> bool {
        self.lm_head.is_some()
    }

    /// The checkpoint's contact regression, when it has one.
    pub fn contact_head(&self) -> Option<&ContactHead> {
        self.contact_head.as_ref()
    }

    /// This model with `head` as its contact head (the weights are shared, not copied).
    pub fn with_contact_head(&self, head: ContactHead) -> Self {
        Self {
            contact_head: Some(head),
            ..self.clone()
        }
    }

    /// Whether contacts can be predicted.
    pub fn has_contact_head(&self) -> bool {
        self.contact_head.is_some()
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Runs the model on a padded token batch. See [`ForwardRequest`] and [`ForwardOutput`].
    pub fn forward(&self, batch: &TokenBatch, request: &ForwardRequest) -> Result<ForwardOutput> {
        self.forward_visiting_attention(batch, request, None)
    }

    /// [`Self::forward`] that also hands each block's attention probabilities to `visit` as
    /// soon as they exist: `visit(block, probs)` with 0-based `block` and `probs` `(batch,
    /// heads, seq_len, seq_len)`, zero on padding rows/columns. Only one layer's maps are alive
    /// at a time (unless `request.attentions` keeps them all), which is what a per-head study
    /// of a 1,022-residue ESM-1b needs: 84 MB per layer instead of 2.8 GB.
    pub fn forward_with_attention(
        &self,
        batch: &TokenBatch,
        request: &ForwardRequest,
        visit: &mut dyn FnMut(usize, &Tensor) -> Result<()>,
    ) -> Result<ForwardOutput> {
        self.forward_visiting_attention(batch, request, Some(visit))
    }

    fn forward_visiting_attention(
        &self,
        batch: &TokenBatch,
        request: &ForwardRequest,
        mut visit: Option<&mut dyn FnMut(usize, &Tensor) -> Result<()>>,
    ) -> Result<ForwardOutput> {
        let (b, t) = (batch.batch_size, batch.max_len);
        let n = self.config.num_layers;
        self.check_request(request, t)?;
        let need_weights = request.attentions || request.contacts || visit.is_some();
        let run_all = request.logits || need_weights;
        let last_layer = if run_all {
            n
        } else {
            request.repr_layers.iter().copied().max().unwrap_or(0)
        };

        let tokens = Tensor::from_vec(batch.tokens.clone(), (b, t), &self.device)?;
        let mut xs = self.embed(batch, &tokens)?;
        let mut representations = BTreeMap::new();
        if request.repr_layers.contains(&0) {
            representations.insert(0, xs.clone());
        }
        let padding_bias = key_padding_bias(&batch.tokens, b, t, Alphabet::PAD, &self.device)?;
        let rotary_tables = match &self.positions {
            Positions::Rotary(rot) => Some(rot.tables(t, &self.device)?),
            Positions::Learned(_) => None,
        };
        let rotary = rotary_tables
            .as_ref()
            .map(|(cos, sin)| RotaryTables { cos, sin });
        let mut attention_maps = Vec::with_capacity(if request.attentions { n } else { 0 });
        // Padding rows and columns of attention maps are zeroed, as fair-esm does.
        let keep_pairs = match &padding_bias {
            Some(_) if need_weights => {
                let keep = not_padding(&batch.tokens, (b, 1, t), &self.device)?;
                Some(keep.transpose(1, 2)?.broadcast_mul(&keep)?.unsqueeze(1)?)
            }
            _ => None,
        };
        // Contact logits summed layer by layer: one layer's maps are alive at a time.
        let mut contact_logits: Option<Tensor> = None;
        let eos_pairs = if request.contacts {
            Some(ContactHead::eos_pair_mask(
                &batch.tokens,
                b,
                t,
                &self.device,
            )?)
        } else {
            None
        };
        let heads = self.config.attention_heads;
        for (i, layer) in self.layers.iter().enumerate().take(last_layer) {
            if request
                .stop
                .as_ref()
                .is_some_and(super::StopFlag::is_raised)
            {
                return Err(ModelError::Stopped);
            }
            let (out, probs) =
                layer.forward(&xs, padding_bias.as_ref(), rotary.as_ref(), need_weights)?;
            xs = out;
            if let Some(mut probs) = probs {
                if let Some(pairs) = &keep_pairs {
                    probs = probs.broadcast_mul(pairs)?;
                }
                if let (Some(head), Some(eos_pairs)) = (&self.contact_head, &eos_pairs) {
                    let part = head.partial_logits(&probs, i * heads, eos_pairs)?;
                    contact_logits = Some(match contact_logits {
                        Some(sum) => (sum + part)?,
                        None => part,
                    });
                }
                if let Some(visit) = visit.as_mut() {
                    visit(i, &probs)?;
                }
                if request.attentions {
                    attention_maps.push(probs);
                }
            }
            if i + 1 < n && request.repr_layers.contains(&(i + 1)) {
                representations.insert(i + 1, xs.clone());
            }
        }
        let mut output = ForwardOutput {
            logits: None,
            representations,
            attentions: None,
            contacts: None,
        };
        if last_layer == n {
            self.finish_last_layer(&xs, request, &mut output)?;
        }
        if let (Some(logits), Some(head)) = (&contact_logits, &self.contact_head) {
            output.contacts = Some(head.finish(logits)?);
        }
        if request.attentions {
            // (batch, layers, heads, t, t).
            let stacked = Tensor::cat(&attention_maps, 1)?;
            output.attentions = Some(stacked.reshape((b, n, heads, t, t))?);
        }
        Ok(output)
    }

    /// Refuses a request this model cannot answer: a layer beyond its depth, a head it lacks,
    /// or a token row (`t` tokens) longer than its positions.
    fn check_request(&self, request: &ForwardRequest, t: usize) -> Result<()> {
        let n = self.config.num_layers;
        if let Some(&bad) = request.repr_layers.iter().find(|&&l| l > n) {
            return Err(ModelError::InvalidRequest(format!(
                "representation layer {bad} is out of range for a {n}-layer model"
            )));
        }
        if request.contacts && self.contact_head.is_none() {
            return Err(ModelError::NoContactHead);
        }
        if request.logits && self.lm_head.is_none() {
            return Err(ModelError::NoLmHead);
        }
        if let Some(max) = self.config.max_positions
            && t > max
        {
            return Err(ModelError::InvalidRequest(format!(
                "token row of {t} (residues + BOS/EOS) exceeds the model's {max} positions"
            )));
        }
        Ok(())
    }

    /// After the last layer `xs` `(batch, seq_len, embed_dim)`: the final LayerNorm gives the
    /// last representation (kept when asked for) and the LM head's logits.
    fn finish_last_layer(
        &self,
        xs: &Tensor,
        request: &ForwardRequest,
        output: &mut ForwardOutput,
    ) -> Result<()> {
        let n = self.config.num_layers;
        let last = self.emb_layer_norm_after.forward(xs)?;
        if request.repr_layers.contains(&n) {
            output.representations.insert(n, last.clone());
        }
        if request.logits
            && let Some(head) = &self.lm_head
        {
            output.logits = Some(head.forward(&last)?);
        }
        Ok(())
    }

    /// Token embeddings, token-dropout rescaling, positions, optional LayerNorm and zeroed padding:
    /// `(batch, seq_len, embed_dim)`.
    fn embed(&self, batch: &TokenBatch, tokens: &Tensor) -> Result<Tensor> {
        let (b, t) = (batch.batch_size, batch.max_len);
        let mut xs = self.embed_tokens.forward(tokens)?;
        if self.config.token_dropout {
            xs = xs.broadcast_mul(&token_dropout_scale(batch, &self.device)?)?;
        }
        if let Positions::Learned(table) = &self.positions {
            let positions = Tensor::from_vec(learned_positions(batch), (b, t), &self.device)?;
            xs = (xs + table.forward(&positions)?)?;
            if let Some(ln) = &self.emb_layer_norm_before {
                xs = ln.forward(&xs)?;
            }
        }
        if batch.tokens.contains(&Alphabet::PAD) {
            xs = xs.broadcast_mul(&not_padding(&batch.tokens, (b, t, 1), &self.device)?)?;
        }
        Ok(xs)
    }
}

/// `(batch, seq_len, 1)` factors: 0 for `<mask>` tokens, else `(1 - 0.12) / (1 - masked / length)`
/// with `length` the row's non-padding tokens (fair-esm's inference-time token dropout).
fn token_dropout_scale(batch: &TokenBatch, device: &Device) -> candle_core::Result<Tensor> {
    let mut scale = Vec::with_capacity(batch.tokens.len());
    for row in 0..batch.batch_size {
        let toks = batch.row(row);
        let length = toks.iter().filter(|&&x| x != Alphabet::PAD).count() as f32;
        let masked = toks.iter().filter(|&&x| x == Alphabet::MASK).count() as f32;
        let row_scale = (1.0 - MASK_RATIO_TRAIN) / (1.0 - masked / length);
        scale.extend(
            toks.iter()
                .map(|&x| if x == Alphabet::MASK { 0.0 } else { row_scale }),
        );
    }
    Tensor::from_vec(scale, (batch.batch_size, batch.max_len, 1), device)
}

/// fairseq's `make_positions`: `cumsum(non-pad) * non-pad + padding_idx`, so the first real
/// token is at `padding_idx + 1` and padding maps to row `padding_idx`.
fn learned_positions(batch: &TokenBatch) -> Vec<u32> {
    let mut positions = Vec::with_capacity(batch.tokens.len());
    for row in 0..batch.batch_size {
        let mut count = 0;
        for &tok in batch.row(row) {
            if tok == Alphabet::PAD {
                positions.push(Alphabet::PAD);
            } else {
                count += 1;
                positions.push(Alphabet::PAD + count);
            }
        }
    }
    positions
}

/// 1.0 for real tokens, 0.0 for padding, shaped `shape` (which must hold `tokens.len()` values).
fn not_padding(
    tokens: &[u32],
    shape: (usize, usize, usize),
    device: &Device,
) -> candle_core::Result<Tensor> {
    let keep: Vec<f32> = tokens
        .iter()
        .map(|&x| if x == Alphabet::PAD { 0.0 } else { 1.0 })
        .collect();
    Tensor::from_vec(keep, shape, device)
}
