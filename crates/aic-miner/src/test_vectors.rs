//! Real Bitcoin block headers, shared by the kernels' tests.

/// A hash as block explorers print it (reversed) to internal byte order.
fn from_display(hex_str: &str) -> [u8; 32] {
    let mut bytes: [u8; 32] = hex::decode(hex_str).unwrap().try_into().unwrap();
    bytes.reverse();
    bytes
}

/// Serialises a header from its fields, hashes given as block explorers print them.
fn header(version: u32, prev: &str, merkle: &str, time: u32, bits: u32, nonce: u32) -> [u8; 80] {
    let mut h = [0u8; 80];
    h[0..4].copy_from_slice(&version.to_le_bytes());
    h[4..36].copy_from_slice(&from_display(prev));
    h[36..68].copy_from_slice(&from_display(merkle));
    h[68..72].copy_from_slice(&time.to_le_bytes());
    h[72..76].copy_from_slice(&bits.to_le_bytes());
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    h
}

/// (name, header, block hash in internal byte order) for Bitcoin blocks 0, 1 and 100000.
pub(crate) fn real_headers() -> Vec<(&'static str, [u8; 80], [u8; 32])> {
    vec![
        (
            "genesis",
            header(
                1,
                "0000000000000000000000000000000000000000000000000000000000000000",
                "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
                1231006505,
                0x1d00ffff,
                2083236893,
            ),
            from_display("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"),
        ),
        (
            "block 1",
            header(
                1,
                "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
                "0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098",
                1231469665,
                0x1d00ffff,
                2573394689,
            ),
            from_display("00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048"),
        ),
        (
            "block 100000",
            header(
                1,
                "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250",
                "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766",
                1293623863,
                0x1b04864c,
                274148111,
            ),
            from_display("000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506"),
        ),
    ]
}

pub(crate) use crate::work::bits_to_target;

#[test]
fn bits_expand_as_bitcoin_does() {
    // 0x1d00ffff: 0xffff * 256^26, the difficulty-1 target.
    let t = bits_to_target(0x1d00ffff);
    let mut want = [0u8; 32];
    want[26] = 0xff;
    want[27] = 0xff;
    assert_eq!(t, want);
    let t = bits_to_target(0x1b04864c);
    assert_eq!(&t[24..28], &[0x4c, 0x86, 0x04, 0x00]);
    assert!(t[..24].iter().chain(&t[28..]).all(|&b| b == 0));
}
