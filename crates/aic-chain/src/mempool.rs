//! The transaction mempool: signed transactions waiting for a block, as a pure data structure.
//!
//! The pool enforces *policy* given each sender's account state, which the caller passes in
//! (an [`AccountView`]); it does not verify signatures or chain ids, which the caller checks
//! before [`Mempool::insert`]. It has no IO, no clock and no locking.
//!
//! # Policy
//! - A sender's pending transactions form one nonce chain: a new transaction either extends it
//!   (its nonce is the account nonce when nothing is pending, else the last pending nonce + 1)
//!   or replaces the pending transaction with the same nonce, paying at least
//!   [`MempoolConfig::replacement_bump_percent`] more fee (and strictly more).
//! - The sender's balance must cover amount + fee of all its pending transactions.
//! - Fee rate is fee base units per encoded byte; rates are compared exactly as fractions.
//! - When the pool is full, a new transaction evicts the lowest-fee-rate *last* transaction of
//!   other senders (evicting an earlier one would strand its successors), but only ones whose
//!   fee rate is strictly below its own; never its own sender's.
//!
//! # Invariants
//! - `len()` and `bytes()` equal the count and the encoded size of the transactions held, and
//!   never exceed [`MempoolConfig::max_count`] and [`MempoolConfig::max_bytes`].
//! - Every sender's pending nonces are contiguous, and at most
//!   [`MempoolConfig::max_per_sender`] long.
//! - After [`Mempool::revalidate`] with the tip's state, every sender's chain starts at its
//!   account nonce and is affordable. Call it on every tip change, before further inserts:
//!   until then, transactions the new tip already spent are still held (though never selected).
//! - Insert and eviction cost O(log n) each, plus O(`max_per_sender`) for the balance check.

mod error;
mod fee_rate;
#[cfg(test)]
mod tests;

pub use error::MempoolError;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use aic_primitives::{sha256d, Address, Amount, Encode, Hash256, SignedTx};

use fee_rate::FeeRate;

/// Limits and prices of the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Most transactions held.
    pub max_count: usize,
    /// Most encoded bytes held.
    pub max_bytes: usize,
    /// Most pending transactions per sender.
    pub max_per_sender: usize,
    /// Least fee rate accepted, in base units per encoded byte.
    pub min_fee_rate: u64,
    /// How much more fee, in percent, a replacement must pay than the transaction it replaces.
    pub replacement_bump_percent: u64,
}

impl Default for MempoolConfig {
    /// 50 000 transactions, 64 MiB, 64 per sender, 1 unit/byte, a 10 % replacement bump.
    fn default() -> Self {
        MempoolConfig {
            max_count: 50_000,
            max_bytes: 64 << 20,
            max_per_sender: 64,
            min_fee_rate: 1,
            replacement_bump_percent: 10,
        }
    }
}

/// A sender's account state at the chain tip, as far as the pool needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountView {
    /// The account's next nonce.
    pub nonce: u64,
    /// The account's balance.
    pub balance: Amount,
}

/// What an accepted [`Mempool::insert`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insertion {
    /// Id of the inserted transaction.
    pub txid: Hash256,
    /// Id of the pending transaction it replaced (same sender and nonce), if any.
    pub replaced: Option<Hash256>,
    /// Ids of the transactions evicted to make room, in eviction order.
    pub evicted: Vec<Hash256>,
}

/// A pending transaction and what the pool derives from it.
#[derive(Clone, Debug)]
struct Entry {
    tx: SignedTx,
    txid: Hash256,
    /// Encoded size in bytes.
    size: usize,
    /// Amount plus fee: what the transaction takes from the sender's balance.
    spend: Amount,
}

impl Entry {
    fn rate(&self) -> FeeRate {
        FeeRate::new(self.tx.body.fee.to_units(), self.size)
    }

    /// The key of this entry in the eviction set.
    fn tail_key(&self) -> (FeeRate, Hash256) {
        (self.rate(), self.txid)
    }
}

/// The transaction pool. See the [module documentation](self) for its policy.
#[derive(Clone, Debug)]
pub struct Mempool {
    config: MempoolConfig,
    /// Each sender's pending transactions by nonce (never an empty map).
    senders: BTreeMap<Address, BTreeMap<u64, Entry>>,
    /// Where each pending transaction is.
    by_txid: HashMap<Hash256, (Address, u64)>,
    /// Eviction candidates: the last pending transaction of every sender, by fee rate.
    tails: BTreeSet<(FeeRate, Hash256)>,
    /// Sum of the encoded sizes.
    bytes: usize,
}

