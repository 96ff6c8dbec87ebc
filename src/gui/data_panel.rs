//! Data panel: the open protein set as a filterable table (virtualised: only visible rows are
//! laid out). Rows are prepared once per dataset, never per frame.

use eframe::egui;

use super::text_order::{contains_motif, natural_cmp};

use super::app_command::AppCommand;
use super::table_export::{TableExport, table_export_ui};
use crate::analysis::map_table::ProteinColumns;
use crate::data::ProteinSet;

/// A dataset prepared for display.
pub struct DatasetTable {
    /// The columns shown and their text, one row per protein (the map colours by the same).
    pub columns: ProteinColumns,
    /// Text typed in the filter box (matched against every shown column).
    pub filter: String,
    /// Residues the sequence must contain (case-insensitive).
    pub sequence_filter: String,
    /// Sort column and direction (`true` = ascending).
    pub sort: Option<(usize, bool)>,
    /// Sequences, one per row.
    sequences: Vec<String>,
    /// Indices of rows matching the filters, in sort order (recomputed only on change).
    visible: Vec<usize>,
    applied: (String, String, Option<(usize, bool)>),
    /// Export of the shown rows.
    pub export: TableExport,
    /// The selected protein (row index = index in the set), e.g. the map point clicked last.
    pub selected: Option<usize>,
    /// Scroll the table to the selected row on the next frame.
    scroll_to_selected: bool,
    /// The columns shown, in order: every column but `source` when all rows share one
    /// file (named above the table instead), else `source` last.
    shown_columns: Vec<usize>,
    /// The one source file of every row, when there is one.
    single_source: Option<String>,
    /// Each column's width in points, measured once ([`column_widths`]).
    widths: Vec<f32>,
}

impl DatasetTable {
    /// Prepares the table of `set`.
    pub fn new(set: &ProteinSet) -> Self {
        let columns = ProteinColumns::from_frame(&set.frame).unwrap_or_default();
        let visible = (0..columns.rows.len()).collect();
        let (shown_columns, single_source) = column_order(&columns);
        Self {
            shown_columns,
            single_source,
            widths: Vec::new(),
            columns,
            filter: String::new(),
            sequence_filter: String::new(),
            sort: None,
            sequences: set.records.iter().map(|r| r.sequence.clone()).collect(),
            visible,
            applied: Default::default(),
            export: TableExport::new("proteins.csv"),
            selected: None,
            scroll_to_selected: false,
        }
    }

    /// Selects protein `row` (ignored when out of range) and scrolls to it when next shown.
    pub fn select(&mut self, row: usize) {
        if row < self.columns.rows.len() {
            self.selected = Some(row);
            self.scroll_to_selected = true;
        }
    }

    /// Where the selected row stands among the shown rows (`None`: nothing selected, or the
    /// filters hide it).
    pub fn selected_position(&self) -> Option<usize> {
        let row = self.selected?;
        self.visible.iter().position(|&r| r == row)
    }

    /// Rows currently shown.
    pub fn visible_rows(&self) -> usize {
        self.visible.len()
    }

    /// The shown rows of `set`'s frame (every column, the sequence included), in the shown
    /// order: what the filters and the sort leave.
    pub fn shown_frame(
        &self,
        set: &ProteinSet,
    ) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
        let indices: Vec<polars::prelude::IdxSize> = self
            .visible
            .iter()
            .map(|&r| r as polars::prelude::IdxSize)
            .collect();
        set.frame
            .take(&polars::prelude::IdxCa::from_vec("rows".into(), indices))
    }

    /// Re-applies the filters and the sort when one of them changed.
    pub fn refilter(&mut self) {
        let wanted = (self.filter.clone(), self.sequence_filter.clone(), self.sort);
        if wanted == self.applied {
            return;
        }
        let needle = self.filter.to_lowercase();
        let motif = self.sequence_filter.trim().to_uppercase();
        self.visible = (0..self.columns.rows.len())
            .filter(|&r| {
                (needle.is_empty()
                    || self.columns.rows[r]
                        .iter()
                        .any(|cell| cell.to_lowercase().contains(&needle)))
                    && (motif.is_empty()
                        || self
                            .sequences
                            .get(r)
                            .is_some_and(|s| contains_motif(s, &motif)))
            })
            .collect();
        if let Some((column, ascending)) = self.sort {
            let key = |r: usize| self.columns.rows[r].get(column).map_or("", String::as_str);
            // Numbers sort as numbers, text in natural order (a.2 before a.11); ties keep
            // file order.
            self.visible.sort_by(|&a, &b| {
                let (x, y) = (key(a), key(b));
                let order = match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.total_cmp(&y),
                    _ => natural_cmp(x, y),
                };
                if ascending { order } else { order.reverse() }
            });
        }
        self.applied = wanted;
    }
}

