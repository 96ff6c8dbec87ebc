//! "Browse…" buttons beside path fields: the system file dialog (rfd over the XDG desktop
//! portal) runs on its own thread so the UI never blocks, and its answer is written into the
//! field. Where no portal is available the dialog returns nothing at once and the typed path
//! stays the way to choose a file.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eframe::egui;

/// What a dialog is for: its title, filters and whether it opens one, many or saves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogKind {
    /// A checkpoint file (fair-esm `.pt`, `.safetensors`, or `pytorch_model.bin`).
    OpenModel,
    /// One or more data files (FASTA, ASTRAL, SS8 tables, structures, metadata).
    OpenData,
    /// One or more structures (PDB, mmCIF, TS50 JSON).
    OpenStructures,
    /// One SS8 label table (or a structure labelled by DSSP).
    OpenLabels,
    /// One SCOPe/ASTRAL FASTA file.
    OpenAstral,
    /// A contact head (a saved all-heads regression, or a fair-esm contact regression).
    OpenContactHead,
    /// A saved probe (`.safetensors`).
    OpenProbe,
    /// A figure to write (`.svg` / `.png`).
    SaveFigure,
    /// A table or array to write (`.csv`, `.parquet`, `.npy`).
    SaveTable,
    /// A workspace session file (`.json`).
    Session,
}

impl DialogKind {
    fn dialog(self) -> rfd::FileDialog {
        let dialog = rfd::FileDialog::new();
        match self {
            Self::OpenModel => dialog
                .set_title("Open a checkpoint")
                .add_filter("checkpoints", &["pt", "safetensors", "bin"]),
            Self::OpenData => dialog.set_title("Open data files").add_filter(
                "sequences, labels, structures, tables",
                &[
                    "fasta", "fa", "faa", "fas", "gz", "csv", "tsv", "txt", "parquet", "pdb",
                    "ent", "cif", "mmcif", "json",
                ],
            ),
            Self::OpenStructures => dialog
                .set_title("Open structures")
                .add_filter("structures", &["pdb", "ent", "cif", "mmcif", "json", "gz"]),
            Self::OpenLabels => dialog.set_title("Open SS8 labels").add_filter(
                "SS8 tables and structures",
                &[
                    "csv", "tsv", "txt", "json", "pdb", "ent", "cif", "mmcif", "gz",
                ],
            ),
            Self::OpenAstral => dialog
                .set_title("Open a SCOPe/ASTRAL FASTA file")
                .add_filter("FASTA", &["fa", "fasta", "faa", "txt", "gz"]),
            Self::OpenContactHead => dialog
                .set_title("Open a contact head")
                .add_filter("contact heads", &["safetensors", "pt"]),
            Self::OpenProbe => dialog
                .set_title("Open a saved probe")
                .add_filter("probes", &["safetensors"]),
            Self::SaveFigure => dialog
                .set_title("Save figure")
                .add_filter("figures", &["svg", "png"]),
            Self::SaveTable => dialog
                .set_title("Save data")
                .add_filter("tables and arrays", &["csv", "parquet", "npy"]),
            Self::Session => dialog
                .set_title("Workspace session")
                .add_filter("session", &["json"]),
        }
    }

    fn many(self) -> bool {
        matches!(self, Self::OpenData | Self::OpenStructures)
    }

    fn saves(self) -> bool {
        matches!(self, Self::SaveFigure | Self::SaveTable)
    }

    /// Runs the dialog (blocking: call it on a worker thread).
    fn run(self) -> Option<Vec<PathBuf>> {
        let dialog = self.dialog();
        if self.saves() {
            dialog.save_file().map(|p| vec![p])
        } else if self.many() {
            dialog.pick_files()
        } else {
            dialog.pick_file().map(|p| vec![p])
        }
    }
}

/// Paths in a field that holds several, separated by `;` (empty parts skipped).
pub fn split_paths(text: &str) -> Vec<PathBuf> {
    text.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// `paths` as a field that holds several ([`split_paths`] reads it back).
pub fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The answer slot of one button's dialog: `None` while open, then the chosen paths.
type Answer = Arc<Mutex<Option<Option<Vec<PathBuf>>>>>;

/// A "Browse…" button that adds the picked path as a new line of `lines` (a field of one path
/// a line) instead of replacing it; returns whether a path was added.
pub fn browse_append_button(ui: &mut egui::Ui, lines: &mut String, kind: DialogKind) -> bool {
    let mut picked = String::new();
    if !browse_button(ui, &mut picked, kind) || picked.is_empty() {
        return false;
    }
    if !lines.is_empty() && !lines.ends_with('\n') {
        lines.push('\n');
    }
    lines.push_str(&picked);
    true
}

/// The paths of a field of one path a line (blank lines skipped, each trimmed).
pub fn paths_of_lines(lines: &str) -> Vec<std::path::PathBuf> {
    lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(Into::into)
        .collect()
}

/// A "Browse…" button that fills `text` with the chosen path(s) (several joined by `; `).
/// Returns true on the frame the field was filled.
pub fn browse_button(ui: &mut egui::Ui, text: &mut String, kind: DialogKind) -> bool {
    let id = ui.next_auto_id().with("browse");
    let slot: Option<Answer> = ui.data(|d| d.get_temp(id));
    let mut filled = false;
    if let Some(slot) = &slot {
        let answer = slot.lock().ok().and_then(|mut a| a.take());
        if let Some(answer) = answer {
            ui.data_mut(|d| d.remove::<Answer>(id));
            if let Some(paths) = answer.filter(|p| !p.is_empty()) {
                *text = join_paths(&paths);
                filled = true;
            }
        }
    }
    let open = ui.data(|d| d.get_temp::<Answer>(id)).is_some();
    let button = ui
        .add_enabled(!open, egui::Button::new("Browse…"))
        .on_hover_text(
            "Opens the system file dialog (XDG desktop portal); without one, type the path",
        );
    if button.clicked() {
        let slot: Answer = Arc::new(Mutex::new(None));
        ui.data_mut(|d| d.insert_temp(id, slot.clone()));
        let ctx = ui.ctx().clone();
        let spawned = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let answer = kind.run();
                if let Ok(mut s) = slot.lock() {
                    *s = Some(answer);
                }
                ctx.request_repaint();
            });
        if spawned.is_err() {
            ui.data_mut(|d| d.remove::<Answer>(id));
        }
    }
    filled
}
