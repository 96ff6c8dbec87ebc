//! The layer-sweep plot shared by the probe views: one line per series against the layer, each
//! measure in its own colour-blind-safe colour and marker (its untrained baseline dashed in the
//! same colour), round ticks on both axes (integer layers), a height that grows with the window,
//! the legend under the plot (never over a line), and its "Save figure" row, which draws the same series as a publication figure.

use eframe::egui;
use egui_plot::{AxisHints, GridInput, GridMark, Line, MarkerShape, Plot, PlotPoints, Points};

use super::figure_export::{FigureExport, figure_export_ui};
use crate::export::nice_ticks_at_least;
use crate::export::{LineFigure, LineSeries, distinct_series_colours, line_svg};

/// One marker shape per measure, in the order the measures first appear.
const MARKERS: [MarkerShape; 6] = [
    MarkerShape::Circle,
    MarkerShape::Square,
    MarkerShape::Diamond,
    MarkerShape::Up,
    MarkerShape::Down,
    MarkerShape::Cross,
];

/// Grid marks at round values; steps of at least `min_step` (1 for layers).
fn round_marks(input: &GridInput, target: usize, min_step: f64) -> Vec<GridMark> {
    let (min, max) = input.bounds;
    let ticks = nice_ticks_at_least(min, max, target, min_step);
    let step = match ticks.as_slice() {
        [a, b, ..] => b - a,
        _ => (max - min).abs().max(f64::EPSILON),
    };
    ticks
        .into_iter()
        .map(|value| GridMark {
            value,
            step_size: step,
        })
        .collect()
}

/// A tick label with as many decimals as its step needs (0.45 and 0.5 at a step of 0.05 read
/// "0.45" and "0.50", never "0.5" twice).
fn tick_text(value: f64, step: f64) -> String {
    // The fewest decimals that write the step exactly (0.05 -> 2, 0.025 -> 3, 2 -> 0).
    let decimals = if step > 0.0 && step.is_finite() {
        (0..=6)
            .find(|&d| {
                let scaled = step * 10f64.powi(d);
                (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
            })
            .unwrap_or(6) as usize
    } else {
        2
    };
    format!("{value:.decimals$}")
}

/// The plot's height: a third of the window, at least 220 and at most 560 points.
fn plot_height(ui: &egui::Ui) -> f32 {
    (ui.ctx().content_rect().height() * 0.33).clamp(220.0, 560.0)
}

/// The legend under the plot, outside the data (a legend inside would cover lines in some
/// corner): per series a line sample (dashed for an untrained baseline), its marker and name.
fn legend_row_ui(ui: &mut egui::Ui, series: &[LineSeries], measures: &[usize]) {
    ui.horizontal_wrapped(|ui| {
        for (s, &measure) in series.iter().zip(measures) {
            let [r, g, b] = s.rgb;
            let colour = egui::Color32::from_rgb(r, g, b);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(30.0, 14.0), egui::Sense::hover());
            let painter = ui.painter();
            let (left, right) = (rect.left_center(), rect.right_center());
            let stroke = egui::Stroke::new(2.0, colour);
            if s.dashed {
                painter.extend(egui::Shape::dashed_line(&[left, right], stroke, 5.0, 3.0));
            } else {
                painter.line_segment([left, right], stroke);
            }
            marker_shape(
                painter,
                rect.center(),
                MARKERS[measure % MARKERS.len()],
                colour,
                !s.dashed,
            );
            ui.label(&s.name);
            ui.add_space(8.0);
        }
        ui.weak(PLOT_NAVIGATION);
    });
}

/// How every plot but the embedding map is navigated, said under each.
pub const PLOT_NAVIGATION: &str = "Ctrl + wheel zooms, drag pans, double-click resets";

