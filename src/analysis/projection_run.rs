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

/// At residue level a map embeds at most this many times `max_points` residues: every protein
/// when the set is that small, else a seeded sample of proteins holding that many.
pub const RESIDUE_POOL_FACTOR: usize = 20;

/// The records a map takes (ascending): at protein level all, or a seeded random `max_points`
/// of them; at residue level the pool the residues are sampled from (see
/// [`RESIDUE_POOL_FACTOR`] and [`stratified_residues`]): every protein, or proteins in a seeded
/// random order until they hold `RESIDUE_POOL_FACTOR * max_points` residues.
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
            let pool = max_points.saturating_mul(RESIDUE_POOL_FACTOR);
            if lengths.iter().sum::<usize>() > pool {
                SplitMix64::new(seed).shuffle(&mut order);
                let mut total = 0;
                order.retain(|&i| {
                    let keep = total < pool;
                    total += lengths[i];
                    keep
                });
            }
        }
    }
    order.sort_unstable();
    order
}

/// `count` residues drawn from proteins of `lengths` residues, stratified by protein: each
/// protein gives its share in proportion to its length (largest remainders round the shares to
/// `count`), its positions drawn by a seeded shuffle. Returns `(protein, position)` pairs in
/// protein then position order; all residues when there are no more than `count`.
pub fn stratified_residues(lengths: &[usize], count: usize, seed: u64) -> Vec<(usize, usize)> {
    let total: usize = lengths.iter().sum();
    let count = count.min(total);
    let exact: Vec<f64> = lengths
        .iter()
        .map(|&l| count as f64 * l as f64 / total.max(1) as f64)
        .collect();
    let mut quota: Vec<usize> = exact.iter().map(|q| q.floor() as usize).collect();
    let mut by_remainder: Vec<usize> = (0..lengths.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let short = count - quota.iter().sum::<usize>();
    for &i in by_remainder.iter().take(short) {
        quota[i] += 1;
    }
    let mut picked = Vec::with_capacity(count);
    for (protein, (&length, &take)) in lengths.iter().zip(&quota).enumerate() {
        let mut positions: Vec<usize> = (0..length).collect();
        if take < length {
            SplitMix64::stream(seed, protein as u64).shuffle(&mut positions);
            positions.truncate(take);
            positions.sort_unstable();
        }
        picked.extend(positions.into_iter().map(|p| (protein, p)));
    }
    picked
}

#[cfg(test)]
mod sampling_tests {
    use super::*;

    #[test]
    fn residues_are_drawn_from_every_protein_in_proportion_to_its_length() {
        let lengths = [100, 300, 50, 550];
        let picked = stratified_residues(&lengths, 100, 7);
        assert_eq!(picked.len(), 100);
        let per_protein: Vec<usize> = (0..4)
            .map(|p| picked.iter().filter(|(q, _)| *q == p).count())
            .collect();
        assert_eq!(per_protein, vec![10, 30, 5, 55]);
        assert!(picked.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert!(picked.iter().all(|&(p, pos)| pos < lengths[p]));
        assert_eq!(picked, stratified_residues(&lengths, 100, 7), "seeded");
        assert_ne!(picked, stratified_residues(&lengths, 100, 8));
        assert_eq!(
            stratified_residues(&[3, 2], 10, 0).len(),
            5,
            "all when fewer"
        );
    }

    #[test]
    fn a_small_set_is_sampled_from_all_its_proteins_a_large_one_from_a_pool() {
        let small = vec![100; 50];
        assert_eq!(
            choose_records(&small, PointLevel::Residue, 1000, 1).len(),
            50
        );
        let large = vec![100; 500];
        let pool = choose_records(&large, PointLevel::Residue, 100, 1);
        assert_eq!(pool.len(), 20, "20 x 100 residues");
    }
}
