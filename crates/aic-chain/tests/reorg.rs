//! Fork choice and reorganisations: two nodes' chains imported block by block into one.

use aic_chain::{BlockTemplate, Chain, ChainConfig, ChainError};
use aic_consensus::BlockError;
use aic_primitives::{
    Action, Address, Amount, Block, ChainParams, Hash256, SecretKey, Transaction, TxBody,
};

fn params() -> ChainParams {
    ChainParams::devnet()
}

fn open(dir: &tempfile::TempDir) -> Chain {
    Chain::open(
        params(),
        &dir.path().join("chain.redb"),
        ChainConfig::default(),
    )
    .unwrap()
}

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

fn addr(i: u8) -> Address {
    Address::from_public_key(&key(i).public_key())
}

/// Far enough ahead that no test block is "too new".
const NOW: u64 = 4_000_000_000;

fn mine(t: &BlockTemplate, extranonce: u8, time: u32) -> Block {
    let target = t.bits.to_target().unwrap();
    let mut header = t.header([extranonce; 8], time, 0);
    while !target.is_met_by(&header.hash()) {
        header.nonce += 1;
    }
    t.assemble([extranonce; 8], header)
}

/// Mines `n` blocks on `chain` paying `miner`, on schedule (two seconds apart).
fn extend(chain: &mut Chain, n: usize, miner: Address, extranonce: u8) -> Vec<Block> {
    (0..n)
        .map(|_| {
            let t = chain.block_template(miner, NOW);
            let time = chain.params().genesis_time + 2 * t.height.0 as u32;
            let b = mine(&t, extranonce, time);
            let accepted = chain.submit_block(b.clone(), NOW).unwrap();
            assert!(accepted.is_tip);
            b
        })
        .collect()
}

fn transfer(from: u8, nonce: u64, to: Address, amount: u64) -> Transaction {
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

#[test]
fn the_chain_with_more_work_wins_and_state_follows_it() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = open(&da);
    let mut b = open(&db);
    // Both chains start by paying key 1, so a transfer from key 1 is valid on both.
    extend(&mut a, 2, addr(1), 1);
    let shared: Vec<Block> = (1..=2)
        .map(|h| {
            a.block(&a.hash_at(aic_primitives::Height(h)).unwrap())
                .unwrap()
                .unwrap()
        })
        .collect();
    for blk in &shared {
        b.submit_block(blk.clone(), NOW).unwrap();
    }
    // A: one more block holding a transfer. B: three more blocks, no transfer.
    let tx = transfer(1, 0, addr(9), 5_000);
    let txid = a.submit_tx(tx.clone()).unwrap();
    extend(&mut a, 1, addr(2), 2);
    assert_eq!(a.account(&addr(9)).balance, Amount::from_units(5_000));
    let a_root_before = a.state_root();
    let b_blocks = extend(&mut b, 3, addr(3), 3);
    assert_eq!(b.height().0, 5);

    // Import B's branch into A block by block: the first two are side-chain blocks (less or
    // equal work), the third makes B's chain heavier and A reorganises onto it.
    let r1 = a.submit_block(b_blocks[0].clone(), NOW).unwrap();
    assert!(!r1.is_tip);
    let r2 = a.submit_block(b_blocks[1].clone(), NOW).unwrap();
    assert!(r2.is_tip, "more work than A's tip");
    assert_eq!(r2.reorg_depth, 1);
    let r3 = a.submit_block(b_blocks[2].clone(), NOW).unwrap();
    assert!(r3.is_tip);
    assert_eq!(a.tip().hash, b.tip().hash);
    assert_eq!(a.state_root(), b.state_root());
    assert_ne!(a.state_root(), a_root_before);
    assert_eq!(a.account(&addr(9)).balance, Amount::ZERO);
    assert_eq!(a.account(&addr(3)), b.account(&addr(3)));
    // The undone block's transfer is back in A's mempool and mines again.
    assert!(a.mempool().contains(&txid));
    assert_eq!(a.find_tx(&txid).unwrap().unwrap().block, None);
    extend(&mut a, 1, addr(2), 4);
    assert_eq!(a.account(&addr(9)).balance, Amount::from_units(5_000));
    assert!(a.find_tx(&txid).unwrap().unwrap().block.is_some());

    // Reopening A from disk gives the same tip and state.
    let (tip, root) = (a.tip().hash, a.state_root());
    drop(a);
    let a = open(&da);
    assert_eq!(a.tip().hash, tip);
    assert_eq!(a.state_root(), root);
}

#[test]
fn a_heavier_branch_with_a_bad_block_is_refused_and_the_old_chain_kept() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = open(&da);
    let mut b = open(&db);
    extend(&mut a, 1, addr(1), 1);
    let good = extend(&mut b, 1, addr(2), 2);
    // B's second block commits to a wrong state root: structurally valid, state invalid.
    let mut t = b.block_template(addr(2), NOW);
    t.coinbase.state_root = Hash256([7; 32]);
    let bad = mine(&t, 9, params().genesis_time + 4);

    let (tip, root) = (a.tip().hash, a.state_root());
    a.submit_block(good[0].clone(), NOW).unwrap();
    let err = a.submit_block(bad.clone(), NOW).unwrap_err();
    assert!(
        matches!(err, ChainError::Block(BlockError::StateRootMismatch { .. })),
        "{err:?}"
    );
    assert_eq!(a.tip().hash, tip);
    assert_eq!(a.state_root(), root);
    assert!(matches!(
        a.submit_block(bad, NOW),
        Err(ChainError::KnownInvalid(_))
    ));
    // Still true after a restart: the invalid mark is stored.
    drop(a);
    let a = open(&da);
    assert_eq!(a.tip().hash, tip);
}

