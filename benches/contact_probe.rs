//! Contact-probe training speed: pairs per second of `ContactProbe::fit` at ESM-1b width (1,280
//! features, rank 64) on synthetic chains, and what that means for a 34-layer sweep.
//!
//!     cargo bench --bench contact_probe            # 40 chains of 150-350 residues, 2 epochs
//!     cargo bench --bench contact_probe -- --sweep # + a timed 34-layer sweep: 200 chains, 20 epochs
//!
//! The chains are random walks in 3-D (3.8 Å steps); features are random with a little of each
//! residue's position mixed in, so the loss falls. Training pairs are those the probe trains on
//! (`|i - j| >= 6`, both residues observed). Under `cargo test` (no `--bench`) it runs once on
//! 3 short chains.

use std::time::Instant;

use candle_core::{Device, Tensor};
use esm_workbench::analysis::JobCtx;
use esm_workbench::data::ContactMap;
use esm_workbench::probes::{CONTACT_MIN_SEPARATION, ContactProbe, ContactProbeParams};
use esm_workbench::rng::SplitMix64;

fn chain(len: usize, dim: usize, rng: &mut SplitMix64) -> (Tensor, ContactMap) {
    let mut coords = vec![[0f32; 3]];
    for _ in 1..len {
        let last = coords[coords.len() - 1];
        let step: [f32; 3] = std::array::from_fn(|_| rng.unit() - 0.5);
        let norm = step.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-3);
        coords.push(std::array::from_fn(|k| last[k] + 3.8 * step[k] / norm));
    }
    let mut features = Vec::with_capacity(len * dim);
    for c in &coords {
        features.extend((0..dim).map(|k| rng.unit() - 0.5 + 0.05 * c[k % 3]));
    }
    let mut distances = vec![0f32; len * len];
    for i in 0..len {
        for j in 0..len {
            let d2: f32 = (0..3).map(|k| (coords[i][k] - coords[j][k]).powi(2)).sum();
            distances[i * len + j] = d2.sqrt();
        }
    }
    let contacts = distances.iter().map(|&d| d < 8.0).collect();
    let reps = Tensor::from_vec(features, (len, dim), &Device::Cpu).expect("tensor");
    (
        reps,
        ContactMap {
            len,
            contacts,
            valid: vec![true; len],
            distances,
        },
    )
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (chains, epochs, dim) = if bench { (40, 2, 1280) } else { (3, 1, 64) };
    let mut rng = SplitMix64::new(7);
    let train: Vec<(Tensor, ContactMap)> = (0..chains)
        .map(|_| {
            let len = if bench {
                150 + (rng.unit() * 200.0) as usize
            } else {
                40
            };
            chain(len, dim, &mut rng)
        })
        .collect();
    let pairs: usize = train
        .iter()
        .map(|(_, m)| {
            let n = m.len;
            n * n
                - (0..n)
                    .map(|i| {
                        (i.saturating_sub(CONTACT_MIN_SEPARATION - 1)
                            ..(i + CONTACT_MIN_SEPARATION).min(n))
                            .len()
                    })
                    .sum::<usize>()
        })
        .sum();
    let params = ContactProbeParams {
        epochs,
        ..ContactProbeParams::default()
    };
    let start = Instant::now();
    let probe = ContactProbe::fit(&train, &params, &JobCtx::default()).expect("fit");
    let seconds = start.elapsed().as_secs_f64();
    let per_second = (pairs * epochs) as f64 / seconds;
    let residues: usize = train.iter().map(|(_, m)| m.len).sum();
    // The default training (20 epochs) on 200 chains of this mean length, per layer and for
    // ESM-1b's 34 representation layers.
    let layer_seconds = 200.0 / chains as f64 * 20.0 / epochs as f64 * seconds;
    println!(
        "contact probe: {chains} chains ({residues} residues, {pairs} training pairs), dim {dim}, rank {}, {epochs} epochs: {seconds:.2} s, {:.2} M pairs/s; losses {:?}",
        params.rank,
        per_second / 1e6,
        probe.epoch_losses
    );
    println!(
        "  projected: 200 chains x 20 epochs = {layer_seconds:.0} s per layer, {:.1} min for 34 layers",
        34.0 * layer_seconds / 60.0
    );
    if std::env::args().any(|a| a == "--sweep") {
        sweep(dim, &mut rng);
    }
}

/// Times a 34-layer sweep as `probe contacts --layer all` trains it: one probe per layer
/// (default parameters: rank 64, 20 epochs) on 200 chains; each layer gets its own features.
fn sweep(dim: usize, rng: &mut SplitMix64) {
    let start = Instant::now();
    let mut train_seconds = 0.0;
    let mut pairs_trained = 0usize;
    for layer in 0..34 {
        let train: Vec<(Tensor, ContactMap)> = (0..200)
            .map(|_| chain(150 + (rng.unit() * 200.0) as usize, dim, rng))
            .collect();
        let params = ContactProbeParams {
            seed: layer,
            ..ContactProbeParams::default()
        };
        let fit_start = Instant::now();
        let probe = ContactProbe::fit(&train, &params, &JobCtx::default()).expect("fit");
        train_seconds += fit_start.elapsed().as_secs_f64();
        pairs_trained += params.epochs * train.iter().map(|(_, m)| m.len * m.len).sum::<usize>();
        if layer == 0 {
            println!("  sweep layer 0: losses {:?}", probe.epoch_losses);
        }
    }
    println!(
        "  34-layer sweep, 200 chains x 20 epochs each: {:.1} min training ({:.1} min with making the data), {:.2} M pairs/s (all L x L pairs)",
        train_seconds / 60.0,
        start.elapsed().as_secs_f64() / 60.0,
        pairs_trained as f64 / train_seconds / 1e6
    );
}
