//! Reading ESM weights from the formats people have, into one canonical form: fair-esm's
//! module names after `esm/pretrained.py` upgrades them (`embed_tokens.weight`,
//! `layers.0.self_attn.q_proj.weight`, `contact_head.regression.weight`, …).
//!
//! Supported:
//! - fair-esm `.pt` (torch zip format): `{"args", "model"}` for ESM-1b/ESM-1v,
//!   `{"cfg", "model"}` for ESM-2, with fairseq key names; the contact regression comes from
//!   `<stem>-contact-regression.pt` beside the file, as fair-esm's `load_model_and_alphabet_local`.
//! - Hugging Face `EsmModel` / `EsmForMaskedLM`: a folder (or its `model.safetensors`) with
//!   `config.json` and `model.safetensors` or `pytorch_model.bin`.
//! - The workbench's own safetensors: canonical names plus the config in the file's metadata.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

use super::alphabet::Alphabet;
use super::config::{Architecture, EsmConfig};
use super::error::{ModelError, Result};
use super::pickle_meta::{self, Attributes, MetaValue};
use super::pth::PthFile;
use super::safetensors_file;
use super::tensor_shapes::{Heads, expected_shapes};

/// Metadata key under which the workbench stores its [`EsmConfig`] in a safetensors file.
pub const CONFIG_METADATA_KEY: &str = "esm_workbench_config";

/// The on-disk format a checkpoint was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckpointFormat {
    /// A fair-esm / fairseq `.pt` file.
    FairEsmPt,
    /// A Hugging Face `EsmModel` folder or safetensors file.
    HuggingFace,
    /// The workbench's own safetensors.
    Workbench,
}

impl std::fmt::Display for CheckpointFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::FairEsmPt => "fair-esm .pt",
            Self::HuggingFace => "Hugging Face safetensors",
            Self::Workbench => "workbench safetensors",
        })
    }
}

/// Weights in canonical names with their hyperparameters, before a model is built.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// Hyperparameters read from the file.
    pub config: EsmConfig,
    /// Canonical name → tensor (any float dtype; converted to f32 when the model is built).
    pub tensors: HashMap<String, Tensor>,
    /// Where the weights came from.
    pub source: CheckpointSource,
}

/// Provenance of a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointSource {
    /// File or folder the user opened.
    pub path: PathBuf,
    /// Its format.
    pub format: CheckpointFormat,
    /// The separate contact-regression file, when one was merged in.
    pub contact_regression_path: Option<PathBuf>,
    /// Tensors in the file that the architecture does not use.
    pub ignored_tensors: Vec<String>,
}

impl CheckpointSource {
    /// `path` read as `format`, with nothing ignored yet.
    fn new(
        path: &Path,
        format: CheckpointFormat,
        contact_regression_path: Option<PathBuf>,
    ) -> Self {
        Self {
            path: path.to_owned(),
            format,
            contact_regression_path,
            ignored_tensors: vec![],
        }
    }
}

impl Checkpoint {
    /// Which optional heads are present (`contact_head.regression.*`, `lm_head.dense.*`).
    pub fn heads(&self) -> Heads {
        Heads {
            lm: self.tensors.contains_key("lm_head.dense.weight"),
            contact: self.tensors.contains_key("contact_head.regression.weight")
                && self.tensors.contains_key("contact_head.regression.bias"),
        }
    }

