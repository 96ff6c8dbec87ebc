//! Writing a figure to disk as SVG or PNG (chosen DPI), rendered from the same SVG document:
//! PNG is the SVG rasterised by resvg with the workbench's bundled font, never a screen grab.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use resvg::usvg;

use super::atomic::{ExportError, write_atomic};

/// File format of a figure, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureFormat {
    /// Scalable vector graphics (`.svg`).
    Svg,
    /// Portable network graphics (`.png`), rasterised at a chosen DPI.
    Png,
}

impl FigureFormat {
    /// The format of `path` by extension, or an error naming the path.
    pub fn from_path(path: &Path) -> Result<Self, ExportError> {
        match super::atomic::lowercase_extension(path).as_deref() {
            Some("svg") => Ok(Self::Svg),
            Some("png") => Ok(Self::Png),
            _ => Err(ExportError::Format {
                path: path.to_owned(),
                reason: "figures are written as .svg or .png".into(),
            }),
        }
    }
}

/// Fonts for rasterising: the bundled Ubuntu font (egui's) as every generic family, so figures
/// look the same on every machine.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(epaint_default_fonts::UBUNTU_LIGHT.to_vec());
            db.load_font_data(epaint_default_fonts::HACK_REGULAR.to_vec());
            let family = |db: &usvg::fontdb::Database, mono: bool| {
                db.faces()
                    .find(|f| f.monospaced == mono)
                    .and_then(|f| f.families.first())
                    .map(|(name, _)| name.clone())
            };
            if let Some(sans) = family(&db, false) {
                db.set_sans_serif_family(sans.clone());
                db.set_serif_family(sans);
            }
            if let Some(mono) = family(&db, true) {
                db.set_monospace_family(mono);
            }
            Arc::new(db)
        })
        .clone()
}

/// Rasterises an SVG document at `dpi` dots per inch (SVG pixels are 1/96 inch) into PNG bytes.
pub fn svg_to_png(svg: &str, dpi: f64) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("invalid SVG: {e}"))?;
    let dpi = super::checked_dpi("PNG resolution (DPI)", dpi).map_err(|e| e.to_string())?;
    let scale = (dpi / 96.0) as f32;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| format!("cannot allocate a {w} x {h} image"))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("cannot encode PNG: {e}"))
}

/// Encodes opaque pixels (`width * height` of them, row by row from the top) as PNG bytes.
pub fn rgb_to_png(
    width: u32,
    height: u32,
    pixels: impl IntoIterator<Item = [u8; 3]>,
) -> Result<Vec<u8>, String> {
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width.max(1), height.max(1))
        .ok_or_else(|| format!("cannot allocate a {width} x {height} image"))?;
    for (pixel, [r, g, b]) in pixmap.pixels_mut().iter_mut().zip(pixels) {
        *pixel = resvg::tiny_skia::PremultipliedColorU8::from_rgba(r, g, b, 255)
            .unwrap_or(resvg::tiny_skia::PremultipliedColorU8::TRANSPARENT);
    }
    pixmap
        .encode_png()
        .map_err(|e| format!("cannot encode PNG: {e}"))
}

/// Writes `svg` to `path` atomically, as SVG or as PNG at `dpi` by the path's extension; an
/// existing file is kept unless `overwrite`.
pub fn write_figure(path: &Path, svg: &str, dpi: f64, overwrite: bool) -> Result<(), ExportError> {
    let format = FigureFormat::from_path(path)?;
    if path.exists() && !overwrite {
        return Err(ExportError::Format {
            path: path.to_owned(),
            reason: "exists; not overwriting".into(),
        });
    }
    let bytes = match format {
        FigureFormat::Svg => svg.as_bytes().to_vec(),
        FigureFormat::Png => svg_to_png(svg, dpi).map_err(|reason| ExportError::Format {
            path: path.to_owned(),
            reason,
        })?,
    };
    write_atomic(path, |w| {
        use std::io::Write as _;
        w.write_all(&bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_rendered_at_the_chosen_dpi_with_text() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="48" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/><text x="4" y="30" font-size="20">Q8</text></svg>"#;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("fig.png");
        write_figure(&path, svg, 300.0, false).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        let image = resvg::tiny_skia::Pixmap::decode_png(&bytes).expect("a PNG");
        // 1 x 0.5 inch at 300 DPI.
        assert_eq!((image.width(), image.height()), (300, 150));
        let dark = image.pixels().iter().filter(|p| p.red() < 128).count();
        assert!(
            dark > 100,
            "the text was drawn with the bundled font ({dark} dark pixels)"
        );
        let err = write_figure(&path, svg, 300.0, false).expect_err("exists");
        assert!(err.to_string().contains("not overwriting"));
        let err = write_figure(&dir.path().join("fig.jpg"), svg, 96.0, true).expect_err("format");
        assert!(err.to_string().contains(".svg or .png") && err.to_string().contains("fig.jpg"));
        let svg_path = dir.path().join("fig.svg");
        write_figure(&svg_path, svg, 96.0, false).expect("svg");
        assert_eq!(std::fs::read_to_string(&svg_path).expect("read"), svg);
    }
}
