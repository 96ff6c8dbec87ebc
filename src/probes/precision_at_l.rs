//! What a contact ranking scores: precision of its top `L`, `L/2` and `L/5` pairs per
//! separation range (the numbers fair-esm's contact notebook reports).

/// Precision at `L`, `L/2`, `L/5` for one range.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RangePrecision {
    /// Precision of the top `L` pairs.
    pub at_l: f64,
    /// Precision of the top `L/2` pairs.
    pub at_l2: f64,
    /// Precision of the top `L/5` pairs.
    pub at_l5: f64,
}

/// Precisions for the three ranges.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContactPrecision {
    /// 6 ≤ |i − j| ≤ 11.
    pub short: RangePrecision,
    /// 12 ≤ |i − j| ≤ 23.
    pub medium: RangePrecision,
    /// |i − j| ≥ 24.
    pub long: RangePrecision,
}
