//! A contact map as the Contacts and Heads views draw it: a predictor's scores above the
//! diagonal over the true contacts below it, its top-L pairs marked correct (green) or wrong
//! (red), zoomable, with the pair under the pointer; and the same as an SVG figure.

use eframe::egui;
use egui_plot::{Plot, PlotImage, PlotPoint, PlotPoints, Points};

use super::figure_export::FigureSize;
use crate::data::ContactMap;
use crate::export::{HeatmapFigure, HeatmapMarker};
use crate::probes::{CONTACT_MIN_SEPARATION, top_contact_pairs};

/// Colours of correct and wrong top-L contacts.
pub const CORRECT: [u8; 3] = [44, 160, 44];
/// See [`CORRECT`].
pub const WRONG: [u8; 3] = [214, 39, 40];

/// One chain's map on screen: the truth, the predictor's scores in `[0, 1]` (row-major
/// `L x L`) and their texture.
pub struct ContactMapImage {
    /// True contacts.
    pub truth: ContactMap,
    /// Scores in `[0, 1]`, row-major `L x L`.
    pub predicted: Vec<f32>,
    /// What a score is ("predicted p", "APC score, scaled").
    pub value_name: &'static str,
    texture: egui::TextureHandle,
}

impl ContactMapImage {
    /// Builds the texture of `predicted` over `truth` (named `texture_name`).
    pub fn new(
        ui: &egui::Ui,
        truth: ContactMap,
        predicted: Vec<f32>,
        value_name: &'static str,
        texture_name: &str,
    ) -> Self {
        let texture = map_texture(ui, &truth, &predicted, texture_name);
        Self {
            truth,
            predicted,
            value_name,
            texture,
        }
    }
}

/// `scores` (row-major `L x L`) rescaled to `[0, 1]` over the pairs at least
/// [`CONTACT_MIN_SEPARATION`] apart (an attention head's APC scores have no scale of their
/// own); the ranking, and so the top-L pairs, is unchanged.
pub fn scaled_to_unit(scores: &[f32], len: usize) -> Vec<f32> {
    let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
    for i in 0..len {
        for j in (i + CONTACT_MIN_SEPARATION).min(len)..len {
            for v in [scores[i * len + j], scores[j * len + i]] {
                low = low.min(v);
                high = high.max(v);
            }
        }
    }
    let span = (high - low).max(f32::MIN_POSITIVE);
    scores
        .iter()
        .map(|&v| ((v - low) / span).clamp(0.0, 1.0))
        .collect()
}

/// Cell values of a contact map figure: predicted probability above the diagonal, the true
/// contacts (1 or 0) below it, NaN where a residue has no Cβ.
pub fn contact_map_cells(predicted: &[f32], truth: &ContactMap) -> Vec<f32> {
    let n = truth.len;
    (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            if !(truth.valid[i] && truth.valid[j]) {
                f32::NAN
            } else if j > i {
                predicted[k]
            } else if i > j {
                f32::from(u8::from(truth.contact(i, j)))
            } else {
                1.0
            }
        })
        .collect()
}

/// Top-L predicted pairs (|i-j| >= 6) and whether each is a true contact.
pub fn top_l_marks(predicted: &[f32], truth: &ContactMap) -> Vec<(usize, usize, bool)> {
    top_contact_pairs(predicted, truth.len, truth.len, CONTACT_MIN_SEPARATION)
        .into_iter()
        .map(|(i, j, _)| (i, j, truth.contact(i, j)))
        .collect()
}

/// The contact map figure of one chain.
pub fn map_figure(
    id: &str,
    truth: &ContactMap,
    predicted: &[f32],
    (probe, value_name): (&str, &str),
    size: FigureSize,
) -> HeatmapFigure {
    let n = truth.len;
    let marks = top_l_marks(predicted, truth);
    let correct = marks.iter().filter(|m| m.2).count();
    let mut figure = HeatmapFigure::new(
        format!(
            "{}: top-L precision {:.2} ({probe})",
            id,
            correct as f64 / marks.len().max(1) as f64
        ),
        n,
        n,
        contact_map_cells(predicted, truth),
        [0.0, 1.0],
    );
    figure.x_label = format!("residue j (upper: {value_name})");
    figure.y_label = "residue i (lower: Cβ < 8 Å)".into();
    figure.colour_bar_label = value_name.into();
    figure.markers = marks
        .iter()
        .map(|&(i, j, ok)| HeatmapMarker {
            row: i,
            col: j,
            rgb: if ok { CORRECT } else { WRONG },
        })
        .collect();
    figure.marker_legend = vec![
        (format!("top-L correct ({correct})"), CORRECT),
        (format!("top-L wrong ({})", marks.len() - correct), WRONG),
    ];
    figure.width = size.width;
    figure.height = size.height;
    figure
}

/// The map's texture: predicted probability above the diagonal, true contacts below.
fn map_texture(
    ui: &egui::Ui,
    truth: &ContactMap,
    predicted: &[f32],
    name: &str,
) -> egui::TextureHandle {
    let n = truth.len;
    let figure = HeatmapFigure::new("", n, n, contact_map_cells(predicted, truth), [0.0, 1.0]);
    let pixels: Vec<egui::Color32> = figure
        .values
        .iter()
        .map(|&v| {
            let [r, g, b] = figure.colour(v);
            egui::Color32::from_rgb(r, g, b)
        })
        .collect();
    ui.ctx().load_texture(
        name,
        egui::ColorImage::new([n, n], pixels),
        egui::TextureOptions::NEAREST,
    )
}

