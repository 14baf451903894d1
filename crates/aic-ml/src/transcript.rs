//! The training transcript: the ids of the checkpoints taken every K steps, committed to by one
//! Merkle root. A provider publishes the root with its result; a verifier asks for checkpoint
//! `i` and `i + 1` with their inclusion proofs, re-executes the segment between them
//! ([`crate::train::Trainer::replay`]) and compares ids.
//!
//! Leaves are `BLAKE3("aic-transcript-leaf" || step (u64 LE) || checkpoint id)` and inner nodes
//! `BLAKE3("aic-transcript-node" || left || right)`, domain-separated so a leaf can never pass
//! for a node. An odd node at the end of a level is carried up unchanged, never paired with
//! itself, so no two different transcripts share a root by duplication.

use serde::{Deserialize, Serialize};

/// One checkpoint of a transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Step of the checkpoint.
    pub step: u64,
    /// BLAKE3 of the checkpoint bytes.
    pub id: blake3::Hash,
}

/// The hash of one leaf.
pub fn leaf(entry: &Entry) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"aic-transcript-leaf");
    h.update(&entry.step.to_le_bytes());
    h.update(entry.id.as_bytes());
    h.finalize()
}

fn node(left: &blake3::Hash, right: &blake3::Hash) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"aic-transcript-node");
    h.update(left.as_bytes());
    h.update(right.as_bytes());
    h.finalize()
}

/// The level above `level`: pairs hashed together, an odd last node carried up unchanged.
fn parent_level(level: &[blake3::Hash]) -> Vec<blake3::Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node(l, r),
            [single] => *single,
            _ => unreachable!("chunks(2)"),
        })
        .collect()
}

/// The Merkle root of a transcript (`None` when empty).
pub fn root(entries: &[Entry]) -> Option<blake3::Hash> {
    let mut level: Vec<blake3::Hash> = entries.iter().map(leaf).collect();
    if level.is_empty() {
        return None;
    }
    while level.len() > 1 {
        level = parent_level(&level);
    }
    level.first().copied()
}

/// Which side a sibling is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    /// The sibling is the left input.
    Left,
    /// The sibling is the right input.
    Right,
}

/// The siblings from a leaf up to the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// Sibling hashes, bottom up.
    pub path: Vec<(Side, blake3::Hash)>,
}

/// The inclusion proof of entry `index` (`None` when out of range).
pub fn prove(entries: &[Entry], index: usize) -> Option<Proof> {
    if index >= entries.len() {
        return None;
    }
    let mut level: Vec<blake3::Hash> = entries.iter().map(leaf).collect();
    let mut i = index;
    let mut path = Vec::new();
    while level.len() > 1 {
        let sibling = if i.is_multiple_of(2) { i + 1 } else { i - 1 };
        if let Some(s) = level.get(sibling) {
            path.push((
                if i.is_multiple_of(2) {
                    Side::Right
                } else {
                    Side::Left
                },
                *s,
            ));
        }
        level = parent_level(&level);
        i /= 2;
    }
    Some(Proof { path })
}

/// Whether `entry` is in the transcript committed to by `root`.
pub fn verify(root: &blake3::Hash, entry: &Entry, proof: &Proof) -> bool {
    let mut h = leaf(entry);
    for (side, sibling) in &proof.path {
        h = match side {
            Side::Left => node(sibling, &h),
            Side::Right => node(&h, sibling),
        };
    }
    &h == root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u64) -> Vec<Entry> {
        (0..n)
            .map(|i| Entry {
                step: i * 10,
                id: blake3::hash(&i.to_le_bytes()),
            })
            .collect()
    }

    #[test]
    fn every_entry_proves_against_the_root_and_tampering_fails() {
        for n in 1..=9 {
            let e = entries(n);
            let r = root(&e).unwrap();
            for i in 0..e.len() {
                let p = prove(&e, i).unwrap();
                assert!(verify(&r, &e[i], &p), "n={n} i={i}");
                let mut wrong = e[i];
                wrong.step += 1;
                assert!(!verify(&r, &wrong, &p));
                let mut other = e[i];
                other.id = blake3::hash(b"tampered");
                assert!(!verify(&r, &other, &p));
            }
            assert!(prove(&e, e.len()).is_none());
        }
        assert!(root(&[]).is_none());
    }

    #[test]
    fn odd_levels_are_not_duplicated() {
        let three = entries(3);
        let mut four = three.clone();
        four.push(three[2]);
        assert_ne!(root(&three), root(&four));
    }
}
