//! Results belong to the model that made them. When another model is loaded, a view's result
//! is set aside (never shown under the new model's name) and comes back when its own model is
//! loaded again. The shelf keeps one result per model and view, the newest
//! [`MODELS_KEPT`] models.

use std::sync::Arc;

use super::job::{Job, JobState};
use crate::provenance::{ModelRef, Provenance};

/// Models whose results a view keeps aside.
pub const MODELS_KEPT: usize = 8;

/// A result that says which model and data made it.
pub trait MadeBy {
    /// The model and data behind the result.
    fn provenance(&self) -> &Provenance;
}

/// A bare provenance (a view whose result is nothing else).
impl MadeBy for Provenance {
    fn provenance(&self) -> &Provenance {
        self
    }
}

impl<T: MadeBy> MadeBy for Arc<T> {
    fn provenance(&self) -> &Provenance {
        (**self).provenance()
    }
}

impl MadeBy for crate::analysis::ss8_study::Ss8Study {
    fn provenance(&self) -> &Provenance {
        &self.sweep.provenance
    }
}

impl MadeBy for crate::analysis::contact_study::ContactStudy {
    fn provenance(&self) -> &Provenance {
        &self.sweep.provenance
    }
}

impl MadeBy for crate::analysis::heads_study::HeadsStudy {
    fn provenance(&self) -> &Provenance {
        &self.sweep.provenance
    }
}

impl MadeBy for crate::analysis::homology_study::HomologyStudy {
    fn provenance(&self) -> &Provenance {
        &self.sweep.provenance
    }
}

impl MadeBy for crate::analysis::aa_groups_study::AaGroupsStudy {
    fn provenance(&self) -> &Provenance {
        &self.sweep.provenance
    }
}

impl MadeBy for crate::analysis::variant_study::VariantStudy {
    fn provenance(&self) -> &Provenance {
        &self.sweep.provenance
    }
}

impl MadeBy for crate::analysis::alignment_study::AlignmentStudy {
    fn provenance(&self) -> &Provenance {
        &self.sweep.provenance
    }
}

impl MadeBy for super::map_view::MapResult {
    fn provenance(&self) -> &Provenance {
        &self.provenance
    }
}

/// The results of one view set aside, one per model, newest first.
#[derive(Debug)]
pub struct ModelShelf<T> {
    kept: Vec<(ModelRef, T)>,
}

impl<T> Default for ModelShelf<T> {
    fn default() -> Self {
        Self { kept: Vec::new() }
    }
}

impl<T: MadeBy> ModelShelf<T> {
    /// Makes `job` hold only `loaded`'s result: a finished result (or the previous result kept
    /// by a running or failed job) made with another model goes on the shelf, and a result
    /// shelved for `loaded` comes back where the job holds none. Call once a frame, before the
    /// result is drawn or used; `loaded` is the loaded model's fingerprint (the fingerprint
    /// decides, not the file's name). With no model loaded nothing moves. Returns whether the
    /// result held by `job` changed.
    pub fn sync(&mut self, job: &mut Job<T>, loaded: Option<&str>) -> bool {
        let Some(loaded) = loaded else {
            return false;
        };
        let before = self.kept.len();
        let foreign = |t: &T| t.provenance().model.shown_with() != loaded;
        match &mut job.state {
            JobState::Done(t) if foreign(t) => {
                if let JobState::Done(t) = std::mem::replace(&mut job.state, JobState::Idle) {
                    self.put(t);
                }
            }
            JobState::Running { previous, .. } | JobState::Failed { previous, .. } => {
                if previous.as_ref().is_some_and(foreign)
                    && let Some(t) = previous.take()
                {
                    self.put(t);
                }
            }
            _ => {}
        }
        let set_aside = self.kept.len() != before;
        let Some(index) = self.kept.iter().position(|(m, _)| m.shown_with() == loaded) else {
            return set_aside;
        };
        match &mut job.state {
            JobState::Idle => job.state = JobState::Done(self.kept.remove(index).1),
            JobState::Running { previous, .. } | JobState::Failed { previous, .. }
                if previous.is_none() =>
            {
                *previous = Some(self.kept.remove(index).1);
            }
            _ => return set_aside,
        }
        true
    }

