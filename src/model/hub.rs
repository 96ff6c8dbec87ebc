//! Official ESM weights on demand: the model list, fair-esm's download URLs and torch hub's
//! cache folder, and a resumable, checksummed download.
//!
//! fair-esm (`esm/pretrained.py` @ 2.0.0) fetches
//! `https://dl.fbaipublicfiles.com/fair-esm/models/{name}.pt` and, for models with a contact
//! head, `https://dl.fbaipublicfiles.com/fair-esm/regression/{name}-contact-regression.pt`, with
//! `torch.hub.load_state_dict_from_url`, which stores them in `$TORCH_HOME/hub/checkpoints`
//! (default `~/.cache/torch/hub/checkpoints`). We use the same folder, so files fair-esm already
//! downloaded are reused and ours are reused by fair-esm.
//!
//! A transfer writes `{file}.partial` and resumes it with an HTTP `Range` request. A finished
//! file is checked against the expected SHA-256 when one is given; fair-esm publishes none, so
//! otherwise the digest of the first complete download is recorded in `{file}.sha256` and
//! every later reuse is verified against it. Only a complete, verified file gets its final name.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::jobs::JobCtx;

/// Base URL of fair-esm's model files.
pub const FAIR_ESM_BASE_URL: &str = "https://dl.fbaipublicfiles.com/fair-esm";

/// Where official weights come from: `$ESM_WORKBENCH_WEIGHTS_URL` (a mirror with fair-esm's
/// `models/` and `regression/` layout) when set, else [`FAIR_ESM_BASE_URL`].
pub fn weights_base_url() -> String {
    std::env::var("ESM_WORKBENCH_WEIGHTS_URL").unwrap_or_else(|_| FAIR_ESM_BASE_URL.to_owned())
}

/// One downloadable model of the ESM family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficialModel {
    /// fair-esm's name, also the file stem.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Whether a `-contact-regression.pt` exists (fair-esm: not for ESM-1v).
    pub has_contact_regression: bool,
}

/// The models fair-esm 2.0.0 serves (sequence models only).
pub const OFFICIAL_MODELS: &[OfficialModel] = &[
    OfficialModel {
        name: "esm1b_t33_650M_UR50S",
        description: "ESM-1b, 33 layers, 650M (Rives et al. 2021)",
        has_contact_regression: true,
    },
    OfficialModel {
        name: "esm1v_t33_650M_UR90S_1",
        description: "ESM-1v seed 1, variant effects (Meier et al. 2021)",
        has_contact_regression: false,
    },
    OfficialModel {
        name: "esm1v_t33_650M_UR90S_2",
        description: "ESM-1v seed 2",
        has_contact_regression: false,
    },
    OfficialModel {
        name: "esm1v_t33_650M_UR90S_3",
        description: "ESM-1v seed 3",
        has_contact_regression: false,
    },
    OfficialModel {
        name: "esm1v_t33_650M_UR90S_4",
        description: "ESM-1v seed 4",
        has_contact_regression: false,
    },
    OfficialModel {
        name: "esm1v_t33_650M_UR90S_5",
        description: "ESM-1v seed 5",
        has_contact_regression: false,
    },
    OfficialModel {
        name: "esm2_t6_8M_UR50D",
        description: "ESM-2, 6 layers, 8M (Lin et al. 2023)",
        has_contact_regression: true,
    },
    OfficialModel {
        name: "esm2_t12_35M_UR50D",
        description: "ESM-2, 12 layers, 35M",
        has_contact_regression: true,
    },
    OfficialModel {
        name: "esm2_t30_150M_UR50D",
        description: "ESM-2, 30 layers, 150M",
        has_contact_regression: true,
    },
    OfficialModel {
        name: "esm2_t33_650M_UR50D",
        description: "ESM-2, 33 layers, 650M",
        has_contact_regression: true,
    },
    OfficialModel {
        name: "esm2_t36_3B_UR50D",
        description: "ESM-2, 36 layers, 3B",
        has_contact_regression: true,
    },
    OfficialModel {
        name: "esm2_t48_15B_UR50D",
        description: "ESM-2, 48 layers, 15B (needs ~60 GB RAM)",
        has_contact_regression: true,
    },
];

