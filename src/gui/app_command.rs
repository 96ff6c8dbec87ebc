//! What the panels and views ask of the app shell: one queue of [`AppCommand`]s, sent during
//! the frame and applied in order at its end (rerun's `SystemCommand` pattern), so that no
//! panel changes the workspace while another is drawing it.

use std::path::PathBuf;

/// A request to the app shell.
#[derive(Debug, Clone, PartialEq)]
pub enum AppCommand {
    /// Load the checkpoint at this path in the background.
    LoadModel(PathBuf),
    /// Load the bundled starter model.
    LoadStarter,
    /// Use this contact-head file (a saved all-heads regression, or a fair-esm
    /// `*-contact-regression.pt`) as the loaded model's contact head; waits for a model
    /// being loaded.
    AttachContactHead(PathBuf),
    /// Stop waiting for the model being loaded (the previous model stays).
    CancelModelLoad,
    /// Download (or reuse) official model `OFFICIAL_MODELS[i]`, then load it.
    Download(usize),
    /// Stop the running download (the partial file is kept for resuming).
    CancelDownload,
    /// Open these data files as the data set.
    OpenData(Vec<PathBuf>),
    /// Select the data set's protein `protein` in the data table; open the table when
    /// `show_table`.
    SelectProtein {
        /// Index of the protein in the data set.
        protein: usize,
        /// Switch to the data table.
        show_table: bool,
    },
    /// A row was picked in the data table (`None`: the selection was cleared).
    ProteinPicked(Option<usize>),
    /// Write the session to the session field's file.
    SaveSession,
    /// Read the session field's file and restore it.
    OpenSession,
    /// Recompute the results the restored session had.
    RecomputeResults,
}

/// The frame's commands, in the order they were sent.
#[derive(Debug, Default)]
pub struct AppCommands(Vec<AppCommand>);

impl AppCommands {
    /// Queues `command` for the end of the frame.
    pub fn send(&mut self, command: AppCommand) {
        self.0.push(command);
    }

    /// Takes every queued command.
    pub fn drain(&mut self) -> Vec<AppCommand> {
        std::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_come_out_once_in_the_order_sent() {
        let mut commands = AppCommands::default();
        commands.send(AppCommand::ProteinPicked(Some(3)));
        commands.send(AppCommand::OpenData(vec!["a.fasta".into()]));
        assert_eq!(
            commands.drain(),
            [
                AppCommand::ProteinPicked(Some(3)),
                AppCommand::OpenData(vec!["a.fasta".into()])
            ]
        );
        assert!(commands.drain().is_empty());
    }
}
