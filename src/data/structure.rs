//! Protein structures (PDB, mmCIF via pdbtbx; TS50-style JSON): per-chain sequence, backbone and
//! Cβ coordinates, and Cβ–Cβ contact maps.
//!
//! Gly has no Cβ; like fair-esm's contact-prediction notebook (and trRosetta) we place a virtual
//! Cβ from the backbone: `b = CA - N`, `c = C - CA`, `a = b × c`,
//! `Cβ = -0.58273431 a + 0.56802827 b - 0.54067466 c + CA`.

use std::path::{Path, PathBuf};

use super::error::DataError;

/// A point in Å.
pub type Xyz = [f32; 3];

/// Backbone and Cβ atoms of one residue (`None` where the atom is absent).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResidueAtoms {
    /// Backbone nitrogen.
    pub n: Option<Xyz>,
    /// Cα.
    pub ca: Option<Xyz>,
    /// Carbonyl carbon.
    pub c: Option<Xyz>,
    /// Carbonyl oxygen.
    pub o: Option<Xyz>,
    /// Cβ as deposited (absent for Gly).
    pub cb: Option<Xyz>,
}

/// One protein chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ProteinChain {
    /// `<file stem>_<chain>` (or the record name for JSON sets).
    pub id: String,
    /// Chain identifier.
    pub chain: String,
    /// One-letter residues (`X` for unknown amino acids).
    pub sequence: String,
    /// Author residue numbers.
    pub residue_numbers: Vec<isize>,
    /// Atoms per residue.
    pub atoms: Vec<ResidueAtoms>,
}

/// Sequence-separation ranges used for contact precision (fair-esm's notebook, CASP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeparationRange {
    /// 6 ≤ |i − j| ≤ 11.
    Short,
    /// 12 ≤ |i − j| ≤ 23.
    Medium,
    /// |i − j| ≥ 24.
    Long,
}

impl SeparationRange {
    /// The range of a residue pair, `None` below 6.
    pub fn of(i: usize, j: usize) -> Option<Self> {
        match i.abs_diff(j) {
            0..=5 => None,
            6..=11 => Some(Self::Short),
            12..=23 => Some(Self::Medium),
            _ => Some(Self::Long),
        }
    }
}

/// Residue–residue contacts of one chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactMap {
    /// Residues.
    pub len: usize,
    /// Row-major `len x len`: Cβ–Cβ distance below the threshold.
    pub contacts: Vec<bool>,
    /// Per residue: a Cβ (deposited or imputed) exists, so its pairs can be evaluated.
    pub valid: Vec<bool>,
    /// Row-major `len x len` distances in Å (`NaN` where a residue lacks coordinates).
    pub distances: Vec<f32>,
}

impl ContactMap {
    /// Whether residues `i` and `j` are in contact.
    pub fn contact(&self, i: usize, j: usize) -> bool {
        self.contacts[i * self.len + j]
    }
}

