//! Importing a full block of signed transfers, and the parts that make up the cost.
//!
//! The measured block holds N = 2,000 signed transfers, one from each of 2,000 distinct funded
//! senders, each to a fresh recipient (so 4,001 accounts change, the miner included). Setup,
//! not timed: a devnet chain in a temp dir, a block paying key 0, a block in which key 0 funds
//! keys 1..=2000, then the measured block built from the mempool and mined, but not imported.
//!
//! Group `import_2000` (throughput in transactions):
//! - `submit_block`: [`Chain::submit_block`] end to end: header checks, structure, batched
//!   signatures, ledger apply with the sparse Merkle state root, the durable redb write, the
//!   mempool update. Every iteration imports into a fresh copy of the prepared database
//!   (copied, synced and opened in the untimed setup).
//! - `submit_block_seen_txs`: the same, after the block's transactions went through this
//!   node's mempool, so the signature cache skips their signatures (the usual case on a network).
//! - `check_block_structure`: [`aic_consensus::check_block_structure`] (merkle root, stateless
//!   rules and all signatures).
//! - `verify_signatures`: [`aic_consensus::verify_signatures`] alone over the block's transfers.
//! - `ledger_apply_block`: [`Ledger::apply_block`] on a clone of the prepared ledger (nonces,
//!   balances, coinbase value, state root).
//! - `store_write`: [`Store::write`] of the batch `submit_block` writes for this block (block
//!   bytes, index, main chain, undo, 4,001 accounts, 2,001 txids, tip), one durable commit,
//!   into a fresh copy of the prepared database.
//!
//! Group `durability` (fixed costs of a durable write on this disk):
//! - `store_write_empty`: [`Store::write`] of an empty batch, a durable redb commit that
//!   changes nothing.
//! - `fsync_4k`: writing 4 KiB to a file and `sync_data`, the bare disk flush.
//!
//! Files go under `$AIC_BENCH_DIR`, else the system temp dir: put it on the disk a node would
//! use, since a tmpfs makes every fsync free. If `$AIC_BENCH_TMPFS_DIR` names a tmpfs
//! directory (such as `/dev/shm`), `submit_block_tmpfs` and `store_write_tmpfs` repeat those two
//! benchmarks with the database there: the same code with the disk flush taken out, which
//! measures what the fsync of the durable write costs.
//!
//! Run: `cargo bench -p aic-chain --bench import`.
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use aic_chain::{BlockTemplate, Chain, ChainConfig};
use aic_ledger::{Account, Ledger};
use aic_primitives::{
    Action, Address, Amount, Block, ChainParams, Decode, Encode, Height, SecretKey, SignedTx,
    Transaction, TxBody,
};
use aic_storage::{BlockStatus, IndexEntry, Store, WriteBatch};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tempfile::TempDir;

/// Transfers in the measured block.
const N: u32 = 2_000;
/// The node's clock: far enough ahead that no block is too new.
const NOW: u64 = 4_000_000_000;
/// What key 0 gives each sender.
const FUNDING: u64 = 1_000_000;

fn params() -> ChainParams {
    ChainParams::devnet()
}

