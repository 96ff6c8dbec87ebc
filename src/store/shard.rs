//! `--shard i/n`: which share of a store's batches one process fills.

use std::fmt;
use std::str::FromStr;

/// Share `index` of `count` (batches `k` with `k % count == index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based share.
    pub index: usize,
    /// Number of shares.
    pub count: usize,
}

impl Shard {
    /// One process does everything.
    pub const WHOLE: Self = Self { index: 0, count: 1 };

    /// Whether batch `batch` is this shard's.
    pub fn owns(self, batch: usize) -> bool {
        batch % self.count == self.index
    }
}

impl Default for Shard {
    fn default() -> Self {
        Self::WHOLE
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `i/n` with `0 <= i < n` (as Slurm's `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("'{text}' is not a shard: use i/n with 0 <= i < n, e.g. 0/3");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = index.trim().parse().map_err(|_| bad())?;
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_splits_batches() {
        let shard: Shard = "1/3".parse().expect("parses");
        assert_eq!(shard, Shard { index: 1, count: 3 });
        assert_eq!(
            (0..7).filter(|&k| shard.owns(k)).collect::<Vec<_>>(),
            [1, 4]
        );
        for bad in ["3/3", "1", "a/2", "0/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(shard.to_string(), "1/3");
    }
}
