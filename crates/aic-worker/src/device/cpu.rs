//! The CPU: model and topology from `/proc/cpuinfo`, instruction-set features from the
//! running CPU (`is_x86_feature_detected!`), memory from `/proc/meminfo`.

use std::collections::BTreeSet;

use super::descriptor::{normalize, DeviceDescriptor, DeviceKind, SCHEMA_VERSION};

/// What `/proc/cpuinfo` says about the processors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuInfo {
    /// `vendor_id` (x86) or `CPU implementer` (Arm); `unknown` where absent.
    pub vendor: String,
    /// `model name` (x86) or `Hardware`/`CPU part` (Arm); `unknown` where absent.
    pub model: String,
    /// Distinct `physical id` values (1 where the file does not say).
    pub packages: u32,
    /// Distinct (`physical id`, `core id`) pairs; the thread count where the file does not say.
    pub cores: u32,
    /// `processor` entries: hardware threads.
    pub threads: u32,
    /// `flags` (x86) or `Features` (Arm) of the first processor.
    pub flags: Vec<String>,
}

impl CpuInfo {
    /// Parses the text of `/proc/cpuinfo`.
    pub fn parse(text: &str) -> CpuInfo {
        let mut info = CpuInfo::default();
        let mut packages = BTreeSet::new();
        let mut cores = BTreeSet::new();
        let mut physical = None;
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "processor" => {
                    info.threads += 1;
                    physical = None;
                }
                "vendor_id" | "CPU implementer" if info.vendor.is_empty() => {
                    info.vendor = value.to_owned()
                }
                "model name" | "Hardware" if info.model.is_empty() => info.model = value.to_owned(),
                "physical id" => {
                    packages.insert(value.to_owned());
                    physical = Some(value.to_owned());
                }
                "core id" => {
                    cores.insert((physical.clone().unwrap_or_default(), value.to_owned()));
                }
                "flags" | "Features" if info.flags.is_empty() => {
                    info.flags = value.split_whitespace().map(str::to_owned).collect();
                }
                _ => {}
            }
        }
        for field in [&mut info.vendor, &mut info.model] {
            if field.is_empty() {
                "unknown".clone_into(field);
            }
        }
        info.packages = (packages.len() as u32).max(1);
        info.cores = if cores.is_empty() {
            info.threads
        } else {
            cores.len() as u32
        };
        info
    }

    /// Reads `/proc/cpuinfo`; threads fall back to the OS's count where the file is missing.
    pub fn read() -> CpuInfo {
        let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let mut info = CpuInfo::parse(&text);
        if info.threads == 0 {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
            info.threads = n;
            info.cores = n;
        }
        info
    }
}

/// `MemTotal` and `MemAvailable` from the text of `/proc/meminfo`, in bytes.
pub fn parse_meminfo(text: &str) -> (Option<u64>, Option<u64>) {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix(name)?.strip_prefix(':')?;
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            kib.checked_mul(1024)
        })
    };
    (field("MemTotal"), field("MemAvailable"))
}

/// Instruction-set features the running CPU has, by the names descriptors use.
pub fn detected_features() -> Vec<String> {
    #[allow(unused_mut)]
    let mut out: Vec<&str> = Vec::new();
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        macro_rules! probe {
            ($($feature:tt => $name:expr),* $(,)?) => {
                $(if std::arch::is_x86_feature_detected!($feature) { out.push($name); })*
            };
        }
        probe!(
            "sse2" => "sse2", "ssse3" => "ssse3", "sse4.1" => "sse4.1", "sse4.2" => "sse4.2",
            "popcnt" => "popcnt", "aes" => "aes", "pclmulqdq" => "pclmulqdq",
            "avx" => "avx", "avx2" => "avx2", "fma" => "fma", "f16c" => "f16c",
            "bmi1" => "bmi1", "bmi2" => "bmi2", "sha" => "sha-ni",
            "avx512f" => "avx512f", "avx512bw" => "avx512bw", "avx512cd" => "avx512cd",
            "avx512dq" => "avx512dq", "avx512vl" => "avx512vl", "avx512vnni" => "avx512vnni",
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($feature:tt => $name:expr),* $(,)?) => {
                $(if std::arch::is_aarch64_feature_detected!($feature) { out.push($name); })*
            };
        }
        probe!("neon" => "neon", "sha2" => "sha2", "aes" => "aes", "sve" => "sve");
    }
    out.into_iter().map(str::to_owned).collect()
}