fn key(i: u32) -> SecretKey {
    let mut seed = [0xA1; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    SecretKey::from_seed(seed)
}

fn addr(i: u32) -> Address {
    Address::from_public_key(&key(i).public_key())
}

/// A fresh recipient for sender `i`.
fn recipient(i: u32) -> Address {
    let mut a = [0xEE; 20];
    a[..4].copy_from_slice(&i.to_le_bytes());
    Address(a)
}

fn transfer(from: u32, nonce: u64, to: Address, amount: u64) -> Transaction {
    Transaction::Signed(
        TxBody {
            chain_id: params().chain_id,
            sender: key(from).public_key(),
            nonce,
            fee: Amount::from_units(1_000),
            action: Action::Transfer {
                to,
                amount: Amount::from_units(amount),
            },
        }
        .sign(&key(from)),
    )
}

fn bench_dir() -> PathBuf {
    std::env::var_os("AIC_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// Mines the chain's next block from its template, on the devnet schedule (two seconds apart)
/// but never below the template's earliest valid time.
fn mine_next(chain: &mut Chain, miner: Address) -> Block {
    let t: BlockTemplate = chain.block_template(miner, NOW);
    let on_schedule = chain.params().genesis_time + 2 * t.height.0 as u32;
    let time = on_schedule.max(t.min_time);
    let target = t.bits.to_target().unwrap();
    let mut header = t.header([0; 8], time, 0);
    while !target.is_met_by(&header.hash()) {
        header.nonce += 1;
    }
    t.assemble([0; 8], header)
}

/// The prepared state: a closed database at height 2 and the mined, unimported block 3.
struct Prepared {
    _dir: TempDir,
    db: PathBuf,
    block: Block,
    height: Height,
    ledger: Ledger,
    batch: WriteBatch,
}

fn prepare() -> Prepared {
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    let db = dir.path().join("chain.redb");
    let mut config = ChainConfig::default();
    config.mempool.max_per_sender = 10_000;
    let mut chain = Chain::open(params(), &db, config).unwrap();
    let miner = Address([0x33; 20]);

    let b1 = mine_next(&mut chain, addr(0));
    chain.submit_block(b1, NOW).unwrap();
    for i in 1..=N {
        chain
            .submit_tx(transfer(0, u64::from(i - 1), addr(i), FUNDING))
            .unwrap();
    }
    let b2 = mine_next(&mut chain, miner);
    assert_eq!(b2.txs.len(), N as usize + 1, "funding block is not full");
    chain.submit_block(b2, NOW).unwrap();

    for i in 1..=N {
        chain
            .submit_tx(transfer(i, 0, recipient(i), FUNDING / 2))
            .unwrap();
    }
    let block = mine_next(&mut chain, miner);
    assert_eq!(
        block.txs.len(),
        N as usize + 1,
        "measured block is not full"
    );
    let height = Height(chain.height().0 + 1);
    let parent = chain.tip();
    drop(chain);

    let store = Store::open(&db, params().genesis_hash()).unwrap();
    let ledger = Ledger::from_accounts(
        store
            .load_accounts()
            .unwrap()
            .into_iter()
            .map(|(a, bytes)| (a, Account::from_bytes(&bytes).unwrap())),
    );
    drop(store);

    // The batch `Chain::submit_block` writes for this block.
    let outcome = ledger
        .clone()
        .apply_block(&params(), &block, height)
        .unwrap();
    let hash = block.hash();
    let entry = IndexEntry {
        header: block.header,
        height,
        chain_work: parent
            .entry
            .chain_work
            .saturating_add(block.header.bits.to_target().unwrap().work()),
        status: BlockStatus::Valid,
    };
    let touched: BTreeSet<Address> = outcome.changed.iter().map(|(a, _)| *a).collect();
    let changed: std::collections::HashMap<_, _> = outcome.changed.iter().copied().collect();
    let batch = WriteBatch {
        new_blocks: vec![(hash, block.to_bytes(), entry)],
        connected: vec![(
            hash,
            height,
            block.txs.iter().map(Transaction::txid).collect(),
            outcome.undo.to_bytes(),
        )],
        accounts: touched
            .into_iter()
            .map(|a: Address| {
                let acct: Account = changed[&a];
                let bytes = if acct.is_empty() {
                    Vec::new()
                } else {
                    acct.to_bytes()
                };
                (a, bytes)
            })
            .collect(),
        tip: Some(hash),
        ..Default::default()
    };
    Prepared {
        _dir: dir,
        db,
        block,
        height,
        ledger,
        batch,
    }
}

/// A synced copy of the prepared database in a new temp dir under `under`.
fn copy_db(from: &Path, under: &Path) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(under).unwrap();
    let to = dir.path().join("chain.redb");
    std::fs::copy(from, &to).unwrap();
    // Flush the copy now, so the timed commit's fsync does not also write it out.
    std::fs::File::open(&to).unwrap().sync_all().unwrap();
    (dir, to)
}

fn import(c: &mut Criterion) {
    let p = prepare();
    let params = params();
    let signed: Vec<&SignedTx> = p
        .block
        .txs
        .iter()
        .filter_map(Transaction::as_signed)
        .collect();
    let encoded_len = p.block.to_bytes().len();

    let mut g = c.benchmark_group("import_2000");
    g.throughput(Throughput::Elements(u64::from(N)));
    g.sample_size(10);

    let disk = bench_dir();
    let tmpfs = std::env::var_os("AIC_BENCH_TMPFS_DIR").map(PathBuf::from);
    let mut dirs = vec![("", disk.clone())];
    dirs.extend(tmpfs.map(|d| ("_tmpfs", d)));

    for (suffix, under) in &dirs {
        g.bench_function(format!("submit_block{suffix}"), |b| {
            b.iter_batched(
                || {
                    let (dir, path) = copy_db(&p.db, under);
                    let chain = Chain::open(params.clone(), &path, ChainConfig::default()).unwrap();
                    (dir, chain, p.block.clone())
                },
                |(dir, mut chain, block)| {
                    let accepted = chain.submit_block(block, NOW).unwrap();
                    assert!(accepted.is_tip);
                    (dir, chain)
                },
                BatchSize::PerIteration,
            )
        });
    }

    // The common case on a network: the block's transactions reached this node's mempool
    // first, so their signatures were checked then (the signature cache skips them).
    g.bench_function("submit_block_seen_txs", |b| {
        b.iter_batched(
            || {
                let (dir, path) = copy_db(&p.db, &disk);
                let mut chain = Chain::open(params.clone(), &path, ChainConfig::default()).unwrap();
                for tx in &signed {
                    chain.submit_tx(Transaction::Signed((*tx).clone())).unwrap();
                }
                (dir, chain, p.block.clone())
            },
            |(dir, mut chain, block)| {
                let accepted = chain.submit_block(block, NOW).unwrap();
                assert!(accepted.is_tip);
                (dir, chain)
            },
            BatchSize::PerIteration,
        )
    });

    g.bench_function("check_block_structure", |b| {
        b.iter(|| {
            aic_consensus::check_block_structure(&params, &p.block, p.height, encoded_len).unwrap()
        })
    });

    g.bench_function("verify_signatures", |b| {
        b.iter(|| aic_consensus::verify_signatures(&signed).unwrap())
    });

    g.bench_function("ledger_apply_block", |b| {
        b.iter_batched(
            || p.ledger.clone(),
            |mut ledger| {
                let outcome = ledger.apply_block(&params, &p.block, p.height).unwrap();
                (ledger, outcome)
            },
            BatchSize::LargeInput,
        )
    });

    for (suffix, under) in &dirs {
        g.bench_function(format!("store_write{suffix}"), |b| {
            b.iter_batched(
                || {
                    let (dir, path) = copy_db(&p.db, under);
                    let store = Store::open(&path, params.genesis_hash()).unwrap();
                    (dir, store)
                },
                |(dir, store)| {
                    store.write(&p.batch).unwrap();
                    (dir, store)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();

    let mut g = c.benchmark_group("durability");
    g.sample_size(20);
    let (_dir, path) = copy_db(&p.db, &disk);
    let store = Store::open(&path, params.genesis_hash()).unwrap();
    g.bench_function("store_write_empty", |b| {
        b.iter(|| store.write(&WriteBatch::default()).unwrap())
    });
    let mut file = tempfile::tempfile_in(&disk).unwrap();
    let page = [0x5A; 4096];
    g.bench_function("fsync_4k", |b| {
        b.iter(|| {
            file.write_all(&page).unwrap();
            file.sync_data().unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
