//! `aic net`: the node's peer-to-peer network, shown (`status`, from the public REST API)
//! and steered (`block`, `unblock`, `dial`, through the operator's JSON-RPC).

use std::path::PathBuf;

use aic_api::network::NetworkInfo;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::cli::NodeUrl;
use crate::client::NodeClient;

/// The operator's credentials for JSON-RPC.
#[derive(Debug, Args)]
pub(crate) struct RpcCredentials {
    /// The node's JSON-RPC cookie file (DATA_DIR/.cookie).
    #[arg(long)]
    cookie: Option<PathBuf>,
    /// JSON-RPC user (instead of --cookie).
    #[arg(long, requires = "rpc_password")]
    rpc_user: Option<String>,
    /// JSON-RPC password.
    #[arg(long, env = "AIC_RPC_PASSWORD")]
    rpc_password: Option<String>,
}

impl RpcCredentials {
    fn auth(&self) -> Result<aic_rpc::RpcAuth> {
        match (&self.cookie, &self.rpc_user, &self.rpc_password) {
            (Some(path), _, _) => aic_rpc::RpcAuth::read_cookie(path)
                .with_context(|| format!("reading {}", path.display())),
            (None, Some(u), Some(p)) => Ok(aic_rpc::RpcAuth::new(u, p)),
            _ => bail!("the node's credentials are needed: --cookie DATA_DIR/.cookie, or --rpc-user and --rpc-password"),
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum NetCommand {
    /// This node on the network: its peer id, listen addresses, peers and sync counters.
    #[command(after_help = "Examples:
  aic net status
  aic net status --node http://127.0.0.1:7460 --json")]
    Status {
        #[command(flatten)]
        node: NodeUrl,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close every connection to a peer and refuse new ones until `aic net unblock`
    /// (an operator's block: not persisted, unlike a ban for misbehaviour).
    #[command(after_help = "Examples:
  aic net block 12D3KooW... --cookie ./node/.cookie")]
    Block {
        /// The peer id.
        peer: String,
        #[command(flatten)]
        node: NodeUrl,
        #[command(flatten)]
        auth: RpcCredentials,
    },
    /// Lift a block or a ban, and dial the peer's known addresses.
    #[command(after_help = "Examples:
  aic net unblock 12D3KooW... --cookie ./node/.cookie")]
    Unblock {
        /// The peer id.
        peer: String,
        #[command(flatten)]
        node: NodeUrl,
        #[command(flatten)]
        auth: RpcCredentials,
    },
    /// Dial a peer by multiaddr.
    #[command(after_help = "Examples:
  aic net dial /ip4/127.0.0.1/tcp/7451/p2p/12D3KooW... --cookie ./node/.cookie")]
    Dial {
        /// `/ip4/HOST/tcp/PORT/p2p/PEER_ID`.
        addr: String,
        #[command(flatten)]
        node: NodeUrl,
        #[command(flatten)]
        auth: RpcCredentials,
    },
}

pub(crate) fn run(cmd: NetCommand) -> Result<()> {
    match cmd {
        NetCommand::Status { node, json } => {
            let info: NetworkInfo = NodeClient::new(&node.node).get("/network")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                print_status(&info);
            }
            Ok(())
        }
        NetCommand::Block { peer, node, auth } => rpc(&node.node, &auth, "blockpeer", &peer),
        NetCommand::Unblock { peer, node, auth } => rpc(&node.node, &auth, "unblockpeer", &peer),
        NetCommand::Dial { addr, node, auth } => rpc(&node.node, &auth, "addnode", &addr),
    }
}

fn print_status(info: &NetworkInfo) {
    println!("peer id   {}", info.peer_id);
    for a in &info.listen {
        println!("listen    {a}");
    }
    println!(
        "sync      {} headers, {} blocks, {} orphans connected; {} queued, {} orphans held; {} bans",
        info.sync_headers,
        info.sync_blocks,
        info.orphans_connected,
        info.queued,
        info.orphans,
        info.bans
    );
    println!("peers     {}", info.peers.len());
    for p in &info.peers {
        println!(
            "  {}  {:<4} height {:>7}  score {:>7.1}  {}",
            p.peer_id,
            if p.outbound { "out" } else { "in" },
            p.height.map_or("?".to_owned(), |h| h.to_string()),
            p.score,
            p.addr
        );
    }
}

fn rpc(node: &str, creds: &RpcCredentials, method: &str, arg: &str) -> Result<()> {
    let auth = creds.auth()?;
    let url = format!("{}/rpc", node.trim_end_matches('/'));
    let body = json!({"jsonrpc": "1.0", "id": "aic", "method": method, "params": [arg]});
    let answer: Value = match ureq::post(&url)
        .set("Authorization", &auth.header_value())
        .timeout(std::time::Duration::from_secs(30))
        .send_json(body)
    {
        Ok(r) => r.into_json()?,
        Err(ureq::Error::Status(401, _)) => bail!("the node refused the credentials"),
        Err(ureq::Error::Status(_, r)) => r.into_json()?,
        Err(e) => return Err(anyhow!("cannot reach the node at {node}: {e}")),
    };
    match answer.get("error") {
        Some(e) if !e.is_null() => bail!(
            "{} ({})",
            e.get("message").and_then(Value::as_str).unwrap_or("error"),
            e.get("code").unwrap_or(&Value::Null)
        ),
        _ => {
            println!("ok");
            Ok(())
        }
    }
}
