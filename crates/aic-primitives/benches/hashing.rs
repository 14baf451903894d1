//! Hashing costs of the primitives.
//!
//! - `header_hash`: [`BlockHeader::hash`], SHA-256d of the 80 header bytes (what a miner and
//!   every header check computes).
//! - `txid_signed_transfer`: [`Transaction::txid`] of one signed transfer, SHA-256d of its
//!   canonical encoding (encoding included).
//!
//! Run: `cargo bench -p aic-primitives --bench hashing`.
#![allow(missing_docs)]

use aic_primitives::{
    Action, Address, Amount, BlockHeader, ChainParams, CompactTarget, Hash256, SecretKey,
    Transaction, TxBody,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn hashing(c: &mut Criterion) {
    let header = BlockHeader {
        version: 1,
        prev_hash: Hash256([1; 32]),
        merkle_root: Hash256([2; 32]),
        time: 1_790_000_000,
        bits: CompactTarget(0x207f_ffff),
        nonce: 42,
    };
    let key = SecretKey::from_seed([7; 32]);
    let tx = Transaction::Signed(
        TxBody {
            chain_id: ChainParams::devnet().chain_id,
            sender: key.public_key(),
            nonce: 3,
            fee: Amount::from_units(1_000),
            action: Action::Transfer {
                to: Address([9; 20]),
                amount: Amount::from_units(5_000),
            },
        }
        .sign(&key),
    );

    let mut g = c.benchmark_group("hashing");
    g.throughput(Throughput::Elements(1));
    g.bench_function("header_hash", |b| b.iter(|| black_box(&header).hash()));
    g.bench_function("txid_signed_transfer", |b| b.iter(|| black_box(&tx).txid()));
    g.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
