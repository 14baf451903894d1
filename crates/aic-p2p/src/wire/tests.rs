use super::*;
use aic_primitives::{CompactTarget, Target};
use proptest::prelude::*;

use crate::testkit::{genesis, mine_child};

fn pow_limit() -> Target {
    CompactTarget(0x207f_ffff).to_target().unwrap()
}

fn sample_requests() -> Vec<SyncRequest> {
    vec![
        SyncRequest::Status,
        SyncRequest::Headers {
            locator: vec![Hash256([1; 32]), Hash256([2; 32])],
            max: 2_000,
        },
        SyncRequest::Blocks(vec![Hash256([3; 32]); 16]),
    ]
}

fn sample_responses() -> Vec<SyncResponse> {
    let g = genesis();
    let b = mine_child(&g.header, 1, Vec::new());
    vec![
        SyncResponse::Status(Status {
            genesis: g.hash(),
            tip: b.hash(),
            height: Height(1),
            work: Work(U256::from(12345u64)),
        }),
        SyncResponse::Headers(vec![g.header, b.header]),
        SyncResponse::Blocks(vec![g, b]),
        SyncResponse::Busy,
    ]
}

#[test]
fn every_message_round_trips() {
    for r in sample_requests() {
        assert_eq!(SyncRequest::decode(&r.to_bytes()).unwrap(), r);
    }
    for r in sample_responses() {
        assert_eq!(SyncResponse::decode(&r.to_bytes(), 1 << 20).unwrap(), r);
    }
    let id = BlobId::of(b"x");
    for r in [
        BlobRequest::Have(id),
        BlobRequest::Get {
            id,
            offset: 7,
            len: MAX_BLOB_CHUNK,
        },
    ] {
        assert_eq!(BlobRequest::decode(&r.to_bytes()).unwrap(), r);
    }
    for r in [
        BlobResponse::Have(None),
        BlobResponse::Have(Some(5)),
        BlobResponse::Chunk(vec![1, 2, 3]),
        BlobResponse::NotFound,
        BlobResponse::Busy,
    ] {
        assert_eq!(BlobResponse::decode(&r.to_bytes()).unwrap(), r);
    }
    let a = Announcement {
        kind: 3,
        body: vec![9; 100],
    };
    assert_eq!(Announcement::decode(&a.to_bytes()).unwrap(), a);
}

#[test]
fn unknown_tags_trailing_bytes_and_oversize_are_refused() {
    assert!(matches!(
        SyncRequest::decode(&[9]),
        Err(WireError::Malformed {
            source: DecodeError::UnknownTag { .. },
            ..
        })
    ));
    assert!(matches!(
        SyncRequest::decode(&[0, 0]),
        Err(WireError::Malformed {
            source: DecodeError::TrailingBytes(1),
            ..
        })
    ));
    assert!(matches!(
        SyncRequest::decode(&vec![0; MAX_REQUEST_BYTES + 1]),
        Err(WireError::TooLarge { .. })
    ));
    let big = SyncResponse::Busy.to_bytes();
    assert!(matches!(
        SyncResponse::decode(&big, 0),
        Err(WireError::TooLarge { .. })
    ));
    // Seventeen block hashes is one over the limit.
    let mut over = vec![2, 17];
    over.extend(std::iter::repeat_n(0u8, 17 * 32));
    assert!(matches!(
        SyncRequest::decode(&over),
        Err(WireError::Malformed {
            source: DecodeError::CountTooLarge { .. },
            ..
        })
    ));
    // A chunk request larger than a chunk.
    let mut get = BlobRequest::Get {
        id: BlobId::of(b""),
        offset: 0,
        len: 1,
    }
    .to_bytes();
    let n = get.len();
    get[n - 4..].copy_from_slice(&(MAX_BLOB_CHUNK + 1).to_le_bytes());
    assert!(BlobRequest::decode(&get).is_err());
    // An announcement over its limit.
    let a = Announcement {
        kind: 0,
        body: vec![0; MAX_ANNOUNCEMENT_BYTES + 1],
    };
    assert!(Announcement::decode(&a.to_bytes()).is_err());
    assert!(matches!(
        decode_block(&[0; 100], 50),
        Err(WireError::TooLarge { .. })
    ));
}

#[test]
fn header_checks_break_one_rule_each() {
    let g = genesis();
    let b1 = mine_child(&g.header, 1, Vec::new());
    let b2 = mine_child(&b1.header, 2, Vec::new());
    let ok = [g.header, b1.header, b2.header];
    assert!(check_headers(&ok, &pow_limit()).is_ok());
    // Unlinked.
    assert_eq!(
        check_headers(&[g.header, b2.header], &pow_limit()),
        Err(WireError::Unlinked { index: 1 })
    );
    // Insufficient work: find a nonce whose hash misses the target.
    let mut bad = b1.header;
    let target = bad.bits.to_target().unwrap();
    while target.is_met_by(&bad.hash()) {
        bad.nonce += 1;
    }
    assert!(matches!(
        check_headers(&[bad], &pow_limit()),
        Err(WireError::InsufficientWork { .. })
    ));
    // Bits easier than the limit, and bits that are no target at all.
    let mut easy = b1.header;
    easy.bits = CompactTarget(0x2100_ffff);
    assert!(matches!(
        check_headers(&[easy], &pow_limit()),
        Err(WireError::BadBits { .. })
    ));
    let mut zero = b1.header;
    zero.bits = CompactTarget(0);
    assert!(matches!(
        check_headers(&[zero], &pow_limit()),
        Err(WireError::BadBits { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn decoders_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = SyncRequest::decode(&bytes);
        let _ = SyncResponse::decode(&bytes, 1 << 20);
        let _ = BlobRequest::decode(&bytes);
        let _ = BlobResponse::decode(&bytes);
        let _ = Announcement::decode(&bytes);
        let _ = decode_block(&bytes, 1 << 20);
        let _ = decode_tx(&bytes, 1 << 20);
    }

    #[test]
    fn decoders_never_panic_on_mutated_messages(
        which in 0usize..7,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut bytes = match which {
            0..=2 => sample_requests()[which].to_bytes(),
            _ => sample_responses()[which - 3].to_bytes(),
        };
        for (i, v) in flips {
            let n = bytes.len();
            bytes[i % n] ^= v;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = SyncRequest::decode(&bytes);
        let _ = SyncResponse::decode(&bytes, 1 << 20);
        let _ = BlobResponse::decode(&bytes);
    }

    #[test]
    fn decoded_messages_reencode_to_the_same_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        // Canonical: whatever decodes has exactly one encoding, the one it came from.
        if let Ok(m) = SyncRequest::decode(&bytes) { prop_assert_eq!(m.to_bytes(), bytes.clone()); }
        if let Ok(m) = SyncResponse::decode(&bytes, 1 << 20) { prop_assert_eq!(m.to_bytes(), bytes.clone()); }
        if let Ok(m) = BlobRequest::decode(&bytes) { prop_assert_eq!(m.to_bytes(), bytes.clone()); }
        if let Ok(m) = BlobResponse::decode(&bytes) { prop_assert_eq!(m.to_bytes(), bytes.clone()); }
        if let Ok(m) = Announcement::decode(&bytes) { prop_assert_eq!(m.to_bytes(), bytes.clone()); }
    }
}
