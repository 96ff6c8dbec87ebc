//! The amino-acid groups study on the bundled starter model and demo set: every layer scored
//! from a feature store (checked against means computed from a direct forward pass), the
//! untrained baseline beside it, the store reused by a second run, and the one table.

use std::collections::HashMap;

use esm_workbench::analysis::JobCtx;
use esm_workbench::analysis::aa_groups_study::{AaGroupsRequest, run_aa_groups_study};
use esm_workbench::analysis::aa_groups_study_table::aa_groups_study_table;
use esm_workbench::data::FastaReader;
use esm_workbench::model::starter::starter_model_path;
use esm_workbench::model::{ForwardRequest, Layers, LengthPolicy, LoadedModel, embed_sequence};
use esm_workbench::probes::{amino_acid_group, embedding_table_grouping, grouping_score};
use esm_workbench::store::StoreOptions;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn demo_records(count: usize) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let fasta = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets/demo/uniprot_orthologs.fasta");
    Ok(FastaReader::read_all(&fasta)?
        .into_iter()
        .take(count)
        .map(|r| (r.id, r.sequence))
        .collect())
}

#[test]
fn every_layer_is_scored_from_the_store_as_a_direct_forward_pass_would_score_it() -> TestResult {
    let model_path = starter_model_path().ok_or("the starter model is missing from assets/")?;
    let model = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let records = demo_records(12)?;
    let stores = tempfile::tempdir()?;
    let request = AaGroupsRequest {
        records: records.clone(),
        dataset_name: "orthologs".into(),
        layers: Layers::All,
        compare_untrained: true,
        store: StoreOptions {
            root: stores.path().to_owned(),
            ..StoreOptions::default()
        },
    };
    let study = run_aa_groups_study(&model, &request, &JobCtx::default())?;
    let num_layers = model.model.config().num_layers;
    assert_eq!(study.sweep.runs.len(), num_layers + 1);
    assert_eq!(study.sweep.untrained.len(), num_layers + 1);
    let standard: usize = records
        .iter()
        .flat_map(|(_, s)| s.chars())
        .filter(|&c| amino_acid_group(c).is_some())
        .count();
    assert_eq!(study.residues, standard);
    assert_eq!(
        Some(&study.table),
        embedding_table_grouping(model.model.token_embeddings())?.as_ref()
    );

    // Layer 2 recomputed without the store: one forward pass per protein, means per letter.
    let layer = 2;
    let forward = ForwardRequest {
        repr_layers: vec![layer],
        ..Default::default()
    };
    let mut sums: HashMap<char, (Vec<f64>, usize)> = HashMap::new();
    for (id, sequence) in &records {
        let out = embed_sequence(
            &model.model,
            &[(id, sequence)],
            LengthPolicy::Window { overlap: 64 },
            &forward,
        )?;
        let rows = out[0].representations[&layer].to_vec2::<f32>()?;
        for (residue, row) in sequence.chars().zip(rows) {
            let (sum, count) = sums
                .entry(residue)
                .or_insert_with(|| (vec![0.0; row.len()], 0));
            sum.iter_mut()
                .zip(&row)
                .for_each(|(s, &x)| *s += f64::from(x));
            *count += 1;
        }
    }
    let direct = grouping_score(|r| {
        sums.get(&r)
            .map(|(sum, n)| sum.iter().map(|s| (s / *n as f64) as f32).collect())
    })
    .ok_or("the demo proteins lack an amino acid")?;
    let stored = &study.sweep.runs[layer].score;
    assert_eq!(
        stored.nearest_neighbour_agreement,
        direct.nearest_neighbour_agreement
    );
    assert!(
        (stored.within_minus_between_cosine - direct.within_minus_between_cosine).abs() < 1e-4,
        "store {stored:?} against direct {direct:?}"
    );

    // A second run reads the stores and embeds nothing.
    let again = run_aa_groups_study(&model, &request, &JobCtx::default())?;
    assert_eq!(again.sweep.cost.residues_embedded, 0);
    assert_eq!(again.sweep.runs, study.sweep.runs);

    // One table: two embedding-table rows, then one row per model and layer.
    let table = aa_groups_study_table(&study)?;
    assert_eq!(table.height(), 2 + 2 * (num_layers + 1));
    let best_rows = table.column("best")?.bool()?.sum().unwrap_or(0);
    assert_eq!(best_rows, 1);
    Ok(())
}

#[test]
fn without_records_only_the_embedding_table_is_scored() -> TestResult {
    let model_path = starter_model_path().ok_or("the starter model is missing from assets/")?;
    let model = LoadedModel::load(&model_path, &candle_core::Device::Cpu)?;
    let request = AaGroupsRequest {
        records: Vec::new(),
        dataset_name: String::new(),
        layers: Layers::All,
        compare_untrained: false,
        store: StoreOptions::default(),
    };
    let study = run_aa_groups_study(&model, &request, &JobCtx::default())?;
    assert!(
        study.sweep.runs.is_empty()
            && study.sweep.best.is_none()
            && study.sweep.cost.stores.is_empty()
    );
    assert!(study.table.chance_agreement > 0.0 && study.table.chance_agreement < 0.5);
    Ok(())
}
