//! `aic devnet`.

use std::io::Write;

use aic_node::devnet::{self, DevnetEvent, DevnetOptions};
use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::DevnetArgs;

pub(crate) fn run(args: DevnetArgs) -> Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        crate::node::init_logging();
    }
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!(
            "aic-devnet-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        )),
    };
    let options = DevnetOptions {
        data_dir: data_dir.clone(),
        blocks: args.blocks,
        // With the AI demo, the shutdown future below decides when an --exit devnet ends.
        exit_when_done: args.exit && !args.ai_demo,
        api_addr: args.api_addr,
        miner_threads: args.threads,
        demo_transfers: !args.no_transfers,
        nodes: usize::from(args.nodes),
        miners: usize::from(args.miners),
    };
    let json_out = args.json;
    let (blocks_tx, blocks_rx) = tokio::sync::oneshot::channel::<()>();
    let (demo_tx, demo_rx) = tokio::sync::oneshot::channel::<Result<()>>();
    let mut blocks_tx = Some(blocks_tx);
    let mut demo_tx = args.ai_demo.then_some(demo_tx);
    let on_event = move |e: DevnetEvent| {
        render(&e, json_out);
        match &e {
            DevnetEvent::Started {
                api_addr, nodes, ..
            } => {
                if let Some(tx) = demo_tx.take() {
                    // Node 0's directory holds the cookie the demo's uploads need.
                    let dir = nodes
                        .first()
                        .map_or(data_dir.clone(), |n| n.data_dir.clone());
                    let api = *api_addr;
                    // Digitizing and training are CPU work: a thread of its own, not the runtime.
                    std::thread::spawn(move || {
                        let _ = tx.send(crate::ai_demo::run(&dir, api, json_out));
                    });
                }
            }
            DevnetEvent::Done { .. } => {
                if let Some(tx) = blocks_tx.take() {
                    let _ = tx.send(());
                }
            }
            _ => {}
        }
    };
    let exit_after_demo = args.exit && args.ai_demo;
    let demo = args.ai_demo;
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let demo_result = rt.block_on(async move {
        let mut demo_result = None;
        let until = async {
            if demo {
                demo_result = Some(demo_rx.await.unwrap_or_else(|_| {
                    Err(anyhow::anyhow!("the AI demo thread ended without a result"))
                }));
                if exit_after_demo {
                    let _ = blocks_rx.await;
                    return;
                }
            }
            std::future::pending::<()>().await
        };
        let shutdown = async {
            tokio::select! {
                _ = crate::node::shutdown_signal() => {}
                _ = until => {}
            }
        };
        devnet::run(options, on_event, shutdown).await?;
        Ok::<_, anyhow::Error>(demo_result)
    })?;
    if let Some(result) = demo_result {
        result.context("AI demo")?;
    }
    Ok(())
}

fn render(e: &DevnetEvent, json_out: bool) {
    let line = if json_out {
        match e {
            DevnetEvent::Started {
                data_dir,
                api_addr,
                wallet_file,
                wallet_address,
                height,
                nodes,
            } => json!({"event": "started", "data_dir": data_dir, "api": format!("http://{api_addr}"),
                "wallet_file": wallet_file, "wallet_address": wallet_address, "height": height,
                "nodes": nodes.iter().map(|n| json!({"data_dir": n.data_dir, "api": format!("http://{}", n.api_addr),
                    "p2p": n.p2p, "mining": n.mining})).collect::<Vec<_>>()}),
            DevnetEvent::Block {
                height,
                hash,
                txs,
                hash_rate,
                wallet_balance,
            } => json!({"event": "block", "height": height, "hash": hash.to_string(), "txs": txs,
                "hash_rate": hash_rate, "wallet_balance_units": wallet_balance.to_units()}),
            DevnetEvent::Transfer { txid, amount } => {
                json!({"event": "transfer", "txid": txid.to_string(), "amount_units": amount.to_units()})
            }
            DevnetEvent::Network {
                heights,
                peers,
                in_step,
            } => json!({"event": "network", "heights": heights, "peers": peers, "in_step": in_step}),
            DevnetEvent::Done { height } => json!({"event": "done", "height": height}),
        }
        .to_string()
    } else {
        match e {
            DevnetEvent::Started {
                data_dir,
                api_addr,
                wallet_file,
                wallet_address,
                height,
                nodes,
            } => {
                let mut text = format!(
                    "devnet: data dir {}\n  API      http://{api_addr}/api/v1/status  (JSON-RPC at /rpc, cookie in the data dir)\n  wallet   {} ({wallet_address})\n  try:     aic wallet balance --wallet {} --node http://{api_addr}",
                    data_dir.display(),
                    wallet_file.display(),
                    wallet_file.display(),
                );
                for (i, n) in nodes.iter().enumerate() {
                    text.push_str(&format!(
                        "\n  node {i}   http://{}  {}{}",
                        n.api_addr,
                        n.p2p.first().map_or("", String::as_str),
                        if n.mining { "  mining" } else { "" }
                    ));
                }
                if !nodes.is_empty() {
                    text.push_str(&format!(
                        "\n  try:     aic net status --node http://{api_addr}"
                    ));
                }
                text.push_str(&format!("\n  starting at height {height}; Ctrl-C stops"));
                text
            }
            DevnetEvent::Block {
                height,
                hash,
                txs,
                hash_rate,
                wallet_balance,
            } => format!(
                "block {height:>5}  {hash}  {txs:>3} tx  {:>8.2} MH/s  wallet {wallet_balance} AIC",
                hash_rate / 1e6
            ),
            DevnetEvent::Transfer { txid, amount } => {
                format!("  sent {amount} AIC to the demo recipient: {txid}")
            }
            DevnetEvent::Network {
                heights,
                peers,
                in_step,
            } => format!(
                "  network: {in_step}/{} nodes at node 0's tip; heights {heights:?}; peers {peers:?}",
                heights.len()
            ),
            DevnetEvent::Done { height } => format!("done: mined up to height {height}"),
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
