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

/// A horizontal reference level (majority class, random predictor, chance agreement), drawn
/// dashed in grey across the plot and named in the legend with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Legend text, such as "majority class".
    pub label: String,
    /// The level, in the vertical axis's units.
    pub value: f64,
}

/// The colour of every [`Baseline`].
pub const BASELINE_COLOUR: [u8; 3] = [120, 120, 120];

/// The dash of a [`Baseline`] (finer than an untrained series' `6 4`).
const BASELINE_DASH: &str = "2 3";

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
    /// Reference levels drawn across the plot.
    pub baselines: Vec<Baseline>,
    /// Figure width in CSS pixels (1/96 inch).
    pub width: f64,
    /// Figure height in CSS pixels.
    pub height: f64,
    /// Title font size; tick labels and the legend use 0.8 of it.
    pub font_size: f64,
}

impl LineFigure {
    /// A 640 x 420 figure with 16 px titles and no baselines.
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
            baselines: Vec::new(),
            width: 640.0,
            height: 420.0,
            font_size: 16.0,
        }
    }
}

/// The one x value shared by every finite point when each series has at most one (a result of
/// a single layer, drawn as bars rather than as a sweep); `None` otherwise.
pub fn single_layer(series: &[LineSeries]) -> Option<f64> {
    let mut x = None;
    for s in series {
        let mut points = s.points.iter().filter(finite);
        let Some(p) = points.next() else { continue };
        if points.next().is_some() || x.is_some_and(|x| x != p[0]) {
            return None;
        }
        x = Some(p[0]);
    }
    x
}

/// One legend entry: its sample (line, dashed line, bar or baseline), colour and text.
struct LegendEntry {
    text: String,
    rgb: [u8; 3],
    dash: Option<&'static str>,
    bar: bool,
}

/// The legend's entries: every series, then every baseline with its value.
fn legend_entries(figure: &LineFigure, bars: bool) -> Vec<LegendEntry> {
    let series = figure.series.iter().map(|s| LegendEntry {
        text: s.name.clone(),
        rgb: s.rgb,
        dash: s.dashed.then_some("6 4"),
        bar: bars,
    });
    let baselines = figure.baselines.iter().map(|b| LegendEntry {
        text: format!("{} ({})", b.label, tick_label(b.value)),
        rgb: BASELINE_COLOUR,
        dash: Some(BASELINE_DASH),
        bar: false,
    });
    series.chain(baselines).collect()
}

/// Where each legend entry goes when the entries flow in rows under the plot, each as wide as
/// its text, within `width` px: `(x offset, row)` per entry, and the number of rows.
fn legend_layout(entries: &[LegendEntry], width: f64, small: f64) -> (Vec<(f64, usize)>, usize) {
    let (mut x, mut row) = (0.0, 0);
    let mut places = Vec::with_capacity(entries.len());
    for entry in entries {
        let w = 2.5 * small + text_width(&entry.text, small) + 1.5 * small;
        if x > 0.0 && x + w > width {
            (x, row) = (0.0, row + 1);
        }
        places.push((x, row));
        x += w;
    }
    let rows = if entries.is_empty() { 0 } else { row + 1 };
    (places, rows)
}

