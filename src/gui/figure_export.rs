//! "Save figure" controls shared by every plot: a path (`.svg` or `.png`), the figure size and
//! the PNG resolution. The figure is drawn from the plot's data as SVG (and rasterised for PNG)
//! on a worker thread; an existing file is replaced only after a second click.

use eframe::egui;

use super::background_write::BackgroundWrite;

/// Figure size and resolution chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FigureSize {
    /// Width in CSS pixels (1/96 inch).
    pub width: f64,
    /// Height in CSS pixels.
    pub height: f64,
    /// PNG resolution, dots per inch.
    pub dpi: f64,
}

impl Default for FigureSize {
    fn default() -> Self {
        Self {
            width: 720.0,
            height: 540.0,
            dpi: 300.0,
        }
    }
}

/// State of one plot's export controls.
#[derive(Debug, Default)]
pub struct FigureExport {
    /// Where the figure goes; the extension picks SVG or PNG.
    pub path: String,
    /// Size and resolution.
    pub size: FigureSize,
    /// The write and its outcome.
    write: BackgroundWrite,
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
    /// the file exists and the user has not confirmed.
    pub fn save(
        &mut self,
        ctx: &egui::Context,
        svg_of: impl FnOnce(FigureSize) -> String + Send + 'static,
    ) {
        let size = self.size;
        self.write
            .start(ctx, &self.path, "save-figure", move |path| {
                crate::export::write_figure(path, &svg_of(size), size.dpi, true)
                    .map_err(|e| e.to_string())
            });
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
                .range(200.0..=4000.0)
                .prefix("w ")
                .suffix(" px"),
        )
        .on_hover_text("Figure width in pixels (SVG user units)");
        if export.height_from_content {
            ui.weak("height follows the length");
        } else {
            ui.add(
                egui::DragValue::new(&mut export.size.height)
                    .range(150.0..=4000.0)
                    .prefix("h ")
                    .suffix(" px"),
            )
            .on_hover_text("Figure height in pixels (SVG user units)");
        }
        ui.add(
            egui::DragValue::new(&mut export.size.dpi)
                .range(48.0..=1200.0)
                .suffix(" DPI (PNG)"),
        )
        .on_hover_text("Resolution of a PNG (the SVG is resolution-free)");
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