impl OfficialModel {
    /// Looks a model up by fair-esm name.
    pub fn by_name(name: &str) -> Option<&'static OfficialModel> {
        OFFICIAL_MODELS.iter().find(|m| m.name == name)
    }

    /// `(file name, URL)` of the weights and, when present, the contact regression, under
    /// `base_url` (normally [`FAIR_ESM_BASE_URL`]).
    pub fn files(&self, base_url: &str) -> Vec<(String, String)> {
        let base = base_url.trim_end_matches('/');
        let mut files = vec![(
            format!("{}.pt", self.name),
            format!("{base}/models/{}.pt", self.name),
        )];
        if self.has_contact_regression {
            let file = format!("{}-contact-regression.pt", self.name);
            files.push((file.clone(), format!("{base}/regression/{file}")));
        }
        files
    }
}

/// torch hub's checkpoint folder: `$TORCH_HOME/hub/checkpoints`, else
/// `$XDG_CACHE_HOME/torch/hub/checkpoints`, else `~/.cache/torch/hub/checkpoints`.
pub fn torch_hub_checkpoints_dir() -> PathBuf {
    let torch_home = std::env::var_os("TORCH_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"))
                .join("torch")
        });
    torch_home.join("hub").join("checkpoints")
}

/// What went wrong with a download.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The server answered with an error status.
    #[error(
        "the server refused the download (HTTP {status}): {url} is not there or not allowed; check the model name, or ESM_WORKBENCH_WEIGHTS_URL if a mirror is set"
    )]
    Status {
        /// The status code.
        status: u16,
        /// The URL.
        url: String,
    },
    /// The connection failed or broke off; the partial file is kept for resuming.
    #[error(
        "could not download {url}: no connection to the server (offline, or the server is down); \
         {bytes} bytes are kept in {}, rerun to resume. Without network: copy the checkpoint into \
         {} (it is found there), or set ESM_WORKBENCH_WEIGHTS_URL to a mirror. Detail: {message}",
        partial.display(),
        partial.parent().unwrap_or(partial).display()
    )]
    Network {
        /// The URL.
        url: String,
        /// What the transport said.
        message: String,
        /// Bytes saved so far.
        bytes: u64,
        /// The partial file.
        partial: PathBuf,
    },
    /// The file arrived but its SHA-256 is not the expected one; it was deleted.
    #[error("checksum mismatch for {url}: expected sha256 {expected}, got {actual}; the file was deleted: {}", path.display())]
    Checksum {
        /// The URL.
        url: String,
        /// Expected digest (hex).
        expected: String,
        /// Actual digest (hex).
        actual: String,
        /// Where the file was.
        path: PathBuf,
    },
    /// The disk filled up; the partial file is kept for resuming once space is freed.
    #[error("disk full after {bytes} bytes (free some space and rerun to resume): {}", path.display())]
    DiskFull {
        /// Bytes written.
        bytes: u64,
        /// The partial file.
        path: PathBuf,
    },
    /// A local file could not be written or read.
    #[error("cannot write or read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The user stopped the transfer; the partial file is kept.
    #[error("download cancelled ({bytes} bytes kept in {}, rerun to resume)", partial.display())]
    Cancelled {
        /// Bytes saved so far.
        bytes: u64,
        /// The partial file.
        partial: PathBuf,
    },
}

/// One file to fetch.
#[derive(Debug, Clone)]
pub struct DownloadSpec {
    /// Source URL.
    pub url: String,
    /// Final path (the `.partial` and `.sha256` files live beside it).
    pub path: PathBuf,
    /// Expected SHA-256 (hex), when known.
    pub sha256: Option<String>,
}

/// How a download ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The file was already complete and verified; nothing was transferred.
    Reused(PathBuf),
    /// The file was transferred (`resumed_from` bytes were already there).
    Downloaded {
        /// The file.
        path: PathBuf,
        /// Bytes kept from an earlier partial transfer.
        resumed_from: u64,
        /// Bytes transferred now.
        transferred: u64,
    },
}

impl Fetched {
    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            Self::Reused(p) | Self::Downloaded { path: p, .. } => p,
        }
    }
}

