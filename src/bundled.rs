//! Files shipped with the workbench (the starter model, the demo set, the evaluation kit),
//! found relative to the executable or the crate sources, never the working directory, so the
//! app behaves the same wherever it is launched from.
//!
//! Search order for a path relative to the install root (e.g. `datasets/kit/ts50.json`):
//! 1. `$ESM_WORKBENCH_HOME/<relative>` when that variable is set;
//! 2. beside the executable and up to three folders above it (`target/release/esm-workbench`
//!    finds the repository root), and `<exe dir>/../share/esm-workbench/<relative>`;
//! 3. the crate's source folder at build time (a `cargo run` from anywhere).

use std::path::{Path, PathBuf};

/// Environment variable naming the folder that holds `assets/` and `datasets/`.
pub const HOME_VARIABLE: &str = "ESM_WORKBENCH_HOME";

/// The bundled evaluation kit (`datasets/kit`, built by `datasets/build_kit.py`): train and
/// test sets that share no chain (mmseqs2, < 25 % identity over 50 % coverage).
pub mod kit {
    /// 1,000 PISCES 2018 chains with DSSP 8-state labels: the SS8 probe's training set.
    pub const SS8_TRAIN: &str = "datasets/kit/ss8_train.tsv";
    /// TS50 backbones: the test set of the SS8 probe (labelled by the workbench's DSSP) and
    /// of the contact probe.
    pub const TS50: &str = "datasets/kit/ts50.json";
    /// 43 single-chain PDB domains' backbones: the contact probe's training set.
    pub const CONTACT_TRAIN: &str = "datasets/kit/pdb_domains.json";
}

/// Candidate install roots, most specific first.
fn roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(home) = std::env::var_os(HOME_VARIABLE) {
        roots.push(PathBuf::from(home));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.canonicalize().ok())
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        roots.push(exe_dir.join("../share/esm-workbench"));
        roots.extend(exe_dir.ancestors().take(4).map(Path::to_path_buf));
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    roots
}

/// The absolute path of a bundled file or folder, or `None` when no install root holds it.
pub fn bundled_path(relative: &str) -> Option<PathBuf> {
    roots()
        .into_iter()
        .map(|root| root.join(relative))
        .find(|path| path.exists())
        .map(|path| path.canonicalize().unwrap_or(path))
}

/// [`bundled_path`] as text for a settings field: empty when the file is not installed (the
/// view then shows its hint instead of failing on a relative path).
pub fn bundled_path_text(relative: &str) -> String {
    bundled_path(relative).map_or_else(String::new, |p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kit_files_are_found_whatever_the_working_directory() {
        for relative in [kit::SS8_TRAIN, kit::TS50, kit::CONTACT_TRAIN] {
            let path = bundled_path(relative).expect("the kit is in the repository");
            assert!(path.is_absolute(), "{}", path.display());
            assert!(path.is_file(), "{}", path.display());
        }
    }

    #[test]
    fn a_missing_file_is_none_and_empty_text() {
        assert_eq!(bundled_path("datasets/kit/no-such-file.tsv"), None);
        assert_eq!(bundled_path_text("datasets/kit/no-such-file.tsv"), "");
    }
}
