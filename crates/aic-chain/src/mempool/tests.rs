#![allow(clippy::unwrap_used)]

use super::*;
use aic_primitives::{Action, SecretKey, Transaction, TxBody};
use proptest::prelude::*;

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

fn addr(i: u8) -> Address {
    Address::from_public_key(&key(i).public_key())
}

fn tx_with(i: u8, nonce: u64, fee: u64, amount: u64) -> SignedTx {
    TxBody {
        chain_id: 7,
        sender: key(i).public_key(),
        nonce,
        fee: Amount::from_units(fee),
        action: Action::Transfer {
            to: Address([0xee; 20]),
            amount: Amount::from_units(amount),
        },
    }
    .sign(&key(i))
}

/// Encoded size of every transfer.
fn size() -> usize {
    Transaction::Signed(tx_with(0, 0, 0, 0)).to_bytes().len()
}

/// A transfer of 1 unit paying `rate` units per byte.
fn tx(i: u8, nonce: u64, rate: u64) -> SignedTx {
    tx_with(i, nonce, rate * size() as u64, 1)
}

fn id(tx: &SignedTx) -> Hash256 {
    tx.txid()
}

fn rich(nonce: u64) -> AccountView {
    AccountView {
        nonce,
        balance: Amount::from_units(u64::MAX),
    }
}

fn pool() -> Mempool {
    Mempool::new(MempoolConfig::default())
}

fn pool_with(f: impl FnOnce(&mut MempoolConfig)) -> Mempool {
    let mut config = MempoolConfig::default();
    f(&mut config);
    Mempool::new(config)
}

fn ids(pool: &Mempool) -> Vec<Hash256> {
    pool.iter().map(id).collect()
}

/// Checks every index against the queues, and the limits.
fn check_invariants(pool: &Mempool) {
    let mut count = 0;
    let mut bytes = 0;
    let mut tails = BTreeSet::new();
    for (sender, queue) in &pool.senders {
        assert!(!queue.is_empty());
        assert!(queue.len() <= pool.config.max_per_sender);
        let first = *queue.keys().next().unwrap();
        for (offset, (&nonce, entry)) in queue.iter().enumerate() {
            assert_eq!(
                nonce,
                first + offset as u64,
                "nonces of {sender:?} not contiguous"
            );
            assert_eq!(entry.tx.body.nonce, nonce);
            assert_eq!(entry.tx.body.sender_address(), *sender);
            assert_eq!(entry.txid, id(&entry.tx));
            assert_eq!(entry.size, entry.tx.to_bytes().len());
            assert_eq!(pool.by_txid.get(&entry.txid), Some(&(*sender, nonce)));
            count += 1;
            bytes += entry.size;
        }
        tails.insert(queue.last_key_value().unwrap().1.tail_key());
    }
    assert_eq!(pool.len(), count);
    assert_eq!(pool.by_txid.len(), count);
    assert_eq!(pool.bytes(), bytes);
    assert_eq!(pool.iter().count(), count);
    assert_eq!(pool.tails, tails);
    assert!(count <= pool.config.max_count);
    assert!(bytes <= pool.config.max_bytes);
}

#[test]
fn insert_get_and_pending_nonce() {
    let mut p = pool();
    assert!(p.is_empty());
    let a0 = tx(1, 3, 2);
    let a1 = tx(1, 4, 2);
    let ins = p.insert(a0.clone(), rich(3)).unwrap();
    assert_eq!(
        ins,
        Insertion {
            txid: id(&a0),
            replaced: None,
            evicted: vec![]
        }
    );
    p.insert(a1.clone(), rich(3)).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p.bytes(), 2 * size());
    assert_eq!(p.get(&id(&a1)), Some(&a1));
    assert!(p.contains(&id(&a0)));
    assert_eq!(p.pending_nonce(&addr(1)), Some(5));
    assert_eq!(p.pending_nonce(&addr(2)), None);
    assert_eq!(ids(&p), vec![id(&a0), id(&a1)]);
    check_invariants(&p);
}

