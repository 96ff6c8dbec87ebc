//! A substitution matrix as the Variants view draws it: the sequence along x (numbered with the
//! offset, zoomable and draggable along x), the 20 amino acids along y in biochemical groups,
//! a diverging colour scale centred at 0 (blue: less likely than the wild type, red: more), the
//! wild type of each position marked, and below it a row with each position's mean; hover
//! names the mutation, its score and the assay's value; a click picks the column. The same as
//! an SVG figure.

use std::collections::HashMap;

use eframe::egui;
use egui_plot::{Plot, PlotImage, PlotPoint, PlotPoints, Points};

use super::figure_export::FigureSize;
use crate::data::AMINO_ACIDS;
use crate::export::{HeatmapFigure, HeatmapMarker};

/// Rows from the top: hydrophobic, aromatic, special, polar, positive, negative.
pub const BIOCHEMICAL_ORDER: &str = "AVLIMFWYCGPSTNQHKRDE";
/// The groups of [`BIOCHEMICAL_ORDER`], for the axis note.
pub const GROUPS: &str =
    "AVLIM hydrophobic, FWY aromatic, CGP special, STNQ polar, HKR positive, DE negative";

/// Negative scores (the mutant less likely than the wild type).
const BLUE: [u8; 3] = [33, 102, 172];
/// Positive scores.
const RED: [u8; 3] = [178, 24, 43];

/// One strategy's matrix and how it is coloured.
#[derive(Debug, Clone)]
pub struct HeatmapData {
    /// `L x 20` scores in [`AMINO_ACIDS`] order.
    pub matrix: Vec<[f32; 20]>,
    /// The wild type.
    pub sequence: String,
    /// Numbering offset (position of residue 0).
    pub offset: i64,
    /// Colour range `[-r, r]`.
    pub range: f32,
    /// What a score is.
    pub strategy: &'static str,
}

/// A matrix on screen and its texture.
pub struct HeatmapImage {
    /// What is drawn.
    pub data: HeatmapData,
    texture: egui::TextureHandle,
}

/// Rows of the image: 20 amino acids, a gap, the per-position mean.
const ROWS: usize = 22;

/// The image's cells, row-major `ROWS x L` (the gap NaN).
fn cells(matrix: &[[f32; 20]]) -> Vec<f32> {
    let len = matrix.len();
    let order: Vec<usize> = BIOCHEMICAL_ORDER
        .chars()
        .map(|c| AMINO_ACIDS.find(c).unwrap_or(0))
        .collect();
    let mut values = vec![f32::NAN; ROWS * len];
    for (i, row) in matrix.iter().enumerate() {
        for (r, &k) in order.iter().enumerate() {
            values[r * len + i] = row[k];
        }
        values[21 * len + i] = position_mean(row);
    }
    values
}

/// The mean over the 19 substitutions of one position.
pub fn position_mean(row: &[f32; 20]) -> f32 {
    let finite: Vec<f32> = row
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v != 0.0)
        .collect();
    if finite.is_empty() {
        return f32::NAN;
    }
    finite.iter().sum::<f32>() / finite.len() as f32
}

/// A symmetric range holding 98 % of the scores (a few extreme cells do not wash out the rest).
fn symmetric_range(matrix: &[[f32; 20]]) -> f32 {
    let mut magnitudes: Vec<f32> = matrix
        .iter()
        .flat_map(|r| r.iter().map(|v| v.abs()))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    if magnitudes.is_empty() {
        return 1.0;
    }
    magnitudes.sort_by(f32::total_cmp);
    magnitudes[(magnitudes.len() as f64 * 0.98) as usize].max(1e-3)
}

fn colour_figure(matrix: &[[f32; 20]], range: f32) -> HeatmapFigure {
    let mut figure = HeatmapFigure::new("", ROWS, matrix.len(), cells(matrix), [-range, range]);
    figure.ramp_rgb = RED;
    figure.low_rgb = Some(BLUE);
    figure
}

