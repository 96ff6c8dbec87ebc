//! Embedding map: t-SNE or PCA of per-protein or per-residue representations as an interactive
//! scatter (egui_plot), coloured by any dataset column, the amino acid or its biochemical
//! group; the legend toggles categories, hovering names a point, clicking selects it.

use std::sync::Arc;

use eframe::egui;
use egui_plot::{Plot, PlotPoints, Points};

use super::aa_groups_panel::{AaGroupsPanel, aa_groups_panel_ui};
use super::app_command::{AppCommand, AppCommands};
use super::background_write::BackgroundWrite;
use super::data_panel::DatasetTable;
use super::figure_export::{FigureExport, figure_export_ui};
use super::file_dialog::{DialogKind, browse_button};
use super::job::{JobClick, JobView, Progress, job_controls};
use super::map_legend::{BESIDE_MIN_WIDTH, MapLegend, map_legend_ui};
use crate::analysis::JobCtx;
use crate::analysis::aa_groups_study::AaGroupsStudy;
use crate::analysis::map_study::{MapStudyRequest, Projected, Projection, run_map_study};
use crate::analysis::map_table::MapData;
use crate::analysis::projection_run::{MapPoints, PointLevel, residue_at};
use crate::data::ProteinSet;
use crate::export::Palette;
use crate::model::{Layers, LoadedModel};
use crate::projection::TsneParams;
use crate::store::StoreOptions;

/// Projection method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum MapMethod {
    /// Barnes-Hut t-SNE.
    #[default]
    Tsne,
    /// First two principal components.
    Pca,
}

/// What the user set up.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MapSettings {
    /// t-SNE or PCA.
    pub method: MapMethod,
    /// Protein or residue points.
    pub level: PointLevel,
    /// Representation layer.
    #[serde(default = "last_layer", deserialize_with = "layer_or_index")]
    pub layer: Layers,
    /// At most this many points.
    pub max_points: usize,
    /// t-SNE perplexity.
    pub perplexity: f64,
    /// Feature stores.
    #[serde(default)]
    pub store: StoreOptions,
}

fn last_layer() -> Layers {
    Layers::Last
}

/// A `Layers` value, or the layer index older sessions saved (`usize::MAX` meant the last).
fn layer_or_index<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Layers, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Saved {
        Layers(Layers),
        Index(u64),
    }
    Ok(match <Saved as serde::Deserialize>::deserialize(d)? {
        Saved::Layers(layers) => layers,
        Saved::Index(i) if i > i64::MAX as u64 => Layers::Last,
        Saved::Index(i) => Layers::Index(i as i64),
    })
}

impl Default for MapSettings {
    fn default() -> Self {
        Self {
            method: MapMethod::Tsne,
            level: PointLevel::Residue,
            layer: Layers::Last,
            max_points: 5000,
            perplexity: 30.0,
            store: StoreOptions::default(),
        }
    }
}

/// A computed map.
#[derive(Debug, Clone)]
pub struct MapResult {
    /// Point coordinates (the first two columns of `projected`, for the plot).
    pub coordinates: Vec<[f64; 2]>,
    /// The projection as computed (every component, as written to the point table).
    pub projected: Projected,
    /// What each point is.
    pub points: MapPoints,
    /// Settings it was computed with.
    pub settings: MapSettings,
    /// One line about the fit (KL divergence or explained variance) and the sample.
    pub summary: String,
    /// What the map shows, for figure titles: "t-SNE of 5000 residue embeddings, layer 4,
    /// starter_esm1b_t4_128".
    pub title: String,
    /// What its files are named after: method, level, layer and model.
    pub file_stem: String,
    /// Distinguishes this result from every other map of the session (see [`MapResult::next_id`]).
    pub id: u64,
    /// The model and the sampled set it maps.
    pub provenance: crate::provenance::Provenance,
}

