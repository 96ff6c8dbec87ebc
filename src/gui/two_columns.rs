//! Two columns side by side where the page is wide enough, else one above the other: a study
//! view's sweep and its detail (confusion matrix, chain map, neighbours) never end past the
//! window's edge at 800 × 600.

use eframe::egui;

/// Below this page width (points) the two columns stack: each then gets the whole width, which
/// the confusion matrix (about 420 points) and a figure-export row need.
pub const SIDE_BY_SIDE_MIN_WIDTH: f32 = 900.0;

/// Calls `add(ui, 0)` then `add(ui, 1)`: in two equal columns when the page is at least
/// [`SIDE_BY_SIDE_MIN_WIDTH`] wide, else one after the other with a separator between.
pub fn two_columns_ui(ui: &mut egui::Ui, mut add: impl FnMut(&mut egui::Ui, usize)) {
    if ui.available_width() >= SIDE_BY_SIDE_MIN_WIDTH {
        ui.columns(2, |columns| {
            for (index, column) in columns.iter_mut().enumerate() {
                add(column, index);
            }
        });
    } else {
        add(ui, 0);
        ui.separator();
        add(ui, 1);
    }
}
