//! `esm-workbench project tsne | pca | kl`: maps of representations as tables.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use ndarray::Array2;
use polars::prelude::{Column, DataFrame};

use super::probe::ModelArg;
use super::progress::with_progress_bar;
use super::study_args::StoreArgs;
use crate::analysis::JobCtx;
use crate::analysis::map_study::{
    MapStudy, MapStudyRequest, Projected, Projection, estimate_map_study, project, run_map_study,
};
use crate::analysis::map_table::{AMINO_ACID, GROUP, MapData, ProteinColumns};
use crate::analysis::projection_run::PointLevel;
use crate::export::{Palette, PointCategory, read_npy_matrix, write_npy_f32, write_table};
use crate::model::Layers;
use crate::projection::{TsneParams, fit_pca, kl_divergence, perplexity_affinities};
use crate::provenance::Provenance;

/// Which map.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ProjectCommand {
    /// t-SNE (Barnes-Hut, openTSNE defaults) to 2-D.
    Tsne(TsneArgs),
    /// Principal components.
    Pca(PcaArgs),
    /// KL divergence of any 2-D map (e.g. another tool's t-SNE, as .npy) of the given points.
    Kl(KlArgs),
}

/// Where the points come from: an .npy matrix, or a model and sequences.
#[derive(Debug, Clone, clap::Args)]
pub struct PointsArgs {
    /// A `[points, dims]` matrix (.npy) to map instead of embedding sequences.
    #[arg(long, conflicts_with_all = ["model", "fasta", "astral"])]
    pub points: Option<PathBuf>,
    /// Checkpoint (fair-esm .pt, Hugging Face folder, workbench .safetensors).
    #[arg(long, required_unless_present = "points")]
    pub model: Option<PathBuf>,
    /// Use random weights with the model's architecture (the paper's untrained baseline).
    #[arg(long)]
    pub untrained: bool,
    /// Sequences (FASTA); protein-level rows keep the header and metadata columns.
    #[arg(long, conflicts_with = "astral")]
    pub fasta: Option<PathBuf>,
    /// Metadata table joined to --fasta by its `id` column (CSV/TSV/Parquet).
    #[arg(long, requires = "fasta")]
    pub metadata: Option<PathBuf>,
    /// SCOPe/ASTRAL FASTA; rows get sccs, class, fold, superfamily and family.
    #[arg(long)]
    pub astral: Option<PathBuf>,
    /// Representation layer (negative counts from the end).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub layer: i64,
    /// One point per protein (mean over residues) or per residue.
    #[arg(long, value_enum, default_value_t = Level::Protein)]
    pub level: Level,
    /// At most this many points.
    #[arg(long, default_value_t = 20_000)]
    pub max_points: usize,
    /// Seed (untrained weights, residue sampling, t-SNE's PCA start).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The table to write: .csv or .parquet (one row per point, coordinates last).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the mapped features as .npy.
    #[arg(long)]
    pub features_out: Option<PathBuf>,
    /// Feature store (every layer of the mapped proteins; a map of another layer reuses it).
    #[command(flatten)]
    pub store: StoreArgs,
    /// Also draw the map as a figure: .svg, or .png at `--dpi` (an existing file is kept).
    #[arg(long)]
    pub figure: Option<PathBuf>,
    /// Resolution of a .png figure, dots per inch (the figure is 800 x 640 px at 96 DPI).
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
    /// Column that colours the figure (`group` or `amino_acid` for residues, or a column of
    /// the data); default as in the GUI: `group` for residues, else the first column with 2
    /// to 20 values among the points (gene, species, fold).
    #[arg(long)]
    pub colour_by: Option<String>,
    /// Category colours of the figure: `tableau20` (20 colours) or `okabe-ito` (7 colours that
    /// colour-blind readers tell apart; further categories are grey "other").
    #[arg(long, value_enum, default_value_t = FigurePalette::Tableau20)]
    pub palette: FigurePalette,
}

/// Point level on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// Mean representation per protein.
    Protein,
    /// Every residue.
    Residue,
}

