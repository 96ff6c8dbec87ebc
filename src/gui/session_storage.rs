//! The session in eframe's own storage (restored at start, saved at exit): this build's JSON
//! under [`SESSION_KEY`], else the RON settings of a build before the app shell
//! ([`super::legacy_settings`]), else none (a first run).

use super::legacy_settings::{LEGACY_SETTINGS_KEY, legacy_session};
use super::session::Session;

/// The app's storage key: the session as JSON text (the same as a session file).
pub const SESSION_KEY: &str = "esm_workbench_session";

/// The stored session. Unreadable settings start afresh, with a notice saying so (the second
/// value).
pub fn stored_session(storage: Option<&dyn eframe::Storage>) -> (Session, Option<String>) {
    let stored = |key: &str| storage.and_then(|s| s.get_string(key));
    let parsed = if let Some(json) = stored(SESSION_KEY) {
        serde_json::from_str(&json).map_err(|e| e.to_string())
    } else if let Some(ron_text) = stored(LEGACY_SETTINGS_KEY) {
        legacy_session(&ron_text).map_err(|e| e.to_string())
    } else {
        Ok(Session::default())
    };
    match parsed {
        Ok(session) => (session, None),
        Err(error) => {
            let notice = format!(
                "The settings saved by the last run could not be read ({error}); \
                 the app starts with its defaults."
            );
            tracing::warn!("{notice}");
            (Session::default(), Some(notice))
        }
    }
}

/// Stores `session`; the earlier builds' settings, carried into it, are no longer kept.
pub fn store_session(storage: &mut dyn eframe::Storage, session: &Session) {
    if let Ok(json) = serde_json::to_string(session) {
        storage.set_string(SESSION_KEY, json);
        storage.remove_string(LEGACY_SETTINGS_KEY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eframe::Storage as _;

    /// eframe's storage as a map of strings (what its file storage keeps).
    #[derive(Default)]
    struct MemoryStorage(std::collections::HashMap<String, String>);

    impl eframe::Storage for MemoryStorage {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn the_stored_session_is_this_builds_else_the_earlier_builds_else_a_first_run() {
        let loaded = |storage: &MemoryStorage| {
            let (session, notice) = stored_session(Some(storage));
            (session.shell.loaded_model, session.tab, notice)
        };
        let mut storage = MemoryStorage::default();
        assert_eq!(loaded(&storage), (None, String::new(), None), "first run");
        storage.set_string(
            LEGACY_SETTINGS_KEY,
            "(loaded_model: Some(\"/old.pt\"), tab: Map)".into(),
        );
        assert_eq!(
            loaded(&storage),
            (Some("/old.pt".into()), "Map".into(), None)
        );
        storage.set_string(SESSION_KEY, r#"{"loaded_model": "/new.pt"}"#.into());
        assert_eq!(loaded(&storage).0, Some("/new.pt".into()));

        storage.set_string(SESSION_KEY, "not json".into());
        let (model, _, notice) = loaded(&storage);
        assert_eq!(model, None, "unreadable: the defaults");
        let notice = notice.expect("an unreadable session is reported");
        assert!(notice.contains("could not be read (expected"), "{notice}");
        storage.remove_string(SESSION_KEY);
        storage.set_string(LEGACY_SETTINGS_KEY, "(tab: NoSuchTab)".into());
        assert!(
            loaded(&storage).2.is_some(),
            "unreadable earlier settings are reported"
        );

        store_session(&mut storage, &Session::default());
        assert!(storage.get_string(SESSION_KEY).is_some());
        assert!(
            storage.get_string(LEGACY_SETTINGS_KEY).is_none(),
            "carried over, no longer kept"
        );
    }
}
