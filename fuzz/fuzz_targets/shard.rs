//! Any bytes as a decompressed shard of a fixed four-column schema (`Shard::from_raw`), and as
//! a compressed shard file whose manifest entry matches its hash (`Shard::open`): opening must
//! never panic, and every field of a shard that opens must be readable in its type.
#![no_main]

use aic_data::{Column, Compression, DType, Shard, ShardEntry, Q8};
use libfuzzer_sys::fuzz_target;

fn columns() -> Vec<Column> {
    vec![
        Column {
            q8: Some(Q8::fit(-14.0, 6.0)),
            ..Column::new("features", DType::Uint8, &[3, 2])
        },
        Column::new("half", DType::Fp16, &[2]),
        Column::new("ids", DType::Uint32, &[2]),
        Column::new("label", DType::Uint8, &[]),
    ]
}

fn touch(shard: &Shard) {
    let columns = shard.columns();
    for i in 0..shard.samples() {
        let fields = shard.sample(i).expect("a checked shard reads every sample");
        for (c, (column, bytes)) in columns.iter().zip(&fields).enumerate() {
            assert_eq!(Some(bytes.len()), column.byte_size());
            match column.dtype {
                DType::Uint32 => {
                    assert_eq!(shard.field_u32(i, c).expect("u32").len(), 2);
                }
                DType::Uint8 if column.q8.is_none() => {
                    assert!(shard.field_f32(i, c).is_err());
                }
                _ => {
                    let v = shard.field_f32(i, c).expect("f32");
                    assert_eq!(Some(v.len()), column.elements());
                }
            }
        }
    }
    assert!(shard.field(shard.samples(), 0).is_err());
}

fuzz_target!(|data: &[u8]| {
    let columns = columns();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        // Raw bytes as they come.
        0 => {
            if let Ok(shard) = Shard::from_raw(rest.to_vec(), &columns) {
                touch(&shard);
            }
        }
        // Behind a valid header start, so the fuzzer spends its time in the offset table.
        1 => {
            let mut raw = b"AICSHARD\x01\0\0\0\x04\0\0\0".to_vec();
            raw.extend_from_slice(rest);
            if let Ok(shard) = Shard::from_raw(raw, &columns) {
                touch(&shard);
            }
        }
        // The bytes compressed into a shard file with a matching entry: all of `open`.
        2 => {
            let Ok(file) = zstd::bulk::compress(rest, 1) else {
                return;
            };
            let samples = rest
                .get(16..24)
                .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
            let entry = ShardEntry {
                blake3: blake3::hash(&file).to_hex().to_string(),
                bytes: file.len() as u64,
                raw_bytes: rest.len() as u64,
                raw_blake3: blake3::hash(rest).to_hex().to_string(),
                samples,
                compression: Compression::Zstd,
            };
            if let Ok(shard) = Shard::open(&file, &entry, &columns) {
                touch(&shard);
            }
        }
        // Arbitrary bytes as a file whose hash and size match: zstd's bounded decompression.
        _ => {
            let raw_bytes = rest.first().map_or(0, |&b| u64::from(b) * 16);
            let entry = ShardEntry {
                blake3: blake3::hash(rest).to_hex().to_string(),
                bytes: rest.len() as u64,
                raw_bytes,
                raw_blake3: "0".repeat(64),
                samples: 0,
                compression: Compression::Zstd,
            };
            if let Ok(shard) = Shard::open(rest, &entry, &columns) {
                touch(&shard);
            }
        }
    }
});
