//! Amino-acid substitutions as deep mutational scans and fair-esm's
//! `examples/variant-prediction/predict.py` write them: `A23K` (wild type, position, mutant),
//! several joined by `:` for a multi-mutant (`A23K:G40P`). Positions are numbered with an
//! offset: residue `position - offset` of the sequence (0-based) is the one mutated, so with
//! offset 24 `H24C` changes the first residue (predict.py's `--offset-idx`). The offset is found
//! from the wild-type letters when exactly one offset makes all of them match.

/// The 20 standard amino acids, one letter each, alphabetical.
pub const AMINO_ACIDS: &str = "ACDEFGHIKLMNPQRSTVWY";

/// One substitution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Substitution {
    /// The wild-type residue as written.
    pub wild_type: char,
    /// The position as written (offset not applied).
    pub position: i64,
    /// The residue it becomes.
    pub mutant: char,
}

/// A variant: one or more substitutions of one sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The text it was read from (`A23K:G40P`).
    pub text: String,
    /// Its substitutions, in the order written.
    pub substitutions: Vec<Substitution>,
}

/// Parses `A23K` or `A23K:G40P` (spaces around `:` allowed); the reason in our words when it
/// is not a variant.
pub fn parse_variant(text: &str) -> Result<Variant, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("an empty mutant".into());
    }
    let substitutions = trimmed
        .split(':')
        .map(|part| parse_substitution(part.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| format!("mutant {trimmed:?}: {reason}"))?;
    Ok(Variant {
        text: trimmed.to_owned(),
        substitutions,
    })
}

fn parse_substitution(part: &str) -> Result<Substitution, String> {
    let chars: Vec<char> = part.chars().collect();
    let standard = |c: char| AMINO_ACIDS.contains(c.to_ascii_uppercase());
    if chars.len() < 3 {
        return Err(format!(
            "{part:?} is not a substitution like A23K (wild type, position, mutant)"
        ));
    }
    let (wild_type, mutant) = (chars[0], chars[chars.len() - 1]);
    let digits: String = chars[1..chars.len() - 1].iter().collect();
    let position: i64 = digits.parse().map_err(|_| {
        format!("{part:?}: the position {digits:?} is not a whole number (expected like A23K)")
    })?;
    for (role, c) in [("wild type", wild_type), ("mutant", mutant)] {
        if !standard(c) {
            return Err(format!(
                "{part:?}: the {role} {c:?} is not one of the 20 amino acids ({AMINO_ACIDS})"
            ));
        }
    }
    Ok(Substitution {
        wild_type: wild_type.to_ascii_uppercase(),
        position,
        mutant: mutant.to_ascii_uppercase(),
    })
}

impl Substitution {
    /// The 0-based residue it changes under `offset`, when inside a sequence of `len`.
    pub fn index(&self, offset: i64, len: usize) -> Option<usize> {
        let index = self.position - offset;
        (0..len as i64).contains(&index).then_some(index as usize)
    }
}

/// Why the variants do not fit the sequence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OffsetError {
    /// No offset makes every wild type match.
    #[error(
        "no numbering offset makes every wild-type residue match the sequence; with offset {offset} (the one matching most, {matched} of {total}) the first mismatch is {variant}: {detail}. Check the sequence, or give the offset"
    )]
    NoMatch {
        /// The best offset tried.
        offset: i64,
        /// Substitutions matching under it.
        matched: usize,
        /// Substitutions in all.
        total: usize,
        /// The first variant that does not match.
        variant: String,
        /// What the sequence has there.
        detail: String,
    },
    /// Several offsets fit.
    #[error(
        "the wild-type residues match the sequence at {} offsets ({}); give the offset",
        offsets.len(), offsets.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    )]
    Ambiguous {
        /// The offsets that fit.
        offsets: Vec<i64>,
    },
    /// The given offset does not fit.
    #[error("with offset {offset}, {variant}: {detail}")]
    Mismatch {
        /// The offset given.
        offset: i64,
        /// The first variant that does not match.
        variant: String,
        /// What the sequence has there.
        detail: String,
    },
    /// Nothing to place.
    #[error("no variants")]
    Empty,
}

/// The first substitution of `variants` that does not match `sequence` under `offset`:
/// `(variant text, what is wrong)`, and how many match.
fn first_mismatch(
    sequence: &[u8],
    variants: &[Variant],
    offset: i64,
) -> (Option<(String, String)>, usize) {
    let mut matched = 0;
    let mut first = None;
    for variant in variants {
        for s in &variant.substitutions {
            let detail = match s.index(offset, sequence.len()) {
                None => Some(format!(
                    "position {} is residue {} of a {}-residue sequence",
                    s.position,
                    s.position - offset + 1,
                    sequence.len()
                )),
                Some(i) if sequence[i].to_ascii_uppercase() as char != s.wild_type => {
                    Some(format!(
                        "{}{} is {} in the sequence (residue {})",
                        s.wild_type,
                        s.position,
                        sequence[i] as char,
                        i + 1
                    ))
                }
                Some(_) => None,
            };
            match detail {
                None => matched += 1,
                Some(detail) if first.is_none() => first = Some((variant.text.clone(), detail)),
                Some(_) => {}
            }
        }
    }
    (first, matched)
}

