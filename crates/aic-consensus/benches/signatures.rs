//! Signature verification, the stateless cost of every signed transaction.
//!
//! - `verify_one`: one ed25519 check, [`PublicKey::verify`] of [`TxBody::signing_bytes`]
//!   (the signing bytes are prepared outside the timed loop).
//! - `verify_batch_64`: [`aic_primitives::verify_batch`] of 64 signatures, one batch of
//!   [`aic_consensus::SIGNATURE_BATCH`].
//! - `verify_signatures_2000`: [`aic_consensus::verify_signatures`] over 2,000 signed
//!   transfers from distinct senders, as a block import runs it: batches of 64 spread over the
//!   cores by rayon, signing bytes built inside.
//!
//! Throughput is in signatures. Run: `cargo bench -p aic-consensus --bench signatures`.
#![allow(missing_docs)]

use aic_primitives::{
    verify_batch, Action, Address, Amount, ChainParams, PublicKey, SecretKey, Signature, SignedTx,
    TxBody,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

/// `n` signed transfers, each from its own key.
fn signed_transfers(n: u32) -> Vec<SignedTx> {
    let chain_id = ChainParams::devnet().chain_id;
    (0..n)
        .map(|i| {
            let mut seed = [1u8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            let key = SecretKey::from_seed(seed);
            TxBody {
                chain_id,
                sender: key.public_key(),
                nonce: 0,
                fee: Amount::from_units(1_000),
                action: Action::Transfer {
                    to: Address([7; 20]),
                    amount: Amount::from_units(5_000),
                },
            }
            .sign(&key)
        })
        .collect()
}

fn signatures(c: &mut Criterion) {
    let txs = signed_transfers(2_000);
    let mut g = c.benchmark_group("signatures");

    let one = &txs[0];
    let msg = one.body.signing_bytes();
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_one", |b| {
        b.iter(|| {
            black_box(&one.body.sender)
                .verify(black_box(&msg), &one.signature)
                .unwrap()
        })
    });

    let batch = &txs[..64];
    let msgs: Vec<Vec<u8>> = batch.iter().map(|t| t.body.signing_bytes()).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let sigs: Vec<Signature> = batch.iter().map(|t| t.signature).collect();
    let keys: Vec<PublicKey> = batch.iter().map(|t| t.body.sender).collect();
    g.throughput(Throughput::Elements(64));
    g.bench_function("verify_batch_64", |b| {
        b.iter(|| verify_batch(black_box(&refs), &sigs, &keys).unwrap())
    });

    let all: Vec<&SignedTx> = txs.iter().collect();
    g.throughput(Throughput::Elements(all.len() as u64));
    g.sample_size(20);
    g.bench_function("verify_signatures_2000", |b| {
        b.iter(|| aic_consensus::verify_signatures(black_box(&all)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, signatures);
criterion_main!(benches);
