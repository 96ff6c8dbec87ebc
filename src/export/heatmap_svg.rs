//! Publication heatmaps as SVG (contact maps, confusion matrices), drawn from the data: the
//! matrix is embedded as a lossless pixel image (one pixel a cell, shown unsmoothed), with
//! axes, optional per-cell numbers, overlay markers (e.g. the top-L predicted contacts) and a
//! colour bar.

use std::fmt::Write as _;

use base64::Engine as _;

use super::svg::{
    centred_text, escape, figure_title, nice_ticks, open_document, text_width, tick_label,
};

/// A marker drawn over one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapMarker {
    /// Row (0-based).
    pub row: usize,
    /// Column (0-based).
    pub col: usize,
    /// Fill colour.
    pub rgb: [u8; 3],
}

/// A heatmap figure.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapFigure {
    /// Title above the plot.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `rows * cols` values, row-major; NaN cells are drawn light grey.
    pub values: Vec<f32>,
    /// Values mapped to the two ends of the colour ramp (clamped outside).
    pub value_range: [f32; 2],
    /// Colour of the top of the ramp (the bottom is white).
    pub ramp_rgb: [u8; 3],
    /// A diverging ramp: the bottom of the range takes this colour, its middle white (a score
    /// centred at 0 over a symmetric range); `None`: white to [`Self::ramp_rgb`].
    pub low_rgb: Option<[u8; 3]>,
    /// Colours that replace the ramp's in some cells (`rows * cols`, `None`: the ramp's), e.g. a
    /// track of classes above a matrix; empty: none.
    pub cell_rgb: Vec<Option<[u8; 3]>>,
    /// Text in each cell (`rows * cols`), e.g. confusion counts; lines split at `\n`; empty:
    /// none.
    pub cell_text: Vec<String>,
    /// Names of the rows (empty: 1-based numeric ticks).
    pub row_labels: Vec<String>,
    /// Names of the columns (empty: 1-based numeric ticks).
    pub col_labels: Vec<String>,
    /// Markers drawn over cells.
    pub markers: Vec<HeatmapMarker>,
    /// Marker radius as a fraction of a cell's side (0.5: the cell's width).
    pub marker_radius: f64,
    /// Legend entries explaining the markers.
    pub marker_legend: Vec<(String, [u8; 3])>,
    /// Label of the colour bar.
    pub colour_bar_label: String,
    /// Figure width in CSS pixels (1/96 inch).
    pub width: f64,
    /// Figure height in CSS pixels.
    pub height: f64,
    /// Title font size; labels use 0.8 of it.
    pub font_size: f64,
}

impl HeatmapFigure {
    /// A 720 x 600 figure of `values` (`rows * cols`, row-major) on a white-to-blue ramp over
    /// `value_range`.
    pub fn new(
        title: impl Into<String>,
        rows: usize,
        cols: usize,
        values: Vec<f32>,
        value_range: [f32; 2],
    ) -> Self {
        Self {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            rows,
            cols,
            values,
            value_range,
            ramp_rgb: [8, 48, 107],
            low_rgb: None,
            cell_rgb: Vec::new(),
            cell_text: Vec::new(),
            row_labels: Vec::new(),
            col_labels: Vec::new(),
            markers: Vec::new(),
            marker_radius: 0.5,
            marker_legend: Vec::new(),
            colour_bar_label: String::new(),
            width: 720.0,
            height: 600.0,
            font_size: 16.0,
        }
    }