/// The figure as an SVG document: lines against x, or bars when the result has a single layer
/// ([`single_layer`]); baselines dashed across; the legend under the plot, sized to its text.
pub fn line_svg(figure: &LineFigure) -> String {
    let font = figure.font_size;
    let small = 0.8 * font;
    let layer = single_layer(&figure.series);
    let entries = legend_entries(figure, layer.is_some());
    let (left, top, right) = (4.5 * font, 2.5 * font, font);
    let legend_width = figure.width - left - right;
    let (places, legend_rows) = legend_layout(&entries, legend_width, small);
    let legend_height = legend_rows as f64 * 1.6 * small;
    let bottom = 3.4 * font + legend_height;
    let plot = [
        left,
        top,
        (figure.width - left - right).max(10.0),
        (figure.height - top - bottom).max(10.0),
    ];

    let mut svg = String::new();
    open_document(&mut svg, figure.width, figure.height);
    figure_title(&mut svg, figure.width, font, &figure.title);
    let x_label = match layer {
        Some(x) => format!("{} {}", figure.x_label, tick_label(x)),
        None => figure.x_label.clone(),
    };
    centred_text(
        &mut svg,
        left + plot[2] / 2.0,
        top + plot[3] + 2.7 * font,
        font * 0.9,
        &x_label,
        false,
    );
    centred_text(
        &mut svg,
        1.2 * font,
        top + plot[3] / 2.0,
        font * 0.9,
        &figure.y_label,
        true,
    );
    match layer {
        Some(_) => bars_svg(&mut svg, figure, plot),
        None => sweep_svg(&mut svg, figure, plot),
    }
    let legend_top = top + plot[3] + 3.4 * font;
    legend_svg(&mut svg, &entries, &places, [left, legend_top], small);
    svg.push_str("</svg>\n");
    svg
}

/// The vertical range of the points and baselines with 5% headroom.
fn value_range(figure: &LineFigure, from_zero: bool) -> (f64, f64) {
    let (min, max) = data_bounds(&figure.series);
    let (mut lo, mut hi) = (min[1], max[1]);
    for b in figure.baselines.iter().filter(|b| b.value.is_finite()) {
        lo = lo.min(b.value);
        hi = hi.max(b.value);
    }
    if from_zero && lo >= 0.0 {
        lo = 0.0;
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let pad = 0.05 * (hi - lo);
    (
        if from_zero && lo == 0.0 {
            0.0
        } else {
            lo - pad
        },
        hi + pad,
    )
}

/// The baselines across the plot rectangle `[left, top, width, height]`, `to_y` mapping values
/// to pixels.
fn baselines_svg(svg: &mut String, figure: &LineFigure, plot: [f64; 4], to_y: impl Fn(f64) -> f64) {
    let [r, g, b] = BASELINE_COLOUR;
    for baseline in figure.baselines.iter().filter(|b| b.value.is_finite()) {
        let y = to_y(baseline.value);
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{y:.2}" x2="{:.1}" y2="{y:.2}" stroke="rgb({r},{g},{b})" stroke-width="1.5" stroke-dasharray="{BASELINE_DASH}"><title>{}</title></line>"#,
            plot[0],
            plot[0] + plot[2],
            escape(&baseline.label)
        );
    }
}

/// Lines against x in `plot`, with round ticks (integer ticks for layers).
fn sweep_svg(svg: &mut String, figure: &LineFigure, plot: [f64; 4]) {
    let [left, top, plot_w, plot_h] = plot;
    let (min, max) = data_bounds(&figure.series);
    let (y_min, y_max) = value_range(figure, false);
    let to_px = |p: &[f64; 2]| {
        (
            left + (p[0] - min[0]) / (max[0] - min[0]) * plot_w,
            top + plot_h - (p[1] - y_min) / (y_max - y_min) * plot_h,
        )
    };
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
    axes_frame(svg, plot, &x_ticks, &y_ticks, 0.8 * figure.font_size);
    baselines_svg(svg, figure, plot, |v| to_px(&[min[0], v]).1);
    lines_svg(svg, &figure.series, &to_px);
}

