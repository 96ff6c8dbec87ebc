//! Publication scatter plots as SVG, drawn from the data (not a screen grab): equal-aspect
//! points, a title, optional axis labels and a legend with category counts.

use std::fmt::Write as _;
use std::path::Path;

use super::atomic::ExportError;
use super::palette::{OTHER_COLOUR, Palette};
use super::svg::{escape, figure_title, open_document};

/// A group of points: `(label, colour, point indices)`.
pub type PointCategory = (String, [u8; 3], Vec<usize>);

/// Distinct values, the most frequent first (ties by name).
pub fn frequency_order<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let mut order: Vec<(&str, usize)> = counts.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    order.into_iter().map(|(v, _)| v.to_owned()).collect()
}

/// Groups point indices by label in the fixed `order` of a column's categories (a whole data
/// set's, or the amino acids'), so that a category keeps its colour and legend place in every
/// map and figure of that data, whatever the sample; categories from the `max`-th on (and labels
/// not in `order`) are merged into "other"; `max` is capped at the palette's size. Empty
/// categories are left out.
pub fn categorise_in_order(
    labels: &[String],
    order: &[String],
    max: usize,
    palette: Palette,
) -> Vec<PointCategory> {
    let colours = palette.colours();
    let rank: std::collections::HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_str(), i))
        .collect();
    let max = max.clamp(1, colours.len());
    let kept = if order.len() > max { max - 1 } else { max };
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); kept];
    let mut other = Vec::new();
    for (k, label) in labels.iter().enumerate() {
        match rank.get(label.as_str()) {
            Some(&r) if r < kept => members[r].push(k),
            _ => other.push(k),
        }
    }
    let mut groups: Vec<PointCategory> = members
        .into_iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(r, m)| (order[r].clone(), colours[r], m))
        .collect();
    if !other.is_empty() {
        groups.push(("other".into(), OTHER_COLOUR, other));
    }
    groups
}

/// The viridis colour map at `t` in `0..=1` (perceptually uniform, readable in grey).
pub fn viridis(t: f64) -> [u8; 3] {
    const STOPS: [[u8; 3]; 9] = [
        [68, 1, 84],
        [71, 44, 122],
        [59, 81, 139],
        [44, 113, 142],
        [33, 144, 141],
        [39, 173, 129],
        [92, 200, 99],
        [170, 220, 50],
        [253, 231, 37],
    ];
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - k as f64;
    std::array::from_fn(|c| {
        (f64::from(STOPS[k][c]) + f * (f64::from(STOPS[k + 1][c]) - f64::from(STOPS[k][c]))).round()
            as u8
    })
}

/// A continuous colour scale for numeric labels: when every non-empty label is a number and
/// there are more than `max_categories` distinct values, the points fall into `bins`
/// equal-width ranges coloured by [`viridis`], named `lo–hi`, in increasing order (empty labels
/// go to "missing"). Otherwise `None` (colour by category).
pub fn numeric_bins(
    labels: &[String],
    max_categories: usize,
    bins: usize,
) -> Option<Vec<PointCategory>> {
    let values: Vec<Option<f64>> = labels
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                Ok(None)
            } else {
                l.trim().parse::<f64>().map(Some)
            }
        })
        .collect::<Result<_, _>>()
        .ok()?;
    let mut distinct: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() <= max_categories {
        return None;
    }
    let (lo, hi) = (distinct[0], distinct[distinct.len() - 1]);
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut members = vec![Vec::new(); bins];
    let mut missing = Vec::new();
    for (k, v) in values.iter().enumerate() {
        match v.filter(|v| v.is_finite()) {
            Some(v) => members[(((v - lo) / width) as usize).min(bins - 1)].push(k),
            None => missing.push(k),
        }
    }
    let edge = |b: usize| super::svg::tick_label(lo + b as f64 * width);
    let mut out: Vec<PointCategory> = members
        .into_iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(b, m)| {
            (
                format!("{}–{}", edge(b), edge(b + 1)),
                viridis(b as f64 / (bins - 1).max(1) as f64),
                m,
            )
        })
        .collect();
    if !missing.is_empty() {
        out.push(("missing".into(), OTHER_COLOUR, missing));
    }
    Some(out)
}

/// One coloured category of points.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterSeries {
    /// Legend text.
    pub name: String,
    /// Fill colour.
    pub rgb: [u8; 3],
    /// Data coordinates.
    pub points: Vec<[f64; 2]>,
}

/// A scatter figure.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterFigure {
    /// Title above the plot.
    pub title: String,
    /// Axis labels (empty: no axes drawn, as for t-SNE).
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// Categories, drawn in order (later ones on top).
    pub series: Vec<ScatterSeries>,
    /// Heading of the legend: what the colours are (e.g. "gene"); empty for none.
    pub legend_title: String,
    /// Figure size in CSS pixels (1/96 inch).
    pub width: f64,
    /// Figure height.
    pub height: f64,
    /// Point radius in pixels.
    pub radius: f64,
    /// Font size of the title; labels and legend use 0.8 of it.
    pub font_size: f64,
}