    /// Reads any supported format, detected from the path and the file's first bytes.
    pub fn read(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return read_huggingface_dir(path);
        }
        let mut magic = [0u8; 9];
        let read = File::open(path)
            .and_then(|mut f| f.read(&mut magic))
            .map_err(|source| ModelError::Io {
                path: path.to_owned(),
                source,
            })?;
        let magic = &magic[..read];
        if magic.starts_with(b"PK") {
            return read_fair_esm_pt(path);
        }
        // Legacy torch.save: pickle protocol 2 (0x80 0x02) opening with a LONG1 magic number.
        if magic.starts_with(&[0x80, 0x02, 0x8a, 0x0a]) {
            return Err(not_a_checkpoint(
                path,
                "legacy (torch < 1.6) pickle checkpoint: load it in Python and re-save it with torch.save (zip format)",
            ));
        }
        // safetensors: an 8-byte little-endian header length, then the JSON header.
        if read == 9 && magic[8] == b'{' {
            let header = safetensors_file::read_header(path)?;
            if let Some(config) = header.metadata.get(CONFIG_METADATA_KEY) {
                return read_workbench_safetensors(path, config, &header);
            }
            let config_json = path.with_file_name("config.json");
            if config_json.exists() {
                return read_huggingface(path, &config_json, path);
            }
            return Err(not_a_checkpoint(
                path,
                "safetensors file without an ESM config (no workbench metadata, no config.json beside it)",
            ));
        }
        Err(not_a_checkpoint(
            path,
            "not a model checkpoint: neither a PyTorch file written by torch.save (a zip archive) nor a safetensors file",
        ))
    }

    /// Checks every tensor the architecture needs exists with the right shape.
    pub fn validate(&self) -> Result<()> {
        let path = &self.source.path;
        self.config
            .validate()
            .map_err(|reason| ModelError::BadConfig {
                reason,
                path: path.clone(),
            })?;
        for (name, expected) in expected_shapes(&self.config, self.heads()) {
            let tensor = self
                .tensors
                .get(&name)
                .ok_or_else(|| ModelError::MissingTensor {
                    name: name.clone(),
                    found: self.tensors.len(),
                    path: path.clone(),
                })?;
            if tensor.dims() != expected.as_slice() {
                return Err(ModelError::WrongShape {
                    name,
                    actual: tensor.dims().to_vec(),
                    expected,
                    path: path.clone(),
                });
            }
        }
        Ok(())
    }

    /// A content fingerprint of the weights (hex SHA-256 over the config, and for every tensor its
    /// name, shape, a sum and its first and last 256 values). Identical weights in any file format
    /// give the same fingerprint; it keys the embedding cache. Reads each tensor once, cheaply.
    pub fn fingerprint(&self) -> Result<String> {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(serde_json::to_vec(&self.config).unwrap_or_default());
        for (name, _) in expected_shapes(&self.config, self.heads()) {
            let Some(tensor) = self.tensors.get(&name) else {
                continue;
            };
            let flat = tensor.to_dtype(DType::F32)?.flatten_all()?;
            let n = flat.elem_count();
            let head = flat.narrow(0, 0, n.min(256))?.to_vec1::<f32>()?;
            let tail = flat
                .narrow(0, n.saturating_sub(256), n.min(256))?
                .to_vec1::<f32>()?;
            let sum = flat.sum_all()?.to_scalar::<f32>()?;
            hasher.update(name.as_bytes());
            for d in tensor.dims() {
                hasher.update((*d as u64).to_le_bytes());
            }
            for v in head.iter().chain(&tail).chain(std::iter::once(&sum)) {
                hasher.update(v.to_le_bytes());
            }
        }
        Ok(hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }

    /// Number of parameters the model will hold (tied embeddings counted once).
    pub fn parameter_count(&self) -> usize {
        expected_shapes(&self.config, self.heads())
            .iter()
            .map(|(_, shape)| shape.iter().product::<usize>())
            .sum()
    }

    /// Writes the workbench's own safetensors (canonical names, f32, config in the metadata).
    pub fn save_workbench_safetensors(&self, path: &Path) -> Result<()> {
        let mut tensors = Vec::new();
        for (name, _) in expected_shapes(&self.config, self.heads()) {
            if let Some(t) = self.tensors.get(&name) {
                tensors.push((name, t.to_dtype(DType::F32)?));
            }
        }
        let config = serde_json::to_string(&self.config)
            .map_err(|e| ModelError::InvalidRequest(format!("cannot serialise config: {e}")))?;
        let metadata = HashMap::from([(CONFIG_METADATA_KEY.to_owned(), config)]);
        let views: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        crate::atomic_write::write_atomic_at(path, |partial| {
            safetensors::tensor::serialize_to_file(views, Some(metadata), partial)
                .map_err(std::io::Error::other)
        })
        .map_err(|e| ModelError::Write {
            path: e.path,
            source: e.source,
        })
    }
}

fn not_a_checkpoint(path: &Path, reason: &str) -> ModelError {
    ModelError::NotACheckpoint {
        reason: reason.to_owned(),
        path: path.to_owned(),
    }
}

fn bad_config(path: &Path, reason: impl Into<String>) -> ModelError {
    ModelError::BadConfig {
        reason: reason.into(),
        path: path.to_owned(),
    }
}

/// Canonical names that the architecture does not use but that are expected in real files.
fn is_benign_extra(name: &str) -> bool {
    name == "lm_head.weight" || name.ends_with("rot_emb.inv_freq") || name.ends_with(".version")
}

