//! The account-state commitment: a compact sparse Merkle tree.
//!
//! # Specification (consensus)
//!
//! The tree commits to a set of `(key, value)` pairs, both [`Hash256`]. The ledger uses
//! SHA-256 of the account address as the key and the hash of the account's canonical bytes as
//! the value. Every node below hashes with single SHA-256:
//!
//! - The tree is binary, of depth 256, over the bits of the key: the bit at depth `d`
//!   (`0 <= d < 256`) is bit `7 - d % 8` of byte `d / 8`, that is the most significant bit of
//!   byte 0 first. Bit 0 goes to the left child, bit 1 to the right.
//! - **Leaf**: `SHA-256(0x00 || key || value)` (65 bytes hashed).
//! - **Internal node**: `SHA-256(0x01 || left || right)` (65 bytes hashed).
//! - **Empty subtree**: [`Hash256::ZERO`] (32 zero bytes, not hashed).
//! - **Compaction**: a subtree holding exactly one leaf hashes to that leaf's hash, whatever its
//!   depth; the leaf sits at the top of its subtree, as in Diem's (Libra's) Jellyfish sparse
//!   Merkle tree. A path is therefore about `log2(n)` nodes long for `n` random keys, not 256.
//! - A subtree holding two or more leaves is an internal node, even when one of its children is
//!   empty (`SHA-256(0x01 || ZERO || right)` and `SHA-256(0x01 || left || ZERO)` are regular
//!   internal hashes). Only single leaves are lifted; chains of internal nodes are not shortened.
//!
//! The root is thus a pure function of the set of pairs, independent of the order in which they
//! were inserted, and the root of the empty set is [`Hash256::ZERO`]. [`root_of`] computes it
//! from scratch; [`SparseMerkleTree`] maintains it incrementally.
//!
//! # Proofs
//!
//! An [`SmtProof`] for a key lists the sibling hashes along the key's path from the root down
//! (`siblings[0]` is the sibling at depth 0), and the node found at the end of the path: either
//! nothing (an empty subtree, hash `ZERO`) or a leaf `(key', value')`. To verify, start from the
//! hash of that end node and fold the siblings back up, bottom first, placing the running hash on
//! the side given by the key's bit at that depth. The proof shows
//!
//! - *inclusion* of `(key, value)` when the end leaf is exactly `(key, value)`;
//! - *non-inclusion* of `key` when the end is empty, or when it is a leaf of another key that
//!   shares the first `siblings.len()` bits with `key` (that leaf is alone in the subtree where
//!   `key` would be).

use std::collections::BTreeMap;

use aic_primitives::Hash256;
use sha2::{Digest, Sha256};

/// Number of key bits, and so the maximal depth of the tree.
const KEY_BITS: usize = 256;

/// Domain-separation prefix of a leaf hash.
const LEAF_PREFIX: u8 = 0x00;

/// Domain-separation prefix of an internal-node hash.
const INTERNAL_PREFIX: u8 = 0x01;

/// The key's bit at `depth`, most significant bit of byte 0 first. Depths past the key read as 0.
fn bit(key: &Hash256, depth: usize) -> bool {
    key.0
        .get(depth / 8)
        .is_some_and(|byte| (byte >> (7 - depth % 8)) & 1 == 1)
}

