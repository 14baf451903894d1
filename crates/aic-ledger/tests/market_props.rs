//! The market's economic properties under random sequences of market transactions: only
//! coinbases change the supply, escrow is accounted for to the unit, no job is paid twice,
//! every job ends in exactly one final state and stays there, stake locks match the work, and
//! undoing the blocks (a reorg) restores the state exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use aic_ledger::market::{JobStatus, PaymentKind, Record};
use aic_primitives::{sha256, Amount, JobId, MarketAction, SignedTx};
use common::*;
use proptest::prelude::*;

/// One random market action, with indices resolved against the state when it is built.
#[derive(Clone, Debug)]
enum Op {
    Post { price: u64, verifiers: u8 },
    Bid { job: usize, user: u8, price: u64 },
    Cancel { job: usize },
    Result { job: usize },
    Verdict { job: usize, slot: usize, pass: bool },
    TopUp { user: u8, amount: u64 },
    Unstake { user: u8, amount: u64 },
    Withdraw { user: u8 },
}

fn arb_op() -> impl Strategy<Value = Op> {
    // Weighted towards the actions that move jobs along, so that runs reach settlements,
    // escalations and slashings, not only cancellations.
    prop_oneof![
        2 => (1u64..12, 0u8..3).prop_map(|(price, verifiers)| Op::Post { price, verifiers }),
        5 => (0usize..8, 1u8..=6, 1u64..12).prop_map(|(job, user, price)| Op::Bid { job, user, price }),
        1 => (0usize..8).prop_map(|job| Op::Cancel { job }),
        4 => (0usize..8).prop_map(|job| Op::Result { job }),
        8 => (0usize..8, 0usize..7, any::<bool>()).prop_map(|(job, slot, pass)| Op::Verdict {
            job,
            slot,
            pass
        }),
        1 => (1u8..=6, 1u64..30).prop_map(|(user, amount)| Op::TopUp { user, amount }),
        1 => (1u8..=6, 1u64..30).prop_map(|(user, amount)| Op::Unstake { user, amount }),
        1 => (1u8..=6).prop_map(|user| Op::Withdraw { user }),
    ]
}

struct Builder<'w> {
    w: &'w World,
    nonces: HashMap<u8, u64>,
    jobs: &'w [JobId],
}

impl Builder<'_> {
    fn tx(&mut self, user: u8, action: MarketAction) -> SignedTx {
        let n = self
            .nonces
            .entry(user)
            .or_insert_with(|| self.w.ledger.account(&addr(user)).nonce);
        let tx = self.w.tx_at(user, *n, action);
        *n += 1;
        tx
    }

    fn build(&mut self, op: &Op) -> Option<SignedTx> {
        // One of the three latest jobs: older ones are mostly final.
        let job = |i: &usize| {
            let n = self.jobs.len();
            (n > 0).then(|| self.jobs[n - 1 - i % n.min(3)])
        };
        Some(match op {
            Op::Post { price, verifiers } => {
                let mut s = spec();
                s.max_price = aic(*price);
                s.policy.verifiers = *verifiers;
                s.budget = aic(2 * price + 1);
                self.tx(CONSUMER, MarketAction::PostJob(s))
            }
            Op::Bid {
                job: j,
                user,
                price,
            } => {
                let id = job(j)?;
                self.tx(
                    *user,
                    MarketAction::Bid {
                        job: id,
                        price: aic(*price),
                    },
                )
            }
            Op::Cancel { job: j } => {
                let id = job(j)?;
                self.tx(CONSUMER, MarketAction::CancelJob { job: id })
            }
            Op::Result { job: j } => {
                let id = job(j)?;
                let provider = self.w.ledger.job(&id)?.award?.provider;
                self.tx(user_of(&provider), result_for(id, b"w"))
            }
            Op::Verdict { job: j, slot, pass } => {
                let id = job(j)?;
                let v = self.w.ledger.job(&id)?.verification.clone()?;
                let verifier = *v.verifiers.get(slot % v.verifiers.len().max(1))?;
                let action = MarketAction::Verdict {
                    job: id,
                    pass: *pass,
                    evidence: sha256(b"e"),
                };
                self.tx(user_of(&verifier), action)
            }
            Op::TopUp { user, amount } => self.tx(
                *user,
                MarketAction::TopUpStake {
                    amount: aic(*amount),
                },
            ),
            Op::Unstake { user, amount } => self.tx(
                *user,
                MarketAction::Unstake {
                    amount: aic(*amount),
                },
            ),
            Op::Withdraw { user } => self.tx(*user, MarketAction::WithdrawStake),
        })
    }
}