impl Mempool {
    /// An empty pool with `config`.
    pub fn new(config: MempoolConfig) -> Self {
        Mempool {
            config,
            senders: BTreeMap::new(),
            by_txid: HashMap::new(),
            tails: BTreeSet::new(),
            bytes: 0,
        }
    }

    /// The pool's configuration.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// Adds `tx`, whose sender's state at the tip is `account`, or says why not.
    ///
    /// On success, reports the transaction it replaced and those it evicted; on error the
    /// pool is unchanged. The signature and chain id must have been checked by the caller.
    pub fn insert(
        &mut self,
        tx: SignedTx,
        account: AccountView,
    ) -> Result<Insertion, MempoolError> {
        let encoded = tx.to_bytes();
        // Same as `Transaction::txid`, without encoding twice.
        let txid = sha256d(&encoded);
        let size = encoded.len();
        if self.by_txid.contains_key(&txid) {
            return Err(MempoolError::AlreadyKnown(txid));
        }
        let fee = tx.body.fee;
        let rate = FeeRate::new(fee.to_units(), size);
        if !rate.at_least(self.config.min_fee_rate) {
            return Err(MempoolError::FeeRateTooLow {
                min: self.config.min_fee_rate,
                got: rate.floor(),
            });
        }
        if size > self.config.max_bytes {
            return Err(MempoolError::TooLarge {
                size,
                max: self.config.max_bytes,
            });
        }
        let spend = spend_of(&tx).ok_or(MempoolError::SpendOverflow)?;
        let sender = tx.body.sender_address();
        let nonce = tx.body.nonce;
        if nonce < account.nonce {
            return Err(MempoolError::NonceTooLow {
                expected_at_least: account.nonce,
                got: nonce,
            });
        }

        let queue = self.senders.get(&sender);
        let old = queue.and_then(|q| q.get(&nonce));
        if let Some(old) = old {
            let old_fee = old.tx.body.fee.to_units();
            let bumped = u128::from(old_fee)
                * (100 + u128::from(self.config.replacement_bump_percent))
                / 100;
            let min_fee = bumped.max(u128::from(old_fee) + 1);
            if u128::from(fee.to_units()) < min_fee {
                return Err(MempoolError::ReplacementUnderpriced {
                    old_fee: old.tx.body.fee,
                    min_fee: Amount::from_units(u64::try_from(min_fee).unwrap_or(u64::MAX)),
                    got: fee,
                });
            }
        } else {
            let (expected, pending) = match queue.and_then(|q| q.last_key_value()) {
                Some((&last, _)) => (last.saturating_add(1), queue.map_or(0, BTreeMap::len)),
                None => (account.nonce, 0),
            };
            if nonce != expected {
                return Err(MempoolError::NonceGap {
                    expected,
                    got: nonce,
                });
            }
            if pending >= self.config.max_per_sender {
                return Err(MempoolError::SenderLimit {
                    sender,
                    max: self.config.max_per_sender,
                });
            }
        }

        // Affordability: every pending spend from the account nonce on, with this one in
        // place of the one it replaces. Transactions below the account nonce are stale.
        let mut needed = spend;
        for (&n, e) in queue.into_iter().flat_map(|q| q.range(account.nonce..)) {
            if n != nonce {
                needed = needed
                    .checked_add(e.spend)
                    .ok_or(MempoolError::SpendOverflow)?;
            }
        }
        if needed > account.balance {
            return Err(MempoolError::InsufficientBalance {
                needed,
                available: account.balance,
            });
        }

        let (old_id, old_size) = old.map_or((None, 0), |o| (Some(o.txid), o.size));
        let add_count = usize::from(old_id.is_none());
        let evicted = self.make_room(sender, rate, add_count, size.saturating_sub(old_size))?;
        if old_id.is_some() {
            self.take(&sender, nonce);
        }
        self.put(
            sender,
            Entry {
                tx,
                txid,
                size,
                spend,
            },
        );
        Ok(Insertion {
            txid,
            replaced: old_id,
            evicted,
        })
    }

