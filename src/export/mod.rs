//! Writing and reading result files: NPY arrays, CSV/Parquet tables and SVG figures, always atomically
//! (a `.partial` file renamed into place). No GUI imports.

mod atomic;
mod npy;
mod scatter_svg;
mod table;

pub use atomic::{ExportError, write_atomic};
pub use npy::{NpyArray, read_npy, read_npy_matrix, write_npy_f32};
pub use scatter_svg::{
    CATEGORY_PALETTE, OTHER_COLOUR, ScatterFigure, ScatterSeries, categorise, scatter_svg,
    write_scatter_svg,
};
pub use table::{TableFormat, write_table};
