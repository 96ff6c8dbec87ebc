//! The per-protein secondary-structure track as a figure: the sequence, the true and the
//! predicted SS8 classes letter under letter in wrapped blocks, predicted letters faded where
//! the probe is unsure, and a confidence bar under each residue (green: correct, red: wrong,
//! grey: not scored).

use std::fmt::Write as _;

use super::svg::{escape, open_document, text_width};

/// One protein's track.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackFigure {
    /// Title above the track.
    pub title: String,
    /// Residues (one letter each).
    pub sequence: Vec<char>,
    /// True SS8 class of each residue; `None` where it is not scored (e.g. disordered).
    pub truth: Vec<Option<char>>,
    /// Predicted class of each residue and its probability (0-1).
    pub predicted: Vec<(char, f32)>,
    /// Residues per line of the track.
    pub per_line: usize,
    /// Letter size in CSS pixels; the title is 1.25 of it.
    pub font_size: f64,
}

/// Left margin for the row names (in letter cells).
const NAME_CELLS: f64 = 6.0;

impl TrackFigure {
    /// A track wrapped to fit `width` CSS pixels (whole tens of residues per line) in 12 px
    /// letters.
    pub fn fitting(
        title: impl Into<String>,
        sequence: Vec<char>,
        truth: Vec<Option<char>>,
        predicted: Vec<(char, f32)>,
        width: f64,
    ) -> Self {
        let font_size = 12.0;
        let cells = (width / cell_width(font_size) - NAME_CELLS - 2.0).max(10.0);
        Self {
            title: title.into(),
            sequence,
            truth,
            predicted,
            per_line: ((cells / 10.0).floor() as usize * 10).clamp(10, 200),
            font_size,
        }
    }

    /// The figure's width and height in CSS pixels (the height follows the number of lines).
    pub fn size(&self) -> (f64, f64) {
        let cell = cell_width(self.font_size);
        let width = (NAME_CELLS + self.per_line as f64 + 2.0) * cell;
        let lines = self.sequence.len().div_ceil(self.per_line.max(1)).max(1);
        let height = self.font_size * (3.5 + lines as f64 * BLOCK_ROWS + 3.8);
        (width, height)
    }
}

/// Rows of one block (sequence, truth, prediction, bars, gap), in letter heights.
const BLOCK_ROWS: f64 = 6.2;

fn cell_width(font_size: f64) -> f64 {
    0.75 * font_size
}

/// The eight DSSP classes in the legend's order (helices, strands, turn and bend, coil) with
/// their names.
pub const SS8_LEGEND: [(char, &str); 8] = [
    ('H', "alpha helix"),
    ('G', "3-10 helix"),
    ('I', "pi helix"),
    ('E', "strand"),
    ('B', "bridge"),
    ('T', "turn"),
    ('S', "bend"),
    ('C', "coil"),
];

/// The colour of an SS8 class: helices red/orange, strands blue, turns and bends green, coil grey.
pub fn ss8_colour(class: char) -> &'static str {
    match class {
        'H' => "#c62828",
        'G' => "#ef6c00",
        'I' => "#ad1457",
        'E' => "#1565c0",
        'B' => "#00838f",
        'T' => "#2e7d32",
        'S' => "#7cb342",
        _ => "#616161",
    }
}

/// The figure as an SVG document.
pub fn track_svg(figure: &TrackFigure) -> String {
    let (width, height) = figure.size();
    let f = figure.font_size;
    let cell = cell_width(f);
    let mut svg = String::new();
    open_document(&mut svg, width, height);
    let _ = writeln!(
        svg,
        r#"<text x="{cell:.1}" y="{:.1}" font-size="{:.1}">{}</text>"#,
        1.6 * f,
        1.25 * f,
        escape(&figure.title)
    );
    let per_line = figure.per_line.max(1);
    let letter = |svg: &mut String, x: f64, y: f64, c: char, fill: &str, opacity: f32| {
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{f:.1}" font-family="monospace" text-anchor="middle" fill="{fill}" fill-opacity="{opacity:.2}">{}</text>"#,
            escape(&c.to_string())
        );
    };
    for (line, start) in (0..figure.sequence.len()).step_by(per_line).enumerate() {
        let top = f * (3.5 + line as f64 * BLOCK_ROWS);
        let rows = [top + f, top + 2.2 * f, top + 3.4 * f];
        for (name, y) in ["seq", "true", "pred"].iter().zip(rows) {
            let _ = writeln!(
                svg,
                r##"<text x="{cell:.1}" y="{y:.1}" font-size="{:.1}" fill="#444">{name}</text>"##,
                0.85 * f
            );
        }
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="#888">{}</text>"##,
            (NAME_CELLS + 0.1) * cell,
            top - 0.05 * f,
            0.7 * f,
            start + 1
        );
        let end = (start + per_line).min(figure.sequence.len());
        for i in start..end {
            let x = (NAME_CELLS + 0.5 + (i - start) as f64) * cell;
            letter(&mut svg, x, rows[0], figure.sequence[i], "#222", 1.0);
            let truth = figure.truth.get(i).copied().flatten();
            match truth {
                Some(c) => letter(&mut svg, x, rows[1], c, ss8_colour(c), 1.0),
                None => letter(&mut svg, x, rows[1], '-', "#aaa", 1.0),
            }
            let Some(&(class, p)) = figure.predicted.get(i) else {
                continue;
            };
            let p = p.clamp(0.0, 1.0);
            letter(
                &mut svg,
                x,
                rows[2],
                class,
                ss8_colour(class),
                0.25 + 0.75 * p,
            );
            let bar = match truth {
                Some(c) if c == class => "#2e7d32",
                Some(_) => "#c62828",
                None => "#9e9e9e",
            };
            let full = 1.2 * f;
            let h = f64::from(p) * full;
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{bar}"/>"#,
                x - 0.4 * cell,
                rows[2] + 0.4 * f + full - h,
                0.8 * cell
            );
        }
    }
    legend_svg(&mut svg, f, height);
    svg.push_str("</svg>\n");
    svg
}