/// Checks `offset` against every variant.
pub fn check_offset(sequence: &str, variants: &[Variant], offset: i64) -> Result<(), OffsetError> {
    match first_mismatch(sequence.as_bytes(), variants, offset).0 {
        None => Ok(()),
        Some((variant, detail)) => Err(OffsetError::Mismatch {
            offset,
            variant,
            detail,
        }),
    }
}

/// The one offset under which every wild type of `variants` matches `sequence`.
pub fn find_offset(sequence: &str, variants: &[Variant]) -> Result<i64, OffsetError> {
    let bytes = sequence.as_bytes();
    let first = variants
        .iter()
        .flat_map(|v| v.substitutions.first())
        .next()
        .ok_or(OffsetError::Empty)?;
    let total: usize = variants.iter().map(|v| v.substitutions.len()).sum();
    // Candidates: the offsets that place the first substitution on its own wild type.
    let candidates: Vec<i64> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| b.to_ascii_uppercase() as char == first.wild_type)
        .map(|(k, _)| first.position - k as i64)
        .collect();
    let mut fitting = Vec::new();
    let mut best: Option<(usize, i64, (String, String))> = None;
    for offset in candidates {
        match first_mismatch(bytes, variants, offset) {
            (None, _) => fitting.push(offset),
            (Some(miss), matched) => {
                if best.as_ref().is_none_or(|(m, _, _)| matched > *m) {
                    best = Some((matched, offset, miss));
                }
            }
        }
    }
    match fitting.as_slice() {
        [one] => Ok(*one),
        [] => {
            let (matched, offset, (variant, detail)) = best.unwrap_or_else(|| {
                let (miss, matched) = first_mismatch(bytes, variants, 1);
                (matched, 1, miss.unwrap_or_default())
            });
            Err(OffsetError::NoMatch {
                offset,
                matched,
                total,
                variant,
                detail,
            })
        }
        _ => Err(OffsetError::Ambiguous { offsets: fitting }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(texts: &[&str]) -> Vec<Variant> {
        texts.iter().filter_map(|t| parse_variant(t).ok()).collect()
    }

    #[test]
    fn substitutions_and_multi_mutants_parse() -> Result<(), String> {
        let v = parse_variant(" H24C : e26k ")?;
        assert_eq!(v.text, "H24C : e26k");
        assert_eq!(
            v.substitutions,
            vec![
                Substitution {
                    wild_type: 'H',
                    position: 24,
                    mutant: 'C'
                },
                Substitution {
                    wild_type: 'E',
                    position: 26,
                    mutant: 'K'
                }
            ]
        );
        for bad in ["", "H", "HxC", "B24C", "H24*", "H24"] {
            assert!(parse_variant(bad).is_err(), "{bad}");
        }
        assert!(
            parse_variant("H2.5C")
                .err()
                .unwrap_or_default()
                .contains("not a whole number")
        );
        Ok(())
    }

    #[test]
    fn the_offset_is_found_when_one_fits_and_explained_when_none_or_several_do() {
        // BLAT numbering: the sequence starts at residue 24.
        let seq = "HPETLVKVKDAEDQLGARVGYIELDLNSGKILESFRPEERFPMMSTFKVLLCGAVLSRVDAGQEQLGRRIHY";
        assert_eq!(find_offset(seq, &variants(&["H24C", "P25A:E26K"])), Ok(24));
        assert_eq!(check_offset(seq, &variants(&["H24C"]), 24), Ok(()));
        let err = check_offset(seq, &variants(&["H24C"]), 0)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("H24C") && err.contains("offset 0"), "{err}");
        let none = find_offset(seq, &variants(&["H24C", "W30A"]))
            .err()
            .unwrap_or(OffsetError::Empty);
        assert!(matches!(
            none,
            OffsetError::NoMatch {
                offset: 24,
                matched: 1,
                total: 2,
                ..
            }
        ));
        assert!(
            none.to_string()
                .contains("W30A: W30 is K in the sequence (residue 7)"),
            "{none}"
        );
        let many = find_offset(seq, &variants(&["V10A"]))
            .err()
            .unwrap_or(OffsetError::Empty);
        assert!(matches!(many, OffsetError::Ambiguous { ref offsets } if offsets.len() > 1));
        assert_eq!(find_offset(seq, &[]), Err(OffsetError::Empty));
    }
}
