//! A background job as the UI sees it: running (with progress and cancel), done, or failed while
//! keeping the previous result.

use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use eframe::egui;

use super::eta::{EtaSmoother, raw_time_left};
use crate::analysis::JobCtx;

/// State of a job's result.
pub enum JobState<T> {
    /// Nothing requested yet.
    Idle,
    /// Running on a worker thread.
    Running {
        /// The job's name (its thread's), for errors.
        name: String,
        /// Delivers the result once.
        rx: Receiver<anyhow::Result<T>>,
        /// Progress and cancellation.
        ctx: JobCtx,
        /// The last good result, shown meanwhile.
        previous: Option<T>,
        /// When it started (for the ETA).
        started: std::time::Instant,
        /// The time left shown (smoothed).
        eta: EtaSmoother,
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
        let job_name = name.to_owned();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let result = run_catching_panics(&job_name, || work(&worker_ctx));
                // The receiver may be gone if the job was replaced; nothing to do then.
                let _ = tx.send(result);
                wake();
            });
        let previous = self.take_result();
        self.state = match spawned {
            Ok(_) => JobState::Running {
                name: name.to_owned(),
                rx,
                ctx,
                previous,
                started: std::time::Instant::now(),
                eta: EtaSmoother::default(),
            },
            Err(e) => JobState::Failed {
                err: anyhow::anyhow!("cannot start {name}: {e}"),
                previous,
            },
        };
    }

    /// [`Job::spawn`] with the GUI's waker: progress and completion repaint `ctx`.
    pub fn spawn_repainting(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        work: impl FnOnce(&JobCtx) -> anyhow::Result<T> + Send + 'static,
    ) {
        let ctx = ctx.clone();
        self.spawn(name, move || ctx.request_repaint(), work);
    }

    /// Non-blocking; called once per frame from `App::logic`.
    pub fn poll(&mut self) {
        let JobState::Running {
            name,
            rx,
            ctx,
            started,
            eta,
            ..
        } = &mut self.state
        else {
            return;
        };
        eta.update(
            std::time::Instant::now(),
            raw_time_left(ctx.progress(), started.elapsed()),
        );
        let result = match rx.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => {
                Err(anyhow::anyhow!("the {name} job ended without a result"))
            }
        };
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

    /// Progress while running.
    pub fn progress(&self) -> Option<Progress> {
        match &self.state {
            JobState::Running {
                ctx, started, eta, ..
            } => Some(Progress {
                fraction: ctx.progress(),
                elapsed: started.elapsed(),
                stage: ctx.stage(),
                left: eta.left_at(std::time::Instant::now()),
            }),
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

    /// Drops the result and stops a running job (its late result is dropped too): for a result
    /// that no longer describes the workspace, such as a map of a data set since replaced.
    pub fn clear(&mut self) {
        self.cancel();
        self.state = JobState::Idle;
    }

    /// The readable message of the last failure (`None` unless the job failed).
    pub fn error(&self) -> Option<String> {
        match &self.state {
            JobState::Failed { err, .. } => Some(format!("{err:#}")),
            _ => None,
        }
    }

    /// How the job ended: `None` while it runs or before it ever ran.
    pub fn outcome(&self) -> Option<Result<(), String>> {
        match &self.state {
            JobState::Done(_) => Some(Ok(())),
            JobState::Failed { .. } => self.error().map(Err),
            JobState::Idle | JobState::Running { .. } => None,
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

/// Runs `work`, turning a panic into an error that names the job (the panic message is kept).
fn run_catching_panics<T>(
    name: &str,
    work: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(anyhow::anyhow!(
            "the {name} job stopped on an internal error: {message}"
        ))
    })
}

/// A job as a view sees it: its last result, its progress while it runs, why it last failed.
#[derive(Debug, Clone)]
pub struct JobView<'a, T> {
    /// The last finished result.
    pub result: Option<&'a T>,
    /// Progress while running.
    pub progress: Option<Progress>,
    /// Why the last run failed.
    pub error: Option<&'a str>,
}

impl<T> Default for JobView<'_, T> {
    fn default() -> Self {
        Self {
            result: None,
            progress: None,
            error: None,
        }
    }
}
/// How far a running job is.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Done, in `0..=1`.
    pub fraction: f32,
    /// Time since it started.
    pub elapsed: std::time::Duration,
    /// What it does now ("embedding ts50.json: batch 3/8"), empty when the job does not say.
    pub stage: String,
    /// The smoothed time left ([`EtaSmoother`]), when the job has one.
    pub left: Option<std::time::Duration>,
}

