//! The heads study's layer × head grid: one cell per attention head coloured by a chosen
//! metric (the same colours as its SVG figure), values on hover, a click picks the head; and
//! the ranked table of heads beside it.

use eframe::egui;

use crate::analysis::heads_study::{HeadLayerRun, HeadScore, HeadsStudy};
use crate::export::{HeatmapFigure, HeatmapMarker};

/// What colours the grid and ranks the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum HeadMetric {
    /// Long-range (|i - j| >= 24) precision at L of the head's APC map.
    #[default]
    LongAtL,
    /// Long-range precision at L/5.
    LongAtL5,
    /// Medium-range (12-23) precision at L.
    MediumAtL,
    /// Short-range (6-11) precision at L.
    ShortAtL,
    /// The share of the head's confident attention that falls on contacts.
    AttentionOnContacts,
}

impl HeadMetric {
    /// Every metric, in menu order.
    pub const ALL: [Self; 5] = [
        Self::LongAtL,
        Self::LongAtL5,
        Self::MediumAtL,
        Self::ShortAtL,
        Self::AttentionOnContacts,
    ];

    /// The metric in file names (`long_p_at_l`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::LongAtL => "long_p_at_l",
            Self::LongAtL5 => "long_p_at_l5",
            Self::MediumAtL => "medium_p_at_l",
            Self::ShortAtL => "short_p_at_l",
            Self::AttentionOnContacts => "attention_on_contacts",
        }
    }

    /// The metric's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::LongAtL => "long-range P@L",
            Self::LongAtL5 => "long-range P@L/5",
            Self::MediumAtL => "medium-range P@L",
            Self::ShortAtL => "short-range P@L",
            Self::AttentionOnContacts => "confident attention on contacts",
        }
    }

    /// The metric of `score` (NaN where it is undefined, e.g. no confident weight).
    pub fn of(self, score: &HeadScore) -> f64 {
        let p = &score.precision;
        match self {
            Self::LongAtL => p.long.at_l,
            Self::LongAtL5 => p.long.at_l5,
            Self::MediumAtL => p.medium.at_l,
            Self::ShortAtL => p.short.at_l,
            Self::AttentionOnContacts => score.attention.share(),
        }
    }
}

/// Colour of the picked head's outline.
const PICKED: [u8; 3] = [214, 39, 40];

/// The grid of `runs` as a figure: rows are layers (top: layer 1), columns heads; the colour
/// ramp runs from 0 to the largest value; the picked head is marked.
pub fn grid_figure(
    study: &HeadsStudy,
    (runs, model): (&[HeadLayerRun], &str),
    metric: HeadMetric,
    picked: Option<(usize, usize)>,
) -> HeatmapFigure {
    let heads = study.heads;
    let values: Vec<f32> = runs
        .iter()
        .flat_map(|run| {
            (0..heads).map(move |h| run.heads.get(h).map_or(f32::NAN, |s| metric.of(s) as f32))
        })
        .collect();
    let top = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f32, f32::max)
        .max(1e-6);
    let mut figure = HeatmapFigure::new(
        format!(
            "{} of each attention head, {model} ({} chains)",
            metric.name(),
            study.chains.len()
        ),
        runs.len(),
        heads,
        values,
        [0.0, top],
    );
    figure.x_label = "head".into();
    figure.y_label = "layer".into();
    figure.row_labels = runs.iter().map(|r| r.layer.to_string()).collect();
    figure.col_labels = (1..=heads).map(|h| h.to_string()).collect();
    figure.colour_bar_label = metric.name().into();
    if let Some((layer, head)) = picked
        && let Some(row) = runs.iter().position(|r| r.layer == layer)
    {
        figure.markers = vec![HeatmapMarker {
            row,
            col: head,
            rgb: PICKED,
        }];
        figure.marker_legend = vec![(format!("picked: layer {layer}, head {}", head + 1), PICKED)];
    }
    figure
}

/// What hovering a head shows.
pub fn head_text(study: &HeadsStudy, layer: usize, score: &HeadScore) -> String {
    let p = &score.precision;
    let attention = if score.attention.confident == 0 {
        format!("no attention weight above {}", study.threshold)
    } else {
        format!(
            "{:.1} % of its {} weights above {} fall on contacts",
            100.0 * score.attention.share(),
            score.attention.confident,
            study.threshold
        )
    };
    format!(
        "layer {layer}, head {}\nlong P@L {:.3}, P@L/2 {:.3}, P@L/5 {:.3}\nmedium P@L {:.3}, short P@L {:.3}\n{attention} (background {:.1} %)",
        score.head + 1,
        p.long.at_l,
        p.long.at_l2,
        p.long.at_l5,
        p.medium.at_l,
        p.short.at_l,
        100.0 * study.background_share()
    )
}

