//! `aic wallet`.

use std::time::{Duration, Instant};

use aic_api::rest;
use aic_node::KeyFile;
use aic_primitives::{Action, Address, Amount, ChainParams, Encode, Network, Transaction, TxBody};
use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::cli::WalletCommand;
use crate::client::NodeClient;

/// How long `send --wait` waits for a block.
const WAIT_LIMIT: Duration = Duration::from_secs(300);

fn load(path: &std::path::Path) -> Result<KeyFile> {
    KeyFile::load(path).with_context(|| {
        format!(
            "loading the wallet {} (create one with `aic wallet new`, or pass --wallet)",
            path.display()
        )
    })
}

pub(crate) fn run(cmd: WalletCommand) -> Result<()> {
    match cmd {
        WalletCommand::New {
            network,
            wallet,
            json,
        } => {
            let network: Network = network.parse()?;
            let k = KeyFile::generate(network);
            k.create(&wallet.wallet)?;
            let address = k.address().to_bech32(network);
            if json {
                println!(
                    "{}",
                    json!({"address": address, "network": network.name(), "wallet": wallet.wallet})
                );
            } else {
                println!("created {} for {network}", wallet.wallet.display());
                println!("address: {address}");
            }
        }
        WalletCommand::Address { wallet, json } => {
            let k = load(&wallet.wallet)?;
            let address = k.address().to_bech32(k.network);
            if json {
                println!(
                    "{}",
                    json!({"address": address, "network": k.network.name()})
                );
            } else {
                println!("{address}");
            }
        }
        WalletCommand::Balance {
            wallet,
            address,
            node,
            json,
        } => {
            let address = match address {
                Some(a) => a,
                None => {
                    let k = load(&wallet.wallet)?;
                    k.address().to_bech32(k.network)
                }
            };
            let acct: rest::Account =
                NodeClient::new(&node.node).get(&format!("/accounts/{address}"))?;
            if json {
                println!("{}", serde_json::to_string(&acct)?);
            } else {
                println!(
                    "{} AIC  (nonce {}, address {})",
                    acct.balance, acct.nonce, acct.address
                );
            }
        }
        WalletCommand::Send {
            wallet,
            to,
            amount,
            fee,
            wait,
            node,
            json,
        } => send(&wallet.wallet, &to, &amount, &fee, wait, &node.node, json)?,
    }
    Ok(())
}

fn send(
    wallet: &std::path::Path,
    to: &str,
    amount: &str,
    fee: &str,
    wait: bool,
    node: &str,
    json_out: bool,
) -> Result<()> {
    let k = load(wallet)?;
    let params = ChainParams::for_network(k.network);
    let to_addr = Address::parse(to, k.network).context("--to")?;
    let amount: Amount = amount.parse().context("--amount")?;
    let fee: Amount = fee.parse().context("--fee")?;
    let client = NodeClient::new(node);
    let from = k.address().to_bech32(k.network);
    let acct: rest::Account = client.get(&format!("/accounts/{from}"))?;
    let tx = Transaction::Signed(
        TxBody {
            chain_id: params.chain_id,
            sender: k.key.public_key(),
            nonce: acct.next_nonce,
            fee,
            action: Action::Transfer {
                to: to_addr,
                amount,
            },
        }
        .sign(&k.key),
    );
    let submitted: rest::Submitted = client.post("/txs", &json!({"hex": hex_of(&tx)}))?;
    if !json_out {
        println!(
            "sent {amount} AIC to {to} (fee {fee}): txid {}",
            submitted.txid
        );
    }
    let mut block = None;
    if wait {
        let started = Instant::now();
        loop {
            let t: rest::Tx = client.get(&format!("/txs/{}", submitted.txid))?;
            if let (Some(hash), Some(height)) = (t.block_hash, t.block_height) {
                block = Some((hash, height));
                break;
            }
            if started.elapsed() > WAIT_LIMIT {
                bail!(
                    "transaction {} not mined after {WAIT_LIMIT:?}",
                    submitted.txid
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    if json_out {
        println!(
            "{}",
            json!({
                "txid": submitted.txid,
                "from": from,
                "to": to,
                "amount_units": amount.to_units(),
                "fee_units": fee.to_units(),
                "nonce": acct.next_nonce,
                "block_hash": block.as_ref().map(|b| b.0.clone()),
                "block_height": block.as_ref().map(|b| b.1),
            })
        );
    } else if let Some((hash, height)) = block {
        println!("mined in block {height} ({hash})");
    }
    Ok(())
}

fn hex_of(tx: &Transaction) -> String {
    tx.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}
