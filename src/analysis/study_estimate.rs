//! Before a study starts: how long it will take, how much RAM it will add to the loaded model,
//! and how much disk its feature stores need; a study that cannot fit is refused with advice.
//!
//! The forward pass runs at the rate measured for the model on this machine by its earlier
//! fills ([`super::measured_rates`]); before any, at a rate per core chosen by the CPU's
//! instruction set (see `forward_flops_per_core`), scaled by the cores rayon uses. The probe's
//! fit is taken at about 20 GFLOP/s per core.

use std::path::PathBuf;

use crate::model::EsmConfig;
use crate::store::human_bytes;

use super::resources::Resources;

/// Forward-pass rate per core before any rate was measured for the model here, FLOP/s: 80
/// GFLOP/s where the CPU has AVX-512 (652M ESM-1b on a 2-core Intel Xeon, 2026-12-07: 80-97
/// GFLOP/s per core with the fused attention kernel), else 40 (AVX2; 25 was measured on a Zen
/// 3 before that kernel). A study's own fills then calibrate it ([`super::measured_rates`]).
fn forward_flops_per_core() -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return 80e9;
    }
    40e9
}
/// Logistic-regression rate per core, FLOP/s.
pub(crate) const FIT_FLOPS_PER_CORE: f64 = 20e9;
/// Store read rate, bytes/s.
const READ_BYTES_PER_SECOND: f64 = 400e6;
/// Room kept free for the rest of the process and the OS (1 GiB).
const RAM_MARGIN: u64 = 1 << 30;

/// The estimate of one study.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyEstimate {
    /// Seconds of forward passes (residues not yet stored).
    pub embed_seconds: f64,
    /// Seconds of fitting and scoring, all layers.
    pub fit_seconds: f64,
    /// Peak RAM above the loaded model's weights, bytes.
    pub extra_ram: u64,
    /// The loaded model's weights, bytes (already in use).
    pub weights: u64,
    /// Disk the new stores need, bytes.
    pub disk: u64,
    /// Where the stores go.
    pub store_root: PathBuf,
}

/// Why a study was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not enough RAM.
    #[error(
        "this study needs about {} of RAM beyond the loaded model, and {} is available: lower the training-residue cap, probe fewer layers at once, or close other programs",
        human_bytes(*needed), human_bytes(*available)
    )]
    Ram {
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// Not enough disk for the stores.
    #[error(
        "this study's feature stores need {} in {}, and {} is free there: choose another store folder, fewer layers, or f16 features",
        human_bytes(*needed), folder.display(), human_bytes(*free)
    )]
    Disk {
        /// Bytes needed.
        needed: u64,
        /// Bytes free.
        free: u64,
        /// The store root.
        folder: PathBuf,
    },
}

impl StudyEstimate {
    /// Total seconds.
    pub fn seconds(&self) -> f64 {
        self.embed_seconds + self.fit_seconds
    }

    /// Refuses when the RAM (with a 1 GiB margin) or the disk is short.
    pub fn check(&self, available: Resources) -> Result<(), Refusal> {
        if self.extra_ram.saturating_add(RAM_MARGIN) > available.available_ram {
            return Err(Refusal::Ram {
                needed: self.extra_ram + RAM_MARGIN,
                available: available.available_ram,
            });
        }
        if self.disk > available.free_disk {
            return Err(Refusal::Disk {
                needed: self.disk,
                free: available.free_disk,
                folder: self.store_root.clone(),
            });
        }
        Ok(())
    }

    /// [`Self::check`] against this machine's available RAM and the free disk of the store
    /// folder.
    pub fn check_resources(&self) -> Result<(), Refusal> {
        self.check(Resources::measure(&self.store_root))
    }

    /// One line for the GUI and the CLI's stderr.
    pub fn summary(&self) -> String {
        format!(
            "estimate: {} ({} embedding), RAM {} + {} of weights, disk {} in {}",
            human_seconds(self.seconds()),
            human_seconds(self.embed_seconds),
            human_bytes(self.extra_ram),
            human_bytes(self.weights),
            human_bytes(self.disk),
            self.store_root.display()
        )
    }
}