/// Two legend lines at the bottom: each class letter in its own colour (the colour it is drawn
/// in above) with its name, then what the bars mean.
fn legend_svg(svg: &mut String, f: f64, height: f64) {
    let small = 0.8 * f;
    let mut x = cell_width(f);
    let y = height - 2.1 * f;
    let _ = writeln!(svg, r#"<g class="legend">"#);
    for (class, name) in SS8_LEGEND {
        let _ = writeln!(
            svg,
            r##"<text x="{x:.1}" y="{y:.1}" font-size="{small:.1}" font-weight="bold" fill="{}">{class}</text><text x="{:.1}" y="{y:.1}" font-size="{small:.1}" fill="#444">{name}</text>"##,
            ss8_colour(class),
            x + 1.0 * small,
        );
        x += 2.2 * small + text_width(name, small);
    }
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-size="{small:.1}" fill="#444">Letters: true and predicted class (predictions fainter where the probe is less sure). Bars: probe confidence; green correct, red wrong, grey not scored.</text>"##,
        cell_width(f),
        height - 0.8 * f,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> TrackFigure {
        let sequence: Vec<char> = "MKVLAAGIVE".repeat(13).chars().collect();
        let n = sequence.len();
        let truth = (0..n)
            .map(|i| if i == 3 { None } else { Some('H') })
            .collect();
        let predicted = (0..n)
            .map(|i| if i % 2 == 0 { ('H', 0.8) } else { ('E', 0.4) })
            .collect();
        TrackFigure::fitting("1abc_A", sequence, truth, predicted, 720.0)
    }

    #[test]
    fn the_track_wraps_to_the_width_and_marks_every_residue() {
        let figure = figure();
        assert_eq!(figure.per_line, 70, "720 px of 9 px cells, minus the names");
        let (width, height) = figure.size();
        assert!(width <= 720.0, "{width}");
        let svg = track_svg(&figure);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        // 130 residues on 2 lines: three letters and one bar per residue.
        assert_eq!(svg.matches("font-family=\"monospace\"").count(), 3 * 130);
        assert_eq!(svg.matches("<rect x=").count(), 130);
        assert!(
            svg.contains(">71</text>"),
            "the second line starts at residue 71"
        );
        // Correct predictions get green bars, wrong ones red, the unscored residue grey.
        assert_eq!(svg.matches("fill=\"#9e9e9e\"").count(), 1);
        assert!(
            height > 2.0 * BLOCK_ROWS * figure.font_size,
            "two blocks tall: {height}"
        );
        // A confident letter is opaque-ish, an unsure one faded.
        assert!(svg.contains("fill-opacity=\"0.85\"") && svg.contains("fill-opacity=\"0.55\""));
    }

    #[test]
    fn the_track_rasterises_to_png() {
        let png = super::super::svg_to_png(&track_svg(&figure()), 96.0).expect("PNG");
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn each_legend_letter_has_the_colour_its_class_is_drawn_in() {
        let sequence: Vec<char> = "MKVLAAGIVESTAC".chars().collect();
        let classes: Vec<char> = "HGIEBTSCHGIEBT".chars().collect();
        let truth = classes.iter().map(|&c| Some(c)).collect();
        let predicted = classes.iter().map(|&c| (c, 1.0)).collect();
        let svg = track_svg(&TrackFigure::fitting(
            "x", sequence, truth, predicted, 720.0,
        ));
        let legend = &svg[svg.find(r#"<g class="legend">"#).expect("legend")..];
        let fill_before = |text: &str, end: usize| {
            let tag = &text[text[..end].rfind("<text").expect("tag")..end];
            let at = tag.find("fill=\"").expect("fill") + 6;
            tag[at..at + tag[at..].find('"').expect("quote")].to_owned()
        };
        for (class, _) in SS8_LEGEND {
            let letter = format!(">{class}</text>");
            let in_legend = fill_before(legend, legend.find(&letter).expect("in the legend"));
            // Every drawn letter of the class (truth and prediction rows) has that fill.
            let body = &svg[..svg.find(r#"<g class="legend">"#).expect("legend")];
            let drawn: Vec<String> = body
                .match_indices(&letter)
                .map(|(at, _)| fill_before(body, at))
                .filter(|fill| fill != "#222")
                .collect();
            assert!(!drawn.is_empty(), "{class} drawn");
            assert!(
                drawn.iter().all(|fill| *fill == in_legend),
                "{class}: {drawn:?} vs {in_legend}"
            );
            assert_eq!(in_legend, ss8_colour(class));
        }
    }
}
