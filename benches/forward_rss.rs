//! One forward pass of ESM-1b-size random weights at a given length, printing time and peak RSS
//! as JSON, for `benches/compare_pytorch.py` (one process per length, so peaks do not mix).
//!
//! `cargo bench --bench forward_rss -- --len 512 --repeats 3`

use std::time::Instant;

use candle_core::Device;
use esm_workbench::model::{Checkpoint, EsmConfig, ForwardRequest, LoadedModel, TokenBatch};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process in bytes (Linux `VmHWM`).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--gemm") {
        return gemm_peak();
    }
    if !std::env::args().any(|a| a == "--len") {
        // Under `cargo test --all-targets`: nothing to measure.
        println!("forward_rss: pass --len N (see benches/compare_pytorch.py)");
        return Ok(());
    }
    let len = arg("--len", 128);
    let repeats = arg("--repeats", 3);
    let config = EsmConfig::esm1b_650m();
    let model = LoadedModel::from_checkpoint(Checkpoint::random(config.clone(), 0)?, &Device::Cpu)?;
    let rss_model = peak_rss_bytes();
    let seq: String = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"
        .chars()
        .cycle()
        .take(len)
        .collect();
    let batch = TokenBatch::encode([("bench", seq.as_str())])?;
    let request = ForwardRequest {
        repr_layers: vec![config.num_layers],
        logits: true,
        ..Default::default()
    };
    drop(model.model.forward(&batch, &request)?); // warm-up
    let mut times = Vec::new();
    for _ in 0..repeats {
        let start = Instant::now();
        let out = model.model.forward(&batch, &request)?;
        drop(out);
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"impl\": \"candle\", \"len\": {len}, \"median_s\": {median:.4}, \"min_s\": {:.4}, \"gflops\": {:.1}, \"peak_rss_bytes\": {}, \"rss_after_load_bytes\": {rss_model}}}",
        times[0],
        config.forward_flops(len + 2) / median / 1e9,
        peak_rss_bytes()
    );
    Ok(())
}

/// GEMM throughput on an FFN-shaped product `(1024 x 1280) * (1280 x 5120)`, as the reference peak.
fn gemm_peak() -> Result<(), Box<dyn std::error::Error>> {
    let (m, k, n) = (1024usize, 1280usize, 5120usize);
    let a = candle_core::Tensor::ones((m, k), candle_core::DType::F32, &Device::Cpu)?;
    let b = candle_core::Tensor::ones((n, k), candle_core::DType::F32, &Device::Cpu)?;
    drop(a.matmul(&b.t()?)?);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        drop(a.matmul(&b.t()?)?);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let gflops = 2.0 * (m * k * n) as f64 / best / 1e9;
    println!("{{\"impl\": \"candle-gemm\", \"shape\": \"{m}x{k}x{n}\", \"gflops\": {gflops:.1}}}");
    Ok(())
}
