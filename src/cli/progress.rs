//! Runs a job on a worker thread while a terminal progress bar (with ETA) polls its [`JobCtx`].

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::analysis::JobCtx;

/// Runs `job` on a named thread, drawing `ctx`'s progress until it finishes.
pub fn with_progress_bar<T: Send + 'static>(
    label: &str,
    job: impl FnOnce(JobCtx) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let ctx = JobCtx::default();
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% {elapsed_precise} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(label.to_owned());
    let worker_ctx = ctx.clone();
    let handle = std::thread::Builder::new()
        .name(label.to_owned())
        .spawn(move || job(worker_ctx))?;
    while !handle.is_finished() {
        bar.set_position((ctx.progress() * 1000.0) as u64);
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.set_position((ctx.progress() * 1000.0) as u64);
    bar.finish();
    handle.join().map_err(|_| anyhow::anyhow!("{label} panicked"))
}