    /// Evicts other senders' last transactions, lowest fee rate first and only below `rate`,
    /// until `add_count` more transactions and `add_bytes` more bytes fit. On failure nothing
    /// is evicted and the error names the fee rate that would have made room.
    fn make_room(
        &mut self,
        sender: Address,
        rate: FeeRate,
        add_count: usize,
        add_bytes: usize,
    ) -> Result<Vec<Hash256>, MempoolError> {
        let mut evicted: Vec<(Address, Entry)> = Vec::new();
        // The highest rate evicted so far, and whether the new transaction fails to beat it.
        let mut highest: Option<FeeRate> = None;
        let mut outbid = false;
        while self.by_txid.len() + add_count > self.config.max_count
            || self.bytes + add_bytes > self.config.max_bytes
        {
            let victim = self
                .tails
                .iter()
                .filter_map(|(_, id)| self.by_txid.get(id))
                .find(|(s, _)| *s != sender)
                .copied();
            let Some((victim_sender, victim_nonce)) = victim else {
                // Only the sender's own transactions could make room: no rate is enough.
                self.restore(evicted);
                return Err(MempoolError::PoolFull {
                    min_fee_rate_to_enter: u64::MAX,
                });
            };
            let Some(entry) = self.take(&victim_sender, victim_nonce) else {
                break; // unreachable: the index and the queues agree
            };
            let victim_rate = entry.rate();
            outbid |= victim_rate >= rate;
            highest = highest.max(Some(victim_rate));
            evicted.push((victim_sender, entry));
        }
        if outbid {
            self.restore(evicted);
            let needed = highest.map_or(u64::MAX, FeeRate::next_whole);
            return Err(MempoolError::PoolFull {
                min_fee_rate_to_enter: needed.max(self.config.min_fee_rate),
            });
        }
        Ok(evicted.into_iter().map(|(_, e)| e.txid).collect())
    }

    /// Puts evicted transactions back, last evicted first, which restores the pool exactly.
    fn restore(&mut self, evicted: Vec<(Address, Entry)>) {
        for (sender, entry) in evicted.into_iter().rev() {
            self.put(sender, entry);
        }
    }

    /// Adds `entry` to its sender's queue and to every index; its nonce must be free.
    fn put(&mut self, sender: Address, entry: Entry) {
        let nonce = entry.tx.body.nonce;
        let queue = self.senders.entry(sender).or_default();
        match queue.last_key_value() {
            Some((&last, prev)) if last < nonce => {
                self.tails.remove(&prev.tail_key());
                self.tails.insert(entry.tail_key());
            }
            Some(_) => {}
            None => {
                self.tails.insert(entry.tail_key());
            }
        }
        self.by_txid.insert(entry.txid, (sender, nonce));
        self.bytes += entry.size;
        queue.insert(nonce, entry);
    }

    /// Removes the sender's transaction with `nonce` from its queue and every index.
    fn take(&mut self, sender: &Address, nonce: u64) -> Option<Entry> {
        let queue = self.senders.get_mut(sender)?;
        let was_last = queue.last_key_value().is_some_and(|(&n, _)| n == nonce);
        let entry = queue.remove(&nonce)?;
        if was_last {
            self.tails.remove(&entry.tail_key());
            if let Some((_, prev)) = queue.last_key_value() {
                self.tails.insert(prev.tail_key());
            }
        }
        if queue.is_empty() {
            self.senders.remove(sender);
        }
        self.by_txid.remove(&entry.txid);
        self.bytes -= entry.size;
        Some(entry)
    }

    /// The pending transaction with id `txid`.
    pub fn get(&self, txid: &Hash256) -> Option<&SignedTx> {
        let (sender, nonce) = self.by_txid.get(txid)?;
        self.senders.get(sender)?.get(nonce).map(|e| &e.tx)
    }

    /// Whether the transaction with id `txid` is pending.
    pub fn contains(&self, txid: &Hash256) -> bool {
        self.by_txid.contains_key(txid)
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.by_txid.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.by_txid.is_empty()
    }

    /// Sum of the encoded sizes of the pending transactions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The nonce after the sender's last pending transaction; `None` when none is pending.
    pub fn pending_nonce(&self, sender: &Address) -> Option<u64> {
        let (&last, _) = self.senders.get(sender)?.last_key_value()?;
        Some(last.saturating_add(1))
    }