fn sub(a: Xyz, b: Xyz) -> Xyz {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: Xyz, b: Xyz) -> Xyz {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// The virtual Cβ from N, CA, C (see the module docs).
pub fn impute_cb(n: Xyz, ca: Xyz, c: Xyz) -> Xyz {
    let b = sub(ca, n);
    let cc = sub(c, ca);
    let a = cross(b, cc);
    std::array::from_fn(|k| -0.582_734_3 * a[k] + 0.568_028_3 * b[k] - 0.540_674_7 * cc[k] + ca[k])
}

impl ProteinChain {
    /// Cβ per residue: deposited for non-Gly residues, imputed from the backbone for Gly (and
    /// wherever Cβ is missing but N, CA, C exist).
    pub fn cb_positions(&self) -> Vec<Option<Xyz>> {
        self.atoms
            .iter()
            .zip(self.sequence.chars())
            .map(|(r, aa)| match (aa, r.cb, r.n, r.ca, r.c) {
                ('G', _, Some(n), Some(ca), Some(c)) | (_, None, Some(n), Some(ca), Some(c)) => {
                    Some(impute_cb(n, ca, c))
                }
                (_, Some(cb), _, _, _) => Some(cb),
                _ => None,
            })
            .collect()
    }

    /// Cβ–Cβ contacts below `threshold_angstrom` (8 Å in the ESM papers).
    pub fn contact_map(&self, threshold_angstrom: f32) -> ContactMap {
        let cb = self.cb_positions();
        let len = cb.len();
        let mut distances = vec![f32::NAN; len * len];
        for i in 0..len {
            for j in 0..len {
                if let (Some(a), Some(b)) = (cb[i], cb[j]) {
                    let d = sub(a, b);
                    distances[i * len + j] = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                }
            }
        }
        ContactMap {
            len,
            contacts: distances.iter().map(|&d| d < threshold_angstrom).collect(),
            valid: cb.iter().map(Option::is_some).collect(),
            distances,
        }
    }
}

/// One-letter code of a residue name; `None` for non-amino-acids (water, ligands).
pub fn one_letter(name: &str) -> Option<char> {
    Some(match name {
        "ALA" => 'A',
        "ARG" => 'R',
        "ASN" => 'N',
        "ASP" => 'D',
        "CYS" => 'C',
        "GLN" => 'Q',
        "GLU" => 'E',
        "GLY" => 'G',
        "HIS" => 'H',
        "ILE" => 'I',
        "LEU" => 'L',
        "LYS" => 'K',
        "MET" => 'M',
        "PHE" => 'F',
        "PRO" => 'P',
        "SER" => 'S',
        "THR" => 'T',
        "TRP" => 'W',
        "TYR" => 'Y',
        "VAL" => 'V',
        "MSE" => 'M',
        "SEC" => 'U',
        "PYL" => 'O',
        "ASX" => 'B',
        "GLX" => 'Z',
        "UNK" => 'X',
        _ => return None,
    })
}

/// Reads all protein chains of the first model of a PDB or mmCIF file (format from the
/// extension: `.pdb`, `.ent`, `.cif`, `.mmcif`, optionally `.gz`).
pub fn read_structure(path: &Path) -> Result<Vec<ProteinChain>, DataError> {
    // pdbtbx's own word for an unreadable path is "Could not open file": ours comes first.
    std::fs::File::open(path).map_err(|source| DataError::io(path, source))?;
    let text_path = path.to_string_lossy();
    let (pdb, _warnings) = pdbtbx::ReadOptions::default()
        .set_level(pdbtbx::StrictnessLevel::Loose)
        .set_only_first_model(true)
        .set_discard_hydrogens(true)
        .read(text_path.as_ref())
        .map_err(|errors| {
            let first = errors.first().map_or_else(
                || "unknown error".to_owned(),
                |e| e.short_description().to_owned(),
            );
            DataError::format(
                path,
                "-",
                0,
                format!(
                    "not a readable PDB/mmCIF structure: {first} ({} errors)",
                    errors.len()
                ),
            )
        })?;
    let stem = path.file_stem().map_or_else(String::new, |s| {
        s.to_string_lossy()
            .trim_end_matches(".pdb")
            .trim_end_matches(".cif")
            .to_owned()
    });
    let mut chains = Vec::new();
    let Some(model) = pdb.models().next() else {
        return Err(DataError::format(path, "-", 0, "structure has no models"));
    };
    for chain in model.chains() {
        let mut out = ProteinChain {
            id: format!("{stem}_{}", chain.id()),
            chain: chain.id().to_owned(),
            sequence: String::new(),
            residue_numbers: Vec::new(),
            atoms: Vec::new(),
        };
        for residue in chain.residues() {
            // First conformer only (alternative locations would double residues).
            let Some(conformer) = residue.conformers().next() else {
                continue;
            };
            let letter = one_letter(conformer.name());
            let mut atoms = ResidueAtoms::default();
            for atom in conformer.atoms() {
                let (x, y, z) = atom.pos();
                let p = Some([x as f32, y as f32, z as f32]);
                match atom.name() {
                    "N" => atoms.n = p,
                    "CA" => atoms.ca = p,
                    "C" => atoms.c = p,
                    "O" => atoms.o = p,
                    "CB" => atoms.cb = p,
                    _ => {}
                }
            }
            // Amino acids, plus modified residues that carry a backbone.
            let letter = match (letter, atoms.ca) {
                (Some(l), Some(_)) => l,
                (None, Some(_)) if atoms.n.is_some() && atoms.c.is_some() => 'X',
                _ => continue,
            };
            out.sequence.push(letter);
            out.residue_numbers.push(residue.serial_number());
            out.atoms.push(atoms);
        }
        if !out.sequence.is_empty() {
            chains.push(out);
        }
    }
    Ok(chains)
}

/// Whether `path` names a file [`read_structures`] reads: PDB (`.pdb`, `.ent`), mmCIF (`.cif`,
/// `.mmcif`), optionally gzipped, or TS50-style backbone JSON (`.json`).
pub fn is_structure_file(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".pdb", ".ent", ".cif", ".mmcif", ".json"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Reads the chains of several structure files: PDB / mmCIF files, TS50-style backbone JSON
/// (`.json`), or folders (every structure file directly inside, in name order).
pub fn read_structures(paths: &[PathBuf]) -> Result<Vec<ProteinChain>, DataError> {
    let mut chains = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| DataError::io(path, e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_structure_file(p))
                .collect();
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        for file in files {
            let read = if file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                read_backbone_json(&file)
            } else {
                read_structure(&file)
            };
            chains.extend(read?);
        }
    }
    Ok(chains)
}

