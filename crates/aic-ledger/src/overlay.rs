//! Pending changes on top of the ledger, committed all at once or dropped, with a journal so
//! that one transaction's changes can be taken back when one of its rules fails.

use std::collections::HashMap;

use aic_consensus::{MarketError, TxError};
use aic_primitives::{Action, Address, Amount, Hash256, Height, MarketParams, SignedTx};

use crate::account::Account;
use crate::ledger::Ledger;
use crate::market::{Record, RecordKey};

/// What a block is applied at: its height and the hash of its parent, the seed of every draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// The block's height.
    pub height: Height,
    /// The parent block's hash.
    pub seed: Hash256,
}

/// Accounts and their states, in first-touch order.
pub(crate) type AccountChanges = Vec<(Address, Account)>;
/// Records and their states (`None`: absent), in first-touch order.
pub(crate) type RecordChanges = Vec<(RecordKey, Option<Record>)>;

// Short-lived journal entries; most are accounts, and boxing records would not pay.
#[allow(clippy::large_enum_variant)]
enum Entry {
    Account(Address, Option<Account>),
    Record(RecordKey, Option<Option<Record>>),
}

pub(crate) struct Overlay<'a> {
    pub(crate) base: &'a Ledger,
    accounts: HashMap<Address, Account>,
    account_order: Vec<Address>,
    records: HashMap<RecordKey, Option<Record>>,
    record_order: Vec<RecordKey>,
    journal: Option<Vec<Entry>>,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(base: &'a Ledger) -> Self {
        Overlay {
            base,
            accounts: HashMap::new(),
            account_order: Vec::new(),
            records: HashMap::new(),
            record_order: Vec::new(),
            journal: None,
        }
    }

    pub(crate) fn get(&self, a: &Address) -> Account {
        self.accounts
            .get(a)
            .copied()
            .unwrap_or_else(|| self.base.account(a))
    }

    pub(crate) fn set(&mut self, a: Address, acct: Account) {
        let previous = self.accounts.insert(a, acct);
        if previous.is_none() {
            self.account_order.push(a);
        }
        if let Some(j) = &mut self.journal {
            j.push(Entry::Account(a, previous));
        }
    }

    pub(crate) fn record(&self, key: &RecordKey) -> Option<Record> {
        match self.records.get(key) {
            Some(r) => r.clone(),
            None => self.base.record(key).cloned(),
        }
    }

    pub(crate) fn set_record(&mut self, key: RecordKey, record: Option<Record>) {
        let previous = self.records.insert(key, record);
        if previous.is_none() {
            self.record_order.push(key);
        }
        if let Some(j) = &mut self.journal {
            j.push(Entry::Record(key, previous));
        }
    }

    /// Keys of records this overlay changed, in first-touch order.
    pub(crate) fn touched_records(&self) -> &[RecordKey] {
        &self.record_order
    }

    pub(crate) fn credit(&mut self, to: Address, amount: Amount) -> Result<(), TxError> {
        let mut acct = self.get(&to);
        acct.balance = acct
            .balance
            .checked_add(amount)
            .ok_or(TxError::BalanceOverflow)?;
        self.set(to, acct);
        Ok(())
    }

    /// Takes `amount` from `from`'s balance.
    pub(crate) fn debit(&mut self, from: Address, amount: Amount) -> Result<(), TxError> {
        let mut acct = self.get(&from);
        acct.balance = acct
            .balance
            .checked_sub(amount)
            .ok_or(TxError::InsufficientBalance {
                needed: amount,
                available: acct.balance,
            })?;
        self.set(from, acct);
        Ok(())
    }

    /// Applies a signed transaction's stateful rules and effects; returns its fee. Changes
    /// nothing when a rule fails.
    pub(crate) fn apply_signed(
        &mut self,
        market: &MarketParams,
        ctx: BlockContext,
        tx: &SignedTx,
    ) -> Result<Amount, TxError> {
        self.journal = Some(Vec::new());
        let result = self.apply_signed_inner(market, ctx, tx);
        let journal = self.journal.take().unwrap_or_default();
        if result.is_err() {
            self.roll_back(journal);
        }
        result
    }

    fn apply_signed_inner(
        &mut self,
        market: &MarketParams,
        ctx: BlockContext,
        tx: &SignedTx,
    ) -> Result<Amount, TxError> {
        let body = &tx.body;
        let from = body.sender_address();
        let mut sender = self.get(&from);
        if body.nonce != sender.nonce {
            return Err(TxError::BadNonce {
                expected: sender.nonce,
                got: body.nonce,
            });
        }
        let needed = body
            .action
            .spend()
            .checked_add(body.fee)
            .ok_or(TxError::ValueOverflow)?;
        if sender.balance < needed {
            return Err(TxError::InsufficientBalance {
                needed,
                available: sender.balance,
            });
        }
        sender.nonce += 1;
        sender.balance = sender
            .balance
            .checked_sub(body.fee)
            .ok_or(TxError::ValueOverflow)?;
        self.set(from, sender);
        match &body.action {
            Action::Transfer { to, amount } => {
                self.debit(from, *amount)?;
                self.credit(*to, *amount)?;
            }
            Action::Market(action) => {
                self.apply_market(market, ctx, from, body.nonce, action)?;
            }
        }
        Ok(body.fee)
    }

    fn roll_back(&mut self, journal: Vec<Entry>) {
        for entry in journal.into_iter().rev() {
            match entry {
                Entry::Account(a, None) => {
                    self.accounts.remove(&a);
                    if self.account_order.last() == Some(&a) {
                        self.account_order.pop();
                    }
                }
                Entry::Account(a, Some(prev)) => {
                    self.accounts.insert(a, prev);
                }
                Entry::Record(k, None) => {
                    self.records.remove(&k);
                    if self.record_order.last() == Some(&k) {
                        self.record_order.pop();
                    }
                }
                Entry::Record(k, Some(prev)) => {
                    self.records.insert(k, prev);
                }
            }
        }
    }

    /// The touched accounts' and records' previous and new states, in first-touch order.
    pub(crate) fn into_changes(self) -> (Changes, Changes) {
        let base = self.base;
        let previous = Changes {
            accounts: self
                .account_order
                .iter()
                .map(|a| (*a, base.account(a)))
                .collect(),
            records: self
                .record_order
                .iter()
                .map(|k| (*k, base.record(k).cloned()))
                .collect(),
        };
        let mut records = self.records;
        let changed = Changes {
            accounts: self
                .account_order
                .iter()
                .map(|a| (*a, self.accounts.get(a).copied().unwrap_or_default()))
                .collect(),
            records: self
                .record_order
                .iter()
                .map(|k| (*k, records.remove(k).flatten()))
                .collect(),
        };
        (previous, changed)
    }
}

/// A set of account and record states (before or after a block).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// Accounts (empty means absent).
    pub(crate) accounts: AccountChanges,
    /// Market records (`None` means absent).
    pub(crate) records: RecordChanges,
}

/// Maps a market rule's failure into a transaction error.
pub(crate) fn market(e: MarketError) -> TxError {
    TxError::Market(e)
}
