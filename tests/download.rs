//! Official-weight downloads against a local HTTP server on 127.0.0.1: full transfer and reuse,
//! an interrupted transfer resumed with a Range request, a bad checksum, 404, a full disk,
//! cancel, and fetching a real (tiny) checkpoint and its contact regression by model name.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use esm_workbench::analysis::JobCtx;
use esm_workbench::model::LoadedModel;
use esm_workbench::model::hub::{
    DownloadError, DownloadSpec, Fetched, OfficialModel, download, download_official, partial_path,
    sha256_file,
};

/// What the server does with a path.
#[derive(Clone)]
enum Route {
    /// Serves the bytes, honouring `Range: bytes=N-`.
    File(Vec<u8>),
    /// Announces the full length but closes after this many bytes, the first `n` times.
    CutAfter {
        bytes: Vec<u8>,
        cut: usize,
        times: usize,
    },
}

/// Every request's path and Range header.
type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct Server {
    base: String,
    log: RequestLog,
}

fn serve(routes: HashMap<String, Route>) -> std::io::Result<Server> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    let log = Arc::new(Mutex::new(Vec::new()));
    let cuts = Arc::new(AtomicUsize::new(0));
    let server_log = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (routes, log, cuts) = (routes.clone(), server_log.clone(), cuts.clone());
            std::thread::spawn(move || {
                let _ = handle(stream, &routes, &log, &cuts);
            });
        }
    });
    Ok(Server { base, log })
}