/// Options of `project tsne`.
#[derive(Debug, Clone, clap::Args)]
pub struct TsneArgs {
    /// Points and output.
    #[command(flatten)]
    pub points: PointsArgs,
    /// Perplexity.
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f64,
    /// Iterations in total.
    #[arg(long, default_value_t = 750)]
    pub iterations: usize,
    /// Early exaggeration.
    #[arg(long, default_value_t = 12.0)]
    pub exaggeration: f64,
    /// Early-exaggeration iterations.
    #[arg(long, default_value_t = 250)]
    pub early_iterations: usize,
    /// Learning rate (default: max(200, points / exaggeration)).
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Barnes-Hut accuracy (0 = exact).
    #[arg(long, default_value_t = 0.5)]
    pub theta: f64,
    /// Principal components kept before t-SNE (0 = none).
    #[arg(long, default_value_t = 50)]
    pub pca_dims: usize,
}

/// Options of `project pca`.
#[derive(Debug, Clone, clap::Args)]
pub struct PcaArgs {
    /// Points and output.
    #[command(flatten)]
    pub points: PointsArgs,
    /// Components to keep.
    #[arg(long, default_value_t = 2)]
    pub components: usize,
}

/// Options of `project kl`.
#[derive(Debug, Clone, clap::Args)]
pub struct KlArgs {
    /// The `[points, dims]` input (.npy).
    #[arg(long)]
    pub points: PathBuf,
    /// One or more `[points, 2]` maps (.npy).
    #[arg(long, num_args = 1.., required = true)]
    pub map: Vec<PathBuf>,
    /// Perplexity of the affinities.
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f64,
    /// Principal components kept before computing affinities (0 = none), as `tsne` does.
    #[arg(long, default_value_t = 50)]
    pub pca_dims: usize,
}

/// Runs a projection subcommand.
pub fn run(command: &ProjectCommand) -> anyhow::Result<()> {
    match command {
        ProjectCommand::Tsne(args) => {
            let params = TsneParams {
                perplexity: args.perplexity,
                iterations: args.iterations,
                early_exaggeration: args.exaggeration,
                early_exaggeration_iterations: args.early_iterations,
                learning_rate: args.learning_rate,
                theta: args.theta,
                pca_dimensions: args.pca_dims,
                seed: args.points.seed,
            };
            let title = format!("t-SNE, perplexity {:.0}", params.perplexity);
            map(&args.points, Projection::Tsne(params), &title)
        }
        ProjectCommand::Pca(args) => {
            let projection = Projection::Pca {
                components: args.components,
                seed: args.points.seed,
            };
            map(&args.points, projection, "PCA")
        }
        ProjectCommand::Kl(args) => {
            let points = read_npy_matrix(&args.points)?;
            let input = if args.pca_dims > 0 && points.ncols() > args.pca_dims {
                fit_pca(points.view(), args.pca_dims, 42)?.transform(points.view())?
            } else {
                points
            };
            let p = perplexity_affinities(input.view(), args.perplexity, &JobCtx::default())?;
            for path in &args.map {
                let map = read_npy_matrix(path)?;
                let kl =
                    kl_divergence(&p, map.view()).with_context(|| path.display().to_string())?;
                println!("{}\t{kl:.4}", path.display());
            }
            Ok(())
        }
    }
}

/// How a map's points are coloured: the column and its categories `(label, colour, points)`.
type Colouring = (String, Vec<PointCategory>);

/// The colouring of the figure: `--colour-by` (or the map's default, as in the GUI) over the
/// points' data; points from an `.npy` file are one grey-free series.
fn colouring(
    args: &PointsArgs,
    data: Option<MapData<'_>>,
    count: usize,
) -> anyhow::Result<Colouring> {
    let Some(data) = data else {
        if args.colour_by.is_some() {
            bail!(
                "--colour-by needs points with data (--model with --fasta or --astral); an .npy file has no columns"
            );
        }
        let palette: Palette = args.palette.into();
        return Ok((
            "points".into(),
            vec![("points".into(), palette.colours()[0], (0..count).collect())],
        ));
    };
    let options = data.colour_options();
    let column = match &args.colour_by {
        Some(c) if options.contains(c) => c.clone(),
        Some(c) => bail!(
            "--colour-by {c:?}: no such column; the points can be coloured by {}",
            options.join(", ")
        ),
        None => data.default_colour_by(),
    };
    let categories = data.categories(&column, args.palette.into());
    Ok((column, categories))
}

