//! `aic wallet`.

use aic_api::rest;
use aic_node::KeyFile;
use aic_primitives::{Action, Address, Amount, Network};
use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::WalletCommand;
use crate::client::NodeClient;

fn load(path: &std::path::Path) -> Result<KeyFile> {
    crate::submit::load_wallet(path)
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
    let to_addr = Address::parse(to, k.network).context("--to")?;
    let amount: Amount = amount.parse().context("--amount")?;
    let fee: Amount = fee.parse().context("--fee")?;
    let client = NodeClient::new(node);
    let from = k.address().to_bech32(k.network);
    let action = Action::Transfer {
        to: to_addr,
        amount,
    };
    let sent = crate::submit::send(&client, &k, fee, action, wait)?;
    if json_out {
        println!(
            "{}",
            json!({
                "txid": sent.txid,
                "from": from,
                "to": to,
                "amount_units": amount.to_units(),
                "fee_units": fee.to_units(),
                "nonce": sent.nonce,
                "block_hash": sent.block.as_ref().map(|b| b.0.clone()),
                "block_height": sent.block.as_ref().map(|b| b.1),
            })
        );
    } else {
        println!("sent {amount} AIC to {to} (fee {fee}): txid {}", sent.txid);
        if let Some((hash, height)) = sent.block {
            println!("mined in block {height} ({hash})");
        }
    }
    Ok(())
}
