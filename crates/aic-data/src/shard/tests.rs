use super::*;
use crate::manifest::Q8;

fn columns() -> Vec<Column> {
    vec![
        Column {
            q8: Some(Q8::fit(-14.0, 6.0)),
            ..Column::new("logmel", DType::Uint8, &[3, 4])
        },
        Column::new("embedding", DType::Fp32, &[2]),
        Column::new("half", DType::Fp16, &[2]),
        Column::new("label", DType::Uint32, &[]),
    ]
}

fn sample(i: u32) -> Vec<Vec<u8>> {
    let q8 = Q8::fit(-14.0, 6.0);
    let logmel: Vec<u8> = (0..12)
        .map(|k| q8.quantize(-14.0 + (i + k) as f32))
        .collect();
    vec![
        logmel,
        fp32_bytes(&[i as f32, -0.5]),
        fp16_bytes(&[i as f32 * 0.5, 1.0 / 3.0]),
        u32_bytes(&[i % 10]),
    ]
}

fn writer(samples: u32) -> ShardWriter {
    let mut w = ShardWriter::new(&columns()).unwrap();
    for i in 0..samples {
        let s = sample(i);
        let fields: Vec<&[u8]> = s.iter().map(Vec::as_slice).collect();
        w.push(&fields).unwrap();
    }
    w
}

/// Compresses and names arbitrary raw bytes, so that a bad layout passes the hash checks.
fn seal(raw: &[u8], samples: u64) -> (Vec<u8>, ShardEntry) {
    let bytes = zstd::bulk::compress(raw, 3).unwrap();
    let entry = ShardEntry {
        blake3: blake3::hash(&bytes).to_hex().to_string(),
        bytes: bytes.len() as u64,
        raw_bytes: raw.len() as u64,
        raw_blake3: blake3::hash(raw).to_hex().to_string(),
        samples,
        compression: Compression::Zstd,
    };
    (bytes, entry)
}

