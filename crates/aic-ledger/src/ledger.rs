//! Accounts, the state tree, and applying and undoing blocks.

use std::collections::HashMap;

use aic_consensus::{check_coinbase_value, check_state_root, BlockError, TxError};
use aic_primitives::{
    sha256, Action, Address, Amount, Block, ChainParams, Hash256, Height, Payout, SignedTx,
    Transaction,
};

use crate::account::Account;
use crate::smt::SparseMerkleTree;
use crate::undo::BlockUndo;

/// The key of an account in the state tree: SHA-256 of its address.
pub fn account_key(address: &Address) -> Hash256 {
    sha256(&address.0)
}

/// The account state and its Merkle commitment.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    accounts: HashMap<Address, Account>,
    tree: SparseMerkleTree,
}

/// What applying a block did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Restores the state before the block.
    pub undo: BlockUndo,
    /// New state of every touched account (empty means deleted), for storage.
    pub changed: Vec<(Address, Account)>,
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

/// Accounts and their states, in first-touch order.
type AccountChanges = Vec<(Address, Account)>;

/// Pending changes on top of the ledger, committed all at once or dropped.
struct Overlay<'a> {
    base: &'a HashMap<Address, Account>,
    changes: HashMap<Address, Account>,
    order: Vec<Address>,
}

impl<'a> Overlay<'a> {
    fn new(base: &'a HashMap<Address, Account>) -> Self {
        Overlay {
            base,
            changes: HashMap::new(),
            order: Vec::new(),
        }
    }

    fn get(&self, a: &Address) -> Account {
        self.changes
            .get(a)
            .or_else(|| self.base.get(a))
            .copied()
            .unwrap_or_default()
    }

    fn set(&mut self, a: Address, acct: Account) {
        if self.changes.insert(a, acct).is_none() {
            self.order.push(a);
        }
    }

    /// Applies a signed transaction's stateful rules and effects; returns its fee. Changes
    /// nothing when a rule fails.
    fn apply_signed(&mut self, tx: &SignedTx) -> Result<Amount, TxError> {
        let body = &tx.body;
        let from = body.sender_address();
        let mut sender = self.get(&from);
        if body.nonce != sender.nonce {
            return Err(TxError::BadNonce {
                expected: sender.nonce,
                got: body.nonce,
            });
        }
        let Action::Transfer { to, amount } = body.action;
        let needed = amount.checked_add(body.fee).ok_or(TxError::ValueOverflow)?;
        sender.balance =
            sender
                .balance
                .checked_sub(needed)
                .ok_or(TxError::InsufficientBalance {
                    needed,
                    available: sender.balance,
                })?;
        sender.nonce += 1;
        let mut recipient = if to == from { sender } else { self.get(&to) };
        recipient.balance = recipient
            .balance
            .checked_add(amount)
            .ok_or(TxError::BalanceOverflow)?;
        if to != from {
            self.set(from, sender);
        }
        self.set(to, recipient);
        Ok(body.fee)
    }

    fn credit(&mut self, to: Address, amount: Amount) -> Result<(), TxError> {
        let mut acct = self.get(&to);
        acct.balance = acct
            .balance
            .checked_add(amount)
            .ok_or(TxError::BalanceOverflow)?;
        self.set(to, acct);
        Ok(())
    }

    /// The touched accounts' previous and new states, in first-touch order.
    fn into_changes(self) -> (AccountChanges, AccountChanges) {
        let previous = self
            .order
            .iter()
            .map(|a| (*a, self.base.get(a).copied().unwrap_or_default()))
            .collect();
        let changed = self
            .order
            .iter()
            .map(|a| (*a, self.changes.get(a).copied().unwrap_or_default()))
            .collect();
        (previous, changed)
    }
}

impl Ledger {
    /// An empty ledger (the state before genesis, root [`Hash256::ZERO`]).
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// A ledger holding `accounts`, rebuilding the state tree.
    pub fn from_accounts(accounts: impl IntoIterator<Item = (Address, Account)>) -> Ledger {
        let mut ledger = Ledger::new();
        let changes: Vec<(Address, Account)> = accounts.into_iter().collect();
        ledger.write(&changes);
        ledger
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

    /// Checks `tx` against the current state as if it were the next transaction in a block.
    pub fn check_tx(&self, tx: &SignedTx) -> Result<(), TxError> {
        Overlay::new(&self.accounts).apply_signed(tx).map(|_| ())
    }

    /// Applies a block at `height` whose structure and signatures were already checked
    /// (see `aic_consensus::check_block_structure`).
    ///
    /// Checks nonces, balances, the coinbase value and the committed state root. On error the
    /// ledger is unchanged.
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
        let mut overlay = Overlay::new(&self.accounts);
        let mut fees = Amount::ZERO;
        for (index, tx) in block.txs.iter().enumerate().skip(1) {
            let tx = tx
                .as_signed()
                .ok_or(BlockError::MultipleCoinbases { index })?;
            let fee = overlay
                .apply_signed(tx)
                .map_err(|error| BlockError::Tx { index, error })?;
            fees = fees.checked_add(fee).ok_or(BlockError::Tx {
                index,
                error: TxError::ValueOverflow,
            })?;
        }
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
        self.write_accounts(&changed);
        Ok(BlockOutcome {
            undo: BlockUndo { previous },
            changed,
            fees,
            state_root,
        })
    }

    /// Takes back a block applied with [`Ledger::apply_block`], given its undo data.
    pub fn undo_block(&mut self, undo: &BlockUndo) {
        self.write(&undo.previous);
    }

    /// Builds the state of a block template at `height` paying `miner`: applies the candidate
    /// transactions in order, leaving out those that break a rule at their turn, then pays the
    /// subsidy and the fees to `miner`. The ledger is left as it was.
    pub fn build_template(
        &mut self,
        params: &ChainParams,
        height: Height,
        candidates: &[SignedTx],
        miner: Address,
    ) -> TemplateState {
        let mut overlay = Overlay::new(&self.accounts);
        let mut txs = Vec::new();
        let mut skipped = Vec::new();
        let mut fees = Amount::ZERO;
        for tx in candidates {
            let Some(total) = fees.checked_add(tx.body.fee) else {
                skipped.push((*tx, TxError::ValueOverflow));
                continue;
            };
            // `apply_signed` changes nothing when it fails.
            match overlay.apply_signed(tx) {
                Ok(_) => {
                    fees = total;
                    txs.push(*tx);
                }
                Err(e) => skipped.push((*tx, e)),
            }
        }
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
        TemplateState {
            txs,
            skipped,
            fees,
            payouts,
            state_root,
        }
    }

    fn write(&mut self, changes: &[(Address, Account)]) {
        self.write_tree(changes);
        self.write_accounts(changes);
    }

    fn write_tree(&mut self, changes: &[(Address, Account)]) -> Hash256 {
        let updates: Vec<(Hash256, Option<Hash256>)> = changes
            .iter()
            .map(|(a, acct)| {
                let value = (!acct.is_empty()).then(|| acct.commitment());
                (account_key(a), value)
            })
            .collect();
        self.tree.update(&updates);
        self.tree.root()
    }

    fn write_accounts(&mut self, changes: &[(Address, Account)]) {
        for (a, acct) in changes {
            if acct.is_empty() {
                self.accounts.remove(a);
            } else {
                self.accounts.insert(*a, *acct);
            }
        }
    }
}
