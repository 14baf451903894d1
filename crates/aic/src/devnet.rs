//! `aic devnet`.

use std::io::Write;
use std::net::SocketAddr;

use aic_node::devnet::{self, DevnetEvent, DevnetOptions};

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::cli::DevnetArgs;

/// Which demo runs beside the devnet, on a thread of its own once the node is up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Demo {
    /// `--ai-demo`: the data plane and the runtime.
    Ai,
    /// `--demo`: the market economy.
    Market,
}

impl Demo {
    fn name(self) -> &'static str {
        match self {
            Demo::Ai => "AI demo",
            Demo::Market => "market demo",
        }
    }
}

pub(crate) fn run(args: DevnetArgs) -> Result<()> {
    if args.exit && args.blocks.is_none() && !args.demo {
        bail!("--exit needs --blocks (or --demo): without them the devnet has no end");
    }
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
    let demo = match (args.ai_demo, args.demo) {
        (true, _) => Some(Demo::Ai),
        (_, true) => Some(Demo::Market),
        _ => None,
    };
    let market = demo == Some(Demo::Market);
    let options = DevnetOptions {
        data_dir: data_dir.clone(),
        blocks: args.blocks,
        // With a demo, the shutdown future below decides when an --exit devnet ends.
        exit_when_done: args.exit && demo.is_none(),
        api_addr: args.api_addr,
        // The market demo's workers mine and train beside the devnet's miner: one thread for
        // it unless asked otherwise.
        miner_threads: if market && args.threads == 0 {
            1
        } else {
            args.threads
        },
        // The market demo spends from the devnet wallet itself.
        demo_transfers: !args.no_transfers && !market,
        nodes: usize::from(args.nodes),
        miners: usize::from(args.miners),
        stratum_addr: market.then(|| SocketAddr::from(([127, 0, 0, 1], 0))),
    };
    let json_out = args.json;
    let (blocks_tx, blocks_rx) = tokio::sync::oneshot::channel::<()>();
    let (demo_tx, demo_rx) = tokio::sync::oneshot::channel::<Result<()>>();
    let mut blocks_tx = Some(blocks_tx);
    let mut demo_tx = demo.map(|d| (d, demo_tx));
    let on_event = move |e: DevnetEvent| {
        // The market demo's progress says the height; its blocks would drown it.
        let quiet = market
            && !json_out
            && matches!(e, DevnetEvent::Block { .. } | DevnetEvent::Transfer { .. });
        if !quiet {
            render(&e, json_out);
        }
        match &e {
            DevnetEvent::Started {
                api_addr,
                nodes,
                stratum_addr,
                ..
            } => {
                if let Some((which, tx)) = demo_tx.take() {
                    // Node 0's directory holds the cookie the demo's uploads need.
                    let dir = nodes
                        .first()
                        .map_or(data_dir.clone(), |n| n.data_dir.clone());
                    let api = *api_addr;
                    let stratum = *stratum_addr;
                    let root = data_dir.join("market-demo");
                    // Digitizing and training are CPU work: a thread of its own, not the runtime.
                    std::thread::spawn(move || {
                        let result = match which {
                            Demo::Ai => crate::ai_demo::run(&dir, api, json_out),
                            Demo::Market => match stratum {
                                Some(stratum) => crate::market_demo::run(
                                    &crate::market_demo::Setup {
                                        node_dir: dir,
                                        api,
                                        stratum,
                                        root,
                                    },
                                    json_out,
                                ),
                                None => Err(anyhow::anyhow!("the node has no Stratum pool")),
                            },
                        };
                        let _ = tx.send(result);
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
    let exit_after_demo = args.exit && demo.is_some();
    // Without --blocks the miner never finishes: the demo alone decides.
    let wait_for_blocks = args.blocks.is_some();
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let demo_result = rt.block_on(async move {
        let mut demo_result = None;
        let until = async {
            if let Some(which) = demo {
                let result = demo_rx.await.unwrap_or_else(|_| {
                    Err(anyhow::anyhow!(
                        "the {} thread ended without a result",
                        which.name()
                    ))
                });
                let failed = result.is_err();
                demo_result = Some(result.with_context(|| which.name()));
                // A failed demo ends the devnet too: nothing more would happen.
                if exit_after_demo || failed {
                    if wait_for_blocks && !failed {
                        let _ = blocks_rx.await;
                    }
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
        result?;
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
                stratum_addr,
            } => json!({"event": "started", "stratum": stratum_addr.map(|a| format!("stratum+tcp://{a}")), "data_dir": data_dir, "api": format!("http://{api_addr}"),
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
                stratum_addr,
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
                if let Some(a) = stratum_addr {
                    text.push_str(&format!("\n  pool     stratum+tcp://{a}"));
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
