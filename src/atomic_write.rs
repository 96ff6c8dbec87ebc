//! The one atomic write every writer uses (figures, tables, probes, checkpoints, extracted
//! embeddings, training outputs): the content goes to `<file name>.partial` beside the target,
//! is synced to disk, renamed over the target, and the folder is synced, so a reader never
//! sees half a file, a crash or a full disk leaves any previous file untouched, and a finished
//! write survives a power cut.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A write that failed; the target was left as it was.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", crate::io_reason::writing(source), path.display())]
pub struct AtomicWriteError {
    /// The target file.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// The temporary file a write of `path` goes through: `<file name>.partial` beside it.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// Writes `path` by `write`, which writes the file at the path it is given (the partial file),
/// then syncs and renames it into place.
pub fn write_atomic_at(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<(), AtomicWriteError> {
    let fail = |source| AtomicWriteError {
        path: path.to_owned(),
        source,
    };
    match path.metadata() {
        Ok(meta) if meta.is_dir() => {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "the target is a folder",
            )));
        }
        // A device or pipe (/dev/stdout, /dev/full) is written in place, never replaced.
        Ok(meta) if !meta.is_file() => return write_through_temp(path, write).map_err(fail),
        _ => {}
    }
    let partial = partial_path(path);
    let result = write(&partial)
        .and_then(|()| std::fs::File::open(&partial)?.sync_all())
        .and_then(|()| std::fs::rename(&partial, path));
    if let Err(source) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(fail(source));
    }
    sync_folder(path);
    Ok(())
}

/// Writes a device or pipe: `write` fills a temporary file (writers that buffer may drop a
/// failed flush), which is then copied into `path`, so a full device is reported.
fn write_through_temp(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let temp = temp_file_name();
    let result = write(&temp).and_then(|()| {
        let mut target = std::fs::OpenOptions::new().write(true).open(path)?;
        std::io::copy(&mut std::fs::File::open(&temp)?, &mut target)?;
        target.flush()
    });
    let _ = std::fs::remove_file(&temp);
    result
}

/// A fresh file name in the system's temporary folder.
fn temp_file_name() -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "esm-workbench-{}-{stamp}.partial",
        std::process::id()
    ))
}

/// Writes `path` through a buffered writer (see [`write_atomic_at`]).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), AtomicWriteError> {
    write_atomic_at(path, |partial| {
        let mut writer = std::io::BufWriter::new(std::fs::File::create(partial)?);
        write(&mut writer)?;
        writer.flush()
    })
}

/// Writes `bytes` to `path` (see [`write_atomic_at`]).
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// Syncs the folder holding `path`, so the rename itself is on disk (best effort: some file
/// systems cannot open a folder for syncing).
fn sync_folder(path: &Path) {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_partial() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("table.csv");
        write_bytes_atomic(&target, b"old")?;
        let err = write_atomic(&target, |_| Err(std::io::Error::other("encoder failed")))
            .expect_err("the writer failed");
        assert!(err.to_string().contains("table.csv"), "{err}");
        assert_eq!(std::fs::read(&target)?, b"old");
        assert!(!partial_path(&target).exists());
        write_bytes_atomic(&target, b"new")?;
        assert_eq!(std::fs::read(&target)?, b"new");
        Ok(())
    }

    /// A device is written in place (never replaced by a renamed file): /dev/full reports a
    /// full disk and stays a device.
    #[test]
    fn a_full_disk_says_so_and_a_device_is_never_replaced() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "SKIPPED: no /dev/full on this machine");
            return;
        }
        let err = write_bytes_atomic(full, b"x").expect_err("cannot write there");
        assert!(
            err.to_string()
                .starts_with("cannot write (the disk is full)"),
            "{err}"
        );
        assert!(full.metadata().is_ok_and(|m| !m.is_file()));
        assert!(!partial_path(full).exists());
    }
}
