//! The ASERT implementation against the Bitcoin Cash specification's reference vectors
//! (`tests/data/asert/run01` to `run12`).

use std::path::PathBuf;

use aic_consensus::asert::{asert_target, AsertAnchor, AsertParams};
use aic_primitives::CompactTarget;

fn parse_hex_u32(s: &str) -> u32 {
    let digits = s.strip_prefix("0x").expect("hex with 0x prefix");
    u32::from_str_radix(digits, 16).expect("hex u32")
}

fn header_value<'a>(line: &'a str, keys: &[&str]) -> Option<&'a str> {
    let rest = line.strip_prefix("##")?.trim();
    keys.iter()
        .find_map(|k| rest.strip_prefix(k)?.strip_prefix(':'))
        .map(str::trim)
}

/// Checks one run file; returns (declared iterations, lines checked).
fn check_run(name: &str, text: &str) -> (usize, usize) {
    let params = AsertParams {
        ideal_block_time: 600,
        half_life: 172_800,
        pow_limit: CompactTarget(0x1d00_ffff)
            .to_target()
            .expect("spec pow limit"),
    };
    let mut height = None;
    let mut parent_time = None;
    let mut bits = None;
    let mut iterations = None;
    let mut checked = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            if let Some(v) = header_value(line, &["anchor height"]) {
                height = Some(v.parse::<u64>().expect("anchor height"));
            } else if let Some(v) =
                header_value(line, &["anchor ancestor time", "anchor parent time"])
            {
                parent_time = Some(v.parse::<i64>().expect("anchor parent time"));
            } else if let Some(v) = header_value(line, &["anchor nBits"]) {
                bits = Some(parse_hex_u32(v));
            } else if let Some(v) = header_value(line, &["iterations"]) {
                iterations = Some(v.parse::<usize>().expect("iterations"));
            }
            continue;
        }
        let anchor = AsertAnchor {
            height: height.expect("anchor height before data"),
            parent_time: parent_time.expect("anchor parent time before data"),
            target: CompactTarget(bits.expect("anchor nBits before data"))
                .to_target()
                .expect("anchor nBits valid"),
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 4, "{name}:{}: {line}", n + 1);
        let iteration: usize = fields[0].parse().expect("iteration");
        let prev_height: u64 = fields[1].parse().expect("height");
        let prev_time: i64 = fields[2].parse().expect("time");
        let expected = CompactTarget(parse_hex_u32(fields[3]));
        let got = asert_target(&params, &anchor, prev_height, prev_time).to_compact();
        assert_eq!(
            got,
            expected,
            "{name}:{}: iteration {iteration}, height {prev_height}, time {prev_time}",
            n + 1
        );
        checked += 1;
        assert_eq!(iteration, checked, "{name}: iterations numbered in order");
    }
    (iterations.expect("iterations header"), checked)
}

#[test]
fn reproduces_all_reference_vectors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/asert");
    let mut files = 0;
    let mut declared = 0;
    let mut checked = 0;
    for i in 1..=12 {
        let name = format!("run{i:02}");
        let text = std::fs::read_to_string(dir.join(&name)).expect("vector file");
        let (iterations, lines) = check_run(&name, &text);
        assert_eq!(lines, iterations, "{name}: lines checked vs iterations");
        files += 1;
        declared += iterations;
        checked += lines;
    }
    assert_eq!(files, 12);
    assert_eq!(checked, declared);
    assert_eq!(checked, 14_000, "total vector lines");
}
