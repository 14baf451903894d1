//! Every consensus rule of a block, broken once.

use aic_consensus::*;
use aic_primitives::*;

fn params() -> ChainParams {
    ChainParams::devnet()
}

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

fn transfer(from: u8, nonce: u64, amount: u64) -> Transaction {
    let k = key(from);
    Transaction::Signed(
        TxBody {
            chain_id: params().chain_id,
            sender: k.public_key(),
            nonce,
            fee: Amount::from_units(10),
            action: Action::Transfer {
                to: Address::from_public_key(&key(99).public_key()),
                amount: Amount::from_units(amount),
            },
        }
        .sign(&k),
    )
}

fn coinbase(height: u64) -> Transaction {
    Transaction::Coinbase(Coinbase {
        height: Height(height),
        extranonce: [0; 8],
        state_root: Hash256::ZERO,
        payouts: vec![Payout {
            to: Address([7; 20]),
            amount: params().subsidy(Height(height)),
        }],
    })
}

/// A block at height 1 on devnet genesis whose header meets the devnet target.
fn block(txs: Vec<Transaction>) -> Block {
    let p = params();
    let mut b = Block {
        header: BlockHeader {
            version: 1,
            prev_hash: p.genesis_hash(),
            merkle_root: Hash256::ZERO,
            time: p.genesis_time + 1,
            bits: p.pow_limit,
            nonce: 0,
        },
        txs,
    };
    b.header.merkle_root = b.compute_merkle_root().0;
    mine(&mut b.header);
    b
}

fn mine(h: &mut BlockHeader) {
    let target = h.bits.to_target().unwrap();
    while !target.is_met_by(&h.hash()) {
        h.nonce += 1;
    }
}

fn ctx() -> HeaderContext {
    let p = params();
    HeaderContext {
        expected_bits: p.pow_limit,
        median_time_past: p.genesis_time,
        now: u64::from(p.genesis_time) + 10,
    }
}

fn structure(b: &Block) -> Result<(), BlockError> {
    check_block_structure(&params(), b, Height(1), b.to_bytes().len())
}

#[test]
fn a_valid_block_passes() {
    let b = block(vec![coinbase(1), transfer(1, 0, 5), transfer(2, 0, 6)]);
    assert_eq!(check_header(&params(), &b.header, &ctx()), Ok(()));
    assert_eq!(structure(&b), Ok(()));
}

#[test]
fn bad_version() {
    for version in [0, -1, i32::MIN] {
        let mut b = block(vec![coinbase(1)]);
        b.header.version = version;
        mine(&mut b.header);
        assert_eq!(
            check_header(&params(), &b.header, &ctx()),
            Err(BlockError::BadVersion(version))
        );
    }
    // BIP 9/310 style versions (top bits 001, rolled bits) are fine.
    let mut b = block(vec![coinbase(1)]);
    b.header.version = 0x2000_0000 | 0x1fff_e000;
    mine(&mut b.header);
    assert_eq!(check_header(&params(), &b.header, &ctx()), Ok(()));
}

#[test]
fn bad_bits() {
    let mut b = block(vec![coinbase(1)]);
    b.header.bits = CompactTarget(0x2000_ffff);
    mine(&mut b.header);
    assert!(matches!(
        check_header(&params(), &b.header, &ctx()),
        Err(BlockError::BadBits { .. })
    ));
}

#[test]
fn high_hash() {
    let mut b = block(vec![coinbase(1)]);
    let target = b.header.bits.to_target().unwrap();
    while target.is_met_by(&b.header.hash()) {
        b.header.nonce += 1;
    }
    assert!(matches!(
        check_header(&params(), &b.header, &ctx()),
        Err(BlockError::HighHash { .. })
    ));
}

#[test]
fn time_not_above_median_time_past() {
    let mut b = block(vec![coinbase(1)]);
    b.header.time = ctx().median_time_past;
    mine(&mut b.header);
    assert!(matches!(
        check_header(&params(), &b.header, &ctx()),
        Err(BlockError::TimeTooOld { .. })
    ));
}

#[test]
fn time_too_far_ahead() {
    let mut b = block(vec![coinbase(1)]);
    b.header.time = (ctx().now + params().max_future_block_secs + 1) as u32;
    mine(&mut b.header);
    assert!(matches!(
        check_header(&params(), &b.header, &ctx()),
        Err(BlockError::TimeTooNew { .. })
    ));
    // Exactly at the limit is fine.
    b.header.time = (ctx().now + params().max_future_block_secs) as u32;
    mine(&mut b.header);
    assert_eq!(check_header(&params(), &b.header, &ctx()), Ok(()));
}

#[test]
fn too_large() {
    let b = block(vec![coinbase(1)]);
    let mut p = params();
    p.max_block_bytes = 100;
    assert!(matches!(
        check_block_structure(&p, &b, Height(1), b.to_bytes().len()),
        Err(BlockError::TooLarge { .. })
    ));
}

#[test]
fn too_many_transactions() {
    let b = block(vec![coinbase(1), transfer(1, 0, 1), transfer(1, 1, 1)]);
    let mut p = params();
    p.max_block_txs = 2;
    assert!(matches!(
        check_block_structure(&p, &b, Height(1), b.to_bytes().len()),
        Err(BlockError::TooManyTxs { count: 3, max: 2 })
    ));
}

#[test]
fn no_coinbase_first() {
    let b = block(vec![transfer(1, 0, 1), coinbase(1)]);
    assert_eq!(structure(&b), Err(BlockError::NoCoinbase));
    let empty = block(vec![]);
    assert_eq!(structure(&empty), Err(BlockError::NoCoinbase));
}

