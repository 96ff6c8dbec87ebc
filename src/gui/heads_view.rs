//! Heads view: which attention heads track contacts. Screen every layer's and head's
//! APC-corrected attention map over a set of structures by click (optionally beside the
//! untrained copy), see the layer × head grid coloured by a chosen metric, the ranked heads,
//! and the picked head's top-L pairs over the true contact map of a chosen protein, beside the
//! checkpoint's own contact head. The same study as `probe heads`.

use std::sync::Arc;

use eframe::egui;

use super::contact_map_plot::{ContactMapImage, contact_map_plot_ui, map_figure, scaled_to_unit};
use super::figure_export::{FigureExport, figure_export_ui};
use super::file_dialog::{DialogKind, browse_button, split_paths};
use super::heads_grid::{HeadMetric, grid_figure, heads_grid_ui, ranked_table_ui};
use super::job::{Job, JobClick, Progress};
use super::study_panel::{
    StudyControls, StudyJob, estimate_text, input_field_width, layers_ui, store_folder_row,
};
use super::table_export::{TableExport, table_export_ui};
use super::view_slot::StudyView;
use crate::analysis::JobCtx;
use crate::analysis::heads_overlay::{HeadOverlay, head_overlay};
use crate::analysis::heads_study::{
    BEST_HEADS_LAYER, HeadsStudy, HeadsStudyRequest, estimate_heads_study, run_heads_study,
};
use crate::analysis::heads_study_table::heads_study_table;
use crate::bundled::{bundled_path_text, kit};
use crate::model::{Layers, LoadedModel};
use crate::probes::{ChainPairs, ContactPrecision, DEFAULT_ATTENTION_THRESHOLD};
use crate::store::StoreOptions;

/// What the user set up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadsSettings {
    /// Structures (`;`-separated files or folders).
    pub structures: String,
    /// Training structures of the all-heads regression (empty: none is fitted).
    #[serde(default)]
    pub train: String,
    /// Layers screened.
    pub layers: Layers,
    /// Confident-attention threshold.
    pub threshold: f64,
    /// Also screen the untrained copy.
    pub compare_untrained: bool,
    /// Store options: the regression's training rows are kept in the root's `pairs` folder
    /// (the screen itself stores nothing).
    #[serde(default)]
    pub store: StoreOptions,
}

impl Default for HeadsSettings {
    fn default() -> Self {
        Self {
            structures: bundled_path_text(kit::TS50),
            train: String::new(),
            layers: Layers::All,
            threshold: DEFAULT_ATTENTION_THRESHOLD,
            compare_untrained: false,
            store: StoreOptions::default(),
        }
    }
}

/// The study `settings` describe (reads the structures).
pub fn heads_request(settings: &HeadsSettings) -> anyhow::Result<HeadsStudyRequest> {
    let base = HeadsStudyRequest::from_structures(&split_paths(&settings.structures))?;
    let train_paths = split_paths(&settings.train);
    let train = if train_paths.is_empty() {
        Vec::new()
    } else {
        crate::data::read_structures(&train_paths)?
    };
    Ok(HeadsStudyRequest {
        train,
        train_name: train_paths
            .iter()
            .map(|p| crate::store::dataset_label(p))
            .collect::<Vec<_>>()
            .join("+"),
        layers: settings.layers.clone(),
        threshold: settings.threshold,
        compare_untrained: settings.compare_untrained,
        store: settings.store.clone(),
        ..base
    })
}

/// Reads the structures and screens the heads on a worker thread (called from the job).
pub fn compute_heads(
    model: &LoadedModel,
    settings: &HeadsSettings,
    ctx: &JobCtx,
) -> anyhow::Result<HeadsStudy> {
    Ok(run_heads_study(model, &heads_request(settings)?, ctx)?)
}

/// The estimate line beside the start button.
pub fn heads_estimate_text(
    model: &LoadedModel,
    settings: &HeadsSettings,
) -> Result<String, String> {
    estimate_text(heads_request(settings).map(|request| estimate_heads_study(model, &request)))
}

