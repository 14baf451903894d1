//! CPU temperature from `/sys/class/hwmon` or `/sys/class/thermal`, CPU package power from the
//! RAPL energy counters under `/sys/class/powercap`. Each is `None` where the machine does
//! not expose it (virtual machines usually expose neither).

use std::path::{Path, PathBuf};
use std::time::Instant;

/// hwmon drivers that report the CPU package.
const CPU_HWMON: &[&str] = &[
    "k10temp",
    "coretemp",
    "zenpower",
    "cpu_thermal",
    "cpu-thermal",
];
/// thermal zone types that are the CPU.
const CPU_ZONES: &[&str] = &["x86_pkg_temp", "cpu-thermal", "cpu_thermal", "soc_thermal"];

fn read_trim(path: &Path) -> Option<String> {
    Some(std::fs::read_to_string(path).ok()?.trim().to_owned())
}

fn millidegrees(path: &Path) -> Option<f64> {
    let v: f64 = read_trim(path)?.parse().ok()?;
    // Readings outside a physical range are sensor errors, not temperatures.
    Some(v / 1000.0).filter(|c| (-40.0..=150.0).contains(c))
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The CPU temperature, °C, under the sysfs root `sys` (`/sys` on a live system): the hottest
/// `temp*_input` of a CPU hwmon driver, else a CPU thermal zone.
pub fn cpu_temperature(sys: &Path) -> Option<f64> {
    for hw in entries(&sys.join("class/hwmon")) {
        let Some(name) = read_trim(&hw.join("name")) else {
            continue;
        };
        if !CPU_HWMON.contains(&name.as_str()) {
            continue;
        }
        let hottest = entries(&hw)
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("temp") && n.ends_with("_input"))
            })
            .filter_map(|p| millidegrees(p))
            .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
        if hottest.is_some() {
            return hottest;
        }
    }
    entries(&sys.join("class/thermal"))
        .iter()
        .filter(|z| read_trim(&z.join("type")).is_some_and(|t| CPU_ZONES.contains(&t.as_str())))
        .find_map(|z| millidegrees(&z.join("temp")))
}

/// RAPL package energy counters, turned into watts between two readings.
#[derive(Debug)]
pub struct Rapl {
    /// (energy_uj path, max_energy_range_uj) of each package domain.
    domains: Vec<(PathBuf, u64)>,
    last: Option<(Instant, Vec<u64>)>,
}

impl Rapl {
    /// The readable package domains (`intel-rapl:N`, not their sub-domains) under `sys`.
    pub fn open(sys: &Path) -> Rapl {
        let domains = entries(&sys.join("class/powercap"))
            .into_iter()
            .filter(|d| {
                d.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("intel-rapl:") && n.matches(':').count() == 1)
            })
            .filter_map(|d| {
                let energy = d.join("energy_uj");
                read_trim(&energy)?.parse::<u64>().ok()?;
                let range = read_trim(&d.join("max_energy_range_uj"))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u64::MAX);
                Some((energy, range))
            })
            .collect();
        Rapl {
            domains,
            last: None,
        }
    }

    /// Whether any counter is readable.
    pub fn available(&self) -> bool {
        !self.domains.is_empty()
    }

    /// Package power, watts, averaged since the previous call (`None` on the first call or
    /// where no counter is readable).
    pub fn watts(&mut self) -> Option<f64> {
        if self.domains.is_empty() {
            return None;
        }
        let now = Instant::now();
        let readings: Option<Vec<u64>> = self
            .domains
            .iter()
            .map(|(p, _)| read_trim(p)?.parse().ok())
            .collect();
        let readings = readings?;
        let previous = self.last.replace((now, readings.clone()));
        let (then, before) = previous?;
        let secs = now.duration_since(then).as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        let joules: f64 = readings
            .iter()
            .zip(&before)
            .zip(&self.domains)
            .map(|((&n, &b), (_, range))| {
                // The counter wraps at max_energy_range_uj.
                let delta = if n >= b {
                    n - b
                } else {
                    range.saturating_sub(b) + n
                };
                delta as f64 / 1e6
            })
            .sum();
        Some(joules / secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn this_machine_reports_a_plausible_temperature_or_none() {
        if let Some(t) = cpu_temperature(Path::new("/sys")) {
            assert!((-40.0..=150.0).contains(&t), "{t}");
        }
        let mut rapl = Rapl::open(Path::new("/sys"));
        assert!(
            rapl.watts().is_none(),
            "first reading has nothing to compare with"
        );
    }

    #[test]
    fn hwmon_cpu_driver_then_thermal_zone() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path();
        assert_eq!(cpu_temperature(sys), None);
        write(&sys.join("class/thermal/thermal_zone0/type"), "acpitz\n");
        write(&sys.join("class/thermal/thermal_zone0/temp"), "27000\n");
        assert_eq!(cpu_temperature(sys), None, "a board zone is not the CPU");
        write(
            &sys.join("class/thermal/thermal_zone1/type"),
            "x86_pkg_temp\n",
        );
        write(&sys.join("class/thermal/thermal_zone1/temp"), "48000\n");
        assert_eq!(cpu_temperature(sys), Some(48.0));
        write(&sys.join("class/hwmon/hwmon0/name"), "k10temp\n");
        write(&sys.join("class/hwmon/hwmon0/temp1_input"), "51250\n");
        write(&sys.join("class/hwmon/hwmon0/temp3_input"), "63500\n");
        write(&sys.join("class/hwmon/hwmon0/temp9_input"), "999999\n");
        assert_eq!(cpu_temperature(sys), Some(63.5));
    }

    #[test]
    fn rapl_counter_difference_with_wrap() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("class/powercap/intel-rapl:0");
        write(&d.join("energy_uj"), "999000000\n");
        write(&d.join("max_energy_range_uj"), "1000000000\n");
        write(
            &dir.path().join("class/powercap/intel-rapl:0:0/energy_uj"),
            "5\n",
        );
        let mut rapl = Rapl::open(dir.path());
        assert!(rapl.available());
        assert_eq!(rapl.domains.len(), 1, "sub-domains are not counted twice");
        assert!(rapl.watts().is_none());
        std::thread::sleep(std::time::Duration::from_millis(50));
        // 1 J to the wrap, then 1 J after it: 2 J over about 50 ms.
        write(&d.join("energy_uj"), "1000000\n");
        let w = rapl.watts().unwrap();
        assert!(w > 2.0 && w < 2.0 / 0.045, "{w}");
    }
}
