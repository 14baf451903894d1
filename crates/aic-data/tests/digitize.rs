//! Digitize, then load: the committed FSDD clips (and the shared corpora when present) come
//! back from the loader as the training path featurizes them, the output is byte-for-byte
//! reproducible, and bad records are skipped with reasons.

#![allow(clippy::print_stderr)] // tests report what they skipped

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aic_data::{
    digitize_fsdd, digitize_wikiqa, read_blob, read_manifest, DigitizeOptions, DigitizeReport,
    DirSource, FeatureEncoding, Loader, LoaderConfig, LogMel, Tokenizer, Vocabulary,
};
use aic_model::{Featurizer, LogMelParams, TokenizerKind, TokenizerParams};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fsdd")
}

fn shared(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets")
        .join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (the shared data sets are not installed)",
            dir.display()
        );
        None
    }
}

fn options(encoding: FeatureEncoding, threads: usize) -> DigitizeOptions {
    DigitizeOptions {
        encoding,
        threads,
        zstd_level: 3,
        ..DigitizeOptions::default()
    }
}

/// Every sample of every split, unshuffled, as (label, features) by label and split.
fn load_all(dir: &Path, report: &DigitizeReport) -> BTreeMap<String, Vec<(u32, Vec<f32>)>> {
    let manifest = read_manifest(dir, Some(&report.manifest_blake3)).unwrap();
    let mut out = BTreeMap::new();
    for split in manifest.splits.keys() {
        let loader = Loader::new(
            &manifest,
            split,
            Arc::new(DirSource::new(dir)),
            LoaderConfig {
                batch_size: 2,
                shuffle: false,
                workers: 1,
                ..LoaderConfig::default()
            },
        )
        .unwrap();
        let mut samples = Vec::new();
        for batch in loader.epoch(0) {
            let batch = batch.unwrap();
            let features = batch.f32("features").unwrap();
            let row = features.len() / batch.len;
            for (k, &label) in batch.u32("label").unwrap().iter().enumerate() {
                samples.push((label, features[k * row..(k + 1) * row].to_vec()));
            }
        }
        out.insert(split.clone(), samples);
    }
    out
}

/// Files of a directory tree with their bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn fsdd_round_trip_in_every_encoding() {
    let params = LogMelParams::speech_8khz();
    let lm = LogMel::new(&params).unwrap();
    // Direct featurization, as aic-ml's `fsdd()` does it.
    let direct: BTreeMap<u32, Vec<f32>> = ["0_george_0.wav", "7_jackson_12.wav", "9_theo_28.wav"]
        .iter()
        .map(|name| {
            let bytes = std::fs::read(fixture().join(name)).unwrap();
            (name[..1].parse().unwrap(), lm.compute_wav(&bytes).unwrap())
        })
        .collect();
    for encoding in [
        FeatureEncoding::F32,
        FeatureEncoding::F16,
        FeatureEncoding::Q8,
    ] {
        let out = tempfile::tempdir().unwrap();
        let mut calls = 0;
        let report = digitize_fsdd(
            &fixture(),
            out.path(),
            &params,
            &options(encoding, 2),
            &mut |_| calls += 1,
        )
        .unwrap();
        assert!(calls >= 2);
        // README.md and ref_logmel.json are not FSDD names.
        assert_eq!(report.skipped.len(), 2, "{:?}", report.skipped);
        assert_eq!(report.samples["train"], 2);
        assert_eq!(report.samples["test"], 1);
        assert_eq!(report.manifest.provenance.sources.len(), 3);
        assert_eq!(
            report.manifest.provenance.featurizer.params,
            Featurizer::LogMel(params.clone())
        );
        let loaded = load_all(out.path(), &report);
        assert_eq!(loaded["test"][0].0, 0);
        assert_eq!(
            loaded["train"].iter().map(|s| s.0).collect::<Vec<_>>(),
            [7, 9]
        );
        let q8 = report.manifest.columns[0].q8;
        for (label, values) in loaded.values().flatten() {
            let want = &direct[label];
            assert_eq!(values.len(), want.len());
            for (&got, &v) in values.iter().zip(want) {
                match encoding {
                    FeatureEncoding::F32 => assert_eq!(got, v),
                    FeatureEncoding::F16 => assert_eq!(got, half::f16::from_f32(v).to_f32()),
                    FeatureEncoding::Q8 => {
                        let q = q8.unwrap();
                        let clamped = v.clamp(q.offset, q.offset + 255.0 * q.scale);
                        assert!((got - clamped).abs() <= q.scale / 2.0 + 1e-5, "{got} {v}");
                        assert!((got - v).abs() <= report.max_abs_error + 1e-6);
                    }
                }
            }
        }
        eprintln!(
            "{encoding:?}: max abs error {}, clamped {}, {} bytes",
            report.max_abs_error, report.clamped, report.dataset_bytes
        );
        if encoding == FeatureEncoding::F32 {
            assert_eq!(report.max_abs_error, 0.0);
        }
    }
}

