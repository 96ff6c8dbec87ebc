//! Writing and reading result files: NPY arrays, CSV/Parquet tables and figures (SVG, or PNG at a chosen DPI), always atomically
//! (a `.partial` file renamed into place). No GUI imports.

mod atomic;
mod figure_file;
mod figure_size;
mod file_name;
mod heatmap_svg;
mod line_svg;
mod npy;
mod palette;
mod scatter_svg;
mod svg;
mod table;
mod track_svg;
mod with_provenance;

pub use atomic::{ExportError, write_atomic};
pub use figure_file::{FigureFormat, rgb_to_png, svg_to_png, write_figure};
pub use figure_size::{FIGURE_DPIS, FIGURE_HEIGHTS, FIGURE_WIDTHS, FigureSize, checked_dpi};
pub use file_name::{file_stem_part, follow_name, renamed, result_stem};
pub use heatmap_svg::{HeatmapFigure, HeatmapMarker, heatmap_svg};
pub use line_svg::{
    BASELINE_COLOUR, Baseline, LineFigure, LineSeries, SERIES_COLOURS, distinct_series_colours,
    line_svg, series_key, single_layer,
};
pub use npy::{NpyArray, npy_header, read_npy, read_npy_matrix, write_npy_f32};
pub use palette::{OTHER_COLOUR, Palette};
pub use scatter_svg::{
    PointCategory, ScatterFigure, ScatterSeries, categorise_in_order, frequency_order,
    numeric_bins, scatter_svg, viridis, write_scatter_figure,
};
pub use svg::nice_ticks_at_least;
pub use table::{TableFormat, write_table};
pub use track_svg::{SS8_LEGEND, TrackFigure, ss8_colour, track_svg};
pub use with_provenance::{write_figure_with_provenance, write_table_with_provenance};
