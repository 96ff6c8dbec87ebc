//! Result files with their provenance: a table or a figure written with
//! `NAME.provenance.json` beside it (the model, its fingerprint and the data sets), the one
//! writer both shells use for study results.

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

use super::atomic::ExportError;
use crate::provenance::Provenance;

/// Writes `frame` to `path` (see [`super::write_table`]) and its provenance beside it; returns
/// the sidecar's path.
pub fn write_table_with_provenance(
    path: &Path,
    frame: &mut DataFrame,
    provenance: &Provenance,
) -> Result<PathBuf, ExportError> {
    super::write_table(path, frame)?;
    Ok(provenance.write_sidecar(path)?)
}

/// Writes the figure `svg` to `path` (see [`super::write_figure`]) and its provenance beside it.
pub fn write_figure_with_provenance(
    path: &Path,
    svg: &str,
    dpi: f64,
    overwrite: bool,
    provenance: &Provenance,
) -> Result<PathBuf, ExportError> {
    super::write_figure(path, svg, dpi, overwrite)?;
    Ok(provenance.write_sidecar(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn a_table_and_a_figure_get_their_provenance_beside_them()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let provenance = Provenance {
            model: crate::provenance::ModelRef {
                name: "m".into(),
                fingerprint: "abc".into(),
                shown_with: None,
            },
            data: Vec::new(),
        };
        let mut frame = df!("layer" => [0u32, 1])?;
        let table = dir.path().join("t.csv");
        let sidecar = write_table_with_provenance(&table, &mut frame, &provenance)?;
        assert!(table.exists() && sidecar.ends_with("t.csv.provenance.json"));
        let figure = dir.path().join("f.svg");
        let svg = "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>";
        let sidecar = write_figure_with_provenance(&figure, svg, 96.0, false, &provenance)?;
        assert!(std::fs::read_to_string(sidecar)?.contains("\"fingerprint\": \"abc\""));
        Ok(())
    }
}