/// Records tensors outside the architecture as ignored (sorted, benign ones skipped), with the
/// entries that could not be read at all, and validates.
fn finish(mut checkpoint: Checkpoint, unreadable: Vec<String>) -> Result<Checkpoint> {
    let expected: std::collections::HashSet<String> =
        expected_shapes(&checkpoint.config, Heads::ALL)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
    let mut ignored: Vec<String> = checkpoint
        .tensors
        .keys()
        .filter(|n| !expected.contains(*n) && !is_benign_extra(n))
        .cloned()
        .chain(unreadable)
        .collect();
    ignored.sort();
    checkpoint.source.ignored_tensors = ignored;
    checkpoint.validate()?;
    Ok(checkpoint)
}

// ---------------------------------------------------------------------------------------------
// fair-esm .pt

/// fair-esm's `_load_model_and_alphabet_core_v1` key upgrade for `roberta_large`:
/// drop everything up to `sentence_encoder.`, then up to `encoder.`.
fn upgrade_esm1b_name(name: &str) -> String {
    let strip = |s: &str, marker: &str, needle: &str| -> String {
        if s.contains(needle) {
            s.split(marker).skip(1).collect::<String>()
        } else {
            s.to_owned()
        }
    };
    let s = strip(name, "sentence_encoder.", "sentence_encoder");
    strip(&s, "encoder.", "encoder")
}

/// fair-esm's `_load_model_and_alphabet_core_v2` upgrade: strip a leading
/// `encoder.sentence_encoder.` or `encoder.`.
fn upgrade_esm2_name(name: &str) -> String {
    name.strip_prefix("encoder.sentence_encoder.")
        .or_else(|| name.strip_prefix("encoder."))
        .unwrap_or(name)
        .to_owned()
}

fn get_usize(attrs: &Attributes, keys: &[&str], path: &Path) -> Result<usize> {
    keys.iter()
        .find_map(|k| attrs.get(*k).and_then(MetaValue::as_usize))
        .ok_or_else(|| bad_config(path, format!("missing integer hyperparameter {}", keys[0])))
}

fn get_bool(attrs: &Attributes, keys: &[&str]) -> bool {
    keys.iter()
        .find_map(|k| attrs.get(*k).and_then(MetaValue::as_bool))
        .unwrap_or(false)
}

/// Renames a state-dict key of a fair-esm checkpoint to the workbench's.
type KeyUpgrade = fn(&str) -> String;

/// A fair-esm checkpoint's architecture from its pickled top level `top`: ESM-1b/ESM-1v from
/// the `args` Namespace (fairseq's `roberta_large`), ESM-2 from `cfg.model`; with the function
/// that renames the state dict's keys to the workbench's.
fn fair_esm_config(
    path: &Path,
    top: &[(&str, &candle_core::pickle::Object)],
) -> Result<(EsmConfig, KeyUpgrade)> {
    let entry = |key: &str| top.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    if let Some(args) = entry("args") {
        let attrs = pickle_meta::attributes(args).ok_or_else(|| {
            bad_config(
                path,
                format!(
                    "`args` is a {}, not a Namespace",
                    pickle_meta::describe(args)
                ),
            )
        })?;
        let arch = match attrs.get("arch") {
            Some(MetaValue::Str(s)) => s.clone(),
            _ => return Err(bad_config(path, "`args.arch` is missing")),
        };
        if arch != "roberta_large" {
            return Err(bad_config(
                path,
                format!(
                    "architecture {arch:?} is not supported (ESM-1b/ESM-1v `roberta_large` and ESM-2 are)"
                ),
            ));
        }
        let config = EsmConfig {
            architecture: Architecture::Esm1b,
            num_layers: get_usize(&attrs, &["encoder_layers", "layers"], path)?,
            embed_dim: get_usize(&attrs, &["encoder_embed_dim", "embed_dim"], path)?,
            ffn_embed_dim: get_usize(&attrs, &["encoder_ffn_embed_dim", "ffn_embed_dim"], path)?,
            attention_heads: get_usize(
                &attrs,
                &["encoder_attention_heads", "attention_heads"],
                path,
            )?,
            max_positions: Some(get_usize(&attrs, &["max_positions"], path)?),
            token_dropout: get_bool(&attrs, &["token_dropout"]),
            emb_layer_norm_before: false, // decided by the tensors below, as fair-esm does
            layer_norm_eps: 1e-5,
        };
        Ok((config, upgrade_esm1b_name))
    } else if let Some(cfg) = entry("cfg") {
        let model = pickle_meta::child(cfg, "model")
            .ok_or_else(|| bad_config(path, "`cfg` has no `model` section"))?;
        let attrs = pickle_meta::attributes(model)
            .ok_or_else(|| bad_config(path, "`cfg.model` is not a Namespace"))?;
        let embed_dim = get_usize(&attrs, &["encoder_embed_dim"], path)?;
        let config = EsmConfig {
            architecture: Architecture::Esm2,
            num_layers: get_usize(&attrs, &["encoder_layers"], path)?,
            embed_dim,
            ffn_embed_dim: 4 * embed_dim,
            attention_heads: get_usize(&attrs, &["encoder_attention_heads"], path)?,
            max_positions: None,
            token_dropout: get_bool(&attrs, &["token_dropout"]),
            emb_layer_norm_before: false,
            layer_norm_eps: 1e-5,
        };
        Ok((config, upgrade_esm2_name))
    } else {
        let keys: Vec<&str> = top.iter().map(|(k, _)| *k).collect();
        Err(not_a_checkpoint(
            path,
            &format!("no `args` or `cfg` entry (keys: {keys:?}), not a fair-esm checkpoint"),
        ))
    }
}

