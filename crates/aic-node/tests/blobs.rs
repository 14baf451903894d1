//! The blob routes of a real node on a loopback port: ranges, HEAD, 416, verified PUT, and a
//! data set published then fetched back by the transfer client.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use aic_blob::{BlobId, BlobStore, FetchConfig, Fetcher, Progress};
use aic_data::{
    Column, DType, DatasetManifest, FeaturizerRecord, Provenance, ShardWriter, Split,
    MANIFEST_FORMAT,
};
use aic_node::{NodeConfig, RunningNode};

struct TestNode {
    node: Option<RunningNode>,
    rt: tokio::runtime::Runtime,
    base: String,
    auth: String,
    _dir: tempfile::TempDir,
}

impl TestNode {
    fn start() -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = NodeConfig {
            network: "devnet".to_owned(),
            data_dir: dir.path().to_owned(),
            api_addr: "127.0.0.1:0".parse().unwrap(),
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

    fn store(&self) -> &BlobStore {
        &self.node.as_ref().unwrap().blobs
    }

    fn url(&self, id: &str) -> String {
        format!("{}/api/v1/blobs/{id}", self.base)
    }

    fn put(&self, id: &str, body: &[u8], auth: bool) -> (u16, serde_json::Value) {
        let mut req = ureq::put(&self.url(id)).timeout(Duration::from_secs(10));
        if auth {
            req = req.set("Authorization", &self.auth);
        }
        match req.send_bytes(body) {
            Ok(r) => (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_json().unwrap_or_default()),
            Err(e) => panic!("{e}"),
        }
    }

    /// Status, headers asked for, body.
    fn get(&self, id: &str, range: Option<&str>) -> (u16, Vec<Option<String>>, Vec<u8>) {
        let mut req = ureq::get(&self.url(id)).timeout(Duration::from_secs(10));
        if let Some(r) = range {
            req = req.set("Range", r);
        }
        let r = match req.call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let headers = ["Content-Range", "Content-Length", "ETag", "Accept-Ranges"]
            .iter()
            .map(|h| r.header(h).map(str::to_owned))
            .collect();
        let status = r.status();
        let mut body = Vec::new();
        r.into_reader().read_to_end(&mut body).unwrap();
        (status, headers, body)
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(n) = self.node.take() {
            self.rt.block_on(n.shutdown());
        }
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[test]
fn get_head_and_ranges() {
    let node = TestNode::start();
    let blob: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let id = BlobId::of(&blob).to_hex();
    let (status, body) = node.put(&id, &blob, true);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["bytes"], 1000);
    assert_eq!(node.put(&id, &blob, true).0, 200, "already stored");

    let (status, h, body) = node.get(&id, None);
    assert_eq!(status, 200);
    assert_eq!(body, blob);
    assert_eq!(
        h,
        vec![None, s("1000"), Some(format!("\"{id}\"")), s("bytes")]
    );

    let (status, h, body) = node.get(&id, Some("bytes=10-19"));
    assert_eq!((status, &body[..]), (206, &blob[10..20]));
    assert_eq!(h[0], s("bytes 10-19/1000"));
    assert_eq!(h[1], s("10"));
    let (status, h, body) = node.get(&id, Some("bytes=990-"));
    assert_eq!(
        (status, &body[..], h[0].clone()),
        (206, &blob[990..], s("bytes 990-999/1000"))
    );
    let (status, h, body) = node.get(&id, Some("bytes=-5"));
    assert_eq!(
        (status, &body[..], h[0].clone()),
        (206, &blob[995..], s("bytes 995-999/1000"))
    );
    let (status, _, body) = node.get(&id, Some("bytes=900-5000"));
    assert_eq!((status, &body[..]), (206, &blob[900..]));
    for unsatisfiable in ["bytes=1000-", "bytes=1000-1001", "bytes=-0"] {
        let (status, h, _) = node.get(&id, Some(unsatisfiable));
        assert_eq!(
            (status, h[0].clone()),
            (416, s("bytes */1000")),
            "{unsatisfiable}"
        );
    }
    // A malformed range is ignored: the whole blob.
    assert_eq!(node.get(&id, Some("bytes=9-1")).0, 200);

    let head = ureq::head(&node.url(&id)).call().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.header("Content-Length"), Some("1000"));
    let mut rest = Vec::new();
    head.into_reader().read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());

    let missing = BlobId::of(b"nobody stored this").to_hex();
    assert_eq!(node.get(&missing, None).0, 404);
    assert_eq!(node.get("not-an-id", None).0, 400);
}