impl MapResult {
    /// A new result id: views rebuild their cached series when the id changes.
    pub fn next_id() -> u64 {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// The study `settings` describe on `records` of the dataset `name`.
pub fn map_request(
    records: Vec<(String, String)>,
    name: &str,
    settings: &MapSettings,
) -> MapStudyRequest {
    let seed = 42;
    MapStudyRequest {
        records,
        dataset_name: name.to_owned(),
        layer: settings.layer.clone(),
        level: settings.level,
        max_points: settings.max_points,
        seed,
        projection: match settings.method {
            MapMethod::Tsne => Projection::Tsne(TsneParams {
                perplexity: settings.perplexity,
                seed,
                ..TsneParams::default()
            }),
            MapMethod::Pca => Projection::Pca {
                components: 2,
                seed,
            },
        },
        store: settings.store.clone(),
    }
}

/// Embeds (or reads the store) and projects on a worker thread (called from the job).
pub fn compute_map(
    model: &LoadedModel,
    records: Vec<(String, String)>,
    name: &str,
    settings: MapSettings,
    ctx: &JobCtx,
) -> anyhow::Result<MapResult> {
    let study = run_map_study(model, &map_request(records, name, &settings), ctx)?;
    let coordinates = study
        .projected
        .coordinates
        .rows()
        .into_iter()
        .map(|r| [f64::from(r[0]), f64::from(r.get(1).copied().unwrap_or(0.0))])
        .collect();
    let title = format!(
        "{} of {} {} embeddings, layer {}, {}",
        study.projected.method,
        study.points.features.nrows(),
        if study.points.position.is_some() {
            "residue"
        } else {
            "protein"
        },
        study.layer,
        model.name
    );
    let file_stem = crate::export::result_stem(&[
        match settings.method {
            MapMethod::Tsne => "tsne",
            MapMethod::Pca => "pca",
        },
        if study.points.position.is_some() {
            "residues"
        } else {
            "proteins"
        },
        &format!("layer{}", study.layer),
        &model.name,
    ]);
    Ok(MapResult {
        file_stem,
        coordinates,
        projected: study.projected,
        points: study.points,
        settings,
        summary: study.summary,
        title,
        id: MapResult::next_id(),
        provenance: study.provenance,
    })
}

/// Height of the list of boxed points under the map (points).
const BOX_LIST_HEIGHT: f32 = 160.0;

/// Points grouped by label for one (colour-by choice and palette, result id):
/// `((colour_by, palette), id, groups)`,
/// each group `(label, colour, point indices)`.
type ColourSeries = ((String, Palette), u64, Vec<(String, [u8; 3], Vec<usize>)>);

/// View state kept between frames.
#[derive(Debug, Default)]
pub struct MapView {
    /// Height of the page's view (the map tab scrolls), points: the map's height follows it.
    pub page_height: f32,
    /// Settings of the next computation.
    pub settings: MapSettings,
    /// Colour-by choice (a dataset column name, [`AMINO_ACID`] or [`GROUP`]).
    pub colour_by: String,
    /// The categories' palette.
    pub palette: Palette,
    /// Index of the clicked point.
    pub selected: Option<usize>,
    /// Points inside the last selection box.
    pub box_selection: Vec<usize>,
    /// Dragging draws a selection box instead of panning.
    pub box_select: bool,
    /// Where the selection box started (plot coordinates).
    drag_start: Option<egui_plot::PlotPoint>,
    /// Per-category point lists, rebuilt when the result or colour choice changes.
    series: Option<ColourSeries>,
    /// The same as plot points, borrowed by the plot every frame.
    series_points: Vec<Vec<egui_plot::PlotPoint>>,
    /// The legend: open or collapsed, and the categories hidden.
    pub legend: MapLegend,
    /// "Save figure" controls (SVG / PNG).
    pub figure_export: FigureExport,
    /// Where "Save data" writes: `.csv` / `.parquet` (the map table) or `.npy` (the points'
    /// embeddings).
    pub data_path: String,
    /// The data export's write (off the UI thread; a second click replaces a file).
    data_write: BackgroundWrite,
    /// The amino-acid groups panel.
    pub groups: AaGroupsPanel,
    /// The "Find" field: a protein id (or part of one) to highlight.
    pub find: String,
    /// The plot is zoomed or panned away from the whole map (its bounds are not automatic).
    zoomed: bool,
    /// The stem last proposed for the data file ([`crate::export::follow_name`]).
    data_suggested: Option<String>,
    /// "Reset view" was clicked: the next frame returns to the whole map.
    reset_view: bool,
    /// Why there is no map although one was shown (its data set was replaced).
    pub(super) stale_note: Option<String>,
}

impl MapView {
    /// A view with default export names.
    pub fn new() -> Self {
        Self {
            figure_export: FigureExport::new("map.svg"),
            data_path: "map.csv".into(),
            ..Self::default()
        }
    }

    /// Forgets everything that refers to the points of the map shown (selection, box,
    /// colouring, zoom): the map is gone.
    /// Another map is shown: messages about the previous one's files go.
    pub(super) fn result_replaced(&mut self) {
        self.figure_export.result_replaced();
        self.data_write.forget_message();
    }

    pub(super) fn forget_points(&mut self) {
        self.selected = None;
        self.box_selection.clear();
        self.drag_start = None;
        self.series = None;
        self.series_points.clear();
        self.zoomed = false;
        self.reset_view = false;
    }

    /// The current colouring as figure series (data coordinates), less the categories hidden
    /// in the legend: the figure shows what the plot shows.
    fn scatter_series(&self, result: &MapResult) -> Vec<crate::export::ScatterSeries> {
        let groups = self.series.as_ref().map(|s| &s.2[..]).unwrap_or(&[]);
        groups
            .iter()
            .filter(|(name, _, _)| !self.legend.is_hidden(name))
            .map(|(name, rgb, members)| crate::export::ScatterSeries {
                name: name.clone(),
                rgb: *rgb,
                points: members.iter().map(|&k| result.coordinates[k]).collect(),
            })
            .collect()
    }

    /// Saves the map table (`.csv` / `.parquet`) or the points' embeddings (`.npy`, `[points,
    /// embed_dim]` float32) at `data_path`, asking (by a second click) before replacing a file.
    fn export_data(
        &mut self,
        ctx: &egui::Context,
        result: &Arc<MapResult>,
        set: &ProteinSet,
        table: &DatasetTable,
    ) {
        let is_npy = std::path::Path::new(self.data_path.trim())
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        if is_npy {
            // The embeddings are copied and written on the worker (up to hundreds of MB).
            let result = Arc::clone(result);
            self.data_write
                .start(ctx, &self.data_path, "save-npy", move |path| {
                    let features = &result.points.features;
                    let data: Vec<f32> = features.iter().copied().collect();
                    crate::export::write_npy_f32(
                        path,
                        &[features.nrows(), features.ncols()],
                        &data,
                    )
                    .map_err(|e| e.to_string())?;
                    result
                        .provenance
                        .write_sidecar(path)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                });
        } else {
            match with_map_data(result, set, table, |data| {
                data.point_table(&result.projected)
            }) {
                Ok(mut frame) => {
                    let provenance = result.provenance.clone();
                    self.data_write
                        .start(ctx, &self.data_path, "save-map-table", move |path| {
                            crate::export::write_table_with_provenance(
                                path,
                                &mut frame,
                                &provenance,
                            )
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                        });
                }
                Err(e) => self.data_write.message = Some(e.to_string()),
            }
        }
    }
}

/// The buttons of the view clicked this frame: the map's and the amino-acid groups study's.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MapClicks {
    /// Compute / Cancel of the map.
    pub map: Option<JobClick>,
    /// Score / Cancel of the amino-acid groups study.
    pub groups: Option<JobClick>,
}

/// Points of the page's view taken by the rows around the map plot.
const MAP_FURNITURE_HEIGHT: f32 = 190.0;

/// The map view. `num_layers` is the loaded model's depth (None without a model).
pub fn map_view_ui(
    ui: &mut egui::Ui,
    view: &mut MapView,
    map: JobView<'_, Arc<MapResult>>,
    data: Option<(&ProteinSet, &DatasetTable)>,
    model: Option<&LoadedModel>,
    groups: JobView<'_, AaGroupsStudy>,
    commands: &mut AppCommands,
) -> MapClicks {
    let (result, progress, error) = (map.result, map.progress, map.error);
    let num_layers = model.map(|m| m.model.config().num_layers);
    let ready = num_layers.is_some() && data.is_some();
    let mut clicks = MapClicks {
        map: settings_row(ui, &mut view.settings, num_layers, ready, progress),
        groups: None,
    };
    if let Some(err) = error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
    clicks.groups = egui::CollapsingHeader::new("Amino-acid groups by layer")
        .id_salt("aa_groups")
        .default_open(groups.result.is_some() || groups.progress.is_some())
        .show(ui, |ui| {
            let set = data.map(|(set, _)| set);
            aa_groups_panel_ui(
                ui,
                &mut view.groups,
                groups,
                model,
                set,
                &view.settings.store,
            )
        })
        .body_returned
        .flatten();
    let (Some(result), Some((set, table))) = (result, data) else {
        match &view.stale_note {
            Some(note) => ui.label(note),
            None => ui.label("Compute a map to see the representation space."),
        };
        return clicks;
    };

    colour_row(ui, view, result, set, table);
    exports_ui(ui, view, result, set, table);
    let before = view.selected;
    let show_table = selection_row(ui, view, result, set, table);
    plot_and_legend_ui(ui, view, result, set, table);
    let protein = view.selected.map(|k| result.points.protein[k]);
    if let Some(protein) = protein
        && (show_table || view.selected != before)
    {
        commands.send(AppCommand::SelectProtein {
            protein,
            show_table,
        });
    }
    clicks
}

/// The first point of protein `protein` in `result`, if it has one.
pub fn first_point_of(result: &MapResult, protein: usize) -> Option<usize> {
    result.points.protein.iter().position(|&p| p == protein)
}

/// Method, points, layer, sample size, perplexity and the Compute / Cancel button.
fn settings_row(
    ui: &mut egui::Ui,
    settings: &mut MapSettings,
    num_layers: Option<usize>,
    ready: bool,
    progress: Option<Progress>,
) -> Option<JobClick> {
    ui.horizontal_wrapped(|ui| {
        ui.label("Method");
        ui.selectable_value(&mut settings.method, MapMethod::Tsne, "t-SNE")
            .on_hover_text("Non-linear map that keeps neighbourhoods (Barnes-Hut, seeded)");
        ui.selectable_value(&mut settings.method, MapMethod::Pca, "PCA")
            .on_hover_text("The two directions of largest variance (linear, fast)");
        ui.separator();
        ui.label("Points");
        ui.selectable_value(&mut settings.level, PointLevel::Residue, "residues")
            .on_hover_text("One point per residue (sampled across all proteins)");
        ui.selectable_value(&mut settings.level, PointLevel::Protein, "proteins")
            .on_hover_text("One point per protein: the mean of its residue embeddings");
        ui.separator();
        if let Some(layers) = num_layers {
            // The slider, its value and label lay out as one block that cannot wrap.
            if ui.available_size_before_wrap().x < super::study_panel::LAYER_SLIDER_WIDTH {
                ui.end_row();
            }
            let mut layer = settings
                .layer
                .resolve(layers)
                .ok()
                .and_then(|l| l.last().copied())
                .unwrap_or(layers);
            if ui
                .add(egui::Slider::new(&mut layer, 0..=layers).text("layer"))
                .on_hover_text(
                    "The layer whose representations are mapped (0: the token embeddings)",
                )
                .changed()
            {
                settings.layer = Layers::Index(layer as i64);
            }
        }
        ui.add(egui::DragValue::new(&mut settings.max_points).prefix("max points "))
            .on_hover_text(
                "At most this many points; more are sampled (seeded), and the map says how",
            );
        if settings.method == MapMethod::Tsne {
            ui.add(egui::DragValue::new(&mut settings.perplexity).prefix("perplexity "))
                .on_hover_text("t-SNE's effective number of neighbours per point (5-50 is usual)");
        }
        let why_disabled = (!ready).then_some("load a model and a dataset first");
        job_controls(ui, progress, 160.0, "Compute map", why_disabled)
    })
    .inner
}

/// The map's summary, the colouring choice, and the per-category point lists (rebuilt when the
/// result or the colouring changes).
fn colour_row(
    ui: &mut egui::Ui,
    view: &mut MapView,
    result: &MapResult,
    set: &ProteinSet,
    table: &DatasetTable,
) {
    let options = with_map_data(result, set, table, |data| data.colour_options());
    if !options.contains(&view.colour_by) {
        view.colour_by = with_map_data(result, set, table, |data| data.default_colour_by());
    }
    // The summary (fit and sample) on its own wrapped line, the colouring below it.
    super::study_panel::provenance_line_ui(ui, &result.provenance);
    ui.label(&result.summary);
    ui.horizontal(|ui| {
        if result.settings != view.settings {
            ui.weak("(settings changed: Compute map to update)");
        }
        egui::ComboBox::from_label("colour by")
            .selected_text(view.colour_by.clone())
            .show_ui(ui, |ui| {
                for option in &options {
                    ui.selectable_value(&mut view.colour_by, option.clone(), option);
                }
            })
            .response
            .on_hover_text("The column whose values colour the points (a legend entry per value)");
        egui::ComboBox::from_label("palette")
            .selected_text(view.palette.name())
            .show_ui(ui, |ui| {
                for palette in Palette::ALL {
                    ui.selectable_value(&mut view.palette, palette, palette.name());
                }
            })
            .response
            .on_hover_text(
                "Category colours: 20 distinct colours, or 7 that colour-blind readers tell apart \
                 (further categories are grey 'other'); numeric columns use viridis",
            );
    });
    let key = (view.colour_by.clone(), view.palette);
    if view.series.as_ref().map(|s| (&s.0, s.1)) != Some((&key, result.id)) {
        let groups = with_map_data(result, set, table, |data| {
            data.categories(&view.colour_by, view.palette)
        });
        view.series_points = groups
            .iter()
            .map(|(_, _, members)| {
                members
                    .iter()
                    .map(|&k| {
                        egui_plot::PlotPoint::new(
                            result.coordinates[k][0],
                            result.coordinates[k][1],
                        )
                    })
                    .collect()
            })
            .collect();
        view.series = Some((key, result.id, groups));
        view.legend.show_all();
        view.selected = None;
        view.box_selection.clear();
    }
}

/// "Save figure" (drawn from the data, SVG/PNG) and "Save data" (table or NPY) rows.
fn exports_ui(
    ui: &mut egui::Ui,
    view: &mut MapView,
    result: &Arc<MapResult>,
    set: &ProteinSet,
    table: &DatasetTable,
) {
    view.figure_export.follow(&result.file_stem);
    crate::export::follow_name(
        &mut view.data_path,
        &mut view.data_suggested,
        &result.file_stem,
        "csv",
    );
    if figure_export_ui(ui, "Map", &mut view.figure_export) {
        let series = view.scatter_series(result);
        let (title, axes) = (
            format!("{}, coloured by {}", result.title, view.colour_by),
            result.projected.axes.clone(),
        );
        let legend_title = view.colour_by.clone();
        view.figure_export
            .save(ui.ctx(), Some(&result.provenance), move |size| {
                let mut fig = crate::export::ScatterFigure::new(title, series);
                fig.legend_title = legend_title;
                if let Some((x, y)) = axes {
                    fig.x_label = x;
                    fig.y_label = y;
                }
                fig.width = size.width;
                fig.height = size.height;
                crate::export::scatter_svg(&fig)
            });
    }
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Data file");
        ui.add(
            egui::TextEdit::singleline(&mut view.data_path)
                .desired_width(200.0)
                .hint_text("map.csv / map.parquet / embeddings.npy"),
        )
        .labelled_by(label.id)
        .on_hover_text(
            ".csv / .parquet: one row per point; .npy: the points' embeddings [points, dim]",
        );
        browse_button(ui, &mut view.data_path, DialogKind::SaveTable);
        view.data_write.poll();
        if ui
            .add_enabled(
                !view.data_write.is_running(),
                egui::Button::new("Save data (CSV/Parquet/NPY)"),
            )
            .on_hover_text(
                "The points' coordinates and columns (.csv/.parquet), or their embeddings (.npy)",
            )
            .clicked()
        {
            view.export_data(ui.ctx(), result, set, table);
        }
        if let Some(message) = &view.data_write.message {
            ui.label(message);
        }
    });
}

