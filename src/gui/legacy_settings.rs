//! The settings that builds before the app shell saved in the app's own storage: RON text of
//! their `Settings` under [`LEGACY_SETTINGS_KEY`]. That layout is frozen here, field for field,
//! and converted into a [`Session`]: the first start after an update keeps the user's model,
//! data, output folder, open tab and every view's settings.

use super::aa_groups_panel::AaGroupsSettings;
use super::contacts_view::ContactSettings;
use super::homology_view::HomologySettings;
use super::map_view::MapSettings;
use super::output_folder::OutputFolder;
use super::session::{DATA_TAB, Session, ShellSettings};
use super::ss8_view::Ss8Settings;
use super::view_slot::{ViewSettings, put_setting};

/// The storage key of builds before the app shell.
pub const LEGACY_SETTINGS_KEY: &str = "esm_workbench_settings";

/// The tabs of builds before the app shell; their names are the views' ids now.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
enum LegacyTab {
    #[default]
    Data,
    Map,
    SecondaryStructure,
    Contacts,
    Homology,
}

impl LegacyTab {
    /// The tab id of this build.
    fn id(self) -> String {
        match self {
            Self::Data => DATA_TAB.to_owned(),
            other => format!("{other:?}"),
        }
    }
}

/// `Settings` as builds before the app shell stored it (RON). RON writes enum variants as bare
/// names, which JSON cannot hold, so the layout is read typed, not through a JSON value.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct LegacySettings {
    model_path: String,
    loaded_model: Option<std::path::PathBuf>,
    data_paths: String,
    opened_data: Vec<std::path::PathBuf>,
    tab: LegacyTab,
    map: MapSettings,
    colour_by: String,
    aa_groups: AaGroupsSettings,
    ss8: Ss8Settings,
    contacts: ContactSettings,
    homology: HomologySettings,
    results: Vec<LegacyTab>,
    output_folder: OutputFolder,
    welcome_dismissed: bool,
}

/// The session an earlier build saved as `ron_text`, under the keys its views use now (the
/// keys a session file of that time had).
pub fn legacy_session(ron_text: &str) -> Result<Session, ron::error::SpannedError> {
    let old: LegacySettings = ron::from_str(ron_text)?;
    let mut views = ViewSettings::new();
    put_setting(&mut views, "map", &old.map);
    put_setting(&mut views, "colour_by", &old.colour_by);
    put_setting(&mut views, "aa_groups", &old.aa_groups);
    put_setting(&mut views, "ss8", &old.ss8);
    put_setting(&mut views, "contacts", &old.contacts);
    put_setting(&mut views, "homology", &old.homology);
    Ok(Session {
        shell: ShellSettings {
            model_path: old.model_path,
            loaded_model: old.loaded_model,
            data_paths: old.data_paths,
            opened_data: old.opened_data,
            output_folder: old.output_folder,
            welcome_dismissed: old.welcome_dismissed,
            ..ShellSettings::default()
        },
        tab: old.tab.id(),
        results: old.results.into_iter().map(LegacyTab::id).collect(),
        views,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app storage file (`app.ron`) that the build before the app shell wrote after a
    /// session on the 652M checkpoint: a RON map of strings, as eframe's file storage keeps it.
    fn stored_by_the_earlier_build() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/legacy/eframe_app_before_app_shell.ron"
        );
        let text = std::fs::read_to_string(path).expect("the fixture exists");
        let storage: std::collections::HashMap<String, String> =
            ron::from_str(&text).expect("eframe's storage is a RON map of strings");
        storage[LEGACY_SETTINGS_KEY].clone()
    }

    #[test]
    fn settings_an_earlier_build_stored_restore_as_a_session() {
        let session = legacy_session(&stored_by_the_earlier_build()).expect("it converts");
        let model = std::path::Path::new("/work/big/ref/esm1b/esm1b_t33_650M_random.pt");
        assert_eq!(session.shell.loaded_model.as_deref(), Some(model));
        assert_eq!(session.shell.model_path, model.display().to_string());
        assert_eq!(session.shell.output_folder.0, "/work/big/gui652/outputs");
        assert_eq!(session.tab, "SecondaryStructure");
        assert_eq!(session.views["ss8"]["max_train"], 200);
        assert_eq!(session.views["ss8"]["layers"], "All");
        assert_eq!(session.views["map"]["method"], "Tsne");
        assert_eq!(session.views["map"]["store"]["dtype"], "f32");
    }

    /// Each part of the earlier settings is some view's own: restored, and saved again, every
    /// key comes back with the value the earlier build stored.
    #[test]
    fn every_view_takes_its_part_of_the_earlier_settings() {
        let session = legacy_session(&stored_by_the_earlier_build()).expect("it converts");
        let mut saved_again = ViewSettings::new();
        for mut view in crate::gui::view_registry::registered_views() {
            assert_eq!(
                view.restore_settings(&session.views),
                Ok(()),
                "{}",
                view.id()
            );
            view.save_settings(&mut saved_again);
        }
        for (key, value) in &session.views {
            assert_eq!(
                saved_again.get(key),
                Some(value),
                "the view that keeps {key:?}"
            );
        }
    }

    #[test]
    fn text_that_is_not_ron_is_an_error_not_a_panic() {
        assert!(legacy_session("(model_path: \"unterminated").is_err());
        assert!(legacy_session("(tab: NoSuchTab)").is_err());
    }
}