/// The machine's CPU as one descriptor (id `cpu`; all sockets together), without scores.
///
/// Capabilities: the detected instruction-set features, `sha256d` (it can mine), one
/// `miner-kernel:NAME` per `aic-miner` kernel this CPU runs (fastest first in `aic-miner`,
/// sorted here) and `matmul-f32`.
pub fn cpu_descriptor() -> DeviceDescriptor {
    let info = CpuInfo::read();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| parse_meminfo(&t).0);
    let mut caps = detected_features();
    caps.push("sha256d".to_owned());
    caps.push("matmul-f32".to_owned());
    caps.extend(
        aic_miner::kernels()
            .iter()
            .map(|k| format!("miner-kernel:{}", k.name())),
    );
    DeviceDescriptor {
        schema_version: SCHEMA_VERSION,
        id: "cpu".to_owned(),
        kind: DeviceKind::Cpu,
        vendor: info.vendor,
        model: info.model,
        memory_bytes: memory,
        cores: Some(info.cores),
        threads: Some(info.threads),
        capabilities: normalize(caps),
        scores: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_counts_packages_cores_and_threads() {
        let text = "processor: 0\nvendor_id: GenuineIntel\nmodel name: Xeon X\nphysical id: 0\n\
                    core id: 0\nflags: fpu avx2 sha_ni\n\nprocessor: 1\nphysical id: 0\ncore id: 0\n\n\
                    processor: 2\nphysical id: 1\ncore id: 0\n";
        let info = CpuInfo::parse(text);
        assert_eq!(info.vendor, "GenuineIntel");
        assert_eq!(info.model, "Xeon X");
        assert_eq!((info.packages, info.cores, info.threads), (2, 2, 3));
        assert_eq!(info.flags, ["fpu", "avx2", "sha_ni"]);
    }

    #[test]
    fn meminfo_is_read_in_bytes() {
        let (total, avail) =
            parse_meminfo("MemTotal:  2048 kB\nMemFree: 1 kB\nMemAvailable: 1024 kB\n");
        assert_eq!(total, Some(2048 * 1024));
        assert_eq!(avail, Some(1024 * 1024));
        assert_eq!(parse_meminfo("garbage"), (None, None));
    }

    #[test]
    fn this_machines_cpu_descriptor_matches_std() {
        let d = cpu_descriptor();
        assert_eq!(d.kind, DeviceKind::Cpu);
        assert_eq!(d.schema_version, SCHEMA_VERSION);
        let threads = std::thread::available_parallelism().unwrap().get() as u32;
        // The process may be confined to fewer threads than the machine has, never more.
        assert!(d.threads.unwrap() >= threads);
        assert!(d.cores.unwrap() >= 1 && d.cores <= d.threads);
        assert!(d.memory_bytes.unwrap() > 64 << 20);
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(d.has("avx2"), std::arch::is_x86_feature_detected!("avx2"));
            assert_eq!(d.has("sha-ni"), std::arch::is_x86_feature_detected!("sha"));
            assert_eq!(
                d.has("avx512f"),
                std::arch::is_x86_feature_detected!("avx512f")
            );
            // The kernel's view agrees with the CPU's own answer.
            let info = CpuInfo::read();
            assert_eq!(d.has("avx2"), info.flags.iter().any(|f| f == "avx2"));
            assert_eq!(d.has("sha-ni"), info.flags.iter().any(|f| f == "sha_ni"));
        }
        assert!(d.has("miner-kernel:portable"));
        assert!(d.has("sha256d"));
        let mut sorted = d.capabilities.clone();
        sorted.sort();
        assert_eq!(sorted, d.capabilities);
    }
}
