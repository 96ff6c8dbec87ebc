//! SCOPe / ASTRAL domain FASTA: `>d1dlwa_ a.1.1.1 (A:) description {species [TaxId: N]}`.
//!
//! The sccs `a.1.1.1` gives the hierarchy: class `a`, fold `a.1`, superfamily `a.1.1`,
//! family `a.1.1.1`.

use std::path::Path;

use super::error::DataError;
use super::fasta::{FastaReader, FastaRecord};

/// One domain's labels: `[class, fold, superfamily, family]` sccs prefixes.
pub type ScopLabels = [String; 4];

/// Labels of an sccs string such as `a.1.1.1`.
pub fn scop_labels(sccs: &str) -> ScopLabels {
    let parts: Vec<&str> = sccs.split('.').collect();
    std::array::from_fn(|depth| parts[..(depth + 1).min(parts.len())].join("."))
}

/// One ASTRAL domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopDomain {
    /// Domain id, e.g. `d1dlwa_`.
    pub id: String,
    /// SCOP concise classification string, e.g. `a.1.1.1`.
    pub sccs: String,
    /// PDB chain/region, e.g. `A:` or `A:1-120`.
    pub region: String,
    /// Free-text description (protein name).
    pub description: String,
    /// Species, without the `[TaxId: N]` suffix.
    pub species: String,
    /// NCBI taxonomy id, when given.
    pub tax_id: Option<u32>,
    /// Upper-case residues.
    pub sequence: String,
    /// 1-based header line.
    pub line: usize,
}

impl ScopDomain {
    /// The sccs truncated to `depth` levels (1 class, 2 fold, 3 superfamily, 4 family).
    pub fn level(&self, depth: usize) -> &str {
        let end = self
            .sccs
            .match_indices('.')
            .nth(depth.saturating_sub(1))
            .map_or(self.sccs.len(), |(i, _)| i);
        &self.sccs[..end]
    }

    /// Class, e.g. `a`.
    pub fn class(&self) -> &str {
        self.level(1)
    }

    /// Fold, e.g. `a.1`.
    pub fn fold(&self) -> &str {
        self.level(2)
    }

    /// Superfamily, e.g. `a.1.1`.
    pub fn superfamily(&self) -> &str {
        self.level(3)
    }

    /// Family, e.g. `a.1.1.1`.
    pub fn family(&self) -> &str {
        self.level(4)
    }
}

/// Whether `text` is a SCOP concise classification string such as `a.1.1.1`: a class letter
/// and three numbers.
pub fn is_sccs(text: &str) -> bool {
    let levels: Vec<&str> = text.split('.').collect();
    levels.len() == 4
        && levels[0].len() == 1
        && levels[0].chars().all(|c| c.is_ascii_lowercase())
        && levels[1..]
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()))
}

/// Parses one ASTRAL record (header already split by the FASTA reader).
pub fn parse_domain(record: FastaRecord, path: &Path) -> Result<ScopDomain, DataError> {
    let err = |msg: String| DataError::format(path, &record.id, record.line, msg);
    let mut rest = record.description.trim();
    let (sccs, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !is_sccs(sccs) {
        return Err(err(format!("{sccs:?} is not a SCOP sccs like a.1.1.1")));
    }
    rest = after.trim();
    let region = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
        Some((region, after)) => {
            rest = after.trim();
            region.to_owned()
        }
        None => String::new(),
    };
    let (description, species, tax_id) = match (rest.find('{'), rest.rfind('}')) {
        (Some(open), Some(close)) if close > open => {
            let inner = &rest[open + 1..close];
            let (species, tax_id) = match inner.rfind("[TaxId:") {
                Some(t) => (
                    inner[..t].trim(),
                    inner[t + 7..].trim_end_matches(']').trim().parse().ok(),
                ),
                None => (inner.trim(), None),
            };
            (rest[..open].trim().to_owned(), species.to_owned(), tax_id)
        }
        _ => (rest.to_owned(), String::new(), None),
    };
    Ok(ScopDomain {
        id: record.id,
        sccs: sccs.to_owned(),
        region,
        description,
        species,
        tax_id,
        sequence: record.sequence,
        line: record.line,
    })
}

/// Reads a whole ASTRAL FASTA (plain or .gz).
pub fn read_astral(path: &Path) -> Result<Vec<ScopDomain>, DataError> {
    FastaReader::open(path)?
        .map(|rec| parse_domain(rec?, path))
        .collect()
}

/// At most `n` items spread evenly over `items` (every k-th), keeping their order: a sample of a
/// sorted file (ASTRAL is sorted by sccs) that still covers every part of it. `n = 0` or
/// `n >= len` keeps everything.
pub fn spread_evenly<T: Clone>(items: Vec<T>, n: usize) -> Vec<T> {
    if n == 0 || n >= items.len() {
        return items;
    }
    let step = items.len() as f64 / n as f64;
    (0..n)
        .filter_map(|i| items.get((i as f64 * step) as usize).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, desc: &str) -> FastaRecord {
        FastaRecord {
            id: id.into(),
            description: desc.into(),
            sequence: "MK".into(),
            line: 7,
        }
    }

    #[test]
    fn parses_an_astral_header() -> Result<(), DataError> {
        let d = parse_domain(
            rec(
                "d1dlwa_",
                "a.1.1.1 (A:) Protozoan/bacterial hemoglobin {Ciliate (Paramecium caudatum) [TaxId: 5885]}",
            ),
            Path::new("x.fa"),
        )?;
        assert_eq!(
            (d.class(), d.fold(), d.superfamily(), d.family()),
            ("a", "a.1", "a.1.1", "a.1.1.1")
        );
        assert_eq!(d.region, "A:");
        assert_eq!(d.description, "Protozoan/bacterial hemoglobin");
        assert_eq!(d.species, "Ciliate (Paramecium caudatum)");
        assert_eq!(d.tax_id, Some(5885));
        Ok(())
    }

    #[test]
    fn bad_sccs_names_record_and_line() {
        let msg = parse_domain(rec("d1xyz_", "hemoglobin {x}"), Path::new("x.fa"))
            .expect_err("no sccs")
            .to_string();
        assert!(
            msg.contains("record d1xyz_") && msg.contains("line 7") && msg.contains("x.fa"),
            "{msg}"
        );
    }
}
