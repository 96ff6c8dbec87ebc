//! Points for a map: one per protein (mean over residues) or one per residue, from one layer,
//! ready for [`crate::projection`]'s PCA and t-SNE.

use ndarray::Array2;

use super::embed_run::{EmbedError, EmbedRequest, embed_dataset};
use super::jobs::JobCtx;
use crate::data::embedding_cache::EmbeddingCache;
use crate::model::{LoadedModel, ModelError};
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

/// Which points to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapRequest {
    /// Representation layer (`0..=num_layers`).
    pub layer: usize,
    /// Protein or residue points.
    pub level: PointLevel,
    /// At most this many points.
    pub max_points: usize,
    /// Seed of the residue-level protein sample.
    pub seed: u64,
}

/// Embeds `records` and returns the points. At residue level, whole proteins are taken in a
/// seeded random order until `max_points` residues (the last one cut short); at protein
/// level, all proteins, or a seeded random `max_points` of them (kept in file order).
pub fn map_points(
    model: &LoadedModel,
    records: &[(String, String)],
    request: MapRequest,
    cache: Option<&EmbeddingCache>,
    ctx: &JobCtx,
) -> Result<MapPoints, EmbedError> {
    let MapRequest {
        layer,
        level,
        max_points,
        seed,
    } = request;
    let chosen: Vec<usize> = match level {
        PointLevel::Protein => {
            let mut order: Vec<usize> = (0..records.len()).collect();
            if records.len() > max_points {
                SplitMix64::new(seed).shuffle(&mut order);
                order.truncate(max_points);
                order.sort_unstable();
            }
            order
        }
        PointLevel::Residue => {
            let mut order: Vec<usize> = (0..records.len()).collect();
            SplitMix64::new(seed).shuffle(&mut order);
            let mut total = 0;
            let mut chosen = Vec::new();
            for i in order {
                if total >= max_points {
                    break;
                }
                total += records[i].1.len();
                chosen.push(i);
            }
            chosen.sort_unstable();
            chosen
        }
    };
    let subset: Vec<(String, String)> = chosen.iter().map(|&i| records[i].clone()).collect();
    let request = EmbedRequest::for_probes(model, &[layer], level == PointLevel::Residue);
    let result = embed_dataset(model, &subset, &request, cache, ctx)?;
    let missing = || ModelError::InvalidRequest(format!("layer {layer} was not embedded"));
    let mut rows: Vec<f32> = Vec::new();
    let mut protein = Vec::new();
    let mut positions = Vec::new();
    for (&record, embedding) in chosen.iter().zip(&result.embeddings) {
        match level {
            PointLevel::Protein => {
                let mean = embedding.mean.get(&layer).ok_or_else(missing)?;
                rows.extend(mean.to_vec1::<f32>()?);
                protein.push(record);
            }
            PointLevel::Residue => {
                let reps = embedding.per_residue.get(&layer).ok_or_else(missing)?;
                for (position, row) in reps.to_vec2::<f32>()?.into_iter().enumerate() {
                    if protein.len() >= max_points {
                        break;
                    }
                    rows.extend(row);
                    protein.push(record);
                    positions.push(position);
                }
            }
        }
    }
    let width = model.model.config().embed_dim;
    let features = Array2::from_shape_vec((protein.len(), width), rows)
        .map_err(|e| ModelError::InvalidRequest(format!("internal: representation shape: {e}")))?;
    Ok(MapPoints {
        features,
        protein,
        position: (level == PointLevel::Residue).then_some(positions),
    })
}
