//! A substitution matrix as the Variants view draws it: the sequence along x (numbered with the
//! offset, zoomable and draggable along x), the 20 amino acids along y in biochemical groups,
//! a diverging colour scale centred at 0 (blue: less likely than the wild type, red: more), the
//! wild type of each position marked, and below it a row with each position's mean; hover
//! names the mutation, its score and the assay's value; a click picks the column. With an SS8
//! probe, the wild type's predicted classes run along the top in the SS8 track's colours. The
//! same as an SVG figure.

use std::collections::HashMap;

use eframe::egui;
use egui_plot::{Plot, PlotImage, PlotPoint, PlotPoints, Points};

use super::figure_export::FigureSize;
use crate::analysis::variant_ss8_track::Ss8Track;
use crate::data::AMINO_ACIDS;
use crate::export::{HeatmapFigure, HeatmapMarker, SS8_LEGEND, ss8_colour};

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
    /// The wild type's predicted SS8 classes, drawn along the top.
    pub ss8: Option<Ss8Track>,
}

/// A matrix on screen and its texture.
pub struct HeatmapImage {
    /// What is drawn.
    pub data: HeatmapData,
    texture: egui::TextureHandle,
}

/// The rows of the image from the top: the SS8 track and a gap when there is one, the 20
/// amino acids, a gap, the per-position mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    /// Rows above the amino acids (2 with a track, else 0).
    top: usize,
}

/// What one row of the image holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Track,
    /// The amino acid of [`BIOCHEMICAL_ORDER`] at this index.
    Mutant(usize),
    Mean,
    Gap,
}

impl Layout {
    fn of(data: &HeatmapData) -> Self {
        Self {
            top: if data.ss8.is_some() { 2 } else { 0 },
        }
    }

    fn rows(self) -> usize {
        self.top + 22
    }

    fn kind(self, row: usize) -> RowKind {
        match row.checked_sub(self.top) {
            None if row == 0 => RowKind::Track,
            Some(r @ 0..=19) => RowKind::Mutant(r),
            Some(21) => RowKind::Mean,
            _ => RowKind::Gap,
        }
    }

    /// The row of the amino acid at `r` of [`BIOCHEMICAL_ORDER`].
    fn mutant_row(self, r: usize) -> usize {
        self.top + r
    }
}

/// The image's values, row-major `rows x L` (gaps and the track NaN), and the colours that
/// replace the ramp's (the track's).
fn cells(data: &HeatmapData, layout: Layout) -> (Vec<f32>, Vec<Option<[u8; 3]>>) {
    let len = data.matrix.len();
    let order: Vec<usize> = BIOCHEMICAL_ORDER
        .chars()
        .map(|c| AMINO_ACIDS.find(c).unwrap_or(0))
        .collect();
    let mut values = vec![f32::NAN; layout.rows() * len];
    for (i, row) in data.matrix.iter().enumerate() {
        for (r, &k) in order.iter().enumerate() {
            values[layout.mutant_row(r) * len + i] = row[k];
        }
        values[(layout.top + 21) * len + i] = position_mean(row);
    }
    let mut colours = Vec::new();
    if let Some(track) = &data.ss8 {
        colours = vec![None; values.len()];
        for (i, (class, _)) in track.classes.iter().enumerate().take(len) {
            colours[i] = Some(class_rgb(*class));
        }
    }
    (values, colours)
}

/// The SS8 track's colour of `class`.
fn class_rgb(class: char) -> [u8; 3] {
    let hex = ss8_colour(class).trim_start_matches('#');
    let channel = |k: usize| u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).unwrap_or(128);
    [channel(0), channel(1), channel(2)]
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
    round_up_2_digits(magnitudes[(magnitudes.len() as f64 * 0.98) as usize].max(1e-3))
}

/// `x` rounded up to two significant digits (5.1363 -> 5.2), for a colour bar's end labels.
fn round_up_2_digits(x: f32) -> f32 {
    let step = 10f32.powf(x.log10().floor() - 1.0);
    (x / step).ceil() * step
}

fn colour_figure(data: &HeatmapData) -> HeatmapFigure {
    let layout = Layout::of(data);
    let (values, colours) = cells(data, layout);
    let range = data.range;
    let mut figure = HeatmapFigure::new(
        "",
        layout.rows(),
        data.matrix.len(),
        values,
        [-range, range],
    );
    figure.cell_rgb = colours;
    figure.ramp_rgb = RED;
    figure.low_rgb = Some(BLUE);
    figure
}

