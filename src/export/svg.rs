//! Small SVG building blocks shared by the figure writers: text escaping, axis ticks and the
//! document frame. Sizes are CSS pixels (1/96 inch).

use std::fmt::Write as _;

/// Escapes text for SVG element content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// About `target` round tick values (steps of 1, 2 or 5 times a power of ten) covering
/// `[min, max]`; for an empty or degenerate range, the single value.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    nice_ticks_at_least(min, max, target, 0.0)
}

/// [`nice_ticks`] with steps of at least `min_step` (1 for integer axes such as layers).
pub fn nice_ticks_at_least(min: f64, max: f64, target: usize, min_step: f64) -> Vec<f64> {
    if !(min.is_finite() && max.is_finite()) || max <= min {
        return vec![if min.is_finite() { min } else { 0.0 }];
    }
    let raw = ((max - min) / target.max(1) as f64).max(min_step);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (min / step).ceil() as i64;
    let last = (max / step).floor() as i64;
    // Rounded to the step's decimals so 7 x 0.05 reads 0.35, not 0.35000000000000003.
    let decimals = (-step.log10().floor()).max(0.0) as usize + 1;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            format!("{v:.decimals$}").parse().unwrap_or(v)
        })
        .collect()
}

/// A tick label without trailing zeros: `0.25`, `3`, `1e-05`.
pub fn tick_label(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if value.abs() >= 1e5 || value.abs() < 1e-3 {
        return format!("{value:e}");
    }
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Width of `text` at `font_size`, estimated (0.6 em a character) for layout.
pub fn text_width(text: &str, font_size: f64) -> f64 {
    text.chars().count() as f64 * 0.6 * font_size
}

/// Opens an SVG document of `width x height` pixels on a white background.
pub fn open_document(svg: &mut String, width: f64, height: f64) {
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT_FAMILY}">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
}

/// The font stack every figure asks for; PNG rendering maps it to the bundled font.
pub const FONT_FAMILY: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// A figure's title, centred on the whole `width` and set smaller (down to half of `font`) when
/// it would not fit in 95% of it, so a long title is never cut off at the edges.
pub fn figure_title(svg: &mut String, width: f64, font: f64, title: &str) {
    let fitting = 0.95 * width / text_width(title, 1.0).max(1.0);
    let size = font.min(fitting).max(0.5 * font);
    centred_text(svg, width / 2.0, 1.5 * font, size, title, false);
}

/// Centred text at (`x`, `y`) (baseline), optionally rotated by -90 degrees.
pub fn centred_text(svg: &mut String, x: f64, y: f64, size: f64, text: &str, vertical: bool) {
    let rotate = if vertical {
        format!(r#" transform="rotate(-90 {x:.1} {y:.1})""#)
    } else {
        String::new()
    };
    let _ = writeln!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="{size:.1}" text-anchor="middle"{rotate}>{}</text>"#,
        escape(text)
    );
}

/// A frame with ticks and tick labels on the left and bottom edges of the plot rectangle
/// (`left`, `top`, `width`, `height`); `x_ticks` / `y_ticks` are `(pixel, label)` pairs.
pub fn axes_frame(
    svg: &mut String,
    rect: [f64; 4],
    x_ticks: &[(f64, String)],
    y_ticks: &[(f64, String)],
    font_size: f64,
) {
    let [left, top, width, height] = rect;
    let bottom = top + height;
    let _ = writeln!(
        svg,
        r##"<rect x="{left:.1}" y="{top:.1}" width="{width:.1}" height="{height:.1}" fill="none" stroke="#444" stroke-width="1"/>"##
    );
    let _ = writeln!(svg, r##"<g stroke="#444" stroke-width="1">"##);
    for (x, _) in x_ticks {
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}"/>"#,
            bottom + 0.3 * font_size
        );
    }
    for (y, _) in y_ticks {
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{y:.1}" x2="{left:.1}" y2="{y:.1}"/>"#,
            left - 0.3 * font_size
        );
    }
    let _ = writeln!(svg, "</g>");
    for (x, label) in x_ticks {
        centred_text(svg, *x, bottom + 1.2 * font_size, font_size, label, false);
    }
    for (y, label) in y_ticks {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="{font_size:.1}" text-anchor="end">{}</text>"#,
            left - 0.5 * font_size,
            y + 0.35 * font_size,
            escape(label)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 4.0, 5), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(nice_ticks(0.31, 0.46, 4), vec![0.35, 0.4, 0.45]);
        assert_eq!(nice_ticks(0.0, 33.0, 6), vec![0.0, 10.0, 20.0, 30.0]);
        assert_eq!(nice_ticks(2.0, 2.0, 5), vec![2.0]);
        assert_eq!(
            nice_ticks_at_least(0.0, 4.0, 8, 1.0),
            vec![0.0, 1.0, 2.0, 3.0, 4.0],
            "layers tick at integers"
        );
        assert_eq!(
            nice_ticks_at_least(0.0, 33.0, 8, 1.0),
            vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
        );
        assert_eq!(tick_label(0.45000000000000007), "0.45");
        assert_eq!(tick_label(30.0), "30");
        let mut svg = String::new();
        figure_title(&mut svg, 400.0, 16.0, &"t-SNE of residues ".repeat(5));
        assert!(svg.contains(r#"x="200.0""#), "{svg}");
        assert!(
            svg.contains(r#"font-size="8.0""#),
            "shrunk to fit, not below half: {svg}"
        );
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
