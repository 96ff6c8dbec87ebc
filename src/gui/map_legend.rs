//! The embedding map's legend: beside the plot (below it on a narrow page), sized to its
//! entries, collapsible; clicking an entry hides or shows its points in the plot, the hover,
//! the box selection and the saved figure.

use std::collections::BTreeSet;

use eframe::egui;

/// Width of the legend beside the plot, points.
pub const LEGEND_WIDTH: f32 = 190.0;

/// Width of the collapsed legend (its toggle only), points.
pub const COLLAPSED_WIDTH: f32 = 70.0;

/// Below this page width the legend goes under the plot, in rows.
pub const BESIDE_MIN_WIDTH: f32 = 640.0;

/// One category of the map: `(label, colour, point indices)`.
pub type Category = (String, [u8; 3], Vec<usize>);

/// Legend state kept between frames.
#[derive(Debug, Clone)]
pub struct MapLegend {
    /// The entries are shown (else only the toggle).
    pub open: bool,
    /// Labels of the categories whose points are hidden.
    hidden: BTreeSet<String>,
    /// Per point: its category is hidden (empty when none is).
    hidden_points: Vec<bool>,
}

impl Default for MapLegend {
    fn default() -> Self {
        Self {
            open: true,
            hidden: BTreeSet::new(),
            hidden_points: Vec::new(),
        }
    }
}

impl MapLegend {
    /// Shows every category again (the colouring changed).
    pub fn show_all(&mut self) {
        self.hidden.clear();
        self.hidden_points.clear();
    }

    /// The category labelled `label` is hidden.
    pub fn is_hidden(&self, label: &str) -> bool {
        self.hidden.contains(label)
    }

    /// Point `k`'s category is hidden.
    pub fn is_point_hidden(&self, k: usize) -> bool {
        self.hidden_points.get(k).copied().unwrap_or(false)
    }

    /// Hides `label` when shown, shows it when hidden; `categories` give the points.
    pub fn toggle(&mut self, label: &str, categories: &[Category], points: usize) {
        if !self.hidden.remove(label) {
            self.hidden.insert(label.to_owned());
        }
        self.hidden_points.clear();
        if self.hidden.is_empty() {
            return;
        }
        self.hidden_points = vec![false; points];
        for (name, _, members) in categories {
            if self.hidden.contains(name) {
                for &k in members {
                    if let Some(slot) = self.hidden_points.get_mut(k) {
                        *slot = true;
                    }
                }
            }
        }
    }

    /// Width the legend takes beside the plot.
    pub fn beside_width(&self) -> f32 {
        if self.open {
            LEGEND_WIDTH
        } else {
            COLLAPSED_WIDTH
        }
    }
}

/// The text of a legend entry: label and point count, as the figure's legend writes it.
pub fn entry_text(label: &str, points: usize) -> String {
    format!("{label} ({points})")
}

/// The legend: a toggle titled `title`, then one entry per category (a scrolled column of at
/// most `max_height` points when `beside`, else wrapped rows). `points` is the map's size.
pub fn map_legend_ui(
    ui: &mut egui::Ui,
    legend: &mut MapLegend,
    title: &str,
    categories: &[Category],
    points: usize,
    (beside, max_height): (bool, f32),
) {
    ui.horizontal_wrapped(|ui| {
        if legend.open {
            ui.strong(title);
        }
        let toggle = if legend.open { "Hide legend" } else { "Legend" };
        if ui
            .small_button(toggle)
            .on_hover_text(if legend.open {
                "Collapse the legend (the map gets its width)"
            } else {
                "Show the legend"
            })
            .clicked()
        {
            legend.open = !legend.open;
        }
        if legend.open && !legend.hidden.is_empty() && ui.small_button("Show all").clicked() {
            legend.show_all();
        }
    });
    if !legend.open {
        return;
    }
    let mut clicked = None;
    let mut entries = |ui: &mut egui::Ui| {
        for (name, rgb, members) in categories {
            if entry_ui(ui, name, *rgb, members.len(), legend.is_hidden(name)).clicked() {
                clicked = Some(name.clone());
            }
        }
    };
    if beside {
        egui::ScrollArea::vertical()
            .id_salt("map_legend")
            .max_height(max_height)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                ui.set_width(LEGEND_WIDTH - 12.0);
                entries(ui);
            });
    } else {
        ui.horizontal_wrapped(|ui| entries(ui));
    }
    if let Some(name) = clicked {
        legend.toggle(&name, categories, points);
    }
}

/// One entry: a swatch in the category's colour (hollow when hidden) and its text, laid out
/// as one widget so that a wrapping row moves it whole to the next line.
fn entry_ui(
    ui: &mut egui::Ui,
    name: &str,
    rgb: [u8; 3],
    count: usize,
    hidden: bool,
) -> egui::Response {
    let colour = egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2]);
    let label = entry_text(name, count);
    let text = egui::RichText::new(&label);
    let text = if hidden {
        text.weak().strikethrough()
    } else {
        text
    };
    let galley = egui::WidgetText::from(text).into_galley(
        ui,
        Some(egui::TextWrapMode::Extend),
        f32::INFINITY,
        egui::TextStyle::Button,
    );
    let swatch = 14.0;
    let size = egui::vec2(swatch + galley.size().x, galley.size().y.max(16.0));
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::accesskit::Role::Button, ui.is_enabled(), &label)
    });
    if ui.is_rect_visible(rect) {
        let centre = egui::pos2(rect.left() + 5.0, rect.center().y);
        if hidden {
            ui.painter()
                .circle_stroke(centre, 4.0, egui::Stroke::new(1.0, colour));
        } else {
            ui.painter().circle_filled(centre, 4.5, colour);
        }
        let text_colour = if response.hovered() {
            ui.visuals().strong_text_color()
        } else {
            ui.visuals().text_color()
        };
        let top = rect.center().y - galley.size().y / 2.0;
        ui.painter()
            .galley(egui::pos2(rect.left() + swatch, top), galley, text_colour);
    }
    response.on_hover_text(if hidden {
        "Show these points again"
    } else {
        "Hide these points (in the plot and the saved figure)"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_a_category_hides_exactly_its_points_and_showing_it_brings_them_back() {
        let categories: Vec<Category> = vec![
            ("a".into(), [0, 0, 0], vec![0, 2]),
            ("b".into(), [1, 1, 1], vec![1]),
        ];
        let mut legend = MapLegend::default();
        legend.toggle("a", &categories, 3);
        assert!(legend.is_hidden("a") && !legend.is_hidden("b"));
        let hidden: Vec<bool> = (0..3).map(|k| legend.is_point_hidden(k)).collect();
        assert_eq!(hidden, [true, false, true]);
        legend.toggle("a", &categories, 3);
        assert!(!(0..3).any(|k| legend.is_point_hidden(k)));
        legend.toggle("b", &categories, 3);
        legend.show_all();
        assert!(!legend.is_hidden("b") && !legend.is_point_hidden(1));
    }
}