#[test]
fn already_known() {
    let mut p = pool();
    let t = tx(1, 0, 1);
    p.insert(t.clone(), rich(0)).unwrap();
    assert_eq!(
        p.insert(t.clone(), rich(0)),
        Err(MempoolError::AlreadyKnown(id(&t)))
    );
}

#[test]
fn fee_rate_too_low() {
    let mut p = pool_with(|c| c.min_fee_rate = 2);
    let fee = 2 * size() as u64 - 1;
    assert_eq!(
        p.insert(tx_with(1, 0, fee, 1), rich(0)),
        Err(MempoolError::FeeRateTooLow { min: 2, got: 1 })
    );
    p.insert(tx_with(1, 0, fee + 1, 1), rich(0)).unwrap();
}

#[test]
fn too_large() {
    let mut p = pool_with(|c| c.max_bytes = size() - 1);
    assert_eq!(
        p.insert(tx(1, 0, 1), rich(0)),
        Err(MempoolError::TooLarge {
            size: size(),
            max: size() - 1
        })
    );
}

#[test]
fn nonce_too_low() {
    let mut p = pool();
    assert_eq!(
        p.insert(tx(1, 4, 1), rich(5)),
        Err(MempoolError::NonceTooLow {
            expected_at_least: 5,
            got: 4
        })
    );
}

#[test]
fn nonce_gap() {
    let mut p = pool();
    assert_eq!(
        p.insert(tx(1, 1, 1), rich(0)),
        Err(MempoolError::NonceGap {
            expected: 0,
            got: 1
        })
    );
    p.insert(tx(1, 0, 1), rich(0)).unwrap();
    assert_eq!(
        p.insert(tx(1, 2, 1), rich(0)),
        Err(MempoolError::NonceGap {
            expected: 1,
            got: 2
        })
    );
}

#[test]
fn sender_limit() {
    let mut p = pool_with(|c| c.max_per_sender = 2);
    p.insert(tx(1, 0, 1), rich(0)).unwrap();
    p.insert(tx(1, 1, 1), rich(0)).unwrap();
    assert_eq!(
        p.insert(tx(1, 2, 1), rich(0)),
        Err(MempoolError::SenderLimit {
            sender: addr(1),
            max: 2
        })
    );
    // Another sender is unaffected, and replacing within the limit still works.
    p.insert(tx(2, 0, 1), rich(0)).unwrap();
    p.insert(tx(1, 1, 2), rich(0)).unwrap();
}

#[test]
fn insufficient_balance_counts_the_pending_chain() {
    let mut p = pool();
    let fee = size() as u64;
    let account = AccountView {
        nonce: 0,
        balance: Amount::from_units(2 * (50 + fee) - 1),
    };
    p.insert(tx_with(1, 0, fee, 50), account).unwrap();
    assert_eq!(
        p.insert(tx_with(1, 1, fee, 50), account),
        Err(MempoolError::InsufficientBalance {
            needed: Amount::from_units(2 * (50 + fee)),
            available: account.balance,
        })
    );
    p.insert(tx_with(1, 1, fee, 49), account).unwrap();
    // A replacement counts instead of the one it replaces.
    let bumped = fee + fee / 10 + 1;
    assert_eq!(
        p.insert(tx_with(1, 0, bumped, 50), account),
        Err(MempoolError::InsufficientBalance {
            needed: Amount::from_units(50 + bumped + 49 + fee),
            available: account.balance,
        })
    );
    let ins = p.insert(tx_with(1, 0, bumped, 0), account).unwrap();
    assert_eq!(ins.replaced, Some(id(&tx_with(1, 0, fee, 50))));
    check_invariants(&p);
}

#[test]
fn spend_overflow() {
    let mut p = pool();
    let fee = size() as u64;
    assert_eq!(
        p.insert(tx_with(1, 0, fee, u64::MAX - fee + 1), rich(0)),
        Err(MempoolError::SpendOverflow)
    );
    p.insert(tx_with(1, 0, fee, u64::MAX - fee), rich(0))
        .unwrap();
    assert_eq!(
        p.insert(tx_with(1, 1, fee, 0), rich(0)),
        Err(MempoolError::SpendOverflow)
    );
}

