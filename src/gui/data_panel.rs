//! Data panel: the open protein set as a filterable table (virtualised: only visible rows are
//! laid out). Rows are prepared once per dataset, never per frame.

use eframe::egui;

use crate::data::ProteinSet;
use crate::data::frame::string_rows;

/// A dataset prepared for display.
pub struct DatasetTable {
    /// Column headers shown.
    pub columns: Vec<String>,
    /// Display strings, one row per protein.
    pub rows: Vec<Vec<String>>,
    /// Text typed in the filter box.
    pub filter: String,
    /// Indices of rows matching `filter` (recomputed only when it changes).
    visible: Vec<usize>,
    applied_filter: String,
}

/// Columns shown when present (the sequence column is summarised as a length).
const PREFERRED: [&str; 6] = ["id", "gene", "species", "length", "reviewed", "description"];

impl DatasetTable {
    /// Prepares the table of `set`.
    pub fn new(set: &ProteinSet) -> Self {
        let names: Vec<String> = set
            .frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut columns: Vec<&str> = PREFERRED
            .iter()
            .copied()
            .filter(|c| names.iter().any(|n| n == c))
            .collect();
        columns.extend(
            names
                .iter()
                .map(String::as_str)
                .filter(|n| !PREFERRED.contains(n) && *n != "sequence" && !n.ends_with("_meta")),
        );
        let rows = string_rows(&set.frame, &columns).unwrap_or_default();
        let visible = (0..rows.len()).collect();
        Self {
            columns: columns.iter().map(|s| (*s).to_owned()).collect(),
            rows,
            filter: String::new(),
            visible,
            applied_filter: String::new(),
        }
    }

    /// Rows currently shown.
    pub fn visible_rows(&self) -> usize {
        self.visible.len()
    }

    fn refilter(&mut self) {
        if self.filter == self.applied_filter {
            return;
        }
        let needle = self.filter.to_lowercase();
        self.visible = (0..self.rows.len())
            .filter(|&r| {
                needle.is_empty()
                    || self.rows[r]
                        .iter()
                        .any(|cell| cell.to_lowercase().contains(&needle))
            })
            .collect();
        self.applied_filter = self.filter.clone();
    }
}

/// Draws the dataset summary, the filter box and the table.
pub fn data_panel_ui(ui: &mut egui::Ui, set: &ProteinSet, table: &mut DatasetTable) {
    ui.horizontal(|ui| {
        ui.heading(&set.name);
        ui.label(format!("{} proteins", set.records.len()));
        if let Some(join) = &set.join {
            ui.label(format!(
                "· metadata: {} matched, {} without",
                join.matched, join.unmatched
            ));
        }
        if !set.duplicate_ids.is_empty() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{} duplicate ids", set.duplicate_ids.len()),
            );
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Filter:");
        ui.add(
            egui::TextEdit::singleline(&mut table.filter)
                .hint_text("id, gene, species…")
                .desired_width(240.0),
        )
        .labelled_by(label.id);
        table.refilter();
        ui.label(format!("{} shown", table.visible_rows()));
    });
    ui.separator();
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show_rows(ui, row_height, table.visible.len(), |ui, range| {
            egui::Grid::new("dataset_table")
                .striped(true)
                .min_col_width(60.0)
                .show(ui, |ui| {
                    for name in &table.columns {
                        ui.strong(name);
                    }
                    ui.end_row();
                    for &row in &table.visible[range] {
                        for cell in &table.rows[row] {
                            let shown: String = cell.chars().take(60).collect();
                            ui.label(shown);
                        }
                        ui.end_row();
                    }
                });
        });
}
