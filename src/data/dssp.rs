//! DSSP secondary structure (Kabsch & Sander, Biopolymers 1983) in Rust, following mkdssp 4's
//! rules: H-bond energies with the 9 Å Cα pre-filter, each residue keeping its two best donor
//! and acceptor partners; n-turns; α, 3₁₀ and π helices (π preferred over α, as mkdssp 4
//! does by default); bridges, ladders and bulges (E, B); turns (T) and bends (S, κ > 70°).
//! Polyproline (`P`) is not assigned: SS8 benchmarks count it as coil.
//!
//! Labels are [`super::ss8::SS8_CLASSES`] indices. Agreement with `mkdssp` 4.2.2 is measured in
//! `tests/demo_data.rs` and `tests/real_data.rs`.

use super::ss8::ss8_index;
use super::structure::{ProteinChain, Xyz};

/// Below this energy (kcal/mol) a backbone H-bond exists.
const MAX_HBOND_ENERGY: f64 = -0.5;
/// Energies are clamped here.
const MIN_HBOND_ENERGY: f64 = -9.9;
/// Residue pairs with Cα farther apart are not tested for H-bonds.
const MAX_CA_DISTANCE: f64 = 9.0;
/// A C(i-1)–N(i) distance above this is a chain break.
const MAX_PEPTIDE_BOND: f64 = 2.5;

type V = [f64; 3];

