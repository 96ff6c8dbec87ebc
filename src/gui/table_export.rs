//! "Save table" controls shared by every results table and the data table: a path (`.csv` or
//! `.parquet`; the extension picks the format), written on a worker thread and
//! atomically; an existing file is replaced only after a second click.

use eframe::egui;
use polars::prelude::DataFrame;

use super::background_write::BackgroundWrite;
use crate::provenance::Provenance;

/// State of one table's export controls.
#[derive(Debug, Default)]
pub struct TableExport {
    /// Where the table goes.
    pub path: String,
    /// The write and its outcome.
    write: BackgroundWrite,
    /// The stem last proposed for the result shown ([`Self::follow`]).
    suggested: Option<String>,
}

impl TableExport {
    /// Controls with `default_path` (e.g. `ss8_by_layer.csv`) filled in.
    pub fn new(default_path: &str) -> Self {
        Self {
            path: default_path.to_owned(),
            ..Self::default()
        }
    }

    /// Names the file after the result shown: when `stem` differs from the last one proposed
    /// (another result, layer, chain or map), the path's stem becomes `stem`, keeping its
    /// folder and extension; while the result stays, what the user typed stays.
    pub fn follow(&mut self, stem: &str) {
        crate::export::follow_name(&mut self.path, &mut self.suggested, stem, "csv");
    }

    /// A new result is shown: the last "wrote …" message is about the previous one.
    pub fn result_replaced(&mut self) {
        self.write.forget_message();
    }

    /// Starts writing `frame` unless the file exists and the user has not confirmed; a result
    /// table gets its `provenance` beside it (`NAME.provenance.json`).
    pub fn save(
        &mut self,
        ctx: &egui::Context,
        frame: polars::prelude::PolarsResult<DataFrame>,
        provenance: Option<&Provenance>,
    ) {
        let provenance = provenance.cloned();
        let mut frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                self.write.message = Some(format!("cannot build the table: {e}"));
                return;
            }
        };
        self.write
            .start(ctx, &self.path, "save-table", move |path| {
                match &provenance {
                    Some(p) => {
                        crate::export::write_table_with_provenance(path, &mut frame, p).map(|_| ())
                    }
                    None => crate::export::write_table(path, &mut frame),
                }
                .map_err(|e| e.to_string())
            });
    }
}

/// The path field, Browse and "Save <label> table" for `export`; true when the button was
/// clicked (the caller then builds the frame and calls [`TableExport::save`]).
pub fn table_export_ui(ui: &mut egui::Ui, label: &str, export: &mut TableExport) -> bool {
    export.write.poll();
    let mut clicked = false;
    ui.horizontal_wrapped(|ui| {
        let name = ui.label(format!("{label} table:"));
        ui.add(
            egui::TextEdit::singleline(&mut export.path)
                .desired_width(200.0)
                .hint_text("table.csv / table.parquet"),
        )
        .labelled_by(name.id)
        .on_hover_text(
            "The file to write: .csv or .parquet; a relative name goes to the output folder",
        );
        super::file_dialog::browse_button(
            ui,
            &mut export.path,
            super::file_dialog::DialogKind::SaveTable,
        );
        clicked = ui
            .add_enabled(
                !export.write.is_running() && !export.path.trim().is_empty(),
                egui::Button::new(format!("Save {} table", label.to_lowercase())),
            )
            .on_hover_text(".csv or .parquet")
            .clicked();
        if let Some(message) = &export.write.message {
            ui.label(message);
        }
    });
    clicked
}