/// Which map the overlay draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapOf {
    /// The picked head's APC map.
    #[default]
    PickedHead,
    /// The checkpoint's own contact head.
    ContactHead,
    /// The all-heads regression fitted in this study.
    Regression,
}

/// The overlay asked for: which result, chain, layer and head.
type OverlayKey = (usize, usize, usize, usize);

/// The overlay on screen and its images.
struct ShownOverlay {
    key: OverlayKey,
    overlay: HeadOverlay,
    head: ContactMapImage,
    contact_head: Option<ContactMapImage>,
    regression: Option<ContactMapImage>,
}

/// View state kept between frames.
#[derive(Default)]
pub struct HeadsView {
    /// Settings of the next run.
    pub settings: HeadsSettings,
    /// The estimate and the stores list under the inputs.
    controls: StudyControls,
    /// What colours the grid.
    pub metric: HeadMetric,
    /// Show the untrained copy's grid.
    pub untrained_grid: bool,
    /// The picked head: `(layer, head)`; `None`: the best.
    pub picked: Option<(usize, usize)>,
    /// The chain whose map is drawn.
    pub chain: usize,
    /// Which map is drawn.
    pub map_of: MapOf,
    overlay_job: Job<HeadOverlay>,
    overlay_key: Option<OverlayKey>,
    shown: Option<ShownOverlay>,
    /// Export of the grid.
    pub grid_export: FigureExport,
    /// Export of the map.
    pub map_export: FigureExport,
    /// Export of the table of every head.
    pub table_export: TableExport,
    /// "Save regression" (as a contact head).
    pub regression: super::study_panel::ProbeSaver,
}

impl StudyView for HeadsView {
    type Settings = HeadsSettings;
    type Output = Arc<HeadsStudy>;
    const ID: &'static str = "Heads";
    const TITLE: &'static str = "Heads";
    const ABOUT: &'static str = "Which attention heads track contacts: a layer x head screen of the APC-corrected attention maps";
    const SETTINGS_KEY: &'static str = "heads";
    const JOB_NAME: &'static str = "heads screen";

    fn new() -> Self {
        Self {
            grid_export: FigureExport::new("heads_grid.svg"),
            map_export: FigureExport::new("head_map.svg"),
            table_export: TableExport::new("heads.csv"),
            regression: super::study_panel::ProbeSaver::named(
                "heads_regression.safetensors",
                "Regression file",
                "Save regression",
            ),
            ..Self::default()
        }
    }

    fn settings(&self) -> &HeadsSettings {
        &self.settings
    }

    fn settings_mut(&mut self) -> &mut HeadsSettings {
        &mut self.settings
    }

    fn store_mut(&mut self) -> &mut StoreOptions {
        &mut self.settings.store
    }

    fn compute(
        model: &LoadedModel,
        settings: &HeadsSettings,
        ctx: &JobCtx,
    ) -> anyhow::Result<Arc<HeadsStudy>> {
        compute_heads(model, settings, ctx).map(Arc::new)
    }

    fn result_replaced(&mut self) {
        self.picked = None;
        self.regression.result_replaced();
        self.grid_export.result_replaced();
        self.map_export.result_replaced();
        self.table_export.result_replaced();
    }

    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        result: Option<&Arc<HeadsStudy>>,
        progress: Option<Progress>,
        error: Option<&str>,
        model: Option<&LoadedModel>,
    ) -> Option<JobClick> {
        heads_view_ui(ui, self, (result, progress, error), model)
    }
}

