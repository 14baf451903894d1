//! The store round-trips what it is given and refuses databases that are not its own.

use aic_primitives::{Address, ChainParams, Encode, Hash256, Height};
use aic_storage::{BlockStatus, IndexEntry, StorageError, Store, WriteBatch};

fn genesis_batch(p: &ChainParams) -> (Hash256, WriteBatch) {
    let g = p.genesis_block();
    let hash = g.hash();
    let entry = IndexEntry {
        header: g.header,
        height: Height(0),
        chain_work: p.pow_limit.to_target().unwrap().work(),
        status: BlockStatus::Valid,
    };
    let batch = WriteBatch {
        new_blocks: vec![(hash, g.to_bytes(), entry)],
        connected: vec![(hash, Height(0), vec![g.txs[0].txid()], vec![0])],
        accounts: vec![(Address([1; 20]), vec![9; 16])],
        tip: Some(hash),
        ..Default::default()
    };
    (hash, batch)
}

#[test]
fn a_batch_is_read_back_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let p = ChainParams::devnet();
    let (hash, batch) = genesis_batch(&p);
    {
        let store = Store::open(&path, hash).unwrap();
        assert_eq!(store.tip().unwrap(), None);
        assert!(!batch.is_empty());
        store.write(&batch).unwrap();
    }
    let store = Store::open(&path, hash).unwrap();
    assert_eq!(store.tip().unwrap(), Some(hash));
    assert_eq!(store.load_main_chain().unwrap(), vec![hash]);
    assert_eq!(store.block(&hash).unwrap(), Some(p.genesis_block()));
    assert_eq!(store.load_index().unwrap()[0].1, batch.new_blocks[0].2);
    assert_eq!(
        store.load_accounts().unwrap(),
        vec![(Address([1; 20]), vec![9; 16])]
    );
    let txid = p.genesis_block().txs[0].txid();
    assert_eq!(store.tx_location(&txid).unwrap(), Some((hash, 0)));
    assert_eq!(store.undo(&hash).unwrap(), Some(vec![0]));

    // Disconnecting removes the main-chain entry, the undo data and the tx index; empty
    // account bytes delete the account.
    store
        .write(&WriteBatch {
            disconnected: vec![(hash, Height(0), vec![txid])],
            accounts: vec![(Address([1; 20]), Vec::new())],
            ..Default::default()
        })
        .unwrap();
    assert!(store.load_main_chain().unwrap().is_empty());
    assert_eq!(store.tx_location(&txid).unwrap(), None);
    assert_eq!(store.undo(&hash).unwrap(), None);
    assert!(store.load_accounts().unwrap().is_empty());
}

#[test]
fn a_database_of_another_network_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    drop(Store::open(&path, ChainParams::devnet().genesis_hash()).unwrap());
    assert!(matches!(
        Store::open(&path, ChainParams::mainnet().genesis_hash()),
        Err(StorageError::WrongNetwork { .. })
    ));
}

#[test]
fn a_second_process_cannot_open_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    let g = ChainParams::devnet().genesis_hash();
    let _first = Store::open(&path, g).unwrap();
    assert!(matches!(Store::open(&path, g), Err(StorageError::Db(_))));
}
