//! The ESM family (ESM-1b, ESM-1v, ESM-2) in candle: alphabet, configuration, layers, heads,
//! checkpoint loading and long-sequence handling. Pure compute: no GUI imports.

mod alphabet;
mod attention;
mod checkpoint;
mod config;
mod contact_head;
mod contact_head_file;
mod error;
mod esm;
mod fused_attention;
pub mod hub;
mod kernels;
mod layers;
mod linear;
mod lm_head;
mod loaded;
mod long_sequence;
mod pickle_meta;
mod pth;
mod random_init;
mod rotary;
mod safetensors_file;
pub mod starter;
mod tensor_read;
mod tensor_shapes;
pub mod torch_zip;
mod transformer_layer;

pub use crate::stop_flag::StopFlag;
pub use alphabet::{Alphabet, TokenBatch};
pub use checkpoint::{Checkpoint, CheckpointFormat, CheckpointSource};
pub use config::{Architecture, DEFAULT_MAX_RESIDUES, EsmConfig};
pub use contact_head::{ContactHead, apc, apc_maps};
pub use contact_head_file::read_contact_head;
pub use error::{ModelError, Result};
pub use esm::{EsmModel, ForwardOutput, ForwardRequest};
pub use layers::{Layers, LayersError};
pub use loaded::LoadedModel;
pub use long_sequence::{LengthPolicy, SequenceOutput, embed_sequence};
pub use tensor_shapes::{Heads, expected_shapes};
