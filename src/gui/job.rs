//! A background job as the UI sees it: running (with progress and cancel), done, or failed while
//! keeping the previous result.

use std::sync::mpsc::{Receiver, sync_channel};

use eframe::egui;

use crate::analysis::JobCtx;

/// State of a job's result.
pub enum JobState<T> {
    /// Nothing requested yet.
    Idle,
    /// Running on a worker thread.
    Running {
        /// Delivers the result once.
        rx: Receiver<anyhow::Result<T>>,
        /// Progress and cancellation.
        ctx: JobCtx,
        /// The last good result, shown meanwhile.
        previous: Option<T>,
    },
    /// Finished.
    Done(T),
    /// Failed; the previous result (if any) is kept.
    Failed {
        /// What went wrong (shown with `{:#}`).
        err: anyhow::Error,
        /// The last good result.
        previous: Option<T>,
    },
}

/// A job slot holding at most one running computation.
pub struct Job<T> {
    /// Current state.
    pub state: JobState<T>,
}

impl<T> Default for Job<T> {
    fn default() -> Self {
        Self {
            state: JobState::Idle,
        }
    }
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a named thread; `wake` is called on progress and completion
    /// (the GUI passes `request_repaint`).
    pub fn spawn(
        &mut self,
        name: &str,
        wake: impl Fn() + Send + Sync + 'static,
        work: impl FnOnce(&JobCtx) -> anyhow::Result<T> + Send + 'static,
    ) {
        let wake = std::sync::Arc::new(wake);
        let waker = wake.clone();
        let ctx = JobCtx::new(move || waker());
        let (tx, rx) = sync_channel(1);
        let worker_ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let result = work(&worker_ctx);
                // The receiver may be gone if the job was replaced; nothing to do then.
                let _ = tx.send(result);
                wake();
            });
        let previous = self.take_result();
        self.state = match spawned {
            Ok(_) => JobState::Running { rx, ctx, previous },
            Err(e) => JobState::Failed {
                err: anyhow::anyhow!("cannot start {name}: {e}"),
                previous,
            },
        };
    }

    /// Non-blocking; called once per frame from `App::logic`.
    pub fn poll(&mut self) {
        if let JobState::Running { rx, .. } = &self.state
            && let Ok(result) = rx.try_recv()
        {
            let previous = self.take_result();
            self.state = match result {
                Ok(v) => JobState::Done(v),
                Err(err) => JobState::Failed { err, previous },
            };
        }
    }

    /// The latest good result (finished, or kept while running or after a failure).
    pub fn result(&self) -> Option<&T> {
        match &self.state {
            JobState::Done(v) => Some(v),
            JobState::Running { previous, .. } | JobState::Failed { previous, .. } => {
                previous.as_ref()
            }
            JobState::Idle => None,
        }
    }

    /// Progress in `0..=1` while running.
    pub fn progress(&self) -> Option<f32> {
        match &self.state {
            JobState::Running { ctx, .. } => Some(ctx.progress()),
            _ => None,
        }
    }

    /// Asks a running job to stop at its next checkpoint.
    pub fn cancel(&self) {
        if let JobState::Running { ctx, .. } = &self.state {
            ctx.cancel();
        }
    }

    /// Stops waiting for a running job that cannot stop itself (one long library call, such as
    /// reading a checkpoint): the previous result comes back and the late result is dropped.
    pub fn detach(&mut self) {
        if matches!(self.state, JobState::Running { .. }) {
            self.cancel();
            self.state = self.take_result().map_or(JobState::Idle, JobState::Done);
        }
    }

    fn take_result(&mut self) -> Option<T> {
        match std::mem::replace(&mut self.state, JobState::Idle) {
            JobState::Done(v) => Some(v),
            JobState::Running { previous, .. } | JobState::Failed { previous, .. } => previous,
            JobState::Idle => None,
        }
    }
}

/// What the user clicked in [`job_controls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobClick {
    /// The start button.
    Start,
    /// Cancel, while the job runs.
    Cancel,
}

/// While a job runs (`progress` is `Some`): its progress bar (`bar_width` points) and Cancel.
/// Otherwise the `start` button, disabled with `why_disabled` as its hover text when given.
pub fn job_controls(
    ui: &mut egui::Ui,
    progress: Option<f32>,
    bar_width: f32,
    start: &str,
    why_disabled: Option<&str>,
) -> Option<JobClick> {
    match progress {
        Some(p) => {
            ui.add(
                egui::ProgressBar::new(p)
                    .show_percentage()
                    .desired_width(bar_width),
            );
            ui.button("Cancel").clicked().then_some(JobClick::Cancel)
        }
        None => ui
            .add_enabled(why_disabled.is_none(), egui::Button::new(start))
            .on_disabled_hover_text(why_disabled.unwrap_or_default())
            .clicked()
            .then_some(JobClick::Start),
    }
}