/// Structures, threshold, layers, baseline.
fn inputs_ui(ui: &mut egui::Ui, settings: &mut HeadsSettings, num_layers: Option<usize>) {
    let field_width = input_field_width(ui);
    egui::Grid::new("heads_inputs").num_columns(2).show(ui, |ui| {
        let label = ui.label("Structures");
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut settings.structures).desired_width(field_width))
                .labelled_by(label.id)
                .on_hover_text(
                    "PDB / mmCIF files, folders of them, or TS50-style JSON; separate several with ;",
                );
            browse_button(ui, &mut settings.structures, DialogKind::OpenStructures);
        });
        ui.end_row();
        let label = ui.label("Regression training");
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut settings.train).desired_width(field_width))
                .labelled_by(label.id)
                .on_hover_text(
                    "Structures to fit the all-heads regression on (fair-esm's contact head refitted: L1 logistic regression on every head's APC map); empty: none is fitted",
                );
            browse_button(ui, &mut settings.train, DialogKind::OpenStructures);
        });
        ui.end_row();
        store_folder_row(ui, &mut settings.store, field_width);
    });
    ui.horizontal_wrapped(|ui| {
        ui.add(
            egui::DragValue::new(&mut settings.threshold)
                .range(0.01..=1.0)
                .speed(0.01)
                .prefix("confident attention > "),
        )
        .on_hover_text("An attention weight above this counts as confident (Vig et al. 2021: 0.3)");
        layers_ui(ui, &mut settings.layers, num_layers);
        super::study_panel::untrained_checkbox(ui, &mut settings.compare_untrained);
    });
}

/// The heads view.
fn heads_view_ui(
    ui: &mut egui::Ui,
    view: &mut HeadsView,
    (result, progress, error): (Option<&Arc<HeadsStudy>>, Option<Progress>, Option<&str>),
    model: Option<&LoadedModel>,
) -> Option<JobClick> {
    inputs_ui(
        ui,
        &mut view.settings,
        model.map(|m| m.model.config().num_layers),
    );
    let settings = view.settings.clone();
    let command = view.controls.ui(
        ui,
        "Screen heads",
        StudyJob {
            model,
            progress,
            error,
        },
        &settings,
        &settings.store.root,
        heads_estimate_text,
    );
    let Some(result) = result else {
        ui.label("Screen the heads to see which of them attend along the protein's contacts.");
        return command;
    };
    let study: &HeadsStudy = result;
    let Some((best_layer, best)) = study.best_head() else {
        return command;
    };
    ui.separator();
    super::study_panel::provenance_line_ui(ui, &study.sweep.provenance);
    summary_ui(ui, study, (best_layer, best.head));
    regression_ui(ui, view, study, model);
    if view.picked.is_none() {
        view.picked = Some((best_layer, best.head));
    }
    super::two_columns::two_columns_ui(ui, |ui, column| {
        if column == 0 {
            grid_column_ui(ui, view, study);
        } else {
            overlay_column_ui(ui, view, result, model);
        }
    });
    command
}

/// The best head, the background and the chains scored.
fn summary_ui(ui: &mut egui::Ui, study: &HeadsStudy, (layer, head): (usize, usize)) {
    let Some(score) = study.score(false, layer, head) else {
        return;
    };
    let untrained = super::heads_grid::ranked_heads(&study.sweep.untrained, HeadMetric::LongAtL, 1);
    let untrained = untrained.first().map_or(String::new(), |(l, s)| {
        format!(
            " Untrained copy's best: layer {l}, head {}, {:.3}.",
            s.head + 1,
            s.precision.long.at_l
        )
    });
    let truncated = study.truncated_chains();
    ui.label(format!(
        "Best head: layer {layer}, head {}: long-range P@L {:.3}, P@L/5 {:.3}; {} of its confident attention on contacts against a background of {:.1} %.{untrained} {} chains{}.",
        head + 1,
        score.precision.long.at_l,
        score.precision.long.at_l5,
        share_text(score.attention.share()),
        100.0 * study.background_share(),
        study.chains.len(),
        if truncated > 0 {
            format!(", {truncated} of them scored on their first residues (the model's limit)")
        } else {
            String::new()
        },
    ))
    .on_hover_text(format!("The best head: {BEST_HEADS_LAYER}"));
}

