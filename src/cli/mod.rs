//! Command-line interface: thin subcommands over the compute modules.

mod alignment;
mod download;
mod extract;
mod model_cmds;
mod pretrain;
mod probe;
mod progress;
mod project;
mod store;
mod study_args;
mod variants;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use download::DownloadArgs;
pub use extract::ExtractArgs;
pub use pretrain::{PerplexityArgs, PretrainArgs};
pub use probe::ProbeCommand;
pub use project::ProjectCommand;
pub use variants::VariantsArgs;

/// ESM Workbench: explore what protein language models have learned.
///
/// Without a subcommand the desktop workbench opens.
#[derive(Debug, Parser)]
#[command(name = "esm-workbench", version, about)]
pub struct Cli {
    /// What to do; the GUI when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the desktop workbench (the default).
    Gui(GuiArgs),
    /// Extract per-residue / mean / BOS representations and contacts, like fair-esm's esm-extract.
    Extract(ExtractArgs),
    /// Train an ESM-1b-architecture model with masked language modelling on a FASTA file.
    Pretrain(PretrainArgs),
    /// Masked-LM perplexity of a model on a FASTA file (15% of residues masked, fixed seed).
    Perplexity(PerplexityArgs),
    /// Probe what a representation encodes (SS8 logistic regression, amino-acid groups).
    #[command(subcommand)]
    Probe(ProbeCommand),
    /// Maps of representations: t-SNE or PCA of per-protein or per-residue points, as tables.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Zero-shot variant effects of one protein: a substitution scan, listed mutations or a
    /// deep mutational scan, scored like fair-esm's variant-prediction example.
    Variants(VariantsArgs),
    /// Feature stores: list, delete, or fill one (a shard of it) ahead of a study.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// List the official ESM models and which are already in the torch hub cache.
    Models {
        /// Cache folder to check (default: torch hub's).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Download official ESM weights (resumable, checksummed) into the torch hub cache.
    Download(DownloadArgs),
    /// Show a checkpoint's architecture, parameters and heads.
    Info {
        /// fair-esm .pt, Hugging Face folder or workbench .safetensors.
        model: PathBuf,
    },
    /// Convert any supported checkpoint to the workbench's safetensors (fast to load).
    Convert {
        /// Input checkpoint.
        model: PathBuf,
        /// Output `.safetensors` file.
        output: PathBuf,
    },
}

/// Options of the GUI.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GuiArgs {
    /// Open this checkpoint at start.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Open this FASTA at start (default: the bundled demo set in datasets/demo).
    #[arg(long)]
    pub fasta: Option<PathBuf>,
    /// Metadata table (CSV/TSV/Parquet with an `id` column) to join onto --fasta.
    #[arg(long, requires = "fasta")]
    pub metadata: Option<PathBuf>,
    /// Demo tour: the app drives itself through each view (data, map, SS8 and contact probes on
    /// the bundled kit's disjoint train/test splits, homology when an ASTRAL file is set), saves
    /// a screenshot of each into this folder as NN_view.png, and closes; it exits with an error
    /// if a step fails. Saved settings are neither read nor written.
    #[arg(long, value_name = "DIR")]
    pub tour: Option<PathBuf>,
    /// Feature-store folder for the probe studies (default: the saved session's, else
    /// ~/.cache/esm-workbench/features).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Folder for figures, tables, embeddings and sessions saved under a bare name (default:
    /// the saved session's, else ~/Documents/ESM Workbench; shown and changeable in the top bar).
    #[arg(long, value_name = "DIR")]
    pub outputs: Option<PathBuf>,
}

/// Runs a non-GUI subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Gui(_) => anyhow::bail!("the GUI is started by main"),
        Command::Extract(args) => extract::run(&args),
        Command::Pretrain(args) => pretrain::run(&args),
        Command::Probe(command) => probe::run(&command),
        Command::Project(command) => project::run(&command),
        Command::Store(command) => store::run(&command),
        Command::Variants(args) => variants::run(&args),
        Command::Perplexity(args) => pretrain::perplexity(&args),
        Command::Models { dir } => match download::list(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        },
        Command::Download(args) => download::run(&args),
        Command::Info { model } => model_cmds::info(&model),
        Command::Convert { model, output } => model_cmds::convert(&model, &output),
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks over every subcommand (e.g. two flattened option groups
    /// defining the same flag fail here, not at a user's first run).
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
