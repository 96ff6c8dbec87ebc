//! "Save figure" controls shared by every plot: a path (`.svg` or `.png`), the figure size and
//! the PNG resolution. The figure is drawn from the plot's data as SVG (and rasterised for PNG)
//! on a worker thread; an existing file is replaced only after a second click.

use eframe::egui;

use super::background_write::BackgroundWrite;
pub use crate::export::FigureSize;
use crate::export::{FIGURE_DPIS, FIGURE_HEIGHTS, FIGURE_WIDTHS};

/// State of one plot's export controls.
#[derive(Debug, Default)]
pub struct FigureExport {
    /// Where the figure goes; the extension picks SVG or PNG.
    pub path: String,
    /// Size and resolution.
    pub size: FigureSize,
    /// The write and its outcome.
    write: BackgroundWrite,
    /// The stem last proposed for the result shown ([`Self::follow`]).
    suggested: Option<String>,
    /// The figure's height follows its content (a wrapped track): no height field.
    pub height_from_content: bool,
}

impl FigureExport {
    /// Controls with `default_path` (e.g. `ss8_layers.svg`) filled in.
    pub fn new(default_path: &str) -> Self {
        Self {
            path: default_path.to_owned(),
            ..Self::default()
        }
    }

    /// Controls for a figure whose height follows its content (only the width is chosen).
    pub fn with_height_from_content(default_path: &str) -> Self {
        Self {
            height_from_content: true,
            ..Self::new(default_path)
        }
    }

    /// Starts writing the figure (`svg_of(size)` builds the document, on the worker thread) unless
    /// the file exists and the user has not confirmed; a result's figure gets its `provenance`
    /// beside it.
    pub fn save(
        &mut self,
        ctx: &egui::Context,
        provenance: Option<&crate::provenance::Provenance>,
        svg_of: impl FnOnce(FigureSize) -> String + Send + 'static,
    ) {
        let provenance = provenance.cloned();
        let size = match self.size.checked(self.height_from_content) {
            Ok(size) => size,
            Err(invalid) => {
                self.write.message = Some(format!("Not saved: {invalid}"));
                return;
            }
        };
        self.write
            .start(ctx, &self.path, "save-figure", move |path| {
                let svg = svg_of(size);
                match &provenance {
                    Some(p) => {
                        crate::export::write_figure_with_provenance(path, &svg, size.dpi, true, p)
                            .map(|_| ())
                    }
                    None => crate::export::write_figure(path, &svg, size.dpi, true),
                }
                .map_err(|e| e.to_string())
            });
    }

    /// Names the file after the result shown: when `stem` differs from the last one proposed
    /// (another result, layer, chain or map), the path's stem becomes `stem`, keeping its
    /// folder and extension; while the result stays, what the user typed stays.
    pub fn follow(&mut self, stem: &str) {
        crate::export::follow_name(&mut self.path, &mut self.suggested, stem, "svg");
    }

    /// A new result is shown: the last "wrote …" message is about the previous one.
    pub fn result_replaced(&mut self) {
        self.write.forget_message();
    }

    /// Whether a write is in progress.
    pub fn is_saving(&self) -> bool {
        self.write.is_running()
    }
}

/// Draws the export row (`label` names the figure, e.g. "Layer sweep"); returns true when the
/// user clicked "Save figure" (the caller then calls [`FigureExport::save`] with its data).
pub fn figure_export_ui(ui: &mut egui::Ui, label: &str, export: &mut FigureExport) -> bool {
    export.write.poll();
    let mut clicked = false;
    ui.horizontal_wrapped(|ui| {
        let name = ui.label(format!("{label} figure:"));
        ui.add(
            egui::TextEdit::singleline(&mut export.path)
                .desired_width(200.0)
                .hint_text("figure.svg / figure.png"),
        )
        .labelled_by(name.id)
        .on_hover_text("The file to write: .svg (vector) or .png (raster at the DPI given); a relative name goes to the output folder");
        super::file_dialog::browse_button(
            ui,
            &mut export.path,
            super::file_dialog::DialogKind::SaveFigure,
        );
        ui.add(
            egui::DragValue::new(&mut export.size.width)
                .prefix("w ")
                .suffix(" px"),
        )
        .on_hover_text(format!("Figure width in pixels (SVG user units), {} to {}", FIGURE_WIDTHS.0, FIGURE_WIDTHS.1));
        if export.height_from_content {
            ui.weak("height follows the length");
        } else {
            ui.add(
                egui::DragValue::new(&mut export.size.height)
                    .prefix("h ")
                    .suffix(" px"),
            )
            .on_hover_text(format!("Figure height in pixels (SVG user units), {} to {}", FIGURE_HEIGHTS.0, FIGURE_HEIGHTS.1));
        }
        ui.add(
            egui::DragValue::new(&mut export.size.dpi)
                .suffix(" DPI (PNG)"),
        )
        .on_hover_text(format!("Resolution of a PNG, {} to {} DPI (the SVG is resolution-free)", FIGURE_DPIS.0, FIGURE_DPIS.1));
        let button = ui.add_enabled(
            !export.is_saving(),
            egui::Button::new(format!("Save {} figure", label.to_lowercase())),
        );
        clicked = button
            .on_hover_text("Write the figure as shown, drawn from the data (not a screenshot)")
            .clicked();
        if let Some(message) = &export.write.message {
            ui.label(message);
        }
    });
    clicked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_out_of_range_is_refused_not_clamped() {
        let ctx = egui::Context::default();
        let mut export = FigureExport::new("never_written.svg");
        export.size.dpi = 5.0;
        export.save(&ctx, None, |_| {
            unreachable!("an out-of-range size draws nothing")
        });
        assert_eq!(
            export.write.message.as_deref(),
            Some(
                "Not saved: figure resolution (DPI) must be a number at least 48 and at most 1200, got 5"
            )
        );
        assert_eq!(export.size.dpi, 5.0, "the value the user typed stays");
        assert!(!export.is_saving());
    }
}