fn read_fair_esm_pt(path: &Path) -> Result<Checkpoint> {
    let pth = PthFile::open(path)?;
    let top =
        pickle_meta::top_level(pth.root()).map_err(|reason| not_a_checkpoint(path, &reason))?;
    let (config, upgrade) = fair_esm_config(path, &top)?;
    let (mut tensors, mut unreadable) = read_state_dict(&pth, Some("model"), upgrade)?;
    drop(pth);
    let regression_path = PathBuf::from(format!(
        "{}-contact-regression.pt",
        path.with_extension("").display()
    ));
    let contact_regression_path = if regression_path.exists() {
        let (regression, skipped) =
            read_state_dict(&PthFile::open(&regression_path)?, Some("model"), upgrade)?;
        tensors.extend(regression);
        unreadable.extend(skipped);
        Some(regression_path)
    } else {
        None
    };
    let mut config = config;
    if config.architecture == Architecture::Esm1b {
        config.emb_layer_norm_before = tensors
            .keys()
            .any(|k| k.starts_with("emb_layer_norm_before"));
        // fair-esm zeroes the <mask> row in place ("For token drop"); the tied LM head shares it.
        if let Some(table) = tensors.get("embed_tokens.weight") {
            let zeroed = zero_row(table, Alphabet::MASK as usize)?;
            tensors.insert("embed_tokens.weight".into(), zeroed);
        }
    }
    finish(
        Checkpoint {
            config,
            tensors,
            source: CheckpointSource::new(
                path,
                CheckpointFormat::FairEsmPt,
                contact_regression_path,
            ),
        },
        unreadable,
    )
}

/// Reads the tensors of the state dict stored under `key` (or at the top level) of a torch
/// file, renaming each with `upgrade`; only those tensors are read from disk. Returns them and
/// the entries that could not be read (`name (reason)`). Fails when the dict holds no tensors.
pub(super) fn read_state_dict(
    pth: &PthFile,
    key: Option<&str>,
    upgrade: fn(&str) -> String,
) -> Result<(HashMap<String, Tensor>, Vec<String>)> {
    let entries = pth.state_dict(key)?;
    if entries.is_empty() {
        return Err(not_a_checkpoint(
            pth.path(),
            &format!("no tensors found under key {key:?}"),
        ));
    }
    let mut tensors = HashMap::with_capacity(entries.len());
    let mut unreadable = Vec::new();
    for (name, info) in entries {
        match info {
            Ok(info) => {
                tensors.insert(upgrade(&name), pth.read_tensor(&info)?);
            }
            Err(reason) => unreadable.push(format!("{name} ({reason})")),
        }
    }
    Ok((tensors, unreadable))
}

/// `table` with row `row` set to zero.
fn zero_row(table: &Tensor, row: usize) -> Result<Tensor> {
    let (rows, cols) = table.dims2()?;
    let mut parts = Vec::with_capacity(3);
    if row > 0 {
        parts.push(table.narrow(0, 0, row)?);
    }
    parts.push(Tensor::zeros((1, cols), table.dtype(), table.device())?);
    if row + 1 < rows {
        parts.push(table.narrow(0, row + 1, rows - row - 1)?);
    }
    Ok(Tensor::cat(&parts, 0)?)
}

// ---------------------------------------------------------------------------------------------
// safetensors (Hugging Face and workbench)

