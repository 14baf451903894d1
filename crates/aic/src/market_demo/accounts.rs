//! Every balance movement of the demo's participants, explained line by line from the chain:
//! the account's transactions (transfers, stakes, budgets, fees, mined blocks) and the
//! payments of the job (price, royalties, verifier fee, refund, slashes), which settle at the
//! end of a block and are no transaction of their own.

use aic_api::explorer::{AccountHistory, AccountTx};
use aic_api::market::Payment;
use aic_api::rest::Account;
use aic_primitives::Amount;
use anyhow::{bail, Result};
use serde::Serialize;

use crate::client::NodeClient;

/// One movement of an account's balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Line {
    /// What moved, for people.
    pub(crate) what: String,
    /// `transfer-in`, `transfer-out`, `mined`, `fee`, `stake`, `escrow`, or a payment's kind.
    pub(crate) kind: String,
    /// Signed change, base units.
    pub(crate) units: i64,
    /// Height at which it happened.
    pub(crate) height: u64,
    /// The transaction, when it was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) txid: Option<String>,
}

/// One participant's balance, explained.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Statement {
    pub(crate) role: String,
    pub(crate) address: String,
    /// In order of height.
    pub(crate) lines: Vec<Line>,
    /// The sum of the lines, base units.
    pub(crate) total_units: i64,
    /// The balance the chain holds, base units: equal to the total for a new wallet.
    pub(crate) balance_units: u64,
}

impl Statement {
    /// Whether the lines add up to the chain's balance.
    pub(crate) fn adds_up(&self) -> bool {
        u64::try_from(self.total_units) == Ok(self.balance_units)
    }
}

/// `units` as signed AIC: `+1.50000000`, `-0.00010000`.
pub(crate) fn signed_aic(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "+" };
    format!("{sign}{}", Amount::from_units(units.unsigned_abs()))
}

fn units(u: u64) -> i64 {
    i64::try_from(u).unwrap_or(i64::MAX)
}

/// The lines of one transaction for `address`: what it moved and, for its sender, the fee
/// apart.
fn tx_lines(address: &str, t: &AccountTx, name: &dyn Fn(&str) -> String) -> Vec<Line> {
    let height = t.tx.block_height.unwrap_or(0);
    let txid = Some(t.tx.txid.clone());
    let line = |what: String, kind: &str, units: i64| Line {
        what,
        kind: kind.to_owned(),
        units,
        height,
        txid: txid.clone(),
    };
    if t.tx.kind == "coinbase" {
        return vec![line(
            format!("mined block {height} (pool payout)"),
            "mined",
            t.delta_units,
        )];
    }
    let sent = t.tx.from.as_deref() == Some(address);
    let amount = units(t.tx.amount_units.unwrap_or(0));
    let fee = units(t.tx.fee_units.unwrap_or(0));
    let mut lines = Vec::new();
    match (t.tx.kind.as_str(), sent) {
        ("transfer", false) => lines.push(line(
            format!(
                "received from {}",
                name(t.tx.from.as_deref().unwrap_or("?"))
            ),
            "transfer-in",
            amount,
        )),
        ("transfer", true) => lines.push(line(
            format!("sent to {}", name(t.tx.to.as_deref().unwrap_or("?"))),
            "transfer-out",
            -amount,
        )),
        ("register-provider" | "top-up-stake", true) => lines.push(line(
            format!("{}: stake locked", t.tx.kind),
            "stake",
            -amount,
        )),
        ("post-job", true) => lines.push(line(
            "post-job: budget into escrow".to_owned(),
            "escrow",
            -amount,
        )),
        // Every other action moves nothing but its fee.
        _ => {}
    }
    if sent {
        lines.push(line(format!("fee of {}", t.tx.kind), "fee", -fee));
    }
    lines
}

/// What a job payment is, for people.
fn payment_text(p: &Payment) -> String {
    match p.kind.as_str() {
        "price" => "paid the job's price".to_owned(),
        "model-royalty" => "royalty on the model".to_owned(),
        "dataset-royalty" => "royalty on the data set".to_owned(),
        "verifier-fee" => "verifier's fee".to_owned(),
        "refund" => "escrow refunded (budget not spent)".to_owned(),
        "slash-to-consumer" => "slashed provider stake, to the consumer".to_owned(),
        "slash-to-verifier" => "slashed provider stake, to the verifier".to_owned(),
        "verifier-slash" => "slashed verifier stake".to_owned(),
        other => other.to_owned(),
    }
}