#[test]
fn digitizing_is_reproducible_to_the_byte() {
    let params = LogMelParams::speech_8khz();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ra = digitize_fsdd(
        &fixture(),
        a.path(),
        &params,
        &options(FeatureEncoding::Q8, 1),
        &mut |_| {},
    )
    .unwrap();
    let rb = digitize_fsdd(
        &fixture(),
        b.path(),
        &params,
        &options(FeatureEncoding::Q8, 4),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(ra.manifest_blake3, rb.manifest_blake3);
    let (ta, tb) = (tree(a.path()), tree(b.path()));
    assert_eq!(ta, tb);
    // manifest.json and one shard per split, nothing else (no temporary file left).
    assert_eq!(ta.len(), 1 + ra.manifest.shards.len());
    assert_eq!(
        blake3::hash(&ta[Path::new("manifest.json")])
            .to_hex()
            .to_string(),
        ra.manifest_blake3
    );
    // Digitizing again over the same directory changes nothing.
    let rc = digitize_fsdd(
        &fixture(),
        a.path(),
        &params,
        &options(FeatureEncoding::Q8, 3),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(rc.manifest_blake3, ra.manifest_blake3);
    assert_eq!(tree(a.path()), tb);
}

#[test]
fn bad_records_are_skipped_with_reasons() {
    let src = tempfile::tempdir().unwrap();
    for name in ["0_george_0.wav", "7_jackson_12.wav"] {
        std::fs::copy(fixture().join(name), src.path().join(name)).unwrap();
    }
    let good = std::fs::read(fixture().join("9_theo_28.wav")).unwrap();
    // Truncated inside the header; at 16 kHz; not a WAV at all; a name off the convention.
    std::fs::write(src.path().join("1_bad_11.wav"), &good[..30]).unwrap();
    let mut fast = good.clone();
    fast[24..28].copy_from_slice(&16_000u32.to_le_bytes());
    std::fs::write(src.path().join("2_bad_12.wav"), fast).unwrap();
    std::fs::write(src.path().join("3_bad_13.wav"), b"hello").unwrap();
    std::fs::write(src.path().join("x_bad.wav"), &good).unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = digitize_fsdd(
        src.path(),
        out.path(),
        &LogMelParams::speech_8khz(),
        &options(FeatureEncoding::Q8, 2),
        &mut |_| {},
    )
    .unwrap();
    let reasons: BTreeMap<String, String> = report
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().into_owned(),
                s.reason.clone(),
            )
        })
        .collect();
    eprintln!("{reasons:#?}");
    assert_eq!(reasons.len(), 4);
    assert!(reasons["2_bad_12.wav"].contains("16000"), "{reasons:?}");
    assert!(reasons["x_bad.wav"].contains("name"));
    assert!(reasons.contains_key("1_bad_11.wav") && reasons.contains_key("3_bad_13.wav"));
    assert_eq!(report.samples.values().sum::<u64>(), 2);
    // Nothing usable: an error, not a panic and not an empty data set.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("3_bad_13.wav"), b"hello").unwrap();
    assert!(digitize_fsdd(
        empty.path(),
        out.path(),
        &LogMelParams::speech_8khz(),
        &options(FeatureEncoding::Q8, 1),
        &mut |_| {}
    )
    .is_err());
}

fn template() -> TokenizerParams {
    TokenizerParams {
        tokenizer: TokenizerKind::Whitespace,
        lowercase: true,
        vocab_size: 0,
        vocab_blake3: String::new(),
        max_len: 40,
        oov_buckets: 4_096,
    }
}

