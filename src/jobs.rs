//! Progress reporting and cancellation for long computations, shared by the GUI and the CLI.
//!
//! Core loops call [`JobCtx::checkpoint`] once per batch; the GUI polls progress each frame and
//! its waker requests a repaint; the CLI's waker ticks a progress bar.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// The user asked the job to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Handle given to a running job: progress out, cancellation in.
#[derive(Clone)]
pub struct JobCtx {
    cancel: Arc<AtomicBool>,
    permille: Arc<AtomicU32>,
    /// What the job is doing now, shared by all its phases ("fitting layer 3/34").
    stage: Arc<Mutex<String>>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for JobCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobCtx")
            .field("progress", &self.progress())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Default for JobCtx {
    fn default() -> Self {
        Self::new(|| {})
    }
}

impl JobCtx {
    /// A context whose `wake` is called after each progress update.
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            cancel: Arc::new(AtomicBool::new(false)),
            permille: Arc::new(AtomicU32::new(0)),
            stage: Arc::new(Mutex::new(String::new())),
            wake: Arc::new(wake),
        }
    }

    /// Records progress in `0..=1`. Returns `Err(Cancelled)` once the user asked to stop.
    pub fn checkpoint(&self, fraction: f32) -> Result<(), Cancelled> {
        self.permille.store(
            (fraction.clamp(0.0, 1.0) * 1000.0) as u32,
            Ordering::Relaxed,
        );
        (self.wake)();
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// A context for one phase of this job: its progress `0..=1` maps to `start..=end` of
    /// this one, and it shares the cancel flag.
    pub fn scoped(&self, start: f32, end: f32) -> Self {
        let permille = Arc::new(AtomicU32::new(0));
        let own = permille.clone();
        let parent = self.clone();
        Self {
            cancel: self.cancel.clone(),
            permille,
            stage: self.stage.clone(),
            wake: Arc::new(move || {
                let fraction = own.load(Ordering::Relaxed) as f32 / 1000.0;
                parent.permille.store(
                    ((start + (end - start) * fraction).clamp(0.0, 1.0) * 1000.0) as u32,
                    Ordering::Relaxed,
                );
                (parent.wake)();
            }),
        }
    }

    /// One context per phase, each covering a share of this job's progress proportional to
    /// its weight (e.g. estimated seconds), so one bar runs once over all phases and its
    /// time-left reading holds across them. All-zero weights share equally.
    pub fn phases(&self, weights: &[f64]) -> Vec<Self> {
        let total: f64 = weights.iter().map(|w| w.max(0.0)).sum();
        let share = |w: f64| {
            if total > 0.0 {
                w.max(0.0) / total
            } else {
                1.0 / weights.len().max(1) as f64
            }
        };
        let mut start = 0.0f64;
        weights
            .iter()
            .map(|&w| {
                let end = (start + share(w)).min(1.0);
                let phase = self.scoped(start as f32, end as f32);
                start = end;
                phase
            })
            .collect()
    }

    /// Asks the job to stop at its next checkpoint.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The cancel flag as a model [`crate::stop_flag::StopFlag`]: a forward pass given it stops
    /// between layers once the user cancels.
    pub fn stop_flag(&self) -> crate::stop_flag::StopFlag {
        crate::stop_flag::StopFlag::from_shared(self.cancel.clone())
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Names what the job does now (shown beside its progress bar); every phase of a job
    /// shares one stage.
    pub fn set_stage(&self, stage: impl Into<String>) {
        if let Ok(mut current) = self.stage.lock() {
            *current = stage.into();
        }
    }

    /// The stage last set (empty before any).
    pub fn stage(&self) -> String {
        self.stage.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Last reported progress in `0..=1`.
    pub fn progress(&self) -> f32 {
        self.permille.load(Ordering::Relaxed) as f32 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_phase_maps_progress_and_shares_cancel() {
        let job = JobCtx::default();
        let phase = job.scoped(0.25, 0.75);
        phase.checkpoint(0.5).expect("running");
        assert!((job.progress() - 0.5).abs() < 1e-3);
        phase.set_stage("fitting layer 2/5");
        assert_eq!(job.stage(), "fitting layer 2/5");
        job.cancel();
        assert!(phase.checkpoint(1.0).is_err());
    }

    #[test]
    fn phases_share_progress_by_weight() {
        let job = JobCtx::default();
        let phases = job.phases(&[3.0, 1.0]);
        phases[0].checkpoint(1.0).expect("running");
        assert!((job.progress() - 0.75).abs() < 1e-3);
        phases[1].checkpoint(0.5).expect("running");
        assert!((job.progress() - 0.875).abs() < 1e-3);
        assert_eq!(JobCtx::default().phases(&[0.0, 0.0]).len(), 2);
    }

    #[test]
    fn checkpoint_reports_and_cancels() {
        let ctx = JobCtx::default();
        assert_eq!(ctx.checkpoint(0.5), Ok(()));
        assert!((ctx.progress() - 0.5).abs() < 1e-3);
        ctx.clone().cancel();
        assert_eq!(ctx.checkpoint(0.6), Err(Cancelled));
    }
}
