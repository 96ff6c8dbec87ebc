//! Do a model's amino-acid embeddings group by biochemistry? (Rives et al. 2021, Fig. 2: the
//! learned vectors of the 20 amino acids cluster into hydrophobic, aromatic, polar, charged
//! groups; untrained vectors do not.)
//!
//! Scored on the token embedding table (tied to the LM output layer in ESM-1b): for each amino
//! acid, whether its nearest other amino acid by cosine similarity is in the same group, and the
//! mean within-group minus between-group cosine similarity.

use crate::model::Alphabet;

/// Biochemical groups used for colouring and scoring.
pub const AMINO_ACID_GROUPS: [(&str, &str); 6] = [
    ("hydrophobic", "AVLIM"),
    ("aromatic", "FWY"),
    ("polar", "STNQ"),
    ("positive", "KRH"),
    ("negative", "DE"),
    ("special", "CGP"),
];

/// The 20 standard amino acids, group by group in the order of [`AMINO_ACID_GROUPS`].
pub fn grouped_amino_acids() -> impl Iterator<Item = char> {
    AMINO_ACID_GROUPS
        .iter()
        .flat_map(|(_, members)| members.chars())
}

/// The group name of a one-letter amino acid.
pub fn amino_acid_group(residue: char) -> Option<&'static str> {
    AMINO_ACID_GROUPS
        .iter()
        .find(|(_, members)| members.contains(residue))
        .map(|(name, _)| *name)
}

/// How well the 20 amino-acid vectors group.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupingScore {
    /// Fraction of amino acids whose nearest neighbour (cosine) is in their group.
    pub nearest_neighbour_agreement: f64,
    /// Mean cosine similarity within groups minus between groups.
    pub within_minus_between_cosine: f64,
    /// Agreement expected by chance: the mean over residues of (group size - 1) / 19.
    pub chance_agreement: f64,
}

/// Scores `vectors(residue)`, a function giving each standard amino acid's vector.
pub fn grouping_score(vector: impl Fn(char) -> Option<Vec<f32>>) -> Option<GroupingScore> {
    let residues: Vec<char> = grouped_amino_acids().collect();
    let vectors: Vec<Vec<f32>> = residues.iter().map(|&r| vector(r)).collect::<Option<_>>()?;
    let cosine = |a: &[f32], b: &[f32]| {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        f64::from(dot / (norm(a) * norm(b)))
    };
    let n = residues.len();
    let (mut agree, mut within, mut between, mut n_within, mut n_between) =
        (0usize, 0f64, 0f64, 0usize, 0usize);
    let mut chance = 0f64;
    for i in 0..n {
        let group = amino_acid_group(residues[i]);
        let mut best = (usize::MAX, f64::NEG_INFINITY);
        for j in (0..n).filter(|&j| j != i) {
            let c = cosine(&vectors[i], &vectors[j]);
            if c > best.1 {
                best = (j, c);
            }
            if amino_acid_group(residues[j]) == group {
                within += c;
                n_within += 1;
            } else {
                between += c;
                n_between += 1;
            }
        }
        agree += usize::from(amino_acid_group(residues[best.0]) == group);
        let size = AMINO_ACID_GROUPS
            .iter()
            .find(|(name, _)| Some(*name) == group)
            .map_or(1, |(_, m)| m.len());
        chance += (size - 1) as f64 / (n - 1) as f64;
    }
    Some(GroupingScore {
        nearest_neighbour_agreement: agree as f64 / n as f64,
        within_minus_between_cosine: within / n_within.max(1) as f64
            - between / n_between.max(1) as f64,
        chance_agreement: chance / n as f64,
    })
}

/// [`grouping_score`] on the rows of a `(vocab, dim)` token embedding table.
pub fn embedding_table_grouping(
    table: &candle_core::Tensor,
) -> candle_core::Result<Option<GroupingScore>> {
    let rows = table.to_dtype(candle_core::DType::F32)?.to_vec2::<f32>()?;
    Ok(grouping_score(|r| {
        Alphabet::residue_index(r).and_then(|i| rows.get(i as usize).cloned())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_groups_score_one_and_the_groups_cover_20_residues() {
        let count: usize = AMINO_ACID_GROUPS.iter().map(|(_, m)| m.len()).sum();
        assert_eq!(count, 20);
        // One axis per group: members share a direction.
        let score = grouping_score(|r| {
            let g = AMINO_ACID_GROUPS.iter().position(|(_, m)| m.contains(r))?;
            let mut v = vec![0.0; 6];
            v[g] = 1.0;
            v[(g + 1) % 6] = 0.01 * (r as u32 % 7) as f32;
            Some(v)
        });
        let score = score.unwrap_or(GroupingScore {
            nearest_neighbour_agreement: 0.0,
            within_minus_between_cosine: 0.0,
            chance_agreement: 0.0,
        });
        assert!((score.nearest_neighbour_agreement - 1.0).abs() < 1e-12);
        assert!(score.within_minus_between_cosine > 0.9);
        assert!(score.chance_agreement > 0.1 && score.chance_agreement < 0.2);
        assert_eq!(amino_acid_group('W'), Some("aromatic"));
    }
}
