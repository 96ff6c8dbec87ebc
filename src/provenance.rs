//! Which model and which data made a result: carried by every study result, shown in each
//! view's result header, checked before a probe is saved, and written beside every exported
//! table and figure (`NAME.provenance.json`). A result whose model is not the one loaded is
//! never shown as the loaded model's.

use std::path::{Path, PathBuf};

use crate::atomic_write::AtomicWriteError;

/// A model as results name it: its display name and its content fingerprint (the fingerprint
/// decides; two files with the same weights are the same model).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ModelRef {
    /// Display name, e.g. `esm1b_t33_650M_UR50S`.
    pub name: String,
    /// Hex SHA-256 content fingerprint of the weights.
    pub fingerprint: String,
    /// The loaded model a result of several models is shown with, when it is not this one (an
    /// ensemble's first member: its result stays with that model in the GUI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_with: Option<String>,
}

impl ModelRef {
    /// `name (4914ea1d63cb)`: the name with the fingerprint's first 12 digits.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, short(&self.fingerprint))
    }

    /// Whether `fingerprint` is this model's.
    pub fn is(&self, fingerprint: &str) -> bool {
        self.fingerprint == fingerprint
    }

    /// The fingerprint of the loaded model a result of this model is shown with: its own, or
    /// an ensemble's first member's.
    pub fn shown_with(&self) -> &str {
        self.shown_with.as_deref().unwrap_or(&self.fingerprint)
    }
}

/// The first 12 hex digits of a fingerprint.
fn short(fingerprint: &str) -> &str {
    &fingerprint[..fingerprint.len().min(12)]
}

/// One data set a result was computed on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataInput {
    /// The set's name as the study labels it (its file name, with a sample's size and seed).
    pub name: String,
    /// Proteins (chains, domains) used.
    pub proteins: usize,
    /// Residues in them.
    pub residues: usize,
}

impl DataInput {
    /// The set named `name` of `(id, sequence)` records.
    pub fn of(name: &str, records: &[(String, String)]) -> Self {
        Self {
            name: name.to_owned(),
            proteins: records.len(),
            residues: records.iter().map(|(_, s)| s.len()).sum(),
        }
    }
}

/// The model and data behind one result.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// The model whose representations were analysed (the untrained baseline, when compared,
    /// is this model's architecture with seeded random weights).
    pub model: ModelRef,
    /// The data sets, in the study's order (training before test).
    pub data: Vec<DataInput>,
}

impl Provenance {
    /// One line for a result header: "starter_esm1b_t4_128 (4914ea1d63cb) on ss8_train.tsv
    /// (20 proteins, 4,028 residues) and ts50.json (50 proteins, 6,861 residues)".
    pub fn header(&self) -> String {
        let data: Vec<String> = self
            .data
            .iter()
            .map(|d| match d.proteins {
                // A set of something else (a scan's variants) names its own size.
                0 => d.name.clone(),
                1 => format!("{} (1 protein, {} residues)", d.name, thousands(d.residues)),
                n => format!(
                    "{} ({} proteins, {} residues)",
                    d.name,
                    thousands(n),
                    thousands(d.residues)
                ),
            })
            .collect();
        if data.is_empty() {
            return self.model.label();
        }
        format!("{} on {}", self.model.label(), join_and(&data))
    }

    /// Writes `{"made_by": "ESM Workbench VERSION", "model": …, "data": […]}` beside the file
    /// at `path` as `NAME.provenance.json` (atomically) and returns the sidecar's path.
    pub fn write_sidecar(&self, path: &Path) -> Result<PathBuf, AtomicWriteError> {
        let sidecar = sidecar_path(path);
        let json = serde_json::json!({
            "made_by": format!("ESM Workbench {}", env!("CARGO_PKG_VERSION")),
            "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
            "model": self.model,
            "data": self.data,
        });
        let text = format!("{json:#}");
        crate::atomic_write::write_atomic(&sidecar, |w| {
            use std::io::Write as _;
            w.write_all(text.as_bytes())?;
            w.write_all(b"\n")
        })?;
        Ok(sidecar)
    }
}

/// `NAME.provenance.json` beside `path` (`ss8.csv` → `ss8.csv.provenance.json`).
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".provenance.json");
    path.with_file_name(name)
}

/// `12345` → `12,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provenance() -> Provenance {
        Provenance {
            model: ModelRef {
                name: "starter".into(),
                fingerprint: "4914ea1d63cbffff0000".into(),
                shown_with: None,
            },
            data: vec![
                DataInput::of("train.tsv", &[("a".into(), "MKV".into())]),
                DataInput {
                    name: "ts50.json".into(),
                    proteins: 50,
                    residues: 6861,
                },
            ],
        }
    }

    #[test]
    fn the_header_names_the_model_its_fingerprint_and_each_set() {
        assert_eq!(
            provenance().header(),
            "starter (4914ea1d63cb) on train.tsv (1 protein, 3 residues) and ts50.json (50 proteins, 6,861 residues)"
        );
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn the_sidecar_sits_beside_the_file_and_reads_back() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let table = dir.path().join("ss8.csv");
        let sidecar = provenance().write_sidecar(&table)?;
        assert_eq!(sidecar, dir.path().join("ss8.csv.provenance.json"));
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sidecar)?)?;
        assert_eq!(json["model"]["fingerprint"], "4914ea1d63cbffff0000");
        assert_eq!(json["data"][1]["residues"], 6861);
        assert_eq!(json["file"], "ss8.csv");
        Ok(())
    }
}