/// Draws the first two columns of `coordinates` with `colouring` when `--figure` is set.
fn draw(
    args: &PointsArgs,
    colouring: Colouring,
    coordinates: &Array2<f32>,
    title: &str,
    axes: Option<(String, String)>,
    provenance: Option<&Provenance>,
) -> anyhow::Result<()> {
    let Some(path) = &args.figure else {
        return Ok(());
    };
    let (column, categories) = colouring;
    let series = categories
        .into_iter()
        .map(|(name, rgb, members)| crate::export::ScatterSeries {
            name,
            rgb,
            points: members
                .iter()
                .filter(|&&k| k < coordinates.nrows())
                .map(|&k| {
                    [
                        f64::from(coordinates[(k, 0)]),
                        f64::from(coordinates.get((k, 1)).copied().unwrap_or(0.0)),
                    ]
                })
                .collect(),
        })
        .collect();
    let mut figure =
        crate::export::ScatterFigure::new(format!("{title}, coloured by {column}"), series);
    figure.legend_title = column;
    if let Some((x, y)) = axes {
        figure.x_label = x;
        figure.y_label = y;
    }
    crate::export::write_scatter_figure(path, &figure, args.dpi, false)?;
    eprintln!("wrote {}", path.display());
    sidecar(path, provenance)
}

/// Writes the point table (with the map's provenance beside it when the points came from a
/// model).
fn write(out: &Path, table: &mut DataFrame, provenance: Option<&Provenance>) -> anyhow::Result<()> {
    write_table(out, table)?;
    eprintln!("wrote {} ({} rows)", out.display(), table.height());
    sidecar(out, provenance)
}

/// `PATH.provenance.json` beside a written file of a model's map.
fn sidecar(path: &Path, provenance: Option<&Provenance>) -> anyhow::Result<()> {
    if let Some(provenance) = provenance {
        let sidecar = provenance.write_sidecar(path)?;
        eprintln!("wrote {}", sidecar.display());
    }
    Ok(())
}

/// Maps the points (from `--points`, or the model's map study), then writes the table and
/// the figure.
fn map(args: &PointsArgs, projection: Projection, title: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    crate::export::checked_dpi("figure resolution (--dpi)", args.dpi)?;
    let Some(path) = &args.points else {
        return map_sequences(args, projection, title, start);
    };
    let (points, mut table) = read_points_file(path, args.max_points)?;
    let projected = with_progress_bar("map", move |ctx| project(&points, &projection, &ctx))??;
    report(&projected, start);
    add_coordinates(&mut table, &projected)?;
    let colouring = colouring(args, None, table.height())?;
    let axes = projected.axes.clone();
    draw(args, colouring, &projected.coordinates, title, axes, None)?;
    write(&args.out, &mut table, None)
}

/// The map study on `--fasta` / `--astral`: the point table (the same as the GUI's map export)
/// and the figure.
fn map_sequences(
    args: &PointsArgs,
    projection: Projection,
    title: &str,
    start: Instant,
) -> anyhow::Result<()> {
    let (records, frame, name) = read_records(args)?;
    let columns = ProteinColumns::from_frame(&frame)?;
    check_colour_by(args, &columns)?;
    let study = study_points(args, projection, &records, name)?;
    report(&study.projected, start);
    let sequences: Vec<&str> = records.iter().map(|(_, s)| s.as_str()).collect();
    let data = MapData {
        points: &study.points,
        sequences: &sequences,
        columns: &columns,
    };
    let mut table = data.point_table(&study.projected)?;
    let colouring = colouring(args, Some(data), table.height())?;
    let axes = study.projected.axes.clone();
    let provenance = Some(&study.provenance);
    // Titled like the GUI's figure: what, which layer, which model.
    let title = format!(
        "{title}, layer {}, {}",
        study.layer, study.provenance.model.name
    );
    draw(
        args,
        colouring,
        &study.projected.coordinates,
        &title,
        axes,
        provenance,
    )?;
    write(&args.out, &mut table, provenance)
}

/// `--colour-by` names a column of the data (or, for residues, `group` / `amino_acid`):
/// checked before any embedding.
fn check_colour_by(args: &PointsArgs, columns: &ProteinColumns) -> anyhow::Result<()> {
    let Some(column) = &args.colour_by else {
        return Ok(());
    };
    let mut options: Vec<&str> = Vec::new();
    if args.level == Level::Residue {
        options.extend([GROUP, AMINO_ACID]);
    }
    options.extend(columns.names.iter().map(String::as_str));
    if !options.contains(&column.as_str()) {
        bail!(
            "--colour-by {column:?}: no such column; the points can be coloured by {}",
            options.join(", ")
        );
    }
    Ok(())
}

