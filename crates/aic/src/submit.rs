//! Signing a transaction with a wallet, sending it to a node, and waiting for its block.

use std::time::{Duration, Instant};

use aic_api::rest;
use aic_node::KeyFile;
use aic_primitives::{Action, Amount, ChainParams, Encode, Transaction, TxBody};
use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::client::NodeClient;

/// How long `--wait` waits for a block.
pub(crate) const WAIT_LIMIT: Duration = Duration::from_secs(300);

/// A sent transaction.
pub(crate) struct Sent {
    pub(crate) txid: String,
    pub(crate) nonce: u64,
    /// Hash and height of its block, when waited for.
    pub(crate) block: Option<(String, u64)>,
}

/// Loads a key file, with a hint when it is missing.
pub(crate) fn load_wallet(path: &std::path::Path) -> Result<KeyFile> {
    KeyFile::load(path).with_context(|| {
        format!(
            "loading the wallet {} (create one with `aic wallet new`, or pass --wallet)",
            path.display()
        )
    })
}

/// Signs `action` with the wallet's key at the account's next nonce, sends it, and with
/// `wait` polls until it is mined.
pub(crate) fn send(
    client: &NodeClient,
    key: &KeyFile,
    fee: Amount,
    action: Action,
    wait: bool,
) -> Result<Sent> {
    let params = ChainParams::for_network(key.network);
    let from = key.address().to_bech32(key.network);
    let acct: rest::Account = client.get(&format!("/accounts/{from}"))?;
    let tx = Transaction::Signed(
        TxBody {
            chain_id: params.chain_id,
            sender: key.key.public_key(),
            nonce: acct.next_nonce,
            fee,
            action,
        }
        .sign(&key.key),
    );
    let submitted: rest::Submitted = client.post("/txs", &json!({"hex": hex_of(&tx)}))?;
    let block = if wait {
        Some(wait_for_block(client, &submitted.txid)?)
    } else {
        None
    };
    Ok(Sent {
        txid: submitted.txid,
        nonce: acct.next_nonce,
        block,
    })
}

/// Polls until `txid` is in a block; returns the block's hash and height.
pub(crate) fn wait_for_block(client: &NodeClient, txid: &str) -> Result<(String, u64)> {
    let started = Instant::now();
    loop {
        let t: rest::Tx = client.get(&format!("/txs/{txid}"))?;
        if let (Some(hash), Some(height)) = (t.block_hash, t.block_height) {
            return Ok((hash, height));
        }
        if started.elapsed() > WAIT_LIMIT {
            bail!("transaction {txid} not mined after {WAIT_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The transaction's canonical bytes as hex.
pub(crate) fn hex_of(tx: &Transaction) -> String {
    tx.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}
