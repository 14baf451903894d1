//! Jobs from posting to their final state: settlement with every payment, a cheating
//! provider slashed and replaced, a lying verifier overturned, a missed deadline, no bids,
//! cancellation, and a reorg that takes a whole job back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aic_consensus::MarketError;
use aic_ledger::market::{JobStatus, PaymentKind};
use aic_primitives::{sha256, Amount, JobId, MarketAction};
use common::*;

fn units(n: u64) -> Amount {
    Amount::from_units(n)
}

fn verdict(job: JobId, pass: bool) -> MarketAction {
    MarketAction::Verdict {
        job,
        pass,
        evidence: sha256(if pass { b"match" } else { b"mismatch" }),
    }
}

/// Posts the fixture job, lets providers 1 (5 AIC), 2 (6 AIC) and 3 (5 AIC) bid, and closes
/// the window: provider 1 wins (lowest price, tie with 3 broken by bid order).
fn awarded_to_1(w: &mut World) -> JobId {
    let id = w.post(spec());
    let bids = vec![
        w.tx(
            1,
            MarketAction::Bid {
                job: id,
                price: aic(5),
            },
        ),
        w.tx(
            2,
            MarketAction::Bid {
                job: id,
                price: aic(6),
            },
        ),
        w.tx(
            3,
            MarketAction::Bid {
                job: id,
                price: aic(5),
            },
        ),
    ];
    w.block(bids);
    w.close_bidding(&id);
    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::Awarded);
    assert_eq!(job.award.unwrap().provider, addr(1));
    id
}

fn drawn(w: &World, id: &JobId) -> Vec<u8> {
    w.job(id)
        .verification
        .unwrap()
        .verifiers
        .iter()
        .map(user_of)
        .collect()
}

#[test]
fn an_honest_job_settles_and_pays_everyone() {
    let mut w = World::with_market();
    let id = awarded_to_1(&mut w);
    assert_eq!(w.provider(1).active, 1);
    let before: Vec<Amount> = (0..USERS).map(|u| w.balance(u)).collect();
    w.act(1, result_for(id, b"weights"));
    let v = drawn(&w, &id);
    assert_eq!(v.len(), 1);
    assert!(![1, CONSUMER].contains(&v[0]));
    w.act(v[0], verdict(id, true));
    w.close_challenge(&id);

    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::Settled);
    assert_eq!(job.escrow, Amount::ZERO);
    let fee = units(1_000);
    let price = aic(5);
    let model_royalty = units(25_000_000); // 5% of 5 AIC
    let dataset_royalty = units(10_000_000); // 2% of 5 AIC
    let verifier_fee = units(10_000_000);
    let refund = aic(20)
        .checked_sub(price)
        .and_then(|r| r.checked_sub(model_royalty))
        .and_then(|r| r.checked_sub(dataset_royalty))
        .and_then(|r| r.checked_sub(verifier_fee))
        .unwrap();
    let paid: Vec<(u8, Amount, PaymentKind)> = job
        .payments
        .iter()
        .map(|p| (user_of(&p.to), p.amount, p.kind))
        .collect();
    assert_eq!(
        paid,
        vec![
            (1, price, PaymentKind::Price),
            (OWNER, model_royalty, PaymentKind::ModelRoyalty),
            (OWNER, dataset_royalty, PaymentKind::DatasetRoyalty),
            (v[0], verifier_fee, PaymentKind::VerifierFee),
            (CONSUMER, refund, PaymentKind::Refund),
        ]
    );
    // Every balance moved by exactly the statement, less each sender's fees.
    let gained = |u: u8| w.balance(u).to_units() as i128 - before[u as usize].to_units() as i128;
    assert_eq!(gained(1), (price.to_units() - fee.to_units()) as i128);
    assert_eq!(
        gained(OWNER),
        (model_royalty.to_units() + dataset_royalty.to_units()) as i128
    );
    assert_eq!(
        gained(v[0]),
        (verifier_fee.to_units() - fee.to_units()) as i128
    );
    assert_eq!(gained(CONSUMER), refund.to_units() as i128);
    // Reputation and locks.
    let p1 = w.provider(1);
    assert_eq!((p1.active, p1.reputation.completed), (0, 1));
    let pv = w.provider(v[0]);
    assert_eq!((pv.active, pv.reputation.verdicts), (0, 1));
    assert_eq!(w.ledger.model(&model_id()).unwrap().jobs, 1);
    assert_eq!(w.ledger.active_job_ids().count(), 0);
}

