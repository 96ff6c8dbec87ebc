//! Forward-pass rates measured on this machine, remembered per model: after a study fills its
//! stores, the FLOP rate it reached (forward passes and store writes together) is kept in
//! `forward_rates.json` beside the feature stores (`$ESM_WORKBENCH_RATES` names another file),
//! keyed by the model's fingerprint, the CPU, the number of threads and the build (a debug
//! build, the test suite's, runs the workbench's own code several times slower: its rates never
//! reach a release build's estimates). Later estimates for that model on this machine use it
//! instead of the fixed rate of [`super::study_estimate`].
//! A file that is missing or unreadable only means "nothing measured yet".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Fewest residues and seconds a fill must take to count as a measurement.
const MIN_RESIDUES: usize = 256;
const MIN_SECONDS: f64 = 0.2;

/// One model's measured rate on one machine.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForwardRate {
    /// FLOP/s reached, forward passes and store writes together.
    pub flops_per_second: f64,
    /// Residues measured so far.
    pub residues: u64,
}

/// The rates of every model measured here, by [`rate_key`].
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForwardRates {
    /// Rates by key.
    pub rates: BTreeMap<String, ForwardRate>,
}

impl ForwardRates {
    /// The rates in `path` (none when it is missing or unreadable).
    pub fn read(path: &Path) -> Self {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Adds a measurement of `flops` in `seconds` over `residues`: the newest counts half.
    pub fn record(&mut self, key: &str, flops: f64, seconds: f64, residues: usize) {
        let measured = flops / seconds;
        let rate = self.rates.entry(key.to_owned()).or_insert(ForwardRate {
            flops_per_second: measured,
            residues: 0,
        });
        rate.flops_per_second = 0.5 * (rate.flops_per_second + measured);
        rate.residues += residues as u64;
    }

    /// Writes the rates to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<(), crate::atomic_write::AtomicWriteError> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        crate::atomic_write::write_atomic(path, |w| {
            use std::io::Write as _;
            w.write_all(text.as_bytes())
        })
    }
}

/// Where the rates live: `$ESM_WORKBENCH_RATES`, else `forward_rates.json` beside the default
/// feature-store folder.
pub fn rates_file() -> PathBuf {
    if let Some(path) = std::env::var_os("ESM_WORKBENCH_RATES") {
        return PathBuf::from(path);
    }
    let stores = crate::store::default_store_root();
    stores
        .parent()
        .unwrap_or(&stores)
        .join("forward_rates.json")
}

/// `FINGERPRINT on CPU x THREADS` (with `, debug build` for a debug build): a rate holds for
/// one model on one machine and one build.
pub fn rate_key(fingerprint: &str) -> String {
    format!(
        "{fingerprint} on {} x{}{}",
        cpu_name(),
        rayon::current_num_threads(),
        if cfg!(debug_assertions) {
            ", debug build"
        } else {
            ""
        }
    )
}

/// The CPU's model name (`/proc/cpuinfo`), read once.
fn cpu_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|name| name.trim().to_owned())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
    })
}

/// The measured rate of the model `fingerprint` on this machine, FLOP/s.
pub fn measured_rate(fingerprint: &str) -> Option<f64> {
    ForwardRates::read(&rates_file())
        .rates
        .get(&rate_key(fingerprint))
        .map(|r| r.flops_per_second)
}

/// Remembers a fill of `residues` worth `flops` in `seconds` for the model `fingerprint` (too
/// short a fill is no measurement; a file that cannot be written is left as it is).
pub fn remember_rate(fingerprint: &str, flops: f64, seconds: f64, residues: usize) {
    if residues < MIN_RESIDUES || seconds < MIN_SECONDS || !flops.is_finite() || flops <= 0.0 {
        return;
    }
    let path = rates_file();
    let mut rates = ForwardRates::read(&path);
    rates.record(&rate_key(fingerprint), flops, seconds, residues);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = rates.write(&path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_trip_and_the_newest_measurement_counts_half() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rates.json");
        assert_eq!(
            ForwardRates::read(&path),
            ForwardRates::default(),
            "nothing yet"
        );
        let mut rates = ForwardRates::default();
        rates.record("m on cpu x2", 100e9, 1.0, 1000);
        rates.record("m on cpu x2", 300e9, 1.0, 1000);
        rates.write(&path).expect("write");
        let back = ForwardRates::read(&path);
        let rate = back.rates["m on cpu x2"];
        assert_eq!(rate.flops_per_second, 200e9);
        assert_eq!(rate.residues, 2000);
        std::fs::write(&path, "not json").expect("write");
        assert_eq!(ForwardRates::read(&path), ForwardRates::default());
    }

    #[test]
    fn a_key_names_the_model_the_cpu_and_the_threads() {
        let key = rate_key("abc");
        assert!(key.starts_with("abc on ") && key.contains(" x"), "{key}");
        assert_eq!(
            key.ends_with(", debug build"),
            cfg!(debug_assertions),
            "{key}"
        );
    }
}
