//! Accounts, the state tree, and applying and undoing blocks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aic_consensus::{check_coinbase_value, check_state_root, BlockError, TxError};
use aic_primitives::{
    sha256, Address, Amount, Block, ChainParams, ContentId, Hash256, Height, JobId, Payout,
    SignedTx, Transaction,
};

use crate::account::Account;
use crate::market::{Dataset, Job, Model, Provider, Record, RecordKey};
use crate::overlay::{BlockContext, Changes, Overlay};
use crate::smt::SparseMerkleTree;
use crate::undo::BlockUndo;

/// The key of an account in the state tree: SHA-256 of its address.
pub fn account_key(address: &Address) -> Hash256 {
    sha256(&address.0)
}

/// The state (accounts and market records) and its Merkle commitment.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    accounts: HashMap<Address, Account>,
    records: BTreeMap<RecordKey, Record>,
    /// Jobs not in a final state (derived from `records`, not committed).
    active_jobs: BTreeSet<JobId>,
    tree: SparseMerkleTree,
}

/// What applying a block did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Restores the state before the block.
    pub undo: BlockUndo,
    /// New state of every touched account (empty means deleted), for storage.
    pub changed: Vec<(Address, Account)>,
    /// New state of every touched market record (`None` means deleted), for storage.
    pub changed_records: Vec<(RecordKey, Option<Record>)>,
    /// Fees paid by the block's transactions.
    pub fees: Amount,
    /// State root after the block.
    pub state_root: Hash256,
}

/// The state a block template would produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateState {
    /// Candidate transactions that apply, in order.
    pub txs: Vec<SignedTx>,
    /// Candidates left out, with the rule each breaks at this point.
    pub skipped: Vec<(SignedTx, TxError)>,
    /// Sum of the included fees.
    pub fees: Amount,
    /// The coinbase payouts: subsidy plus fees to the miner.
    pub payouts: Vec<Payout>,
    /// State root after the template's transactions and payouts.
    pub state_root: Hash256,
}

impl Ledger {
    /// An empty ledger (the state before genesis, root [`Hash256::ZERO`]).
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// A ledger holding `accounts`, rebuilding the state tree.
    pub fn from_accounts(accounts: impl IntoIterator<Item = (Address, Account)>) -> Ledger {
        Ledger::from_state(accounts, [])
    }

    /// A ledger holding `accounts` and market `records`, rebuilding the state tree.
    pub fn from_state(
        accounts: impl IntoIterator<Item = (Address, Account)>,
        records: impl IntoIterator<Item = (RecordKey, Record)>,
    ) -> Ledger {
        let mut ledger = Ledger::new();
        ledger.write(&Changes {
            accounts: accounts.into_iter().collect(),
            records: records.into_iter().map(|(k, r)| (k, Some(r))).collect(),
        });
        ledger
    }

    /// The market record under `key`.
    pub fn record(&self, key: &RecordKey) -> Option<&Record> {
        self.records.get(key)
    }

    /// Every market record, in key order (providers, models, datasets, jobs).
    pub fn records(&self) -> impl Iterator<Item = (&RecordKey, &Record)> {
        self.records.iter()
    }

    /// The provider registered by `address`.
    pub fn provider(&self, address: &Address) -> Option<&Provider> {
        match self.records.get(&RecordKey::Provider(*address)) {
            Some(Record::Provider(p)) => Some(p),
            _ => None,
        }
    }

    /// The published model `id`.
    pub fn model(&self, id: &ContentId) -> Option<&Model> {
        match self.records.get(&RecordKey::Model(*id)) {
            Some(Record::Model(m)) => Some(m),
            _ => None,
        }
    }

    /// The published dataset `id`.
    pub fn dataset(&self, id: &ContentId) -> Option<&Dataset> {
        match self.records.get(&RecordKey::Dataset(*id)) {
            Some(Record::Dataset(d)) => Some(d),
            _ => None,
        }
    }