/// The navigation hint, "Find" a point by protein id, box selection and the selected point.
/// True when "Show in data table" was clicked.
fn selection_row(
    ui: &mut egui::Ui,
    view: &mut MapView,
    result: &MapResult,
    set: &ProteinSet,
    table: &DatasetTable,
) -> bool {
    let mut show_table = false;
    ui.horizontal_wrapped(|ui| {
        ui.weak(
            "Wheel: zoom at the pointer; drag: pan; double-click: reset the view; \
             click a legend entry to hide or show its points.",
        );
        if view.zoomed
            && ui
                .button("Reset view")
                .on_hover_text("Back to the whole map (double-clicking the plot does the same)")
                .clicked()
        {
            view.reset_view = true;
        }
        let find_label = ui.label("Find");
        let find = ui
            .add(
                egui::TextEdit::singleline(&mut view.find)
                    .desired_width(140.0)
                    .hint_text("protein id"),
            )
            .labelled_by(find_label.id)
            .on_hover_text("Highlights the first point whose protein id contains this text");
        if find.changed() {
            view.selected = find_point(result, set, &view.find);
        }
        if !view.find.trim().is_empty() && view.selected.is_none() {
            ui.weak("no point of that id in the map");
        }
        ui.checkbox(&mut view.box_select, "Box select")
            .on_hover_text("Drag to select the points in a rectangle (panning is off meanwhile)");
        if !view.box_selection.is_empty() {
            ui.label(format!("{} points in the box", view.box_selection.len()));
            if ui
                .button("Clear selection")
                .on_hover_text("Empty the box selection")
                .clicked()
            {
                view.box_selection.clear();
            }
        }
        if let Some(k) = view.selected {
            ui.label(format!(
                "Selected: {}",
                describe(result, set, table, &view.colour_by, k)
            ));
            show_table = ui
                .button("Show in data table")
                .on_hover_text("Open the Data tab at this protein's row (selected there too)")
                .clicked();
        }
    });
    show_table
}