impl HeatmapImage {
    /// The texture of `matrix` (named `texture_name`).
    pub fn new(
        ui: &egui::Ui,
        (matrix, strategy): (Vec<[f32; 20]>, &'static str),
        (sequence, offset): (&str, i64),
        texture_name: &str,
    ) -> Self {
        let range = symmetric_range(&matrix);
        let figure = colour_figure(&matrix, range);
        let pixels: Vec<egui::Color32> = figure
            .values
            .iter()
            .map(|&v| {
                let [r, g, b] = if v.is_finite() {
                    figure.colour(v)
                } else {
                    [255, 255, 255]
                };
                egui::Color32::from_rgb(r, g, b)
            })
            .collect();
        let texture = ui.ctx().load_texture(
            texture_name,
            egui::ColorImage::new([matrix.len(), ROWS], pixels),
            egui::TextureOptions::NEAREST,
        );
        Self {
            data: HeatmapData {
                matrix,
                sequence: sequence.to_owned(),
                offset,
                range,
                strategy,
            },
            texture,
        }
    }
}

impl HeatmapData {
    /// `(residue index, amino acid index)` under plot point `(x, y)`, if a cell.
    fn cell_at(&self, x: f64, y: f64) -> Option<(usize, Option<usize>)> {
        let i = (x - self.offset as f64 + 0.5).floor();
        if !(0.0..self.matrix.len() as f64).contains(&i) {
            return None;
        }
        let row = (ROWS as f64 - y).floor();
        match row as i64 {
            r @ 0..=19 => Some((
                i as usize,
                AMINO_ACIDS.find(BIOCHEMICAL_ORDER.as_bytes()[r as usize] as char),
            )),
            21 => Some((i as usize, None)),
            _ => None,
        }
    }
}

/// What the pointer is over: the mutation, its score and the assay's value.
fn hover_text(
    shown: &HeatmapData,
    measured: &HashMap<String, f64>,
    (i, aa): (usize, Option<usize>),
) -> String {
    let position = i as i64 + shown.offset;
    let wt = shown.sequence.as_bytes()[i] as char;
    match aa {
        None => format!(
            "{wt}{position}: mean over the 19 substitutions {:.3}",
            position_mean(&shown.matrix[i])
        ),
        Some(k) => {
            let mt = AMINO_ACIDS.as_bytes()[k] as char;
            if mt == wt {
                return format!("{wt}{position}: the wild type");
            }
            let name = format!("{wt}{position}{mt}");
            let assay = measured
                .get(&name)
                .map_or_else(|| "not measured".to_owned(), |v| format!("assay {v:.3}"));
            format!(
                "{name}: {} {:.3}; {assay}",
                shown.strategy, shown.matrix[i][k]
            )
        }
    }
}

/// Draws the heatmap; returns the residue index of a clicked column.
pub fn heatmap_plot_ui(
    ui: &mut egui::Ui,
    plot_id: &str,
    image: &HeatmapImage,
    measured: &HashMap<String, f64>,
) -> Option<usize> {
    let shown = &image.data;
    let len = shown.matrix.len() as f64;
    let offset = shown.offset as f64;
    let order: Vec<char> = BIOCHEMICAL_ORDER.chars().collect();
    let wild_types: Vec<[f64; 2]> = shown
        .sequence
        .chars()
        .enumerate()
        .filter_map(|(i, c)| {
            order
                .iter()
                .position(|&o| o == c)
                .map(|r| [i as f64 + offset, ROWS as f64 - r as f64 - 0.5])
        })
        .collect();
    let response = Plot::new(plot_id)
        .allow_scroll(false)
        .allow_zoom([true, false])
        .allow_drag([true, false])
        .height(380.0)
        .include_y(0.0)
        .include_y(ROWS as f64)
        .x_axis_label("position")
        .y_grid_spacer(|_| {
            (0..ROWS)
                .filter(|&r| r != 20)
                .map(|r| egui_plot::GridMark {
                    value: ROWS as f64 - r as f64 - 0.5,
                    step_size: 1.0,
                })
                .collect()
        })
        // One label a row: 20 letters and "mean" fit at 380 points.
        .custom_y_axes(vec![
            egui_plot::AxisHints::new_y()
                .label("mutant")
                .label_spacing(9.0..=12.0)
                .formatter(move |mark, _| {
                    let r = (ROWS as f64 - mark.value - 0.5).round() as usize;
                    match r {
                        0..=19 => order[r].to_string(),
                        21 => "mean".into(),
                        _ => String::new(),
                    }
                }),
        ])
        .label_formatter(move |hover| {
            let p = match hover {
                egui_plot::HoverPosition::NearDataPoint { position, .. }
                | egui_plot::HoverPosition::Elsewhere { position } => *position,
            };
            shown
                .cell_at(p.x, p.y)
                .map(|cell| hover_text(shown, measured, cell))
        })
        .show(ui, |plot| {
            plot.image(PlotImage::new(
                "scores",
                image.texture.id(),
                PlotPoint::new(offset - 0.5 + len / 2.0, ROWS as f64 / 2.0),
                egui::vec2(len as f32, ROWS as f32),
            ));
            plot.points(
                Points::new("wild type", PlotPoints::new(wild_types))
                    .color(egui::Color32::BLACK)
                    .radius(1.5),
            );
            plot.pointer_coordinate()
        });
    response.response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::accesskit::Role::Canvas, true, "Variant heatmap")
    });
    let clicked = response.response.clicked();
    ui.weak(format!(
        "Colour: {} from -{r:.2} (blue: the mutant less likely than the wild type) to +{r:.2} (red); black dots: the wild type. Rows: {GROUPS}. Drag or Ctrl + wheel along the sequence; double-click resets; click a column for its 20 scores.",
        shown.strategy,
        r = shown.range
    ));
    response
        .inner
        .filter(|_| clicked)
        .and_then(|p| shown.cell_at(p.x, p.y))
        .map(|(i, _)| i)
}

