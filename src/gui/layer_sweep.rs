//! The layer-sweep plot shared by the probe views: one line per series (dashed for the
//! untrained baseline) against the layer, and its "Save figure" row, which draws the same series
//! as a publication figure.

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::figure_export::{FigureExport, figure_export_ui};
use crate::export::{LineFigure, LineSeries, line_svg};
use polars::prelude::{Column, DataFrame, PolarsResult};

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

/// A named number of one run: a column of [`layer_table`].
pub type LayerColumn<T> = (&'static str, fn(&T) -> f64);

/// The per-layer results as a table: `model` ("trained" / "untrained"), `layer`, then one
/// column per `(name, value)` of `numbers`; rows are `trained` then `untrained`, in order.
pub fn layer_table<T>(
    trained: &[T],
    untrained: &[T],
    layer: fn(&T) -> usize,
    numbers: &[LayerColumn<T>],
) -> PolarsResult<DataFrame> {
    let rows: Vec<(&str, &T)> = trained
        .iter()
        .map(|r| ("trained", r))
        .chain(untrained.iter().map(|r| ("untrained", r)))
        .collect();
    let mut columns = vec![
        Column::new(
            "model".into(),
            rows.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
        ),
        Column::new(
            "layer".into(),
            rows.iter()
                .map(|(_, r)| layer(r) as u32)
                .collect::<Vec<_>>(),
        ),
    ];
    for (name, value) in numbers {
        columns.push(Column::new(
            (*name).into(),
            rows.iter().map(|(_, r)| value(r)).collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(rows.len(), columns)
}
