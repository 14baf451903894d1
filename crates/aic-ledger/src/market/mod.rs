//! The market on chain (ADR 0017): providers and their stakes, models and datasets with their
//! royalties, jobs with escrow, bids and a deterministic award, results with their transcript
//! root, verification by verifiers drawn from the parent block's hash, settlement or slashing,
//! and reputation.
//!
//! Transactions change the market through [`apply_market`](Overlay::apply_market); the
//! passage of blocks does, at the end of every block, through
//! [`end_block`](Overlay::end_block): a bid window that closes awards its job, a deadline that
//! passes expires it, a challenge window that closes settles it, escalates it, or slashes the
//! provider and reopens it. Every rule is a [`MarketError`] variant.
//!
//! Value never leaves the ledger's books: a job's escrow, a provider's stake and its unbonding
//! stake count towards the supply like balances do (see [`Ledger::total_supply`]).
//!
//! [`Ledger::total_supply`]: crate::Ledger::total_supply

mod draw;
mod jobs;
mod keys;
mod providers;
mod records;
mod registry;
mod results;
mod settle;

use aic_consensus::{MarketError, TxError};
use aic_primitives::{
    sha256, Address, Amount, ContentId, Hash256, JobId, MarketAction, MarketParams,
};

pub use draw::draw_indices;
pub use jobs::{budget_needed, check_eligible, max_verdicts};
pub use keys::{Record, RecordKey};
pub use records::{
    Award, Bid, Dataset, Job, JobStatus, Model, Payment, PaymentKind, Provider, Reputation,
    VerdictEntry, Verification,
};

use crate::overlay::{BlockContext, Overlay};

/// Basis points in one whole.
pub const BPS: u64 = 10_000;

/// The id of the job posted by `consumer` with the transaction of nonce `nonce`.
pub fn job_id(consumer: &Address, nonce: u64) -> JobId {
    let mut bytes = b"AIC/market/job".to_vec();
    bytes.extend_from_slice(&consumer.0);
    bytes.extend_from_slice(&nonce.to_le_bytes());
    sha256(&bytes)
}

/// `amount * bps / 10_000`, rounded down; `None` on overflow.
pub fn share_bps(amount: Amount, bps: u64) -> Option<Amount> {
    let units = u128::from(amount.to_units()) * u128::from(bps) / u128::from(BPS);
    u64::try_from(units).ok().map(Amount::from_units)
}

/// Checks a task, parameter or metric name: 1 to 32 bytes of `[a-z0-9._-]`.
pub(crate) fn check_label(what: &'static str, name: &str) -> Result<(), MarketError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(MarketError::BadLabel {
            what,
            name: name.to_owned(),
        })
    }
}

/// Checks that no name repeats in `names`.
pub(crate) fn check_unique<'n>(
    what: &'static str,
    names: impl IntoIterator<Item = &'n str>,
) -> Result<(), MarketError> {
    let mut seen = std::collections::BTreeSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(MarketError::DuplicateName {
                what,
                name: n.to_owned(),
            });
        }
    }
    Ok(())
}

fn add(a: Amount, b: Amount) -> Result<Amount, MarketError> {
    a.checked_add(b).ok_or(MarketError::Overflow)
}

impl Overlay<'_> {
    /// Applies a market action by `sender`, whose transaction had nonce `nonce` (already paid
    /// for and counted).
    pub(crate) fn apply_market(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        sender: Address,
        nonce: u64,
        action: &MarketAction,
    ) -> Result<(), TxError> {
        match action {
            MarketAction::RegisterProvider(reg) => self.register_provider(params, ctx, sender, reg),
            MarketAction::TopUpStake { amount } => self.top_up(sender, *amount),
            MarketAction::Unstake { amount } => self.unstake(params, ctx, sender, *amount),
            MarketAction::WithdrawStake => self.withdraw(ctx, sender),
            MarketAction::PublishModel(m) => self.publish_model(params, ctx, sender, m),
            MarketAction::PublishDataset(d) => self.publish_dataset(params, ctx, sender, d),
            MarketAction::PostJob(spec) => self.post_job(params, ctx, sender, nonce, spec),
            MarketAction::CancelJob { job } => self.cancel_job(ctx, sender, job),
            MarketAction::Bid { job, price } => self.bid(params, ctx, sender, job, *price),
            MarketAction::SubmitResult(res) => self.submit_result(params, ctx, sender, res),
            MarketAction::Verdict {
                job,
                pass,
                evidence,
            } => self.verdict(sender, job, *pass, *evidence),
        }
    }

    pub(crate) fn provider(&self, a: &Address) -> Option<Provider> {
        match self.record(&RecordKey::Provider(*a)) {
            Some(Record::Provider(p)) => Some(p),
            _ => None,
        }
    }

    pub(crate) fn put_provider(&mut self, a: Address, p: Provider) {
        self.set_record(RecordKey::Provider(a), Some(Record::Provider(p)));
    }

    pub(crate) fn model(&self, id: &ContentId) -> Option<Model> {
        match self.record(&RecordKey::Model(*id)) {
            Some(Record::Model(m)) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn dataset(&self, id: &ContentId) -> Option<Dataset> {
        match self.record(&RecordKey::Dataset(*id)) {
            Some(Record::Dataset(d)) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn job(&self, id: &JobId) -> Option<Job> {
        match self.record(&RecordKey::Job(*id)) {
            Some(Record::Job(j)) => Some(j),
            _ => None,
        }
    }

    pub(crate) fn put_job(&mut self, id: JobId, job: Job) {
        self.set_record(RecordKey::Job(id), Some(Record::Job(job)));
    }

    /// Every registered provider's address, ascending.
    pub(crate) fn provider_addresses(&self) -> Vec<Address> {
        let mut all: Vec<Address> = self.base.provider_addresses().collect();
        all.extend(self.touched_records().iter().filter_map(|k| match k {
            RecordKey::Provider(a) => Some(*a),
            _ => None,
        }));
        all.sort();
        all.dedup();
        all
    }

    /// Ids of jobs that may still change, ascending.
    pub(crate) fn active_job_ids(&self) -> Vec<Hash256> {
        let mut ids: Vec<Hash256> = self.base.active_job_ids().collect();
        ids.extend(self.touched_records().iter().filter_map(|k| match k {
            RecordKey::Job(id) => Some(*id),
            _ => None,
        }));
        ids.sort();
        ids.dedup();
        ids
    }
}
