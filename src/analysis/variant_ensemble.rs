//! An ensemble of checkpoints scoring the same variants (ESM-1v's five models are scored this
//! way): the loaded model first, then each member read from its file, scored and dropped
//! before the next is read, so at most two models are in memory at once. Matrices and variant
//! scores are averaged and the correlations recomputed; the untrained copies are averaged the
//! same way. The one workflow behind `variants --ensemble` and the Variants view's ensemble
//! field. The SS8 track (when asked for) is the loaded model's: its probe must read that model.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::study_error::StudyError;
use super::study_estimate::StudyEstimate;
use super::variant_study::{
    StrategyScores, VariantRun, VariantStudy, VariantStudyRequest, estimate_variant_study,
    run_variant_study,
};
use crate::jobs::JobCtx;
use crate::model::LoadedModel;

/// Bytes of a checkpoint on disk (a folder: its files), or why it cannot be used.
fn checkpoint_bytes(path: &Path) -> Result<u64, StudyError> {
    let unreadable = |e: std::io::Error| StudyError::Member {
        path: path.to_owned(),
        reason: crate::io_reason::reading(&e),
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in std::fs::read_dir(path).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        if let Ok(m) = entry.metadata() {
            total += if m.is_file() { m.len() } else { 0 };
        }
    }
    Ok(total)
}

/// Time and RAM of the ensemble: the first model's estimate, plus each member's scaled by its
/// size on disk against the first's weights (a member of the same architecture costs the
/// same); peak RAM the largest member beside the first (a borrowed first model stays loaded)
/// or in its place (an owned one is dropped after scoring).
pub fn estimate_variant_ensemble(
    model: &LoadedModel,
    members: &[PathBuf],
    request: &VariantStudyRequest,
    first_stays_loaded: bool,
) -> Result<StudyEstimate, StudyError> {
    let mut estimate = estimate_variant_study(model, request)?;
    let (embed, fit, extra) = (
        estimate.embed_seconds,
        estimate.fit_seconds,
        estimate.extra_ram,
    );
    for path in members {
        let ratio = checkpoint_bytes(path)? as f64 / estimate.weights.max(1) as f64;
        estimate.embed_seconds += embed * ratio;
        estimate.fit_seconds += fit * ratio;
        let member = estimate.weights as f64 * ratio;
        let in_place = if first_stays_loaded {
            member
        } else {
            member - estimate.weights as f64
        };
        let peak = (in_place + extra as f64 * ratio.max(1.0)).max(0.0) as u64;
        estimate.extra_ram = estimate.extra_ram.max(peak);
    }
    Ok(estimate)
}