#[test]
fn round_trip_and_random_access() {
    let w = writer(7);
    assert_eq!(w.samples(), 7);
    let raw_len = w.raw_len();
    let done = w.finish(3).unwrap();
    assert_eq!(done.entry.samples, 7);
    assert_eq!(done.entry.raw_bytes, raw_len as u64);
    assert_eq!(done.entry.bytes, done.bytes.len() as u64);
    let shard = Shard::open(&done.bytes, &done.entry, &columns()).unwrap();
    assert_eq!(shard.samples(), 7);
    for i in [6u32, 0, 3] {
        let expected = sample(i);
        let got = shard.sample(u64::from(i)).unwrap();
        assert_eq!(got, expected.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert_eq!(
            shard.field_f32(u64::from(i), 1).unwrap(),
            vec![i as f32, -0.5]
        );
        let h = shard.field_f32(u64::from(i), 2).unwrap();
        assert_eq!(h[0], i as f32 * 0.5);
        assert!((h[1] - 1.0 / 3.0).abs() < 1e-3);
        let lm = shard.field_f32(u64::from(i), 0).unwrap();
        assert_eq!(lm.len(), 12);
        assert!((lm[0] - (-14.0 + i as f32)).abs() <= 20.0 / 510.0 + 1e-5);
        assert_eq!(shard.field_u32(u64::from(i), 3).unwrap(), vec![i % 10]);
    }
    assert_eq!(shard.column_index("label").unwrap(), 3);
    assert!(matches!(
        shard.column_index("x"),
        Err(ShardError::NoColumn(_))
    ));
    assert!(matches!(shard.field(0, 4), Err(ShardError::NoColumn(_))));
    assert!(matches!(
        shard.field(7, 0),
        Err(ShardError::SampleOutOfRange { index: 7, count: 7 })
    ));
    assert!(matches!(
        shard.field_u32(0, 0),
        Err(ShardError::WrongType { .. })
    ));
    assert!(matches!(
        shard.field_f32(0, 3),
        Err(ShardError::WrongType { .. })
    ));
}

#[test]
fn same_samples_same_shard() {
    let a = writer(4).finish(3).unwrap();
    let b = writer(4).finish(3).unwrap();
    assert_eq!(a.entry, b.entry);
    let empty = writer(0).finish(3).unwrap();
    let shard = Shard::open(&empty.bytes, &empty.entry, &columns()).unwrap();
    assert_eq!(shard.samples(), 0);
}

#[test]
fn writer_refuses_misshapen_samples() {
    let mut w = writer(1);
    let s = sample(1);
    assert!(matches!(
        w.push(&[&s[0], &s[1]]),
        Err(ShardError::CountMismatch {
            what: "columns",
            ..
        })
    ));
    assert!(matches!(
        w.push(&[&s[0], &s[1], &s[2][..1], &s[3]]),
        Err(ShardError::FieldSize { sample: 1, .. })
    ));
    assert_eq!(w.samples(), 1);
    let huge = Column::new("x", DType::Int64, &[u32::MAX, u32::MAX, u32::MAX]);
    assert!(matches!(
        ShardWriter::new(&[huge]),
        Err(ShardError::ColumnShape(_))
    ));
}

#[test]
fn hash_and_size_mismatch() {
    let done = writer(3).finish(3).unwrap();
    let mut flipped = done.bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(matches!(
        Shard::open(&flipped, &done.entry, &columns()),
        Err(ShardError::HashMismatch { what: "shard", .. })
    ));
    assert!(matches!(
        Shard::open(&done.bytes[1..], &done.entry, &columns()),
        Err(ShardError::SizeMismatch { .. })
    ));
    let wrong_raw = ShardEntry {
        raw_blake3: done.entry.blake3.clone(),
        ..done.entry.clone()
    };
    assert!(matches!(
        Shard::open(&done.bytes, &wrong_raw, &columns()),
        Err(ShardError::HashMismatch {
            what: "raw shard",
            ..
        })
    ));
}

#[test]
fn decompression_is_bounded() {
    let done = writer(3).finish(3).unwrap();
    let huge = ShardEntry {
        raw_bytes: MAX_RAW_BYTES + 1,
        ..done.entry.clone()
    };
    assert!(matches!(
        Shard::open(&done.bytes, &huge, &columns()),
        Err(ShardError::TooLarge(_))
    ));
    for raw_bytes in [done.entry.raw_bytes - 1, done.entry.raw_bytes + 1] {
        let wrong = ShardEntry {
            raw_bytes,
            ..done.entry.clone()
        };
        assert!(matches!(
            Shard::open(&done.bytes, &wrong, &columns()),
            Err(ShardError::Decompress(_))
        ));
    }
    let garbage = b"not zstd at all";
    let entry = ShardEntry {
        blake3: blake3::hash(garbage).to_hex().to_string(),
        bytes: garbage.len() as u64,
        ..done.entry
    };
    assert!(matches!(
        Shard::open(garbage, &entry, &columns()),
        Err(ShardError::Decompress(_))
    ));
}

#[test]
fn bad_magic_and_version() {
    let raw = writer(2).raw();
    let mut bad = raw.clone();
    bad[0] = b'X';
    let (bytes, entry) = seal(&bad, 2);
    assert!(matches!(
        Shard::open(&bytes, &entry, &columns()),
        Err(ShardError::BadMagic)
    ));
    assert!(matches!(
        Shard::from_raw(b"AIC".to_vec(), &columns()),
        Err(ShardError::BadMagic)
    ));
    let mut v2 = raw;
    v2[8] = 2;
    assert!(matches!(
        Shard::from_raw(v2, &columns()),
        Err(ShardError::UnsupportedVersion(2))
    ));
}

#[test]
fn truncated_anywhere() {
    let raw = writer(3).raw();
    let table_end = HEADER_LEN + 8 * (3 * 4 + 1);
    for cut in [
        8,
        20,
        HEADER_LEN + 8,
        table_end - 1,
        table_end,
        raw.len() - 1,
    ] {
        let (bytes, entry) = seal(&raw[..cut], 3);
        let err = Shard::open(&bytes, &entry, &columns()).unwrap_err();
        assert!(
            matches!(err, ShardError::Truncated { .. }),
            "cut {cut}: {err}"
        );
    }
    let mut longer = raw;
    longer.push(0);
    assert!(matches!(
        Shard::from_raw(longer, &columns()),
        Err(ShardError::TrailingBytes(1))
    ));
}

#[test]
fn offsets_out_of_range() {
    let raw = writer(3).raw();
    let set = |raw: &mut Vec<u8>, index: usize, value: u64| {
        let at = HEADER_LEN + 8 * index;
        raw[at..at + 8].copy_from_slice(&value.to_le_bytes());
    };
    // A first offset that is not 0, a decreasing one, one past the data.
    for (index, value) in [(0usize, 1u64), (5, 0), (5, 1 << 40)] {
        let mut bad = raw.clone();
        set(&mut bad, index, value);
        let (bytes, entry) = seal(&bad, 3);
        let err = Shard::open(&bytes, &entry, &columns()).unwrap_err();
        assert!(
            matches!(err, ShardError::OffsetOutOfRange { index: i, .. } if i == index as u64),
            "{err}"
        );
    }
    // Monotonic but with fields of the wrong size.
    let mut bad = raw;
    set(&mut bad, 1, 13);
    assert!(matches!(
        Shard::from_raw(bad, &columns()),
        Err(ShardError::FieldSize { sample: 0, .. })
    ));
}

#[test]
fn counts_must_match() {
    let done = writer(3).finish(3).unwrap();
    let wrong = ShardEntry {
        samples: 4,
        ..done.entry.clone()
    };
    assert!(matches!(
        Shard::open(&done.bytes, &wrong, &columns()),
        Err(ShardError::CountMismatch {
            what: "samples",
            ..
        })
    ));
    assert!(matches!(
        Shard::open(&done.bytes, &done.entry, &columns()[..3]),
        Err(ShardError::CountMismatch {
            what: "columns",
            ..
        })
    ));
    // A header claiming a huge sample count cannot overflow the table arithmetic.
    let mut raw = writer(1).raw();
    raw[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        Shard::from_raw(raw, &columns()),
        Err(ShardError::Truncated {
            what: "offset table",
            ..
        })
    ));
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        let _ = Shard::from_raw(bytes.clone(), &columns());
        let mut raw = b"AICSHARD\x01\0\0\0\x04\0\0\0".to_vec();
        raw.extend_from_slice(&bytes);
        let _ = Shard::from_raw(raw, &columns());
    }

    #[test]
    fn mutated_shards_never_panic(at in 0usize..400, value in proptest::num::u8::ANY) {
        let mut raw = writer(3).raw();
        let at = at % raw.len();
        raw[at] = value;
        if let Ok(shard) = Shard::from_raw(raw, &columns()) {
            for i in 0..shard.samples() {
                shard.sample(i).unwrap();
            }
        }
    }
}