/// Paints `shape` (as the plot draws its points) at `centre`, filled or as an outline.
fn marker_shape(
    painter: &egui::Painter,
    centre: egui::Pos2,
    shape: MarkerShape,
    colour: egui::Color32,
    filled: bool,
) {
    let r = 4.0;
    let (fill, stroke) = if filled {
        (colour, egui::Stroke::NONE)
    } else {
        (egui::Color32::TRANSPARENT, egui::Stroke::new(1.5, colour))
    };
    let polygon = |points: Vec<egui::Pos2>| {
        painter.add(egui::Shape::convex_polygon(points, fill, stroke));
    };
    let at = |dx: f32, dy: f32| centre + egui::vec2(dx * r, dy * r);
    match shape {
        MarkerShape::Square => polygon(vec![
            at(-1.0, -1.0),
            at(1.0, -1.0),
            at(1.0, 1.0),
            at(-1.0, 1.0),
        ]),
        MarkerShape::Diamond => polygon(vec![
            at(0.0, -1.2),
            at(1.2, 0.0),
            at(0.0, 1.2),
            at(-1.2, 0.0),
        ]),
        MarkerShape::Up => polygon(vec![at(0.0, -1.2), at(1.1, 0.9), at(-1.1, 0.9)]),
        MarkerShape::Down => polygon(vec![at(-1.1, -0.9), at(1.1, -0.9), at(0.0, 1.2)]),
        MarkerShape::Cross => {
            let cross = egui::Stroke::new(2.0, colour);
            painter.line_segment([at(-1.0, -1.0), at(1.0, 1.0)], cross);
            painter.line_segment([at(-1.0, 1.0), at(1.0, -1.0)], cross);
        }
        _ => {
            painter.circle(centre, r, fill, stroke);
        }
    }
}

/// Draws `series` against the layer (plot `id`, vertical axis `y_label`) and the export row
/// for a figure titled `title` (written with the result's `provenance` beside it).
pub fn layer_sweep_ui(
    ui: &mut egui::Ui,
    id: &str,
    title: &str,
    y_label: &str,
    mut series: Vec<LineSeries>,
    export: &mut FigureExport,
    provenance: &crate::provenance::Provenance,
) {
    let measures = distinct_series_colours(&mut series);
    let plot = Plot::new(id)
        .height(plot_height(ui))
        // The wheel scrolls the page; Ctrl + wheel zooms (see [`PLOT_NAVIGATION`]).
        .allow_scroll(false)
        // Layer numbers are narrow: labels 24 points apart still read (egui_plot's default
        // needs 60, which hides every label of a 34-layer sweep in a half-width plot).
        .custom_x_axes(vec![
            AxisHints::new_x().label("layer").label_spacing(24.0..=36.0),
        ])
        .y_axis_label(y_label)
        .x_grid_spacer(|input| round_marks(&input, 8, 1.0))
        .y_grid_spacer(|input| round_marks(&input, 5, 0.0))
        .y_axis_formatter(|mark, _| tick_text(mark.value, mark.step_size))
        .show(ui, |plot| {
            for (s, &measure) in series.iter().zip(&measures) {
                let [r, g, b] = s.rgb;
                let colour = egui::Color32::from_rgb(r, g, b);
                let mut line =
                    Line::new(s.name.clone(), PlotPoints::new(s.points.clone())).color(colour);
                if s.dashed {
                    line = line.style(egui_plot::LineStyle::dashed_loose());
                }
                plot.line(line);
                plot.points(
                    Points::new(s.name.clone(), PlotPoints::new(s.points.clone()))
                        .shape(MARKERS[measure % MARKERS.len()])
                        .filled(!s.dashed)
                        .radius(3.5)
                        .color(colour),
                );
            }
        });
    let label = format!("{title} (layer sweep plot)");
    plot.response
        .widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Canvas, true, &label));
    legend_row_ui(ui, &series, &measures);
    if figure_export_ui(ui, "Layer sweep", export) {
        let (title, y_label) = (title.to_owned(), y_label.to_owned());
        export.save(ui.ctx(), Some(provenance), move |size| {
            let mut figure = LineFigure::new(title, "layer", &y_label, series);
            figure.width = size.width;
            figure.height = size.height;
            line_svg(&figure)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_carry_the_decimals_of_their_step() {
        assert_eq!(tick_text(0.45, 0.05), "0.45");
        assert_eq!(tick_text(0.5, 0.05), "0.50");
        assert_eq!(tick_text(0.3, 0.1), "0.3");
        assert_eq!(tick_text(12.0, 2.0), "12");
        assert_eq!(tick_text(0.025, 0.025), "0.025");
    }
}
