//! Publication line plots as SVG (layer sweeps, trained vs untrained), drawn from the data:
//! axes with round ticks, one polyline with markers per series, dashed series for baselines,
//! and a legend.

use std::fmt::Write as _;

use super::svg::{
    axes_frame, centred_text, escape, figure_title, nice_ticks, nice_ticks_at_least, open_document,
    text_width, tick_label,
};

/// One named line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSeries {
    /// Legend text.
    pub name: String,
    /// Stroke colour.
    pub rgb: [u8; 3],
    /// `(x, y)` in data units, drawn in order; non-finite points are skipped.
    pub points: Vec<[f64; 2]>,
    /// Dashed (used for untrained baselines).
    pub dashed: bool,
}

/// Okabe & Ito's colour-blind-safe qualitative colours (black left out: it vanishes on a dark
/// background), readable on white figures and the dark app theme alike.
pub const SERIES_COLOURS: [[u8; 3]; 7] = [
    [0, 114, 178],
    [230, 159, 0],
    [0, 158, 115],
    [213, 94, 0],
    [204, 121, 167],
    [86, 180, 233],
    [240, 228, 66],
];

/// What a series measures, with "trained" / "untrained" taken out: a trained series and its
/// untrained baseline share a key, so they share a colour (the baseline dashed).
pub fn series_key(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == ':')
        .filter(|w| !w.is_empty() && *w != "trained" && *w != "untrained")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Gives each distinct [`series_key`] its own colour from [`SERIES_COLOURS`], in order of
/// first appearance; returns each series' key index (for markers).
pub fn distinct_series_colours(series: &mut [LineSeries]) -> Vec<usize> {
    let mut keys: Vec<String> = Vec::new();
    series
        .iter_mut()
        .map(|s| {
            let key = series_key(&s.name);
            let index = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
                keys.push(key);
                keys.len() - 1
            });
            s.rgb = SERIES_COLOURS[index % SERIES_COLOURS.len()];
            index
        })
        .collect()
}

/// A line plot.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFigure {
    /// Title above the plot.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// The lines, drawn in order.
    pub series: Vec<LineSeries>,
    /// Figure width in CSS pixels (1/96 inch).
    pub width: f64,
    /// Figure height in CSS pixels.
    pub height: f64,
    /// Title font size; tick labels and the legend use 0.8 of it.
    pub font_size: f64,
}

impl LineFigure {
    /// A 640 x 420 figure with 16 px titles.
    pub fn new(
        title: impl Into<String>,
        x_label: &str,
        y_label: &str,
        series: Vec<LineSeries>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series,
            width: 640.0,
            height: 420.0,
            font_size: 16.0,
        }
    }
}

/// The figure as an SVG document.
pub fn line_svg(figure: &LineFigure) -> String {
    let font = figure.font_size;
    let small = 0.8 * font;
    let legend_width = figure
        .series
        .iter()
        .map(|s| text_width(&s.name, small))
        .fold(0.0, f64::max)
        + 3.5 * small;
    let (left, top) = (4.5 * font, 2.5 * font);
    let (right, bottom) = (legend_width + font, 3.2 * font);
    let plot_w = (figure.width - left - right).max(10.0);
    let plot_h = (figure.height - top - bottom).max(10.0);

    let (min, max) = data_bounds(&figure.series);
    // 5% headroom above and below the data.
    let pad = 0.05 * (max[1] - min[1]);
    let (y_min, y_max) = (min[1] - pad, max[1] + pad);
    let to_px = |p: &[f64; 2]| {
        (
            left + (p[0] - min[0]) / (max[0] - min[0]) * plot_w,
            top + plot_h - (p[1] - y_min) / (y_max - y_min) * plot_h,
        )
    };
    // Integer x values (layers) get integer ticks.
    let integer_x = figure
        .series
        .iter()
        .flat_map(|s| &s.points)
        .all(|p| p[0].fract() == 0.0);
    let min_step = if integer_x { 1.0 } else { 0.0 };
    let x_ticks: Vec<(f64, String)> = nice_ticks_at_least(min[0], max[0], 8, min_step)
        .into_iter()
        .map(|v| (to_px(&[v, y_min]).0, tick_label(v)))
        .collect();
    let y_ticks: Vec<(f64, String)> = nice_ticks(y_min, y_max, 6)
        .into_iter()
        .map(|v| (to_px(&[min[0], v]).1, tick_label(v)))
        .collect();

    let mut svg = String::new();
    open_document(&mut svg, figure.width, figure.height);
    figure_title(&mut svg, figure.width, font, &figure.title);
    axes_frame(
        &mut svg,
        [left, top, plot_w, plot_h],
        &x_ticks,
        &y_ticks,
        small,
    );
    centred_text(
        &mut svg,
        left + plot_w / 2.0,
        top + plot_h + 2.7 * font,
        font * 0.9,
        &figure.x_label,
        false,
    );
    centred_text(
        &mut svg,
        1.2 * font,
        top + plot_h / 2.0,
        font * 0.9,
        &figure.y_label,
        true,
    );
    lines_svg(&mut svg, &figure.series, &to_px);
    legend_svg(&mut svg, figure, left + plot_w + font, top);
    svg.push_str("</svg>\n");
    svg
}