/// The "open data files" row: `paths` is the `;`-separated field.
pub fn open_files_ui(
    ui: &mut egui::Ui,
    paths: &mut String,
    recent: &[Vec<std::path::PathBuf>],
) -> Option<AppCommand> {
    let mut command = None;
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Data files");
        ui.add(
            egui::TextEdit::singleline(paths)
                .hint_text("proteins.fasta; labels.tsv; astral.fa; ss8.csv; 1abc.pdb")
                .desired_width((ui.available_width() - 330.0).clamp(120.0, 460.0)),
        )
        .labelled_by(label.id)
        .on_hover_text("Several files separated by ;  FASTA / ASTRAL / SS8 tables / structures become rows; metadata tables (id column) are joined");
        super::file_dialog::browse_button(ui, paths, super::file_dialog::DialogKind::OpenData);
        let files = super::file_dialog::split_paths(paths);
        if ui
            .add_enabled(!files.is_empty(), egui::Button::new("Open data"))
            .on_hover_text("Read these files as the data set (the current one stays if they fail)")
            .on_disabled_hover_text("Type or browse to one or more data files first")
            .clicked()
        {
            command = Some(AppCommand::OpenData(files));
        }
        let entries = recent.iter().map(Vec::as_slice);
        if let Some(files) = super::recent::recent_menu_ui(ui, "data sets", entries) {
            *paths = super::file_dialog::join_paths(&files);
            command = Some(AppCommand::OpenData(files));
        }
        if let Some((fasta, table)) = ProteinSet::demo_paths()
            && ui
                .button("Demo set")
                .on_hover_text("The bundled demo set: 288 UniProt proteins in 12 ortholog groups, with gene and species")
                .clicked()
        {
            paths.clear();
            command = Some(AppCommand::OpenData(vec![fasta, table]));
        }
    });
    command
}

/// Draws the dataset summary, the filter box and the table.
pub fn data_panel_ui(ui: &mut egui::Ui, set: &ProteinSet, table: &mut DatasetTable) {
    ui.horizontal_wrapped(|ui| {
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
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Filter:");
        ui.add(
            egui::TextEdit::singleline(&mut table.filter)
                .hint_text("id, gene, species…")
                .desired_width(ui.available_width().min(240.0)),
        )
        .labelled_by(label.id)
        .on_hover_text("Shows the rows with this text in any column (case-insensitive)");
        let label = ui.label("Sequence contains:");
        ui.add(
            egui::TextEdit::singleline(&mut table.sequence_filter)
                .hint_text("motif; X = any residue, e.g. GXGXXG")
                .desired_width(160.0),
        )
        .labelled_by(label.id)
        .on_hover_text(
            "Shows the proteins whose sequence contains this motif; X matches any residue",
        );
        table.refilter();
        ui.label(format!("{} shown", table.visible_rows()));
    });
    if table_export_ui(ui, "Shown rows", &mut table.export) {
        let frame = table.shown_frame(set);
        table.export.save(ui.ctx(), frame, None);
    }
    selected_row_note(ui, table);
    ui.separator();
    table_rows_ui(ui, table);
}

/// `(shown columns, the single source)`: `source` is left out when every row comes from one
/// file, and moved last when they come from several (it repeats a long file name).
fn column_order(columns: &ProteinColumns) -> (Vec<usize>, Option<String>) {
    let all: Vec<usize> = (0..columns.names.len()).collect();
    let Some(source) = columns.names.iter().position(|n| n == "source") else {
        return (all, None);
    };
    let first = columns.rows.first().and_then(|r| r.get(source)).cloned();
    let single = first.filter(|f| columns.rows.iter().all(|r| r.get(source) == Some(f)));
    let mut order: Vec<usize> = all.into_iter().filter(|&c| c != source).collect();
    if single.is_none() {
        order.push(source);
    }
    (order, single)
}

/// Cells show at most this many characters (the rest on hover).
const CELL_CHARS: usize = 60;

/// Each column's width: its header or its widest cell among the first rows, 48 to 360 points.
fn column_widths(ui: &egui::Ui, columns: &ProteinColumns) -> Vec<f32> {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let width = |text: &str| {
        ui.fonts_mut(|f| f.layout_no_wrap(text.to_owned(), font.clone(), egui::Color32::WHITE))
            .size()
            .x
    };
    (0..columns.names.len())
        .map(|c| {
            let cells = columns.rows.iter().take(200).filter_map(|r| r.get(c));
            let widest = cells
                .map(|cell| width(&cell.chars().take(CELL_CHARS).collect::<String>()))
                .fold(width(&format!("{} ^", columns.names[c])), f32::max);
            (widest + 12.0).clamp(48.0, 360.0)
        })
        .collect()
}

