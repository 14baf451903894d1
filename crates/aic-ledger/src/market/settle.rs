//! What the passage of blocks does to jobs: awards when a bid window closes, expiry when a
//! deadline passes, and at the end of a challenge window an escalation, a settlement, or a
//! slashing and a reopening.

use std::cmp::Reverse;

use aic_consensus::{MarketError, TxError};
use aic_primitives::{Address, Amount, Height, JobId, MarketParams};

use super::jobs::{budget_needed, check_eligible};
use super::keys::{Record, RecordKey};
use super::records::{Award, Job, JobStatus, Payment, PaymentKind};
use super::share_bps;
use crate::overlay::{market, BlockContext, Overlay};

impl Overlay<'_> {
    /// Moves every job whose window or deadline ends at this block, in job-id order.
    pub(crate) fn end_block(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
    ) -> Result<(), TxError> {
        for id in self.active_job_ids() {
            let Some(mut job) = self.job(&id) else {
                continue;
            };
            let h = ctx.height;
            match job.status {
                JobStatus::Open if h >= job.window_end => {
                    self.close_bidding(params, ctx, &mut job)?
                }
                JobStatus::Awarded if job.award.is_some_and(|a| h >= a.deadline) => {
                    self.expire(h, &mut job)?
                }
                JobStatus::Verifying
                    if job
                        .verification
                        .as_ref()
                        .is_some_and(|v| h >= v.challenge_end) =>
                {
                    self.close_challenge(params, ctx, &id, &mut job)?
                }
                _ => continue,
            }
            self.put_job(id, job);
        }
        Ok(())
    }

    /// Awards the job to the lowest price among bidders still eligible (ties: higher
    /// reputation, then the earlier bid); with no such bid, extends the window once, then
    /// refunds.
    fn close_bidding(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        job: &mut Job,
    ) -> Result<(), TxError> {
        let best = job
            .bids
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let p = self.provider(&b.provider)?;
                check_eligible(params, &job.spec, &p).ok()?;
                Some(((b.price, Reverse(p.reputation.score()), i), *b))
            })
            .min_by_key(|(key, _)| *key)
            .map(|(_, b)| b);
        match best {
            Some(bid) => {
                let mut p = self
                    .provider(&bid.provider)
                    .ok_or(market(MarketError::NotRegistered))?;
                p.active += 1;
                self.put_provider(bid.provider, p);
                job.award = Some(Award {
                    provider: bid.provider,
                    price: bid.price,
                    deadline: Height(ctx.height.0.saturating_add(job.spec.deadline_blocks.into())),
                });
                job.status = JobStatus::Awarded;
            }
            None if !job.extended => {
                job.extended = true;
                job.bids.clear();
                job.window_end = Height(ctx.height.0.saturating_add(job.spec.bid_blocks.into()));
            }
            None => {
                self.refund(ctx.height, job)?;
                job.status = JobStatus::NoBids;
            }
        }
        Ok(())
    }

    fn expire(&mut self, height: Height, job: &mut Job) -> Result<(), TxError> {
        if let Some(award) = job.award {
            if let Some(mut p) = self.provider(&award.provider) {
                p.active = p.active.saturating_sub(1);
                p.reputation.missed += 1;
                self.put_provider(award.provider, p);
            }
        }
        self.refund(height, job)?;
        job.status = JobStatus::Expired;
        Ok(())
    }

    fn close_challenge(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        id: &JobId,
        job: &mut Job,
    ) -> Result<(), TxError> {
        let Some(v) = job.verification.clone() else {
            return Ok(());
        };
        // The round's verifiers are released; those who said nothing lose reputation.
        for a in &v.verifiers {
            if let Some(mut p) = self.provider(a) {
                p.active = p.active.saturating_sub(1);
                let spoke = v
                    .verdicts
                    .iter()
                    .any(|e| e.verifier == *a && e.round == v.round);
                if !spoke {
                    p.reputation.silent += 1;
                }
                self.put_provider(*a, p);
            }
        }
        let disputed = v.verdicts.iter().any(|e| e.round == v.round && !e.pass);
        if disputed && v.round == 0 {
            let mut earlier = v.earlier.clone();
            earlier.extend(v.verifiers.iter().copied());
            let count = 2 * usize::from(job.spec.policy.verifiers) + 1;
            if self.start_round(params, ctx, id, job, 1, count, earlier) > 0 {
                return Ok(());
            }
        }
        let fails = v.verdicts.iter().filter(|e| !e.pass).count();
        let passes = v.verdicts.len() - fails;
        if fails > passes {
            self.reject(params, ctx.height, job)
        } else {
            self.settle(params, ctx.height, job)
        }
    }

    /// Takes `bps` of `who`'s stake away and returns it.
    fn take_stake(&mut self, who: Address, bps: u16) -> Result<Amount, TxError> {
        let Some(mut p) = self.provider(&who) else {
            return Ok(Amount::ZERO);
        };
        let amount = share_bps(p.stake, bps.into()).ok_or(market(MarketError::Overflow))?;
        p.stake = p
            .stake
            .checked_sub(amount)
            .ok_or(market(MarketError::Overflow))?;
        self.put_provider(who, p);
        Ok(amount)
    }

    /// Pays `amount` taken from `from`'s stake in equal parts to `to` (the remainder to the
    /// first), noted in the job's statement.
    fn distribute(
        &mut self,
        height: Height,
        job: &mut Job,
        from: Address,
        amount: Amount,
        to: &[(Address, PaymentKind)],
    ) -> Result<(), TxError> {
        let n = to.len() as u64;
        if n == 0 || amount == Amount::ZERO {
            return Ok(());
        }
        let part = amount.to_units() / n;
        let first = amount.to_units() - part * (n - 1);
        for (i, (dest, kind)) in to.iter().enumerate() {
            let value = Amount::from_units(if i == 0 { first } else { part });
            if value == Amount::ZERO {
                continue;
            }
            self.credit(*dest, value)?;
            job.payments.push(Payment {
                to: *dest,
                from: Some(from),
                amount: value,
                kind: *kind,
                height,
            });
        }
        Ok(())
    }

    fn bump_verifiers(
        &mut self,
        params: &MarketParams,
        height: Height,
        job: &mut Job,
        stood: bool,
        wronged: Address,
    ) -> Result<(), TxError> {
        let verdicts = job
            .verification
            .as_ref()
            .map(|v| v.verdicts.clone())
            .unwrap_or_default();
        for e in verdicts {
            let Some(mut p) = self.provider(&e.verifier) else {
                continue;
            };
            if e.pass == stood {
                p.reputation.verdicts += 1;
                self.put_provider(e.verifier, p);
                let fee = job.spec.policy.verifier_fee;
                if fee > Amount::ZERO {
                    self.pay_from_escrow(height, job, e.verifier, fee, PaymentKind::VerifierFee)?;
                }
            } else {
                p.reputation.overturned += 1;
                self.put_provider(e.verifier, p);
                let amount = self.take_stake(e.verifier, params.slash_bps)?;
                self.distribute(
                    height,
                    job,
                    e.verifier,
                    amount,
                    &[(wronged, PaymentKind::VerifierSlash)],
                )?;
            }
        }
        Ok(())
    }

    /// The result stands: price, royalties and fees paid, the rest back to the consumer.
    fn settle(
        &mut self,
        params: &MarketParams,
        height: Height,
        job: &mut Job,
    ) -> Result<(), TxError> {
        let award = job.award.ok_or(market(MarketError::Overflow))?;
        self.pay_from_escrow(height, job, award.provider, award.price, PaymentKind::Price)?;
        if let Some(mut m) = self.model(&job.spec.model) {
            let royalty = share_bps(award.price, m.royalty_bps.into())
                .ok_or(market(MarketError::Overflow))?;
            if royalty > Amount::ZERO {
                self.pay_from_escrow(height, job, m.owner, royalty, PaymentKind::ModelRoyalty)?;
            }
            m.jobs += 1;
            self.set_record(RecordKey::Model(job.spec.model), Some(Record::Model(m)));
        }
        if let Some(mut d) = self.dataset(&job.spec.dataset) {
            let royalty = share_bps(award.price, d.royalty_bps.into())
                .ok_or(market(MarketError::Overflow))?;
            if royalty > Amount::ZERO {
                self.pay_from_escrow(height, job, d.owner, royalty, PaymentKind::DatasetRoyalty)?;
            }
            d.jobs += 1;
            self.set_record(
                RecordKey::Dataset(job.spec.dataset),
                Some(Record::Dataset(d)),
            );
        }
        self.bump_verifiers(params, height, job, true, award.provider)?;
        if let Some(mut p) = self.provider(&award.provider) {
            p.active = p.active.saturating_sub(1);
            p.reputation.completed += 1;
            self.put_provider(award.provider, p);
        }
        self.refund(height, job)?;
        job.status = JobStatus::Settled;
        Ok(())
    }

    /// The result failed: the provider is slashed (half to the consumer, half to the verifiers
    /// who caught it) and excluded; the job reopens, or is refunded after too many failures.
    fn reject(
        &mut self,
        params: &MarketParams,
        height: Height,
        job: &mut Job,
    ) -> Result<(), TxError> {
        let award = job.award.ok_or(market(MarketError::Overflow))?;
        let mut catchers: Vec<Address> = job
            .verification
            .as_ref()
            .map(|v| {
                v.verdicts
                    .iter()
                    .filter(|e| !e.pass)
                    .map(|e| e.verifier)
                    .collect()
            })
            .unwrap_or_default();
        catchers.dedup();
        self.bump_verifiers(params, height, job, false, job.consumer)?;
        if let Some(mut p) = self.provider(&award.provider) {
            p.active = p.active.saturating_sub(1);
            p.reputation.failed += 1;
            self.put_provider(award.provider, p);
        }
        // Half the slash to the consumer, the other half shared by the catchers.
        let amount = self.take_stake(award.provider, params.slash_bps)?;
        let to_catchers = if catchers.is_empty() {
            Amount::ZERO
        } else {
            Amount::from_units(amount.to_units() / 2)
        };
        let to_consumer = Amount::from_units(amount.to_units() - to_catchers.to_units());
        let consumer = [(job.consumer, PaymentKind::SlashToConsumer)];
        self.distribute(height, job, award.provider, to_consumer, &consumer)?;
        let to: Vec<(Address, PaymentKind)> = catchers
            .iter()
            .map(|a| (*a, PaymentKind::SlashToVerifier))
            .collect();
        self.distribute(height, job, award.provider, to_catchers, &to)?;
        job.excluded.push(award.provider);
        let needed = match (self.model(&job.spec.model), self.dataset(&job.spec.dataset)) {
            (Some(m), Some(d)) => budget_needed(&job.spec, &m, &d),
            _ => None,
        };
        if job.reopens < params.max_reopens && needed.is_some_and(|n| job.escrow >= n) {
            job.reopens += 1;
            job.status = JobStatus::Open;
            job.bids.clear();
            job.award = None;
            job.result = None;
            job.verification = None;
            job.extended = false;
            job.window_end = Height(height.0.saturating_add(job.spec.bid_blocks.into()));
        } else {
            self.refund(height, job)?;
            job.status = JobStatus::Failed;
        }
        Ok(())
    }
}