#[test]
fn blocks_with_unknown_parents_or_too_deep_reorgs_are_refused() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = open(&da);
    let mut b = open(&db);
    let blocks = extend(&mut b, 3, addr(2), 2);
    assert!(matches!(
        a.submit_block(blocks[2].clone(), NOW),
        Err(ChainError::UnknownParent(_))
    ));
    assert!(matches!(
        a.submit_block(blocks[0].clone(), NOW).map(|r| r.is_tip),
        Ok(true)
    ));
    assert!(matches!(
        a.submit_block(blocks[0].clone(), NOW),
        Err(ChainError::Duplicate(_))
    ));
}

#[test]
fn reorg_deeper_than_the_limit_is_refused() {
    let mut p = params();
    p.max_reorg_depth = 2;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = Chain::open(p.clone(), &da.path().join("c.redb"), ChainConfig::default()).unwrap();
    let mut b = open(&db);
    extend(&mut a, 3, addr(1), 1);
    let theirs = extend(&mut b, 4, addr(2), 2);
    // Their first block forks at genesis, three blocks below A's tip: beyond the limit, so
    // it is refused outright rather than stored as a side chain that could never win.
    let tip = a.tip().hash;
    assert!(matches!(
        a.submit_block(theirs[0].clone(), NOW),
        Err(ChainError::ReorgTooDeep { depth: 3, max: 2 })
    ));
    assert!(a.entry(&theirs[0].hash()).is_none());
    assert_eq!(a.tip().hash, tip);
    // A fork within the limit is stored and can win.
    let (dc, _) = (tempfile::tempdir().unwrap(), ());
    let mut c = Chain::open(p.clone(), &dc.path().join("c.redb"), ChainConfig::default()).unwrap();
    for h in 1..=2 {
        let blk = a
            .block(&a.hash_at(aic_primitives::Height(h)).unwrap())
            .unwrap()
            .unwrap();
        c.submit_block(blk, NOW).unwrap();
    }
    let side = extend(&mut c, 2, addr(3), 3);
    assert!(!a.submit_block(side[0].clone(), NOW).unwrap().is_tip);
    let won = a.submit_block(side[1].clone(), NOW).unwrap();
    assert!(won.is_tip);
    assert_eq!(won.reorg_depth, 1);
}

#[test]
fn an_invalid_block_in_the_middle_of_a_heavier_branch_rolls_everything_back() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = open(&da);
    let mut b = open(&db);
    extend(&mut a, 2, addr(1), 1);
    let (tip, root) = (a.tip().hash, a.state_root());
    // B's branch: good1, bad2 (wrong state root), b3 on top of bad2.
    let good1 = extend(&mut b, 1, addr(2), 2).remove(0);
    let mut t2 = b.block_template(addr(2), NOW);
    t2.coinbase.state_root = Hash256([5; 32]);
    let bad2 = mine(&t2, 2, params().genesis_time + 4);
    let mut t3 = t2.clone();
    t3.height = aic_primitives::Height(3);
    t3.coinbase.height = t3.height;
    t3.prev_hash = bad2.hash();
    let b3 = mine(&t3, 2, params().genesis_time + 6);

    // good1 and bad2 have no more work than A's tip: stored, state unchecked.
    assert!(!a.submit_block(good1, NOW).unwrap().is_tip);
    assert!(!a.submit_block(bad2.clone(), NOW).unwrap().is_tip);
    // b3 tips the balance: the reorg connects good1, fails at bad2, and rolls back.
    let err = a.submit_block(b3.clone(), NOW).unwrap_err();
    assert!(
        matches!(err, ChainError::Block(BlockError::StateRootMismatch { .. })),
        "{err:?}"
    );
    assert_eq!(a.tip().hash, tip);
    assert_eq!(a.state_root(), root);
    assert_eq!(a.height().0, 2);
    assert!(matches!(
        a.submit_block(b3.clone(), NOW),
        Err(ChainError::KnownInvalid(_))
    ));
    // A child of the invalid branch is refused without another reorg attempt.
    let mut t4 = t3.clone();
    t4.height = aic_primitives::Height(4);
    t4.coinbase.height = t4.height;
    t4.prev_hash = b3.hash();
    let b4 = mine(&t4, 2, params().genesis_time + 8);
    assert!(matches!(
        a.submit_block(b4, NOW),
        Err(ChainError::InvalidParent(_))
    ));
    // The node still extends its own chain, and after a restart it is all the same.
    extend(&mut a, 1, addr(1), 7);
    let (tip, root) = (a.tip().hash, a.state_root());
    drop(a);
    let a = open(&da);
    assert_eq!((a.tip().hash, a.state_root()), (tip, root));
}
