//! Writing one result file off the UI thread: the write runs on a named worker thread and its
//! outcome ("wrote PATH" or the error) is collected without blocking; an existing file is
//! replaced only after a second click. Shared by the figure and table export rows.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};

use eframe::egui;

/// Asks before a file is replaced: the first attempt on an existing path only warns, a second
/// attempt on the same path goes ahead.
#[derive(Debug, Default)]
pub struct OverwriteGuard {
    /// The existing path the user was warned about.
    warned: Option<PathBuf>,
}

impl OverwriteGuard {
    /// `Ok` when `path` may be written now; otherwise the warning to show.
    pub fn check(&mut self, path: &std::path::Path) -> Result<(), String> {
        if path.exists() && self.warned.as_deref() != Some(path) {
            self.warned = Some(path.to_owned());
            return Err(format!(
                "{} exists: click again to overwrite",
                path.display()
            ));
        }
        self.warned = None;
        Ok(())
    }
}

/// One export row's write: the guard, the running write and the last outcome.
#[derive(Debug, Default)]
pub struct BackgroundWrite {
    /// A second click replaces an existing file.
    overwrite: OverwriteGuard,
    /// The running write.
    pending: Option<Receiver<Result<PathBuf, String>>>,
    /// The last outcome, shown beside the button.
    pub message: Option<String>,
}

impl BackgroundWrite {
    /// Forgets the last outcome ("wrote …" no longer describes what is shown).
    pub fn forget_message(&mut self) {
        self.message = None;
    }

    /// Starts `write(path)` on a thread called `thread_name`, unless the file exists and the
    /// user has not confirmed by clicking again. `name` resolves against the output folder
    /// (see [`super::output_folder`]); missing folders above it are created.
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        thread_name: &str,
        write: impl FnOnce(&Path) -> Result<(), String> + Send + 'static,
    ) {
        let path = super::output_folder::resolve(ctx, name);
        if let Err(warning) = self.overwrite.check(&path) {
            self.message = Some(warning);
            return;
        }
        self.start_replacing(ctx, path, thread_name, write);
    }

    /// Starts `write(path)` on a thread without asking first (a file the app owns, such as the
    /// session, which each save replaces).
    pub fn start_replacing(
        &mut self,
        ctx: &egui::Context,
        path: PathBuf,
        thread_name: &str,
        write: impl FnOnce(&Path) -> Result<(), String> + Send + 'static,
    ) {
        let (tx, rx) = sync_channel(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || {
                let written = super::output_folder::create_parent(&path)
                    .and_then(|()| write(&path))
                    .map(|()| path);
                let _ = tx.send(written);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.pending = Some(rx);
                self.message = Some("saving…".into());
            }
            Err(e) => self.message = Some(format!("cannot start saving: {e}")),
        }
    }

    /// Collects a finished write (non-blocking).
    pub fn poll(&mut self) {
        if let Some(rx) = &self.pending
            && let Ok(result) = rx.try_recv()
        {
            self.pending = None;
            self.message = Some(match result {
                Ok(path) => format!("wrote {}", path.display()),
                Err(e) => e,
            });
        }
    }

    /// Whether a write is in progress.
    pub fn is_running(&self) -> bool {
        self.pending.is_some()
    }
}
