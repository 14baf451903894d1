//! Header assembly reproduces the shares and blocks of a real third-party miner (pooler's
//! cpuminer 2.5.1); see `tests/data/README.md`.

use aic_miner::{
    meets_target, merkle_branches_for, merkle_root_from_branches, sha256d, WorkTemplate,
};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().unwrap()).unwrap()
}

fn hash32(value: &Value) -> [u8; 32] {
    bytes(value).try_into().unwrap()
}

/// A hash shown in display order (big-endian hex), turned into internal byte order.
fn display_hash(value: &Value) -> [u8; 32] {
    let mut hash = hash32(value);
    hash.reverse();
    hash
}

/// An 8-digit big-endian hex number, as Stratum sends version, nbits, ntime and nonce.
fn be_u32(value: &Value) -> u32 {
    u32::from_str_radix(value.as_str().unwrap(), 16).unwrap()
}

/// Stratum's prevhash has each 4-byte word reversed relative to header byte order.
fn prevhash_from_wire(value: &Value) -> [u8; 32] {
    let mut hash = hash32(value);
    for word in hash.chunks_exact_mut(4) {
        word.reverse();
    }
    hash
}

#[test]
fn stratum_shares_of_cpuminer_are_reproduced() {
    let log = load("stub_log_minerd.json");
    let job = &log["job"];
    // Share target at difficulty 0.001: 0xFFFF * 2^208 / 0.001 = 0x03E7FC18 * 2^208.
    assert_eq!(log["difficulty"].as_f64(), Some(0.001));
    let mut target = [0u8; 32];
    target[26..30].copy_from_slice(&0x03e7_fc18u32.to_le_bytes());
    let work = WorkTemplate {
        version: be_u32(&job["version"]),
        version_mask: 0,
        prev_hash: prevhash_from_wire(&job["prevhash"]),
        coinbase1: bytes(&job["coinb1"]),
        extranonce1: bytes(&log["extranonce1"]),
        extranonce2_size: log["extranonce2_size"].as_u64().unwrap() as usize,
        coinbase2: bytes(&job["coinb2"]),
        merkle_branches: job["merkle_branch"]
            .as_array()
            .unwrap()
            .iter()
            .map(hash32)
            .collect(),
        ntime: be_u32(&job["ntime"]),
        ntime_max_roll: 0,
        nbits: be_u32(&job["nbits"]),
        target,
    };
    let submits = log["submits"].as_array().unwrap();
    assert_eq!(submits.len(), 15);
    for submit in submits {
        // params: worker, job id, extranonce2, ntime, nonce.
        let params = submit["params"].as_array().unwrap();
        assert_eq!(params[1], job["job_id"]);
        let extranonce2 = bytes(&params[2]);
        let ntime = be_u32(&params[3]);
        let nonce = be_u32(&params[4]);
        assert_eq!(
            work.merkle_root(&extranonce2),
            hash32(&submit["merkle_root_internal_hex"])
        );
        let mut header = work.header(&extranonce2, ntime, work.version);
        header[76..].copy_from_slice(&nonce.to_le_bytes());
        assert_eq!(header.to_vec(), bytes(&submit["header_hex"]));
        let hash = sha256d(&header);
        assert_eq!(hash, display_hash(&submit["hash_display_hex"]));
        assert!(meets_target(&hash, &work.target));
    }
}

#[test]
fn getblocktemplate_blocks_of_cpuminer_match_merkle_branches_for() {
    let log = load("gbt_log.json");
    let txids: Vec<[u8; 32]> = log["template"]["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tx| display_hash(&tx["txid"]))
        .collect();
    let branches = merkle_branches_for(&txids);
    let blocks = log["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 16);
    for block in blocks {
        assert_eq!(block["ntx"].as_u64(), Some(txids.len() as u64 + 1));
        let header = bytes(&block["header_hex"]);
        let coinbase_id = sha256d(&bytes(&block["coinbase_hex"]));
        assert_eq!(
            merkle_root_from_branches(coinbase_id, &branches)[..],
            header[36..68]
        );
        assert_eq!(sha256d(&header), display_hash(&block["hash_display_hex"]));
    }
}