#[test]
fn a_cheating_provider_is_slashed_and_an_honest_one_finishes_the_job() {
    let mut w = World::with_market();
    let id = awarded_to_1(&mut w);
    w.act(1, result_for(id, b"random weights"));
    let first = drawn(&w, &id);
    w.act(first[0], verdict(id, false));
    w.close_challenge(&id);
    // The dispute escalates to 2n + 1 = 3 fresh verifiers.
    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::Verifying);
    let second = drawn(&w, &id);
    assert_eq!(second.len(), 3);
    assert!(second
        .iter()
        .all(|u| !first.contains(u) && *u != 1 && *u != CONSUMER));
    let txs = second
        .iter()
        .map(|u| w.tx(*u, verdict(id, false)))
        .collect();
    w.block(txs);
    w.close_challenge(&id);

    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::Open, "the job reopens");
    assert_eq!(job.reopens, 1);
    assert_eq!(job.excluded, vec![addr(1)]);
    let p1 = w.provider(1);
    assert_eq!(p1.stake, aic(10), "half the stake slashed");
    assert_eq!((p1.reputation.failed, p1.active), (1, 0));
    let slashed: Amount = job
        .payments
        .iter()
        .filter(|p| p.from == Some(addr(1)))
        .fold(Amount::ZERO, |a, p| a.checked_add(p.amount).unwrap());
    assert_eq!(slashed, aic(10));
    let to_consumer: Vec<_> = job
        .payments
        .iter()
        .filter(|p| p.kind == PaymentKind::SlashToConsumer)
        .collect();
    assert_eq!(to_consumer.len(), 1);
    assert_eq!(to_consumer[0].amount, aic(5));
    let catchers = job
        .payments
        .iter()
        .filter(|p| p.kind == PaymentKind::SlashToVerifier)
        .count();
    assert_eq!(catchers, 4);

    // The cheat may not bid again; an honest provider takes the job and is paid.
    w.refuses(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(4),
        },
        MarketError::ProviderExcluded,
    );
    w.act(
        5,
        MarketAction::Bid {
            job: id,
            price: aic(7),
        },
    );
    w.close_bidding(&id);
    assert_eq!(w.job(&id).award.unwrap().provider, addr(5));
    w.act(5, result_for(id, b"honest weights"));
    let v = drawn(&w, &id);
    w.act(v[0], verdict(id, true));
    w.close_challenge(&id);
    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::Settled);
    assert_eq!(
        job.payments
            .iter()
            .filter(|p| p.kind == PaymentKind::Price)
            .map(|p| (user_of(&p.to), p.amount))
            .collect::<Vec<_>>(),
        vec![(5, aic(7))],
        "paid once, to the honest provider"
    );
    assert_eq!(job.escrow, Amount::ZERO);
}

#[test]
fn a_lying_verifier_is_overturned_by_the_second_round() {
    let mut w = World::with_market();
    let id = awarded_to_1(&mut w);
    w.act(1, result_for(id, b"weights"));
    let liar = drawn(&w, &id)[0];
    w.act(liar, verdict(id, false));
    w.close_challenge(&id);
    let second = drawn(&w, &id);
    let txs = second.iter().map(|u| w.tx(*u, verdict(id, true))).collect();
    w.block(txs);
    let p1_before = w.balance(1);
    w.close_challenge(&id);

    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::Settled);
    let l = w.provider(liar);
    assert_eq!(l.stake, aic(10));
    assert_eq!(l.reputation.overturned, 1);
    // The provider gets its price and the liar's slashed stake.
    assert_eq!(
        w.balance(1),
        p1_before
            .checked_add(aic(5))
            .unwrap()
            .checked_add(aic(10))
            .unwrap()
    );
    // The three honest verifiers are paid their fees; the liar is not.
    let fees: Vec<u8> = job
        .payments
        .iter()
        .filter(|p| p.kind == PaymentKind::VerifierFee)
        .map(|p| user_of(&p.to))
        .collect();
    assert_eq!(fees, second);
}

