//! Bringing a saved session back: which loads to start for its model and data files, and what
//! to load instead when one of them is gone or fails (the bundled starter model, the demo set),
//! with a notice for the user each time, so a restore never leaves the app empty. Pure
//! decisions: the shell carries out the [`AppCommand`]s returned.

use std::path::PathBuf;

use super::app_command::AppCommand;
use super::session::ShellSettings;

/// How a load started by the restore stands this frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadState {
    /// Still loading.
    Running,
    /// Loaded.
    Done,
    /// Failed, with the error shown to the user.
    Failed(String),
}

/// A restored session's model and data while they load, and what could not be restored.
#[derive(Debug, Default)]
pub struct Restoring {
    /// The restored model is loading.
    model: bool,
    /// The restored data files are being read.
    data: bool,
    /// What could not be restored (shown under the top bar until dismissed).
    pub notices: Vec<String>,
}

impl Restoring {
    /// The loads for a session's `shell` settings: its data files (the demo set `demo` when
    /// they are none or one is gone, which then counts as nothing opened) and its model (the
    /// starter when none).
    pub fn begin(
        &mut self,
        shell: &mut ShellSettings,
        demo: Option<(PathBuf, PathBuf)>,
    ) -> Vec<AppCommand> {
        let mut commands = Vec::new();
        let data = shell.opened_data.clone();
        let missing = data.iter().find(|p| !p.exists());
        if let Some(missing) = missing {
            self.notices.push(format!(
                "The session's data file {} no longer exists; the demo set is open instead.",
                missing.display()
            ));
        }
        if data.is_empty() || missing.is_some() {
            commands.extend(demo.map(|(fasta, tsv)| AppCommand::OpenData(vec![fasta, tsv])));
            shell.opened_data.clear();
        } else {
            commands.push(AppCommand::OpenData(data));
            self.data = true;
        }
        match &shell.loaded_model {
            Some(path) => {
                commands.push(AppCommand::LoadModel(path.clone()));
                self.model = true;
            }
            None => commands.push(AppCommand::LoadStarter),
        }
        // Attached once the model has loaded (the app waits for it).
        commands.extend(
            shell
                .contact_head
                .clone()
                .map(AppCommand::AttachContactHead),
        );
        commands
    }

    /// Once the restored model or data have loaded or failed: a failure is noted and the bundled
    /// starter model or the demo set `demo` is loaded instead; nothing while they run.
    pub fn fall_back(
        &mut self,
        model: &LoadState,
        data: &LoadState,
        demo: Option<(PathBuf, PathBuf)>,
    ) -> Vec<AppCommand> {
        let mut commands = Vec::new();
        if self.model && *model != LoadState::Running {
            self.model = false;
            if let LoadState::Failed(err) = model {
                self.notices.push(format!(
                    "The model could not be loaded ({err}); the bundled starter model is loaded instead."
                ));
                commands.push(AppCommand::LoadStarter);
            }
        }
        if self.data && *data != LoadState::Running {
            self.data = false;
            if let (LoadState::Failed(err), Some((fasta, tsv))) = (data, demo) {
                self.notices.push(format!(
                    "The data files could not be read ({err}); the demo set is open instead."
                ));
                commands.push(AppCommand::OpenData(vec![fasta, tsv]));
            }
        }
        commands
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Option<(PathBuf, PathBuf)> {
        Some(("demo.fasta".into(), "demo.tsv".into()))
    }

    fn opens_demo(commands: &[AppCommand]) -> bool {
        commands.iter().any(|c| {
            matches!(c, AppCommand::OpenData(paths) if paths == &[PathBuf::from("demo.fasta"), PathBuf::from("demo.tsv")])
        })
    }

    #[test]
    fn a_missing_data_file_opens_the_demo_set_with_a_notice() {
        let mut restoring = Restoring::default();
        let mut shell = ShellSettings {
            opened_data: vec!["/nonexistent/gone.fasta".into()],
            ..ShellSettings::default()
        };
        let commands = restoring.begin(&mut shell, demo());
        assert!(opens_demo(&commands), "{commands:?}");
        assert!(matches!(commands.last(), Some(AppCommand::LoadStarter)));
        assert!(
            shell.opened_data.is_empty(),
            "the demo set counts as nothing opened"
        );
        assert_eq!(restoring.notices.len(), 1);
        assert!(restoring.notices[0].contains("/nonexistent/gone.fasta"));
    }

    #[test]
    fn a_model_that_fails_falls_back_to_the_starter_once_it_has_failed() {
        let mut restoring = Restoring::default();
        let mut shell = ShellSettings {
            loaded_model: Some("big.pt".into()),
            ..ShellSettings::default()
        };
        let commands = restoring.begin(&mut shell, demo());
        assert!(
            matches!(commands.last(), Some(AppCommand::LoadModel(p)) if p == &PathBuf::from("big.pt"))
        );
        let running = restoring.fall_back(&LoadState::Running, &LoadState::Done, demo());
        assert!(running.is_empty(), "nothing while the model loads");
        let failed = restoring.fall_back(
            &LoadState::Failed("truncated".into()),
            &LoadState::Done,
            demo(),
        );
        assert!(matches!(failed.as_slice(), [AppCommand::LoadStarter]));
        assert!(restoring.notices[0].contains("truncated"));
        let again = restoring.fall_back(
            &LoadState::Failed("truncated".into()),
            &LoadState::Done,
            demo(),
        );
        assert!(again.is_empty(), "one fallback, not one a frame");
    }

    #[test]
    fn a_restored_contact_head_is_attached_after_its_model() {
        let mut restoring = Restoring::default();
        let mut shell = ShellSettings {
            loaded_model: Some("big.pt".into()),
            contact_head: Some("regression.safetensors".into()),
            ..ShellSettings::default()
        };
        let commands = restoring.begin(&mut shell, demo());
        let n = commands.len();
        assert!(
            matches!(&commands[n - 2..], [AppCommand::LoadModel(m), AppCommand::AttachContactHead(h)]
                if m == &PathBuf::from("big.pt") && h == &PathBuf::from("regression.safetensors")),
            "{commands:?}"
        );
    }

    #[test]
    fn data_that_fails_to_read_falls_back_to_the_demo_set() {
        let mut restoring = Restoring::default();
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let mut shell = ShellSettings {
            opened_data: vec![file.path().to_owned()],
            ..ShellSettings::default()
        };
        let commands = restoring.begin(&mut shell, demo());
        assert!(!opens_demo(&commands), "the session's own file is opened");
        let fallback =
            restoring.fall_back(&LoadState::Done, &LoadState::Failed("bad".into()), demo());
        assert!(opens_demo(&fallback));
        assert!(restoring.notices[0].contains("could not be read (bad)"));
    }
}
