//! What a map's points are, as text: the colour-by choices, each point's label, the category
//! colours and the point table. The GUI's map view and `esm-workbench project` both use these,
//! so a map exported from either has the same columns, categories and colours.

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::map_study::Projected;
use super::projection_run::{MapPoints, residue_at};
use crate::data::frame::string_rows;
use crate::export::{Palette, PointCategory, categorise_in_order, frequency_order, numeric_bins};
use crate::probes::{AMINO_ACID_GROUPS, amino_acid_group, grouped_amino_acids};

/// Colour-by choice of residue points: the residue's one-letter code.
pub const AMINO_ACID: &str = "amino_acid";
/// Colour-by choice of residue points: the residue's biochemical group.
pub const GROUP: &str = "group";

/// Categories coloured individually; the rest are grey "other".
pub const MAX_CATEGORIES: usize = 20;

/// Data-set columns listed first when present (the sequence itself is never a column here).
const PREFERRED: [&str; 6] = ["id", "gene", "species", "length", "reviewed", "description"];

/// Columns that identify or describe a protein rather than group it: never the default
/// colouring.
const NOT_GROUPINGS: [&str; 4] = ["id", "description", "sequence", "source"];

/// A data set's per-protein columns as text: `id, gene, species, length, reviewed,
/// description` where present, then the others in table order, without the sequence and the
/// metadata join's `*_meta` duplicates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProteinColumns {
    /// Column names.
    pub names: Vec<String>,
    /// One row of `names.len()` values per protein, in data-set order.
    pub rows: Vec<Vec<String>>,
}

impl ProteinColumns {
    /// The columns of a data set's table (one row per protein).
    pub fn from_frame(frame: &DataFrame) -> PolarsResult<Self> {
        let all: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut names: Vec<&str> = PREFERRED
            .iter()
            .copied()
            .filter(|c| all.iter().any(|n| n == c))
            .collect();
        names.extend(
            all.iter()
                .map(String::as_str)
                .filter(|n| !PREFERRED.contains(n) && *n != "sequence" && !n.ends_with("_meta")),
        );
        Ok(Self {
            rows: string_rows(frame, &names)?,
            names: names.into_iter().map(str::to_owned).collect(),
        })
    }

    /// The value of column `name` for protein `protein` ("" when either is missing).
    fn value(&self, protein: usize, name: &str) -> &str {
        self.names
            .iter()
            .position(|c| c == name)
            .and_then(|c| self.rows.get(protein).and_then(|row| row.get(c)))
            .map_or("", String::as_str)
    }
}

/// A map's points with the data they came from.
#[derive(Debug, Clone, Copy)]
pub struct MapData<'a> {
    /// The points (which protein, which residue).
    pub points: &'a MapPoints,
    /// Each protein's sequence, in data-set order.
    pub sequences: &'a [&'a str],
    /// Each protein's columns, in data-set order.
    pub columns: &'a ProteinColumns,
}