/// One line about the fit and the time it took.
fn report(projected: &Projected, start: Instant) {
    eprintln!(
        "{} of {} points: {}, {:.2} s",
        projected.method,
        projected.coordinates.nrows(),
        projected.summary,
        start.elapsed().as_secs_f64()
    );
}

/// Points from an `.npy` file (the first `max_points` rows), with a `point` index table.
fn read_points_file(path: &Path, max_points: usize) -> anyhow::Result<(Array2<f32>, DataFrame)> {
    let mut points = read_npy_matrix(path)?;
    if points.nrows() > max_points {
        points = points.slice(ndarray::s![..max_points, ..]).to_owned();
    }
    let index: Vec<u32> = (0..points.nrows() as u32).collect();
    let table = DataFrame::new(points.nrows(), vec![Column::new("point".into(), index)])?;
    Ok((points, table))
}

/// `(id, sequence)` records, their table, and the dataset's name.
type Records = (Vec<(String, String)>, DataFrame, String);

/// The sequences of `--fasta` (with `--metadata`) or `--astral` and their table, read as the
/// GUI opens data files (so both write the same point table).
fn read_records(args: &PointsArgs) -> anyhow::Result<Records> {
    let (first, files): (&PathBuf, Vec<PathBuf>) = match (&args.fasta, &args.astral) {
        (Some(fasta), _) => (
            fasta,
            std::iter::once(fasta.clone())
                .chain(args.metadata.clone())
                .collect(),
        ),
        (None, Some(astral)) => (astral, vec![astral.clone()]),
        (None, None) => bail!("give the sequences with --fasta or --astral"),
    };
    let set = crate::data::open_data_files(&files)?;
    let pairs = set
        .records
        .into_iter()
        .map(|r| (r.id, r.sequence))
        .collect();
    Ok((pairs, set.frame, crate::store::dataset_label(first)))
}

/// The map study on `records` (the data set `name`) with the model of `--model`.
fn study_points(
    args: &PointsArgs,
    projection: Projection,
    records: &[(String, String)],
    name: String,
) -> anyhow::Result<MapStudy> {
    let model_path = args
        .model
        .clone()
        .context("--model or --points is required")?;
    let model = ModelArg {
        model: model_path,
        untrained: args.untrained,
        seed: args.seed,
        contact_head: None,
    }
    .load()?;
    let request = MapStudyRequest {
        records: records.to_vec(),
        dataset_name: name,
        layer: Layers::Index(args.layer),
        level: match args.level {
            Level::Protein => PointLevel::Protein,
            Level::Residue => PointLevel::Residue,
        },
        max_points: args.max_points,
        seed: args.seed,
        projection,
        store: args.store.options(),
    };
    let estimate = estimate_map_study(&model, &request)?;
    super::progress::announce_estimate(&estimate)?;
    let study = with_progress_bar("map", move |ctx| run_map_study(&model, &request, &ctx))??;
    eprintln!(
        "{} points from layer {} ({} residues embedded; store {})",
        study.points.features.nrows(),
        study.layer,
        study.residues_embedded,
        study.store.display()
    );
    if let Some(path) = &args.features_out {
        let (rows, cols) = study.points.features.dim();
        let flat = study.points.features.as_standard_layout();
        write_npy_f32(path, &[rows, cols], flat.as_slice().unwrap_or(&[]))?;
        sidecar(path, Some(&study.provenance))?;
    }
    Ok(study)
}

/// Appends the projection's coordinate columns to the `.npy` points' index table.
fn add_coordinates(table: &mut DataFrame, projected: &Projected) -> anyhow::Result<()> {
    for (c, name) in projected.columns.iter().enumerate() {
        let values: Vec<f32> = projected.coordinates.column(c).to_vec();
        table.with_column(Column::new(name.as_str().into(), values))?;
    }
    Ok(())
}

/// `--palette` choices (see [`crate::export::Palette`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FigurePalette {
    /// Tableau 20.
    Tableau20,
    /// Okabe & Ito's colour-blind-safe colours.
    OkabeIto,
}

impl From<FigurePalette> for crate::export::Palette {
    fn from(palette: FigurePalette) -> Self {
        match palette {
            FigurePalette::Tableau20 => Self::Tableau20,
            FigurePalette::OkabeIto => Self::OkabeIto,
        }
    }
}