/// Fetches `spec` (or reuses it), reporting progress in bytes through `on_bytes(done, total)`
/// and stopping when `ctx` is cancelled.
pub fn download(
    spec: &DownloadSpec,
    ctx: &JobCtx,
    on_bytes: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Fetched, DownloadError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DownloadError::Io { path, source }
    };
    if spec.path.is_file() {
        return reuse_verified(spec);
    }
    if let Some(parent) = spec.path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let partial = partial_path(&spec.path);
    let already = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
    let mut request = http_agent().get(&spec.url);
    if already > 0 {
        request = request.header("Range", format!("bytes={already}-"));
    }
    let network = |message: String, bytes: u64| DownloadError::Network {
        url: spec.url.clone(),
        message,
        bytes,
        partial: partial.clone(),
    };
    let response = request
        .call()
        .map_err(|e| network(e.to_string(), already))?;
    let status = response.status().as_u16();
    let content_length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let resume_from = match status {
        206 => already,
        200 => 0,
        // The partial file already holds everything the server has.
        416 if already > 0 => already,
        _ => {
            return Err(DownloadError::Status {
                status,
                url: spec.url.clone(),
            });
        }
    };
    let total = if status == 416 {
        Some(already)
    } else {
        content_length.map(|n| n + resume_from)
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resume_from > 0)
        .truncate(resume_from == 0)
        .open(&partial)
        .map_err(io(&partial))?;
    let mut done = resume_from;
    on_bytes(done, total);
    if status != 416 {
        let mut body = response.into_body().into_reader();
        let received = BodyCopy {
            url: &spec.url,
            partial: &partial,
            total,
        };
        done = received.copy(&mut body, &mut file, done, ctx, on_bytes)?;
    }
    file.sync_all().map_err(io(&partial))?;
    drop(file);
    if let Some(t) = total
        && done < t
    {
        return Err(network(
            format!("connection closed after {done} of {t} bytes"),
            done,
        ));
    }
    install_verified(spec, &partial)?;
    Ok(Fetched::Downloaded {
        path: spec.path.clone(),
        resumed_from: resume_from,
        transferred: done - resume_from,
    })
}

/// An existing file at the download's path, checked against the expected checksum (or the one
/// recorded beside it when the spec has none; recorded now if there is neither).
fn reuse_verified(spec: &DownloadSpec) -> Result<Fetched, DownloadError> {
    let actual = sha256_file(&spec.path)?;
    let recorded = std::fs::read_to_string(sidecar(&spec.path))
        .ok()
        .map(|s| s.trim().to_owned());
    match spec.sha256.as_ref().or(recorded.as_ref()) {
        Some(expected) if !expected.eq_ignore_ascii_case(&actual) => {
            return Err(DownloadError::Checksum {
                url: spec.url.clone(),
                expected: expected.clone(),
                actual,
                path: spec.path.clone(),
            });
        }
        Some(_) => {}
        None => write_checksum(&spec.path, &actual)?,
    }
    Ok(Fetched::Reused(spec.path.clone()))
}

/// Checks the complete `partial` file against the expected checksum (a mismatch deletes it:
/// resuming a corrupt file cannot help), records its checksum beside the final path and moves
/// it there.
fn install_verified(spec: &DownloadSpec, partial: &Path) -> Result<(), DownloadError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DownloadError::Io { path, source }
    };
    let actual = sha256_file(partial)?;
    if let Some(expected) = &spec.sha256
        && !expected.eq_ignore_ascii_case(&actual)
    {
        std::fs::remove_file(partial).map_err(io(partial))?;
        return Err(DownloadError::Checksum {
            url: spec.url.clone(),
            expected: expected.clone(),
            actual,
            path: spec.path.clone(),
        });
    }
    write_checksum(&spec.path, &actual)?;
    std::fs::rename(partial, &spec.path).map_err(io(&spec.path))
}

/// Records `checksum` beside the checkpoint `path` (atomically, like every file we write).
fn write_checksum(path: &Path, checksum: &str) -> Result<(), DownloadError> {
    crate::atomic_write::write_atomic(&sidecar(path), |w| {
        use std::io::Write as _;
        writeln!(w, "{checksum}")
    })
    .map_err(|e| DownloadError::Io {
        path: e.path,
        source: e.source,
    })
}

