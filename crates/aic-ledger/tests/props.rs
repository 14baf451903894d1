//! Property tests of the state transition: supply, nonces, undo.

use aic_consensus::{BlockError, TxError};
use aic_ledger::{Account, BlockContext, Ledger};
use aic_primitives::{
    Action, Address, Amount, Block, BlockHeader, ChainParams, Coinbase, CompactTarget, Hash256,
    Height, SecretKey, SignedTx, Transaction, TxBody,
};
use proptest::prelude::*;

const USERS: u8 = 5;

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i + 1; 32])
}

fn addr(i: u8) -> Address {
    Address::from_public_key(&key(i).public_key())
}

fn transfer(from: u8, nonce: u64, to: u8, amount: u64, fee: u64) -> SignedTx {
    TxBody {
        chain_id: ChainParams::devnet().chain_id,
        sender: key(from).public_key(),
        nonce,
        fee: Amount::from_units(fee),
        action: Action::Transfer {
            to: addr(to),
            amount: Amount::from_units(amount),
        },
    }
    .sign(&key(from))
}

fn funded() -> Ledger {
    Ledger::from_accounts((0..USERS).map(|i| {
        (
            addr(i),
            Account {
                balance: Amount::from_units(1_000_000),
                nonce: 0,
            },
        )
    }))
}

fn block(height: u64, coinbase: Coinbase, txs: &[SignedTx]) -> Block {
    let mut all = vec![Transaction::Coinbase(coinbase)];
    all.extend(txs.iter().map(|t| Transaction::Signed(t.clone())));
    let header = BlockHeader {
        version: 1,
        prev_hash: Hash256::ZERO,
        merkle_root: Hash256::ZERO,
        time: height as u32,
        bits: CompactTarget(0x207f_ffff),
        nonce: 0,
    };
    Block { header, txs: all }
}

/// A coinbase at `height` paying nothing and committing to `root`.
fn bare_coinbase(height: u64, root: Hash256) -> Coinbase {
    Coinbase {
        height: Height(height),
        extranonce: [0; 8],
        state_root: root,
        payouts: vec![],
    }
}

/// A valid block at `height` holding the candidates that apply, paying `miner`.
fn valid_block(ledger: &mut Ledger, height: u64, candidates: &[SignedTx], miner: Address) -> Block {
    let p = ChainParams::devnet();
    let ctx = BlockContext {
        height: Height(height),
        seed: Hash256::ZERO,
    };
    let state = ledger.build_template(&p, ctx, candidates, miner);
    block(
        height,
        Coinbase {
            height: Height(height),
            extranonce: [0; 8],
            state_root: state.state_root,
            payouts: state.payouts,
        },
        &state.txs,
    )
}

fn nonce_of(ledger: &Ledger, user: u8) -> u64 {
    ledger.account(&addr(user)).nonce
}