impl HeatmapImage {
    /// The texture of `matrix` (named `texture_name`).
    pub fn new(
        ui: &egui::Ui,
        (matrix, strategy): (Vec<[f32; 20]>, &'static str),
        (sequence, offset, ss8): (&str, i64, Option<Ss8Track>),
        texture_name: &str,
    ) -> Self {
        let data = HeatmapData {
            range: symmetric_range(&matrix),
            matrix,
            sequence: sequence.to_owned(),
            offset,
            strategy,
            ss8,
        };
        let figure = colour_figure(&data);
        let pixels: Vec<egui::Color32> = figure
            .values
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                let [r, g, b] = match figure.cell_rgb.get(k).copied().flatten() {
                    Some(rgb) => rgb,
                    None if v.is_finite() => figure.colour(v),
                    None => [255, 255, 255],
                };
                egui::Color32::from_rgb(r, g, b)
            })
            .collect();
        let texture = ui.ctx().load_texture(
            texture_name,
            egui::ColorImage::new([data.matrix.len(), figure.rows], pixels),
            egui::TextureOptions::NEAREST,
        );
        Self { data, texture }
    }
}

/// A cell of the image: its residue and what its row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// The mutant of this [`AMINO_ACIDS`] index.
    Mutant(usize),
    Mean,
    Track,
}

impl HeatmapData {
    /// `(residue index, cell)` under plot point `(x, y)`, if a cell.
    fn cell_at(&self, x: f64, y: f64) -> Option<(usize, Cell)> {
        let i = (x - self.offset as f64 + 0.5).floor();
        let layout = Layout::of(self);
        let row = (layout.rows() as f64 - y).floor();
        if !(0.0..self.matrix.len() as f64).contains(&i) || row < 0.0 {
            return None;
        }
        let cell = match layout.kind(row as usize) {
            RowKind::Mutant(r) => {
                Cell::Mutant(AMINO_ACIDS.find(BIOCHEMICAL_ORDER.as_bytes()[r] as char)?)
            }
            RowKind::Mean => Cell::Mean,
            RowKind::Track => Cell::Track,
            RowKind::Gap => return None,
        };
        Some((i as usize, cell))
    }
}