/// The HTTP client: statuses come back as responses (206 and 416 matter), 30 s to connect and
/// 60 s to the first response byte.
fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .user_agent(concat!("esm-workbench/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// A response body being appended to the partial file.
struct BodyCopy<'a> {
    url: &'a str,
    partial: &'a Path,
    /// The whole file's size when the server said it.
    total: Option<u64>,
}

impl BodyCopy<'_> {
    /// Appends `body` to `file` (which holds `done` bytes) in 64 KiB chunks, reporting bytes
    /// and checking for Cancel after each; returns the bytes now in the file. A cancelled copy
    /// flushes what it has, for a later resume.
    fn copy(
        &self,
        body: &mut impl Read,
        file: &mut std::fs::File,
        mut done: u64,
        ctx: &JobCtx,
        on_bytes: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<u64, DownloadError> {
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = match body.read(&mut buffer) {
                Ok(0) => return Ok(done),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(DownloadError::Network {
                        url: self.url.to_owned(),
                        message: e.to_string(),
                        bytes: done,
                        partial: self.partial.to_owned(),
                    });
                }
            };
            write_chunk(file, &buffer[..n], self.partial, done)?;
            done += n as u64;
            on_bytes(done, self.total);
            let fraction = self.total.map_or(0.0, |t| done as f32 / t.max(1) as f32);
            if ctx.checkpoint(fraction).is_err() {
                file.flush().map_err(|source| DownloadError::Io {
                    path: self.partial.to_owned(),
                    source,
                })?;
                return Err(DownloadError::Cancelled {
                    bytes: done,
                    partial: self.partial.to_owned(),
                });
            }
        }
    }
}

/// Fetches a model's weights (and contact regression) into `dir` from `base_url`; returns the
/// path of the `.pt` file, ready for [`super::LoadedModel::load`].
pub fn download_official(
    model: &OfficialModel,
    base_url: &str,
    dir: &Path,
    ctx: &JobCtx,
    on_file: &mut dyn FnMut(&str, u64, Option<u64>),
) -> Result<PathBuf, DownloadError> {
    let mut weights = None;
    for (file, url) in model.files(base_url) {
        let spec = DownloadSpec {
            url,
            path: dir.join(&file),
            sha256: None,
        };
        let fetched = download(&spec, ctx, &mut |done, total| on_file(&file, done, total))?;
        weights.get_or_insert_with(|| fetched.path().to_owned());
    }
    weights.ok_or_else(|| DownloadError::Io {
        path: dir.to_owned(),
        source: std::io::Error::other("no files to fetch"),
    })
}

/// Whether `model`'s weights are already in `dir`.
pub fn is_cached(model: &OfficialModel, dir: &Path) -> bool {
    model
        .files(FAIR_ESM_BASE_URL)
        .iter()
        .all(|(file, _)| dir.join(file).is_file())
}

fn write_chunk(
    file: &mut std::fs::File,
    bytes: &[u8],
    partial: &Path,
    done: u64,
) -> Result<(), DownloadError> {
    file.write_all(bytes).map_err(|source| {
        if source.kind() == std::io::ErrorKind::StorageFull {
            DownloadError::DiskFull {
                bytes: done,
                path: partial.to_owned(),
            }
        } else {
            DownloadError::Io {
                path: partial.to_owned(),
                source,
            }
        }
    })
}

/// `{file}.partial`.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// `{file}.sha256`.
fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".sha256");
    path.with_file_name(name)
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, DownloadError> {
    let mut file = std::fs::File::open(path).map_err(|source| DownloadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|source| DownloadError::Io {
            path: path.to_owned(),
            source,
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_cache_folder_follow_fair_esm_and_torch_hub() {
        let m = OfficialModel::by_name("esm1b_t33_650M_UR50S").map(|m| m.files(FAIR_ESM_BASE_URL));
        assert_eq!(
            m,
            Some(vec![
                ("esm1b_t33_650M_UR50S.pt".into(), "https://dl.fbaipublicfiles.com/fair-esm/models/esm1b_t33_650M_UR50S.pt".into()),
                (
                    "esm1b_t33_650M_UR50S-contact-regression.pt".into(),
                    "https://dl.fbaipublicfiles.com/fair-esm/regression/esm1b_t33_650M_UR50S-contact-regression.pt".into()
                ),
            ])
        );
        assert_eq!(
            OfficialModel::by_name("esm1v_t33_650M_UR90S_1").map(|m| m.files("x").len()),
            Some(1)
        );
        assert!(torch_hub_checkpoints_dir().ends_with("hub/checkpoints"));
    }
}