    /// The job `id`.
    pub fn job(&self, id: &JobId) -> Option<&Job> {
        match self.records.get(&RecordKey::Job(*id)) {
            Some(Record::Job(j)) => Some(j),
            _ => None,
        }
    }

    /// Addresses of every registered provider, ascending.
    pub fn provider_addresses(&self) -> impl Iterator<Item = Address> + '_ {
        self.records.keys().filter_map(|k| match k {
            RecordKey::Provider(a) => Some(*a),
            _ => None,
        })
    }

    /// Ids of the jobs that are not in a final state, ascending.
    pub fn active_job_ids(&self) -> impl Iterator<Item = JobId> + '_ {
        self.active_jobs.iter().copied()
    }

    /// Every coin in the ledger: balances, stakes (bonded and unbonding) and job escrows.
    /// Only coinbases change it. `None` on overflow (cannot happen on a valid chain).
    pub fn total_supply(&self) -> Option<Amount> {
        let mut total = self.total_balance()?;
        for r in self.records.values() {
            match r {
                Record::Provider(p) => {
                    total = total.checked_add(p.stake)?.checked_add(p.unbonding)?;
                }
                Record::Job(j) => total = total.checked_add(j.escrow)?,
                Record::Model(_) | Record::Dataset(_) => {}
            }
        }
        Some(total)
    }

    /// The account at `address` (empty if none).
    pub fn account(&self, address: &Address) -> Account {
        self.accounts.get(address).copied().unwrap_or_default()
    }

    /// Number of non-empty accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// True when no account holds anything.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Sum of all balances, `None` on overflow (cannot happen on a valid chain).
    pub fn total_balance(&self) -> Option<Amount> {
        self.accounts
            .values()
            .try_fold(Amount::ZERO, |acc, a| acc.checked_add(a.balance))
    }

    /// The root of the state tree.
    pub fn state_root(&self) -> Hash256 {
        self.tree.root()
    }

    /// Checks `tx` against the current state as if it were the next transaction in the block
    /// `ctx` (the market's rules depend on the height).
    pub fn check_tx(
        &self,
        params: &ChainParams,
        ctx: BlockContext,
        tx: &SignedTx,
    ) -> Result<(), TxError> {
        Overlay::new(self)
            .apply_signed(&params.market, ctx, tx)
            .map(|_| ())
    }

    /// Applies a block at `height` whose structure and signatures were already checked
    /// (see `aic_consensus::check_block_structure`).
    ///
    /// Checks nonces, balances, the market's rules, the coinbase value and the committed state
    /// root; moves the market's jobs whose windows end at this height (after the block's
    /// transactions, before the coinbase). On error the ledger is unchanged; an error of the
    /// end-of-block step is reported as transaction `block.txs.len()`.
    pub fn apply_block(
        &mut self,
        params: &ChainParams,
        block: &Block,
        height: Height,
    ) -> Result<BlockOutcome, BlockError> {
        let coinbase = block
            .txs
            .first()
            .and_then(Transaction::as_coinbase)
            .ok_or(BlockError::NoCoinbase)?;
        let ctx = BlockContext {
            height,
            seed: block.header.prev_hash,
        };
        let mut overlay = Overlay::new(self);
        let mut fees = Amount::ZERO;
        for (index, tx) in block.txs.iter().enumerate().skip(1) {
            let tx = tx
                .as_signed()
                .ok_or(BlockError::MultipleCoinbases { index })?;
            let fee = overlay
                .apply_signed(&params.market, ctx, tx)
                .map_err(|error| BlockError::Tx { index, error })?;
            fees = fees.checked_add(fee).ok_or(BlockError::Tx {
                index,
                error: TxError::ValueOverflow,
            })?;
        }
        overlay
            .end_block(&params.market, ctx)
            .map_err(|error| BlockError::Tx {
                index: block.txs.len(),
                error,
            })?;
        check_coinbase_value(params, coinbase, height, fees)?;
        for p in &coinbase.payouts {
            overlay
                .credit(p.to, p.amount)
                .map_err(|error| BlockError::Tx { index: 0, error })?;
        }
        let (previous, changed) = overlay.into_changes();
        let state_root = self.write_tree(&changed);
        if let Err(e) = check_state_root(coinbase, state_root) {
            self.write_tree(&previous);
            return Err(e);
        }
        self.write_state(&changed);
        Ok(BlockOutcome {
            undo: BlockUndo {
                previous: previous.accounts,
                records: previous.records,
            },
            changed: changed.accounts,
            changed_records: changed.records,
            fees,
            state_root,
        })
    }

    /// Takes back a block applied with [`Ledger::apply_block`], given its undo data.
    pub fn undo_block(&mut self, undo: &BlockUndo) {
        self.write(&Changes {
            accounts: undo.previous.clone(),
            records: undo.records.clone(),
        });
    }

    /// Builds the state of a block template at `ctx` paying `miner`: applies the candidate
    /// transactions in order, leaving out those that break a rule at their turn, moves the
    /// market's due jobs, then pays the subsidy and the fees to `miner`. The ledger is left as
    /// it was.
    pub fn build_template(
        &mut self,
        params: &ChainParams,
        ctx: BlockContext,
        candidates: &[SignedTx],
        miner: Address,
    ) -> TemplateState {
        let height = ctx.height;
        let mut overlay = Overlay::new(self);
        let mut txs = Vec::new();
        let mut skipped = Vec::new();
        let mut fees = Amount::ZERO;
        for tx in candidates {
            let Some(total) = fees.checked_add(tx.body.fee) else {
                skipped.push((tx.clone(), TxError::ValueOverflow));
                continue;
            };
            // `apply_signed` changes nothing when it fails.
            match overlay.apply_signed(&params.market, ctx, tx) {
                Ok(_) => {
                    fees = total;
                    txs.push(tx.clone());
                }
                Err(e) => skipped.push((tx.clone(), e)),
            }
        }
        // The end-of-block step cannot fail on a valid state; if it did, the template would
        // carry a state root no node accepts, so it is better visible than hidden.
        let end_block = overlay.end_block(&params.market, ctx);
        let value = params
            .subsidy(height)
            .checked_add(fees)
            .unwrap_or(params.subsidy(height));
        let payouts = vec![Payout {
            to: miner,
            amount: value,
        }];
        // Crediting the miner can only overflow on a broken chain; pay nothing then.
        let payouts = if overlay.credit(miner, value).is_ok() {
            payouts
        } else {
            Vec::new()
        };
        let (previous, changed) = overlay.into_changes();
        let state_root = self.write_tree(&changed);
        self.write_tree(&previous);
        debug_assert!(end_block.is_ok(), "end of block failed: {end_block:?}");
        TemplateState {
            txs,
            skipped,
            fees,
            payouts,
            state_root,
        }
    }

    fn write(&mut self, changes: &Changes) {
        self.write_tree(changes);
        self.write_state(changes);
    }

    fn write_tree(&mut self, changes: &Changes) -> Hash256 {
        let accounts = changes.accounts.iter().map(|(a, acct)| {
            let value = (!acct.is_empty()).then(|| acct.commitment());
            (account_key(a), value)
        });
        let records = changes
            .records
            .iter()
            .map(|(k, r)| (k.tree_key(), r.as_ref().map(Record::commitment)));
        let updates: Vec<(Hash256, Option<Hash256>)> = accounts.chain(records).collect();
        self.tree.update(&updates);
        self.tree.root()
    }

    fn write_state(&mut self, changes: &Changes) {
        for (a, acct) in &changes.accounts {
            if acct.is_empty() {
                self.accounts.remove(a);
            } else {
                self.accounts.insert(*a, *acct);
            }
        }
        for (k, r) in &changes.records {
            if let RecordKey::Job(id) = k {
                match r {
                    Some(Record::Job(j)) if !j.status.is_final() => self.active_jobs.insert(*id),
                    _ => self.active_jobs.remove(id),
                };
            }
            match r {
                Some(r) => self.records.insert(*k, r.clone()),
                None => self.records.remove(k),
            };
        }
    }
}