impl Progress {
    /// Estimated time left: the smoothed one, else the rate so far (None until 2% is done or
    /// 1 s has passed).
    pub fn eta(&self) -> Option<std::time::Duration> {
        self.left
            .or_else(|| raw_time_left(self.fraction, self.elapsed))
    }

    /// `42% · 1:05 left` (or `42% · 0:03 elapsed` before an estimate exists).
    pub fn text(&self) -> String {
        let clock = |d: std::time::Duration| {
            let s = d.as_secs();
            if s >= 3600 {
                format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
            } else {
                format!("{}:{:02}", s / 60, s % 60)
            }
        };
        let percent = (100.0 * self.fraction).round();
        let timing = match self.eta() {
            Some(eta) => format!("{percent}% · {} left", clock(eta)),
            None => format!("{percent}% · {} elapsed", clock(self.elapsed)),
        };
        if self.stage.is_empty() {
            timing
        } else {
            format!("{} · {timing}", self.stage)
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

/// While a job runs (`progress` is `Some`): its progress bar with the time left (`bar_width`
/// points) and Cancel. Otherwise the `start` button, disabled with `why_disabled` as its hover
/// text when given.
pub fn job_controls(
    ui: &mut egui::Ui,
    progress: Option<Progress>,
    bar_width: f32,
    start: &str,
    why_disabled: Option<&str>,
) -> Option<JobClick> {
    match progress {
        Some(p) => {
            ui.add(
                egui::ProgressBar::new(p.fraction)
                    .text(p.text())
                    .desired_width(bar_width),
            );
            ui.button("Cancel")
                .on_hover_text("Stop this job within about a second; finished work is kept")
                .clicked()
                .then_some(JobClick::Cancel)
        }
        None => ui
            .add_enabled(why_disabled.is_none(), egui::Button::new(start))
            .on_hover_text("Runs off the UI thread: the app stays usable, and Cancel stops it")
            .on_disabled_hover_text(why_disabled.unwrap_or_default())
            .clicked()
            .then_some(JobClick::Start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(job: &mut Job<u32>) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while matches!(job.state, JobState::Running { .. }) {
            assert!(std::time::Instant::now() < deadline, "the job never ended");
            job.poll();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn a_panicking_worker_fails_its_job_by_name_and_keeps_the_previous_result() {
        let mut job: Job<u32> = Job::default();
        job.spawn("answer", || {}, |_| Ok(42));
        wait(&mut job);
        assert_eq!(job.result(), Some(&42));
        job.spawn("map", || {}, |_| panic!("index out of bounds"));
        wait(&mut job);
        let JobState::Failed { err, previous } = &job.state else {
            panic!("the job should have failed");
        };
        assert_eq!(
            err.to_string(),
            "the map job stopped on an internal error: index out of bounds"
        );
        assert_eq!(previous, &Some(42));
    }

    #[test]
    fn eta_extrapolates_the_rate_so_far() {
        let p = Progress {
            fraction: 0.25,
            elapsed: std::time::Duration::from_secs(30),
            stage: String::new(),
            left: None,
        };
        assert_eq!(p.eta(), Some(std::time::Duration::from_secs(90)));
        assert_eq!(p.text(), "25% · 1:30 left");
        let early = Progress {
            fraction: 0.01,
            elapsed: std::time::Duration::from_secs(3),
            stage: "embedding ts50.json: batch 1/8".into(),
            left: None,
        };
        assert_eq!(early.eta(), None);
        assert_eq!(
            early.text(),
            "embedding ts50.json: batch 1/8 · 1% · 0:03 elapsed"
        );
    }
}
