//! Forward-pass time of ESM-1b-size weights (652M parameters, random) at 128/256/512/1022
//! residues on the CPU. Under `cargo test` (no `--bench`) it runs a tiny model once as a check.
//!
//! `cargo bench --bench forward`; set RAYON_NUM_THREADS to fix the thread count.

use candle_core::Device;
use criterion::{BenchmarkId, Criterion, Throughput};
use esm_workbench::model::{
    Architecture, Checkpoint, EsmConfig, ForwardRequest, LoadedModel, TokenBatch,
};

const RESIDUES: &str = "LAGVSERTIDPKQNFYMHWC";

fn sequence(len: usize) -> String {
    // A fixed pseudo-random protein (LCG over the 20 standard residues).
    let mut state = 12345u64;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            RESIDUES.as_bytes()[(state >> 33) as usize % 20] as char
        })
        .collect()
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let (config, lengths) = if bench_mode {
        (EsmConfig::esm1b_650m(), vec![128, 256, 512, 1022])
    } else {
        let tiny = EsmConfig {
            architecture: Architecture::Esm1b,
            num_layers: 2,
            embed_dim: 64,
            ffn_embed_dim: 128,
            attention_heads: 4,
            max_positions: Some(64),
            token_dropout: true,
            emb_layer_norm_before: false,
            layer_norm_eps: 1e-5,
        };
        (tiny, vec![16])
    };
    let model = match Checkpoint::random(config.clone(), 0)
        .and_then(|c| LoadedModel::from_checkpoint(c, &Device::Cpu))
    {
        Ok(model) => model,
        Err(e) => panic!("cannot build the random model: {e}"),
    };
    let request = ForwardRequest {
        repr_layers: vec![config.num_layers],
        logits: true,
        ..Default::default()
    };
    let mut criterion = Criterion::default().configure_from_args().sample_size(10);
    let mut group = criterion.benchmark_group(if bench_mode {
        "esm1b_650m_forward"
    } else {
        "tiny_forward"
    });
    for len in lengths {
        let Ok(batch) = TokenBatch::encode([("bench", sequence(len).as_str())]) else {
            panic!("cannot encode");
        };
        group.throughput(Throughput::Elements(config.forward_flops(len + 2) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &batch, |b, batch| {
            b.iter(|| {
                model
                    .model
                    .forward(batch, &request)
                    .map(|o| o.logits.is_some())
            })
        });
    }
    group.finish();
    criterion.final_summary();
}
