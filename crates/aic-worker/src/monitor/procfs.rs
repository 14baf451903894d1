//! CPU time counters from `/proc/stat` and their busy fraction between two readings.

/// Cumulative jiffies of one line of `/proc/stat` (`cpu` or `cpuN`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CpuLine {
    pub(crate) name: String,
    pub(crate) busy: u64,
    pub(crate) total: u64,
}

/// The aggregate line first, then one per logical CPU.
pub(crate) fn parse_stat(text: &str) -> Vec<CpuLine> {
    text.lines()
        .filter(|l| l.starts_with("cpu"))
        .filter_map(|l| {
            let mut fields = l.split_whitespace();
            let name = fields.next()?.to_owned();
            // user nice system idle iowait irq softirq steal (guest is already in user).
            let v: Vec<u64> = fields.take(8).map(|f| f.parse().unwrap_or(0)).collect();
            let total: u64 = v.iter().sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            Some(CpuLine {
                name,
                busy: total.saturating_sub(idle),
                total,
            })
        })
        .collect()
}

/// Reads `/proc/stat` (empty where it cannot be read).
pub(crate) fn read_stat() -> Vec<CpuLine> {
    std::fs::read_to_string("/proc/stat")
        .map(|t| parse_stat(&t))
        .unwrap_or_default()
}

/// The busy fraction of each line between two readings, matched by name; `None` for a line
/// absent before or with no elapsed time.
pub(crate) fn busy_fractions(before: &[CpuLine], now: &[CpuLine]) -> Vec<Option<f64>> {
    now.iter()
        .map(|n| {
            let b = before.iter().find(|b| b.name == n.name)?;
            let total = n.total.checked_sub(b.total).filter(|&t| t > 0)?;
            let busy = n.busy.saturating_sub(b.busy);
            Some((busy as f64 / total as f64).clamp(0.0, 1.0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_fraction_between_two_readings() {
        let a =
            parse_stat("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\nintr 1\n");
        let b = parse_stat(
            "cpu  200 0 150 850 0 0 0 0 0 0\ncpu0 150 0 50 400 0 0 0 0 0 0\ncpu1 1 1 1 1\n",
        );
        assert_eq!(a.len(), 2);
        assert_eq!(busy_fractions(&a, &b), [Some(0.75), Some(1.0), None]);
        assert_eq!(busy_fractions(&a, &a), [None, None]);
    }

    #[test]
    fn this_machine_has_an_aggregate_line_and_one_per_cpu() {
        let lines = read_stat();
        assert_eq!(lines[0].name, "cpu");
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| l.busy <= l.total));
    }
}
