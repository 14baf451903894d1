//! `GET /api/v1/accounts/{address}/txs`: an account's transactions, newest first.
//!
//! The node keeps no address index, so the history is found by reading main-chain blocks
//! down from `before`, at most [`MAX_SCAN`] per request; the answer says where the scan
//! stopped (`next_before`), and a client pages on from there.

use std::collections::HashMap;

use aic_api::explorer::{AccountHistory, AccountTx};
use aic_primitives::{Address, Height, Transaction};
use axum::extract::{Path, Query, State};
use axum::Json;

use super::{missing_block, Params};
use crate::convert::tx_json;
use crate::rest::{blocking, Failure};
use crate::server::AppState;

/// Most blocks one request reads.
pub(crate) const MAX_SCAN: u64 = 1_000;

/// What `tx` does to the balance of `account`, base units; `None` if it does not touch it.
///
/// A market transaction counts what it takes from its sender's balance (stake, budget, fee);
/// what the market pays out at the end of a block (prices, royalties, refunds, withdrawn
/// stakes) has no transaction of its own and shows in the job's payments instead.
pub(crate) fn delta(tx: &Transaction, account: &Address) -> Option<i64> {
    let units = |u: u64| i64::try_from(u).unwrap_or(i64::MAX);
    match tx {
        Transaction::Coinbase(c) => {
            let mut paid = c.payouts.iter().filter(|p| p.to == *account).peekable();
            paid.peek()?;
            Some(paid.map(|p| units(p.amount.to_units())).sum())
        }
        Transaction::Signed(s) => {
            let (to, amount) = match &s.body.action {
                aic_primitives::Action::Transfer { to, amount } => (Some(*to), *amount),
                aic_primitives::Action::Market(m) => (None, m.spend()),
            };
            let from = s.body.sender_address();
            if from != *account && to != Some(*account) {
                return None;
            }
            let mut d = 0i64;
            if from == *account {
                d = d.saturating_sub(
                    units(amount.to_units()).saturating_add(units(s.body.fee.to_units())),
                );
            }
            if to == Some(*account) {
                d = d.saturating_add(units(amount.to_units()));
            }
            Some(d)
        }
    }
}

pub(crate) async fn account_txs(
    State(s): State<AppState>,
    Path(text): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<AccountHistory>, Failure> {
    let p = Params::new(query, &["before", "limit"])?;
    let limit = p.u64("limit", 20, 1, super::blocks::MAX_PAGE)? as usize;
    let before = p.opt_u64("before", 1, u64::MAX)?;
    blocking(&s, move |s| {
        let (address, network, tip, pending) = {
            let chain = s.handle.chain();
            let network = chain.params().network;
            let address = Address::parse(&text, network)
                .map_err(|e| Failure::new(400, "bad-address", e.to_string()))?;
            let pending = if before.is_none() {
                chain
                    .mempool()
                    .iter()
                    .filter_map(|t| {
                        let tx = Transaction::Signed(t.clone());
                        let d = delta(&tx, &address)?;
                        Some(AccountTx {
                            tx: tx_json(&tx, network, None),
                            delta_units: d,
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            (address, network, chain.height().0, pending)
        };
        let top = before.map_or(tip, |b| (b - 1).min(tip));
        let mut txs = Vec::new();
        let mut h = top;
        let mut scanned = 0;
        let next_before = loop {
            // The lock is taken per block, so a long scan never stalls mining.
            let found = {
                let chain = s.handle.chain();
                let Some(hash) = chain.hash_at(Height(h)) else {
                    break None;
                };
                let block = chain.block(&hash)?.ok_or_else(|| missing_block(&hash))?;
                block
                    .txs
                    .iter()
                    .rev()
                    .filter_map(|t| {
                        Some(AccountTx {
                            delta_units: delta(t, &address)?,
                            tx: tx_json(t, network, Some((hash, Height(h)))),
                        })
                    })
                    .collect::<Vec<_>>()
            };
            txs.extend(found);
            scanned += 1;
            if h == 0 {
                break None;
            }
            if txs.len() >= limit || scanned >= MAX_SCAN {
                break Some(h);
            }
            h -= 1;
        };
        Ok(Json(AccountHistory {
            address: text,
            pending,
            txs,
            scanned_from: top,
            scanned_to: h,
            next_before,
        }))
    })
    .await
}