#[test]
fn put_refuses_a_wrong_hash_and_missing_credentials() {
    let node = TestNode::start();
    let claimed = BlobId::of(b"the promised bytes").to_hex();
    let (status, body) = node.put(&claimed, b"other bytes", true);
    assert_eq!(status, 400);
    assert_eq!(body["code"], "hash-mismatch");
    assert!(body["message"].as_str().unwrap().contains("nothing stored"));
    assert_eq!(node.get(&claimed, None).0, 404);
    let other = BlobId::of(b"other bytes");
    assert!(node.store().list().unwrap().is_empty() && !node.store().has(&other));
    let tmp = node.store().root().join("tmp");
    assert_eq!(std::fs::read_dir(tmp).unwrap().count(), 0);

    let id = BlobId::of(b"x").to_hex();
    let (status, body) = node.put(&id, b"x", false);
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    assert!(node.store().list().unwrap().is_empty());
    assert_eq!(node.put("ABC", b"x", true).0, 400);
}

fn dataset(dir: &std::path::Path) -> DatasetManifest {
    let columns = vec![Column::new("x", DType::Uint8, &[256])];
    let shards_dir = dir.join("shards");
    std::fs::create_dir_all(&shards_dir).unwrap();
    let mut entries = Vec::new();
    for s in 0..3u32 {
        let mut w = ShardWriter::new(&columns).unwrap();
        for i in 0..2000u32 {
            let row: Vec<u8> = (0..256u32)
                .map(|j| (i * 7 + j * 13 + s * 101) as u8)
                .collect();
            w.push(&[&row]).unwrap();
        }
        let shard = w.finish(1).unwrap();
        std::fs::write(shards_dir.join(&shard.entry.blake3), &shard.bytes).unwrap();
        entries.push(shard.entry);
    }
    let manifest = DatasetManifest {
        format: MANIFEST_FORMAT.into(),
        name: "blob-test".into(),
        columns,
        shards: entries,
        splits: BTreeMap::from([(
            "train".into(),
            Split {
                shards: vec![0, 1, 2],
            },
        )]),
        provenance: Provenance {
            sources: Vec::new(),
            featurizer: FeaturizerRecord {
                name: "aic-data".into(),
                version: "0".into(),
                params: aic_model::Featurizer::LogMel(aic_model::LogMelParams::speech_8khz()),
            },
            license: "test".into(),
        },
    };
    std::fs::write(dir.join("manifest.json"), manifest.to_json()).unwrap();
    manifest
}

#[test]
fn publish_then_fetch_a_dataset() {
    let node = TestNode::start();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dataset(dir.path());
    let first = aic_blob::publish(dir.path(), &node.base, Some(&node.auth)).unwrap();
    assert_eq!(first.dataset.to_hex(), manifest.blake3_hex());
    assert_eq!((first.uploaded.len(), first.skipped.len()), (4, 0));
    let again = aic_blob::publish(dir.path(), &node.base, Some(&node.auth)).unwrap();
    assert_eq!(
        (again.uploaded.len(), again.skipped.len(), again.bytes),
        (0, 4, 0)
    );
    // Without credentials nothing new can be published.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join("shards")).unwrap();
    let mut m2 = manifest.clone();
    m2.name = "renamed".into();
    std::fs::write(other.path().join("manifest.json"), m2.to_json()).unwrap();
    for e in &m2.shards {
        std::fs::copy(
            dir.path().join("shards").join(&e.blake3),
            other.path().join("shards").join(&e.blake3),
        )
        .unwrap();
    }
    let err = aic_blob::publish(other.path(), &node.base, None).unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");

    // A worker fetches the manifest, then its shards, from the node.
    let local = tempfile::tempdir().unwrap();
    let store = BlobStore::open(local.path()).unwrap();
    let fetcher = Fetcher::new(store.clone(), FetchConfig::default());
    let quiet = |_: Progress| {};
    let sources = [node.base.clone()];
    fetcher.fetch(&[first.dataset], &sources, &quiet).unwrap();
    let got = DatasetManifest::from_json(&store.get(&first.dataset).unwrap()).unwrap();
    let ids: Vec<BlobId> = got
        .shards
        .iter()
        .map(|s| s.blake3.parse().unwrap())
        .collect();
    let report = fetcher.fetch(&ids, &sources, &quiet).unwrap();
    assert_eq!(
        report.bytes(),
        got.shards.iter().map(|s| s.bytes).sum::<u64>()
    );
    for e in &got.shards {
        let want = std::fs::read(dir.path().join("shards").join(&e.blake3)).unwrap();
        assert_eq!(store.get(&e.blake3.parse().unwrap()).unwrap(), want);
    }
}
