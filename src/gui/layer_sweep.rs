//! The layer-sweep plot shared by the probe views: one line per series (dashed for the
//! untrained baseline) against the layer, and its "Save figure" row, which draws the same series
//! as a publication figure.

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::figure_export::{FigureExport, figure_export_ui};
use crate::export::{LineFigure, LineSeries, line_svg};

/// Draws `series` against the layer (plot `id`, vertical axis `y_label`) and the export row
/// for a figure titled `title`.
pub fn layer_sweep_ui(
    ui: &mut egui::Ui,
    id: &str,
    title: &str,
    y_label: &str,
    series: Vec<LineSeries>,
    export: &mut FigureExport,
) {
    Plot::new(id)
        .legend(Legend::default())
        .height(220.0)
        .x_axis_label("layer")
        .y_axis_label(y_label)
        .show(ui, |plot| {
            for s in &series {
                let [r, g, b] = s.rgb;
                let mut line = Line::new(s.name.clone(), PlotPoints::new(s.points.clone()))
                    .color(egui::Color32::from_rgb(r, g, b));
                if s.dashed {
                    line = line.style(egui_plot::LineStyle::dashed_loose());
                }
                plot.line(line);
            }
        });
    if figure_export_ui(ui, "Layer sweep", export) {
        let (title, y_label) = (title.to_owned(), y_label.to_owned());
        export.save(ui.ctx(), move |size| {
            let mut figure = LineFigure::new(title, "layer", &y_label, series);
            figure.width = size.width;
            figure.height = size.height;
            line_svg(&figure)
        });
    }
}
