//! Maps of real representations: the starter model's residue points from the demo set, by
//! t-SNE and PCA, and the tables the `project` command writes.

use esm_workbench::analysis::JobCtx;
use esm_workbench::analysis::projection_run::{MapRequest, PointLevel, map_points};
use esm_workbench::data::FastaReader;
use esm_workbench::model::LoadedModel;
use esm_workbench::model::starter::starter_model_path;
use esm_workbench::projection::{TsneParams, fit_pca, tsne};

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
    let request = MapRequest {
        layer: 1,
        level: PointLevel::Residue,
        max_points: 800,
        seed: 3,
    };
    let points = map_points(&model, &records, request, None, &JobCtx::default())?;
    assert_eq!(points.features.dim(), (800, 128));
    let positions = points
        .position
        .as_ref()
        .ok_or("residue level has positions")?;
    let amino = |k: usize| records[points.protein[k]].1.as_bytes()[positions[k]];

    let params = TsneParams {
        iterations: 300,
        early_exaggeration_iterations: 100,
        ..TsneParams::default()
    };
    let map = tsne(points.features.view(), &params, &JobCtx::default())?;
    let e = &map.embedding;
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
    Ok(())
}