    /// Forgets every result set aside (their data set was replaced).
    pub fn clear(&mut self) {
        self.kept.clear();
    }

    /// The models with a result on the shelf, newest first.
    pub fn models(&self) -> impl Iterator<Item = &ModelRef> {
        self.kept.iter().map(|(m, _)| m)
    }

    fn put(&mut self, t: T) {
        let model = t.provenance().model.clone();
        self.kept
            .retain(|(m, _)| m.shown_with() != model.shown_with());
        self.kept.insert(0, (model, t));
        self.kept.truncate(MODELS_KEPT);
    }
}

/// One line naming the models whose results wait on the shelf (`None` when none do).
pub fn shelf_line<'a>(models: impl Iterator<Item = &'a ModelRef>) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    for label in models.map(ModelRef::label) {
        if !names.contains(&label) {
            names.push(label);
        }
    }
    if names.is_empty() {
        return None;
    }
    Some(format!(
        "Set aside until its model is loaded again: the result made with {}.",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Made(Provenance);

    impl MadeBy for Made {
        fn provenance(&self) -> &Provenance {
            &self.0
        }
    }

    fn model(name: &str) -> ModelRef {
        ModelRef {
            name: name.into(),
            fingerprint: format!("{name}-fingerprint"),
            shown_with: None,
        }
    }

    fn made_by(name: &str) -> Made {
        Made(Provenance {
            model: model(name),
            data: Vec::new(),
        })
    }

    #[test]
    fn another_model_sets_the_result_aside_and_its_own_brings_it_back() {
        let mut shelf = ModelShelf::default();
        let mut job: Job<Made> = Job::default();
        job.state = JobState::Done(made_by("starter"));
        shelf.sync(&mut job, Some("starter-fingerprint"));
        assert!(job.result().is_some(), "the loaded model's result stays");
        shelf.sync(&mut job, Some("big-fingerprint"));
        assert!(job.result().is_none(), "never shown under another model");
        assert_eq!(shelf.models().count(), 1);
        let line = shelf_line(shelf.models()).expect("a line");
        assert!(line.contains("made with starter (starter-fing)"), "{line}");
        shelf.sync(&mut job, Some("starter-fingerprint"));
        assert_eq!(job.result(), Some(&made_by("starter")));
        assert_eq!(shelf.models().count(), 0);
    }

    #[test]
    fn an_ensemble_result_stays_with_its_first_member_only() {
        let mut shelf = ModelShelf::default();
        let mut job: Job<Made> = Job::default();
        let mut ensemble = made_by("ensemble of 2: starter, other");
        ensemble.0.model.shown_with = Some("starter-fingerprint".into());
        job.state = JobState::Done(ensemble.clone());
        shelf.sync(&mut job, Some("starter-fingerprint"));
        assert!(job.result().is_some(), "shown with the loaded first member");
        shelf.sync(&mut job, Some("other-fingerprint"));
        assert!(job.result().is_none(), "not under the second member alone");
        shelf.sync(&mut job, Some("starter-fingerprint"));
        assert_eq!(job.result(), Some(&ensemble));
    }

    #[test]
    fn a_failed_run_keeps_no_foreign_previous_result() {
        let mut shelf = ModelShelf::default();
        let mut job: Job<Made> = Job::default();
        job.state = JobState::Failed {
            err: anyhow::anyhow!("out of memory"),
            previous: Some(made_by("starter")),
        };
        shelf.sync(&mut job, Some("big-fingerprint"));
        assert!(job.result().is_none());
        assert!(job.error().is_some(), "the error stays on screen");
        shelf.sync(&mut job, Some("starter-fingerprint"));
        assert_eq!(job.result(), Some(&made_by("starter")));
    }

    #[test]
    fn one_result_per_model_newest_first_and_bounded() {
        let mut shelf = ModelShelf::default();
        for round in 0..2 {
            for k in 0..MODELS_KEPT + 3 {
                shelf.put(made_by(&format!("m{k}")));
            }
            assert_eq!(shelf.models().count(), MODELS_KEPT, "round {round}");
        }
        let newest = shelf.models().next().expect("one kept");
        assert_eq!(newest.name, format!("m{}", MODELS_KEPT + 2));
    }
}
