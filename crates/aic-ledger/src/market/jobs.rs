//! Posting and cancelling jobs, and bidding on them.

use aic_consensus::{MarketError, TxError};
use aic_primitives::{Address, Amount, Height, JobId, JobSpec, MarketParams, FIXED_POINT_SCALE};

use super::records::{Bid, Dataset, Job, JobStatus, Model, Payment, PaymentKind, Provider};
use super::{check_label, check_unique, job_id, share_bps};
use crate::overlay::{market, BlockContext, Overlay};

/// Most verdicts a job can pay for: `n` in the first round and `2n + 1` after an escalation.
pub fn max_verdicts(verifiers: u8) -> u64 {
    match u64::from(verifiers) {
        0 => 0,
        n => 3 * n + 1,
    }
}

/// The most a job can cost: the highest price, the royalties on it, and every verdict's fee.
pub fn budget_needed(spec: &JobSpec, model: &Model, dataset: &Dataset) -> Option<Amount> {
    let royalty_bps = u64::from(model.royalty_bps) + u64::from(dataset.royalty_bps);
    let fees = spec
        .policy
        .verifier_fee
        .checked_mul(max_verdicts(spec.policy.verifiers))?;
    spec.max_price
        .checked_add(share_bps(spec.max_price, royalty_bps)?)?
        .checked_add(fees)
}

/// Whether `p` may work on a job of `spec`: the device class and memory it needs, and the
/// stake and reputation of its tier.
pub fn check_eligible(
    params: &MarketParams,
    spec: &JobSpec,
    p: &Provider,
) -> Result<(), MarketError> {
    if p.summary.class != spec.device_class {
        return Err(MarketError::DeviceClassMismatch {
            needed: spec.device_class.name(),
            has: p.summary.class.name(),
        });
    }
    if p.summary.memory_mib < spec.min_memory_mib {
        return Err(MarketError::InsufficientMemory {
            needed: spec.min_memory_mib,
            has: p.summary.memory_mib,
        });
    }
    let tier = params
        .tiers
        .get(usize::from(spec.tier))
        .ok_or(MarketError::UnknownTier(spec.tier))?;
    if p.stake < tier.min_stake {
        return Err(MarketError::TierStake {
            tier: spec.tier,
            min: tier.min_stake,
            has: p.stake,
        });
    }
    let score = p.reputation.score();
    if score < tier.min_reputation {
        return Err(MarketError::TierReputation {
            tier: spec.tier,
            min: tier.min_reputation,
            has: score,
        });
    }
    Ok(())
}

fn check_params(model: &Model, spec: &JobSpec) -> Result<(), MarketError> {
    for (name, value) in &spec.params {
        check_label("parameter", name)?;
        let p = model
            .params
            .iter()
            .find(|p| &p.name == name)
            .ok_or_else(|| MarketError::UnknownParam { name: name.clone() })?;
        if *value < p.min || *value > p.max {
            return Err(MarketError::ParamOutOfRange {
                name: name.clone(),
                value: *value,
                min: p.min,
                max: p.max,
            });
        }
        if p.integer && value % FIXED_POINT_SCALE != 0 {
            return Err(MarketError::ParamNotInteger { name: name.clone() });
        }
    }
    check_unique("parameter", spec.params.iter().map(|(n, _)| n.as_str()))
}

fn check_windows(params: &MarketParams, spec: &JobSpec) -> Result<(), MarketError> {
    if spec.bid_blocks == 0 || spec.bid_blocks > params.max_bid_blocks {
        return Err(MarketError::BidWindowOutOfRange {
            max: params.max_bid_blocks,
            got: spec.bid_blocks,
        });
    }
    if spec.deadline_blocks == 0 || spec.deadline_blocks > params.max_deadline_blocks {
        return Err(MarketError::DeadlineOutOfRange {
            max: params.max_deadline_blocks,
            got: spec.deadline_blocks,
        });
    }
    let policy = &spec.policy;
    if policy.challenge_blocks == 0 || policy.challenge_blocks > params.max_challenge_blocks {
        return Err(MarketError::ChallengeWindowOutOfRange {
            max: params.max_challenge_blocks,
            got: policy.challenge_blocks,
        });
    }
    if policy.verifiers > params.max_verifiers {
        return Err(MarketError::TooManyVerifiers {
            max: params.max_verifiers,
            got: policy.verifiers,
        });
    }
    if policy.verifiers > 0 && policy.segments == 0 {
        return Err(MarketError::NoSegmentsToCheck);
    }
    Ok(())
}

