//! The size and resolution of an exported figure, and the one check of them that the GUI's
//! export row and the CLI's `--dpi` share (neither clamps: a value out of range is refused with
//! the allowed range).

use crate::params::{InvalidParam, real_in};

/// Widths a figure may have, CSS pixels (1/96 inch).
pub const FIGURE_WIDTHS: (f64, f64) = (200.0, 4000.0);
/// Heights a figure may have, CSS pixels.
pub const FIGURE_HEIGHTS: (f64, f64) = (150.0, 4000.0);
/// PNG resolutions, dots per inch (at 1200 DPI a 4000 px figure is 50,000 px wide).
pub const FIGURE_DPIS: (f64, f64) = (48.0, 1200.0);

/// Figure size and resolution chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FigureSize {
    /// Width in CSS pixels (1/96 inch).
    pub width: f64,
    /// Height in CSS pixels.
    pub height: f64,
    /// PNG resolution, dots per inch.
    pub dpi: f64,
}

impl Default for FigureSize {
    fn default() -> Self {
        Self {
            width: 720.0,
            height: 540.0,
            dpi: 300.0,
        }
    }
}

impl FigureSize {
    /// The size when width, height and DPI are in their ranges ([`FIGURE_WIDTHS`],
    /// [`FIGURE_HEIGHTS`], [`FIGURE_DPIS`]); the height is not checked when it follows the
    /// figure's content.
    pub fn checked(self, height_from_content: bool) -> Result<Self, InvalidParam> {
        real_in("figure width (px)", self.width, FIGURE_WIDTHS, false)?;
        if !height_from_content {
            real_in("figure height (px)", self.height, FIGURE_HEIGHTS, false)?;
        }
        checked_dpi("figure resolution (DPI)", self.dpi)?;
        Ok(self)
    }
}

/// `dpi` when it lies in [`FIGURE_DPIS`]; `field` names it (`--dpi`).
pub fn checked_dpi(field: &'static str, dpi: f64) -> Result<f64, InvalidParam> {
    real_in(field, dpi, FIGURE_DPIS, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_out_of_range_are_refused_with_the_range() {
        assert!(FigureSize::default().checked(false).is_ok());
        let narrow = FigureSize {
            width: 10.0,
            ..FigureSize::default()
        };
        assert_eq!(
            narrow.checked(false).unwrap_err().to_string(),
            "figure width (px) must be a number at least 200 and at most 4000, got 10"
        );
        let flat = FigureSize {
            height: 0.0,
            ..FigureSize::default()
        };
        assert!(flat.checked(false).is_err());
        assert!(flat.checked(true).is_ok(), "the height follows the content");
        let sharp = FigureSize {
            dpi: 5000.0,
            ..FigureSize::default()
        };
        assert!(
            sharp
                .checked(false)
                .unwrap_err()
                .to_string()
                .contains("DPI")
        );
        assert!(checked_dpi("--dpi", f64::NAN).is_err());
    }
}