#[test]
fn a_silent_verifier_loses_reputation_and_the_result_stands() {
    let mut w = World::with_market();
    let id = awarded_to_1(&mut w);
    w.act(1, result_for(id, b"weights"));
    let v = drawn(&w, &id)[0];
    w.close_challenge(&id);
    assert_eq!(w.job(&id).status, JobStatus::Settled);
    let p = w.provider(v);
    assert_eq!((p.reputation.silent, p.active), (1, 0));
    assert!(p.reputation.score() < w.provider(2).reputation.score() || v == 2);
}

#[test]
fn a_missed_deadline_refunds_the_consumer() {
    let mut w = World::with_market();
    let before = w.balance(CONSUMER);
    let id = awarded_to_1(&mut w);
    let deadline = w.job(&id).award.unwrap().deadline.0;
    w.blocks(deadline - w.height);
    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::Expired);
    assert_eq!(job.escrow, Amount::ZERO);
    // Only the posting fee is lost.
    assert_eq!(
        w.balance(CONSUMER),
        before.checked_sub(units(1_000)).unwrap()
    );
    let p = w.provider(1);
    assert_eq!((p.reputation.missed, p.active), (1, 0));
    w.refuses(
        1,
        result_for(id, b"late"),
        MarketError::WrongJobState {
            expected: "awarded",
            got: "expired",
        },
    );
}

#[test]
fn with_no_bids_the_window_extends_once_then_refunds() {
    let mut w = World::with_market();
    let id = w.post(spec());
    let first_end = w.job(&id).window_end;
    w.blocks(first_end.0 - w.height);
    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::Open);
    assert!(job.extended);
    assert_eq!(job.window_end.0, first_end.0 + u64::from(spec().bid_blocks));
    w.close_bidding(&id);
    let job = w.job(&id);
    assert_eq!(job.status, JobStatus::NoBids);
    assert_eq!(job.payments.len(), 1);
    assert_eq!(job.payments[0].kind, PaymentKind::Refund);
    assert_eq!(job.payments[0].amount, aic(20));
}

#[test]
fn a_cancelled_job_refunds_and_takes_no_more_bids() {
    let mut w = World::with_market();
    let id = w.post(spec());
    w.act(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
    );
    w.act(CONSUMER, MarketAction::CancelJob { job: id });
    assert_eq!(w.job(&id).status, JobStatus::Cancelled);
    w.refuses(
        2,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
        MarketError::WrongJobState {
            expected: "open",
            got: "cancelled",
        },
    );
    w.blocks(10);
    assert_eq!(w.provider(1).active, 0, "a bid locks nothing");
}

#[test]
fn undoing_every_block_of_a_job_restores_the_state_exactly() {
    let mut w = World::with_market();
    let root = w.ledger.state_root();
    let records: Vec<_> = w.ledger.records().map(|(k, r)| (*k, r.clone())).collect();
    let balances: Vec<Amount> = (0..USERS).map(|u| w.balance(u)).collect();
    let start = w.undos.len();
    let id = awarded_to_1(&mut w);
    w.act(1, result_for(id, b"weights"));
    let v = drawn(&w, &id)[0];
    w.act(v, verdict(id, true));
    w.close_challenge(&id);
    assert_eq!(w.job(&id).status, JobStatus::Settled);
    for outcome in w.undos.split_off(start).into_iter().rev() {
        w.ledger.undo_block(&outcome.undo);
    }
    assert_eq!(w.ledger.state_root(), root);
    let after: Vec<_> = w.ledger.records().map(|(k, r)| (*k, r.clone())).collect();
    assert_eq!(after, records);
    assert_eq!(
        (0..USERS).map(|u| w.balance(u)).collect::<Vec<_>>(),
        balances
    );
    assert_eq!(w.ledger.active_job_ids().count(), 0);
}
