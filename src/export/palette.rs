//! Category palettes of maps and their figures: Tableau 20 (the default: 20 categories, one
//! colour each) and Okabe & Ito's 7 colours (distinct under the common colour-vision
//! deficiencies, the layer sweeps' colours too). Categories beyond a palette are merged into a
//! grey "other".

/// Category colours: Tableau 20 (its greys replaced, as grey means "other"), the ten strong
/// colours first and their light partners after, so that 20 amino acids or 20 genes each get
/// their own colour; further categories are merged into a grey "other".
const TABLEAU_20: [[u8; 3]; 20] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [120, 94, 240],
    [188, 189, 34],
    [23, 190, 207],
    [174, 199, 232],
    [255, 187, 120],
    [152, 223, 138],
    [255, 152, 150],
    [197, 176, 213],
    [196, 156, 148],
    [247, 182, 210],
    [255, 221, 87],
    [219, 219, 141],
    [158, 218, 229],
];

/// Grey for "other".
pub const OTHER_COLOUR: [u8; 3] = [160, 160, 160];

/// A categorical palette for maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Palette {
    /// Tableau 20: a colour for each of up to 20 categories.
    #[default]
    Tableau20,
    /// Okabe & Ito: 7 colours distinct for colour-blind readers (black left out).
    OkabeIto,
}

impl Palette {
    /// Every palette, in the order offered.
    pub const ALL: [Palette; 2] = [Palette::Tableau20, Palette::OkabeIto];

    /// The colours, in the order categories take them.
    pub fn colours(self) -> &'static [[u8; 3]] {
        match self {
            Palette::Tableau20 => &TABLEAU_20,
            Palette::OkabeIto => &super::line_svg::SERIES_COLOURS,
        }
    }

    /// The name shown in the app.
    pub fn name(self) -> &'static str {
        match self {
            Palette::Tableau20 => "20 colours (Tableau 20)",
            Palette::OkabeIto => "colour-blind safe (Okabe–Ito, 7)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_palette_has_distinct_colours_none_of_them_the_other_grey() {
        for palette in Palette::ALL {
            let colours = palette.colours();
            let distinct: std::collections::HashSet<_> = colours.iter().collect();
            assert_eq!(distinct.len(), colours.len(), "{palette:?}");
            assert!(!colours.contains(&OTHER_COLOUR), "{palette:?}");
        }
        assert_eq!(Palette::OkabeIto.colours().len(), 7);
        assert_eq!(Palette::Tableau20.colours().len(), 20);
    }
}
