//! Where the app writes figures, tables, embeddings and sessions: a per-user folder (by default
//! `~/Documents/ESM Workbench`, shown in the top bar and changeable). Relative names typed in
//! an export field resolve against it, never against the working directory the app was
//! launched from; absolute paths are used as they are.

use std::path::{Path, PathBuf};

use eframe::egui;

/// Name of the folder created inside the user's documents folder.
const FOLDER_NAME: &str = "ESM Workbench";

/// The output folder as the settings keep it (text, so a half-typed path survives a restart).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct OutputFolder(pub String);

impl Default for OutputFolder {
    fn default() -> Self {
        Self(default_output_folder().display().to_string())
    }
}

impl OutputFolder {
    /// `name` resolved against this folder ([`resolve_in`]); an emptied field means the default
    /// folder, so exports and sessions never fall back to the working directory.
    pub fn resolve(&self, name: &str) -> PathBuf {
        let folder = self.0.trim();
        if folder.is_empty() {
            resolve_in(&default_output_folder(), name)
        } else {
            resolve_in(Path::new(folder), name)
        }
    }
}

/// The default output folder: `$XDG_DOCUMENTS_DIR/ESM Workbench`, else
/// `~/Documents/ESM Workbench`, else (no home folder) `<temp>/ESM Workbench`.
pub fn default_output_folder() -> PathBuf {
    std::env::var_os("XDG_DOCUMENTS_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Documents")))
        .unwrap_or_else(std::env::temp_dir)
        .join(FOLDER_NAME)
}

/// `name` resolved for writing or reading: absolute paths as they are, `~/…` under the home
/// folder, anything else inside `folder`.
pub fn resolve_in(folder: &Path, name: &str) -> PathBuf {
    let name = name.trim();
    if let Some(rest) = name.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    let path = Path::new(name);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        folder.join(path)
    }
}

fn folder_id() -> egui::Id {
    egui::Id::unique("esm_workbench_output_folder")
}

/// Makes `folder` the one [`resolve`] uses (the app calls this every frame).
pub fn publish(ctx: &egui::Context, folder: &OutputFolder) {
    ctx.data_mut(|d| d.insert_temp(folder_id(), folder.clone()));
}

/// `name` resolved against the published output folder (the default one if none is).
pub fn resolve(ctx: &egui::Context, name: &str) -> PathBuf {
    ctx.data(|d| d.get_temp::<OutputFolder>(folder_id()))
        .unwrap_or_default()
        .resolve(name)
}

/// Creates the folders above `path` (the first export into a new output folder).
pub fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create the folder {}: {e}", parent.display())),
        _ => Ok(()),
    }
}

/// The "Outputs" field of the top bar.
pub fn output_folder_ui(ui: &mut egui::Ui, folder: &mut OutputFolder) {
    let label = ui.label("Outputs");
    // Wide enough for a typical path ("/home/name/Documents/ESM Workbench", about 290 points)
    // while leaving room for the recompute button and running-jobs line after it.
    let width = (ui.available_width() - 8.0).clamp(220.0, 300.0);
    ui.add(egui::TextEdit::singleline(&mut folder.0).desired_width(width))
        .labelled_by(label.id)
        .on_hover_text(
            "Figures, tables, embeddings and sessions given by a bare file name are written \
             into (and sessions opened from) this folder; an absolute path is used as it is",
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_resolve_inside_the_folder_and_absolute_paths_stay() {
        let folder = Path::new("/data/outputs");
        assert_eq!(resolve_in(folder, "map.svg"), folder.join("map.svg"));
        assert_eq!(
            resolve_in(folder, " figures/map.png "),
            folder.join("figures/map.png")
        );
        assert_eq!(
            resolve_in(folder, "/tmp/x.csv"),
            PathBuf::from("/tmp/x.csv")
        );
    }

    #[test]
    fn the_default_folder_is_named_for_the_app() {
        let folder = default_output_folder();
        assert!(folder.is_absolute(), "{}", folder.display());
        assert!(folder.ends_with(FOLDER_NAME));
    }

    #[test]
    fn resolve_uses_the_published_folder() {
        let ctx = egui::Context::default();
        publish(&ctx, &OutputFolder("/srv/out".into()));
        assert_eq!(resolve(&ctx, "t.csv"), PathBuf::from("/srv/out/t.csv"));
        publish(&ctx, &OutputFolder("  ".into()));
        assert_eq!(
            resolve(&ctx, "t.csv"),
            default_output_folder().join("t.csv"),
            "an emptied field means the default folder"
        );
    }

    #[test]
    fn missing_parent_folders_are_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/c.svg");
        create_parent(&path).expect("created");
        assert!(dir.path().join("a/b").is_dir());
    }
}