/// One bar per series (a single-layer result), in series order with a trained measure and its
/// untrained baseline side by side, each labelled with its value; untrained bars are pale with
/// a dashed outline.
fn bars_svg(svg: &mut String, figure: &LineFigure, plot: [f64; 4]) {
    let [left, top, plot_w, plot_h] = plot;
    let (y_min, y_max) = value_range(figure, true);
    let to_y = |v: f64| top + plot_h - (v - y_min) / (y_max - y_min) * plot_h;
    let y_ticks: Vec<(f64, String)> = nice_ticks(y_min, y_max, 6)
        .into_iter()
        .map(|v| (to_y(v), tick_label(v)))
        .collect();
    axes_frame(svg, plot, &[], &y_ticks, 0.8 * figure.font_size);
    let mut order: Vec<usize> = (0..figure.series.len()).collect();
    order.sort_by_key(|&i| {
        let key = series_key(&figure.series[i].name);
        let first = figure
            .series
            .iter()
            .position(|s| series_key(&s.name) == key);
        (first, figure.series[i].dashed)
    });
    let slot = plot_w / order.len().max(1) as f64;
    let small = 0.8 * figure.font_size;
    for (k, &i) in order.iter().enumerate() {
        let series = &figure.series[i];
        let Some(value) = series.points.iter().find(finite).map(|p| p[1]) else {
            continue;
        };
        let [r, g, b] = series.rgb;
        let (x, w) = (left + (k as f64 + 0.2) * slot, 0.6 * slot);
        let (y, base) = (to_y(value), to_y(y_min.max(0.0)));
        let (opacity, dash) = if series.dashed {
            (0.35, r#" stroke-dasharray="6 4""#)
        } else {
            (1.0, "")
        };
        let _ = writeln!(
            svg,
            r#"<g><title>{}</title><rect x="{x:.2}" y="{:.2}" width="{w:.2}" height="{:.2}" fill="rgb({r},{g},{b})" fill-opacity="{opacity}" stroke="rgb({r},{g},{b})" stroke-width="1.5"{dash}/></g>"#,
            escape(&series.name),
            y.min(base),
            (base - y).abs(),
        );
        centred_text(
            svg,
            x + w / 2.0,
            y.min(base) - 0.4 * small,
            small,
            &tick_label(value),
            false,
        );
    }
    baselines_svg(svg, figure, plot, to_y);
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

/// The legend under the plot from `origin` (`[x, y]` of its first row): per entry a sample
/// (a line dashed like its series, or a bar swatch) and the text, each row 1.6 `small` high.
fn legend_svg(
    svg: &mut String,
    entries: &[LegendEntry],
    places: &[(f64, usize)],
    origin: [f64; 2],
    small: f64,
) {
    let _ = writeln!(svg, r#"<g class="legend">"#);
    for (entry, &(dx, row)) in entries.iter().zip(places) {
        let (x, y) = (origin[0] + dx, origin[1] + row as f64 * 1.6 * small);
        let [r, g, b] = entry.rgb;
        if entry.bar {
            let opacity = if entry.dash.is_some() { 0.35 } else { 1.0 };
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="rgb({r},{g},{b})" fill-opacity="{opacity}" stroke="rgb({r},{g},{b})"/>"#,
                y - 0.8 * small,
                2.0 * small,
                0.8 * small
            );
        } else {
            let dash = entry
                .dash
                .map(|d| format!(r#" stroke-dasharray="{d}""#))
                .unwrap_or_default();
            let _ = write!(
                svg,
                r#"<line x1="{x:.1}" y1="{ly:.1}" x2="{x2:.1}" y2="{ly:.1}" stroke="rgb({r},{g},{b})" stroke-width="2"{dash}/>"#,
                ly = y - 0.35 * small,
                x2 = x + 2.0 * small,
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{y:.1}" font-size="{small:.1}">{}</text>"#,
            x + 2.5 * small,
            escape(&entry.text)
        );
    }
    let _ = writeln!(svg, "</g>");
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

    fn sweep(points: &[[f64; 2]]) -> Vec<LineSeries> {
        let mut series = vec![
            LineSeries {
                name: "trained: long P@L".into(),
                rgb: [0, 0, 0],
                points: points.to_vec(),
                dashed: false,
            },
            LineSeries {
                name: "untrained: long P@L".into(),
                rgb: [0, 0, 0],
                points: points.iter().map(|p| [p[0], p[1] / 2.0]).collect(),
                dashed: true,
            },
            LineSeries {
                name: "trained: long P@L/5".into(),
                rgb: [0, 0, 0],
                points: points.iter().map(|p| [p[0], p[1] * 1.5]).collect(),
                dashed: false,
            },
        ];
        distinct_series_colours(&mut series);
        series
    }

    /// `stroke="rgb(..)"` of each `<title>NAME</title>` group (the drawn colour) and of each
    /// legend entry followed by `>NAME</text>` (the legend's colour).
    fn drawn_and_legend_colours(svg: &str, name: &str) -> (String, String) {
        let colour = |text: &str| {
            let at = text.find("rgb(").expect("a colour");
            text[at..at + text[at..].find(')').expect("closed") + 1].to_owned()
        };
        let group = svg.find(&format!("<title>{name}</title>")).expect(name);
        let legend = svg.find(r#"<g class="legend">"#).expect("legend");
        let entry_end = legend + svg[legend..].find(&format!(">{name}</text>")).expect(name);
        let entry_start = svg[..entry_end].rfind('\n').expect("line");
        (colour(&svg[group..]), colour(&svg[entry_start..entry_end]))
    }

    #[test]
    fn legend_colours_are_the_drawn_colours_for_lines_and_bars() {
        for points in [vec![[1.0, 0.2], [2.0, 0.3], [3.0, 0.35]], vec![[33.0, 0.3]]] {
            let figure = LineFigure::new("t", "layer", "precision", sweep(&points));
            let svg = line_svg(&figure);
            for s in &figure.series {
                let (drawn, legend) = drawn_and_legend_colours(&svg, &s.name);
                let [r, g, b] = s.rgb;
                assert_eq!(drawn, format!("rgb({r},{g},{b})"), "{}", s.name);
                assert_eq!(legend, drawn, "{} ({} points)", s.name, points.len());
            }
        }
    }

    #[test]
    fn a_single_layer_is_drawn_as_labelled_bars_with_its_layer_on_the_axis() {
        let mut figure = LineFigure::new("t", "layer", "precision", sweep(&[[33.0, 0.3]]));
        figure.baselines.push(Baseline {
            label: "random predictor".into(),
            value: 0.021,
        });
        assert_eq!(single_layer(&figure.series), Some(33.0));
        let svg = line_svg(&figure);
        assert_eq!(svg.matches("<polyline").count(), 0, "no sweep line");
        assert_eq!(svg.matches("<g><title>").count(), 3, "one bar a series");
        for value in [">0.3<", ">0.15<", ">0.45<"] {
            assert!(svg.contains(value), "bar value {value}");
        }
        assert!(svg.contains(">layer 33<"), "the layer names the axis");
        assert!(!svg.contains(">33.0<"));
        assert!(svg.contains(">random predictor (0.021)<"));
        assert!(svg.contains(r#"stroke-dasharray="2 3"><title>random predictor"#));
        // Two layers are a sweep again.
        assert_eq!(single_layer(&sweep(&[[32.0, 0.3], [33.0, 0.3]])), None);
    }

    #[test]
    fn the_legend_sits_under_the_plot_and_takes_only_the_rows_it_needs() {
        let mut figure =
            LineFigure::new("t", "layer", "accuracy", sweep(&[[0.0, 0.3], [4.0, 0.4]]));
        (figure.width, figure.height) = (720.0, 540.0);
        let svg = line_svg(&figure);
        let plot_bottom = |svg: &str| {
            let at = svg.find("<rect x=").expect("frame");
            let attr = |name: &str| -> f64 {
                let from = at + svg[at..].find(&format!("{name}=\"")).expect(name) + name.len() + 2;
                svg[from..from + svg[from..].find('"').expect("quote")]
                    .parse()
                    .expect("number")
            };
            attr("y") + attr("height")
        };
        // Three short entries fit one row: the plot keeps over 80% of the height.
        assert!(plot_bottom(&svg) > 0.8 * 540.0, "{}", plot_bottom(&svg));
        // The plot spans the width (no legend column beside it).
        assert!(svg.contains(r#"width="632.0""#), "plot width 720 - 72 - 16");
        // Many long names wrap into more rows, under the plot.
        figure.series = (0..12)
            .map(|k| LineSeries {
                name: format!("a rather long series name number {k}"),
                rgb: [1, 2, 3],
                points: vec![[0.0, 0.1], [1.0, 0.2]],
                dashed: false,
            })
            .collect();
        let wrapped = line_svg(&figure);
        assert!(plot_bottom(&wrapped) < plot_bottom(&svg));
    }
}