impl ScatterFigure {
    /// An 800 x 640 figure with 14 px text and 2 px points.
    pub fn new(title: impl Into<String>, series: Vec<ScatterSeries>) -> Self {
        Self {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            series,
            legend_title: String::new(),
            width: 800.0,
            height: 640.0,
            radius: 2.0,
            font_size: 16.0,
        }
    }
}

/// The figure as an SVG document.
pub fn scatter_svg(figure: &ScatterFigure) -> String {
    let font = figure.font_size;
    let small = 0.8 * font;
    let legend_width = figure
        .series
        .iter()
        .map(|s| format!("{} ({})", s.name, s.points.len()).chars().count())
        .max()
        .map_or(0.0, |chars| chars as f64 * 0.6 * small + 3.0 * small)
        .max(figure.legend_title.chars().count() as f64 * 0.65 * small + small);
    let axes = !figure.x_label.is_empty();
    let (left, top) = (if axes { 3.0 * font } else { font }, 2.5 * font);
    let (right, bottom) = (legend_width + font, if axes { 3.0 * font } else { font });
    let plot_w = (figure.width - left - right).max(10.0);
    let plot_h = (figure.height - top - bottom).max(10.0);

    let all = figure.series.iter().flat_map(|s| s.points.iter());
    let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in all.filter(|p| p[0].is_finite() && p[1].is_finite()) {
        for a in 0..2 {
            min[a] = min[a].min(p[a]);
            max[a] = max[a].max(p[a]);
        }
    }
    if !min[0].is_finite() {
        (min, max) = ([0.0; 2], [1.0; 2]);
    }
    // Equal aspect: one data unit is the same length on both axes, centred.
    let span = ((max[0] - min[0]) / plot_w)
        .max((max[1] - min[1]) / plot_h)
        .max(1e-12)
        * 1.04;
    let centre = [(min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0];
    let to_px = |p: &[f64; 2]| {
        (
            left + plot_w / 2.0 + (p[0] - centre[0]) / span,
            top + plot_h / 2.0 - (p[1] - centre[1]) / span,
        )
    };

    let mut svg = String::new();
    open_document(&mut svg, figure.width, figure.height);
    figure_title(&mut svg, figure.width, font, &figure.title);
    if axes {
        let _ = writeln!(
            svg,
            r##"<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444" stroke-width="1"/>"##
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x}" y="{y}" font-size="{small}" text-anchor="middle">{}</text>"#,
            escape(&figure.x_label),
            x = left + plot_w / 2.0,
            y = top + plot_h + 1.8 * font
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x}" y="{y}" font-size="{small}" text-anchor="middle" transform="rotate(-90 {x} {y})">{}</text>"#,
            escape(&figure.y_label),
            x = 1.2 * font,
            y = top + plot_h / 2.0
        );
    }
    for series in &figure.series {
        let [r, g, b] = series.rgb;
        let _ = writeln!(
            svg,
            r#"<g fill="rgb({r},{g},{b})" fill-opacity="0.85"><title>{}</title>"#,
            escape(&series.name)
        );
        for p in series
            .points
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
        {
            let (x, y) = to_px(p);
            let _ = writeln!(
                svg,
                r#"<circle cx="{x:.2}" cy="{y:.2}" r="{}"/>"#,
                figure.radius
            );
        }
        let _ = writeln!(svg, "</g>");
    }
    legend_svg(&mut svg, figure, left + plot_w + font, top);
    svg.push_str("</svg>\n");
    svg
}

/// The legend at (`legend_x`, `top`): its title in bold, then one dot and `name (count)` per
/// series.
fn legend_svg(svg: &mut String, figure: &ScatterFigure, legend_x: f64, top: f64) {
    let small = 0.8 * figure.font_size;
    let mut top = top;
    if !figure.legend_title.is_empty() {
        let _ = writeln!(
            svg,
            r#"<text x="{legend_x}" y="{y}" font-size="{small}" font-weight="bold">{}</text>"#,
            escape(&figure.legend_title),
            y = top + small
        );
        top += 1.6 * small;
    }
    for (k, series) in figure.series.iter().enumerate() {
        let y = top + small + k as f64 * 1.5 * small;
        let [r, g, b] = series.rgb;
        let _ = writeln!(
            svg,
            r#"<circle cx="{cx}" cy="{cy}" r="{rr}" fill="rgb({r},{g},{b})"/><text x="{tx}" y="{ty}" font-size="{small}">{} ({})</text>"#,
            escape(&series.name),
            series.points.len(),
            cx = legend_x + 0.5 * small,
            cy = y - 0.35 * small,
            rr = 0.4 * small,
            tx = legend_x + 1.5 * small,
            ty = y
        );
    }
}