    /// Drops `sender`'s transaction of nonce `nonce` and every later one of the sender (they
    /// could not apply without it). Returns the ids of the dropped transactions.
    pub fn drop_from(&mut self, sender: &Address, nonce: u64) -> Vec<Hash256> {
        let nonces: Vec<u64> = self
            .senders
            .get(sender)
            .map(|q| q.range(nonce..).map(|(n, _)| *n).collect())
            .unwrap_or_default();
        nonces
            .into_iter()
            .rev()
            .filter_map(|n| self.take(sender, n))
            .map(|e| e.txid)
            .collect()
    }

    /// Re-checks the pool against a new chain tip (a block connected, or a reorg), given each
    /// sender's state there: drops every transaction whose nonce is below its sender's account
    /// nonce, then every transaction that no longer continues an unbroken, affordable chain
    /// starting at the account nonce. Returns the ids of the dropped transactions.
    pub fn revalidate(&mut self, account: impl Fn(&Address) -> AccountView) -> Vec<Hash256> {
        let mut doomed: Vec<(Address, u64)> = Vec::new();
        for (sender, queue) in &self.senders {
            let view = account(sender);
            let mut expect = Some(view.nonce);
            let mut spent = Amount::ZERO;
            for (&nonce, entry) in queue {
                if nonce < view.nonce {
                    doomed.push((*sender, nonce));
                    continue;
                }
                let total = spent.checked_add(entry.spend);
                match total {
                    Some(total) if expect == Some(nonce) && total <= view.balance => {
                        spent = total;
                        expect = nonce.checked_add(1);
                    }
                    _ => {
                        expect = None;
                        doomed.push((*sender, nonce));
                    }
                }
            }
        }
        // Highest nonces first: a dropped suffix goes from its end, never stranding a middle.
        doomed
            .into_iter()
            .rev()
            .filter_map(|(sender, nonce)| self.take(&sender, nonce))
            .map(|e| e.txid)
            .collect()
    }

    /// Picks transactions for a block template: the highest fee rate first across senders,
    /// each sender's in nonce order (a heap over every sender's next transaction), within
    /// `max_bytes` of encoded transactions and `max_count` transactions.
    ///
    /// Only chains that start at the sender's account nonce are eligible, and a sender's
    /// chain stops where its balance no longer covers it. A transaction that does not fit in
    /// the bytes left ends its sender's chain; smaller ones of other senders may still fit.
    pub fn select(
        &self,
        max_bytes: usize,
        max_count: usize,
        account: impl Fn(&Address) -> AccountView,
    ) -> Vec<SignedTx> {
        // (rate, lowest txid first on ties, sender, nonce, spent before it, balance)
        type Next = (FeeRate, Reverse<Hash256>, Address, u64, Amount, Amount);
        if max_count == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Next> = BinaryHeap::new();
        for (sender, queue) in &self.senders {
            let view = account(sender);
            if let Some(entry) = queue.get(&view.nonce) {
                if entry.spend <= view.balance {
                    heap.push((
                        entry.rate(),
                        Reverse(entry.txid),
                        *sender,
                        view.nonce,
                        Amount::ZERO,
                        view.balance,
                    ));
                }
            }
        }
        let mut out = Vec::new();
        let mut used = 0usize;
        while let Some((_, _, sender, nonce, spent, balance)) = heap.pop() {
            let Some(queue) = self.senders.get(&sender) else {
                continue;
            };
            let Some(entry) = queue.get(&nonce) else {
                continue;
            };
            if used + entry.size > max_bytes {
                continue;
            }
            used += entry.size;
            out.push(entry.tx.clone());
            if out.len() >= max_count {
                break;
            }
            let Some(spent) = spent.checked_add(entry.spend) else {
                continue;
            };
            let next = nonce.checked_add(1).and_then(|n| queue.get(&n));
            if let Some(next) = next {
                if spent.checked_add(next.spend).is_some_and(|t| t <= balance) {
                    heap.push((
                        next.rate(),
                        Reverse(next.txid),
                        sender,
                        next.tx.body.nonce,
                        spent,
                        balance,
                    ));
                }
            }
        }
        out
    }

    /// Every pending transaction, by sender and then nonce.
    pub fn iter(&self) -> impl Iterator<Item = &SignedTx> {
        self.senders
            .values()
            .flat_map(|q| q.values().map(|e| &e.tx))
    }
}

/// Amount plus fee, `None` on overflow.
fn spend_of(tx: &SignedTx) -> Option<Amount> {
    tx.body.action.spend().checked_add(tx.body.fee)
}