/// `SHA-256(0x00 || key || value)`.
fn leaf_hash(key: &Hash256, value: &Hash256) -> Hash256 {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(key.0);
    h.update(value.0);
    Hash256(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`.
fn internal_hash(left: &Hash256, right: &Hash256) -> Hash256 {
    let mut h = Sha256::new();
    h.update([INTERNAL_PREFIX]);
    h.update(left.0);
    h.update(right.0);
    Hash256(h.finalize().into())
}

/// A node of the in-memory tree.
///
/// Invariant: an `Internal` node has at least two leaves below it; a subtree with one leaf is a
/// `Leaf`, one with none is `Empty`. Every cached `hash` is the hash of its node per the spec.
#[derive(Clone, Debug, Default)]
enum Node {
    #[default]
    Empty,
    Leaf {
        key: Hash256,
        value: Hash256,
        hash: Hash256,
    },
    Internal {
        left: Box<Node>,
        right: Box<Node>,
        hash: Hash256,
    },
}

impl Node {
    fn hash(&self) -> Hash256 {
        match self {
            Node::Empty => Hash256::ZERO,
            Node::Leaf { hash, .. } | Node::Internal { hash, .. } => *hash,
        }
    }

    fn leaf(key: Hash256, value: Hash256) -> Node {
        Node::Leaf {
            key,
            value,
            hash: leaf_hash(&key, &value),
        }
    }

    /// Joins two sibling subtrees into their parent, compacting: two empties give an empty
    /// subtree and a single leaf beside an empty subtree is lifted unchanged.
    fn join(left: Node, right: Node) -> Node {
        match (left, right) {
            (Node::Empty, Node::Empty) => Node::Empty,
            (leaf @ Node::Leaf { .. }, Node::Empty) | (Node::Empty, leaf @ Node::Leaf { .. }) => {
                leaf
            }
            (left, right) => {
                let hash = internal_hash(&left.hash(), &right.hash());
                Node::Internal {
                    left: Box::new(left),
                    right: Box::new(right),
                    hash,
                }
            }
        }
    }

    /// Builds the subtree at `depth` holding `entries`, which must be sorted by key, with
    /// distinct keys that all share their first `depth` bits.
    fn build(entries: &[(Hash256, Hash256)], depth: usize) -> Node {
        match entries {
            [] => Node::Empty,
            [(key, value)] => Node::leaf(*key, *value),
            [.., (key, value)] if depth >= KEY_BITS => {
                // Unreachable with distinct keys: they differ at some depth below 256.
                Node::leaf(*key, *value)
            }
            _ => {
                let (left, right) =
                    entries.split_at(entries.partition_point(|(k, _)| !bit(k, depth)));
                Node::join(Node::build(left, depth + 1), Node::build(right, depth + 1))
            }
        }
    }

    /// Applies `changes` (sorted by key, distinct keys, all sharing the first `depth` bits and so
    /// belonging under this node) to the subtree at `depth`. Subtrees without changes are
    /// returned as they are, hashes included.
    fn apply(self, depth: usize, changes: &[(Hash256, Option<Hash256>)]) -> Node {
        if changes.is_empty() {
            return self;
        }
        match self {
            Node::Empty => Node::build(&present(changes), depth),
            Node::Leaf { key, value, hash } => {
                let touched = changes.binary_search_by(|(k, _)| k.cmp(&key)).is_ok();
                let mut entries = present(changes);
                if !touched {
                    if entries.is_empty() {
                        // Only deletions of absent keys: nothing changes.
                        return Node::Leaf { key, value, hash };
                    }
                    let at = entries.partition_point(|(k, _)| *k < key);
                    entries.insert(at, (key, value));
                }
                Node::build(&entries, depth)
            }
            Node::Internal { left, right, hash } => {
                if depth >= KEY_BITS {
                    // Unreachable: internal nodes sit above depth 256.
                    return Node::Internal { left, right, hash };
                }
                let (to_left, to_right) =
                    changes.split_at(changes.partition_point(|(k, _)| !bit(k, depth)));
                Node::join(
                    left.apply(depth + 1, to_left),
                    right.apply(depth + 1, to_right),
                )
            }
        }
    }
}

/// The insertions and replacements among `changes`, in the same (sorted) order.
fn present(changes: &[(Hash256, Option<Hash256>)]) -> Vec<(Hash256, Hash256)> {
    changes
        .iter()
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .collect()
}

/// A compact sparse Merkle tree mapping 256-bit keys to 256-bit values, with a cached root.
///
/// See the [module documentation](self) for the exact hashing rules.
#[derive(Clone, Debug, Default)]
pub struct SparseMerkleTree {
    root: Node,
    len: usize,
}

impl SparseMerkleTree {
    /// An empty tree, whose root is [`Hash256::ZERO`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The root hash, cached: O(1).
    #[must_use]
    pub fn root(&self) -> Hash256 {
        self.root.hash()
    }

    /// The value stored under `key`, if any.
    #[must_use]
    pub fn get(&self, key: &Hash256) -> Option<Hash256> {
        let mut node = &self.root;
        let mut depth = 0;
        loop {
            match node {
                Node::Empty => return None,
                Node::Leaf { key: k, value, .. } => return (k == key).then_some(*value),
                Node::Internal { left, right, .. } => {
                    node = if bit(key, depth) { right } else { left };
                    depth += 1;
                }
            }
        }
    }

    /// The number of keys in the tree.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree holds no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Applies a batch: `Some(v)` inserts or replaces, `None` deletes (deleting an absent key does
    /// nothing). Later entries for the same key win.
    ///
    /// Cost: O(k * depth) hashes for k changed keys; untouched subtrees are never rehashed.
    pub fn update(&mut self, changes: &[(Hash256, Option<Hash256>)]) {
        if changes.is_empty() {
            return;
        }
        let last_wins: BTreeMap<Hash256, Option<Hash256>> = changes.iter().copied().collect();
        let changes: Vec<(Hash256, Option<Hash256>)> = last_wins.into_iter().collect();
        for (key, value) in &changes {
            match (self.get(key).is_some(), value.is_some()) {
                (false, true) => self.len = self.len.saturating_add(1),
                (true, false) => self.len = self.len.saturating_sub(1),
                _ => {}
            }
        }
        self.root = std::mem::take(&mut self.root).apply(0, &changes);
    }

    /// A proof of inclusion (if `key` is present) or non-inclusion (if absent) of `key`, against
    /// the current [`root`](Self::root).
    #[must_use]
    pub fn prove(&self, key: &Hash256) -> SmtProof {
        let mut siblings = Vec::new();
        let mut node = &self.root;
        let mut depth = 0;
        loop {
            match node {
                Node::Empty => {
                    return SmtProof {
                        siblings,
                        leaf: None,
                    }
                }
                Node::Leaf { key, value, .. } => {
                    return SmtProof {
                        siblings,
                        leaf: Some((*key, *value)),
                    }
                }
                Node::Internal { left, right, .. } => {
                    let (next, sibling) = if bit(key, depth) {
                        (right, left)
                    } else {
                        (left, right)
                    };
                    siblings.push(sibling.hash());
                    node = next;
                    depth += 1;
                }
            }
        }
    }
}

/// A Merkle proof of inclusion or non-inclusion of a key in a [`SparseMerkleTree`].
///
/// See the [module documentation](self) for how it verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtProof {
    /// Sibling hashes along the key's path, from the root down: `siblings[d]` is the sibling at
    /// depth `d`. At most 256.
    pub siblings: Vec<Hash256>,
    /// The leaf `(key, value)` found at the end of the path, or `None` if the path ends in an
    /// empty subtree.
    pub leaf: Option<(Hash256, Hash256)>,
}

impl SmtProof {
    /// Whether this proof shows, against `root`, that `key` maps to `value` (`Some`) or that
    /// `key` is absent (`None`).
    #[must_use]
    pub fn verify(&self, root: &Hash256, key: &Hash256, value: Option<&Hash256>) -> bool {
        let depth = self.siblings.len();
        if depth > KEY_BITS {
            return false;
        }
        let end = match (value, &self.leaf) {
            // Inclusion: the path ends at exactly this leaf.
            (Some(value), Some((k, v))) if k == key && v == value => leaf_hash(k, v),
            // Non-inclusion: the path ends in an empty subtree...
            (None, None) => Hash256::ZERO,
            // ...or at another key's leaf, alone in the subtree where `key` would be.
            (None, Some((k, v))) if k != key && (0..depth).all(|d| bit(k, d) == bit(key, d)) => {
                leaf_hash(k, v)
            }
            _ => return false,
        };
        let computed = self
            .siblings
            .iter()
            .enumerate()
            .rev()
            .fold(end, |acc, (d, sibling)| {
                if bit(key, d) {
                    internal_hash(sibling, &acc)
                } else {
                    internal_hash(&acc, sibling)
                }
            });
        computed == *root
    }
}

/// Reference implementation: the root of the set of `entries`, computed from scratch (the test
/// oracle for [`SparseMerkleTree`], also usable to rebuild a root). For a key given several
/// times, the last entry wins.
#[must_use]
pub fn root_of(entries: &[(Hash256, Hash256)]) -> Hash256 {
    fn subtree(entries: &[(Hash256, Hash256)], depth: usize) -> Hash256 {
        match entries {
            [] => Hash256::ZERO,
            [(key, value)] => leaf_hash(key, value),
            // Unreachable with distinct keys: they differ at some depth below 256.
            [.., (key, value)] if depth >= KEY_BITS => leaf_hash(key, value),
            _ => {
                let (left, right) =
                    entries.split_at(entries.partition_point(|(k, _)| !bit(k, depth)));
                internal_hash(&subtree(left, depth + 1), &subtree(right, depth + 1))
            }
        }
    }
    let last_wins: BTreeMap<Hash256, Hash256> = entries.iter().copied().collect();
    let sorted: Vec<(Hash256, Hash256)> = last_wins.into_iter().collect();
    subtree(&sorted, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aic_primitives::sha256;
    use proptest::prelude::*;

    fn h(b: &[u8]) -> Hash256 {
        sha256(b)
    }

    /// Spec hashes written out byte by byte, independently of the module's helpers.
    fn spec_leaf(k: &Hash256, v: &Hash256) -> Hash256 {
        let mut b = vec![0x00];
        b.extend_from_slice(&k.0);
        b.extend_from_slice(&v.0);
        sha256(&b)
    }

    fn spec_node(l: &Hash256, r: &Hash256) -> Hash256 {
        let mut b = vec![0x01];
        b.extend_from_slice(&l.0);
        b.extend_from_slice(&r.0);
        sha256(&b)
    }

    fn key_with(first: u8, last: u8) -> Hash256 {
        let mut k = [0u8; 32];
        k[0] = first;
        k[31] = last;
        Hash256(k)
    }

    fn inserts(entries: &[(Hash256, Hash256)]) -> Vec<(Hash256, Option<Hash256>)> {
        entries.iter().map(|(k, v)| (*k, Some(*v))).collect()
    }

    #[test]
    fn empty_tree_root_is_zero() {
        let t = SparseMerkleTree::new();
        assert_eq!(t.root(), Hash256::ZERO);
        assert_eq!(root_of(&[]), Hash256::ZERO);
        assert!(t.is_empty());
        assert_eq!(t.get(&h(b"a")), None);
        assert!(t.prove(&h(b"a")).verify(&Hash256::ZERO, &h(b"a"), None));
    }

    #[test]
    fn one_leaf_root_is_leaf_hash() {
        let (k, v) = (h(b"k"), h(b"v"));
        let mut t = SparseMerkleTree::new();
        t.update(&[(k, Some(v))]);
        assert_eq!(t.root(), spec_leaf(&k, &v));
        assert_eq!(t.len(), 1);
        assert_eq!(t.get(&k), Some(v));
        t.update(&[(k, None)]);
        assert_eq!(t.root(), Hash256::ZERO);
        assert!(t.is_empty());
    }

    #[test]
    fn two_keys_differing_in_first_bit() {
        let (a, b) = (key_with(0x00, 1), key_with(0x80, 2));
        let (va, vb) = (h(b"a"), h(b"b"));
        let mut t = SparseMerkleTree::new();
        t.update(&[(b, Some(vb)), (a, Some(va))]);
        let expected = spec_node(&spec_leaf(&a, &va), &spec_leaf(&b, &vb));
        assert_eq!(t.root(), expected);
        assert_eq!(root_of(&[(a, va), (b, vb)]), expected);
    }

    #[test]
    fn two_keys_sharing_first_bit_keep_an_internal_node_with_an_empty_child() {
        let (a, b) = (key_with(0x80, 0), key_with(0xc0, 0));
        let (va, vb) = (h(b"a"), h(b"b"));
        let mut t = SparseMerkleTree::new();
        t.update(&[(a, Some(va)), (b, Some(vb))]);
        let inner = spec_node(&spec_leaf(&a, &va), &spec_leaf(&b, &vb));
        assert_eq!(t.root(), spec_node(&Hash256::ZERO, &inner));
    }

    #[test]
    fn keys_differing_only_in_last_bit_reach_depth_256() {
        let (a, b) = (key_with(0, 0), key_with(0, 1));
        let (va, vb) = (h(b"a"), h(b"b"));
        let mut t = SparseMerkleTree::new();
        t.update(&[(a, Some(va)), (b, Some(vb))]);
        let mut expected = spec_node(&spec_leaf(&a, &va), &spec_leaf(&b, &vb));
        for _ in 0..255 {
            expected = spec_node(&expected, &Hash256::ZERO);
        }
        assert_eq!(t.root(), expected);
        let proof = t.prove(&b);
        assert_eq!(proof.siblings.len(), 256);
        assert!(proof.verify(&expected, &b, Some(&vb)));
        // Deleting one re-compacts to the single remaining leaf.
        t.update(&[(a, None)]);
        assert_eq!(t.root(), spec_leaf(&b, &vb));
    }

    #[test]
    fn pinned_vector() {
        // Computed by an independent implementation of the spec.
        let names = ["alice", "bob", "carol", "dave", "erin"];
        let entries: Vec<(Hash256, Hash256)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (h(n.as_bytes()), h(i.to_string().as_bytes())))
            .collect();
        let expected =
            Hash256::from_hex("b2a8421d039a7f2267bdacd67b375b1e0d6072d8b287b0a2b42ffb5c93c40f76")
                .expect("hex");
        assert_eq!(root_of(&entries), expected);
        let mut t = SparseMerkleTree::new();
        t.update(&inserts(&entries));
        assert_eq!(t.root(), expected);
    }

    #[test]
    fn later_entries_in_a_batch_win() {
        let k = h(b"k");
        let mut t = SparseMerkleTree::new();
        t.update(&[(k, Some(h(b"1"))), (k, None), (k, Some(h(b"2")))]);
        assert_eq!(t.get(&k), Some(h(b"2")));
        t.update(&[(k, Some(h(b"3"))), (k, None)]);
        assert_eq!(t.get(&k), None);
        assert!(t.is_empty());
        assert_eq!(t.root(), Hash256::ZERO);
    }

    #[test]
    fn proofs_reject_malformed_claims() {
        let entries: Vec<(Hash256, Hash256)> = (0u8..8).map(|i| (h(&[i]), h(&[i, i]))).collect();
        let mut t = SparseMerkleTree::new();
        t.update(&inserts(&entries));
        let root = t.root();
        let (k, v) = entries[3];
        let proof = t.prove(&k);
        assert!(proof.verify(&root, &k, Some(&v)));
        // An inclusion proof does not prove absence.
        assert!(!proof.verify(&root, &k, None));
        // A tampered sibling fails.
        let mut bad = proof.clone();
        bad.siblings[0] = h(b"x");
        assert!(!bad.verify(&root, &k, Some(&v)));
        // An extra sibling fails.
        let mut longer = proof.clone();
        longer.siblings.push(Hash256::ZERO);
        assert!(!longer.verify(&root, &k, Some(&v)));
        // Too many siblings fail without panicking.
        let huge = SmtProof {
            siblings: vec![Hash256::ZERO; 300],
            leaf: None,
        };
        assert!(!huge.verify(&root, &k, None));
        // A leaf that is not on the absent key's path does not prove absence.
        let absent = h(b"absent");
        let mut wrong = t.prove(&absent);
        assert!(wrong.verify(&root, &absent, None));
        if wrong.leaf != Some((k, v)) {
            wrong.leaf = Some((k, v));
            assert!(!wrong.verify(&root, &absent, None));
        }
    }

    /// Keys from a mix of random values and a tiny space sharing 248-bit prefixes, so batches hit
    /// existing keys and paths reach the bottom of the tree.
    fn key() -> impl Strategy<Value = Hash256> {
        prop_oneof![
            any::<[u8; 32]>().prop_map(Hash256),
            (0u8..3, 0u8..4).prop_map(|(a, b)| key_with(a, b)),
            (0u8..16).prop_map(|i| h(&[i])),
        ]
    }

    fn value() -> impl Strategy<Value = Hash256> {
        (0u8..4).prop_map(|i| h(&[0xff, i]))
    }

    fn batch() -> impl Strategy<Value = Vec<(Hash256, Option<Hash256>)>> {
        prop::collection::vec((key(), prop::option::weighted(0.7, value())), 0..24)
    }

    fn model_entries(model: &BTreeMap<Hash256, Hash256>) -> Vec<(Hash256, Hash256)> {
        model.iter().map(|(k, v)| (*k, *v)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn matches_reference_after_any_batches(batches in prop::collection::vec(batch(), 1..6)) {
            let mut t = SparseMerkleTree::new();
            let mut model = BTreeMap::new();
            for b in &batches {
                t.update(b);
                for (k, v) in b {
                    match v {
                        Some(v) => { model.insert(*k, *v); }
                        None => { model.remove(k); }
                    }
                }
                prop_assert_eq!(t.root(), root_of(&model_entries(&model)));
                prop_assert_eq!(t.len(), model.len());
            }
            for (k, v) in &model {
                prop_assert_eq!(t.get(k), Some(*v));
            }
        }

        #[test]
        fn insert_then_delete_restores_root(base in batch(), extra in batch()) {
            let mut t = SparseMerkleTree::new();
            t.update(&base);
            let (root, len) = (t.root(), t.len());
            let fresh: Vec<(Hash256, Option<Hash256>)> = extra
                .iter()
                .filter(|(k, v)| v.is_some() && t.get(k).is_none())
                .copied()
                .collect();
            t.update(&fresh);
            let undo: Vec<(Hash256, Option<Hash256>)> =
                fresh.iter().map(|(k, _)| (*k, None)).collect();
            t.update(&undo);
            prop_assert_eq!(t.root(), root);
            prop_assert_eq!(t.len(), len);
        }

        #[test]
        fn order_independent(
            entries in prop::collection::btree_map(key(), value(), 0..24)
                .prop_map(|m| m.into_iter().collect::<Vec<_>>())
                .prop_shuffle(),
        ) {
            let mut whole = SparseMerkleTree::new();
            whole.update(&inserts(&entries));
            let mut one_by_one = SparseMerkleTree::new();
            for (k, v) in entries.iter().rev() {
                one_by_one.update(&[(*k, Some(*v))]);
            }
            prop_assert_eq!(whole.root(), one_by_one.root());
            prop_assert_eq!(whole.root(), root_of(&entries));
        }

        #[test]
        fn proofs_verify(entries in batch(), probes in prop::collection::vec(key(), 1..8)) {
            let mut t = SparseMerkleTree::new();
            t.update(&entries);
            let root = t.root();
            let wrong_root = h(b"wrong root");
            let other_value = h(b"not a value");
            let keys = probes.iter().chain(entries.iter().map(|(k, _)| k));
            for k in keys {
                let proof = t.prove(k);
                match t.get(k) {
                    Some(v) => {
                        prop_assert!(proof.verify(&root, k, Some(&v)));
                        prop_assert!(!proof.verify(&root, k, Some(&other_value)));
                        prop_assert!(!proof.verify(&root, k, None));
                        prop_assert!(!proof.verify(&wrong_root, k, Some(&v)));
                    }
                    None => {
                        prop_assert!(proof.verify(&root, k, None));
                        prop_assert!(!proof.verify(&root, k, Some(&other_value)));
                        prop_assert!(!proof.verify(&wrong_root, k, None));
                    }
                }
            }
        }
    }
}