/// What the pointer is over: the mutation, its score and the assay's value.
fn hover_text(
    shown: &HeatmapData,
    measured: &HashMap<String, f64>,
    (i, cell): (usize, Cell),
) -> String {
    let position = i as i64 + shown.offset;
    let wt = shown.sequence.as_bytes()[i] as char;
    match cell {
        Cell::Mean => format!(
            "{wt}{position}: mean over the 19 substitutions {:.3}",
            position_mean(&shown.matrix[i])
        ),
        Cell::Track => match shown
            .ss8
            .as_ref()
            .and_then(|t| Some((t, t.classes.get(i)?)))
        {
            Some((track, (class, p))) => {
                let name = SS8_LEGEND
                    .iter()
                    .find(|(c, _)| c == class)
                    .map_or("", |(_, n)| n);
                format!(
                    "{wt}{position}: SS8 {class} ({name}), p = {p:.2}, by {}",
                    track.probe
                )
            }
            None => String::new(),
        },
        Cell::Mutant(k) => {
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
    let layout = Layout::of(shown);
    let rows = layout.rows() as f64;
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
                .map(|r| [i as f64 + offset, rows - layout.mutant_row(r) as f64 - 0.5])
        })
        .collect();
    let row_name = move |row: usize| match layout.kind(row) {
        RowKind::Track => "SS8".to_owned(),
        RowKind::Mutant(r) => order[r].to_string(),
        RowKind::Mean => "mean".into(),
        RowKind::Gap => String::new(),
    };
    let response = Plot::new(plot_id)
        .allow_scroll(false)
        .allow_zoom([true, false])
        .allow_drag([true, false])
        .height(380.0 + 18.0 * layout.top as f32)
        .include_y(0.0)
        .include_y(rows)
        .x_axis_label("position")
        .y_grid_spacer(move |_| {
            (0..layout.rows())
                .filter(|&r| layout.kind(r) != RowKind::Gap)
                .map(|r| egui_plot::GridMark {
                    value: rows - r as f64 - 0.5,
                    step_size: 1.0,
                })
                .collect()
        })
        // One label a row: 20 letters, "mean" (and "SS8") fit at 380 points.
        .custom_y_axes(vec![
            egui_plot::AxisHints::new_y()
                .label("mutant")
                .label_spacing(9.0..=12.0)
                .formatter(move |mark, _| {
                    let r = (rows - mark.value - 0.5).round();
                    if r < 0.0 {
                        String::new()
                    } else {
                        row_name(r as usize)
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
                PlotPoint::new(offset - 0.5 + len / 2.0, rows / 2.0),
                egui::vec2(len as f32, rows as f32),
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
    if let Some(track) = &shown.ss8 {
        ui.horizontal_wrapped(|ui| {
            ui.weak(format!(
                "SS8 row: the wild type's classes predicted by {}:",
                track.probe
            ));
            super::ss8_view::class_legend_ui(ui);
        });
    }
    response
        .inner
        .filter(|_| clicked)
        .and_then(|p| shown.cell_at(p.x, p.y))
        .map(|(i, _)| i)
}

/// Width of the figure's cells, CSS pixels: its 9.6 px row letters fit.
const FIGURE_CELL: f64 = 11.0;

/// The heatmap as a figure: the whole sequence wrapped into blocks (as many whole tens of
/// positions as fit the width in cells of [`FIGURE_CELL`], 10 to 100), stacked (each block's
/// first position in its row labels), the SS8 track on top of each block when there is one;
/// the height follows the blocks.
pub fn heatmap_figure(shown: &HeatmapData, title: &str, size: FigureSize) -> HeatmapFigure {
    let layout = Layout::of(shown);
    let block_rows = layout.rows();
    let len = shown.matrix.len();
    // Besides the cells: row labels (about 70 px), the colour bar and its legend (about 300).
    let fitting = ((size.width - 370.0) / FIGURE_CELL / 10.0).floor().max(1.0) as usize * 10;
    let block = len.min(fitting.clamp(10, 100));
    let blocks = len.div_ceil(block);
    let mut figure = colour_figure(shown);
    let (all, all_rgb) = (
        std::mem::take(&mut figure.values),
        std::mem::take(&mut figure.cell_rgb),
    );
    let rows = blocks * (block_rows + 1);
    let mut values = vec![f32::NAN; rows * block];
    let mut cell_rgb = if all_rgb.is_empty() {
        Vec::new()
    } else {
        vec![None; rows * block]
    };
    let mut row_labels = vec![String::new(); rows];
    let mut markers = Vec::new();
    let order: Vec<char> = BIOCHEMICAL_ORDER.chars().collect();
    for b in 0..blocks {
        for r in 0..block_rows {
            let row = b * (block_rows + 1) + r;
            row_labels[row] = match layout.kind(r) {
                RowKind::Track => "SS8".into(),
                RowKind::Mutant(0) => format!("{} {}", order[0], shown.offset + (b * block) as i64),
                RowKind::Mutant(k) => order[k].to_string(),
                RowKind::Mean => "mean".into(),
                RowKind::Gap => String::new(),
            };
            for c in 0..block.min(len - b * block) {
                let i = b * block + c;
                values[row * block + c] = all[r * len + i];
                if !cell_rgb.is_empty() {
                    cell_rgb[row * block + c] = all_rgb[r * len + i];
                }
            }
        }
        for c in 0..block.min(len - b * block) {
            let wt = shown.sequence.as_bytes()[b * block + c] as char;
            if let Some(r) = order.iter().position(|&o| o == wt) {
                markers.push(HeatmapMarker {
                    row: b * (block_rows + 1) + layout.mutant_row(r),
                    col: c,
                    rgb: [0, 0, 0],
                });
            }
        }
    }
    figure.title = title.to_owned();
    figure.rows = rows;
    figure.cols = block;
    figure.values = values;
    figure.cell_rgb = cell_rgb;
    figure.row_labels = row_labels;
    figure.markers = markers;
    figure.marker_radius = 0.22;
    figure.marker_legend = vec![("wild type".into(), [0, 0, 0])];
    figure.marker_legend.extend(
        GROUPS
            .split(", ")
            .map(|group| (format!("rows {group}"), [255, 255, 255])),
    );
    if let Some(track) = &shown.ss8 {
        figure
            .marker_legend
            .push((format!("SS8 by {}:", track.probe), [255, 255, 255]));
        figure.marker_legend.extend(
            SS8_LEGEND
                .iter()
                .map(|(class, name)| (format!("{class} {name}"), class_rgb(*class))),
        );
    }
    figure.x_label = format!("position within the block of {block} (its first on the left)");
    figure.y_label = "mutant".into();
    figure.colour_bar_label = format!("{}: log p(mt) - log p(wt)", shown.strategy);
    figure.width = size.width;
    // The title and the axis labels take about 100 px; the legend needs its own height.
    let legend = 16.0 * (16.0 + 1.2 * figure.marker_legend.len() as f64);
    figure.height = (rows as f64 * FIGURE_CELL + 100.0).max(legend);
    figure
}
