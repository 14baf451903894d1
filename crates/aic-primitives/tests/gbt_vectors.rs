//! A real getblocktemplate miner's blocks, checked with this chain's header, merkle and
//! framing code: what such a miner builds from a template is byte for byte what we expect.

use aic_primitives::{
    merkle_root, sha256d, BlockHeader, CompactSize, Decode, Encode, Hash256, Reader, Target, U256,
};
use serde_json::Value;

fn load() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gbt_log.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn cpuminer_blocks_match_our_header_merkle_and_framing() {
    let log = load();
    let template = &log["template"];
    let prev: Hash256 = template["previousblockhash"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let target = Target(U256::from_str_radix(template["target"].as_str().unwrap(), 16).unwrap());
    let tx_data: Vec<Vec<u8>> = template["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| unhex(&t["data"]))
        .collect();
    for t in template["transactions"].as_array().unwrap() {
        // Template txids are SHA-256d of the data, in display order.
        assert_eq!(
            sha256d(&unhex(&t["data"])).to_string(),
            t["txid"].as_str().unwrap()
        );
    }
    let submitted: Vec<Vec<u8>> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "submitblock")
        .map(|r| unhex(&r["params"][0]))
        .collect();
    let blocks = log["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 16);
    assert_eq!(submitted.len(), blocks.len());
    for (b, bytes) in blocks.iter().zip(&submitted) {
        let header = BlockHeader::from_bytes(&unhex(&b["header_hex"])).unwrap();
        assert_eq!(
            header.hash().to_string(),
            b["hash_display_hex"].as_str().unwrap()
        );
        assert_eq!(header.prev_hash, prev);
        assert_eq!(header.version as i64, template["version"].as_i64().unwrap());
        assert_eq!(header.bits.to_string(), template["bits"].as_str().unwrap());
        assert!(target.is_met_by(&header.hash()));
        let coinbase = unhex(&b["coinbase_hex"]);
        let mut ids = vec![sha256d(&coinbase)];
        ids.extend(tx_data.iter().map(|d| sha256d(d)));
        assert_eq!(merkle_root(&ids), (header.merkle_root, false));
        // Block bytes: header, CompactSize count, then the transactions as they are.
        let mut expected = header.to_bytes();
        CompactSize(ids.len() as u64).encode_to(&mut expected);
        expected.extend_from_slice(&coinbase);
        for d in &tx_data {
            expected.extend_from_slice(d);
        }
        assert_eq!(&expected, bytes);
        let mut r = Reader::new(&bytes[80..]);
        assert_eq!(r.read_compact_size().unwrap(), b["ntx"].as_u64().unwrap());
    }
}
