//! The `esm-workbench` binary: the desktop workbench, or a CLI subcommand.

use std::process::ExitCode;

use clap::Parser as _;
use esm_workbench::cli::{Cli, Command, GuiArgs};

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    fix_thread_count(&mut cli);
    let result = match cli.command {
        None => run_gui(GuiArgs::default()),
        Some(Command::Gui(args)) => run_gui(args),
        Some(command) => esm_workbench::cli::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Sets `RAYON_NUM_THREADS` when the user has not set it: to candle's default thread count
/// (physical cores), or to 1 for `pretrain` with more than one data-parallel worker (each worker
/// then runs its operations on its own thread; `--workers` defaults to the physical cores).
/// candle 0.11 works its default out again, by reading `/proc/cpuinfo`, on every matrix product
/// unless the variable is set: about 1,800 reads a second while training the starter model,
/// which made training ~20% and inference ~40% slower (`perplexity` on the starter's held-out
/// set: 11.5 s without the variable, 7.9 s with it, on 2 cores).
#[allow(unsafe_code)]
fn fix_thread_count(cli: &mut Cli) {
    let cores = candle_core::utils::get_num_threads();
    let mut threads = cores;
    if let Some(Command::Pretrain(args)) = &mut cli.command
        && *args.workers.get_or_insert(cores) > 1
    {
        threads = 1;
    }
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: this runs first in `main`, before any other thread exists, so nothing can
        // read or write the environment concurrently.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
}

/// The `gui` flags become the GUI's own launch options (the GUI does not depend on the CLI).
#[cfg(feature = "gui")]
fn run_gui(args: GuiArgs) -> anyhow::Result<()> {
    let GuiArgs {
        model,
        fasta,
        metadata,
        tour,
        store,
        outputs,
    } = args;
    esm_workbench::gui::run(esm_workbench::gui::LaunchOptions {
        model,
        fasta,
        metadata,
        tour,
        store,
        outputs,
    })
}

#[cfg(not(feature = "gui"))]
fn run_gui(_args: GuiArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "this build has no GUI (built with --no-default-features); use a subcommand, see --help"
    )
}
