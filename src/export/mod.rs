//! Writing and reading result files: NPY arrays and CSV/Parquet tables, always atomically
//! (a `.partial` file renamed into place). No GUI imports.

mod atomic;
mod npy;
mod table;

pub use atomic::{ExportError, write_atomic};
pub use npy::{NpyArray, read_npy, write_npy_f32};
pub use table::{TableFormat, write_table};