fn v(p: Xyz) -> V {
    [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]
}
fn sub(a: V, b: V) -> V {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn add(a: V, b: V) -> V {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn norm(a: V) -> f64 {
    (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt()
}
fn dist(a: V, b: V) -> f64 {
    norm(sub(a, b))
}

/// One residue with a complete backbone.
struct Res {
    n: V,
    ca: V,
    c: V,
    o: V,
    h: V,
    proline: bool,
    /// Index in the chain (residues without a full backbone are skipped).
    index: usize,
    /// Chain break before this residue.
    break_before: bool,
    /// Two best (lowest-energy) acceptors of this residue's N-H: (residue, energy).
    acceptors: [(usize, f64); 2],
    /// Two best donors to this residue's C=O.
    donors: [(usize, f64); 2],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flag {
    None,
    Start,
    End,
    StartAndEnd,
    Middle,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BridgeType {
    Parallel,
    Antiparallel,
}

struct Ladder {
    kind: BridgeType,
    i: Vec<usize>,
    j: std::collections::VecDeque<usize>,
}

/// DSSP 8-state class index per residue of `chain` (coil where the backbone is incomplete).
pub fn dssp8(chain: &ProteinChain) -> Vec<u8> {
    let mut res = backbone_residues(chain);
    let n = res.len();
    let mut ss = vec!['C'; n];
    if n == 0 {
        return vec![ss8_index('C').unwrap_or(7); chain.atoms.len()];
    }
    hbond_energies(&mut res);
    let no_break = |from: usize, to: usize| (from + 1..=to).all(|k| !res[k].break_before);
    // NH(a) -> O(b) is one of a's two best H-bonds.
    let bond = |a: usize, b: usize| {
        res[a]
            .acceptors
            .iter()
            .any(|&(r, e)| r == b && e < MAX_HBOND_ENERGY)
    };

    beta_sheets(n, &no_break, &bond, &mut ss);

    let flags = turn_flags(n, &no_break, &bond);
    let start =
        |i: usize, stride: usize| matches!(flags[i][stride - 3], Flag::Start | Flag::StartAndEnd);
    for i in 1..n.saturating_sub(4) {
        if start(i, 4) && start(i - 1, 4) {
            ss[i..=i + 3].fill('H');
        }
    }
    for i in 1..n.saturating_sub(3) {
        if start(i, 3) && start(i - 1, 3) && ss[i..=i + 2].iter().all(|&c| c == 'C' || c == 'G') {
            ss[i..=i + 2].fill('G');
        }
    }
    for i in 1..n.saturating_sub(5) {
        if start(i, 5)
            && start(i - 1, 5)
            && ss[i..=i + 4].iter().all(|&c| matches!(c, 'C' | 'I' | 'H'))
        {
            ss[i..=i + 4].fill('I');
        }
    }
    // Turns, then bends, on what is still coil.
    for i in 1..n {
        if ss[i] != 'C' {
            continue;
        }
        let turn = (3..=5).any(|stride| (1..stride).any(|k| i >= k && start(i - k, stride)));
        if turn {
            ss[i] = 'T';
        } else if i >= 2 && i + 2 < n && no_break(i - 2, i + 2) {
            let (a, b) = (sub(res[i].ca, res[i - 2].ca), sub(res[i + 2].ca, res[i].ca));
            let cos = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (norm(a) * norm(b));
            if cos.clamp(-1.0, 1.0).acos().to_degrees() > 70.0 {
                ss[i] = 'S';
            }
        }
    }
    let coil = ss8_index('C').unwrap_or(7);
    let mut labels = vec![coil; chain.atoms.len()];
    for (r, c) in res.iter().zip(ss) {
        labels[r.index] = ss8_index(c).unwrap_or(coil);
    }
    labels
}

/// The residues of `chain` with a complete backbone, in order, each with its amide H placed
/// on the N-H bisector (as DSSP does) and whether the chain breaks before it.
fn backbone_residues(chain: &ProteinChain) -> Vec<Res> {
    let mut res: Vec<Res> = Vec::new();
    for (index, (a, aa)) in chain.atoms.iter().zip(chain.sequence.chars()).enumerate() {
        let (Some(n), Some(ca), Some(c), Some(o)) = (a.n, a.ca, a.c, a.o) else {
            continue;
        };
        let (n, ca, c, o) = (v(n), v(ca), v(c), v(o));
        let break_before = res
            .last()
            .is_none_or(|p: &Res| p.index + 1 != index || dist(p.c, n) > MAX_PEPTIDE_BOND);
        // H on the N-H bisector: N + unit(C(i-1) - O(i-1)); the first residue keeps H = N.
        let h = match res.last() {
            Some(p) if !break_before => {
                let co = sub(p.c, p.o);
                let l = norm(co);
                add(n, [co[0] / l, co[1] / l, co[2] / l])
            }
            _ => n,
        };
        res.push(Res {
            n,
            ca,
            c,
            o,
            h,
            proline: aa == 'P',
            index,
            break_before,
            acceptors: [(usize::MAX, 0.0); 2],
            donors: [(usize::MAX, 0.0); 2],
        });
    }
    res
}

/// The n-turn flags (n = 3, 4, 5) of `n` residues: where an H-bond i+n -> i starts, spans and
/// ends a turn (helices are two consecutive turns).
fn turn_flags(
    n: usize,
    no_break: &impl Fn(usize, usize) -> bool,
    bond: &impl Fn(usize, usize) -> bool,
) -> Vec<[Flag; 3]> {
    let mut flags = vec![[Flag::None; 3]; n];
    for stride in 3..=5usize {
        let s = stride - 3;
        for i in 0..n.saturating_sub(stride) {
            if no_break(i, i + stride) && bond(i + stride, i) {
                flags[i + stride][s] = Flag::End;
                for f in flags.iter_mut().take(i + stride).skip(i + 1) {
                    if f[s] == Flag::None {
                        f[s] = Flag::Middle;
                    }
                }
                flags[i][s] = if flags[i][s] == Flag::End {
                    Flag::StartAndEnd
                } else {
                    Flag::Start
                };
            }
        }
    }
    flags
}

/// Kabsch–Sander electrostatic energy of NH(donor)···O=C(acceptor), kcal/mol, as mkdssp:
/// `-27.888 (1/r_ON + 1/r_CH - 1/r_OH - 1/r_CN)`, rounded to 1e-3 and clamped at -9.9.
fn hbond_energy(donor: &Res, acceptor: &Res) -> f64 {
    if donor.proline {
        return 0.0;
    }
    let d_ho = dist(donor.h, acceptor.o);
    let d_hc = dist(donor.h, acceptor.c);
    let d_nc = dist(donor.n, acceptor.c);
    let d_no = dist(donor.n, acceptor.o);
    let e = if d_ho < 0.5 || d_hc < 0.5 || d_nc < 0.5 || d_no < 0.5 {
        MIN_HBOND_ENERGY
    } else {
        -27.888 * (1.0 / d_ho - 1.0 / d_hc + 1.0 / d_nc - 1.0 / d_no)
    };
    ((e * 1000.0).round() / 1000.0).max(MIN_HBOND_ENERGY)
}

fn keep_best(slots: &mut [(usize, f64); 2], partner: usize, e: f64) {
    if e < slots[0].1 {
        slots[1] = slots[0];
        slots[0] = (partner, e);
    } else if e < slots[1].1 {
        slots[1] = (partner, e);
    }
}

fn hbond_energies(res: &mut [Res]) {
    let n = res.len();
    for i in 0..n {
        for j in i + 1..n {
            if dist(res[i].ca, res[j].ca) >= MAX_CA_DISTANCE {
                continue;
            }
            let record = |donor: usize, acceptor: usize, res: &mut [Res]| {
                let e = hbond_energy(&res[donor], &res[acceptor]);
                keep_best(&mut res[donor].acceptors, acceptor, e);
                keep_best(&mut res[acceptor].donors, donor, e);
            };
            record(i, j, res);
            if j != i + 1 {
                record(j, i, res);
            }
        }
    }
}

/// The ladders of consecutive bridges (parallel or antiparallel) between residues `i` and `j`
/// (`j >= i + 3`), as DSSP pairs them from the H-bonds.
fn bridge_ladders(
    n: usize,
    no_break: &dyn Fn(usize, usize) -> bool,
    bond: &dyn Fn(usize, usize) -> bool,
) -> Vec<Ladder> {
    let mut ladders: Vec<Ladder> = Vec::new();
    for i in 1..n.saturating_sub(4) {
        for j in i + 3..n.saturating_sub(1) {
            let (a, b, c, d, e, f) = (i - 1, i, i + 1, j - 1, j, j + 1);
            if !(no_break(a, c) && no_break(d, f)) {
                continue;
            }
            let kind = if (bond(c, e) && bond(e, a)) || (bond(f, b) && bond(b, d)) {
                BridgeType::Parallel
            } else if (bond(c, d) && bond(f, a)) || (bond(e, b) && bond(b, e)) {
                BridgeType::Antiparallel
            } else {
                continue;
            };
            let extended = ladders.iter_mut().any(|l| {
                if l.kind != kind || l.i.last().copied() != Some(i - 1) {
                    return false;
                }
                match kind {
                    BridgeType::Parallel if l.j.back().copied() == Some(j - 1) => {
                        l.i.push(i);
                        l.j.push_back(j);
                        true
                    }
                    BridgeType::Antiparallel if l.j.front().copied() == Some(j + 1) => {
                        l.i.push(i);
                        l.j.push_front(j);
                        true
                    }
                    _ => false,
                }
            });
            if !extended {
                ladders.push(Ladder {
                    kind,
                    i: vec![i],
                    j: std::collections::VecDeque::from([j]),
                });
            }
        }
    }
    ladders
}

/// Joins ladders separated by a bulge (a gap of under 6 residues on one strand and under 3 on
/// the other), as mkdssp does.
fn join_bulges(ladders: &mut Vec<Ladder>, no_break: &dyn Fn(usize, usize) -> bool) {
    ladders.sort_by_key(|l| (l.i[0], l.j[0]));
    let mut x = 0;
    while x < ladders.len() {
        let mut y = x + 1;
        while y < ladders.len() {
            let (li, lj) = (&ladders[x], &ladders[y]);
            let (ibi, iei) = (li.i[0], li.i[li.i.len() - 1]);
            let (jbi, jei) = (li.j[0], li.j[li.j.len() - 1]);
            let (ibj, iej) = (lj.i[0], lj.i[lj.i.len() - 1]);
            let (jbj, jej) = (lj.j[0], lj.j[lj.j.len() - 1]);
            // mkdssp computes these gaps in unsigned arithmetic: a "negative" gap wraps to a huge
            // value and never counts as small.
            let gap = |a: usize, b: usize| a.wrapping_sub(b);
            let separate = li.kind != lj.kind
                || !no_break(ibi.min(ibj), iei.max(iej))
                || !no_break(jbi.min(jbj), jei.max(jej))
                || gap(ibj, iei) >= 6
                || (iei >= ibj && ibi <= iej);
            let bulge = !separate
                && match li.kind {
                    BridgeType::Parallel => {
                        (gap(jbj, jei) < 6 && gap(ibj, iei) < 3) || gap(jbj, jei) < 3
                    }
                    BridgeType::Antiparallel => {
                        (gap(jbi, jej) < 6 && gap(ibj, iei) < 3) || gap(jbi, jej) < 3
                    }
                };
            if bulge {
                let other = ladders.remove(y);
                let l = &mut ladders[x];
                l.i.extend(other.i);
                match l.kind {
                    BridgeType::Parallel => l.j.extend(other.j),
                    BridgeType::Antiparallel => {
                        for j in other.j.into_iter().rev() {
                            l.j.push_front(j);
                        }
                    }
                }
            } else {
                y += 1;
            }
        }
        x += 1;
    }
}

/// Bridges, ladders (with bulges) and their E/B labels.
fn beta_sheets(
    n: usize,
    no_break: &dyn Fn(usize, usize) -> bool,
    bond: &dyn Fn(usize, usize) -> bool,
    ss: &mut [char],
) {
    let mut ladders = bridge_ladders(n, no_break, bond);
    join_bulges(&mut ladders, no_break);
    for l in &ladders {
        let label = if l.i.len() > 1 { 'E' } else { 'B' };
        let (i0, i1) = (l.i[0], l.i[l.i.len() - 1]);
        let (j0, j1) = (*l.j.front().unwrap_or(&0), *l.j.back().unwrap_or(&0));
        for k in (i0..=i1).chain(j0.min(j1)..=j0.max(j1)) {
            if ss[k] != 'E' {
                ss[k] = label;
            }
        }
    }
}