    /// The ramp colour of `value`.
    pub fn colour(&self, value: f32) -> [u8; 3] {
        if !value.is_finite() {
            return [225, 225, 225];
        }
        let [lo, hi] = self.value_range;
        let t = if hi > lo {
            ((value - lo) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let (end, t) = match self.low_rgb {
            Some(low) if t < 0.5 => (low, 1.0 - 2.0 * t),
            Some(_) => (self.ramp_rgb, 2.0 * t - 1.0),
            None => (self.ramp_rgb, t),
        };
        let mix = |end: u8| (255.0 + (f32::from(end) - 255.0) * t).round() as u8;
        [mix(end[0]), mix(end[1]), mix(end[2])]
    }
}

/// The cells as a PNG, one pixel a cell.
fn cells_png(figure: &HeatmapFigure) -> Vec<u8> {
    let (w, h) = (figure.cols.max(1) as u32, figure.rows.max(1) as u32);
    let cells = (0..w as usize * h as usize).map(|k| {
        figure
            .cell_rgb
            .get(k)
            .copied()
            .flatten()
            .unwrap_or_else(|| figure.colour(figure.values.get(k).copied().unwrap_or(f32::NAN)))
    });
    super::figure_file::rgb_to_png(w, h, cells).unwrap_or_default()
}

/// The figure as an SVG document.
pub fn heatmap_svg(figure: &HeatmapFigure) -> String {
    let grid = HeatmapGrid::new(figure);
    let (left, top, cell) = (grid.left, grid.top, grid.cell);
    let (plot_w, plot_h) = (grid.plot_w, grid.plot_h);
    let mut svg = String::new();
    open_document(&mut svg, figure.width, figure.height);
    figure_title(&mut svg, figure.width, figure.font_size, &figure.title);
    let png = base64::engine::general_purpose::STANDARD.encode(cells_png(figure));
    let _ = writeln!(
        svg,
        r#"<image x="{left:.1}" y="{top:.1}" width="{plot_w:.2}" height="{plot_h:.2}" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" href="data:image/png;base64,{png}"/>"#
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{left:.1}" y="{top:.1}" width="{plot_w:.2}" height="{plot_h:.2}" fill="none" stroke="#444" stroke-width="1"/>"##
    );
    cell_text_svg(&mut svg, figure, &grid);
    let radius = (figure.marker_radius * cell).max(1.5);
    for marker in &figure.markers {
        let [r, g, b] = marker.rgb;
        let (x, y) = grid.centre(marker.row, marker.col);
        let _ = writeln!(
            svg,
            r#"<circle cx="{x:.2}" cy="{y:.2}" r="{radius:.2}" fill="rgb({r},{g},{b})"/>"#
        );
    }
    axis_svg(&mut svg, &grid, &figure.col_labels, figure.cols, true);
    axis_svg(&mut svg, &grid, &figure.row_labels, figure.rows, false);
    let font = figure.font_size;
    centred_text(
        &mut svg,
        left + plot_w / 2.0,
        top + plot_h + 2.7 * font,
        0.9 * font,
        &figure.x_label,
        false,
    );
    centred_text(
        &mut svg,
        font,
        top + plot_h / 2.0,
        0.9 * font,
        &figure.y_label,
        true,
    );
    colour_bar_svg(&mut svg, figure, &grid);
    svg.push_str("</svg>\n");
    svg
}

/// Where a heatmap's cells lie: the plot's top-left corner, the side of a (square) cell and
/// the plot's size, in pixels; `small` is the label font size.
struct HeatmapGrid {
    left: f64,
    top: f64,
    cell: f64,
    plot_w: f64,
    plot_h: f64,
    small: f64,
}

impl HeatmapGrid {
    /// Square cells as large as fit beside the row labels and the colour bar with its legend.
    fn new(figure: &HeatmapFigure) -> Self {
        let font = figure.font_size;
        let small = 0.8 * font;
        let labels_width = figure
            .row_labels
            .iter()
            .map(|l| text_width(l, small))
            .fold(text_width("0000", small), f64::max);
        let legend_width = figure
            .marker_legend
            .iter()
            .map(|(name, _)| text_width(name, small) + 2.0 * small)
            .fold(text_width(&figure.colour_bar_label, small), f64::max);
        let (left, top) = (labels_width + 2.5 * font, 2.5 * font);
        let (right, bottom) = (4.5 * font + legend_width, 3.2 * font);
        let avail_w = (figure.width - left - right).max(10.0);
        let avail_h = (figure.height - top - bottom).max(10.0);
        let (rows, cols) = (figure.rows.max(1) as f64, figure.cols.max(1) as f64);
        let cell = (avail_w / cols).min(avail_h / rows);
        Self {
            left,
            top,
            cell,
            plot_w: cell * cols,
            plot_h: cell * rows,
            small,
        }
    }

    /// The centre of cell (`row`, `col`).
    fn centre(&self, row: usize, col: usize) -> (f64, f64) {
        (
            self.left + (col as f64 + 0.5) * self.cell,
            self.top + (row as f64 + 0.5) * self.cell,
        )
    }
}

/// Each cell's text (counts of a confusion matrix), white on dark cells.
fn cell_text_svg(svg: &mut String, figure: &HeatmapFigure, grid: &HeatmapGrid) {
    // One letter a cell (a residue) fills it; counts over percentages share it.
    let single = figure.cell_text.iter().all(|t| t.chars().count() <= 1);
    let size = (if single { 0.7 } else { 0.35 } * grid.cell).min(grid.small);
    let mid = 0.5 * (figure.value_range[0] + figure.value_range[1]);
    for (k, text) in figure
        .cell_text
        .iter()
        .enumerate()
        .take(figure.rows * figure.cols)
    {
        let value = figure.values.get(k).copied().unwrap_or(f32::NAN);
        let fill = if value > mid { "white" } else { "black" };
        let (x, y) = grid.centre(k / figure.cols, k % figure.cols);
        // Lines (a count over its percentage) stacked about the cell's centre.
        let lines: Vec<&str> = text.split('\n').collect();
        let line_height = 1.15 * size;
        let first = y - 0.5 * (lines.len() - 1) as f64 * line_height + 0.35 * size;
        for (n, line) in lines.iter().enumerate() {
            let _ = writeln!(
                svg,
                r#"<text x="{x:.1}" y="{:.1}" font-size="{size:.1}" text-anchor="middle" fill="{fill}">{}</text>"#,
                first + n as f64 * line_height,
                escape(line)
            );
        }
    }
}

/// The tick labels of one axis: the named rows or columns, or 1-based residue numbers at round
/// steps when `labels` is empty.
fn axis_svg(
    svg: &mut String,
    grid: &HeatmapGrid,
    labels: &[String],
    count: usize,
    horizontal: bool,
) {
    let small = grid.small;
    let ticks: Vec<(f64, String)> = if labels.is_empty() {
        nice_ticks(1.0, count as f64, 6)
            .into_iter()
            .map(|v| (v - 0.5, tick_label(v)))
            .collect()
    } else {
        labels
            .iter()
            .enumerate()
            .map(|(k, l)| (k as f64 + 0.5, l.clone()))
            .collect()
    };
    for (position, label) in ticks {
        if horizontal {
            let x = grid.left + position * grid.cell;
            let y = grid.top + grid.plot_h + 1.2 * small;
            centred_text(svg, x, y, small, &label, false);
        } else {
            // Named rows never overlap: their letters shrink to the cell.
            let size = if labels.is_empty() {
                small
            } else {
                small.min(0.95 * grid.cell)
            };
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="{size:.1}" text-anchor="end">{}</text>"#,
                grid.left - 0.4 * small,
                grid.top + position * grid.cell + 0.35 * size,
                escape(&label)
            );
        }
    }
}

/// The colour bar right of the plot (a gradient from white, or from the low colour through
/// white for a diverging ramp, at the bottom of the value range to the ramp colour at the top,
/// with its middle value marked when diverging), its label, and the markers' legend under it.
fn colour_bar_svg(svg: &mut String, figure: &HeatmapFigure, grid: &HeatmapGrid) {
    let (font, small, top) = (figure.font_size, grid.small, grid.top);
    let bar_x = grid.left + grid.plot_w + font;
    let bar_h = grid.plot_h.min(12.0 * font);
    let [r, g, b] = figure.ramp_rgb;
    let stops = match figure.low_rgb {
        Some([lr, lg, lb]) => format!(
            r#"<stop offset="0" stop-color="rgb({lr},{lg},{lb})"/><stop offset="0.5" stop-color="white"/>"#
        ),
        None => r#"<stop offset="0" stop-color="white"/>"#.to_owned(),
    };
    let _ = writeln!(
        svg,
        r##"<defs><linearGradient id="ramp" x1="0" y1="1" x2="0" y2="0">{stops}<stop offset="1" stop-color="rgb({r},{g},{b})"/></linearGradient></defs><rect x="{bar_x:.1}" y="{top:.1}" width="{w:.1}" height="{bar_h:.1}" fill="url(#ramp)" stroke="#444" stroke-width="1"/>"##,
        w = 0.9 * font
    );
    let [lo, hi] = figure.value_range;
    let mut ticks = vec![(hi, top + 0.7 * small), (lo, top + bar_h)];
    if figure.low_rgb.is_some() {
        ticks.push((0.5 * (lo + hi), top + 0.5 * bar_h + 0.35 * small));
    }
    for (value, y) in ticks {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{y:.1}" font-size="{small:.1}">{}</text>"#,
            bar_x + 1.3 * font,
            tick_label(f64::from(value))
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{bar_x:.1}" y="{:.1}" font-size="{small:.1}">{}</text>"#,
        top + bar_h + 1.5 * small,
        escape(&figure.colour_bar_label)
    );
    for (k, (name, [r, g, b])) in figure.marker_legend.iter().enumerate() {
        let y = top + bar_h + (3.2 + 1.5 * k as f64) * small;
        let _ = writeln!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="rgb({r},{g},{b})"/><text x="{:.1}" y="{y:.1}" font-size="{small:.1}">{}</text>"#,
            bar_x + 0.5 * small,
            y - 0.35 * small,
            0.4 * small,
            bar_x + 1.5 * small,
            escape(name)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_the_cells_and_draws_text_markers_and_legend() {
        let mut figure =
            HeatmapFigure::new("confusion", 2, 2, vec![0.0, 1.0, 2.0, f32::NAN], [0.0, 2.0]);
        figure.cell_text = vec!["0".into(), "1".into(), "2".into(), "".into()];
        figure.row_labels = vec!["H".into(), "E".into()];
        figure.col_labels = vec!["H".into(), "E".into()];
        figure.markers = vec![HeatmapMarker {
            row: 0,
            col: 1,
            rgb: [200, 0, 0],
        }];
        figure.marker_legend = vec![("top-L <wrong>".into(), [200, 0, 0])];
        assert_eq!(figure.colour(0.0), [255, 255, 255]);
        assert_eq!(figure.colour(2.0), figure.ramp_rgb);
        assert_eq!(figure.colour(9.0), figure.ramp_rgb, "clamped");
        let svg = heatmap_svg(&figure);
        assert!(
            svg.contains("data:image/png;base64,iVBOR"),
            "a PNG of the cells"
        );
        assert_eq!(
            svg.matches("<circle").count(),
            2,
            "one marker, one legend entry"
        );
        assert!(svg.contains("top-L &lt;wrong&gt;"));
        // The brightest cell's count is drawn in white, the others in black.
        assert!(svg.contains(r#"fill="white">2<"#) && svg.contains(r#"fill="black">1<"#));
    }
}