/// The scatter with its legend beside it (under it on a narrow page).
fn plot_and_legend_ui(
    ui: &mut egui::Ui,
    view: &mut MapView,
    result: &MapResult,
    set: &ProteinSet,
    table: &DatasetTable,
) {
    let height = plot_height(view);
    let categories = view.series.take();
    let groups = categories.as_ref().map(|s| &s.2[..]).unwrap_or(&[]);
    let points = result.coordinates.len();
    let title = view.colour_by.clone();
    if ui.available_width() >= BESIDE_MIN_WIDTH {
        ui.horizontal_top(|ui| {
            let width =
                ui.available_width() - view.legend.beside_width() - ui.spacing().item_spacing.x;
            plot_ui(ui, view, groups, (result, set, table), [width, height]);
            ui.vertical(|ui| {
                map_legend_ui(
                    ui,
                    &mut view.legend,
                    &title,
                    groups,
                    points,
                    (true, height - 30.0),
                );
            });
        });
    } else {
        map_legend_ui(
            ui,
            &mut view.legend,
            &title,
            groups,
            points,
            (false, height),
        );
        let width = ui.available_width();
        plot_ui(ui, view, groups, (result, set, table), [width, height]);
    }
    view.series = categories;
}

/// The plot's height: the page's view less the rows above and below the plot (settings,
/// summary, toolbar, export rows, the box list).
fn plot_height(view: &MapView) -> f32 {
    let list_height = if view.box_selection.is_empty() {
        0.0
    } else {
        BOX_LIST_HEIGHT
    };
    (view.page_height - MAP_FURNITURE_HEIGHT - list_height).max(240.0)
}