/// `0.7 s`, `42 s`, `1 min 37 s`, `12 min`, `2.5 h`.
pub fn human_seconds(seconds: f64) -> String {
    if seconds < 9.95 {
        format!("{seconds:.1} s")
    } else if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 600.0 {
        let whole = seconds.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// FLOPs of one residue's forward pass through `config` in rows of `row_tokens` tokens
/// ([`EsmConfig::forward_flops`] per token).
pub fn forward_flops_per_residue(config: &EsmConfig, row_tokens: usize) -> f64 {
    let row = row_tokens.max(1);
    config.forward_flops(row) / row as f64
}

/// Seconds to embed `residues` with `config` (rows averaging `row_tokens` tokens): FLOPs at
/// [`forward_flops_per_core`], but at least [`overhead_seconds_per_residue`] (small models are
/// bound by per-operation and per-attention-weight overhead, far below their FLOP rate).
pub fn embed_seconds(config: &EsmConfig, residues: usize, row_tokens: usize) -> f64 {
    let compute =
        forward_flops_per_residue(config, row_tokens) / per_second(forward_flops_per_core());
    let overhead = overhead_seconds_per_residue(config, row_tokens)
        / rayon::current_num_threads().max(1) as f64;
    residues as f64 * compute.max(overhead)
}

/// The forward pass's per-residue floor on one core, seconds: per layer a fixed
/// [`LAYER_SECONDS_PER_RESIDUE`] plus [`ATTENTION_WEIGHT_SECONDS`] per attention weight (heads
/// x row tokens: the softmax and masking work that FLOP counts leave out, which is what grows
/// with the length of the rows).
pub fn overhead_seconds_per_residue(config: &EsmConfig, row_tokens: usize) -> f64 {
    let weights_per_residue = (config.attention_heads * row_tokens.max(1)) as f64;
    config.num_layers as f64
        * (LAYER_SECONDS_PER_RESIDUE + ATTENTION_WEIGHT_SECONDS * weights_per_residue)
}

/// Per layer and residue, one core (the starter on a 2-core Intel Xeon, 2026-12-07: 24,000
/// residues/s in rows of ~200 tokens, 12,800 in rows of 512; stores written).
const LAYER_SECONDS_PER_RESIDUE: f64 = 8.9e-6;
/// Per attention weight, one core (from the same two measurements).
const ATTENTION_WEIGHT_SECONDS: f64 = 7.3e-9;

/// Seconds to fit one layer's probe on `rows x dim` with `classes` over `iterations` and read
/// `read_bytes` from the store.
pub fn fit_seconds(
    rows: usize,
    dim: usize,
    classes: usize,
    iterations: usize,
    read_bytes: u64,
) -> f64 {
    // Each evaluation: logits (2 n d k) and gradient (2 n d k); L-BFGS needs ~1.2 per step.
    let evaluations = 1.2 * iterations as f64 + 2.0;
    let flops = evaluations * 4.0 * (rows * dim * classes) as f64;
    flops / per_second(FIT_FLOPS_PER_CORE) + read_bytes as f64 / READ_BYTES_PER_SECOND
}

/// Peak bytes of one forward batch of `toks_per_batch` padded tokens whose rows are at most
/// `longest_row` tokens, keeping `kept_layers` representations: activations of one layer
/// (hidden, FFN, attention scores and probabilities) plus the kept layers.
pub fn batch_bytes(
    config: &EsmConfig,
    toks_per_batch: usize,
    longest_row: usize,
    kept_layers: usize,
) -> u64 {
    let hidden = toks_per_batch * config.embed_dim * 4;
    let ffn = toks_per_batch * config.ffn_embed_dim * 4 * 2;
    let attention = toks_per_batch * longest_row * config.attention_heads * 4 * 3;
    (hidden * (kept_layers + 8) + ffn + attention) as u64
}

/// Peak bytes of one batch of a store fill with `options` (its batch size, rows up to the
/// model's limit) keeping `kept_layers` representations.
pub fn fill_batch_bytes(
    config: &EsmConfig,
    options: &crate::store::StoreOptions,
    kept_layers: usize,
) -> u64 {
    let longest = config.max_residues() + 2;
    batch_bytes(
        config,
        options.toks_per_batch.max(longest),
        longest,
        kept_layers,
    )
}

fn per_second(per_core: f64) -> f64 {
    per_core * rayon::current_num_threads().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_to_the_second_under_ten_minutes() {
        assert_eq!(human_seconds(0.72), "0.7 s");
        assert_eq!(human_seconds(42.4), "42 s");
        assert_eq!(human_seconds(97.0), "1 min 37 s");
        assert_eq!(human_seconds(720.0), "12 min");
        assert_eq!(human_seconds(9000.0), "2.5 h");
    }

    fn estimate(extra_ram: u64, disk: u64) -> StudyEstimate {
        StudyEstimate {
            embed_seconds: 10.0,
            fit_seconds: 5.0,
            extra_ram,
            weights: 100,
            disk,
            store_root: PathBuf::from("/stores"),
        }
    }

    #[test]
    fn refuses_what_does_not_fit_and_says_what_to_change() {
        let room = Resources {
            available_ram: 4 << 30,
            free_disk: 10 << 30,
        };
        assert_eq!(estimate(1 << 30, 1 << 30).check(room), Ok(()));
        let ram = estimate(8 << 30, 0).check(room).expect_err("too much RAM");
        assert!(ram.to_string().contains("training-residue cap"), "{ram}");
        let disk = estimate(0, 20 << 30)
            .check(room)
            .expect_err("too much disk");
        let text = disk.to_string();
        assert!(text.contains("/stores") && text.contains("f16"), "{text}");
    }

    #[test]
    fn esm1b_costs_are_in_the_measured_range() {
        let config = EsmConfig::esm1b_650m();
        let flops = forward_flops_per_residue(&config, 300);
        assert!((1.2e9..1.5e9).contains(&flops), "{flops}");
        // One 1,024-token batch of full-length rows keeping 34 layers stays under 1 GB.
        let bytes = batch_bytes(&config, 1024, 1024, 34);
        assert!(bytes < 1_000_000_000, "{bytes}");
    }

    #[test]
    fn the_overhead_floor_grows_with_row_length_and_binds_only_small_models() {
        let starter = EsmConfig {
            num_layers: 4,
            embed_dim: 128,
            ffn_embed_dim: 512,
            attention_heads: 8,
            ..EsmConfig::esm1b_650m()
        };
        // The two measured points: ~24,000 and ~12,800 residues/s on 2 cores.
        let short = overhead_seconds_per_residue(&starter, 197);
        let long = overhead_seconds_per_residue(&starter, 512);
        assert!((short / 2.0 * 24_000.0 - 1.0).abs() < 0.05, "{short}");
        assert!((long / 2.0 * 12_800.0 - 1.0).abs() < 0.05, "{long}");
        // ESM-1b's FLOPs at 80 GFLOP/s/core stay above its floor.
        let config = EsmConfig::esm1b_650m();
        let compute = forward_flops_per_residue(&config, 512) / 80e9;
        assert!(
            compute > overhead_seconds_per_residue(&config, 512),
            "{compute}"
        );
    }
}
