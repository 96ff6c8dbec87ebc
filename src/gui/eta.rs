//! A job's time left as the user sees it: the rate-so-far estimate (`elapsed * (1 - f) / f`)
//! jumps whenever a phase runs faster or slower than its weight said (a store that was already
//! filled, a fit that converged early). The shown estimate is a finish time that follows the
//! raw one with a time constant of [`SETTLE`]: between corrections it counts down at wall-clock
//! speed, and a correction arrives over seconds instead of as a jump.

use std::time::{Duration, Instant};

/// How fast the shown finish time follows the raw estimate.
pub const SETTLE: Duration = Duration::from_secs(10);

/// The raw estimate: time left at the rate so far (`None` until 2% is done and 1 s has passed).
pub fn raw_time_left(fraction: f32, elapsed: Duration) -> Option<Duration> {
    (fraction >= 0.02 && elapsed.as_secs_f32() >= 1.0)
        .then(|| elapsed.mul_f32((1.0 - fraction.min(1.0)) / fraction))
}

/// The smoothed finish time of one running job.
#[derive(Debug, Clone, Copy, Default)]
pub struct EtaSmoother {
    finish: Option<Instant>,
    updated: Option<Instant>,
}

impl EtaSmoother {
    /// Moves the finish time towards `now + raw` (by the share of [`SETTLE`] since the last
    /// update); returns the time left.
    pub fn update(&mut self, now: Instant, raw: Option<Duration>) -> Option<Duration> {
        if let Some(raw) = raw {
            let target = now + raw;
            let finish = match (self.finish, self.updated) {
                (Some(finish), Some(updated)) => {
                    let share = (now.saturating_duration_since(updated).as_secs_f64()
                        / SETTLE.as_secs_f64())
                    .min(1.0);
                    if target >= finish {
                        finish + (target - finish).mul_f64(share)
                    } else {
                        finish - (finish - target).mul_f64(share)
                    }
                }
                _ => target,
            };
            self.finish = Some(finish);
            self.updated = Some(now);
        }
        self.left_at(now)
    }

    /// Time left at `now` (`None` before the first estimate).
    pub fn left_at(&self, now: Instant) -> Option<Duration> {
        self.finish.map(|f| f.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shown_time_left_counts_down_and_absorbs_a_jump_of_the_raw_estimate_gradually() {
        let start = Instant::now();
        let mut eta = EtaSmoother::default();
        let at = |s: u64| start + Duration::from_secs(s);
        assert_eq!(
            eta.update(at(0), Some(Duration::from_secs(100))),
            Some(Duration::from_secs(100))
        );
        // One second later the raw estimate says 99 s: it counts down by one second.
        let left = eta
            .update(at(1), Some(Duration::from_secs(99)))
            .expect("an estimate");
        assert!((left.as_secs_f64() - 99.0).abs() < 1e-6);
        // A phase ran fast: the raw estimate drops to 20 s; the shown one moves a tenth of the
        // way per second, not all at once.
        let left = eta
            .update(at(2), Some(Duration::from_secs(20)))
            .expect("an estimate");
        assert!(
            left.as_secs_f64() > 85.0 && left.as_secs_f64() < 95.0,
            "{left:?}"
        );
        let mut shown = left;
        for s in 3..60 {
            shown = eta
                .update(
                    at(s),
                    Some(Duration::from_secs(20u64.saturating_sub(s - 2))),
                )
                .expect("an estimate");
        }
        assert!(shown < Duration::from_secs(1), "it settles: {shown:?}");
        assert_eq!(raw_time_left(0.01, Duration::from_secs(3)), None);
        assert_eq!(
            raw_time_left(0.25, Duration::from_secs(30)),
            Some(Duration::from_secs(90))
        );
    }
}
