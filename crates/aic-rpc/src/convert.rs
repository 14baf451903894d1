//! Domain types to wire types.

use aic_api::rest;
use aic_chain::Chain;
use aic_ledger::market::job_id;
use aic_primitives::{Action, Block, Encode, Hash256, Height, MarketAction, Network, Transaction};

/// A transaction as JSON.
pub(crate) fn tx_json(
    tx: &Transaction,
    network: Network,
    block: Option<(Hash256, Height)>,
) -> rest::Tx {
    let mut out = rest::Tx {
        txid: tx.txid().to_string(),
        hex: hex::encode(tx.to_bytes()),
        kind: String::new(),
        from: None,
        to: None,
        amount_units: None,
        fee_units: None,
        nonce: None,
        payouts: Vec::new(),
        job: None,
        block_hash: block.map(|(h, _)| h.to_string()),
        block_height: block.map(|(_, h)| h.0),
    };
    match tx {
        Transaction::Coinbase(c) => {
            out.kind = "coinbase".to_owned();
            out.payouts = c
                .payouts
                .iter()
                .map(|p| rest::Payout {
                    to: p.to.to_bech32(network),
                    amount_units: p.amount.to_units(),
                })
                .collect();
        }
        Transaction::Signed(s) => {
            out.from = Some(s.body.sender_address().to_bech32(network));
            match &s.body.action {
                Action::Transfer { to, amount } => {
                    out.kind = "transfer".to_owned();
                    out.to = Some(to.to_bech32(network));
                    out.amount_units = Some(amount.to_units());
                }
                Action::Market(m) => {
                    out.kind = m.name().to_owned();
                    out.amount_units = Some(m.spend().to_units());
                    // A posting names the job it creates. Byte order, as the market routes
                    // take job ids.
                    let job = match m {
                        MarketAction::PostJob(_) => {
                            Some(job_id(&s.body.sender_address(), s.body.nonce))
                        }
                        _ => m.job(),
                    };
                    out.job = job.map(|j| j.to_hex());
                }
            }
            out.fee_units = Some(s.body.fee.to_units());
            out.nonce = Some(s.body.nonce);
        }
    }
    out
}

/// A block as JSON.
pub(crate) fn block_json(chain: &Chain, hash: Hash256, block: &Block) -> rest::Block {
    let network = chain.params().network;
    let height = chain.entry(&hash).map(|e| e.height).unwrap_or_default();
    let main = chain.is_main(&hash);
    let h = &block.header;
    rest::Block {
        hash: hash.to_string(),
        height: height.0,
        header_hex: hex::encode(h.to_array()),
        version: h.version,
        prev_hash: h.prev_hash.to_string(),
        merkle_root: h.merkle_root.to_string(),
        time: h.time,
        bits: h.bits.to_string(),
        nonce: h.nonce,
        size: block.to_bytes().len(),
        main_chain: main,
        txs: block
            .txs
            .iter()
            .map(|t| tx_json(t, network, Some((hash, height))))
            .collect(),
    }
}