/// The scatter, `[width, height]` points: one series per shown category, the box and the
/// selection outlined; then its input.
fn plot_ui(
    ui: &mut egui::Ui,
    view: &mut MapView,
    groups: &[super::map_legend::Category],
    (result, set, table): (&MapResult, &ProteinSet, &DatasetTable),
    [width, height]: [f32; 2],
) {
    let highlight = ui.visuals().strong_text_color();
    let radius = if result.coordinates.len() > 20_000 {
        1.2
    } else {
        2.0
    };
    let selected_point = view.selected.map(|k| result.coordinates[k]);
    let boxed: Vec<[f64; 2]> = view
        .box_selection
        .iter()
        .map(|&k| result.coordinates[k])
        .collect();
    let drag_box = view.drag_start;
    let series_points = &view.series_points;
    let legend = &view.legend;
    let reset = std::mem::take(&mut view.reset_view);
    let response = Plot::new("embedding_map")
        .data_aspect(1.0)
        .show_axes(false)
        .show_grid(false)
        .allow_drag(!view.box_select)
        .allow_scroll(false)
        .width(width.max(120.0))
        .height(height)
        .show(ui, |plot| {
            if reset {
                plot.set_auto_bounds(true);
            }
            zoom_on_wheel(plot);
            for ((name, [r, g, b], members), points) in groups.iter().zip(series_points) {
                if legend.is_hidden(name) {
                    continue;
                }
                let colour = egui::Color32::from_rgb(*r, *g, *b);
                plot.points(
                    Points::new(
                        format!("{name} ({})", members.len()),
                        PlotPoints::Borrowed(points),
                    )
                    .color(colour)
                    .radius(radius),
                );
            }
            if !boxed.is_empty() {
                plot.points(
                    Points::new("", PlotPoints::new(boxed))
                        .color(highlight)
                        .shape(egui_plot::MarkerShape::Circle)
                        .filled(false)
                        .radius(radius + 2.0),
                );
            }
            if let (Some(start), Some(now)) = (drag_box, plot.pointer_coordinate()) {
                let corners = vec![
                    [start.x, start.y],
                    [now.x, start.y],
                    [now.x, now.y],
                    [start.x, now.y],
                    [start.x, start.y],
                ];
                plot.line(egui_plot::Line::new("", PlotPoints::new(corners)).color(highlight));
            }
            // The selection is an outline around the point (not a legend category).
            if let Some(point) = selected_point {
                plot.points(
                    Points::new("", PlotPoints::new(vec![point]))
                        .color(highlight)
                        .shape(egui_plot::MarkerShape::Circle)
                        .filled(false)
                        .radius(radius + 4.0),
                );
            }
            !plot.auto_bounds().any()
        });
    response.response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::accesskit::Role::Canvas, true, "Embedding map plot")
    });
    view.zoomed = response.inner;
    plot_input(ui, view, (result, set, table), &response);
}

