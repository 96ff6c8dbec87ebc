//! The feature stores under a study's store folder, as `store list` shows them: dataset,
//! model, proteins, layers, completeness and size, each with a Delete button (asks once more),
//! and "Delete all". Listed when opened or refreshed (a listing reads every manifest), never
//! while a study runs, since that study may be writing one of them.

use std::path::{Path, PathBuf};

use eframe::egui;

use crate::store::{StoreSummary, delete_store, human_bytes, list_stores};

/// What was listed, and the pending confirmation.
#[derive(Debug, Default)]
pub struct StoreBrowser {
    /// The folder listed and its stores.
    listed: Option<(PathBuf, Vec<StoreSummary>)>,
    /// The store (or, for `None` inside, every store) whose Delete was clicked once.
    confirm: Option<Option<PathBuf>>,
    /// What the last deletion said.
    status: Option<Result<String, String>>,
}

/// `0-33`, `0, 6, 33`, or `5`.
fn layers_text(layers: &[usize]) -> String {
    match layers {
        [] => "none".into(),
        [one] => one.to_string(),
        [first, .., last] if last - first + 1 == layers.len() => format!("{first}-{last}"),
        _ => layers
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

impl StoreBrowser {
    /// The collapsible list for `root`; `running` disables deleting.
    pub fn ui(&mut self, ui: &mut egui::Ui, id: &str, root: &Path, running: bool) {
        egui::CollapsingHeader::new("Stores in this folder")
            .id_salt(id)
            .show(ui, |ui| {
                let stale = self.listed.as_ref().is_none_or(|(dir, _)| dir != root);
                let refresh = ui
                    .button("Refresh")
                    .on_hover_text("List the stores in this folder again")
                    .clicked();
                if stale || refresh {
                    self.listed = Some((root.to_owned(), list_stores(root)));
                    self.confirm = None;
                }
                if let Some((_, stores)) = &self.listed {
                    let stores = stores.clone();
                    self.table_ui(ui, &stores, running);
                }
                match &self.status {
                    Some(Ok(text)) => {
                        ui.weak(text);
                    }
                    Some(Err(text)) => {
                        ui.colored_label(ui.visuals().error_fg_color, text);
                    }
                    None => {}
                }
            });
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, stores: &[StoreSummary], running: bool) {
        if stores.is_empty() {
            ui.weak("No stores here yet: a study writes its features here on its first run.");
            return;
        }
        let total: u64 = stores.iter().map(|s| s.bytes).sum();
        ui.weak(format!(
            "{} stores in this folder, {}",
            stores.len(),
            human_bytes(total)
        ));
        let mut clicked: Option<Option<PathBuf>> = None;
        egui::Grid::new("store_browser")
            .striped(true)
            .show(ui, |ui| {
                for h in [
                    "dataset", "model", "proteins", "layers", "state", "size", "",
                ] {
                    ui.strong(h);
                }
                ui.end_row();
                for store in stores {
                    ui.label(&store.dataset)
                        .on_hover_text(store.dir.display().to_string());
                    ui.label(&store.model_name);
                    ui.label(format!("{} ({} residues)", store.proteins, store.residues));
                    ui.label(format!(
                        "{}{}",
                        layers_text(&store.layers),
                        if store.per_residue {
                            ""
                        } else {
                            ", means only"
                        }
                    ));
                    ui.label(if store.is_complete() {
                        "complete".to_owned()
                    } else {
                        format!("{} of {} batches", store.batches_done, store.batches)
                    });
                    ui.label(human_bytes(store.bytes));
                    if self.delete_button(ui, Some(&store.dir), running) {
                        clicked = Some(Some(store.dir.clone()));
                    }
                    ui.end_row();
                }
            });
        if self.delete_button(ui, None, running) {
            clicked = Some(None);
        }
        if let Some(target) = clicked {
            if self.confirm.as_ref() == Some(&target) {
                self.delete(stores, target.as_deref());
            } else {
                self.confirm = Some(target);
            }
        }
    }

    /// A Delete (or "Delete all") button that reads "Click again to delete" once armed.
    fn delete_button(&self, ui: &mut egui::Ui, dir: Option<&PathBuf>, running: bool) -> bool {
        let armed = self.confirm.as_ref().is_some_and(|c| c.as_ref() == dir);
        let text = match (armed, dir.is_some()) {
            (true, _) => "Click again to delete",
            (false, true) => "Delete",
            (false, false) => "Delete all",
        };
        ui.add_enabled(!running, egui::Button::new(text))
            .on_hover_text(
                "Deletes the store's files from disk (asks once more); a later study embeds again",
            )
            .on_disabled_hover_text("a study is running and may be using these stores")
            .clicked()
    }

    fn delete(&mut self, stores: &[StoreSummary], target: Option<&Path>) {
        let chosen: Vec<&StoreSummary> = stores
            .iter()
            .filter(|s| target.is_none_or(|t| s.dir == t))
            .collect();
        let mut freed = 0;
        let mut errors = Vec::new();
        for store in &chosen {
            match delete_store(&store.dir) {
                Ok(()) => freed += store.bytes,
                Err(err) => errors.push(err.to_string()),
            }
        }
        self.status = Some(if errors.is_empty() {
            Ok(format!(
                "deleted {} store{}, freed {}",
                chosen.len(),
                if chosen.len() == 1 { "" } else { "s" },
                human_bytes(freed)
            ))
        } else {
            Err(errors.join("; "))
        });
        self.confirm = None;
        self.listed = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_sets_read_as_ranges_or_lists() {
        assert_eq!(layers_text(&[0, 1, 2, 3]), "0-3");
        assert_eq!(layers_text(&[0, 6, 33]), "0, 6, 33");
        assert_eq!(layers_text(&[5]), "5");
    }
}