#[test]
fn second_coinbase() {
    let mut second = coinbase(1);
    if let Transaction::Coinbase(c) = &mut second {
        c.extranonce = [1; 8];
    }
    let b = block(vec![coinbase(1), transfer(1, 0, 1), second]);
    assert_eq!(
        structure(&b),
        Err(BlockError::MultipleCoinbases { index: 2 })
    );
}

#[test]
fn coinbase_height() {
    let b = block(vec![coinbase(2)]);
    assert!(matches!(
        structure(&b),
        Err(BlockError::CoinbaseHeight { .. })
    ));
}

#[test]
fn bad_merkle_root() {
    let mut b = block(vec![coinbase(1), transfer(1, 0, 1)]);
    b.txs.push(transfer(2, 0, 1));
    assert!(matches!(
        structure(&b),
        Err(BlockError::BadMerkleRoot { .. })
    ));
}

#[test]
fn duplicated_transactions_mutating_the_merkle_tree() {
    let t = transfer(2, 0, 1);
    let b = block(vec![coinbase(1), transfer(1, 0, 1), t.clone(), t]);
    // [cb, a, t, t]: the last pair repeats, so [cb, a, t] and [cb, a, t, t] share a root.
    assert_eq!(structure(&b), Err(BlockError::DuplicateTx));
}

#[test]
fn wrong_chain_id() {
    let k = key(1);
    let tx = Transaction::Signed(
        TxBody {
            chain_id: ChainParams::mainnet().chain_id,
            sender: k.public_key(),
            nonce: 0,
            fee: Amount::ZERO,
            action: Action::Transfer {
                to: Address([1; 20]),
                amount: Amount::from_units(1),
            },
        }
        .sign(&k),
    );
    let b = block(vec![coinbase(1), tx]);
    assert!(matches!(
        structure(&b),
        Err(BlockError::Tx {
            index: 1,
            error: TxError::WrongChainId { .. }
        })
    ));
}

#[test]
fn value_overflow() {
    let k = key(1);
    let tx = Transaction::Signed(
        TxBody {
            chain_id: params().chain_id,
            sender: k.public_key(),
            nonce: 0,
            fee: Amount::from_units(2),
            action: Action::Transfer {
                to: Address([1; 20]),
                amount: Amount::from_units(u64::MAX - 1),
            },
        }
        .sign(&k),
    );
    let b = block(vec![coinbase(1), tx]);
    assert_eq!(
        structure(&b),
        Err(BlockError::Tx {
            index: 1,
            error: TxError::ValueOverflow
        })
    );
}

#[test]
fn bad_signature_is_found_among_many() {
    let mut txs = vec![coinbase(1)];
    for i in 0..150u64 {
        txs.push(transfer((i % 200) as u8 + 1, i, 1));
    }
    if let Transaction::Signed(s) = &mut txs[97] {
        s.signature.0[10] ^= 0x40;
    }
    let b = block(txs);
    assert_eq!(
        structure(&b),
        Err(BlockError::Tx {
            index: 97,
            error: TxError::BadSignature
        })
    );
}

#[test]
fn coinbase_value_too_high() {
    let p = params();
    let Transaction::Coinbase(mut cb) = coinbase(1) else {
        unreachable!()
    };
    let fees = Amount::from_units(30);
    cb.payouts[0].amount = p.subsidy(Height(1)).checked_add(fees).unwrap();
    assert_eq!(check_coinbase_value(&p, &cb, Height(1), fees), Ok(()));
    cb.payouts.push(Payout {
        to: Address([1; 20]),
        amount: Amount::from_units(1),
    });
    assert!(matches!(
        check_coinbase_value(&p, &cb, Height(1), fees),
        Err(BlockError::CoinbaseValueTooHigh { .. })
    ));
    cb.payouts[1].amount = Amount::from_units(u64::MAX);
    assert!(matches!(
        check_coinbase_value(&p, &cb, Height(1), fees),
        Err(BlockError::CoinbaseValueTooHigh { paid: None, .. })
    ));
}

#[test]
fn state_root_mismatch() {
    let Transaction::Coinbase(cb) = coinbase(1) else {
        unreachable!()
    };
    assert_eq!(check_state_root(&cb, Hash256::ZERO), Ok(()));
    assert!(matches!(
        check_state_root(&cb, Hash256([1; 32])),
        Err(BlockError::StateRootMismatch { .. })
    ));
}

#[test]
fn a_signature_cache_skips_only_the_transactions_it_names() {
    let mut txs = vec![coinbase(1), transfer(1, 0, 5), transfer(2, 0, 6)];
    if let Transaction::Signed(s) = &mut txs[2] {
        s.signature.0[3] ^= 1;
    }
    let b = block(txs);
    let good = b.txs[1].txid();
    let bad = b.txs[2].txid();
    let len = b.to_bytes().len();
    // The forged signature is found whether or not the good one is cached...
    for cached in [vec![], vec![good]] {
        assert_eq!(
            check_block_structure_with(&params(), &b, Height(1), len, &|id| cached.contains(id)),
            Err(BlockError::Tx {
                index: 2,
                error: TxError::BadSignature
            })
        );
    }
    // ...and only a cache that vouches for its exact txid skips it.
    assert_eq!(
        check_block_structure_with(&params(), &b, Height(1), len, &|id| *id == bad
            || *id == good),
        Ok(())
    );
}