/// The all-heads regression and the checkpoint's contact head on the chains, and the button
/// that saves the regression as a contact head.
fn regression_ui(
    ui: &mut egui::Ui,
    view: &mut HeadsView,
    study: &HeadsStudy,
    model: Option<&LoadedModel>,
) {
    let line = |p: &ContactPrecision| {
        format!(
            "long P@L {:.3}, P@L/5 {:.3}, medium P@L {:.3}",
            p.long.at_l, p.long.at_l5, p.medium.at_l
        )
    };
    let mut parts = Vec::new();
    for (name, fitted) in [
        ("All-heads regression", &study.regression),
        ("untrained copy's", &study.untrained_regression),
    ] {
        if let Some((fit, p)) = fitted {
            parts.push(format!(
                "{name}: {} ({} of {} heads, fitted on {} chains, {} pairs, {})",
                line(p),
                fit.regression.heads_used(),
                fit.regression.weights.len(),
                fit.chains,
                fit.pairs.0,
                crate::analysis::heads_regression::rows_source(fit)
            ));
        }
    }
    if let Some(p) = &study.contact_head {
        parts.push(format!("checkpoint's contact head: {}", line(p)));
    }
    if parts.is_empty() {
        return;
    }
    ui.label(format!("{}.", parts.join("; ")));
    let Some((fitted, precision)) = study.regression.clone() else {
        return;
    };
    let provenance = study.sweep.provenance.clone();
    view.regression.ui(
        ui,
        model,
        "safetensors (regression.weight, regression.bias): use it with --contact-head on probe and extract, with any checkpoint of this shape",
        move |_, path| {
            crate::analysis::best_probe::check_free(path).map_err(|e| e.to_string())?;
            let metadata = crate::probes::ProbeMetadata {
                kind: String::new(),
                model_fingerprint: provenance.model.fingerprint.clone(),
                model_name: provenance.model.name.clone(),
                layer: 0,
                classes: String::new(),
                test_metrics: None,
                contact_precision: Some(precision),
            };
            fitted
                .regression
                .save(&metadata, path)
                .map(|()| format!("saved the all-heads regression to {}", path.display()))
                .map_err(|e| e.to_string())
        },
    );
}

fn share_text(share: f64) -> String {
    if share.is_nan() {
        "none".into()
    } else {
        format!("{:.1} %", 100.0 * share)
    }
}

/// Metric, model, the grid and its export, the ranked table and the table export.
fn grid_column_ui(ui: &mut egui::Ui, view: &mut HeadsView, study: &HeadsStudy) {
    ui.horizontal_wrapped(|ui| {
        egui::ComboBox::from_label("colour by")
            .selected_text(view.metric.name())
            .show_ui(ui, |ui| {
                for metric in HeadMetric::ALL {
                    ui.selectable_value(&mut view.metric, metric, metric.name());
                }
            });
        if !study.sweep.untrained.is_empty() {
            ui.checkbox(&mut view.untrained_grid, "untrained copy")
                .on_hover_text(
                    "Show the untrained copy's heads (same architecture, random weights)",
                );
        }
    });
    let untrained = view.untrained_grid && !study.sweep.untrained.is_empty();
    let (runs, model) = if untrained {
        (&study.sweep.untrained, "untrained copy")
    } else {
        (
            &study.sweep.runs,
            study.sweep.provenance.model.name.as_str(),
        )
    };
    let figure = grid_figure(study, (runs, model), view.metric, view.picked);
    ui.label(format!(
        "{} by layer (rows) and head (columns), white 0 to dark blue {:.3}; hover a head for its values, click to draw it.",
        view.metric.name(),
        figure.value_range[1]
    ));
    heads_grid_ui(ui, study, runs, &figure, &mut view.picked);
    view.grid_export.follow(&crate::export::result_stem(&[
        "heads_grid",
        view.metric.slug(),
        model,
    ]));
    if figure_export_ui(ui, "Heads grid", &mut view.grid_export) {
        let mut figure = figure;
        view.grid_export
            .save(ui.ctx(), Some(&study.sweep.provenance), move |size| {
                figure.width = size.width;
                figure.height = size.height;
                crate::export::heatmap_svg(&figure)
            });
    }
    ui.separator();
    ui.strong(format!("Best heads by {}", view.metric.name()));
    ranked_table_ui(ui, runs, view.metric, &mut view.picked);
    view.table_export.follow(&crate::export::result_stem(&[
        "heads",
        &study.sweep.provenance.model.name,
    ]));
    if table_export_ui(ui, "Heads table", &mut view.table_export) {
        view.table_export.save(
            ui.ctx(),
            heads_study_table(study),
            Some(&study.sweep.provenance),
        );
    }
}

