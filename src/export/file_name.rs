//! File names that follow the result they would save: a stem built from what the file holds
//! and the model that made it (`ss8_by_layer_esm1b_t33_650M_UR50S`), put in place of the
//! stem of the name a user typed, keeping its folder and extension.

use std::path::Path;

/// `text` as one part of a file name: letters, digits, `.`, `-` and `_` kept, every other run
/// of characters one `_` (no spaces, slashes or colons in file names).
pub fn file_stem_part(text: &str) -> String {
    let mut part = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            part.push(c);
        } else if !part.ends_with('_') {
            part.push('_');
        }
    }
    part.trim_matches('_').to_owned()
}

/// The stem of `parts` joined by `_` ([`file_stem_part`] each, empty parts left out).
pub fn result_stem(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| file_stem_part(p))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// `path` with its file stem replaced by `stem`: its folder and its extension (the format the
/// user chose) stay; a path without an extension gets `default_extension`.
pub fn renamed(path: &str, stem: &str, default_extension: &str) -> String {
    let trimmed = path.trim();
    let old = Path::new(trimmed);
    let extension = old
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| !e.is_empty())
        .unwrap_or(default_extension);
    let name = format!("{stem}.{extension}");
    // A path ending in `/` is a folder; otherwise the folder is the path's parent, if any.
    let folder = if trimmed.ends_with('/') {
        Some(old)
    } else {
        old.parent().filter(|dir| !dir.as_os_str().is_empty())
    };
    match folder {
        Some(dir) => dir.join(name).display().to_string(),
        None => name,
    }
}

/// Renames `path` after `stem` ([`renamed`]) when `stem` differs from the one last proposed
/// (kept in `suggested`): a new result renames the field, while the same result leaves what
/// the user typed.
pub fn follow_name(
    path: &mut String,
    suggested: &mut Option<String>,
    stem: &str,
    default_extension: &str,
) {
    if suggested.as_deref() != Some(stem) {
        *path = renamed(path, stem, default_extension);
        *suggested = Some(stem.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stem_replaces_only_the_stem_of_what_was_typed() {
        assert_eq!(
            result_stem(&["t-SNE", "residues", "layer 33", "esm1b_t33_650M_UR50S"]),
            "t-SNE_residues_layer_33_esm1b_t33_650M_UR50S"
        );
        assert_eq!(file_stem_part(" a/b: c "), "a_b_c");
        assert_eq!(
            renamed("pca_proteins.svg", "tsne_residues", "svg"),
            "tsne_residues.svg"
        );
        assert_eq!(renamed("figs/old.png", "new", "svg"), "figs/new.png");
        assert_eq!(renamed("/tmp/x/old", "new", "csv"), "/tmp/x/new.csv");
        assert_eq!(renamed("figs/", "new", "csv"), "figs/new.csv");
        assert_eq!(renamed("", "new", "parquet"), "new.parquet");
        // The same result keeps a typed name; another result renames it.
        let (mut path, mut suggested) = ("map.svg".to_owned(), None);
        follow_name(&mut path, &mut suggested, "pca_proteins", "svg");
        assert_eq!(path, "pca_proteins.svg");
        path = "mine.png".into();
        follow_name(&mut path, &mut suggested, "pca_proteins", "svg");
        assert_eq!(path, "mine.png");
        follow_name(&mut path, &mut suggested, "tsne_residues", "svg");
        assert_eq!(path, "tsne_residues.png");
    }
}
