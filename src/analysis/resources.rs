//! What the machine can give a job: RAM available now (the smaller of the kernel's
//! `MemAvailable` and the room left under this process's cgroup limit, as on a Slurm node) and
//! free disk under a folder.

use std::path::Path;

/// RAM and disk a job may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    /// Bytes of RAM that can be allocated without swapping or the OOM killer.
    pub available_ram: u64,
    /// Bytes free on the disk of the store folder.
    pub free_disk: u64,
}

impl Resources {
    /// Measures both; `store_root` need not exist yet (its nearest existing parent is used).
    /// Unknown values (another OS) count as unlimited.
    pub fn measure(store_root: &Path) -> Self {
        Self {
            available_ram: available_ram().unwrap_or(u64::MAX),
            free_disk: free_disk(store_root).unwrap_or(u64::MAX),
        }
    }
}

/// `MemAvailable`, capped by the cgroup v2 limit minus current use.
pub fn available_ram() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kernel = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())?
        * 1024;
    Some(match cgroup_room() {
        Some(room) => kernel.min(room),
        None => kernel,
    })
}

/// Bytes left under this process's cgroup v2 `memory.max`, if limited.
fn cgroup_room() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let max = read("memory.max")?.trim().parse::<u64>().ok()?;
    let current = read("memory.current")?.trim().parse::<u64>().ok()?;
    Some(max.saturating_sub(current))
}

/// Free bytes on the disk holding `folder` (or its nearest existing parent).
pub fn free_disk(folder: &Path) -> Option<u64> {
    let mut probe = Some(folder);
    while let Some(p) = probe {
        if p.exists() {
            return fs4::available_space(p).ok();
        }
        probe = p.parent();
    }
    fs4::available_space(".").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_something_on_linux() {
        let found = Resources::measure(Path::new("/nonexistent/deeper/store"));
        assert!(found.free_disk > 0);
        if cfg!(target_os = "linux") {
            assert!(found.available_ram > 0 && found.available_ram < u64::MAX);
        }
    }
}
