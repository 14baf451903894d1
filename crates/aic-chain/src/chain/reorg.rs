//! Switching the main chain: undoing blocks to the fork point, connecting the new branch,
//! rolling back when a block of it breaks a rule, and bringing the mempool along.

use std::collections::BTreeSet;

use aic_consensus::TxError;
use aic_ledger::market::Record;
use aic_ledger::{BlockOutcome, BlockUndo};
use aic_primitives::{
    Action, Address, Block, Decode, Encode, Hash256, Height, SignedTx, Transaction,
};
use aic_storage::{BlockStatus, WriteBatch};

use super::Chain;
use crate::error::ChainError;
use crate::mempool::{AccountView, Mempool};

/// A main-chain block undone during a reorganisation.
struct Disconnected {
    hash: Hash256,
    height: Height,
    block: Block,
    undo: BlockUndo,
}

/// A block connected during a reorganisation.
struct Connected {
    hash: Hash256,
    height: Height,
    block: Block,
    outcome: BlockOutcome,
}

impl Chain {
    /// Undoes the main chain down to `fork_height` and connects `branch` (ascending; the last
    /// hash is `new_block`'s). On a stateful rule failure the old chain is restored, the
    /// failing block and its descendants are marked invalid in `batch`, and the error is
    /// returned.
    pub(super) fn reorganize(
        &mut self,
        fork_height: Height,
        branch: &[Hash256],
        new_block: Block,
        batch: &mut WriteBatch,
    ) -> Result<(), ChainError> {
        let mut disconnected = Vec::new();
        while self.height() > fork_height {
            let hash = *self.main.last().unwrap_or(&Hash256::ZERO);
            let height = self.height();
            let block = self.stored_block(&hash)?;
            let bytes = self
                .store
                .undo(&hash)?
                .ok_or_else(|| ChainError::Inconsistent(format!("undo of {hash} missing")))?;
            let undo = BlockUndo::from_bytes(&bytes)
                .map_err(|e| ChainError::Inconsistent(format!("undo of {hash}: {e}")))?;
            self.ledger.undo_block(&undo);
            self.main.pop();
            disconnected.push(Disconnected {
                hash,
                height,
                block,
                undo,
            });
        }
        let mut blocks = Vec::with_capacity(branch.len());
        if let Some((_, side)) = branch.split_last() {
            for hash in side {
                blocks.push((*hash, self.stored_block(hash)?));
            }
        }
        blocks.extend(branch.last().map(|h| (*h, new_block)));
        let mut connected: Vec<Connected> = Vec::new();
        for (i, (hash, block)) in blocks.into_iter().enumerate() {
            let height = Height(fork_height.0 + 1 + i as u64);
            match self.ledger.apply_block(&self.params, &block, height) {
                Ok(outcome) => {
                    self.main.push(hash);
                    connected.push(Connected {
                        hash,
                        height,
                        block,
                        outcome,
                    });
                }
                Err(e) => {
                    self.roll_back(connected, disconnected)?;
                    self.mark_invalid(&branch[i..], batch);
                    return Err(e.into());
                }
            }
        }
        self.finish_reorg(disconnected, connected, batch);
        Ok(())
    }

    fn stored_block(&self, hash: &Hash256) -> Result<Block, ChainError> {
        self.block(hash)?
            .ok_or_else(|| ChainError::Inconsistent(format!("block {hash} missing")))
    }

    fn roll_back(
        &mut self,
        connected: Vec<Connected>,
        disconnected: Vec<Disconnected>,
    ) -> Result<(), ChainError> {
        for c in connected.iter().rev() {
            self.ledger.undo_block(&c.outcome.undo);
            self.main.pop();
        }
        for d in disconnected.iter().rev() {
            self.ledger
                .apply_block(&self.params, &d.block, d.height)
                .map_err(|e| ChainError::Inconsistent(format!("reconnecting {}: {e}", d.hash)))?;
            self.main.push(d.hash);
        }
        Ok(())
    }