/// Reads a TS50-style JSON list of `{name, seq, coords}` where `coords` holds per-residue
/// `[N, CA, C, O]` positions (nulls or NaN for missing atoms).
pub fn read_backbone_json(path: &Path) -> Result<Vec<ProteinChain>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| DataError::format(path, "-", e.line(), format!("not JSON: {e}")))?;
    let entries = value.as_array().ok_or_else(|| {
        DataError::format(path, "-", 1, "expected a JSON list of {name, seq, coords}")
    })?;
    let point = |v: &serde_json::Value| -> Option<Xyz> {
        let a = v.as_array()?;
        let xyz: Vec<f32> = a
            .iter()
            .filter_map(|x| x.as_f64().map(|f| f as f32))
            .collect();
        (xyz.len() == 3 && xyz.iter().all(|f| f.is_finite())).then(|| [xyz[0], xyz[1], xyz[2]])
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let name = e
                .get("name")
                .and_then(|n| n.as_str())
                .map_or_else(|| format!("entry {}", i + 1), str::to_owned);
            let err = |msg: String| DataError::format(path, &name, 0, msg);
            let seq = e
                .get("seq")
                .and_then(|s| s.as_str())
                .ok_or_else(|| err("missing seq".into()))?;
            let coords = e
                .get("coords")
                .and_then(|c| c.as_array())
                .ok_or_else(|| err("missing coords".into()))?;
            if coords.len() != seq.chars().count() {
                return Err(err(format!(
                    "{} residues but {} coordinate rows",
                    seq.chars().count(),
                    coords.len()
                )));
            }
            let atoms = coords
                .iter()
                .map(|res| {
                    let atom = |k: usize| res.as_array().and_then(|a| a.get(k)).and_then(point);
                    ResidueAtoms {
                        n: atom(0),
                        ca: atom(1),
                        c: atom(2),
                        o: atom(3),
                        cb: None,
                    }
                })
                .collect();
            Ok(ProteinChain {
                id: name.clone(),
                chain: String::new(),
                sequence: seq.to_ascii_uppercase(),
                residue_numbers: (1..=seq.len() as isize).collect(),
                atoms,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separation_ranges() {
        assert_eq!(SeparationRange::of(0, 5), None);
        assert_eq!(SeparationRange::of(10, 4), Some(SeparationRange::Short));
        assert_eq!(SeparationRange::of(0, 23), Some(SeparationRange::Medium));
        assert_eq!(SeparationRange::of(0, 24), Some(SeparationRange::Long));
    }

    #[test]
    fn imputed_cb_matches_a_deposited_cb() {
        // GLU 53 of PDB 1CTF: N, CA, C and its deposited CB.
        let (n, ca, c) = (
            [18.222, 18.496, -16.203],
            [17.706, 17.982, -14.905],
            [17.368, 16.466, -15.121],
        );
        let deposited = [16.552f32, 18.744, -14.351];
        let v = impute_cb(n, ca, c);
        let d = ((v[0] - deposited[0]).powi(2)
            + (v[1] - deposited[1]).powi(2)
            + (v[2] - deposited[2]).powi(2))
        .sqrt();
        assert!(d < 0.2, "imputed CB is {d} Å from the deposited one");
    }
}
