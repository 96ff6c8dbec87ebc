//! Runs a job on a worker thread while a terminal progress bar (with ETA) polls its [`JobCtx`].

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::analysis::JobCtx;

/// Runs `job` on a named thread, drawing `ctx`'s progress until it finishes.
pub fn with_progress_bar<T: Send + 'static>(
    label: &str,
    job: impl FnOnce(JobCtx) -> T + Send + 'static,
) -> anyhow::Result<T> {
    with_progress_bar_and_log(label, JobCtx::default(), move |ctx, _| job(ctx))
}

/// Like [`with_progress_bar`], with a given `ctx` (e.g. cancelled on Ctrl-C) and a [`Log`] the
/// job prints lines through without tearing the bar.
pub fn with_progress_bar_and_log<T: Send + 'static>(
    label: &str,
    ctx: JobCtx,
    job: impl FnOnce(JobCtx, Log) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% {elapsed_precise} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(label.to_owned());
    let worker_ctx = ctx.clone();
    let log = Log(bar.clone());
    let handle = std::thread::Builder::new()
        .name(label.to_owned())
        .spawn(move || job(worker_ctx, log))?;
    while !handle.is_finished() {
        bar.set_position((ctx.progress() * 1000.0) as u64);
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.set_position((ctx.progress() * 1000.0) as u64);
    bar.finish();
    handle
        .join()
        .map_err(|_| anyhow::anyhow!("{label} panicked"))
}

/// Prints lines above a progress bar.
#[derive(Clone)]
pub struct Log(ProgressBar);

impl Log {
    /// Prints one line (to stderr when the bar is hidden).
    pub fn line(&self, text: impl AsRef<str>) {
        if self.0.is_hidden() {
            eprintln!("{}", text.as_ref());
        } else {
            self.0.println(text.as_ref());
        }
    }
}

/// A job context that Ctrl-C cancels (finished work, such as stored batches, is kept).
pub fn cancellable_on_ctrl_c() -> anyhow::Result<JobCtx> {
    use anyhow::Context as _;
    let ctx = JobCtx::default();
    let stopper = ctx.clone();
    ctrlc::set_handler(move || stopper.cancel()).context("installing the Ctrl-C handler")?;
    Ok(ctx)
}

/// Prints a study's estimate on stderr and refuses what would not fit, before any work.
pub fn announce_estimate(
    estimate: &crate::analysis::study_estimate::StudyEstimate,
) -> anyhow::Result<()> {
    eprintln!("{}", estimate.summary());
    Ok(estimate.check_resources()?)
}
