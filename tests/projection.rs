//! Maps of real representations: the starter model's residue points from the demo set, by
//! t-SNE and PCA, and the tables the `project` command writes.

use esm_workbench::analysis::JobCtx;
use esm_workbench::analysis::map_study::{MapStudyRequest, Projection, run_map_study};
use esm_workbench::analysis::projection_run::PointLevel;
use esm_workbench::data::FastaReader;
use esm_workbench::model::LoadedModel;
use esm_workbench::model::starter::starter_model_path;
use esm_workbench::projection::{TsneParams, fit_pca};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn residue_points_of_the_same_amino_acid_are_map_neighbours() -> TestResult {
    let model_path = starter_model_path().ok_or("the starter model is missing from assets/")?;
    let model = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let fasta = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets/demo/uniprot_orthologs.fasta");
    let records: Vec<(String, String)> = FastaReader::read_all(&fasta)?
        .into_iter()
        .map(|r| (r.id, r.sequence))
        .collect();
    let stores = tempfile::tempdir()?;
    let mut request = MapStudyRequest {
        records: records.clone(),
        dataset_name: "orthologs".into(),
        layer: esm_workbench::model::Layers::Index(1),
        level: PointLevel::Residue,
        max_points: 800,
        seed: 3,
        projection: Projection::Tsne(TsneParams {
            iterations: 300,
            early_exaggeration_iterations: 100,
            ..TsneParams::default()
        }),
        store: esm_workbench::store::StoreOptions {
            root: stores.path().to_owned(),
            ..Default::default()
        },
    };
    let study = run_map_study(&model, &request, &JobCtx::default())?;
    assert!(study.residues_embedded > 0);
    let points = &study.points;
    assert_eq!(points.features.dim(), (800, 128));
    let positions = points
        .position
        .as_ref()
        .ok_or("residue level has positions")?;
    let amino = |k: usize| records[points.protein[k]].1.as_bytes()[positions[k]];

    let e = &study.projected.coordinates;
    let n = e.nrows();
    let mut same = 0;
    for i in 0..n {
        let nearest = (0..n)
            .filter(|&j| j != i)
            .min_by(|&a, &b| {
                let d =
                    |j: usize| (e[(i, 0)] - e[(j, 0)]).powi(2) + (e[(i, 1)] - e[(j, 1)]).powi(2);
                d(a).total_cmp(&d(b))
            })
            .ok_or("no neighbour")?;
        same += usize::from(amino(nearest) == amino(i));
    }
    // Chance is about 1/16 for natural amino-acid frequencies.
    let agreement = same as f64 / n as f64;
    assert!(
        agreement > 0.3,
        "same amino acid as the map neighbour: {agreement:.3}"
    );

    let pca = fit_pca(points.features.view(), 5, 1)?;
    let ratios = &pca.explained_variance_ratio;
    assert!(ratios.windows(2).all(|w| w[0] >= w[1]) && ratios.iter().sum::<f64>() < 1.0);
    assert_eq!(pca.transform(points.features.view())?.dim(), (800, 5));

    // A map of another layer of the same points reads the store: no forward pass.
    request.layer = esm_workbench::model::Layers::Index(3);
    request.projection = Projection::Pca {
        components: 2,
        seed: 1,
    };
    let again = run_map_study(&model, &request, &JobCtx::default())?;
    assert_eq!(again.residues_embedded, 0, "the store holds every layer");
    assert_eq!(
        (again.layer, again.projected.coordinates.dim()),
        (3, (800, 2))
    );
    Ok(())
}

/// `project pca` runs the same map study: a table of residue points with their coordinates, and
/// a second run (another layer) reads the store instead of embedding again.
#[test]
fn project_pca_writes_residue_points_and_reuses_the_store() -> TestResult {
    let dir = tempfile::tempdir()?;
    let run = |layer: &str, out: &str| -> Result<std::process::Output, std::io::Error> {
        residue_pca(dir.path(), 300)?
            .args(["--layer", layer])
            .arg("--out")
            .arg(dir.path().join(out))
            .output()
    };
    let first = run("2", "a.csv")?;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let table = std::fs::read_to_string(dir.path().join("a.csv"))?;
    assert!(
        table.starts_with("id,position,amino_acid,group,length,description,source,pc1,pc2\n"),
        "{table:.80}"
    );
    assert_eq!(table.lines().count(), 1 + 300);
    let second = run("-1", "b.csv")?;
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(stderr.contains("(0 residues embedded;"), "{stderr}");
    Ok(())
}

#[test]
fn project_figure_has_a_legend_title_and_the_chosen_palette() -> TestResult {
    let dir = tempfile::tempdir()?;
    let figure = |palette: &str| -> Result<String, Box<dyn std::error::Error>> {
        let svg = dir.path().join(format!("{palette}.svg"));
        let out = residue_pca(dir.path(), 400)?
            .arg("--out")
            .arg(dir.path().join(format!("{palette}.csv")))
            .arg("--figure")
            .arg(&svg)
            .args(["--colour-by", "amino_acid", "--palette", palette])
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        Ok(std::fs::read_to_string(svg)?)
    };
    // Legend entries: one dot and one "name (count)" text each; the title in bold.
    let entries = |svg: &str| svg.matches(r#"<circle cx"#).count() - 400;
    let tableau = figure("tableau20")?;
    assert!(tableau.contains(r#"font-weight="bold">amino_acid</text>"#));
    assert_eq!(
        entries(&tableau),
        20,
        "the 20 amino acids in their own colours, as in the GUI"
    );
    assert!(!tableau.contains("other ("));
    assert!(
        tableau.contains("rgb(31,119,180)"),
        "Tableau's first colour"
    );
    let okabe = figure("okabe-ito")?;
    assert_eq!(entries(&okabe), 7, "6 amino acids and 'other'");
    assert!(okabe.contains("rgb(0,114,178)") && !okabe.contains("rgb(31,119,180)"));
    assert!(okabe.contains("other ("));
    Ok(())
}

/// `project pca` of at most `max_points` residue points of the demo set with the starter model,
/// stores under `dir/stores`; the caller adds the layer and outputs.
fn residue_pca(
    dir: &std::path::Path,
    max_points: usize,
) -> Result<std::process::Command, std::io::Error> {
    let model = starter_model_path().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the starter model is missing from assets/",
        )
    })?;
    let fasta = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets/demo/uniprot_orthologs.fasta");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_esm-workbench"));
    command
        .args(["project", "pca", "--level", "residue", "--max-points"])
        .arg(max_points.to_string())
        .arg("--model")
        .arg(model)
        .arg("--fasta")
        .arg(fasta)
        .arg("--store")
        .arg(dir.join("stores"));
    Ok(command)
}
