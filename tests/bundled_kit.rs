//! The bundled evaluation kit (`datasets/kit`, built by `datasets/build_kit.py`): the views'
//! default training and test sets share no sequence, and TS50 is labelled by the workbench's
//! own DSSP.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use esm_workbench::bundled::{bundled_path, kit};
use esm_workbench::data::{read_ss8_labels, read_structures, ss8_index};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Length of the windows compared between training and test sequences.
const WINDOW: usize = 10;

fn windows(sequence: &str) -> impl Iterator<Item = &str> {
    (0..sequence.len().saturating_sub(WINDOW - 1)).map(move |i| &sequence[i..i + WINDOW])
}

/// Panics unless no test sequence equals a training sequence or shares a fifth or more of its
/// 10-residue windows with the training set (mmseqs2 in the build script is the finer check).
fn assert_disjoint(what: &str, train: &[String], test: &[String]) {
    assert!(!train.is_empty() && !test.is_empty(), "{what}: empty split");
    let exact: HashSet<&str> = train.iter().map(String::as_str).collect();
    let training_windows: HashSet<&str> = train.iter().flat_map(|s| windows(s)).collect();
    for sequence in test {
        assert!(
            !exact.contains(sequence.as_str()),
            "{what}: {sequence} is in training"
        );
        let total = windows(sequence).count().max(1);
        let shared = windows(sequence)
            .filter(|w| training_windows.contains(w))
            .count();
        assert!(
            (shared as f64) < 0.2 * total as f64,
            "{what}: a test chain shares {shared} of {total} windows with training: {sequence}"
        );
    }
}

fn ss8_sequences(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(read_ss8_labels(path)?
        .into_iter()
        .map(|r| r.sequence)
        .collect())
}

fn structure_sequences(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(read_structures(&[PathBuf::from(path)])?
        .into_iter()
        .map(|c| c.sequence)
        .collect())
}

fn kit_file(relative: &str) -> PathBuf {
    bundled_path(relative).unwrap_or_else(|| panic!("{relative} is committed"))
}

#[test]
fn the_kit_splits_share_no_sequence() -> TestResult {
    let ss8_train = ss8_sequences(&kit_file(kit::SS8_TRAIN))?;
    let ts50 = ss8_sequences(&kit_file(kit::TS50))?;
    let domains = structure_sequences(&kit_file(kit::CONTACT_TRAIN))?;
    assert_eq!(ss8_train.len(), 1000);
    assert_eq!(ts50.len(), 50);
    assert_eq!(domains.len(), 43);
    assert_disjoint("SS8", &ss8_train, &ts50);
    assert_disjoint(
        "contacts",
        &domains,
        &structure_sequences(&kit_file(kit::TS50))?,
    );
    Ok(())
}

#[cfg(feature = "gui")]
#[test]
fn the_views_default_to_the_kit_with_disjoint_train_and_test() -> TestResult {
    use esm_workbench::gui::contacts_view::ContactSettings;
    use esm_workbench::gui::ss8_view::Ss8Settings;
    let ss8 = Ss8Settings::default();
    assert_eq!(Path::new(&ss8.train), kit_file(kit::SS8_TRAIN));
    assert_eq!(Path::new(&ss8.test), kit_file(kit::TS50));
    let mut train = ss8_sequences(Path::new(&ss8.train))?;
    train.truncate(ss8.max_train);
    assert_disjoint("SS8 view", &train, &ss8_sequences(Path::new(&ss8.test))?);

    let contacts = ContactSettings::default();
    assert_eq!(Path::new(&contacts.train), kit_file(kit::CONTACT_TRAIN));
    assert_eq!(Path::new(&contacts.test), kit_file(kit::TS50));
    assert_disjoint(
        "contacts view",
        &structure_sequences(Path::new(&contacts.train))?,
        &structure_sequences(Path::new(&contacts.test))?,
    );
    Ok(())
}

#[test]
fn ts50_is_labelled_by_the_workbench_dssp() -> TestResult {
    let records = read_ss8_labels(&kit_file(kit::TS50))?;
    let residues: usize = records.iter().map(|r| r.labels.len()).sum();
    let evaluated: usize = records
        .iter()
        .map(|r| r.mask.iter().filter(|&&m| m).count())
        .sum();
    assert_eq!(residues, 6861);
    assert!(
        evaluated as f64 > 0.95 * residues as f64,
        "{evaluated} of {residues}"
    );
    // Helix and strand each cover a good part of a globular-protein set.
    let share = |letter: char| {
        let class = ss8_index(letter).expect("a DSSP letter");
        records
            .iter()
            .flat_map(|r| &r.labels)
            .filter(|&&l| l == class)
            .count() as f64
            / residues as f64
    };
    let (helix, strand) = (share('H'), share('E'));
    assert!(helix > 0.2 && strand > 0.15, "H {helix:.3}, E {strand:.3}");
    Ok(())
}
