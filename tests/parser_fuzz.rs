//! Property tests: the parsers return errors, never panic, on arbitrary input.

use std::path::Path;

use proptest::prelude::*;

use esm_workbench::data::{FastaReader, read_backbone_json, read_ss8, read_structure};
use esm_workbench::model::{Alphabet, Checkpoint};

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file");
    path
}

/// Text that looks like the formats (so the fuzzing gets past the first line), plus noise.
fn fasta_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(">".to_owned()),
            Just(">id desc\n".to_owned()),
            Just("MKTAYIAK\n".to_owned()),
            Just("*".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            "[ -~]{0,12}",
            "\\PC{0,4}",
        ],
        0..20,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn fasta_never_panics(text in fasta_like()) {
        let reader = FastaReader::new(std::io::Cursor::new(text.into_bytes()), Path::new("fuzz.fa"));
        for r in reader.flatten() {
            prop_assert!(!r.id.is_empty());
        }
    }

    #[test]
    fn alphabet_never_panics(text in "\\PC{0,40}") {
        let _ = Alphabet::encode("fuzz", &text);
    }

    #[test]
    fn ss8_tables_never_panic(body in "[ -~\t\n]{0,200}", header in prop_oneof![
        Just("input, dssp3, dssp8, disorder, cb513_mask\n"),
        Just("id\tsequence\tdssp8\n"),
        Just(">"),
        Just(""),
    ]) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_temp(dir.path(), "fuzz.txt", format!("{header}{body}").as_bytes());
        let _ = read_ss8(&path);
    }

    #[test]
    fn structures_never_panic(lines in proptest::collection::vec(prop_oneof![
        Just("ATOM      1  N   GLU A  53      18.222  18.496 -16.203  1.00 21.95           N".to_owned()),
        Just("ATOM      2  CA  GLU A  53      17.706  17.982 -14.905  1.00 16.74           C".to_owned()),
        Just("HETATM    3  O   HOH A 101       1.000   2.000   3.000  1.00 10.00           O".to_owned()),
        Just("END".to_owned()),
        "[ -~]{0,80}",
    ], 0..12), json in "[\\[\\]{}\",:0-9a-z. -]{0,120}") {
        let dir = tempfile::tempdir().expect("tempdir");
        let pdb = write_temp(dir.path(), "fuzz.pdb", lines.join("\n").as_bytes());
        // pdbtbx may report errors; it must not take the process down.
        let _ = std::panic::catch_unwind(|| read_structure(&pdb)).map_err(|_| "pdbtbx panicked").expect("no panic");
        let js = write_temp(dir.path(), "fuzz.json", json.as_bytes());
        let _ = read_backbone_json(&js);
    }

    #[test]
    fn checkpoints_never_panic(prefix in prop_oneof![Just(b"PK\x03\x04".to_vec()), Just(vec![0x80, 2]), Just(vec![16, 0, 0, 0, 0, 0, 0, 0])],
                               body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_temp(dir.path(), "fuzz.pt", &[prefix, body].concat());
        prop_assert!(Checkpoint::read(&path).is_err());
    }
}
