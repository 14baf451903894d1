//! `aic worker run` as a device owner runs it: mining through a real node's Stratum pool,
//! paused and resumed by `aic worker pause|resume`, its switcher's state, hand-overs, timeline
//! and earnings served, and its page.

use std::time::Duration;

mod common;

use common::{free_port, get, spawn};

fn wait_for<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    common::wait_for(what, Duration::from_secs(60), f)
}

/// Every coinbase paying `address` on the node's main chain: block hash to units.
fn coinbases_to(node_url: &str, address: &str) -> std::collections::BTreeMap<String, i64> {
    let mut out = std::collections::BTreeMap::new();
    let mut before = String::new();
    loop {
        let page = get(&format!(
            "{node_url}/api/v1/accounts/{address}/txs?limit=100{before}"
        ))
        .unwrap();
        for t in page["txs"].as_array().unwrap() {
            if t["kind"] == "coinbase" {
                let hash = t["block_hash"].as_str().unwrap().to_owned();
                out.insert(hash, t["delta_units"].as_i64().unwrap());
            }
        }
        match page["next_before"].as_u64() {
            Some(h) => before = format!("&before={h}"),
            None => return out,
        }
    }
}

#[test]
fn the_worker_mines_through_the_nodes_pool_and_obeys_pause_and_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let address = common::new_wallet(dir, "w.key");
    let (api, stratum, listen) = (free_port(), free_port(), free_port());
    let node_url = format!("http://127.0.0.1:{api}");
    let _node = common::spawn_pool_node(dir, api, stratum);
    wait_for("the node", || get(&format!("{node_url}/api/v1/status")));
    let worker_url = format!("http://127.0.0.1:{listen}");
    let user = format!("{address}.rig1");
    let start_worker = |listen: u16, pool: u16| {
        spawn(
            dir,
            &[
                "worker",
                "run",
                "--listen",
                &format!("127.0.0.1:{listen}"),
                "--pool",
                &format!("stratum+tcp://127.0.0.1:{pool}"),
                "--user",
                &user,
                "--threads",
                "1",
                "--switching",
                "--no-owner-activity",
                "--node",
                &node_url,
                "--data-dir",
                "worker",
                "--seconds",
                "120",
            ],
        )
    };
    let worker = start_worker(listen, stratum);
    let switcher = format!("{worker_url}/api/v1/worker/switcher");
    // The pool's shares are accepted and the node counts them for this worker.
    wait_for("shares accepted by the node's pool", || {
        get(&switcher).filter(|s| s["pool"]["accepted"].as_u64() >= Some(2))
    });
    let workers = wait_for("the worker in the node's list", || {
        get(&format!("{node_url}/api/v1/mining/workers"))
    });
    assert!(workers.to_string().contains("rig1"), "{workers}");

    // Paused: mining stops (the hash count stands still), a second pause is refused.
    common::ok(dir, &["worker", "pause", "--worker", &worker_url]);
    let paused = get(&switcher).unwrap();
    assert_eq!(paused["state"]["task"], "paused", "{paused}");
    std::thread::sleep(Duration::from_millis(300));
    let h1 = get(&switcher).unwrap()["hashes"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let h2 = get(&switcher).unwrap()["hashes"].as_u64().unwrap();
    assert_eq!(h1, h2, "hashing while paused");
    let again = common::aic(dir, &["worker", "pause", "--worker", &worker_url]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("409"));

    // Paused, the device's books close: the blocks it found (shares that met the network
    // target) are the blocks whose coinbase pays its address, and what the worker says they
    // earned is what the chain paid.
    let earned = get(&format!("{worker_url}/api/v1/worker/earnings")).unwrap();
    let blocks = &earned["devices"][0]["mining"]["blocks"];
    assert!(blocks["found"].as_u64() >= Some(1), "{earned}");
    assert_eq!(
        earned["mined_blocks"]["error"],
        serde_json::Value::Null,
        "{earned}"
    );
    assert_eq!(
        earned["mined_blocks"]["payout_address"], address,
        "{earned}"
    );
    let coinbases = coinbases_to(&node_url, &address);
    let chain_units: i64 = coinbases.values().sum();
    assert!(chain_units > 0, "no coinbase pays {address}");
    assert_eq!(
        blocks["in_chain"].as_u64(),
        Some(coinbases.len() as u64),
        "{earned}"
    );
    assert_eq!(blocks["paid_units"].as_i64(), Some(chain_units), "{earned}");
    assert_eq!(
        earned["devices"][0]["mining"]["paid_units"],
        blocks["paid_units"]
    );
    for b in earned["mined_blocks"]["recent"].as_array().unwrap() {
        if b["state"] == "main" {
            let hash = b["hash"].as_str().unwrap();
            assert_eq!(
                b["paid_units"].as_i64(),
                coinbases.get(hash).copied(),
                "{b}"
            );
        }
    }

    // Resumed: mining again, with a release and a resume measured.
    common::ok(dir, &["worker", "resume", "--worker", &worker_url]);
    let after = wait_for("hashing after resume", || {
        get(&switcher).filter(|s| s["hashes"].as_u64() > Some(h2))
    });
    assert_eq!(after["state"]["task"], "mining");
    let kinds: Vec<&str> = after["switches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["release", "resume"], "{after}");
    // The timeline: mining, the pause, mining again, the last one ending now.
    let tasks: Vec<&str> = after["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["task"].as_str().unwrap())
        .collect();
    let paused_at = tasks.iter().position(|t| *t == "paused");
    assert!(
        paused_at > tasks.iter().position(|t| *t == "mining"),
        "{after}"
    );
    assert_eq!(tasks.last(), Some(&"mining"), "{after}");
    let last = after["timeline"].as_array().unwrap().last().unwrap();
    assert_eq!(last["end_s"], after["now_s"], "{after}");
    // Earnings of the device: the pool's accepted shares, time hashing, no AI work.
    let earned = get(&format!("{worker_url}/api/v1/worker/earnings")).unwrap();
    let device = &earned["devices"][0];
    assert_eq!(device["device"], after["device"], "{earned}");
    assert!(
        device["mining"]["shares_accepted"].as_u64() >= Some(2),
        "{earned}"
    );
    assert!(device["mining"]["seconds"].as_f64() > Some(0.0), "{earned}");
    assert_eq!(device["ai"]["seconds"], 0.0, "{earned}");
    assert!(earned["market"].is_null(), "{earned}");
    // The owner's page is served at the root.
    let page = ureq::get(&format!("{worker_url}/")).call().unwrap();
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.into_string().unwrap().contains("/dashboard/worker.js"));
    // The monitor says who holds the device.
    let status = wait_for("the monitor's sample", || {
        get(&format!("{worker_url}/api/v1/worker/status?history=0"))
            .filter(|s| s["latest"]["devices"][0]["task"] == "mining")
    });
    assert_eq!(status["tasks"].as_object().unwrap().len(), 1);

    // Paused again and killed (a crash, no clean exit) once its book has been saved, then
    // started again on the same directory with a pool that is not there: it mines nothing
    // new, and still knows every block its device found, as the chain does.
    common::ok(dir, &["worker", "pause", "--worker", &worker_url]);
    std::thread::sleep(Duration::from_millis(500));
    let before = get(&format!("{worker_url}/api/v1/worker/earnings")).unwrap();
    std::thread::sleep(Duration::from_millis(2_500)); // the book is saved every 2 s
    drop(worker);
    assert!(dir
        .join("worker")
        .join(format!("mined-{user}.json"))
        .exists());
    let (listen, dead) = (free_port(), free_port());
    let _again = start_worker(listen, dead);
    let after = wait_for("the restarted worker's earnings", || {
        get(&format!("http://127.0.0.1:{listen}/api/v1/worker/earnings"))
    });
    let blocks = &after["devices"][0]["mining"]["blocks"];
    assert_eq!(
        blocks, &before["devices"][0]["mining"]["blocks"],
        "{before}\n{after}"
    );
    let coinbases = coinbases_to(&node_url, &address);
    assert_eq!(blocks["in_chain"].as_u64(), Some(coinbases.len() as u64));
    assert_eq!(
        blocks["paid_units"].as_i64(),
        Some(coinbases.values().sum::<i64>())
    );
}