fn read_workbench_safetensors(
    path: &Path,
    config_json: &str,
    header: &safetensors_file::SafetensorsHeader,
) -> Result<Checkpoint> {
    let config: EsmConfig = serde_json::from_str(config_json)
        .map_err(|e| bad_config(path, format!("cannot parse {CONFIG_METADATA_KEY}: {e}")))?;
    let (tensors, unreadable) = safetensors_file::load(path, header)?;
    finish(
        Checkpoint {
            config,
            tensors,
            source: CheckpointSource::new(path, CheckpointFormat::Workbench, None),
        },
        unreadable,
    )
}

/// The parts of a Hugging Face `EsmConfig` (`config.json`) we need.
#[derive(Debug, Deserialize)]
struct HfConfig {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: Option<usize>,
    #[serde(default = "absolute")]
    position_embedding_type: String,
    #[serde(default)]
    token_dropout: bool,
    #[serde(default)]
    emb_layer_norm_before: Option<bool>,
    #[serde(default)]
    layer_norm_eps: Option<f64>,
    #[serde(default)]
    vocab_size: Option<usize>,
}

fn absolute() -> String {
    "absolute".into()
}

fn read_huggingface_dir(dir: &Path) -> Result<Checkpoint> {
    let config_json = dir.join("config.json");
    if config_json.exists() {
        for weights in ["model.safetensors", "pytorch_model.bin"] {
            let file = dir.join(weights);
            if file.exists() {
                return read_huggingface(&file, &config_json, dir);
            }
        }
    }
    // A workbench model folder (the bundled starter's): one .safetensors carrying its config.
    match safetensors_in(dir).as_slice() {
        [one] => Checkpoint::read(one),
        [] => Err(not_a_checkpoint(
            dir,
            "folder without a model: no Hugging Face config.json with model.safetensors or pytorch_model.bin, and no workbench .safetensors",
        )),
        several => Err(not_a_checkpoint(
            dir,
            &format!(
                "folder with {} .safetensors files and no model.safetensors: name the file to load",
                several.len()
            ),
        )),
    }
}

/// The `.safetensors` files directly in `dir`, sorted.
fn safetensors_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    files
}

/// Maps a Hugging Face ESM tensor name to the canonical one (`None`: not part of the model).
fn hf_to_canonical(name: &str) -> Option<String> {
    let name = name.strip_prefix("esm.").unwrap_or(name);
    // Older BERT-style files (and transformers 5 on save) name LayerNorm parameters gamma/beta.
    let renamed = name
        .strip_suffix(".gamma")
        .map(|stem| format!("{stem}.weight"))
        .or_else(|| {
            name.strip_suffix(".beta")
                .map(|stem| format!("{stem}.bias"))
        });
    let name = renamed.as_deref().unwrap_or(name);
    if let Some(rest) = name.strip_prefix("encoder.layer.") {
        let (idx, rest) = rest.split_once('.')?;
        let mapped = [
            ("attention.self.query.", "self_attn.q_proj."),
            ("attention.self.key.", "self_attn.k_proj."),
            ("attention.self.value.", "self_attn.v_proj."),
            ("attention.output.dense.", "self_attn.out_proj."),
            ("attention.LayerNorm.", "self_attn_layer_norm."),
            ("intermediate.dense.", "fc1."),
            ("output.dense.", "fc2."),
            ("LayerNorm.", "final_layer_norm."),
        ]
        .iter()
        .find_map(|(from, to)| rest.strip_prefix(from).map(|param| format!("{to}{param}")))?;
        return Some(format!("layers.{idx}.{mapped}"));
    }
    let simple = [
        ("embeddings.word_embeddings.", "embed_tokens."),
        ("embeddings.position_embeddings.", "embed_positions."),
        ("embeddings.layer_norm.", "emb_layer_norm_before."),
        ("encoder.emb_layer_norm_after.", "emb_layer_norm_after."),
        ("contact_head.", "contact_head."),
        ("lm_head.dense.", "lm_head.dense."),
        ("lm_head.layer_norm.", "lm_head.layer_norm."),
        ("lm_head.decoder.weight", "lm_head.weight"),
    ];
    if name == "lm_head.bias" {
        return Some(name.to_owned());
    }
    simple
        .iter()
        .find_map(|(from, to)| name.strip_prefix(from).map(|rest| format!("{to}{rest}")))
}

