//! Every market rule broken once: the transaction is refused with its rule's error, by the
//! mempool's check and by block validation, and the state is unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aic_consensus::MarketError;
use aic_ledger::market::{JobStatus, Reputation};
use aic_primitives::{
    sha256, Amount, DeviceClass, Height, JobId, MarketAction, ParamSpec, ProviderRegistration,
    ResultCommit, FIXED_POINT_SCALE,
};
use common::*;

fn post_with(w: &mut World, f: impl FnOnce(&mut aic_primitives::JobSpec)) -> MarketAction {
    let _ = w;
    let mut s = spec();
    f(&mut s);
    MarketAction::PostJob(s)
}

/// A job awarded to provider 1 at 5 AIC.
fn awarded(w: &mut World) -> JobId {
    let id = w.post(spec());
    w.act(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
    );
    w.close_bidding(&id);
    assert_eq!(w.job(&id).status, JobStatus::Awarded);
    id
}

/// A job whose result provider 1 posted; returns it and the drawn verifier.
fn verifying(w: &mut World) -> (JobId, u8) {
    let id = awarded(w);
    w.act(1, result_for(id, b"weights"));
    let v = w.job(&id).verification.expect("drawn");
    assert_eq!(v.verifiers.len(), 1);
    (id, user_of(&v.verifiers[0]))
}

// --- providers ---

#[test]
fn already_registered() {
    let mut w = World::with_market();
    w.refuses(1, registration(aic(20)), MarketError::AlreadyRegistered);
}

#[test]
fn not_registered() {
    let mut w = World::with_market();
    w.refuses(
        7,
        MarketAction::TopUpStake { amount: aic(1) },
        MarketError::NotRegistered,
    );
}

#[test]
fn stake_below_minimum() {
    let mut w = World::with_market();
    w.refuses(
        7,
        registration(aic(9)),
        MarketError::StakeBelowMinimum {
            min: aic(10),
            got: aic(9),
        },
    );
}

#[test]
fn zero_amount() {
    let mut w = World::with_market();
    w.refuses(
        1,
        MarketAction::TopUpStake {
            amount: Amount::ZERO,
        },
        MarketError::ZeroAmount,
    );
}

#[test]
fn bad_endpoint() {
    let mut w = World::with_market();
    let action = MarketAction::RegisterProvider(ProviderRegistration {
        stake: aic(20),
        devices: sha256(b"d"),
        summary: cpu(1024),
        endpoint: "http://a b".to_owned(),
    });
    w.refuses(7, action, MarketError::BadEndpoint);
}

#[test]
fn unstake_exceeds_stake() {
    let mut w = World::with_market();
    w.refuses(
        1,
        MarketAction::Unstake { amount: aic(21) },
        MarketError::UnstakeExceedsStake {
            stake: aic(20),
            requested: aic(21),
        },
    );
    // Leaving a token stake behind breaks the minimum.
    w.refuses(
        1,
        MarketAction::Unstake { amount: aic(15) },
        MarketError::StakeBelowMinimum {
            min: aic(10),
            got: aic(5),
        },
    );
}

#[test]
fn stake_locked() {
    let mut w = World::with_market();
    awarded(&mut w);
    w.refuses(
        1,
        MarketAction::Unstake { amount: aic(20) },
        MarketError::StakeLocked { active: 1 },
    );
}

#[test]
fn nothing_unbonding() {
    let mut w = World::with_market();
    w.refuses(
        1,
        MarketAction::WithdrawStake,
        MarketError::NothingUnbonding,
    );
}

#[test]
fn still_unbonding_then_withdrawn() {
    let mut w = World::with_market();
    let before = w.balance(1);
    w.act(1, MarketAction::Unstake { amount: aic(20) });
    let release = Height(w.height + w.params.market.unbonding_blocks);
    assert_eq!(w.provider(1).release, release);
    w.refuses(
        1,
        MarketAction::WithdrawStake,
        MarketError::StillUnbonding { release },
    );
    w.blocks(w.params.market.unbonding_blocks - 2);
    w.refuses(
        1,
        MarketAction::WithdrawStake,
        MarketError::StillUnbonding { release },
    );
    w.blocks(1);
    w.act(1, MarketAction::WithdrawStake);
    let fees = Amount::from_units(2_000);
    assert_eq!(
        w.balance(1),
        before
            .checked_add(aic(20))
            .unwrap()
            .checked_sub(fees)
            .unwrap()
    );
    assert_eq!(w.provider(1).stake, Amount::ZERO);
}

// --- models and datasets ---

#[test]
fn bad_label() {
    let mut w = World::with_market();
    let mut m = model_publication();
    m.id = sha256(b"other");
    m.task = "Keyword Spotting".to_owned();
    w.refuses(
        OWNER,
        MarketAction::PublishModel(m),
        MarketError::BadLabel {
            what: "task",
            name: "Keyword Spotting".to_owned(),
        },
    );
}