/// The statement of `address` from its whole transaction history and the job payments to it.
pub(crate) fn statement(
    role: &str,
    address: &str,
    history: &[AccountTx],
    payments: &[Payment],
    balance_units: u64,
    name: &dyn Fn(&str) -> String,
) -> Statement {
    let mut lines: Vec<Line> = history
        .iter()
        .flat_map(|t| tx_lines(address, t, name))
        .collect();
    lines.extend(payments.iter().filter(|p| p.to == address).map(|p| Line {
        what: payment_text(p),
        kind: p.kind.clone(),
        units: units(p.amount_units),
        height: p.height,
        txid: None,
    }));
    lines.sort_by_key(|l| l.height);
    Statement {
        role: role.to_owned(),
        address: address.to_owned(),
        total_units: lines.iter().map(|l| l.units).sum(),
        lines,
        balance_units,
    }
}

/// An account's whole confirmed history, oldest first (every page of
/// `/accounts/{address}/txs`). Fails while it has transactions in the mempool.
pub(crate) fn history(client: &NodeClient, address: &str) -> Result<Vec<AccountTx>> {
    let mut all = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/accounts/{address}/txs?limit=100&before={b}"),
            None => format!("/accounts/{address}/txs?limit=100"),
        };
        let page: AccountHistory = client.get(&path)?;
        if before.is_none() && !page.pending.is_empty() {
            bail!("{address} has transactions in the mempool: its balance is still moving");
        }
        all.extend(page.txs);
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    all.reverse();
    Ok(all)
}

/// The statement of one participant, read from the node.
pub(crate) fn read(
    client: &NodeClient,
    role: &str,
    address: &str,
    payments: &[Payment],
    name: &dyn Fn(&str) -> String,
) -> Result<Statement> {
    let txs = history(client, address)?;
    let account: Account = client.get(&format!("/accounts/{address}"))?;
    Ok(statement(
        role,
        address,
        &txs,
        payments,
        account.balance_units,
        name,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aic_api::rest::Tx;

    fn tx(kind: &str, from: Option<&str>, to: Option<&str>, amount: u64, fee: u64) -> Tx {
        Tx {
            txid: format!("{kind}-{amount}"),
            hex: String::new(),
            kind: kind.to_owned(),
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            amount_units: Some(amount),
            fee_units: Some(fee),
            nonce: Some(0),
            payouts: Vec::new(),
            job: None,
            block_hash: Some("h".to_owned()),
            block_height: Some(7),
        }
    }

    #[test]
    fn a_consumer_statement_adds_up_fees_apart() {
        let history = [
            AccountTx {
                tx: tx("transfer", Some("m"), Some("c"), 30_000, 10),
                delta_units: 30_000,
            },
            AccountTx {
                tx: tx("post-job", Some("c"), None, 20_000, 10),
                delta_units: -20_010,
            },
        ];
        let payments = [
            Payment {
                to: "p".to_owned(),
                from: None,
                amount_units: 5_000,
                kind: "price".to_owned(),
                height: 9,
            },
            Payment {
                to: "c".to_owned(),
                from: None,
                amount_units: 15_000,
                kind: "refund".to_owned(),
                height: 9,
            },
        ];
        let s = statement("consumer", "c", &history, &payments, 24_990, &|a| {
            a.to_owned()
        });
        let kinds: Vec<(&str, i64)> = s.lines.iter().map(|l| (l.kind.as_str(), l.units)).collect();
        assert_eq!(
            kinds,
            [
                ("transfer-in", 30_000),
                ("escrow", -20_000),
                ("fee", -10),
                ("refund", 15_000)
            ]
        );
        assert!(s.adds_up());
        // Each transaction's lines are its delta.
        let s = statement("consumer", "c", &history, &payments, 24_991, &|a| {
            a.to_owned()
        });
        assert!(!s.adds_up());
    }

    #[test]
    fn signed_amounts_read_as_aic() {
        assert_eq!(signed_aic(-10_000), "-0.00010000");
        assert_eq!(signed_aic(150_000_000), "+1.50000000");
    }
}