#[test]
fn replacement_underpriced() {
    let mut p = pool();
    p.insert(tx_with(1, 0, 1000, 1), rich(0)).unwrap();
    assert_eq!(
        p.insert(tx_with(1, 0, 1099, 1), rich(0)),
        Err(MempoolError::ReplacementUnderpriced {
            old_fee: Amount::from_units(1000),
            min_fee: Amount::from_units(1100),
            got: Amount::from_units(1099),
        })
    );
    // With no bump configured, the fee must still rise strictly.
    let mut p = pool_with(|c| c.replacement_bump_percent = 0);
    p.insert(tx_with(1, 0, 1000, 1), rich(0)).unwrap();
    assert_eq!(
        p.insert(tx_with(1, 0, 1000, 2), rich(0)),
        Err(MempoolError::ReplacementUnderpriced {
            old_fee: Amount::from_units(1000),
            min_fee: Amount::from_units(1001),
            got: Amount::from_units(1000),
        })
    );
    p.insert(tx_with(1, 0, 1001, 2), rich(0)).unwrap();
}

#[test]
fn replacement_accepted_returns_replaced_txid() {
    let mut p = pool();
    let old = tx_with(1, 0, 1000, 1);
    let next = tx_with(1, 1, 1000, 1);
    p.insert(old.clone(), rich(0)).unwrap();
    p.insert(next.clone(), rich(0)).unwrap();
    let new = tx_with(1, 0, 1100, 1);
    let ins = p.insert(new.clone(), rich(0)).unwrap();
    assert_eq!(
        ins,
        Insertion {
            txid: id(&new),
            replaced: Some(id(&old)),
            evicted: vec![]
        }
    );
    assert!(!p.contains(&id(&old)));
    assert_eq!(ids(&p), vec![id(&new), id(&next)]);
    assert_eq!(p.bytes(), 2 * size());
    check_invariants(&p);
}

/// A0 (rate 1) and A1 (rate 5) of sender 1, B0 (rate 3) of sender 2: a full pool of three.
fn full_pool(config: impl FnOnce(&mut MempoolConfig)) -> Mempool {
    let mut p = pool_with(config);
    p.insert(tx(1, 0, 1), rich(0)).unwrap();
    p.insert(tx(1, 1, 5), rich(0)).unwrap();
    p.insert(tx(2, 0, 3), rich(0)).unwrap();
    p
}

fn evicts_lowest_last_of_sender(mut p: Mempool) {
    // Candidates are A1 (5) and B0 (3), not A0 (1), which would strand A1.
    let c0 = tx(3, 0, 4);
    let ins = p.insert(c0.clone(), rich(0)).unwrap();
    assert_eq!(ins.evicted, vec![id(&tx(2, 0, 3))]);
    check_invariants(&p);
    // Now A1 (5) and C0 (4): rate 4 does not beat C0, so nothing is evicted.
    let before = ids(&p);
    assert_eq!(
        p.insert(tx(4, 0, 4), rich(0)),
        Err(MempoolError::PoolFull {
            min_fee_rate_to_enter: 5
        })
    );
    assert_eq!(ids(&p), before);
    check_invariants(&p);
    // Rate 6 beats C0 (4), the lowest candidate.
    let ins = p.insert(tx(4, 0, 6), rich(0)).unwrap();
    assert_eq!(ins.evicted, vec![id(&c0)]);
    // Evicting A1 makes A0 a candidate: the next rate-7 insert evicts A0 (1), not D0 (6).
    let ins = p.insert(tx(5, 0, 7), rich(0)).unwrap();
    assert_eq!(ins.evicted, vec![id(&tx(1, 1, 5))]);
    let ins = p.insert(tx(6, 0, 7), rich(0)).unwrap();
    assert_eq!(ins.evicted, vec![id(&tx(1, 0, 1))]);
    check_invariants(&p);
}

#[test]
fn evicts_when_count_full() {
    evicts_lowest_last_of_sender(full_pool(|c| c.max_count = 3));
}

#[test]
fn evicts_when_bytes_full() {
    evicts_lowest_last_of_sender(full_pool(|c| c.max_bytes = 3 * size() + size() / 2));
}

