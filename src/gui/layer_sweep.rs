//! The layer-sweep plot shared by the probe views: one line per series against the layer, each
//! measure in its own colour-blind-safe colour and marker (its untrained baseline dashed in the
//! same colour), round ticks on both axes (integer layers), a height that grows with the window,
//! the legend under the plot (never over a line), and its "Save figure" row, which draws the same series as a publication figure.

use eframe::egui;
use egui_plot::{
    AxisHints, Bar, BarChart, GridInput, GridMark, HLine, Line, LineStyle, MarkerShape, Plot,
    PlotPoints, PlotUi, Points,
};

use super::figure_export::{FigureExport, figure_export_ui};
use crate::export::nice_ticks_at_least;
use crate::export::{
    BASELINE_COLOUR, Baseline, LineFigure, LineSeries, distinct_series_colours, line_svg,
    single_layer,
};

/// One layer-sweep plot of a result: its series against the layer and its reference levels.
pub struct SweepPlot<'a> {
    /// The plot's egui id (one per view).
    pub id: &'a str,
    /// The name of its "Save figure" row ("Layer sweep" where a view has one plot).
    pub figure_name: &'a str,
    /// What its file is named after, before the model's name (`ss8_by_layer`).
    pub file_stem: &'a str,
    /// The figure's title (naming the model).
    pub title: String,
    /// The vertical axis: one metric.
    pub y_label: &'a str,
    /// The measured lines (trained solid, untrained dashed).
    pub series: Vec<LineSeries>,
    /// Majority class, random predictor or chance: dashed grey levels, in the legend.
    pub baselines: Vec<Baseline>,
}

fn rgb(colour: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(colour[0], colour[1], colour[2])
}

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
/// corner): per series a line sample (dashed for an untrained baseline) with its marker, or a
/// bar swatch for a single-layer result, and its name; then each baseline with its value.
fn legend_row_ui(ui: &mut egui::Ui, plot: &SweepPlot, measures: &[usize], bars: bool) {
    ui.horizontal_wrapped(|ui| {
        for (s, &measure) in plot.series.iter().zip(measures) {
            keep_entry_together(ui, &s.name);
            let colour = rgb(s.rgb);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(30.0, 14.0), egui::Sense::hover());
            let painter = ui.painter();
            if bars {
                let swatch = egui::Rect::from_center_size(rect.center(), egui::vec2(24.0, 10.0));
                let fill = if s.dashed {
                    colour.gamma_multiply(0.35)
                } else {
                    colour
                };
                painter.rect_filled(swatch, 1.0, fill);
                painter.rect_stroke(
                    swatch,
                    1.0,
                    egui::Stroke::new(1.0, colour),
                    egui::StrokeKind::Inside,
                );
            } else {
                sample_line(painter, rect, colour, s.dashed, 5.0);
                marker_shape(
                    painter,
                    rect.center(),
                    MARKERS[measure % MARKERS.len()],
                    colour,
                    !s.dashed,
                );
            }
            ui.add(egui::Label::new(&s.name).wrap_mode(egui::TextWrapMode::Extend));
            ui.add_space(8.0);
        }
        for baseline in &plot.baselines {
            let text = baseline_text(baseline);
            keep_entry_together(ui, &text);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(30.0, 14.0), egui::Sense::hover());
            sample_line(ui.painter(), rect, rgb(BASELINE_COLOUR), true, 2.0);
            ui.add(egui::Label::new(text).wrap_mode(egui::TextWrapMode::Extend));
            ui.add_space(8.0);
        }
        ui.weak(PLOT_NAVIGATION);
    });
}

/// Starts a new legend row unless an entry (its 30-point sample and `text`) fits whole on
/// this one: a name is never broken across lines.
fn keep_entry_together(ui: &mut egui::Ui, text: &str) {
    let galley = egui::WidgetText::from(text).into_galley(
        ui,
        Some(egui::TextWrapMode::Extend),
        f32::INFINITY,
        egui::TextStyle::Body,
    );
    let needed = 30.0 + ui.spacing().item_spacing.x + galley.size().x;
    if ui.available_size_before_wrap().x < needed {
        ui.end_row();
    }
}

/// A baseline's legend text: its name and level.
fn baseline_text(baseline: &Baseline) -> String {
    format!("{} ({:.3})", baseline.label, baseline.value)
}