fn handle(
    mut stream: TcpStream,
    routes: &HashMap<String, Route>,
    log: &Mutex<Vec<(String, Option<String>)>>,
    cuts: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range = Some(value.trim().to_owned());
        }
    }
    if let Ok(mut l) = log.lock() {
        l.push((path.clone(), range.clone()));
    }
    let start: usize = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse().ok())
        .unwrap_or(0);
    let (bytes, cut) = match routes.get(&path) {
        None => {
            stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")?;
            return Ok(());
        }
        Some(Route::File(bytes)) => (bytes, None),
        Some(Route::CutAfter { bytes, cut, times }) => {
            let n = cuts.fetch_add(1, Ordering::SeqCst);
            (bytes, (n < *times).then_some(*cut))
        }
    };
    if start >= bytes.len() && start > 0 {
        stream.write_all(
            b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    }
    let body = &bytes[start..];
    let status = if start > 0 {
        format!(
            "206 Partial Content\r\nContent-Range: bytes {start}-{}/{}",
            bytes.len() - 1,
            bytes.len()
        )
    } else {
        "200 OK".to_owned()
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    let send = cut.map_or(body.len(), |c| c.min(body.len()));
    stream.write_all(&body[..send])?;
    stream.flush()
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn spec(server: &Server, route: &str, dir: &Path, sha256: Option<String>) -> DownloadSpec {
    DownloadSpec {
        url: format!("{}{route}", server.base),
        path: dir.join("weights.pt"),
        sha256,
    }
}

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn downloads_then_reuses_the_cached_file() -> TestResult {
    let bytes = payload(300_000);
    let server = serve(HashMap::from([(
        "/w.pt".to_owned(),
        Route::File(bytes.clone()),
    )]))?;
    let dir = tempfile::tempdir()?;
    let mut last = (0, None);
    let fetched = download(
        &spec(&server, "/w.pt", dir.path(), None),
        &JobCtx::default(),
        &mut |d, t| last = (d, t),
    )?;
    assert!(
        matches!(
            fetched,
            Fetched::Downloaded {
                resumed_from: 0,
                transferred: 300_000,
                ..
            }
        ),
        "{fetched:?}"
    );
    assert_eq!(last, (300_000, Some(300_000)));
    assert_eq!(std::fs::read(dir.path().join("weights.pt"))?, bytes);
    // The digest of the first download is recorded and checked on reuse.
    let recorded = std::fs::read_to_string(dir.path().join("weights.pt.sha256"))?;
    assert_eq!(
        recorded.trim(),
        sha256_file(&dir.path().join("weights.pt"))?
    );
    let again = download(
        &spec(&server, "/w.pt", dir.path(), None),
        &JobCtx::default(),
        &mut |_, _| {},
    )?;
    assert!(matches!(again, Fetched::Reused(_)));
    assert_eq!(
        server.log.lock().map(|l| l.len()).unwrap_or(0),
        1,
        "reuse must not touch the network"
    );
    // A cached file that no longer matches its recorded digest is refused.
    std::fs::write(dir.path().join("weights.pt"), b"corrupted")?;
    let err = download(
        &spec(&server, "/w.pt", dir.path(), None),
        &JobCtx::default(),
        &mut |_, _| {},
    );
    assert!(
        matches!(err, Err(DownloadError::Checksum { .. })),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn an_interrupted_transfer_resumes_with_a_range_request() -> TestResult {
    let bytes = payload(500_000);
    let route = Route::CutAfter {
        bytes: bytes.clone(),
        cut: 123_456,
        times: 1,
    };
    let server = serve(HashMap::from([("/w.pt".to_owned(), route)]))?;
    let dir = tempfile::tempdir()?;
    let s = spec(&server, "/w.pt", dir.path(), None);
    let err = download(&s, &JobCtx::default(), &mut |_, _| {})
        .err()
        .ok_or("the cut transfer must fail")?;
    let message = err.to_string();
    assert!(
        matches!(err, DownloadError::Network { bytes: 123_456, .. }),
        "{message}"
    );
    assert!(
        message.starts_with("could not download") && message.contains("no connection"),
        "our sentence first, the transport's text only as detail: {message}"
    );
    assert!(
        message.contains("rerun to resume")
            && message.contains("weights.pt.partial")
            && message.contains("ESM_WORKBENCH_WEIGHTS_URL"),
        "{message}"
    );
    assert_eq!(std::fs::metadata(partial_path(&s.path))?.len(), 123_456);
    assert!(
        !s.path.exists(),
        "an incomplete file never gets the final name"
    );

    let fetched = download(&s, &JobCtx::default(), &mut |_, _| {})?;
    assert_eq!(
        fetched,
        Fetched::Downloaded {
            path: s.path.clone(),
            resumed_from: 123_456,
            transferred: 500_000 - 123_456
        }
    );
    assert_eq!(std::fs::read(&s.path)?, bytes);
    assert!(!partial_path(&s.path).exists());
    let log = server.log.lock().map(|l| l.clone()).unwrap_or_default();
    assert_eq!(log[1].1.as_deref(), Some("bytes=123456-"));
    Ok(())
}

#[test]
fn a_wrong_checksum_deletes_the_file_and_a_right_one_passes() -> TestResult {
    let bytes = payload(10_000);
    let server = serve(HashMap::from([(
        "/w.pt".to_owned(),
        Route::File(bytes.clone()),
    )]))?;
    let dir = tempfile::tempdir()?;
    let wrong = "0".repeat(64);
    let s = spec(&server, "/w.pt", dir.path(), Some(wrong.clone()));
    let err = download(&s, &JobCtx::default(), &mut |_, _| {})
        .err()
        .ok_or("must fail")?;
    assert!(
        matches!(&err, DownloadError::Checksum { expected, .. } if *expected == wrong),
        "{err}"
    );
    assert!(!s.path.exists() && !partial_path(&s.path).exists());

    let tmp = dir.path().join("reference.bin");
    std::fs::write(&tmp, &bytes)?;
    let right = sha256_file(&tmp)?;
    let fetched = download(
        &spec(&server, "/w.pt", dir.path(), Some(right)),
        &JobCtx::default(),
        &mut |_, _| {},
    )?;
    assert!(matches!(fetched, Fetched::Downloaded { .. }));
    Ok(())
}

#[test]
fn not_found_is_reported_with_the_url() -> TestResult {
    let server = serve(HashMap::new())?;
    let dir = tempfile::tempdir()?;
    let err = download(
        &spec(&server, "/nope.pt", dir.path(), None),
        &JobCtx::default(),
        &mut |_, _| {},
    )
    .err()
    .ok_or("must fail")?;
    assert!(matches!(err, DownloadError::Status { status: 404, .. }));
    assert!(err.to_string().contains("/nope.pt"), "{err}");
    assert!(!dir.path().join("weights.pt").exists());
    Ok(())
}

/// The partial file is a link to /dev/full, whose writes fail with ENOSPC, the real error a
/// full disk gives.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_reported_and_keeps_the_partial_file() -> TestResult {
    let server = serve(HashMap::from([(
        "/w.pt".to_owned(),
        Route::File(payload(100_000)),
    )]))?;
    let dir = tempfile::tempdir()?;
    let s = spec(&server, "/w.pt", dir.path(), None);
    std::os::unix::fs::symlink("/dev/full", partial_path(&s.path))?;
    let err = download(&s, &JobCtx::default(), &mut |_, _| {})
        .err()
        .ok_or("must fail")?;
    assert!(matches!(err, DownloadError::DiskFull { .. }), "{err:?}");
    assert!(err.to_string().contains("disk full"), "{err}");
    assert!(!s.path.exists());
    Ok(())
}

#[test]
fn cancel_keeps_the_partial_file_for_later() -> TestResult {
    let server = serve(HashMap::from([(
        "/w.pt".to_owned(),
        Route::File(payload(1_000_000)),
    )]))?;
    let dir = tempfile::tempdir()?;
    let s = spec(&server, "/w.pt", dir.path(), None);
    let ctx = JobCtx::default();
    let stopper = ctx.clone();
    let err = download(&s, &ctx, &mut |done, _| {
        if done > 0 {
            stopper.cancel();
        }
    })
    .err()
    .ok_or("must stop")?;
    let DownloadError::Cancelled { bytes, partial } = err else {
        return Err(format!("{err:?}").into());
    };
    assert!(bytes > 0 && bytes < 1_000_000);
    assert_eq!(std::fs::metadata(&partial)?.len(), bytes);
    let fetched = download(&s, &JobCtx::default(), &mut |_, _| {})?;
    assert!(matches!(fetched, Fetched::Downloaded { resumed_from, .. } if resumed_from == bytes));
    Ok(())
}

/// A small real checkpoint served under fair-esm's layout (`models/`, `regression/`) is fetched
/// by model name and loads with its contact head.
#[test]
fn fetches_an_official_layout_by_name_and_loads_it() -> TestResult {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let weights = std::fs::read(fixtures.join("esm2_tiny_t2.pt"))?;
    let regression = std::fs::read(fixtures.join("esm2_tiny_t2-contact-regression.pt"))?;
    let model = OfficialModel::by_name("esm2_t6_8M_UR50D").ok_or("model list")?;
    let server = serve(HashMap::from([
        (
            "/fair-esm/models/esm2_t6_8M_UR50D.pt".to_owned(),
            Route::File(weights),
        ),
        (
            "/fair-esm/regression/esm2_t6_8M_UR50D-contact-regression.pt".to_owned(),
            Route::File(regression),
        ),
    ]))?;
    let cache = tempfile::tempdir()?;
    let mut files = Vec::new();
    let path = download_official(
        model,
        &format!("{}/fair-esm", server.base),
        cache.path(),
        &JobCtx::default(),
        &mut |f, d, t| {
            if Some(d) == t {
                files.push(f.to_owned());
            }
        },
    )?;
    assert_eq!(
        files,
        [
            "esm2_t6_8M_UR50D.pt",
            "esm2_t6_8M_UR50D-contact-regression.pt"
        ]
    );
    assert_eq!(path, cache.path().join("esm2_t6_8M_UR50D.pt"));
    let loaded = LoadedModel::load(&path, &candle_core::Device::Cpu)?;
    assert!(
        loaded.model.has_contact_head(),
        "the regression file sits beside the weights, as fair-esm expects"
    );
    Ok(())
}
