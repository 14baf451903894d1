//! End to end on the three committed FSDD clips: WAV, log-mel, 8-bit quantization, a shard
//! and its manifest, then random access back to the values.

use std::collections::BTreeMap;
use std::path::Path;

use aic_data::{
    u32_bytes, Column, DType, DatasetManifest, FeaturizerRecord, LogMel, Provenance, Shard,
    ShardWriter, SourceFile, Split, MANIFEST_FORMAT, Q8,
};
use aic_model::{Featurizer, LogMelParams};

#[test]
fn fsdd_clips_to_a_shard_and_back() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fsdd");
    let params = LogMelParams::speech_8khz();
    let lm = LogMel::new(&params).unwrap();
    let q8 = Q8::fit(params.log_floor.ln(), 8.0);
    let columns = vec![
        Column {
            q8: Some(q8),
            ..Column::new(
                "logmel",
                DType::Uint8,
                &[lm.frames() as u32, lm.n_mels() as u32],
            )
        },
        Column::new("label", DType::Uint32, &[]),
    ];
    let mut writer = ShardWriter::new(&columns).unwrap();
    let mut sources = Vec::new();
    let mut features = Vec::new();
    for name in ["0_george_0.wav", "7_jackson_12.wav", "9_theo_28.wav"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let logmel = lm.compute_wav(&bytes).unwrap();
        let codes: Vec<u8> = logmel.iter().map(|&v| q8.quantize(v)).collect();
        let label: u32 = name[..1].parse().unwrap();
        writer.push(&[&codes, &u32_bytes(&[label])]).unwrap();
        sources.push(SourceFile {
            path: format!("recordings/{name}"),
            blake3: blake3::hash(&bytes).to_hex().to_string(),
            bytes: bytes.len() as u64,
        });
        features.push((logmel, label));
    }
    let shard = writer.finish(3).unwrap();
    let manifest = DatasetManifest {
        format: MANIFEST_FORMAT.into(),
        name: "fsdd-sample".into(),
        columns: columns.clone(),
        shards: vec![shard.entry.clone()],
        splits: BTreeMap::from([("test".into(), Split { shards: vec![0] })]),
        provenance: Provenance {
            sources,
            featurizer: FeaturizerRecord {
                name: "aic-data".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                params: Featurizer::LogMel(params),
            },
            license: "Free Spoken Digit Dataset, Zohar Jackson et al., CC BY-SA 4.0".into(),
        },
    };
    let manifest = DatasetManifest::from_json(&manifest.to_json()).unwrap();
    assert!(
        shard.entry.bytes < shard.entry.raw_bytes,
        "zstd did not shrink the shard: {} of {}",
        shard.entry.bytes,
        shard.entry.raw_bytes
    );

    let opened = Shard::open(&shard.bytes, &manifest.shards[0], &manifest.columns).unwrap();
    for (i, (logmel, label)) in features.iter().enumerate().rev() {
        let back = opened.field_f32(i as u64, 0).unwrap();
        let worst = back
            .iter()
            .zip(logmel)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst <= q8.scale / 2.0 + 1e-5, "sample {i}: {worst}");
        assert_eq!(opened.field_u32(i as u64, 1).unwrap(), vec![*label]);
    }
}
