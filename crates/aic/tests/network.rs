//! Five `aic node` processes on loopback, joined by libp2p: two mine. The network is split
//! {0, 2} | {1, 3, 4} by `aic net block` on both ends of every link across; each side mines on
//! its own and the same coins are spent to different recipients on each side. After
//! `aic net unblock` heals it, all five converge on one chain, with at least the work of either
//! side's, in bounded time, and exactly one of the two spends is on it. Then a node killed with
//! SIGKILL is restarted on its data directory and catches up with the others.
#![allow(clippy::print_stderr)] // node logs and timings for whoever reads a failed run

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;

use common::{free_port, get, json, ok, wait_for, Guard};

const LIMIT: Duration = Duration::from_secs(90);
const SIDE_A: [usize; 2] = [0, 2];
const SIDE_B: [usize; 3] = [1, 3, 4];

struct Node {
    dir: PathBuf,
    api: String,
    args: Vec<String>,
    peer_id: String,
    listen: String,
    process: Option<Guard>,
}

impl Node {
    fn start(&mut self, root: &Path) {
        let log = std::fs::File::create(root.join(format!("{}.log", self.dir.display()))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_aic"))
            .current_dir(root)
            .env("RUST_LOG", "info")
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.process = Some(Guard(child));
        let info = wait_for("the node's network", LIMIT, || {
            get(&format!("{}/api/v1/network", self.api))
        });
        self.peer_id = info["peer_id"].as_str().unwrap().to_owned();
        self.listen = info["listen"][0].as_str().unwrap().to_owned();
    }

    fn status(&self) -> Value {
        get(&format!("{}/api/v1/status", self.api)).unwrap_or(Value::Null)
    }

    fn tip(&self) -> Option<(u64, String)> {
        let s = self.status();
        Some((s["height"].as_u64()?, s["tip_hash"].as_str()?.to_owned()))
    }

    fn peers(&self) -> usize {
        get(&format!("{}/api/v1/network", self.api))
            .and_then(|n| n["peers"].as_array().map(Vec::len))
            .unwrap_or(0)
    }

    fn work(&self) -> u128 {
        let hex = self.status()["chain_work"].as_str().unwrap().to_owned();
        u128::from_str_radix(hex.trim_start_matches('0'), 16).unwrap_or(0)
    }

    /// Whether `txid` is in a block of this node's main chain.
    fn confirmed(&self, txid: &str) -> bool {
        get(&format!("{}/api/v1/txs/{txid}", self.api)).is_some_and(|t| t["block_hash"].is_string())
    }

    fn net(&self, root: &Path, verb: &str, peer: &str) {
        let cookie = root.join(&self.dir).join(".cookie");
        let cookie = cookie.to_str().unwrap();
        ok(
            root,
            &["net", verb, peer, "--node", &self.api, "--cookie", cookie],
        );
    }
}

/// Every node's tip, once all five agree.
fn converged(nodes: &[Node]) -> Option<(u64, String)> {
    let first = nodes[0].tip()?;
    nodes[1..]
        .iter()
        .all(|n| n.tip().as_ref() == Some(&first))
        .then_some(first)
}

fn dump_logs(root: &Path) {
    for i in 0..5 {
        let text = std::fs::read_to_string(root.join(format!("n{i}.log"))).unwrap_or_default();
        let tail: Vec<_> = text.lines().rev().take(15).collect();
        eprintln!(
            "--- n{i}.log (last lines, newest first)\n{}",
            tail.join("\n")
        );
    }
}

#[test]
fn five_node_processes_partition_mine_apart_heal_and_keep_one_spend() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scenario(root)));
    if let Err(panic) = result {
        dump_logs(root);
        std::panic::resume_unwind(panic);
    }
}