fn read_huggingface(weights: &Path, config_json: &Path, shown_path: &Path) -> Result<Checkpoint> {
    let text = std::fs::read_to_string(config_json).map_err(|source| ModelError::Io {
        path: config_json.to_owned(),
        source,
    })?;
    let hf: HfConfig = serde_json::from_str(&text)
        .map_err(|e| bad_config(config_json, format!("not an ESM config.json: {e}")))?;
    if hf.vocab_size.is_some_and(|v| v != Alphabet::SIZE) {
        return Err(bad_config(
            config_json,
            format!(
                "vocab_size {:?} is not the ESM alphabet's 33",
                hf.vocab_size
            ),
        ));
    }
    let architecture = match hf.position_embedding_type.as_str() {
        "absolute" => Architecture::Esm1b,
        "rotary" => Architecture::Esm2,
        other => {
            return Err(bad_config(
                config_json,
                format!("position_embedding_type {other:?} is not supported"),
            ));
        }
    };
    let (raw, unreadable) = if weights.extension().is_some_and(|e| e == "bin") {
        read_state_dict(&PthFile::open(weights)?, None, str::to_owned)?
    } else {
        safetensors_file::load(weights, &safetensors_file::read_header(weights)?)?
    };
    let mut tensors = HashMap::with_capacity(raw.len());
    let mut unmapped = Vec::new();
    for (name, tensor) in raw {
        match hf_to_canonical(&name) {
            Some(canonical) => {
                tensors.insert(canonical, tensor);
            }
            None => unmapped.push(name),
        }
    }
    let max_positions = match architecture {
        Architecture::Esm1b => Some(
            hf.max_position_embeddings
                .ok_or_else(|| bad_config(config_json, "max_position_embeddings is missing"))?
                .saturating_sub(Alphabet::PAD as usize + 1),
        ),
        Architecture::Esm2 => None,
    };
    let config = EsmConfig {
        architecture,
        num_layers: hf.num_hidden_layers,
        embed_dim: hf.hidden_size,
        ffn_embed_dim: hf.intermediate_size,
        attention_heads: hf.num_attention_heads,
        max_positions,
        token_dropout: hf.token_dropout,
        emb_layer_norm_before: architecture == Architecture::Esm1b
            && hf.emb_layer_norm_before.unwrap_or(false),
        layer_norm_eps: hf.layer_norm_eps.unwrap_or(1e-5),
    };
    let mut checkpoint = finish(
        Checkpoint {
            config,
            tensors,
            source: CheckpointSource::new(shown_path, CheckpointFormat::HuggingFace, None),
        },
        unreadable,
    )?;
    unmapped.retain(|n| !n.ends_with("inv_freq"));
    checkpoint.source.ignored_tensors.extend(unmapped);
    checkpoint.source.ignored_tensors.sort();
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esm1b_names_are_upgraded_like_fair_esm() {
        assert_eq!(
            upgrade_esm1b_name("encoder.sentence_encoder.layers.0.self_attn.k_proj.weight"),
            "layers.0.self_attn.k_proj.weight"
        );
        assert_eq!(
            upgrade_esm1b_name("encoder.lm_head.dense.weight"),
            "lm_head.dense.weight"
        );
        assert_eq!(
            upgrade_esm1b_name("contact_head.regression.weight"),
            "contact_head.regression.weight"
        );
    }

    #[test]
    fn esm2_names_are_upgraded_like_fair_esm() {
        assert_eq!(
            upgrade_esm2_name("encoder.sentence_encoder.embed_tokens.weight"),
            "embed_tokens.weight"
        );
        assert_eq!(upgrade_esm2_name("encoder.lm_head.bias"), "lm_head.bias");
    }

    #[test]
    fn hf_names_map_to_canonical() {
        assert_eq!(
            hf_to_canonical("esm.encoder.layer.3.attention.self.query.weight").as_deref(),
            Some("layers.3.self_attn.q_proj.weight")
        );
        assert_eq!(
            hf_to_canonical("esm.encoder.layer.0.LayerNorm.bias").as_deref(),
            Some("layers.0.final_layer_norm.bias")
        );
        assert_eq!(
            hf_to_canonical("encoder.layer.0.output.dense.weight").as_deref(),
            Some("layers.0.fc2.weight")
        );
        assert_eq!(
            hf_to_canonical("lm_head.decoder.weight").as_deref(),
            Some("lm_head.weight")
        );
        assert_eq!(hf_to_canonical("esm.pooler.dense.weight"), None);
        assert_eq!(
            hf_to_canonical("esm.encoder.layer.1.attention.LayerNorm.gamma").as_deref(),
            Some("layers.1.self_attn_layer_norm.weight")
        );
    }
}