/// Writes the figure atomically as SVG, or as PNG at `dpi` for a `.png` path; an existing file
/// is kept unless `overwrite`.
pub fn write_scatter_figure(
    path: &Path,
    figure: &ScatterFigure,
    dpi: f64,
    overwrite: bool,
) -> Result<(), ExportError> {
    super::write_figure(path, &scatter_svg(figure), dpi, overwrite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_keeps_its_colour_whatever_the_sample() {
        let order: Vec<String> = ["thrs", "dnak", "grpe"].map(String::from).to_vec();
        let labels = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let colour_of =
            |groups: &[PointCategory], name: &str| groups.iter().find(|g| g.0 == name).map(|g| g.1);
        let one = categorise_in_order(
            &labels(&["grpe", "grpe", "dnak"]),
            &order,
            20,
            Palette::Tableau20,
        );
        let two = categorise_in_order(
            &labels(&["dnak", "thrs", "dnak", "dnak"]),
            &order,
            20,
            Palette::Tableau20,
        );
        assert_eq!(colour_of(&one, "dnak"), colour_of(&two, "dnak"));
        assert_eq!(
            colour_of(&two, "dnak"),
            Some(Palette::Tableau20.colours()[1])
        );
        assert_eq!(
            colour_of(&one, "thrs"),
            None,
            "absent categories are left out"
        );
        // Twenty categories each get a colour of their own; a 21st makes "other".
        let twenty: Vec<String> = (0..20).map(|k| format!("c{k}")).collect();
        let all = categorise_in_order(&twenty, &twenty, 20, Palette::Tableau20);
        assert_eq!(all.len(), 20);
        let colours: std::collections::HashSet<[u8; 3]> = all.iter().map(|g| g.1).collect();
        assert_eq!(colours.len(), 20);
        assert!(!colours.contains(&OTHER_COLOUR));
        let mut more = twenty.clone();
        more.push("c20".into());
        let merged = categorise_in_order(&more, &more, 20, Palette::Tableau20);
        assert_eq!(
            merged.last().map(|g| (g.0.as_str(), g.2.len())),
            Some(("other", 2))
        );
    }

    #[test]
    fn numeric_columns_get_a_continuous_scale() {
        let labels: Vec<String> = (0..100)
            .map(|k| (k * 10).to_string())
            .chain([String::new()])
            .collect();
        let bins = numeric_bins(&labels, 12, 10).expect("numeric");
        assert_eq!(bins.len(), 11, "ten ranges and the missing label");
        assert_eq!(bins[0].0, "0–99");
        assert_eq!(bins[0].1, viridis(0.0));
        assert_eq!(bins[9].1, viridis(1.0));
        assert_eq!(bins[9].2.len(), 10, "the maximum falls in the last bin");
        assert_eq!(bins[10].0, "missing");
        assert!(
            numeric_bins(&["a".into(), "1".into()], 12, 10).is_none(),
            "text is categorical"
        );
        let few: Vec<String> = (0..5).map(|k| k.to_string()).collect();
        assert!(
            numeric_bins(&few, 12, 10).is_none(),
            "few values stay categories"
        );
        assert_eq!(viridis(0.0), [68, 1, 84]);
        assert_eq!(viridis(1.0), [253, 231, 37]);
    }

    #[test]
    fn draws_every_point_escapes_names_and_keeps_existing_files() {
        let series = vec![
            ScatterSeries {
                name: "polar <STNQ>".into(),
                rgb: [242, 142, 43],
                points: vec![[0.0, 0.0], [1.0, 2.0]],
            },
            ScatterSeries {
                name: "aromatic".into(),
                rgb: [78, 121, 167],
                points: vec![[-1.0, 5.0]],
            },
        ];
        let mut figure = ScatterFigure::new("t-SNE & friends", series);
        figure.x_label = "PC1 (40%)".into();
        figure.y_label = "PC2 (20%)".into();
        let svg = scatter_svg(&figure);
        // 3 data points + 2 legend markers.
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains("polar &lt;STNQ&gt; (2)") && svg.contains("t-SNE &amp; friends"));
        assert!(svg.contains("PC1 (40%)") && svg.starts_with("<svg"));
        assert!(
            !svg.contains("font-weight=\"bold\""),
            "no legend title unless given"
        );
        figure.legend_title = "group <AA>".into();
        let titled = scatter_svg(&figure);
        assert!(titled.contains(r#"font-weight="bold">group &lt;AA&gt;</text>"#));
        assert_eq!(titled.matches("<circle").count(), 5);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("map.svg");
        write_scatter_figure(&path, &figure, 96.0, false).expect("write");
        std::fs::write(&path, "mine").expect("replace");
        let err = write_scatter_figure(&path, &figure, 96.0, false).expect_err("exists");
        assert!(err.to_string().contains("not overwriting"));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "mine");
        write_scatter_figure(&path, &figure, 96.0, true).expect("overwrite when asked");
    }
}