/// The table itself: the sortable header stays in place while the rows scroll under it (only
/// those in view are laid out); both scroll sideways together. Scrolled to the selected row
/// when it was just selected elsewhere.
fn table_rows_ui(ui: &mut egui::Ui, table: &mut DatasetTable) {
    if table.widths.len() != table.columns.names.len() {
        table.widths = column_widths(ui, &table.columns);
    }
    if let Some(source) = &table.single_source {
        ui.weak(format!("Every row from {source}"));
    }
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    egui::ScrollArea::horizontal()
        .id_salt("dataset_table_sideways")
        .auto_shrink([false, true])
        .show(ui, |ui| {
            header_row_ui(ui, table);
            let mut scroll = egui::ScrollArea::vertical()
                .id_salt("dataset_table_rows")
                .auto_shrink([false, false]);
            if std::mem::take(&mut table.scroll_to_selected)
                && let Some(position) = table.selected_position()
            {
                // A row of `show_rows` is its height plus the item spacing; keep two rows above.
                let step = row_height + ui.spacing().item_spacing.y;
                scroll = scroll.vertical_scroll_offset(position.saturating_sub(2) as f32 * step);
            }
            scroll.show_rows(ui, row_height, table.visible.len(), |ui, range| {
                let mut picked = None;
                for (k, &row) in table.visible[range.clone()].iter().enumerate() {
                    if row_ui(ui, table, row, (range.start + k) % 2 == 1, row_height) {
                        picked = Some(row);
                    }
                }
                if let Some(row) = picked {
                    table.selected = Some(row);
                }
            });
        });
}

/// The header: one sort button per shown column, each as wide as its column.
fn header_row_ui(ui: &mut egui::Ui, table: &mut DatasetTable) {
    let mut clicked = None;
    ui.horizontal(|ui| {
        for &c in &table.shown_columns {
            let arrow = match table.sort {
                Some((s, true)) if s == c => " ^",
                Some((s, false)) if s == c => " v",
                _ => "",
            };
            let name = format!("{}{arrow}", table.columns.names[c]);
            let button = egui::Button::new(egui::RichText::new(name).strong()).frame(false);
            cell_ui(ui, [table.widths[c], ui.spacing().interact_size.y], |ui| {
                if ui
                    .add(button)
                    .on_hover_text("Sort by this column (click again to reverse)")
                    .clicked()
                {
                    clicked = Some(c);
                }
            });
        }
    });
    if let Some(c) = clicked {
        table.sort = match table.sort {
            Some((s, ascending)) if s == c => Some((c, !ascending)),
            _ => Some((c, true)),
        };
    }
}

/// One protein's row (`striped` shades it); returns whether its id was clicked.
fn row_ui(ui: &mut egui::Ui, table: &DatasetTable, row: usize, striped: bool, height: f32) -> bool {
    let background = ui.painter().add(egui::Shape::Noop);
    let mut picked = false;
    let response = ui.horizontal(|ui| {
        for &c in &table.shown_columns {
            let cell = table.columns.rows[row].get(c).map_or("", String::as_str);
            let shown: String = cell.chars().take(CELL_CHARS).collect();
            cell_ui(ui, [table.widths[c], height], |ui| {
                if c == 0 {
                    let label = egui::Button::selectable(table.selected == Some(row), shown);
                    picked |= ui
                        .add(label)
                        .on_hover_text("Select this protein (its point is outlined in the map)")
                        .clicked();
                } else {
                    let label = ui.add(egui::Label::new(shown).truncate());
                    if cell.chars().count() > CELL_CHARS {
                        label.on_hover_text(cell);
                    }
                }
            });
        }
    });
    if striped {
        let fill = ui.visuals().faint_bg_color;
        ui.painter().set(
            background,
            egui::Shape::rect_filled(response.response.rect, 0.0, fill),
        );
    }
    picked
}

/// A table cell of exactly `size`, its content left-aligned and centred vertically.
fn cell_ui(ui: &mut egui::Ui, size: [f32; 2], content: impl FnOnce(&mut egui::Ui)) {
    let size = egui::vec2(size[0], size[1]);
    ui.allocate_ui_with_layout(
        size,
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_size(size);
            ui.set_max_width(size.x);
            content(ui);
        },
    );
}

/// What is selected, and whether the filters hide it.
fn selected_row_note(ui: &mut egui::Ui, table: &mut DatasetTable) {
    let Some(row) = table.selected else {
        return;
    };
    let id = table.columns.rows[row].first().cloned().unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Selected: {id}"));
        if table.selected_position().is_none() {
            ui.weak("(hidden by the filters)");
        }
        if ui
            .small_button("Clear")
            .on_hover_text("Deselect this protein")
            .clicked()
        {
            table.selected = None;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_numbers_as_numbers_and_filters_by_sequence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fasta = dir.path().join("s.fasta");
        std::fs::write(&fasta, ">a\nMKVLAAGIWMKV\n>b\nGG\n>c\nMKVAAGIW\n").expect("write");
        let set = crate::data::open_data_files(&[fasta]).expect("open");
        let mut table = DatasetTable::new(&set);
        let length = table
            .columns
            .names
            .iter()
            .position(|c| c == "length")
            .expect("length column");
        table.sort = Some((length, true));
        table.refilter();
        assert_eq!(table.visible, vec![1, 2, 0], "2 < 8 < 12, not text order");
        table.sort = Some((length, false));
        table.refilter();
        assert_eq!(table.visible, vec![0, 2, 1]);
        table.sequence_filter = "aagiw".into();
        table.refilter();
        assert_eq!(
            table.visible,
            vec![0, 2],
            "both carry the motif, longest first"
        );
        table.filter = "c".into();
        table.refilter();
        assert_eq!(table.visible, vec![2]);
    }
}