/// The lower and upper corner of the series' finite points (`[x, y]` each), widened to a unit
/// range on an axis where every value is the same; `[0, 1]` on both without points.
fn data_bounds(series: &[LineSeries]) -> ([f64; 2], [f64; 2]) {
    let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in series.iter().flat_map(|s| s.points.iter()).filter(finite) {
        for a in 0..2 {
            min[a] = min[a].min(p[a]);
            max[a] = max[a].max(p[a]);
        }
    }
    if !min[0].is_finite() {
        (min, max) = ([0.0; 2], [1.0; 2]);
    }
    for a in 0..2 {
        if max[a] - min[a] < 1e-12 {
            min[a] -= 0.5;
            max[a] += 0.5;
        }
    }
    (min, max)
}

/// Whether both coordinates of `p` are finite (undefined values are left out of plots).
fn finite(p: &&[f64; 2]) -> bool {
    p[0].is_finite() && p[1].is_finite()
}

/// The stroke-dash attribute of a dashed series (nothing for a solid one).
fn dash_attribute(dashed: bool) -> &'static str {
    if dashed {
        r#" stroke-dasharray="6 4""#
    } else {
        ""
    }
}

/// Each series as a polyline with a dot per point, `to_px` mapping data to pixels.
fn lines_svg(svg: &mut String, series: &[LineSeries], to_px: &impl Fn(&[f64; 2]) -> (f64, f64)) {
    for series in series {
        let [r, g, b] = series.rgb;
        let dash = dash_attribute(series.dashed);
        let points: Vec<(f64, f64)> = series.points.iter().filter(finite).map(to_px).collect();
        let path: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.2},{y:.2}"))
            .collect();
        let _ = writeln!(
            svg,
            r#"<g><title>{}</title><polyline points="{}" fill="none" stroke="rgb({r},{g},{b})" stroke-width="2"{dash}/>"#,
            escape(&series.name),
            path.join(" ")
        );
        for (x, y) in &points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{x:.2}" cy="{y:.2}" r="3" fill="rgb({r},{g},{b})"/>"#
            );
        }
        let _ = writeln!(svg, "</g>");
    }
}

/// The legend at (`legend_x`, `top`): a line sample (dashed like its series) and the name.
fn legend_svg(svg: &mut String, figure: &LineFigure, legend_x: f64, top: f64) {
    let small = 0.8 * figure.font_size;
    for (k, series) in figure.series.iter().enumerate() {
        let y = top + small + k as f64 * 1.6 * small;
        let [r, g, b] = series.rgb;
        let dash = dash_attribute(series.dashed);
        let _ = writeln!(
            svg,
            r#"<line x1="{x1:.1}" y1="{ly:.1}" x2="{x2:.1}" y2="{ly:.1}" stroke="rgb({r},{g},{b})" stroke-width="2"{dash}/><text x="{tx:.1}" y="{y:.1}" font-size="{small:.1}">{}</text>"#,
            escape(&series.name),
            x1 = legend_x,
            x2 = legend_x + 2.0 * small,
            ly = y - 0.35 * small,
            tx = legend_x + 2.5 * small,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_shares_its_series_colour_and_other_series_differ() {
        let line = |name: &str| LineSeries {
            name: name.into(),
            rgb: [0, 0, 0],
            points: vec![[0.0, 0.5]],
            dashed: name.contains("untrained"),
        };
        let mut series = vec![
            line("trained: long P@L"),
            line("trained: long P@L/5"),
            line("untrained: long P@L"),
            line("test Q8"),
        ];
        assert_eq!(distinct_series_colours(&mut series), vec![0, 1, 0, 2]);
        assert_eq!(series[0].rgb, series[2].rgb);
        assert_ne!(series[0].rgb, series[1].rgb);
        assert_ne!(series[1].rgb, series[3].rgb);
    }

    #[test]
    fn draws_each_series_with_its_points_ticks_and_legend() {
        let figure = LineFigure::new(
            "Q8 by layer",
            "layer",
            "accuracy",
            vec![
                LineSeries {
                    name: "trained".into(),
                    rgb: [78, 121, 167],
                    points: vec![[0.0, 0.33], [1.0, 0.35], [2.0, 0.36]],
                    dashed: false,
                },
                LineSeries {
                    name: "untrained <random>".into(),
                    rgb: [225, 87, 89],
                    points: vec![[0.0, 0.33], [1.0, f64::NAN], [2.0, 0.34]],
                    dashed: true,
                },
            ],
        );
        let svg = line_svg(&figure);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(
            svg.matches("<circle").count(),
            5,
            "the NaN point is skipped"
        );
        assert_eq!(
            svg.matches("stroke-dasharray").count(),
            2,
            "dashed line and its legend entry"
        );
        assert!(svg.contains("untrained &lt;random&gt;") && svg.contains(">layer<"));
        // Integer layer ticks 0, 1, 2 label the x axis.
        for tick in [">0<", ">1<", ">2<"] {
            assert!(svg.contains(tick), "{tick}");
        }
    }
}