/// The chain picker, the overlay of the picked head (or the contact head) and its export.
fn overlay_column_ui(
    ui: &mut egui::Ui,
    view: &mut HeadsView,
    result: &Arc<HeadsStudy>,
    model: Option<&LoadedModel>,
) {
    let study: &HeadsStudy = result;
    let Some((layer, head)) = view.picked else {
        return;
    };
    view.chain = view.chain.min(study.chains.len().saturating_sub(1));
    egui::ComboBox::from_label("protein")
        .selected_text(study.chains[view.chain].id.clone())
        .show_ui(ui, |ui| {
            for (k, chain) in study.chains.iter().enumerate() {
                ui.selectable_value(
                    &mut view.chain,
                    k,
                    format!("{} ({} residues)", chain.id, chain.sequence.len()),
                );
            }
        })
        .response
        .on_hover_text("The protein whose true contacts the head's top-L pairs are drawn over");
    let key = (Arc::as_ptr(result) as usize, view.chain, layer, head);
    request_overlay(ui, view, key, study, model);
    if view.shown.as_ref().is_none_or(|s| s.key != key) {
        if let Some(progress) = view.overlay_job.progress() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "reading layer {layer}'s attention… {}",
                    progress.text()
                ));
            });
        }
        return;
    }
    map_choice_ui(ui, view);
    let shown = view.shown.as_ref().filter(|s| s.key == key);
    let Some(shown) = shown else { return };
    let (image, name) = match (view.map_of, &shown.contact_head, &shown.regression) {
        (MapOf::ContactHead, Some(image), _) => (image, "contact head".to_owned()),
        (MapOf::Regression, _, Some(image)) => (image, "all-heads regression".to_owned()),
        _ => (&shown.head, format!("layer {layer}, head {}", head + 1)),
    };
    let overlay = &shown.overlay;
    contact_map_plot_ui(
        ui,
        "head_map",
        image,
        (&overlay.chain_id, &overlay.sequence),
    );
    let stem = crate::export::result_stem(&[
        "head_map",
        &overlay.chain_id,
        &name,
        &study.sweep.provenance.model.name,
    ]);
    view.map_export.follow(&stem);
    if figure_export_ui(ui, "Head map", &mut view.map_export) {
        let (id, truth, predicted) = (
            overlay.chain_id.clone(),
            image.truth.clone(),
            image.predicted.clone(),
        );
        let label = format!("{name}, {}", study.sweep.provenance.model.name);
        let value_name = image.value_name;
        view.map_export
            .save(ui.ctx(), Some(&study.sweep.provenance), move |size| {
                crate::export::heatmap_svg(&map_figure(
                    &id,
                    &truth,
                    &predicted,
                    (&label, value_name),
                    size,
                ))
            });
    }
}

