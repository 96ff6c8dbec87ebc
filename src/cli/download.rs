//! `esm-workbench models` and `esm-workbench download`: the official weights, fetched into torch
//! hub's cache (shared with fair-esm).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::model::hub::{
    OFFICIAL_MODELS, OfficialModel, download_official, is_cached, torch_hub_checkpoints_dir,
    weights_base_url,
};

/// Options of `download`.
#[derive(Debug, Clone, clap::Args)]
pub struct DownloadArgs {
    /// fair-esm model name, e.g. esm1b_t33_650M_UR50S (see `models`).
    pub name: String,
    /// Folder to store into (default: torch hub's, `$TORCH_HOME/hub/checkpoints`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Server to fetch from (default: $ESM_WORKBENCH_WEIGHTS_URL, else fair-esm's).
    #[arg(long)]
    pub base_url: Option<String>,
}

/// Lists the official models and whether each is cached.
pub fn list(dir: Option<PathBuf>) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = dir.unwrap_or_else(torch_hub_checkpoints_dir);
    let mut out = std::io::stdout().lock();
    writeln!(out, "cache: {}", dir.display())?;
    for model in OFFICIAL_MODELS {
        let state = if is_cached(model, &dir) {
            "cached"
        } else {
            "-"
        };
        writeln!(out, "{:<26} {:<7} {}", model.name, state, model.description)?;
    }
    Ok(())
}

/// Downloads (or reuses) a model's files with a byte progress bar; Ctrl-C keeps the partial file.
pub fn run(args: &DownloadArgs) -> anyhow::Result<()> {
    let model = OfficialModel::by_name(&args.name).with_context(|| {
        let names: Vec<&str> = OFFICIAL_MODELS.iter().map(|m| m.name).collect();
        format!("unknown model {:?}; known: {}", args.name, names.join(", "))
    })?;
    let dir = args.dir.clone().unwrap_or_else(torch_hub_checkpoints_dir);
    let ctx = super::progress::cancellable_on_ctrl_c()?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let path = download_official(
        model,
        &args.base_url.clone().unwrap_or_else(weights_base_url),
        &dir,
        &ctx,
        &mut |file, done, total| {
            bar.set_message(file.to_owned());
            bar.set_length(total.unwrap_or(done));
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    let path = path.with_context(|| format!("downloading {}", model.name))?;
    println!("{}", path.display());
    Ok(())
}