/// The heatmap as a figure: the whole sequence wrapped into blocks of at most 100 positions,
/// stacked (each block's first position in its row labels).
pub fn heatmap_figure(shown: &HeatmapData, title: &str, size: FigureSize) -> HeatmapFigure {
    let len = shown.matrix.len();
    let block = len.min(100);
    let blocks = len.div_ceil(block);
    let all = cells(&shown.matrix);
    let rows = blocks * (ROWS + 1);
    let mut values = vec![f32::NAN; rows * block];
    let mut row_labels = vec![String::new(); rows];
    let mut markers = Vec::new();
    let order: Vec<char> = BIOCHEMICAL_ORDER.chars().collect();
    for b in 0..blocks {
        for r in 0..ROWS {
            let row = b * (ROWS + 1) + r;
            row_labels[row] = match r {
                0 => format!("{} {}", order[0], shown.offset + (b * block) as i64),
                1..=19 => order[r].to_string(),
                21 => "mean".into(),
                _ => String::new(),
            };
            for c in 0..block {
                let i = b * block + c;
                if i < len {
                    values[row * block + c] = all[r * len + i];
                }
            }
        }
        for c in 0..block.min(len - b * block) {
            let i = b * block + c;
            let wt = shown.sequence.as_bytes()[i] as char;
            if let Some(r) = order.iter().position(|&o| o == wt) {
                markers.push(HeatmapMarker {
                    row: b * (ROWS + 1) + r,
                    col: c,
                    rgb: [0, 0, 0],
                });
            }
        }
    }
    let mut figure = colour_figure(&[], shown.range);
    figure.title = title.to_owned();
    figure.rows = rows;
    figure.cols = block;
    figure.values = values;
    figure.row_labels = row_labels;
    figure.markers = markers;
    figure.marker_legend = vec![("wild type".into(), [0, 0, 0])];
    figure.x_label = format!(
        "residue within the block ({block} per block; each block's first position on its first row)"
    );
    figure.y_label = format!("mutant ({GROUPS})");
    figure.colour_bar_label = format!("{}: log p(mt) - log p(wt)", shown.strategy);
    figure.width = size.width;
    figure.height = size.height.max(260.0 * blocks as f64);
    figure
}