#[test]
fn pool_full() {
    let mut p = pool_with(|c| c.max_count = 1);
    p.insert(tx_with(1, 0, 3 * size() as u64 + 1, 1), rich(0))
        .unwrap();
    assert_eq!(
        p.insert(tx_with(2, 0, 3 * size() as u64 + 1, 1), rich(0)),
        Err(MempoolError::PoolFull {
            min_fee_rate_to_enter: 4
        })
    );
    // Only the sender's own transaction could make room: no rate is enough.
    assert_eq!(
        p.insert(tx(1, 1, 100), rich(0)),
        Err(MempoolError::PoolFull {
            min_fee_rate_to_enter: u64::MAX
        })
    );
}

#[test]
fn never_evicts_own_predecessors() {
    let mut p = pool_with(|c| c.max_count = 2);
    p.insert(tx(1, 0, 1), rich(0)).unwrap();
    p.insert(tx(2, 0, 5), rich(0)).unwrap();
    let ins = p.insert(tx(1, 1, 9), rich(0)).unwrap();
    assert_eq!(ins.evicted, vec![id(&tx(2, 0, 5))]);
    assert_eq!(ids(&p), vec![id(&tx(1, 0, 1)), id(&tx(1, 1, 9))]);
    check_invariants(&p);
}

#[test]
fn select_respects_nonce_order_and_fee_rate() {
    let mut p = pool();
    let (a0, a1, b0, c0) = (tx(1, 0, 1), tx(1, 1, 9), tx(2, 0, 5), tx(3, 0, 3));
    for t in [a0.clone(), a1.clone(), b0.clone(), c0.clone()] {
        p.insert(t.clone(), rich(0)).unwrap();
    }
    let all = |_: &Address| rich(0);
    // A1 pays most but waits for A0, the cheapest.
    assert_eq!(
        p.select(usize::MAX, usize::MAX, all),
        vec![b0.clone(), c0.clone(), a0.clone(), a1.clone()]
    );
    assert_eq!(p.select(usize::MAX, 2, all), vec![b0.clone(), c0.clone()]);
    assert_eq!(
        p.select(2 * size() + 1, usize::MAX, all),
        vec![b0.clone(), c0.clone()]
    );
    assert_eq!(p.select(usize::MAX, 0, all), vec![]);
    // Only chains starting at the account nonce: A0 already mined, C's account is behind.
    let view = |a: &Address| {
        if *a == addr(1) {
            rich(1)
        } else if *a == addr(3) {
            rich(7)
        } else {
            rich(0)
        }
    };
    assert_eq!(
        p.select(usize::MAX, usize::MAX, view),
        vec![a1.clone(), b0.clone()]
    );
    // A chain stops where the balance does.
    let poor = |a: &Address| AccountView {
        nonce: 0,
        balance: if *a == addr(1) {
            a0.body.fee.checked_add(Amount::from_units(1)).unwrap()
        } else {
            Amount::ZERO
        },
    };
    assert_eq!(p.select(usize::MAX, usize::MAX, poor), vec![a0.clone()]);
}

#[test]
fn revalidate_after_account_nonce_advances() {
    let mut p = pool();
    let a: Vec<SignedTx> = (0..3).map(|n| tx(1, n, 1)).collect();
    let b: Vec<SignedTx> = (0..3).map(|n| tx_with(2, n, size() as u64, 100)).collect();
    let c: Vec<SignedTx> = (3..5).map(|n| tx(3, n, 1)).collect();
    for t in a.iter().chain(&b) {
        p.insert(t.clone(), rich(0)).unwrap();
    }
    for t in &c {
        p.insert(t.clone(), rich(3)).unwrap();
    }
    let b_spend = 100 + size() as u64;
    let view = |s: &Address| {
        if *s == addr(1) {
            rich(2) // A0 and A1 were mined
        } else if *s == addr(2) {
            AccountView {
                nonce: 0,
                balance: Amount::from_units(2 * b_spend), // covers B0 and B1 only
            }
        } else {
            rich(2) // a reorg took C back below its pending chain
        }
    };
    let mut removed = p.revalidate(view);
    removed.sort();
    let mut expected = vec![id(&a[0]), id(&a[1]), id(&b[2]), id(&c[0]), id(&c[1])];
    expected.sort();
    assert_eq!(removed, expected);
    let mut left = ids(&p);
    left.sort();
    let mut expected = vec![id(&a[2]), id(&b[0]), id(&b[1])];
    expected.sort();
    assert_eq!(left, expected);
    assert_eq!(p.pending_nonce(&addr(1)), Some(3));
    assert_eq!(p.pending_nonce(&addr(3)), None);
    check_invariants(&p);
    assert_eq!(p.revalidate(view), vec![]);
    // The freed nonce continues the chain.
    p.insert(tx(1, 3, 1), rich(2)).unwrap();
}

