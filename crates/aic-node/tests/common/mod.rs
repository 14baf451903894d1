//! A real node on a loopback port for the API tests, and a standard miner's getblocktemplate
//! flow to mine its blocks.

#![allow(dead_code, unreachable_pub)]

use aic_node::{NodeConfig, RunningNode};
use aic_primitives::{
    merkle_root, sha256d, Action, Address, Amount, ChainParams, CompactSize, Encode, Hash256,
    Network, SecretKey, Target, Transaction, TxBody, U256,
};
use serde_json::{json, Value};

pub struct TestNode {
    pub node: Option<RunningNode>,
    pub rt: tokio::runtime::Runtime,
    pub base: String,
    pub auth: String,
    pub _dir: tempfile::TempDir,
}

pub fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

pub fn addr(i: u8) -> Address {
    Address::from_public_key(&key(i).public_key())
}

impl TestNode {
    pub fn start() -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = NodeConfig {
            network: "devnet".to_owned(),
            data_dir: dir.path().to_owned(),
            api_addr: "127.0.0.1:0".parse().unwrap(),
            payout_address: Some(addr(1).to_bech32(Network::Devnet)),
            ..NodeConfig::default()
        };
        let node = rt.block_on(RunningNode::start(&config)).unwrap();
        let base = format!("http://{}", node.api_addr);
        let auth = node.rpc_auth.header_value();
        TestNode {
            node: Some(node),
            rt,
            base,
            auth,
            _dir: dir,
        }
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        answer(ureq::get(&format!("{}{path}", self.base)).call())
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        answer(ureq::post(&format!("{}{path}", self.base)).send_json(body))
    }

    pub fn rpc(&self, method: &str, params: Value) -> (u16, Value) {
        answer(
            ureq::post(&format!("{}/rpc", self.base))
                .set("Authorization", &self.auth)
                .send_json(
                    json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params}),
                ),
        )
    }

    pub fn status(&self) -> Value {
        self.get("/api/v1/status").1
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(n) = self.node.take() {
            self.rt.block_on(n.shutdown());
        }
    }
}

pub fn answer(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(resp) => (resp.status(), resp.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("transport error: {e}"),
    }
}

pub fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

pub fn display_hash(v: &Value) -> Hash256 {
    v.as_str().unwrap().parse().unwrap()
}

/// Builds and mines a block from a getblocktemplate answer the way a standard miner does:
/// the coinbase and transactions from their `data`, Bitcoin's merkle tree over their txids,
/// the header from the template's fields, a nonce search, and the block bytes.
pub fn mine_template(t: &Value, mutate_merkle: bool) -> Vec<u8> {
    let mut txs = vec![unhex(&t["coinbasetxn"]["data"])];
    for tx in t["transactions"].as_array().unwrap() {
        txs.push(unhex(&tx["data"]));
    }
    let ids: Vec<Hash256> = txs.iter().map(|b| sha256d(b)).collect();
    let mut root = merkle_root(&ids).0;
    if mutate_merkle {
        root.0[0] ^= 1;
    }
    let bits = u32::from_str_radix(t["bits"].as_str().unwrap(), 16).unwrap();
    let target = Target(U256::from_str_radix(t["target"].as_str().unwrap(), 16).unwrap());
    let mut header = Vec::with_capacity(80);
    header.extend_from_slice(&(t["version"].as_i64().unwrap() as i32).to_le_bytes());
    header.extend_from_slice(display_hash(&t["previousblockhash"]).as_bytes());
    header.extend_from_slice(root.as_bytes());
    header.extend_from_slice(&(t["curtime"].as_u64().unwrap() as u32).to_le_bytes());
    header.extend_from_slice(&bits.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    for nonce in 0u32.. {
        header[76..].copy_from_slice(&nonce.to_le_bytes());
        if target.is_met_by(&sha256d(&header)) {
            break;
        }
    }
    let mut block = header;
    CompactSize(txs.len() as u64).encode_to(&mut block);
    for tx in txs {
        block.extend_from_slice(&tx);
    }
    block
}

/// A block from template `t` whose header misses the target.
pub fn missing_target(t: &Value) -> Vec<u8> {
    let mut block = mine_template(t, false);
    let target = Target(U256::from_str_radix(t["target"].as_str().unwrap(), 16).unwrap());
    for nonce in 0u32.. {
        block[76..80].copy_from_slice(&nonce.to_le_bytes());
        if !target.is_met_by(&sha256d(&block[..80])) {
            break;
        }
    }
    block
}

pub fn template(n: &TestNode) -> Value {
    let (code, r) = n.rpc("getblocktemplate", json!([{"rules": []}]));
    assert_eq!(code, 200, "{r}");
    r["result"].clone()
}

pub fn submit(n: &TestNode, block: &[u8]) -> Value {
    let (code, r) = n.rpc("submitblock", json!([hex::encode(block)]));
    assert_eq!(code, 200, "{r}");
    r["result"].clone()
}

pub fn transfer(from: u8, nonce: u64, to: Address, amount: u64, fee: u64) -> Transaction {
    Transaction::Signed(
        TxBody {
            chain_id: ChainParams::devnet().chain_id,
            sender: key(from).public_key(),
            nonce,
            fee: Amount::from_units(fee),
            action: Action::Transfer {
                to,
                amount: Amount::from_units(amount),
            },
        }
        .sign(&key(from)),
    )
}