impl Overlay<'_> {
    pub(crate) fn post_job(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        sender: Address,
        nonce: u64,
        spec: &JobSpec,
    ) -> Result<(), TxError> {
        if usize::from(spec.tier) >= params.tiers.len() {
            return Err(market(MarketError::UnknownTier(spec.tier)));
        }
        let model = self
            .model(&spec.model)
            .ok_or(market(MarketError::UnknownModel))?;
        let dataset = self
            .dataset(&spec.dataset)
            .ok_or(market(MarketError::UnknownDataset))?;
        if model.task != dataset.task {
            return Err(market(MarketError::TaskMismatch {
                model: model.task,
                dataset: dataset.task,
            }));
        }
        check_params(&model, spec).map_err(market)?;
        check_windows(params, spec).map_err(market)?;
        if spec.max_price == Amount::ZERO {
            return Err(market(MarketError::ZeroAmount));
        }
        let needed = budget_needed(spec, &model, &dataset).ok_or(market(MarketError::Overflow))?;
        if spec.budget < needed {
            return Err(market(MarketError::BudgetTooLow {
                needed,
                got: spec.budget,
            }));
        }
        self.debit(sender, spec.budget)?;
        let id = job_id(&sender, nonce);
        self.put_job(
            id,
            Job {
                consumer: sender,
                spec: spec.clone(),
                posted: ctx.height,
                status: JobStatus::Open,
                escrow: spec.budget,
                window_end: Height(ctx.height.0.saturating_add(spec.bid_blocks.into())),
                extended: false,
                reopens: 0,
                bids: Vec::new(),
                excluded: Vec::new(),
                award: None,
                result: None,
                verification: None,
                payments: Vec::new(),
            },
        );
        Ok(())
    }

    pub(crate) fn cancel_job(
        &mut self,
        ctx: BlockContext,
        sender: Address,
        id: &JobId,
    ) -> Result<(), TxError> {
        let mut job = self.job(id).ok_or(market(MarketError::UnknownJob))?;
        if job.consumer != sender {
            return Err(market(MarketError::NotConsumer));
        }
        if job.status != JobStatus::Open {
            return Err(market(MarketError::WrongJobState {
                expected: JobStatus::Open.name(),
                got: job.status.name(),
            }));
        }
        self.refund(ctx.height, &mut job)?;
        job.status = JobStatus::Cancelled;
        self.put_job(*id, job);
        Ok(())
    }

    pub(crate) fn bid(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        sender: Address,
        id: &JobId,
        price: Amount,
    ) -> Result<(), TxError> {
        let mut job = self.job(id).ok_or(market(MarketError::UnknownJob))?;
        if job.status != JobStatus::Open {
            return Err(market(MarketError::WrongJobState {
                expected: JobStatus::Open.name(),
                got: job.status.name(),
            }));
        }
        let provider = self
            .provider(&sender)
            .ok_or(market(MarketError::NotRegistered))?;
        if sender == job.consumer {
            return Err(market(MarketError::SelfDealing));
        }
        if job.excluded.contains(&sender) {
            return Err(market(MarketError::ProviderExcluded));
        }
        if job.bids.iter().any(|b| b.provider == sender) {
            return Err(market(MarketError::DuplicateBid));
        }
        if job.bids.len() >= params.max_bids as usize {
            return Err(market(MarketError::TooManyBids {
                max: params.max_bids,
            }));
        }
        if price == Amount::ZERO {
            return Err(market(MarketError::ZeroAmount));
        }
        if price > job.spec.max_price {
            return Err(market(MarketError::PriceAboveMax {
                max: job.spec.max_price,
                got: price,
            }));
        }
        check_eligible(params, &job.spec, &provider).map_err(market)?;
        job.bids.push(Bid {
            provider: sender,
            price,
            height: ctx.height,
        });
        self.put_job(*id, job);
        Ok(())
    }

    /// Pays the rest of the escrow back to the consumer.
    pub(crate) fn refund(&mut self, height: Height, job: &mut Job) -> Result<(), TxError> {
        let amount = job.escrow;
        if amount > Amount::ZERO {
            self.pay_from_escrow(height, job, job.consumer, amount, PaymentKind::Refund)?;
        }
        Ok(())
    }

    /// Pays `amount` from the job's escrow to `to`, and notes it in the job's statement.
    pub(crate) fn pay_from_escrow(
        &mut self,
        height: Height,
        job: &mut Job,
        to: Address,
        amount: Amount,
        kind: PaymentKind,
    ) -> Result<(), TxError> {
        job.escrow = job
            .escrow
            .checked_sub(amount)
            .ok_or(market(MarketError::Overflow))?;
        self.credit(to, amount)?;
        job.payments.push(Payment {
            to,
            from: None,
            amount,
            kind,
            height,
        });
        Ok(())
    }
}
