//! The `esm-workbench` binary: the desktop workbench, or a CLI subcommand.

use std::process::ExitCode;

use clap::Parser as _;
use esm_workbench::cli::{Cli, Command, GuiArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
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

#[cfg(feature = "gui")]
fn run_gui(args: GuiArgs) -> anyhow::Result<()> {
    esm_workbench::gui::run(args)
}

#[cfg(not(feature = "gui"))]
fn run_gui(_args: GuiArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "this build has no GUI (built with --no-default-features); use a subcommand, see --help"
    )
}