/// A horizontal line sample across `rect`, dashed in `dash` point steps when asked.
fn sample_line(
    painter: &egui::Painter,
    rect: egui::Rect,
    colour: egui::Color32,
    dashed: bool,
    dash: f32,
) {
    let (left, right) = (rect.left_center(), rect.right_center());
    let stroke = egui::Stroke::new(2.0, colour);
    if dashed {
        painter.extend(egui::Shape::dashed_line(
            &[left, right],
            stroke,
            dash,
            dash * 0.6,
        ));
    } else {
        painter.line_segment([left, right], stroke);
    }
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

/// Draws `plot` (a sweep against the layer, or bars for a single layer) with its legend and
/// the export row of the same figure (written with the result's `provenance` beside it).
pub fn layer_sweep_ui(
    ui: &mut egui::Ui,
    mut plot: SweepPlot,
    export: &mut FigureExport,
    provenance: &crate::provenance::Provenance,
) {
    let measures = distinct_series_colours(&mut plot.series);
    let layer = single_layer(&plot.series);
    let x_label = match layer {
        Some(x) => format!("layer {x:.0}"),
        None => "layer".to_owned(),
    };
    let mut chart = Plot::new(plot.id)
        .height(plot_height(ui))
        // The wheel scrolls the page; Ctrl + wheel zooms (see [`PLOT_NAVIGATION`]).
        .allow_scroll(false)
        // Layer numbers are narrow: labels 24 points apart still read (egui_plot's default
        // needs 60, which hides every label of a 34-layer sweep in a half-width plot).
        .custom_x_axes(vec![
            AxisHints::new_x().label(x_label).label_spacing(24.0..=36.0),
        ])
        .y_axis_label(plot.y_label)
        .y_grid_spacer(|input| round_marks(&input, 5, 0.0))
        .y_axis_formatter(|mark, _| tick_text(mark.value, mark.step_size));
    chart = match layer {
        // Bars stand at 0, 1, ...: their positions are no layers, so no x ticks.
        Some(_) => chart.x_grid_spacer(|_| Vec::new()).include_y(0.0),
        None => chart
            .x_grid_spacer(|input| round_marks(&input, 8, 1.0))
            .x_axis_formatter(|mark, _| tick_text(mark.value, mark.step_size.max(1.0))),
    };
    let response = chart.show(ui, |chart| {
        match layer {
            Some(_) => bars_ui(chart, &plot.series),
            None => lines_ui(chart, &plot.series, &measures),
        }
        for baseline in &plot.baselines {
            chart.hline(
                HLine::new(baseline_text(baseline), baseline.value)
                    .color(rgb(BASELINE_COLOUR))
                    .width(1.5)
                    .style(LineStyle::dashed_dense()),
            );
        }
    });
    let label = format!("{} (layer sweep plot)", plot.title);
    response
        .response
        .widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Canvas, true, &label));
    legend_row_ui(ui, &plot, &measures, layer.is_some());
    export.follow(&crate::export::result_stem(&[
        plot.file_stem,
        &provenance.model.name,
    ]));
    if figure_export_ui(ui, plot.figure_name, export) {
        let SweepPlot {
            title,
            y_label,
            series,
            baselines,
            ..
        } = plot;
        let y_label = y_label.to_owned();
        export.save(ui.ctx(), Some(provenance), move |size| {
            let mut figure = LineFigure::new(title, "layer", &y_label, series);
            figure.baselines = baselines;
            figure.width = size.width;
            figure.height = size.height;
            line_svg(&figure)
        });
    }
}

/// Each series as a line with its measure's marker (filled for the trained model).
fn lines_ui(chart: &mut PlotUi, series: &[LineSeries], measures: &[usize]) {
    for (s, &measure) in series.iter().zip(measures) {
        let colour = rgb(s.rgb);
        let mut line = Line::new(s.name.clone(), PlotPoints::new(s.points.clone())).color(colour);
        if s.dashed {
            line = line.style(LineStyle::dashed_loose());
        }
        chart.line(line);
        chart.points(
            Points::new(s.name.clone(), PlotPoints::new(s.points.clone()))
                .shape(MARKERS[measure % MARKERS.len()])
                .filled(!s.dashed)
                .radius(3.5)
                .color(colour),
        );
    }
}

/// One bar per series of a single-layer result, untrained bars pale.
fn bars_ui(chart: &mut PlotUi, series: &[LineSeries]) {
    for (k, s) in series.iter().enumerate() {
        let Some(value) = s.points.iter().find(|p| p[1].is_finite()).map(|p| p[1]) else {
            continue;
        };
        let colour = rgb(s.rgb);
        let fill = if s.dashed {
            colour.gamma_multiply(0.35)
        } else {
            colour
        };
        chart.bar_chart(
            BarChart::new(
                s.name.clone(),
                vec![
                    Bar::new(k as f64, value)
                        .width(0.6)
                        .fill(fill)
                        .stroke(egui::Stroke::new(1.5, colour))
                        .name(format!("{} {value:.3}", s.name)),
                ],
            )
            .color(colour),
        );
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