    fn mark_invalid(&mut self, hashes: &[Hash256], batch: &mut WriteBatch) {
        for hash in hashes {
            if let Some(e) = self.index.get_mut(hash) {
                e.status = BlockStatus::Invalid;
                let entry = *e;
                match batch.new_blocks.iter_mut().find(|(h, _, _)| h == hash) {
                    Some(new) => new.2 = entry,
                    None => batch.index_updates.push((*hash, entry)),
                }
            }
        }
    }

    fn finish_reorg(
        &mut self,
        disconnected: Vec<Disconnected>,
        connected: Vec<Connected>,
        batch: &mut WriteBatch,
    ) {
        let mut touched = BTreeSet::new();
        let mut touched_records = BTreeSet::new();
        for d in &disconnected {
            let ids = d.block.txs.iter().map(Transaction::txid).collect();
            batch.disconnected.push((d.hash, d.height, ids));
        }
        for c in &connected {
            touched.extend(c.outcome.changed.iter().map(|(a, _)| *a));
            touched_records.extend(c.outcome.changed_records.iter().map(|(k, _)| *k));
            let ids: Vec<Hash256> = c.block.txs.iter().map(Transaction::txid).collect();
            // Mined transactions need their signature-cache entries no more.
            for id in &ids {
                self.verified.remove(id);
            }
            batch
                .connected
                .push((c.hash, c.height, ids, c.outcome.undo.to_bytes()));
        }
        for d in &disconnected {
            touched.extend(d.undo.previous.iter().map(|(a, _)| *a));
            touched_records.extend(d.undo.records.iter().map(|(k, _)| *k));
        }
        batch.records = touched_records
            .into_iter()
            .map(|k| {
                let bytes = self.ledger.record(&k).map(Record::to_bytes);
                (k.to_bytes(), bytes.unwrap_or_default())
            })
            .collect();
        batch.accounts = touched
            .into_iter()
            .map(|a| {
                let acct = self.ledger.account(&a);
                let bytes = if acct.is_empty() {
                    Vec::new()
                } else {
                    acct.to_bytes()
                };
                (a, bytes)
            })
            .collect();
        batch.tip = self.main.last().copied();
        self.update_mempool(&disconnected);
    }

    /// Brings the mempool in line with a new tip: drops what the chain now holds or what no
    /// longer applies, and takes back transactions of undone blocks.
    fn update_mempool(&mut self, disconnected: &[Disconnected]) {
        let ledger = &self.ledger;
        let view = |a: &Address| {
            let acct = ledger.account(a);
            AccountView {
                nonce: acct.nonce,
                balance: acct.balance,
            }
        };
        if disconnected.is_empty() {
            self.mempool.revalidate(view);
            self.drop_stale_market_txs();
            return;
        }
        let mut txs: Vec<SignedTx> = disconnected
            .iter()
            .flat_map(|d| {
                d.block
                    .txs
                    .iter()
                    .filter_map(Transaction::as_signed)
                    .cloned()
            })
            .collect();
        txs.extend(self.mempool.iter().cloned());
        txs.sort_by_key(|t| (t.body.sender_address(), t.body.nonce));
        let config = self.mempool.config().clone();
        self.mempool = Mempool::new(config);
        for tx in txs {
            // Transactions that no longer apply are dropped, as any node would.
            let sender = view(&tx.body.sender_address());
            let _ = self.mempool.insert(tx, sender);
        }
        self.drop_stale_market_txs();
    }

    /// Drops each sender's next market transaction that breaks a market rule on the new tip
    /// (a bid on a job that was awarded meanwhile, a verdict after the window), with the
    /// sender's later transactions: left in the pool, it would block them for good.
    fn drop_stale_market_txs(&mut self) {
        let ctx = self.next_block_context();
        let doomed: Vec<(Address, u64)> = self
            .mempool
            .iter()
            .filter(|tx| matches!(tx.body.action, Action::Market(_)))
            .filter(|tx| self.ledger.account(&tx.body.sender_address()).nonce == tx.body.nonce)
            .filter(|tx| {
                matches!(
                    self.ledger.check_tx(&self.params, ctx, tx),
                    Err(TxError::Market(_))
                )
            })
            .map(|tx| (tx.body.sender_address(), tx.body.nonce))
            .collect();
        for (sender, nonce) in doomed {
            self.mempool.drop_from(&sender, nonce);
        }
    }
}