prop_compose! {
    fn arb_transfers()(raw in prop::collection::vec((0..USERS, 0..USERS, 0u64..400_000, 0u64..5_000), 0..12))
        -> Vec<(u8, u8, u64, u64)> { raw }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Only the coinbase creates coins; undoing every block restores every root exactly.
    #[test]
    fn supply_is_conserved_and_undo_restores_roots(blocks in prop::collection::vec(arb_transfers(), 1..6)) {
        let p = ChainParams::devnet();
        let mut ledger = funded();
        let mut roots = vec![ledger.state_root()];
        let mut undos = Vec::new();
        for (i, transfers) in blocks.iter().enumerate() {
            let height = i as u64 + 1;
            let mut next: Vec<u64> = (0..USERS).map(|u| nonce_of(&ledger, u)).collect();
            let candidates: Vec<SignedTx> = transfers
                .iter()
                .map(|&(from, to, amount, fee)| {
                    let n = next[from as usize];
                    next[from as usize] += 1;
                    transfer(from, n, to, amount, fee)
                })
                .collect();
            let b = valid_block(&mut ledger, height, &candidates, addr(0));
            let before = ledger.total_balance().unwrap();
            let outcome = ledger.apply_block(&p, &b, Height(height)).unwrap();
            let paid = b.txs[0].as_coinbase().unwrap().total_paid().unwrap();
            // Balances after = before + coinbase payouts - fees paid by transactions.
            prop_assert_eq!(
                ledger.total_balance().unwrap().checked_add(outcome.fees).unwrap(),
                before.checked_add(paid).unwrap()
            );
            prop_assert!(paid <= p.subsidy(Height(height)).checked_add(outcome.fees).unwrap());
            prop_assert_eq!(ledger.state_root(), outcome.state_root);
            roots.push(ledger.state_root());
            undos.push(outcome.undo);
        }
        for undo in undos.iter().rev() {
            roots.pop();
            ledger.undo_block(undo);
            prop_assert_eq!(ledger.state_root(), *roots.last().unwrap());
        }
        prop_assert_eq!(ledger.state_root(), funded().state_root());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any transaction of an applied block, replayed in a later block, is refused; so is any
    /// block that puts two transactions of one sender out of nonce order. Neither changes the
    /// state.
    #[test]
    fn replayed_or_reordered_nonces_are_rejected(
        transfers in arb_transfers(),
        pick in any::<prop::sample::Index>(),
    ) {
        let p = ChainParams::devnet();
        let mut ledger = funded();
        let mut next = [0u64; USERS as usize];
        let candidates: Vec<SignedTx> = transfers
            .iter()
            .map(|&(from, to, amount, fee)| {
                let n = next[from as usize];
                next[from as usize] += 1;
                // Small enough that twelve never exhaust a balance: only nonces can fail.
                transfer(from, n, to, amount % 50_000, fee)
            })
            .collect();
        // Reordered: swap two transactions of the same sender, if there are two.
        let by_sender = (0..USERS).find(|u| candidates.iter().filter(|t| t.body.sender == key(*u).public_key()).count() >= 2);
        if let Some(u) = by_sender {
            let idx: Vec<usize> = candidates
                .iter()
                .enumerate()
                .filter(|(_, t)| t.body.sender == key(u).public_key())
                .map(|(i, _)| i)
                .collect();
            let mut swapped = candidates.clone();
            swapped.swap(idx[0], idx[1]);
            let root = ledger.state_root();
            let b = block(1, bare_coinbase(1, root), &swapped);
            let r = ledger.apply_block(&p, &b, Height(1));
            prop_assert!(matches!(r, Err(BlockError::Tx { error: TxError::BadNonce { .. }, .. })), "{:?}", r);
            prop_assert_eq!(ledger.state_root(), root);
        }
        let b1 = valid_block(&mut ledger, 1, &candidates, addr(0));
        ledger.apply_block(&p, &b1, Height(1)).unwrap();
        let included: Vec<SignedTx> = b1.txs.iter().filter_map(|t| t.as_signed().cloned()).collect();
        if !included.is_empty() {
            let replay = pick.get(&included).clone();
            let root = ledger.state_root();
            let b2 = block(2, bare_coinbase(2, root), &[replay]);
            let r = ledger.apply_block(&p, &b2, Height(2));
            prop_assert!(matches!(r, Err(BlockError::Tx { index: 1, error: TxError::BadNonce { .. } })), "{:?}", r);
            prop_assert_eq!(ledger.state_root(), root);
        }
    }
}

#[test]
fn a_replayed_nonce_is_rejected_and_changes_nothing() {
    let p = ChainParams::devnet();
    let mut ledger = funded();
    let tx = transfer(1, 0, 2, 10, 10);
    let b1 = valid_block(&mut ledger, 1, std::slice::from_ref(&tx), addr(0));
    assert_eq!(b1.txs.len(), 2);
    ledger.apply_block(&p, &b1, Height(1)).unwrap();
    let root = ledger.state_root();
    // The same transaction again, in a block whose coinbase commits to some root.
    let replay = block(2, bare_coinbase(2, root), &[tx]);
    assert_eq!(
        ledger.apply_block(&p, &replay, Height(2)),
        Err(BlockError::Tx {
            index: 1,
            error: TxError::BadNonce {
                expected: 1,
                got: 0
            }
        })
    );
    assert_eq!(ledger.state_root(), root);
}

#[test]
fn reordered_nonces_are_rejected() {
    let p = ChainParams::devnet();
    let mut ledger = funded();
    let root = ledger.state_root();
    let b = block(
        1,
        bare_coinbase(1, root),
        &[transfer(1, 1, 2, 10, 10), transfer(1, 0, 2, 10, 10)],
    );
    assert_eq!(
        ledger.apply_block(&p, &b, Height(1)),
        Err(BlockError::Tx {
            index: 1,
            error: TxError::BadNonce {
                expected: 0,
                got: 1
            }
        })
    );
    assert_eq!(ledger.state_root(), root);
    // build_template leaves the out-of-order one out instead.
    let t = ledger.build_template(
        &p,
        BlockContext {
            height: Height(1),
            seed: Hash256::ZERO,
        },
        &[transfer(1, 1, 2, 10, 10), transfer(1, 0, 2, 10, 10)],
        addr(0),
    );
    assert_eq!(t.txs.len(), 1);
    assert_eq!(t.skipped.len(), 1);
}

#[test]
fn insufficient_balance_and_overflow_are_rejected() {
    let p = ChainParams::devnet();
    let mut ledger = funded();
    let root = ledger.state_root();
    let cb = bare_coinbase(1, root);
    let b = block(1, cb.clone(), &[transfer(1, 0, 2, 2_000_000, 0)]);
    assert!(matches!(
        ledger.apply_block(&p, &b, Height(1)),
        Err(BlockError::Tx {
            error: TxError::InsufficientBalance { .. },
            ..
        })
    ));
    let b = block(1, cb, &[transfer(1, 0, 2, u64::MAX, 1)]);
    assert!(matches!(
        ledger.apply_block(&p, &b, Height(1)),
        Err(BlockError::Tx {
            error: TxError::ValueOverflow,
            ..
        })
    ));
    assert_eq!(ledger.state_root(), root);
}

#[test]
fn a_wrong_state_root_or_an_overpaying_coinbase_changes_nothing() {
    let p = ChainParams::devnet();
    let mut ledger = funded();
    let root = ledger.state_root();
    let mut b = valid_block(&mut ledger, 1, &[transfer(1, 0, 2, 10, 10)], addr(0));
    let Transaction::Coinbase(cb) = &mut b.txs[0] else {
        unreachable!()
    };
    cb.state_root = Hash256([1; 32]);
    assert!(matches!(
        ledger.apply_block(&p, &b, Height(1)),
        Err(BlockError::StateRootMismatch { .. })
    ));
    assert_eq!(ledger.state_root(), root);
    let Transaction::Coinbase(cb) = &mut b.txs[0] else {
        unreachable!()
    };
    cb.payouts[0].amount = cb.payouts[0]
        .amount
        .checked_add(Amount::from_units(1))
        .unwrap();
    assert!(matches!(
        ledger.apply_block(&p, &b, Height(1)),
        Err(BlockError::CoinbaseValueTooHigh { .. })
    ));
    assert_eq!(ledger.state_root(), root);
    assert_eq!(ledger.account(&addr(1)).nonce, 0);
}

#[test]
fn a_recipient_balance_overflow_is_rejected() {
    let p = ChainParams::devnet();
    let rich = Account {
        balance: Amount::from_units(u64::MAX - 5),
        nonce: 0,
    };
    let mut ledger = Ledger::from_accounts([
        (addr(2), rich),
        (
            addr(1),
            Account {
                balance: Amount::from_units(1_000),
                nonce: 0,
            },
        ),
    ]);
    let root = ledger.state_root();
    let b = block(1, bare_coinbase(1, root), &[transfer(1, 0, 2, 10, 0)]);
    assert_eq!(
        ledger.apply_block(&p, &b, Height(1)),
        Err(BlockError::Tx {
            index: 1,
            error: TxError::BalanceOverflow
        })
    );
    // A coinbase payout that would overflow is refused the same way.
    let b = block(
        1,
        Coinbase {
            height: Height(1),
            extranonce: [0; 8],
            state_root: root,
            payouts: vec![aic_primitives::Payout {
                to: addr(2),
                amount: Amount::from_units(10),
            }],
        },
        &[],
    );
    assert_eq!(
        ledger.apply_block(&p, &b, Height(1)),
        Err(BlockError::Tx {
            index: 0,
            error: TxError::BalanceOverflow
        })
    );
    assert_eq!(ledger.state_root(), root);
}