/// The map as a zoomable plot: predicted (upper) over true (lower) with top-L markers, ticks at
/// round residue numbers, and the pair under the pointer with its probability and truth.
pub fn contact_map_plot_ui(
    ui: &mut egui::Ui,
    plot_id: &str,
    shown: &ContactMapImage,
    (id, sequence): (&str, &str),
) {
    let n = shown.truth.len;
    let marks = top_l_marks(&shown.predicted, &shown.truth);
    let correct = marks.iter().filter(|m| m.2).count();
    ui.label(format!(
        "{id}: {n} residues. Upper triangle: {}; lower: true contacts (C-beta < 8 A). \
         Markers: the top-L predicted pairs (|i-j| >= 6), {correct} of {} true contacts (green) and {} not (red).",
        shown.value_name,
        marks.len(),
        marks.len() - correct
    ));
    let size = n as f64;
    // Residue i (1-based) is row y in [n - i, n - i + 1] (residue 1 at the top, as in a matrix)
    // and column x in [i - 1, i].
    let at = |i: usize, j: usize| [j as f64 + 0.5, size - i as f64 - 0.5];
    let (good, bad): (Vec<&(usize, usize, bool)>, Vec<_>) = marks.iter().partition(|m| m.2);
    let (predicted, truth, value_name) = (&shown.predicted, &shown.truth, shown.value_name);
    Plot::new(plot_id)
        .data_aspect(1.0)
        // The wheel scrolls the page; Ctrl + wheel zooms.
        .allow_scroll(false)
        .height(ui.available_height().clamp(240.0, 520.0) - 40.0)
        .x_axis_label("residue j")
        .y_axis_label("residue i")
        .x_grid_spacer(move |input| residue_marks(input.bounds, |r| r - 0.5, |x| x + 0.5))
        .y_grid_spacer(move |input| {
            residue_marks(input.bounds, |r| size - r + 0.5, |y| size - y + 0.5)
        })
        .x_axis_formatter(move |mark, _| residue_label(mark.value + 0.5, size))
        .y_axis_formatter(move |mark, _| residue_label(size - mark.value + 0.5, size))
        .label_formatter(move |hover| {
            let p = match hover {
                egui_plot::HoverPosition::NearDataPoint { position, .. }
                | egui_plot::HoverPosition::Elsewhere { position } => *position,
            };
            let (j, i) = (p.x.floor(), (size - p.y).floor());
            ((0.0..size).contains(&i) && (0.0..size).contains(&j)).then(|| {
                pair_text(
                    sequence,
                    (predicted, value_name),
                    truth,
                    i as usize,
                    j as usize,
                )
            })
        })
        .show(ui, |plot| {
            plot.image(PlotImage::new(
                "map",
                shown.texture.id(),
                PlotPoint::new(size / 2.0, size / 2.0),
                egui::vec2(size as f32, size as f32),
            ));
            let radius = (300.0 / size as f32).clamp(1.0, 4.0);
            for (name, list, rgb) in [
                ("top-L correct", &good, CORRECT),
                ("top-L wrong", &bad, WRONG),
            ] {
                let points: Vec<[f64; 2]> = list.iter().map(|m| at(m.0, m.1)).collect();
                plot.points(
                    Points::new(
                        format!("{name} ({})", points.len()),
                        PlotPoints::new(points),
                    )
                    .color(egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2]))
                    .radius(radius),
                );
            }
        });
    ui.weak(super::layer_sweep::PLOT_NAVIGATION);
}

/// Grid marks at round residue numbers over the plot range `bounds`: `to_plot` maps a residue
/// number to the axis, `to_residue` back.
fn residue_marks(
    bounds: (f64, f64),
    to_plot: impl Fn(f64) -> f64,
    to_residue: impl Fn(f64) -> f64,
) -> Vec<egui_plot::GridMark> {
    let (a, b) = (to_residue(bounds.0), to_residue(bounds.1));
    let ticks = crate::export::nice_ticks_at_least(a.min(b), a.max(b), 6, 1.0);
    let step = match ticks.as_slice() {
        [x, y, ..] => (y - x).abs(),
        _ => 1.0,
    };
    ticks
        .into_iter()
        .map(|r| egui_plot::GridMark {
            value: to_plot(r),
            step_size: step,
        })
        .collect()
}

/// A residue number on an axis (nothing outside `1..=size`).
fn residue_label(residue: f64, size: f64) -> String {
    if (1.0..=size).contains(&residue.round()) {
        format!("{:.0}", residue.round())
    } else {
        String::new()
    }
}

/// What the pointer is on: both residues, the predicted probability and the truth.
fn pair_text(
    sequence: &str,
    (predicted, value_name): (&[f32], &str),
    truth: &ContactMap,
    i: usize,
    j: usize,
) -> String {
    let residue = |k: usize| sequence.chars().nth(k).unwrap_or('?');
    let n = truth.len;
    let probability = predicted
        .get(i * n + j)
        .map_or("-".to_owned(), |p| format!("{p:.3}"));
    let actual = if !(truth.valid[i] && truth.valid[j]) {
        "no coordinates"
    } else if truth.contact(i, j) {
        "contact"
    } else {
        "no contact"
    };
    format!(
        "i {} {}, j {} {} (|i-j| = {})\n{value_name} = {probability}; true: {actual}",
        i + 1,
        residue(i),
        j + 1,
        residue(j),
        i.abs_diff(j)
    )
}
