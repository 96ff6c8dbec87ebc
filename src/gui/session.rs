//! A session: what was open, the open tab, which results existed and every view's settings,
//! as one small JSON object (a session file, and the app's own storage). Never the workspace
//! itself: results are recomputed on request, their embeddings coming from the stores.

use std::path::{Path, PathBuf};

use super::launch_options::LaunchOptions;
use super::output_folder::OutputFolder;
use super::view_slot::ViewSettings;

/// The data table's tab id (the views' ids are their own).
pub const DATA_TAB: &str = "Data";

/// The shell's own settings, kept in place (each view keeps its own).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ShellSettings {
    /// Last checkpoint path typed or opened.
    pub model_path: String,
    /// The model in use (`None`: the bundled starter model).
    pub loaded_model: Option<PathBuf>,
    /// The contact-head file attached to the model in use (`None`: its own head, if any).
    pub contact_head: Option<PathBuf>,
    /// The contact-head field of the model panel.
    pub contact_head_path: String,
    /// The data-files field.
    pub data_paths: String,
    /// The data files open (empty: the demo set).
    pub opened_data: Vec<PathBuf>,
    /// Where bare output names are written (and sessions read from).
    pub output_folder: OutputFolder,
    /// The first-run welcome was dismissed.
    pub welcome_dismissed: bool,
    /// Data sets opened before, newest first (each its files).
    pub recent_data: Vec<Vec<PathBuf>>,
    /// Checkpoints loaded before, newest first.
    pub recent_models: Vec<PathBuf>,
}

/// A session as saved: the shell's settings, the open tab, the views that held a result and
/// every view's settings under the view's own keys.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Session {
    /// The shell's settings.
    #[serde(flatten)]
    pub shell: ShellSettings,
    /// The open tab: [`DATA_TAB`] or a view's id.
    pub tab: String,
    /// Ids of the views that held a result.
    pub results: Vec<String>,
    /// The views' settings (every other key of the session).
    #[serde(flatten)]
    pub views: ViewSettings,
}

impl Session {
    /// Files named at launch win over the saved session (and drop its results); an output
    /// folder given at launch replaces the session's.
    pub fn apply_launch_options(&mut self, options: &LaunchOptions) {
        if let Some(fasta) = &options.fasta {
            self.shell.opened_data = std::iter::once(fasta.clone())
                .chain(options.metadata.clone())
                .collect();
            self.results.clear();
        }
        if let Some(model) = &options.model {
            self.shell.loaded_model = Some(model.clone());
            self.results.clear();
        }
        if let Some(outputs) = &options.outputs {
            self.shell.output_folder = OutputFolder(outputs.display().to_string());
        }
    }

    /// The session as a session file's text (pretty JSON).
    pub fn to_json(&self) -> Result<String, String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| format!("the session cannot be written: {e}"))
    }

    /// Reads a session file, saying which file and line is wrong.
    pub fn read_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "the session file {}: {}",
                path.display(),
                crate::io_reason::reading(&e)
            )
        })?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a workbench session (line {}): {e}",
                path.display(),
                e.line()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session file as the workbench wrote it before views kept their own settings: every
    /// part still lands where it belongs, and writing it again keeps the same top-level keys.
    #[test]
    fn a_session_file_of_the_earlier_layout_opens_and_keeps_its_keys() {
        let old = r#"{
            "model_path": "/models/esm1b.pt",
            "loaded_model": "/models/esm1b.pt",
            "data_paths": "",
            "opened_data": [],
            "tab": "SecondaryStructure",
            "map": {"method": "Pca"},
            "colour_by": "gene",
            "aa_groups": {},
            "ss8": {"max_train": 20},
            "contacts": {},
            "homology": {"max_domains": 300},
            "results": ["Map", "Homology"],
            "output_folder": "",
            "welcome_dismissed": true
        }"#;
        let session: Session = serde_json::from_str(old).expect("the earlier layout parses");
        assert_eq!(
            session.shell.loaded_model.as_deref(),
            Some(Path::new("/models/esm1b.pt"))
        );
        assert!(session.shell.welcome_dismissed);
        assert_eq!(session.tab, "SecondaryStructure");
        assert_eq!(session.results, ["Map", "Homology"]);
        let keys: Vec<&str> = session.views.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "aa_groups",
                "colour_by",
                "contacts",
                "homology",
                "map",
                "ss8"
            ],
            "the views' keys, and nothing of the shell's"
        );
        let written = serde_json::to_value(&session).expect("serialises");
        assert_eq!(written["ss8"]["max_train"], 20);
        assert_eq!(written["model_path"], "/models/esm1b.pt");
        assert_eq!(written["tab"], "SecondaryStructure");
    }

    #[test]
    fn launch_options_win_over_the_session_and_a_bad_file_names_itself() {
        let mut session = Session {
            results: vec!["Map".into()],
            ..Session::default()
        };
        session.apply_launch_options(&LaunchOptions {
            fasta: Some("a.fasta".into()),
            metadata: Some("a.tsv".into()),
            ..LaunchOptions::default()
        });
        assert_eq!(
            session.shell.opened_data,
            [PathBuf::from("a.fasta"), "a.tsv".into()]
        );
        assert!(
            session.results.is_empty(),
            "results of other data are dropped"
        );

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        std::fs::write(&path, "{\n\"tab\": 3}").expect("write");
        let err = Session::read_file(&path).expect_err("a number is not a tab");
        assert!(
            err.contains("s.json is not a workbench session (line 2)"),
            "{err}"
        );
        let err = Session::read_file(&dir.path().join("none.json")).expect_err("missing");
        assert!(
            err.contains("none.json") && err.contains("not found"),
            "{err}"
        );
    }
}
