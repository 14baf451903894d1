//! `LogMel` against librosa (`tests/data/fsdd/ref_logmel.json`, made by
//! `scripts/ref_logmel.py`), and every FSDD recording through the decoder and the featurizer
//! when the shared data sets are present.

#![allow(clippy::print_stderr)] // tests report what they measured and what they skipped

use std::path::{Path, PathBuf};

use aic_data::{read_wav, LogMel};
use aic_model::LogMelParams;

/// Largest difference allowed from librosa, in natural-log units. Measured: 9.5e-7, which is
/// the rounding of the reference to 6 decimals (up to 5e-7) plus the rounding of our output
/// to `f32` (half an ulp, up to 4.8e-7 near the floor's ln(1e-6) = -13.8).
const TOLERANCE: f32 = 1e-5;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fsdd")
}

#[test]
fn matches_librosa() {
    let text = std::fs::read_to_string(data_dir().join("ref_logmel.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let lm = LogMel::new(&LogMelParams::speech_8khz()).unwrap();
    let clips = doc["clips"].as_array().unwrap();
    assert_eq!(clips.len(), 3);
    let mut worst = 0.0f32;
    for clip in clips {
        let file = clip["file"].as_str().unwrap();
        let expected: Vec<f32> = clip["logmel"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(clip["frames"].as_u64(), Some(lm.frames() as u64));
        assert_eq!(clip["n_mels"].as_u64(), Some(lm.n_mels() as u64));
        let wav = read_wav(&data_dir().join(file)).unwrap();
        assert_eq!(wav.samples.len() as u64, clip["samples"].as_u64().unwrap());
        let ours = lm.compute(&wav.samples);
        assert_eq!(ours.len(), expected.len());
        let (at, diff) = ours
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .enumerate()
            .fold(
                (0, 0.0f32),
                |best, (i, d)| if d > best.1 { (i, d) } else { best },
            );
        assert!(
            diff <= TOLERANCE,
            "{file}: frame {} band {}: ours {} librosa {}",
            at / lm.n_mels(),
            at % lm.n_mels(),
            ours[at],
            expected[at]
        );
        worst = worst.max(diff);
    }
    eprintln!("max |ours - librosa| over 3 clips: {worst:.2e} (tolerance {TOLERANCE:.0e})");
}

/// Every recording of `../shared/datasets/fsdd` decodes and featurizes to finite values.
#[test]
fn every_fsdd_recording_featurizes() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/fsdd/recordings");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "skipped: {} is absent (the shared data sets are not installed)",
            dir.display()
        );
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("wav"))
        .collect();
    paths.sort();
    let count = paths.len();
    assert!(count > 0, "no WAV files in {}", dir.display());
    let lm = LogMel::new(&LogMelParams::speech_8khz()).unwrap();
    let check = |path: &Path| -> Option<String> {
        match read_wav(path) {
            Ok(wav) if wav.sample_rate != 8000 => {
                Some(format!("{}: {} Hz", path.display(), wav.sample_rate))
            }
            Ok(wav) => {
                let out = lm.compute(&wav.samples);
                let ok = out.len() == 4040 && out.iter().all(|v| v.is_finite());
                (!ok).then(|| format!("{}: non-finite or misshapen log-mel", path.display()))
            }
            Err(e) => Some(format!("{}: {e}", path.display())),
        }
    };
    // One chunk per core: the test profile does not optimize this crate.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bad: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = paths
            .chunks(count.div_ceil(threads))
            .map(|chunk| s.spawn(|| chunk.iter().filter_map(|p| check(p)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    eprintln!("{count} FSDD recordings featurized, {} refused", bad.len());
    assert!(bad.is_empty(), "refused:\n{}", bad.join("\n"));
}
