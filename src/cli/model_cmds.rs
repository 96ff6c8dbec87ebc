//! `info` and `convert`.

use std::path::Path;

use anyhow::Context as _;
use candle_core::Device;

use crate::model::{Checkpoint, LoadedModel};

/// Prints a checkpoint's architecture.
pub fn info(path: &Path) -> anyhow::Result<()> {
    let loaded = LoadedModel::load(path, &Device::Cpu).context("loading the model")?;
    let c = loaded.model.config();
    println!("name:            {}", loaded.name);
    println!("format:          {}", loaded.source.format);
    println!("architecture:    {}", c.architecture);
    println!("layers:          {}", c.num_layers);
    println!("embed dim:       {}", c.embed_dim);
    println!("ffn dim:         {}", c.ffn_embed_dim);
    println!("heads:           {}", c.attention_heads);
    println!("max residues:    {}", c.max_residues());
    println!("parameters:      {}", loaded.parameter_count);
    println!("token dropout:   {}", c.token_dropout);
    println!("emb LN before:   {}", c.emb_layer_norm_before);
    match &loaded.source.contact_regression_path {
        Some(p) => println!("contact head:    yes ({})", p.display()),
        None => println!(
            "contact head:    {}",
            if loaded.model.has_contact_head() {
                "yes"
            } else {
                "no"
            }
        ),
    }
    if !loaded.source.ignored_tensors.is_empty() {
        println!(
            "ignored tensors: {}",
            loaded.source.ignored_tensors.join(", ")
        );
    }
    Ok(())
}

/// Converts any supported checkpoint into workbench safetensors.
pub fn convert(input: &Path, output: &Path) -> anyhow::Result<()> {
    // A device (/dev/stdout, /dev/full) is written in place; a file or folder is kept.
    if output.is_file() || output.is_dir() {
        anyhow::bail!("{} exists; not overwriting", output.display());
    }
    let checkpoint = Checkpoint::read(input).context("reading the checkpoint")?;
    checkpoint
        .save_workbench_safetensors(output)
        .context("writing safetensors")?;
    eprintln!(
        "wrote {} ({} parameters)",
        output.display(),
        checkpoint.parameter_count()
    );
    Ok(())
}