/// Checks every job's books and every provider's locks against the jobs.
fn check_books(w: &World, finals: &mut HashMap<JobId, JobStatus>) {
    let mut locks: HashMap<_, u32> = HashMap::new();
    for (key, record) in w.ledger.records() {
        let Record::Job(job) = record else { continue };
        let aic_ledger::market::RecordKey::Job(id) = key else {
            continue;
        };
        let out_of_escrow = job
            .payments
            .iter()
            .filter(|p| p.from.is_none())
            .fold(Amount::ZERO, |a, p| a.checked_add(p.amount).unwrap());
        assert_eq!(
            job.escrow.checked_add(out_of_escrow),
            Some(job.spec.budget),
            "escrow plus what left it is the budget"
        );
        let prices = job
            .payments
            .iter()
            .filter(|p| p.kind == PaymentKind::Price)
            .count();
        assert!(prices <= 1, "a job paid twice");
        assert_eq!(prices == 1, job.status == JobStatus::Settled);
        if job.status.is_final() {
            assert_eq!(job.escrow, Amount::ZERO);
            let first = finals.entry(*id).or_insert(job.status);
            assert_eq!(*first, job.status, "a final state changed");
        } else {
            assert!(!finals.contains_key(id), "a job left its final state");
        }
        if matches!(job.status, JobStatus::Awarded | JobStatus::Verifying) {
            *locks.entry(job.award.unwrap().provider).or_default() += 1;
        }
        if job.status == JobStatus::Verifying {
            for v in &job.verification.as_ref().unwrap().verifiers {
                *locks.entry(*v).or_default() += 1;
            }
        }
    }
    for p in 1..=6 {
        let provider = w.provider(p);
        assert_eq!(
            provider.active,
            locks.get(&addr(p)).copied().unwrap_or(0),
            "locks of {p}"
        );
    }
    let active: Vec<JobId> = w.ledger.active_job_ids().collect();
    let open: Vec<JobId> = w
        .ledger
        .records()
        .filter_map(|(k, r)| match (k, r) {
            (aic_ledger::market::RecordKey::Job(id), Record::Job(j)) if !j.status.is_final() => {
                Some(*id)
            }
            _ => None,
        })
        .collect();
    assert_eq!(active, open);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn market_books_balance_and_reorgs_restore_them(
        blocks in prop::collection::vec(prop::collection::vec(arb_op(), 0..8), 1..40)
    ) {
        let mut w = World::with_market();
        let root = w.ledger.state_root();
        let start = w.undos.len();
        let mut jobs: Vec<JobId> = Vec::new();
        let mut finals = HashMap::new();
        for ops in &blocks {
            let nonce = w.ledger.account(&addr(CONSUMER)).nonce;
            let txs: Vec<SignedTx> = {
                let mut b = Builder { w: &w, nonces: HashMap::new(), jobs: &jobs };
                ops.iter().filter_map(|op| b.build(op)).collect()
            };
            w.block_lenient(txs);
            let posted = w.ledger.account(&addr(CONSUMER)).nonce;
            for n in nonce..posted {
                let id = aic_ledger::market::job_id(&addr(CONSUMER), n);
                if w.ledger.job(&id).is_some() {
                    jobs.push(id);
                }
            }
            check_books(&w, &mut finals);
        }
        // Left alone, every job reaches a final state.
        w.blocks(60);
        check_books(&w, &mut finals);
        prop_assert_eq!(w.ledger.active_job_ids().count(), 0);
        prop_assert_eq!(finals.len(), jobs.len());
        // A reorg back to the start restores the state exactly.
        for outcome in w.undos.split_off(start).into_iter().rev() {
            w.ledger.undo_block(&outcome.undo);
        }
        prop_assert_eq!(w.ledger.state_root(), root);
    }
}