#[derive(Clone, Debug)]
enum Op {
    Insert {
        sender: u8,
        nonce_delta: u64,
        fee: u64,
        amount: u64,
    },
    Mine {
        sender: u8,
        count: u64,
    },
    SetBalance {
        sender: u8,
        balance: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..5, 0u64..4, 0u64..1000, 0u64..3000).prop_map(|(sender, nonce_delta, fee, amount)| {
            Op::Insert { sender, nonce_delta, fee, amount }
        }),
        1 => (0u8..5, 0u64..4).prop_map(|(sender, count)| Op::Mine { sender, count }),
        1 => (0u8..5, 0u64..20_000).prop_map(|(sender, balance)| Op::SetBalance { sender, balance }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_operations_keep_invariants(ops in proptest::collection::vec(op(), 1..40)) {
        let mut p = pool_with(|c| {
            c.max_count = 6;
            c.max_bytes = 5 * size();
            c.max_per_sender = 3;
        });
        let mut accounts: BTreeMap<Address, AccountView> = (0..5u8)
            .map(|i| (addr(i), AccountView { nonce: 0, balance: Amount::from_units(10_000) }))
            .collect();
        for op in ops {
            match op {
                Op::Insert { sender, nonce_delta, fee, amount } => {
                    let account = accounts[&addr(sender)];
                    let base = p.pending_nonce(&addr(sender)).unwrap_or(account.nonce);
                    let nonce = (base + nonce_delta).saturating_sub(2);
                    let t = tx_with(sender, nonce, fee, amount);
                    let before = (ids(&p), p.bytes());
                    match p.insert(t.clone(), account) {
                        Ok(ins) => {
                            prop_assert_eq!(ins.txid, id(&t));
                            prop_assert_eq!(p.get(&ins.txid), Some(&t));
                            for gone in ins.replaced.iter().chain(&ins.evicted) {
                                prop_assert!(!p.contains(gone));
                                prop_assert!(before.0.contains(gone));
                            }
                            prop_assert_eq!(p.len() + ins.evicted.len() + usize::from(ins.replaced.is_some()), before.0.len() + 1);
                        }
                        Err(_) => prop_assert_eq!((ids(&p), p.bytes()), before),
                    }
                }
                Op::Mine { sender, count } => {
                    let a = accounts.get_mut(&addr(sender)).unwrap();
                    a.nonce += count;
                    p.revalidate(|s| accounts[s]);
                }
                Op::SetBalance { sender, balance } => {
                    accounts.get_mut(&addr(sender)).unwrap().balance = Amount::from_units(balance);
                    p.revalidate(|s| accounts[s]);
                }
            }
            check_invariants(&p);
            // Every chain is affordable and starts at or after the account nonce.
            for (sender, queue) in &p.senders {
                let account = accounts[sender];
                prop_assert!(*queue.keys().next().unwrap() >= account.nonce);
                let total = queue.values().try_fold(Amount::ZERO, |t, e| t.checked_add(e.spend));
                prop_assert!(total.is_some_and(|t| t <= account.balance));
            }
            // A template follows each sender's nonce order from the account nonce.
            let chosen = p.select(3 * size(), 4, |s| accounts[s]);
            prop_assert!(chosen.len() <= 3);
            let mut next: BTreeMap<Address, u64> = BTreeMap::new();
            for t in &chosen {
                let s = t.body.sender_address();
                let expect = next.get(&s).copied().unwrap_or(accounts[&s].nonce);
                prop_assert_eq!(t.body.nonce, expect);
                next.insert(s, expect + 1);
            }
        }
    }
}
