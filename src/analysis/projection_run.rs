//! Points for a map: one per protein (mean over residues) or one per residue, and which
//! proteins a map takes ([`super::map_study`] reads them from a feature store).

use ndarray::Array2;

use crate::rng::SplitMix64;

/// What one point stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PointLevel {
    /// One point per protein: the mean representation over its residues.
    Protein,
    /// One point per residue.
    Residue,
}

/// Feature rows and what each row is.
#[derive(Debug, Clone)]
pub struct MapPoints {
    /// Representations, `[points, embed_dim]`.
    pub features: Array2<f32>,
    /// Index of each point's protein in the input records.
    pub protein: Vec<usize>,
    /// 0-based residue position of each point (residue level only).
    pub position: Option<Vec<usize>>,
}

/// The residue at 0-based `position` of `sequence` (`X` past its end).
pub fn residue_at(sequence: &str, position: usize) -> char {
    sequence
        .as_bytes()
        .get(position)
        .map_or('X', |&b| b as char)
}

/// The records a map takes (ascending): at protein level all, or a seeded random `max_points`
/// of them; at residue level whole proteins in a seeded random order until they hold
/// `max_points` residues (the map then cuts the last one short).
pub fn choose_records(
    lengths: &[usize],
    level: PointLevel,
    max_points: usize,
    seed: u64,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    match level {
        PointLevel::Protein => {
            if lengths.len() > max_points {
                SplitMix64::new(seed).shuffle(&mut order);
                order.truncate(max_points);
            }
        }
        PointLevel::Residue => {
            SplitMix64::new(seed).shuffle(&mut order);
            let mut total = 0;
            order.retain(|&i| {
                let keep = total < max_points;
                total += lengths[i];
                keep
            });
        }
    }
    order.sort_unstable();
    order
}
