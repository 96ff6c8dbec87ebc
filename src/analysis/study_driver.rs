//! The one driver every [`Study`] runs on: checks the request, plans its stores, estimates it,
//! refuses what would not fit, fills the stores (only what is missing), runs each layer on the
//! trained model and on the untrained copy when asked, reports progress in phases weighted by
//! their estimated time, and returns a [`LayerSweep`]. Peak RAM: the model (and the untrained
//! copy while it runs), one forward batch, one layer's analysis.

use std::time::Instant;

use super::measured_rates::remember_rate;
use super::study::{LayerSweep, StoredSet, Study, StudyCost, best_layer};
use super::study_error::StudyError;
use super::study_estimate::forward_flops_per_residue;
use super::study_estimate::{StudyEstimate, fill_batch_bytes};
use super::study_stores::{
    embed_seconds_of, full_store_bytes, plan_row_tokens, planned_embed_seconds, store_spec,
};
use crate::jobs::JobCtx;
use crate::model::LoadedModel;
use crate::provenance::{DataInput, Provenance};
use crate::store::{FeatureStore, StorePlan, ensure_store};

/// A checked study on one model, before anything runs.
#[derive(Debug, Clone)]
pub struct StudyPlan {
    /// The layers analysed, ascending.
    pub layers: Vec<usize>,
    /// The layers stored.
    pub stored_layers: Vec<usize>,
    /// The sets embedded, in the order of their stores.
    pub sets: Vec<StoredSet>,
    /// The trained model's store plans, one per set.
    pub store_plans: Vec<StorePlan>,
    /// Time, RAM and disk (the untrained copy's stores counted as new).
    pub estimate: StudyEstimate,
}

/// A model's state after its runs: what [`Study::prepare`] made and the stores it read.
#[derive(Debug)]
pub struct ModelState<P> {
    /// See [`Study::Prepared`].
    pub prepared: P,
    /// The filled stores, one per set.
    pub stores: Vec<FeatureStore>,
}

/// A finished study: the sweep, and each model's state for the study's own extras (tracks,
/// vectors, predicted maps).
#[derive(Debug)]
pub struct StudyOutcome<S: Study> {
    /// The runs, best layer and cost.
    pub sweep: LayerSweep<S::Run>,
    /// The trained model's state.
    pub trained: ModelState<S::Prepared>,
    /// The untrained copy's state (when compared).
    pub untrained: Option<ModelState<S::Prepared>>,
}

/// Checks `study`, resolves its layers against `model`, plans its stores and estimates it.
pub fn plan_study<S: Study>(model: &LoadedModel, study: &S) -> Result<StudyPlan, StudyError> {
    study.check()?;
    study.sweep().store.check()?;
    let num_layers = model.model.config().num_layers;
    let layers = study.analysed_layers(num_layers)?;
    let stored_layers = study.stored_layers(&layers, num_layers);
    let sets = study.stored_sets();
    let store_plans = plan_stores(model, study, &sets, &stored_layers)?;
    let estimate = estimate(model, study, (&layers, &stored_layers), &sets, &store_plans);
    Ok(StudyPlan {
        layers,
        stored_layers,
        sets,
        store_plans,
        estimate,
    })
}

/// Time, RAM and disk of `study` on `model` (see [`plan_study`]).
pub fn estimate_study<S: Study>(
    model: &LoadedModel,
    study: &S,
) -> Result<StudyEstimate, StudyError> {
    Ok(plan_study(model, study)?.estimate)
}

/// Runs `study` on `model` (and its untrained copy when asked); refuses first if it would not
/// fit in RAM or on disk.
pub fn run_study<S: Study>(
    model: &LoadedModel,
    study: &S,
    ctx: &JobCtx,
) -> Result<StudyOutcome<S>, StudyError> {
    let plan = plan_study(model, study)?;
    plan.estimate.check_resources()?;
    let split = if study.sweep().compare_untrained {
        ctx.phases(&[0.5, 0.5])
    } else {
        vec![ctx.clone()]
    };
    let (trained, runs, mut cost) =
        run_model(model, study, &plan, Some(&plan.store_plans), &split[0])?;
    let (untrained, untrained_runs) = if study.sweep().compare_untrained {
        let copy = model.untrained_copy(0)?;
        let (state, runs, copy_cost) = run_model(&copy, study, &plan, None, &split[1])?;
        cost.add(copy_cost);
        (Some(state), runs)
    } else {
        (None, Vec::new())
    };
    ctx.checkpoint(1.0)?;
    Ok(StudyOutcome {
        sweep: LayerSweep {
            provenance: provenance(model, &study.data_sets()),
            best: best_layer::<S>(&runs),
            runs,
            untrained: untrained_runs,
            best_rule: S::BEST_RULE,
            cost,
        },
        trained,
        untrained,
    })
}

/// The model and the stored sets a study ran on.
pub fn provenance(model: &LoadedModel, sets: &[StoredSet]) -> Provenance {
    Provenance {
        model: model.model_ref(),
        data: sets
            .iter()
            .map(|set| DataInput::of(&set.name, &set.records))
            .collect(),
    }
}