/// Picked head, contact head or refitted regression, and their precision on this chain.
fn map_choice_ui(ui: &mut egui::Ui, view: &mut HeadsView) {
    let Some(shown) = view.shown.as_ref() else {
        return;
    };
    let has_contact_head = shown.contact_head.is_some();
    let overlay = &shown.overlay;
    let pairs = ChainPairs::new(&overlay.truth);
    let line = |p: ContactPrecision| {
        format!(
            "long P@L {:.3}, P@L/5 {:.3}; medium P@L {:.3}",
            p.long.at_l, p.long.at_l5, p.medium.at_l
        )
    };
    let head_line = line(pairs.precision(&overlay.head_map));
    let contact_line = overlay
        .contact_head
        .as_ref()
        .map(|map| line(pairs.precision(map)));
    let regression_line = overlay
        .regression
        .as_ref()
        .map(|map| line(pairs.precision(map)));
    ui.horizontal_wrapped(|ui| {
        ui.label("Map:");
        ui.radio_value(
            &mut view.map_of,
            MapOf::PickedHead,
            format!("layer {}, head {}", overlay.layer, overlay.head + 1),
        )
        .on_hover_text(format!("On this protein: {head_line}"));
        if has_contact_head {
            ui.radio_value(
                &mut view.map_of,
                MapOf::ContactHead,
                "the checkpoint's contact head",
            )
            .on_hover_text(format!(
                "fair-esm's regression over every head, on this protein: {}",
                contact_line.clone().unwrap_or_default()
            ));
        }
        if let Some(regression) = &regression_line {
            ui.radio_value(
                &mut view.map_of,
                MapOf::Regression,
                "the all-heads regression",
            )
            .on_hover_text(format!(
                "The regression fitted in this study over every head, on this protein: {regression}"
            ));
        }
    });
    let mut summary = format!("On this protein: head {head_line}");
    match &contact_line {
        Some(contact) => summary.push_str(&format!("; contact head {contact}")),
        None => summary.push_str("; this checkpoint has no contact head to compare"),
    }
    if let Some(regression) = &regression_line {
        summary.push_str(&format!("; all-heads regression {regression}"));
    }
    summary.push('.');
    ui.weak(summary);
}

/// Starts the overlay of `key` when it is not on screen or on its way, with the model that
/// made the result (never another model); takes a finished one and builds its images.
fn request_overlay(
    ui: &mut egui::Ui,
    view: &mut HeadsView,
    key: OverlayKey,
    study: &HeadsStudy,
    model: Option<&LoadedModel>,
) {
    view.overlay_job.poll();
    if let Some(overlay) = view.overlay_job.result()
        && view.shown.as_ref().is_none_or(|s| s.key != key)
        && view.overlay_key == Some(key)
        && view.overlay_job.progress().is_none()
    {
        let overlay = overlay.clone();
        let head = ContactMapImage::new(
            ui,
            overlay.truth.clone(),
            scaled_to_unit(&overlay.head_map, overlay.truth.len),
            "APC score (scaled 0-1)",
            "head_map_head",
        );
        let contact_head = overlay.contact_head.as_ref().map(|map| {
            ContactMapImage::new(
                ui,
                overlay.truth.clone(),
                map.clone(),
                "contact-head p",
                "head_map_contacts",
            )
        });
        let regression = overlay.regression.as_ref().map(|map| {
            ContactMapImage::new(
                ui,
                overlay.truth.clone(),
                map.clone(),
                "regression p",
                "head_map_regression",
            )
        });
        view.shown = Some(ShownOverlay {
            key,
            overlay,
            head,
            contact_head,
            regression,
        });
    }
    if let Some(err) = view
        .overlay_job
        .error()
        .filter(|_| view.overlay_key == Some(key))
    {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("cannot draw this head: {err}"),
        );
        return;
    }
    if view.overlay_key == Some(key) {
        return;
    }
    let Some(model) = model.filter(|m| m.fingerprint == study.sweep.provenance.model.fingerprint)
    else {
        ui.weak(format!(
            "Load {} to draw this head's map (the result was made with it).",
            study.sweep.provenance.model.name
        ));
        return;
    };
    let (model, chain) = (model.clone(), study.chains[key.1].clone());
    let regression = study
        .regression
        .as_ref()
        .map(|(fit, _)| fit.regression.clone());
    view.overlay_key = Some(key);
    view.overlay_job.cancel();
    view.overlay_job
        .spawn_repainting(ui.ctx(), "head map", move |ctx| {
            Ok(head_overlay(
                &model,
                &chain,
                (key.2, key.3),
                regression.as_ref(),
                ctx,
            )?)
        });
}