/// Draws the grid of `figure` (from [`grid_figure`]); a click on a cell picks that head
/// (`picked` = `(layer, head)`). Every cell is a button named "layer L, head H".
pub fn heads_grid_ui(
    ui: &mut egui::Ui,
    study: &HeadsStudy,
    runs: &[HeadLayerRun],
    figure: &HeatmapFigure,
    picked: &mut Option<(usize, usize)>,
) {
    let heads = study.heads.max(1);
    let label_width = 28.0;
    let cell_w = ((ui.available_width() - label_width) / heads as f32 - 1.0).clamp(8.0, 40.0);
    let cell_h = (cell_w * 0.6).clamp(10.0, 18.0);
    ui.scope(|ui| {
        ui.spacing_mut().item_spacing = egui::vec2(1.0, 1.0);
        ui.horizontal(|ui| {
            ui.add_sized([label_width, cell_h], egui::Label::new("layer"));
            for h in 0..heads {
                let text = if h == 0 || (h + 1) % 5 == 0 {
                    (h + 1).to_string()
                } else {
                    String::new()
                };
                ui.add_sized(
                    [cell_w, cell_h],
                    egui::Label::new(egui::RichText::new(text).small()),
                );
            }
        });
        for (row, run) in runs.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.add_sized(
                    [label_width, cell_h],
                    egui::Label::new(egui::RichText::new(run.layer.to_string()).small()),
                );
                for score in &run.heads {
                    let value = figure.values[row * figure.cols + score.head];
                    let is_picked = *picked == Some((run.layer, score.head));
                    if head_cell(
                        ui,
                        [cell_w, cell_h],
                        figure.colour(value),
                        is_picked,
                        (run.layer, score),
                    )
                    .on_hover_text(head_text(study, run.layer, score))
                    .clicked()
                    {
                        *picked = Some((run.layer, score.head));
                    }
                }
            });
        }
    });
}

/// One cell: a coloured rectangle, outlined when picked, named for screen readers and tests.
fn head_cell(
    ui: &mut egui::Ui,
    size: [f32; 2],
    rgb: [u8; 3],
    picked: bool,
    (layer, score): (usize, &HeadScore),
) -> egui::Response {
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(size[0], size[1]), egui::Sense::click());
    let name = format!("layer {layer}, head {}", score.head + 1);
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::accesskit::Role::Button, true, picked, name.clone())
    });
    let painter = ui.painter();
    painter.rect_filled(rect, 0.0, egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2]));
    if picked || response.hovered() {
        let colour = if picked {
            egui::Color32::from_rgb(PICKED[0], PICKED[1], PICKED[2])
        } else {
            ui.visuals().strong_text_color()
        };
        painter.rect_stroke(
            rect.shrink(1.0),
            0.0,
            egui::Stroke::new(2.0, colour),
            egui::StrokeKind::Inside,
        );
    }
    response
}

/// The best `count` heads of `runs` by `metric` (NaN left out), best first: `(layer, score)`.
pub fn ranked_heads(
    runs: &[HeadLayerRun],
    metric: HeadMetric,
    count: usize,
) -> Vec<(usize, &HeadScore)> {
    let mut all: Vec<(usize, &HeadScore)> = runs
        .iter()
        .flat_map(|r| r.heads.iter().map(move |h| (r.layer, h)))
        .filter(|(_, h)| !metric.of(h).is_nan())
        .collect();
    all.sort_by(|a, b| metric.of(b.1).total_cmp(&metric.of(a.1)));
    all.truncate(count);
    all
}

/// The ranked table: rank, layer, head and the metrics; "pick" picks that head.
pub fn ranked_table_ui(
    ui: &mut egui::Ui,
    runs: &[HeadLayerRun],
    metric: HeadMetric,
    picked: &mut Option<(usize, usize)>,
) {
    let rows = ranked_heads(runs, metric, 12);
    egui::Grid::new("heads_ranked")
        .striped(true)
        .show(ui, |ui| {
            for (title, hover) in [
                ("#", "rank"),
                ("layer", "layer (1-based)"),
                ("head", "head (1-based)"),
                ("long P@L", "long-range (|i-j| >= 24) precision at L"),
                ("P@L/5", "long-range precision at L/5"),
                ("medium", "medium-range (12-23) precision at L"),
                (
                    "contacts",
                    "share of the head's confident attention on contacts",
                ),
                ("", ""),
            ] {
                ui.strong(title).on_hover_text(hover);
            }
            ui.end_row();
            for (rank, (layer, score)) in rows.iter().enumerate() {
                ui.label((rank + 1).to_string());
                ui.label(layer.to_string());
                ui.label((score.head + 1).to_string());
                let p = &score.precision;
                for value in [p.long.at_l, p.long.at_l5, p.medium.at_l] {
                    ui.label(format!("{value:.3}"));
                }
                let share = score.attention.share();
                ui.label(if share.is_nan() {
                    "-".to_owned()
                } else {
                    format!("{:.1} %", 100.0 * share)
                });
                let this = Some((*layer, score.head));
                if ui
                    .selectable_label(*picked == this, "pick")
                    .on_hover_text(format!(
                        "Show layer {layer}, head {} on the map",
                        score.head + 1
                    ))
                    .clicked()
                {
                    *picked = this;
                }
                ui.end_row();
            }
        });
}
