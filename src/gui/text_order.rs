//! How the data table compares text: natural order (`a.2` before `a.11`, as SCOPe sccs and
//! numbered ids are meant to be read) and sequence motifs with `X` as a wildcard.

use std::cmp::Ordering;

/// Compares case-insensitively, runs of digits by their value: `a.2.1` < `a.11.1`,
/// `d1a2` < `d1a10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let digits = |it: &mut std::iter::Peekable<std::str::Chars<'_>>| {
                    let mut run = String::new();
                    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
                        run.push(c);
                        it.next();
                    }
                    run
                };
                let (m, n) = (digits(&mut x), digits(&mut y));
                let (m, n) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                let order = m.len().cmp(&n.len()).then_with(|| m.cmp(n));
                if order != Ordering::Equal {
                    return order;
                }
            }
            (Some(c), Some(d)) => {
                let order = c.to_lowercase().cmp(d.to_lowercase());
                if order != Ordering::Equal {
                    return order;
                }
                x.next();
                y.next();
            }
        }
    }
}

/// Whether upper-case `sequence` contains `motif` (upper case), where `X` in the motif matches
/// any residue: `GXGXXG` finds `GAGAAG`.
pub fn contains_motif(sequence: &str, motif: &str) -> bool {
    let (s, m) = (sequence.as_bytes(), motif.as_bytes());
    if m.is_empty() {
        return true;
    }
    if !m.contains(&b'X') {
        return sequence.contains(motif);
    }
    s.windows(m.len())
        .any(|w| w.iter().zip(m).all(|(&r, &p)| p == b'X' || r == p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sccs_and_numbered_ids_sort_naturally() {
        let mut sccs = vec!["a.11.1.1", "a.2.1.1", "b.1.1.1", "a.2.10.1", "a.2.9.1"];
        sccs.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            sccs,
            ["a.2.1.1", "a.2.9.1", "a.2.10.1", "a.11.1.1", "b.1.1.1"]
        );
        assert_eq!(natural_cmp("D1A10", "d1a2"), Ordering::Greater);
        assert_eq!(natural_cmp("x007", "x7"), Ordering::Equal);
    }

    #[test]
    fn x_in_a_motif_matches_any_residue() {
        assert!(contains_motif("MKGAGAAGTT", "GXGXXG"));
        assert!(!contains_motif("MKGAGAATT", "GXGXXG"));
        assert!(contains_motif("MKVL", "KV"));
        assert!(
            contains_motif("MKVXL", "VX"),
            "a literal X in the sequence still matches"
        );
        assert!(contains_motif("MK", ""));
    }
}