/// Checks a digitized WikiQA-layout folder against the training path's tokenization.
fn check_text(src: &Path, out: &Path, report: &DigitizeReport) {
    let Featurizer::Tokenizer(params) = &report.manifest.provenance.featurizer.params else {
        panic!("not a tokenizer");
    };
    let vocab =
        Vocabulary::from_file_bytes(&read_blob(out, &params.vocab_blake3).unwrap()).unwrap();
    let tok = Tokenizer::new(params, vocab).unwrap();
    let manifest = read_manifest(out, Some(&report.manifest_blake3)).unwrap();
    for split in ["train", "dev"] {
        let (pairs, _) = aic_data::corpora::wikiqa_split(&src.join(split)).unwrap();
        let loader = Loader::new(
            &manifest,
            split,
            Arc::new(DirSource::new(out)),
            LoaderConfig {
                batch_size: 100,
                shuffle: false,
                ..LoaderConfig::default()
            },
        )
        .unwrap();
        let mut k = 0;
        for batch in loader.epoch(0) {
            let batch = batch.unwrap();
            let (q, a) = (batch.u32("question").unwrap(), batch.u32("answer").unwrap());
            let (y, g) = (batch.u32("label").unwrap(), batch.u32("group").unwrap());
            for i in 0..batch.len {
                let p = &pairs[k];
                assert_eq!(q[i * 40..(i + 1) * 40], tok.encode(&p.question)[..]);
                assert_eq!(a[i * 40..(i + 1) * 40], tok.encode(&p.answer)[..]);
                assert_eq!(y[i], u32::from(p.relevant));
                assert_eq!(u64::from(g[i]), p.question_id);
                k += 1;
            }
        }
        assert_eq!(k, pairs.len());
    }
}

#[test]
fn text_pairs_round_trip_with_a_vocabulary_blob() {
    let src = tempfile::tempdir().unwrap();
    for (split, q, a, y, id) in [
        (
            "train",
            "who is it ?\nwho is it ?\n\nwhat now ?\n",
            "it is me .\nit is you .\nx\nnow it is .\n",
            "1\n0\n0\n1\n",
            "1\n1\n2\n3\n",
        ),
        ("dev", "who is zorro ?\n", "zorro is me .\n", "1\n", "9\n"),
    ] {
        let d = src.path().join(split);
        std::fs::create_dir_all(&d).unwrap();
        for (f, t) in [("a.toks", q), ("b.toks", a), ("sim.txt", y), ("id.txt", id)] {
            std::fs::write(d.join(f), t).unwrap();
        }
    }
    let out = tempfile::tempdir().unwrap();
    let report = digitize_wikiqa(
        src.path(),
        out.path(),
        &template(),
        &options(FeatureEncoding::F32, 1),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(report.skipped[0].reason.contains("empty"));
    assert_eq!(report.samples["train"], 3);
    assert_eq!(report.samples["dev"], 1);
    assert_eq!(report.manifest.provenance.sources.len(), 8);
    assert_eq!(format!("{:?}", report.manifest.columns[0].dtype), "Uint16");
    check_text(src.path(), out.path(), &report);
}

#[test]
fn shared_corpora_round_trip() {
    if let Some(src) = shared("wikiqa") {
        let out = tempfile::tempdir().unwrap();
        let report = digitize_wikiqa(
            &src,
            out.path(),
            &template(),
            &options(FeatureEncoding::F32, 2),
            &mut |_| {},
        )
        .unwrap();
        eprintln!(
            "wikiqa: {} -> {} bytes, skipped {}",
            report.source_bytes,
            report.dataset_bytes,
            report.skipped.len()
        );
        assert!(report.dataset_bytes * 2 <= report.source_bytes);
        check_text(&src, out.path(), &report);
    }
    if let Some(src) = shared("fsdd") {
        let out = tempfile::tempdir().unwrap();
        let report = digitize_fsdd(
            &src.join("recordings"),
            out.path(),
            &LogMelParams::speech_8khz(),
            &DigitizeOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        eprintln!(
            "fsdd: {} -> {} bytes, q8 max error {}, clamped {}",
            report.source_bytes, report.dataset_bytes, report.max_abs_error, report.clamped
        );
        assert_eq!(report.samples.values().sum::<u64>(), 2_500);
        assert!(report.dataset_bytes * 4 <= report.source_bytes);
    }
}