fn scenario(root: &Path) {
    let spender = common::new_wallet(root, "spender.key");
    let other = common::new_wallet(root, "miner1.key");
    let (to_a, to_b) = (
        common::new_wallet(root, "a.key"),
        common::new_wallet(root, "b.key"),
    );

    // Start the five, each dialling the ones before it; 0 pays the spender, 1 another wallet.
    let mut nodes: Vec<Node> = Vec::new();
    for i in 0..5 {
        let api = free_port();
        let mut args: Vec<String> = [
            "node",
            "--network",
            "devnet",
            "--data-dir",
            &format!("n{i}"),
            "--api-addr",
            &format!("127.0.0.1:{api}"),
            "--listen",
            &format!("/ip4/127.0.0.1/tcp/{}", free_port()),
            "--no-mdns",
            "--miner-threads",
            "1",
        ]
        .map(str::to_owned)
        .to_vec();
        for n in &nodes {
            args.extend(["--bootnode".to_owned(), n.listen.clone()]);
        }
        match i {
            0 => args.extend(["--mine".to_owned(), spender.clone()]),
            1 => args.extend(["--mine".to_owned(), other.clone()]),
            _ => {}
        }
        let mut node = Node {
            dir: PathBuf::from(format!("n{i}")),
            api: format!("http://127.0.0.1:{api}"),
            args,
            peer_id: String::new(),
            listen: String::new(),
            process: None,
        };
        node.start(root);
        nodes.push(node);
    }
    wait_for("a full mesh", LIMIT, || {
        nodes.iter().all(|n| n.peers() == 4).then_some(())
    });
    // The spender has coins on the shared chain, seen by all.
    wait_for("a shared chain paying the spender", LIMIT, || {
        let rich = get(&format!("{}/api/v1/accounts/{spender}", nodes[0].api))?["balance_units"]
            .as_u64()?
            >= 200_000_000;
        converged(&nodes).filter(|_| rich)
    });

    // Partition: both ends of every link across block each other.
    for &a in &SIDE_A {
        for &b in &SIDE_B {
            nodes[a].net(root, "block", &nodes[b].peer_id);
            nodes[b].net(root, "block", &nodes[a].peer_id);
        }
    }
    wait_for("the partition", LIMIT, || {
        (SIDE_A.iter().all(|&i| nodes[i].peers() == 1)
            && SIDE_B.iter().all(|&i| nodes[i].peers() == 2))
        .then_some(())
    });

    // The same nonce spent to a different recipient on each side.
    let send = |node: &Node, to: &str| -> String {
        json(
            root,
            &[
                "wallet",
                "send",
                "--wallet",
                "spender.key",
                "--to",
                to,
                "--amount",
                "1",
                "--node",
                &node.api,
                "--json",
            ],
        )["txid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let tx_a = send(&nodes[0], &to_a);
    let tx_b = send(&nodes[1], &to_b);
    assert_ne!(tx_a, tx_b);

    // Each side mines its spend and goes on apart.
    let split_at = nodes[0].tip().unwrap().0;
    wait_for(
        "each side's spend mined and three blocks on each",
        LIMIT,
        || {
            let a_ok = SIDE_A.iter().all(|&i| nodes[i].confirmed(&tx_a));
            let b_ok = SIDE_B.iter().all(|&i| nodes[i].confirmed(&tx_b));
            let grown = nodes[0].tip()?.0 >= split_at + 3 && nodes[1].tip()?.0 >= split_at + 3;
            (a_ok && b_ok && grown).then_some(())
        },
    );
    assert!(!nodes[0].confirmed(&tx_b) && !nodes[1].confirmed(&tx_a));
    assert_ne!(
        nodes[0].tip(),
        nodes[1].tip(),
        "the sides hold different chains"
    );
    let side_work = nodes[0].work().max(nodes[1].work());

    // Heal; all five converge on one chain with at least either side's work.
    for &a in &SIDE_A {
        for &b in &SIDE_B {
            nodes[a].net(root, "unblock", &nodes[b].peer_id);
            nodes[b].net(root, "unblock", &nodes[a].peer_id);
        }
    }
    let healed = std::time::Instant::now();
    let (height, _) = wait_for("convergence after the heal", LIMIT, || {
        converged(&nodes).filter(|_| nodes[0].work() >= side_work)
    });
    eprintln!(
        "converged at height {height} {:.1} s after the heal",
        healed.elapsed().as_secs_f64()
    );
    // Exactly one spend on the final chain, the same one everywhere.
    let winner = wait_for("one spend everywhere", LIMIT, || {
        let a: Vec<bool> = nodes.iter().map(|n| n.confirmed(&tx_a)).collect();
        let b: Vec<bool> = nodes.iter().map(|n| n.confirmed(&tx_b)).collect();
        if a.iter().all(|&x| x) && b.iter().all(|&x| !x) {
            Some(&to_a)
        } else if b.iter().all(|&x| x) && a.iter().all(|&x| !x) {
            Some(&to_b)
        } else {
            None
        }
    });
    for n in &nodes {
        let account = |a: &str| get(&format!("{}/api/v1/accounts/{a}", n.api)).unwrap();
        assert_eq!(account(&spender)["nonce"], 1, "one spend of nonce 0");
        assert_eq!(account(winner)["balance_units"], 100_000_000);
        let loser = if winner == &to_a { &to_b } else { &to_a };
        assert_eq!(account(loser)["balance_units"], 0);
    }

    // A node killed with SIGKILL restarts on its data directory and catches up.
    let killed = 4;
    if let Some(mut guard) = nodes[killed].process.take() {
        guard.0.kill().unwrap(); // SIGKILL on Unix
        guard.0.wait().unwrap();
    }
    let at_kill = nodes[0].tip().unwrap().0;
    wait_for("three blocks while it is down", LIMIT, || {
        (nodes[0].tip()?.0 >= at_kill + 3).then_some(())
    });
    nodes[killed].start(root);
    let target = nodes[0].tip().unwrap().0;
    wait_for("the restarted node catching up", LIMIT, || {
        let tip = nodes[killed].tip()?;
        (tip.0 >= target && Some(&tip) == nodes[0].tip().as_ref()).then_some(())
    });
}

#[test]
fn devnet_with_three_nodes_mines_on_two_and_ends_with_all_in_step() {
    let tmp = tempfile::tempdir().unwrap();
    let api = free_port();
    let out = ok(
        tmp.path(),
        &[
            "devnet",
            "--nodes",
            "3",
            "--miners",
            "2",
            "--threads",
            "1",
            "--blocks",
            "8",
            "--exit",
            "--json",
            "--data-dir",
            "dn",
            "--api-addr",
            &format!("127.0.0.1:{api}"),
        ],
    );
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let started = &events[0];
    assert_eq!(started["event"], "started");
    let listed = started["nodes"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0]["api"], format!("http://127.0.0.1:{api}"));
    let mining: Vec<bool> = listed.iter().map(|n| n["mining"] == true).collect();
    assert_eq!(mining, [true, true, false]);
    assert!(listed.iter().all(|n| n["p2p"][0]
        .as_str()
        .is_some_and(|a| a.starts_with("/ip4/127.0.0.1/tcp/") && a.contains("/p2p/"))));
    let blocks = events.iter().filter(|e| e["event"] == "block").count();
    assert!(blocks >= 8, "{out}");
    // The last network view, just before `done`: every node has node 0's tip.
    let n = events.len();
    assert_eq!(events[n - 1]["event"], "done", "{out}");
    assert_eq!(events[n - 2]["event"], "network", "{out}");
    assert_eq!(events[n - 2]["in_step"], 3, "{out}");
    assert_eq!(
        events[n - 2]["heights"],
        serde_json::json!([8, 8, 8]),
        "{out}"
    );
    for i in 0..3 {
        assert!(tmp.path().join(format!("dn/node-{i}/chain.redb")).exists());
    }
}