#[test]
fn duplicate_name() {
    let mut w = World::with_market();
    let mut m = model_publication();
    m.id = sha256(b"other");
    m.params.push(m.params[0].clone());
    w.refuses(
        OWNER,
        MarketAction::PublishModel(m),
        MarketError::DuplicateName {
            what: "parameter",
            name: "learning-rate".to_owned(),
        },
    );
}

#[test]
fn model_exists() {
    let mut w = World::with_market();
    w.refuses(
        7,
        MarketAction::PublishModel(model_publication()),
        MarketError::ModelExists,
    );
}

#[test]
fn dataset_exists() {
    let mut w = World::with_market();
    w.refuses(
        7,
        MarketAction::PublishDataset(dataset_publication()),
        MarketError::DatasetExists,
    );
}

#[test]
fn royalty_too_high() {
    let mut w = World::with_market();
    let mut d = dataset_publication();
    d.id = sha256(b"other");
    d.royalty_bps = 2_001;
    w.refuses(
        OWNER,
        MarketAction::PublishDataset(d),
        MarketError::RoyaltyTooHigh {
            max: 2_000,
            got: 2_001,
        },
    );
}

#[test]
fn bad_param_range() {
    let mut w = World::with_market();
    let mut m = model_publication();
    m.id = sha256(b"other");
    m.params = vec![ParamSpec {
        name: "dropout".to_owned(),
        min: 2,
        max: 1,
        integer: false,
    }];
    w.refuses(
        OWNER,
        MarketAction::PublishModel(m),
        MarketError::BadParamRange {
            name: "dropout".to_owned(),
        },
    );
}

// --- posting ---

#[test]
fn unknown_model() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.model = sha256(b"nope"));
    w.refuses(CONSUMER, a, MarketError::UnknownModel);
}

#[test]
fn unknown_dataset() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.dataset = sha256(b"nope"));
    w.refuses(CONSUMER, a, MarketError::UnknownDataset);
}

#[test]
fn task_mismatch() {
    let mut w = World::with_market();
    let mut d = dataset_publication();
    d.id = sha256(b"wikiqa");
    d.task = "answer-selection".to_owned();
    w.act(OWNER, MarketAction::PublishDataset(d));
    let a = post_with(&mut w, |s| s.dataset = sha256(b"wikiqa"));
    w.refuses(
        CONSUMER,
        a,
        MarketError::TaskMismatch {
            model: "keyword-spotting".to_owned(),
            dataset: "answer-selection".to_owned(),
        },
    );
}

#[test]
fn unknown_param() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.params.push(("momentum".to_owned(), 1)));
    w.refuses(
        CONSUMER,
        a,
        MarketError::UnknownParam {
            name: "momentum".to_owned(),
        },
    );
}

#[test]
fn param_out_of_range() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.params[0].1 = 2 * FIXED_POINT_SCALE);
    w.refuses(
        CONSUMER,
        a,
        MarketError::ParamOutOfRange {
            name: "learning-rate".to_owned(),
            value: 2 * FIXED_POINT_SCALE,
            min: 1,
            max: FIXED_POINT_SCALE,
        },
    );
}

#[test]
fn param_not_integer() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.params[1].1 = 3 * FIXED_POINT_SCALE + 1);
    w.refuses(
        CONSUMER,
        a,
        MarketError::ParamNotInteger {
            name: "epochs".to_owned(),
        },
    );
}

#[test]
fn windows_out_of_range() {
    let mut w = World::with_market();
    let m = w.params.market.clone();
    let a = post_with(&mut w, |s| s.bid_blocks = 0);
    w.refuses(
        CONSUMER,
        a,
        MarketError::BidWindowOutOfRange {
            max: m.max_bid_blocks,
            got: 0,
        },
    );
    let a = post_with(&mut w, |s| s.deadline_blocks = m.max_deadline_blocks + 1);
    w.refuses(
        CONSUMER,
        a,
        MarketError::DeadlineOutOfRange {
            max: m.max_deadline_blocks,
            got: m.max_deadline_blocks + 1,
        },
    );
    let a = post_with(&mut w, |s| s.policy.challenge_blocks = 0);
    w.refuses(
        CONSUMER,
        a,
        MarketError::ChallengeWindowOutOfRange {
            max: m.max_challenge_blocks,
            got: 0,
        },
    );
}

#[test]
fn too_many_verifiers() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.policy.verifiers = 8);
    w.refuses(
        CONSUMER,
        a,
        MarketError::TooManyVerifiers { max: 7, got: 8 },
    );
}

#[test]
fn no_segments_to_check() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.policy.segments = 0);
    w.refuses(CONSUMER, a, MarketError::NoSegmentsToCheck);
}

#[test]
fn unknown_tier() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.tier = 3);
    w.refuses(CONSUMER, a, MarketError::UnknownTier(3));
}

#[test]
fn budget_too_low() {
    let mut w = World::with_market();
    // 10 AIC price, 7% royalties, 4 verdicts at 0.1 AIC: 11.1 AIC.
    let a = post_with(&mut w, |s| s.budget = aic(11));
    w.refuses(
        CONSUMER,
        a,
        MarketError::BudgetTooLow {
            needed: Amount::from_units(1_110_000_000),
            got: aic(11),
        },
    );
}