impl MapData<'_> {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.protein.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.points.protein.is_empty()
    }

    /// What the points can be coloured by: for residues the group and the amino acid first,
    /// then every data-set column.
    pub fn colour_options(&self) -> Vec<String> {
        let mut options = Vec::new();
        if self.points.position.is_some() {
            options.extend([GROUP.to_owned(), AMINO_ACID.to_owned()]);
        }
        options.extend(self.columns.names.iter().cloned());
        options
    }

    /// The residue of point `k` (`X` for protein points).
    fn residue(&self, k: usize) -> char {
        let protein = self.points.protein[k];
        let position = self.points.position.as_ref().map_or(0, |p| p[k]);
        residue_at(self.sequences.get(protein).copied().unwrap_or(""), position)
    }

    /// Label of point `k` under `colour_by`.
    pub fn label(&self, colour_by: &str, k: usize) -> String {
        match colour_by {
            AMINO_ACID => self.residue(k).to_string(),
            GROUP => amino_acid_group(self.residue(k))
                .unwrap_or("other")
                .to_owned(),
            column => self
                .columns
                .value(self.points.protein[k], column)
                .to_owned(),
        }
    }

    /// Every point's label under `colour_by`.
    pub fn labels(&self, colour_by: &str) -> Vec<String> {
        (0..self.len()).map(|k| self.label(colour_by, k)).collect()
    }

    /// The colouring a new map starts with: the biochemical group for residues; for proteins
    /// the first column with 2 to [`MAX_CATEGORIES`] distinct values among the points (gene,
    /// species, fold), not the id (one colour per protein); the first column otherwise.
    pub fn default_colour_by(&self) -> String {
        let options = self.colour_options();
        if self.points.position.is_some() {
            return GROUP.to_owned();
        }
        options
            .iter()
            .filter(|column| !NOT_GROUPINGS.contains(&column.as_str()))
            .find(|column| {
                let distinct: std::collections::HashSet<String> =
                    self.labels(column).into_iter().collect();
                (2..=MAX_CATEGORIES).contains(&distinct.len())
            })
            .or(options.first())
            .cloned()
            .unwrap_or_default()
    }

    /// The fixed order (and so the colours) of `colour_by`'s categories: the 20 amino acids
    /// and the biochemical groups in the order of `AMINO_ACID_GROUPS`; a column's values over
    /// the whole data set, the most frequent first. Every map of the same data colours a
    /// category alike.
    pub fn category_order(&self, colour_by: &str) -> Vec<String> {
        match colour_by {
            AMINO_ACID => grouped_amino_acids().map(String::from).collect(),
            GROUP => AMINO_ACID_GROUPS
                .iter()
                .map(|(name, _)| (*name).to_owned())
                .collect(),
            column => match self.columns.names.iter().position(|n| n == column) {
                Some(c) => frequency_order(
                    self.columns
                        .rows
                        .iter()
                        .map(|row| row.get(c).map_or("", String::as_str)),
                ),
                None => Vec::new(),
            },
        }
    }

    /// The points grouped by their label under `colour_by`: `(label, colour, point indices)`
    /// per category; numeric columns in viridis bins, others in `palette`.
    pub fn categories(&self, colour_by: &str, palette: Palette) -> Vec<PointCategory> {
        let labels = self.labels(colour_by);
        numeric_bins(&labels, MAX_CATEGORIES, 10).unwrap_or_else(|| {
            categorise_in_order(
                &labels,
                &self.category_order(colour_by),
                MAX_CATEGORIES,
                palette,
            )
        })
    }

    /// One row per point: protein points have every data-set column; residue points have
    /// `id, position (1-based), amino_acid, group` and the other columns of their protein.
    /// The coordinates come last, named by the projection (`tsne_1`, `PC1`, ...).
    pub fn point_table(&self, projected: &Projected) -> PolarsResult<DataFrame> {
        let n = self.len();
        let mut columns = Vec::new();
        let mut text_column = |name: &str, values: Vec<String>| {
            columns.push(Column::new(name.into(), values));
        };
        let mut names: Vec<&str> = self.columns.names.iter().map(String::as_str).collect();
        if let Some(positions) = &self.points.position {
            text_column("id", self.labels("id"));
            names.retain(|name| *name != "id");
            let position: Vec<u32> = positions.iter().map(|&p| p as u32 + 1).collect();
            columns.push(Column::new("position".into(), position));
            columns.push(Column::new(AMINO_ACID.into(), self.labels(AMINO_ACID)));
            columns.push(Column::new(GROUP.into(), self.labels(GROUP)));
        }
        for name in names {
            columns.push(Column::new(name.into(), self.labels(name)));
        }
        for (c, name) in projected.columns.iter().enumerate() {
            let values: Vec<f32> = projected.coordinates.column(c).to_vec();
            columns.push(Column::new(name.as_str().into(), values));
        }
        DataFrame::new(n, columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn columns() -> ProteinColumns {
        let frame = polars::df!(
            "id" => ["a", "b", "c"],
            "description" => ["x", "y", "z"],
            "sequence" => ["MKV", "LLA", "W"],
            "species" => ["human", "yeast", "human"],
            "species_meta" => ["h", "y", "h"],
        )
        .unwrap();
        ProteinColumns::from_frame(&frame).unwrap()
    }

    fn column_names(table: &DataFrame) -> Vec<String> {
        table
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn projected(n: usize) -> Projected {
        Projected {
            coordinates: Array2::from_shape_fn((n, 2), |(i, j)| (i * 10 + j) as f32),
            columns: vec!["PC1".into(), "PC2".into()],
            axes: None,
            method: "PCA",
            summary: String::new(),
        }
    }

    #[test]
    fn protein_columns_put_the_known_ones_first_and_drop_the_sequence_and_join_copies() {
        let columns = columns();
        assert_eq!(columns.names, ["id", "species", "description"]);
        assert_eq!(columns.rows[1], ["b", "yeast", "y"]);
    }

    #[test]
    fn protein_points_default_to_the_first_grouping_column_and_keep_every_column() {
        let columns = columns();
        let points = MapPoints {
            features: Array2::zeros((3, 1)),
            protein: vec![0, 1, 2],
            position: None,
        };
        let sequences = ["MKV", "LLA", "W"];
        let data = MapData {
            points: &points,
            sequences: &sequences,
            columns: &columns,
        };
        assert_eq!(data.default_colour_by(), "species");
        let categories = data.categories("species", Palette::Tableau20);
        assert_eq!(categories[0].0, "human");
        assert_eq!(categories[0].2, [0, 2]);
        let table = data.point_table(&projected(3)).unwrap();
        let names = column_names(&table);
        assert_eq!(names, ["id", "species", "description", "PC1", "PC2"]);
    }

    #[test]
    fn residue_points_are_labelled_by_residue_and_group_and_carry_their_protein() {
        let columns = columns();
        let points = MapPoints {
            features: Array2::zeros((3, 1)),
            protein: vec![0, 0, 2],
            position: Some(vec![0, 2, 0]),
        };
        let sequences = ["MKV", "LLA", "W"];
        let data = MapData {
            points: &points,
            sequences: &sequences,
            columns: &columns,
        };
        assert_eq!(data.colour_options()[..2], [GROUP, AMINO_ACID]);
        assert_eq!(data.default_colour_by(), GROUP);
        assert_eq!(data.labels(AMINO_ACID), ["M", "V", "W"]);
        let table = data.point_table(&projected(3)).unwrap();
        let names = column_names(&table);
        assert_eq!(
            names,
            [
                "id",
                "position",
                "amino_acid",
                "group",
                "species",
                "description",
                "PC1",
                "PC2"
            ]
        );
        let rows = string_rows(&table, &["id", "position", "species"]).unwrap();
        assert_eq!(rows[1], ["a", "3", "human"]);
    }
}