/// Scores `request` with the `first` model and each of `members` (read one at a time) and
/// averages them; refuses first if it would not fit. An owned first model is dropped once
/// scored (the CLI: one model in memory at a time); a borrowed one (the GUI's loaded model)
/// stays. Progress: a phase per model.
pub fn run_variant_ensemble(
    first: Cow<'_, LoadedModel>,
    members: &[PathBuf],
    request: &VariantStudyRequest,
    ctx: &JobCtx,
) -> Result<VariantStudy, StudyError> {
    if members.is_empty() {
        return run_variant_study(&first, request, ctx);
    }
    let stays = matches!(first, Cow::Borrowed(_));
    estimate_variant_ensemble(&first, members, request, stays)?.check_resources()?;
    let phases = ctx.phases(&vec![1.0; 1 + members.len()]);
    let device = first.model.device().clone();
    let mut studies = vec![run_variant_study(&first, request, &phases[0])?];
    drop(first);
    let without_track = VariantStudyRequest {
        ss8_probe: None,
        ..request.clone()
    };
    for (path, phase) in members.iter().zip(&phases[1..]) {
        phase.set_stage(format!("loading the ensemble member {}", path.display()));
        let member = LoadedModel::load(path, &device).map_err(|e| StudyError::Member {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        studies.push(run_variant_study(&member, &without_track, phase)?);
    }
    average_variant_studies(request, studies)
}

/// The ensemble of `studies` (one per checkpoint, the same request): matrices and variant
/// scores averaged (ESM-1v's five models are scored this way), correlations recomputed, the
/// untrained copies averaged the same way; the model named `ensemble of N: a, b, …` and
/// fingerprinted with every member's fingerprint.
pub fn average_variant_studies(
    request: &VariantStudyRequest,
    studies: Vec<VariantStudy>,
) -> Result<VariantStudy, StudyError> {
    let Some(first) = studies.first().cloned() else {
        return Err(StudyError::Empty(
            "an ensemble needs at least one model".into(),
        ));
    };
    if studies.len() == 1 {
        return Ok(first);
    }
    let mean_runs = |pick: &dyn Fn(&VariantStudy) -> Option<&VariantRun>| -> Option<VariantRun> {
        let runs: Vec<&VariantRun> = studies.iter().filter_map(pick).collect();
        (runs.len() == studies.len()).then(|| mean_run(request, &runs))
    };
    let trained = mean_runs(&|s| s.sweep.runs.first());
    let untrained = mean_runs(&|s| s.sweep.untrained.first());
    let models: Vec<&crate::provenance::ModelRef> =
        studies.iter().map(|s| &s.sweep.provenance.model).collect();
    let mut sweep = first.sweep.clone();
    sweep.provenance.model = crate::provenance::ModelRef {
        name: format!(
            "ensemble of {}: {}",
            models.len(),
            models
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        fingerprint: {
            use sha2::Digest as _;
            let mut hasher = sha2::Sha256::new();
            for m in &models {
                hasher.update(m.fingerprint.as_bytes());
                hasher.update([0]);
            }
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        },
        shown_with: Some(models[0].shown_with().to_owned()),
    };
    sweep.runs = trained.into_iter().collect();
    sweep.untrained = untrained.into_iter().collect();
    for study in &studies[1..] {
        sweep.cost.add(study.sweep.cost.clone());
    }
    let ss8 = studies.iter().find_map(|s| s.ss8.clone());
    Ok(VariantStudy {
        sweep,
        ss8,
        ..first
    })
}

/// The mean of `runs` strategy by strategy, correlations recomputed.
fn mean_run(request: &VariantStudyRequest, runs: &[&VariantRun]) -> VariantRun {
    let n = runs.len() as f32;
    let strategies = (0..runs[0].strategies.len())
        .map(|k| {
            let members: Vec<&StrategyScores> = runs.iter().map(|r| &r.strategies[k]).collect();
            let matrix = members[0].matrix.as_ref().map(|first| {
                (0..first.len())
                    .map(|i| {
                        std::array::from_fn(|a| {
                            members
                                .iter()
                                .filter_map(|m| m.matrix.as_ref())
                                .map(|m| m[i][a])
                                .sum::<f32>()
                                / n
                        })
                    })
                    .collect()
            });
            let variant_scores: Vec<f64> = (0..members[0].variant_scores.len())
                .map(|v| members.iter().map(|m| m.variant_scores[v]).sum::<f64>() / n as f64)
                .collect();
            let (spearman, by_position) = request.correlations(&variant_scores);
            StrategyScores {
                strategy: members[0].strategy,
                matrix,
                variant_scores,
                spearman,
                by_position,
            }
        })
        .collect();
    VariantRun {
        layer: runs[0].layer,
        strategies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::variant_inputs::VariantInputs;
    use crate::analysis::variant_scan::ScoringStrategy;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/esm1b_tiny_t2.pt")
    }

    #[test]
    fn a_member_adds_its_share_of_time_and_a_missing_one_is_named() {
        let model = LoadedModel::load(&fixture(), &candle_core::Device::Cpu).expect("fixture");
        let inputs = VariantInputs {
            sequence: Some("MKTAYIAKQRQISFVKSHFSRQ".into()),
            ..VariantInputs::default()
        };
        let request =
            VariantStudyRequest::from_inputs(&inputs, vec![ScoringStrategy::MaskedMarginals])
                .expect("request");
        let alone = estimate_variant_ensemble(&model, &[], &request, true).expect("alone");
        let two = estimate_variant_ensemble(&model, &[fixture()], &request, true).expect("two");
        let ratio = two.embed_seconds / alone.embed_seconds;
        // The member's size on disk is its weights plus the archive's few kilobytes.
        assert!((1.8..2.6).contains(&ratio), "{ratio}");
        assert!(
            two.extra_ram > alone.extra_ram,
            "the member sits beside the loaded model"
        );
        let in_place =
            estimate_variant_ensemble(&model, &[fixture()], &request, false).expect("in place");
        assert!(
            in_place.extra_ram < two.extra_ram,
            "an owned first model is dropped"
        );
        let missing = Path::new("/nonexistent/esm1v_2.pt").to_owned();
        let err = estimate_variant_ensemble(&model, &[missing], &request, true)
            .expect_err("missing member");
        assert_eq!(
            err.to_string(),
            "ensemble member /nonexistent/esm1v_2.pt: not found"
        );
    }
}