#[test]
fn overflow() {
    let mut w = World::with_market();
    let a = post_with(&mut w, |s| s.max_price = Amount::from_units(u64::MAX));
    w.refuses(CONSUMER, a, MarketError::Overflow);
}

#[test]
fn unknown_job_and_not_consumer() {
    let mut w = World::with_market();
    let id = w.post(spec());
    w.refuses(
        CONSUMER,
        MarketAction::CancelJob {
            job: sha256(b"no such job"),
        },
        MarketError::UnknownJob,
    );
    w.refuses(
        2,
        MarketAction::CancelJob { job: id },
        MarketError::NotConsumer,
    );
}

#[test]
fn wrong_job_state() {
    let mut w = World::with_market();
    let id = awarded(&mut w);
    w.refuses(
        2,
        MarketAction::Bid {
            job: id,
            price: aic(4),
        },
        MarketError::WrongJobState {
            expected: "open",
            got: "awarded",
        },
    );
    w.refuses(
        CONSUMER,
        MarketAction::CancelJob { job: id },
        MarketError::WrongJobState {
            expected: "open",
            got: "awarded",
        },
    );
}

// --- bids ---

#[test]
fn price_above_max() {
    let mut w = World::with_market();
    let id = w.post(spec());
    w.refuses(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(11),
        },
        MarketError::PriceAboveMax {
            max: aic(10),
            got: aic(11),
        },
    );
}

#[test]
fn duplicate_bid() {
    let mut w = World::with_market();
    let id = w.post(spec());
    w.act(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
    );
    w.refuses(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(4),
        },
        MarketError::DuplicateBid,
    );
}

#[test]
fn too_many_bids() {
    let mut w = World::with_market();
    w.params.market.max_bids = 1;
    let id = w.post(spec());
    w.act(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
    );
    w.refuses(
        2,
        MarketAction::Bid {
            job: id,
            price: aic(4),
        },
        MarketError::TooManyBids { max: 1 },
    );
}

#[test]
fn self_dealing() {
    let mut w = World::with_market();
    w.act(CONSUMER, registration(aic(20)));
    let id = w.post(spec());
    w.refuses(
        CONSUMER,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
        MarketError::SelfDealing,
    );
}

#[test]
fn device_class_and_memory() {
    let mut w = World::with_market();
    let id = w.post(post_spec(|s| s.device_class = DeviceClass::Gpu));
    w.refuses(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
        MarketError::DeviceClassMismatch {
            needed: "gpu",
            has: "cpu",
        },
    );
    let id = w.post(post_spec(|s| s.min_memory_mib = 8192));
    w.refuses(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
        MarketError::InsufficientMemory {
            needed: 8192,
            has: 4096,
        },
    );
}

fn post_spec(f: impl FnOnce(&mut aic_primitives::JobSpec)) -> aic_primitives::JobSpec {
    let mut s = spec();
    f(&mut s);
    s
}

#[test]
fn tier_stake_and_reputation() {
    let mut w = World::with_market();
    let id = w.post(post_spec(|s| s.tier = 1));
    w.refuses(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
        MarketError::TierStake {
            tier: 1,
            min: aic(50),
            has: aic(20),
        },
    );
    w.act(1, MarketAction::TopUpStake { amount: aic(40) });
    w.refuses(
        1,
        MarketAction::Bid {
            job: id,
            price: aic(5),
        },
        MarketError::TierReputation {
            tier: 1,
            min: 150,
            has: Reputation::BASE as u64,
        },
    );
}

// --- results and verdicts ---

#[test]
fn not_awarded_provider() {
    let mut w = World::with_market();
    let id = awarded(&mut w);
    w.refuses(2, result_for(id, b"w"), MarketError::NotAwardedProvider);
}

#[test]
fn zero_segments() {
    let mut w = World::with_market();
    let id = awarded(&mut w);
    let action = MarketAction::SubmitResult(ResultCommit {
        job: id,
        result: sha256(b"w"),
        transcript_root: sha256(b"t"),
        segments: 0,
        metrics: vec![],
    });
    w.refuses(1, action, MarketError::ZeroSegments);
}

#[test]
fn not_drawn_verifier() {
    let mut w = World::with_market();
    let (id, v) = verifying(&mut w);
    let other = (2..=6).find(|u| *u != v).unwrap();
    let action = MarketAction::Verdict {
        job: id,
        pass: true,
        evidence: sha256(b"e"),
    };
    w.refuses(other, action.clone(), MarketError::NotDrawnVerifier);
    // Nor may the provider judge its own result.
    w.refuses(1, action, MarketError::NotDrawnVerifier);
}

#[test]
fn duplicate_verdict() {
    let mut w = World::with_market();
    let (id, v) = verifying(&mut w);
    let action = MarketAction::Verdict {
        job: id,
        pass: true,
        evidence: sha256(b"e"),
    };
    w.act(v, action.clone());
    w.refuses(v, action, MarketError::DuplicateVerdict);
}