/// The store plans of `sets` on `model`.
fn plan_stores<S: Study>(
    model: &LoadedModel,
    study: &S,
    sets: &[StoredSet],
    layers: &[usize],
) -> Result<Vec<StorePlan>, StudyError> {
    sets.iter()
        .map(|set| {
            let spec = store_spec(model, study.sweep().store, set, layers);
            Ok(FeatureStore::plan(model, &spec)?)
        })
        .collect()
}

/// The estimate from the trained model's store plans.
fn estimate<S: Study>(
    model: &LoadedModel,
    study: &S,
    (layers, stored_layers): (&[usize], &[usize]),
    sets: &[StoredSet],
    plans: &[StorePlan],
) -> StudyEstimate {
    let config = model.model.config();
    let options = study.sweep().store;
    let compare = study.sweep().compare_untrained;
    let mut embed: f64 = plans.iter().map(|p| planned_embed_seconds(model, p)).sum();
    let mut disk: u64 = plans.iter().map(|p| p.bytes_to_reserve).sum();
    if compare {
        for set in sets {
            embed += embed_seconds_of(model, &set.records);
            disk += full_store_bytes(model, options, set, stored_layers.len());
        }
    }
    let copies = copies_of(compare);
    let layer = study.layer_cost(model);
    let prepare = study.prepare_cost(model);
    embed += copies_of(compare) * prepare.seconds;
    let weights = (config.parameter_count() * 4) as u64;
    let forward = if sets.is_empty() {
        0
    } else {
        fill_batch_bytes(config, options, stored_layers.len())
    };
    StudyEstimate {
        embed_seconds: embed,
        fit_seconds: copies * layers.len() as f64 * layer.seconds,
        extra_ram: forward.max(layer.ram).max(prepare.ram) + if compare { weights } else { 0 },
        weights,
        disk,
        store_root: options.root.clone(),
    }
}

/// Models a study runs on: the trained one, and its untrained copy when compared.
fn copies_of(compare: bool) -> f64 {
    if compare { 2.0 } else { 1.0 }
}

/// Fills `model`'s stores, prepares and runs every layer: one phase per store and per layer,
/// weighted by estimated seconds.
fn run_model<S: Study>(
    model: &LoadedModel,
    study: &S,
    plan: &StudyPlan,
    store_plans: Option<&[StorePlan]>,
    ctx: &JobCtx,
) -> Result<(ModelState<S::Prepared>, Vec<S::Run>, StudyCost), StudyError> {
    let replanned;
    let store_plans_given = store_plans.is_some();
    let store_plans = match store_plans {
        Some(plans) => plans,
        None => {
            replanned = plan_stores(model, study, &plan.sets, &plan.stored_layers)?;
            &replanned
        }
    };
    let per_layer = study.layer_cost(model).seconds.max(1e-3);
    let mut weights: Vec<f64> = store_plans
        .iter()
        .map(|p| planned_embed_seconds(model, p).max(1e-3))
        .collect();
    weights.push(study.prepare_cost(model).seconds.max(1e-3));
    weights.extend(std::iter::repeat_n(per_layer, plan.layers.len()));
    let phases = ctx.phases(&weights);
    let started = Instant::now();
    let mut stores = Vec::with_capacity(plan.sets.len());
    let mut cost = StudyCost::default();
    let mut flops = 0.0;
    for ((set, phase), store_plan) in plan.sets.iter().zip(&phases).zip(store_plans) {
        let spec = store_spec(model, study.sweep().store, set, &plan.stored_layers);
        let (store, fill) = ensure_store(model, &spec, phase)?;
        let row = plan_row_tokens(model, store_plan);
        flops +=
            fill.residues_embedded as f64 * forward_flops_per_residue(model.model.config(), row);
        cost.residues_embedded += fill.residues_embedded;
        cost.stores.push(store.dir().to_owned());
        stores.push(store);
    }
    cost.embed_seconds = started.elapsed().as_secs_f64();
    // The trained model's fills calibrate later estimates (the untrained copy is replanned
    // here and has a fingerprint of its own).
    if store_plans_given {
        remember_rate(
            &model.fingerprint,
            flops,
            cost.embed_seconds,
            cost.residues_embedded,
        );
    }
    let started = Instant::now();
    let prepared = study.prepare(model, &stores, &phases[plan.sets.len()])?;
    let layer_phases = &phases[plan.sets.len() + 1..];
    let mut runs = Vec::with_capacity(plan.layers.len());
    for (k, (&layer, phase)) in plan.layers.iter().zip(layer_phases).enumerate() {
        phase.set_stage(format!(
            "{} layer {layer} ({}/{})",
            S::LAYER_STAGE,
            k + 1,
            plan.layers.len()
        ));
        phase.checkpoint(0.0)?;
        runs.push(study.run_layer(&prepared, &stores, layer, phase)?);
        phase.checkpoint(1.0)?;
    }
    cost.analysis_seconds = started.elapsed().as_secs_f64();
    cost.stores.sort();
    cost.stores.dedup();
    Ok((ModelState { prepared, stores }, runs, cost))
}