/// Box selection by drag, hover text and click selection of the nearest point, and the list
/// of boxed points.
fn plot_input(
    ui: &mut egui::Ui,
    view: &mut MapView,
    (result, set, table): (&MapResult, &ProteinSet, &DatasetTable),
    response: &egui_plot::PlotResponse<bool>,
) {
    if view.box_select {
        let inner = &response.response;
        let to_plot = |pos: egui::Pos2| response.transform.value_from_position(pos);
        if inner.drag_started()
            && let Some(pos) = inner.interact_pointer_pos()
        {
            view.drag_start = Some(to_plot(pos));
        }
        if inner.drag_stopped()
            && let (Some(start), Some(pos)) = (view.drag_start.take(), inner.interact_pointer_pos())
        {
            let end = to_plot(pos);
            view.box_selection =
                points_in_box(&result.coordinates, [start.x, start.y], [end.x, end.y]);
            view.box_selection
                .retain(|&k| !view.legend.is_point_hidden(k));
        }
    }
    let nearest = response.response.hover_pos().and_then(|pointer| {
        result
            .coordinates
            .iter()
            .enumerate()
            .filter(|&(k, _)| !view.legend.is_point_hidden(k))
            .map(|(k, c)| {
                let screen = response
                    .transform
                    .position_from_point(&egui_plot::PlotPoint::new(c[0], c[1]));
                (k, screen.distance_sq(pointer))
            })
            .filter(|&(_, d)| d < 64.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
    });
    if let Some(k) = nearest {
        let text = describe(result, set, table, &view.colour_by, k);
        response.response.clone().on_hover_text_at_pointer(text);
        if response.response.clicked() {
            view.selected = Some(k);
        }
    }
    if !view.box_selection.is_empty() {
        egui::ScrollArea::vertical()
            .id_salt("box_selection")
            .max_height(BOX_LIST_HEIGHT)
            .show_rows(ui, 18.0, view.box_selection.len(), |ui, range| {
                for &k in &view.box_selection[range] {
                    if ui
                        .selectable_label(
                            view.selected == Some(k),
                            describe(result, set, table, &view.colour_by, k),
                        )
                        .on_hover_text("Select (outline) this point")
                        .clicked()
                    {
                        view.selected = Some(k);
                    }
                }
            });
    }
}

/// Indices of the points inside the rectangle with corners `a` and `b` (any order).
pub fn points_in_box(coordinates: &[[f64; 2]], a: [f64; 2], b: [f64; 2]) -> Vec<usize> {
    let (x0, x1) = (a[0].min(b[0]), a[0].max(b[0]));
    let (y0, y1) = (a[1].min(b[1]), a[1].max(b[1]));
    coordinates
        .iter()
        .enumerate()
        .filter(|(_, c)| (x0..=x1).contains(&c[0]) && (y0..=y1).contains(&c[1]))
        .map(|(k, _)| k)
        .collect()
}

/// `id [position residue] · label · sequence snippet`.
fn describe(
    result: &MapResult,
    set: &ProteinSet,
    table: &DatasetTable,
    colour_by: &str,
    k: usize,
) -> String {
    let protein = result.points.protein[k];
    let record = &set.records[protein];
    let snippet: String = match result.points.position.as_ref().map(|p| p[k]) {
        Some(position) => {
            let start = position.saturating_sub(5);
            let end = (position + 6).min(record.sequence.len());
            format!(
                "residue {} {} · …{}…",
                position + 1,
                residue_at(&record.sequence, position),
                &record.sequence[start..end]
            )
        }
        None => record.sequence.chars().take(30).collect::<String>() + "…",
    };
    format!(
        "{} · {colour_by}: {} · {snippet}",
        record.id,
        with_map_data(result, set, table, |data| data.label(colour_by, k))
    )
}

/// Calls `f` with the result's points and the data set they index (the same labels,
/// categories and point table as `esm-workbench project`).
fn with_map_data<T>(
    result: &MapResult,
    set: &ProteinSet,
    table: &DatasetTable,
    f: impl FnOnce(MapData<'_>) -> T,
) -> T {
    let sequences: Vec<&str> = set.records.iter().map(|r| r.sequence.as_str()).collect();
    f(MapData {
        points: &result.points,
        sequences: &sequences,
        columns: &table.columns,
    })
}

/// The mouse wheel zooms around the pointer (egui_plot pans on it by default, which users of
/// other plotting tools do not expect); dragging still pans and a double click resets.
fn zoom_on_wheel(plot: &mut egui_plot::PlotUi<'_>) {
    if !plot.response().hovered() {
        return;
    }
    let wheel = plot.ctx().input(|i| i.smooth_scroll_delta.y);
    if wheel != 0.0 {
        let factor = (wheel / 200.0).exp();
        plot.zoom_bounds_around_hovered(egui::Vec2::splat(factor));
    }
}

/// The first point whose protein id contains `query` (case-insensitive; `None` when empty).
fn find_point(result: &MapResult, set: &ProteinSet, query: &str) -> Option<usize> {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return None;
    }
    result
        .points
        .protein
        .iter()
        .position(|&p| set.records[p].id.to_lowercase().contains(&query))
}
