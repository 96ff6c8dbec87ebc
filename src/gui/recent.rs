//! Recent data sets and models: what loaded last, newest first, kept in the session so that a
//! set or model used before is one click away (the bundled demo set and starter model always
//! are, by their own buttons).

use std::path::{Path, PathBuf};

use eframe::egui;

/// How many entries each list keeps.
pub const RECENT_MAX: usize = 8;

/// Puts `item` first in `list` (moving it up when it is there already), keeping at most
/// [`RECENT_MAX`] entries.
pub fn remember<T: PartialEq>(list: &mut Vec<T>, item: T) {
    list.retain(|x| *x != item);
    list.insert(0, item);
    list.truncate(RECENT_MAX);
}

/// A menu entry's text: the file names of `paths` (folders included) joined by " + ".
pub fn entry_text(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| file_name(p))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A "Recent `id`…" menu of `entries` (each a list of paths, shown by [`entry_text`], their full
/// paths on hover); returns the entry picked. Disabled while the list is empty.
pub fn recent_menu_ui<'a>(
    ui: &mut egui::Ui,
    id: &str,
    entries: impl ExactSizeIterator<Item = &'a [PathBuf]>,
) -> Option<Vec<PathBuf>> {
    let mut picked = None;
    let title = format!("Recent {id}…");
    // A plain disabled button while empty: a disabled scope around the menu would not wrap
    // with the row it sits in.
    if entries.len() == 0 {
        ui.add_enabled(false, egui::Button::new(title))
            .on_disabled_hover_text(format!("No {id} used yet"));
        return None;
    }
    let menu = ui.menu_button(title, |ui| {
        for paths in entries {
            let full: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            if ui
                .button(entry_text(paths))
                .on_hover_text(full.join("\n"))
                .clicked()
            {
                picked = Some(paths.to_vec());
                ui.close();
            }
        }
    });
    menu.response
        .on_hover_text(format!("Open one of the last {RECENT_MAX} {id} again"));
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_comes_first_once_and_the_list_stays_short() {
        let mut list = Vec::new();
        for k in 0..10 {
            remember(&mut list, k);
        }
        assert_eq!(list, vec![9, 8, 7, 6, 5, 4, 3, 2]);
        remember(&mut list, 5);
        assert_eq!(list, vec![5, 9, 8, 7, 6, 4, 3, 2]);
        assert_eq!(
            entry_text(&["/d/a.fasta".into(), "/d/labels.tsv".into()]),
            "a.fasta + labels.tsv"
        );
    }
}
