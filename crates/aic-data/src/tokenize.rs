//! The word-level tokenizer ([`aic_model::Featurizer::Tokenizer`]) and its vocabulary.
//!
//! A [`Vocabulary`] is built from text by counting tokens; its file form (one token per line
//! in id order, starting at id 2, each line ended by `\n`) is what parties exchange, and the
//! BLAKE3 of those bytes is its identity, written as `vocab_blake3` in the featurizer's
//! parameters. Id 0 ([`PAD_ID`]) pads and id 1 ([`UNK_ID`]) stands for any token not in the
//! vocabulary; neither appears in the file.

use std::collections::{HashMap, HashSet};

use aic_model::featurizer::{PAD_ID, UNK_ID};
use aic_model::{TokenizerKind, TokenizerParams};

/// The first id given to a vocabulary token.
const FIRST_ID: u32 = 2;

/// How a vocabulary is built from text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VocabularyConfig {
    /// Lower-case text before counting (Unicode `str::to_lowercase`).
    pub lowercase: bool,
    /// Tokens seen fewer times are left out.
    pub min_count: u64,
    /// Largest vocabulary size, the two reserved ids included (at least 2).
    pub max_size: u32,
}

/// Why a vocabulary file or a tokenizer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VocabularyError {
    /// The file is not UTF-8.
    #[error("vocabulary file is not UTF-8")]
    NotUtf8,
    /// The file does not end with a newline (a last line without `\n` is refused so that a
    /// vocabulary has exactly one file form).
    #[error("vocabulary file does not end with a newline")]
    NoFinalNewline,
    /// A line is empty or holds whitespace.
    #[error("line {line}: a token must be non-empty and hold no whitespace")]
    BadToken {
        /// One-based line number.
        line: usize,
    },
    /// A token appears twice.
    #[error("line {line}: token {token:?} appears twice")]
    Duplicate {
        /// One-based line number of the second occurrence.
        line: usize,
        /// The token.
        token: String,
    },
    /// More tokens than a `u32` id can number.
    #[error("vocabulary too large")]
    TooLarge,
    /// The tokenizer parameters name no vocabulary (`vocab_blake3` is empty).
    #[error("the tokenizer parameters name no vocabulary (vocab_blake3 is empty)")]
    NoVocabHash,
    /// The vocabulary's size is not the parameters' `vocab_size`.
    #[error("vocabulary has {found} ids, the parameters say {expected}")]
    SizeMismatch {
        /// `vocab_size` of the parameters.
        expected: u32,
        /// The vocabulary's size, reserved ids included.
        found: u32,
    },
    /// The vocabulary file's BLAKE3 is not the parameters' `vocab_blake3`.
    #[error("vocabulary blake3 {found}, the parameters say {expected}")]
    HashMismatch {
        /// `vocab_blake3` of the parameters.
        expected: String,
        /// The vocabulary file's BLAKE3 (hex).
        found: String,
    },
    /// `max_len` is zero.
    #[error("max_len must be positive")]
    ZeroMaxLen,
}

/// A token-to-id mapping with its canonical file form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    /// Tokens in id order; `tokens[i]` has id `i + 2`.
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Vocabulary {
    /// Counts the whitespace-separated tokens of `lines` and keeps those seen at least
    /// `min_count` times, most frequent first, ties in byte order, at most
    /// `max_size - 2` of them. The result depends only on the multiset of tokens.
    pub fn build<'a, I>(lines: I, config: &VocabularyConfig) -> Self
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for line in lines {
            let line = normalize(line, config.lowercase);
            for token in line.split_ascii_whitespace() {
                // Unicode whitespace that is not ASCII stays inside tokens; the file form
                // refuses it, so such tokens are dropped here.
                if token.chars().any(char::is_whitespace) {
                    continue;
                }
                *counts.entry(token.to_owned()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, u64)> = counts
            .into_iter()
            .filter(|&(_, n)| n >= config.min_count)
            .collect();
        ranked.sort_unstable_by(|(a, na), (b, nb)| nb.cmp(na).then_with(|| a.cmp(b)));
        ranked.truncate(config.max_size.saturating_sub(FIRST_ID) as usize);
        Self::from_tokens(ranked.into_iter().map(|(t, _)| t).collect())
    }

    fn from_tokens(tokens: Vec<String>) -> Self {
        let ids = tokens
            .iter()
            .zip(FIRST_ID..)
            .map(|(t, id)| (t.clone(), id))
            .collect();
        Self { tokens, ids }
    }

    /// Parses a vocabulary file (see the module documentation).
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Self, VocabularyError> {
        let text = std::str::from_utf8(bytes).map_err(|_| VocabularyError::NotUtf8)?;
        if text.is_empty() {
            return Ok(Self::from_tokens(Vec::new()));
        }
        let body = text
            .strip_suffix('\n')
            .ok_or(VocabularyError::NoFinalNewline)?;
        let mut seen = HashSet::new();
        let mut tokens = Vec::new();
        for (i, token) in body.split('\n').enumerate() {
            let line = i + 1;
            if token.is_empty() || token.chars().any(char::is_whitespace) {
                return Err(VocabularyError::BadToken { line });
            }
            if !seen.insert(token) {
                return Err(VocabularyError::Duplicate {
                    line,
                    token: token.to_owned(),
                });
            }
            tokens.push(token.to_owned());
        }
        if tokens.len() > (u32::MAX - FIRST_ID) as usize {
            return Err(VocabularyError::TooLarge);
        }
        Ok(Self::from_tokens(tokens))
    }

    /// The file form: each token followed by `\n`, in id order.
    pub fn to_file_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.tokens.iter().map(|t| t.len() + 1).sum());
        for token in &self.tokens {
            out.extend_from_slice(token.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// BLAKE3 of the file form, lower-case hex: the vocabulary's identity.
    pub fn blake3_hex(&self) -> String {
        blake3::hash(&self.to_file_bytes()).to_hex().to_string()
    }

    /// Number of ids, the two reserved ones included.
    pub fn size(&self) -> u32 {
        FIRST_ID + self.tokens.len() as u32
    }

    /// The id of a token (already normalized), if it is in the vocabulary.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// The token of an id; `None` for the reserved ids and ids out of range.
    pub fn token(&self, id: u32) -> Option<&str> {
        let index = id.checked_sub(FIRST_ID)? as usize;
        self.tokens.get(index).map(String::as_str)
    }

    /// Tokenizer parameters naming this vocabulary.
    pub fn params(&self, lowercase: bool, max_len: u32) -> TokenizerParams {
        TokenizerParams {
            tokenizer: TokenizerKind::Whitespace,
            lowercase,
            vocab_size: self.size(),
            vocab_blake3: self.blake3_hex(),
            max_len,
            oov_buckets: 0,
        }
    }
}

fn normalize(text: &str, lowercase: bool) -> std::borrow::Cow<'_, str> {
    if lowercase {
        std::borrow::Cow::Owned(text.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Text to fixed-length id sequences, checked against the vocabulary its parameters name.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    params: TokenizerParams,
    vocab: Vocabulary,
}

impl Tokenizer {
    /// Pairs parameters with a vocabulary, refusing it unless its size and BLAKE3 are the
    /// ones the parameters declare.
    pub fn new(params: &TokenizerParams, vocab: Vocabulary) -> Result<Self, VocabularyError> {
        if params.max_len == 0 {
            return Err(VocabularyError::ZeroMaxLen);
        }
        if params.vocab_blake3.is_empty() {
            return Err(VocabularyError::NoVocabHash);
        }
        if vocab.size() != params.vocab_size {
            return Err(VocabularyError::SizeMismatch {
                expected: params.vocab_size,
                found: vocab.size(),
            });
        }
        let found = vocab.blake3_hex();
        if !found.eq_ignore_ascii_case(&params.vocab_blake3) {
            return Err(VocabularyError::HashMismatch {
                expected: params.vocab_blake3.clone(),
                found,
            });
        }
        Ok(Self {
            params: params.clone(),
            vocab,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &TokenizerParams {
        &self.params
    }

    /// The vocabulary.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocab
    }

    /// The ids of the tokens of `text` (unknown tokens as [`UNK_ID`]), cut to `max_len` or
    /// padded with [`PAD_ID`] to it.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let max_len = self.params.max_len as usize;
        let mut ids = Vec::with_capacity(max_len);
        self.encode_into(text, &mut ids);
        ids
    }

    /// As [`encode`](Self::encode), appending `max_len` ids to `out`.
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        let max_len = self.params.max_len as usize;
        let text = normalize(text, self.params.lowercase);
        let ids = text
            .split_ascii_whitespace()
            .map(|t| self.vocab.id(t).unwrap_or_else(|| self.unknown_id(t)))
            .chain(std::iter::repeat(PAD_ID))
            .take(max_len);
        out.extend(ids);
    }

    /// The id of a token missing from the vocabulary: a hashed bucket when the parameters
    /// have `oov_buckets`, else [`UNK_ID`].
    fn unknown_id(&self, token: &str) -> u32 {
        match self.params.oov_buckets {
            0 => UNK_ID,
            n => {
                self.params.vocab_size
                    + (aic_model::featurizer::fnv1a64(token.as_bytes()) % u64::from(n)) as u32
            }
        }
    }

    /// The number of tokens of `text` before cutting or padding.
    pub fn count_tokens(&self, text: &str) -> usize {
        text.split_ascii_whitespace().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_buckets_keep_equal_unknown_words_equal() {
        let vocab = Vocabulary::build(TEXT, &config());
        let params = TokenizerParams {
            oov_buckets: 1_000,
            ..vocab.params(true, 4)
        };
        let tok = Tokenizer::new(&params, vocab.clone()).unwrap();
        let a = tok.encode("zebra cat zebra quokka");
        assert_eq!(a[0], a[2], "same unknown word, same id");
        assert_ne!(
            a[0], a[3],
            "different unknown words, different buckets here"
        );
        assert!(a[0] >= vocab.size() && a[0] < vocab.size() + 1_000);
        assert_eq!(a[1], vocab.id("cat").unwrap());
        let plain = Tokenizer::new(&vocab.params(true, 4), vocab).unwrap();
        assert_eq!(plain.encode("zebra")[0], UNK_ID);
    }

    const TEXT: [&str; 3] = [
        "the cat sat on the mat",
        "The dog sat",
        "a cat a dog the end",
    ];

    fn config() -> VocabularyConfig {
        VocabularyConfig {
            lowercase: true,
            min_count: 1,
            max_size: 100,
        }
    }

    #[test]
    fn ranked_by_count_then_bytes() {
        let vocab = Vocabulary::build(TEXT, &config());
        // the 4; a, cat, dog, sat 2; end, mat, on 1.
        let expected = "the\na\ncat\ndog\nsat\nend\nmat\non\n";
        assert_eq!(String::from_utf8(vocab.to_file_bytes()).unwrap(), expected);
        assert_eq!(vocab.size(), 10);
        assert_eq!(vocab.id("the"), Some(2));
        assert_eq!(vocab.token(3), Some("a"));
        assert_eq!(vocab.token(PAD_ID), None);
        assert_eq!(vocab.token(UNK_ID), None);
        assert_eq!(vocab.token(10), None);
    }

    #[test]
    fn deterministic_whatever_the_order() {
        let a = Vocabulary::build(TEXT, &config());
        let mut reversed = TEXT;
        reversed.reverse();
        let b = Vocabulary::build(reversed, &config());
        assert_eq!(a.blake3_hex(), b.blake3_hex());
        assert_eq!(a, b);
        // Pinned: the file bytes and their hash must never change across versions.
        assert_eq!(
            a.blake3_hex(),
            blake3::hash(b"the\na\ncat\ndog\nsat\nend\nmat\non\n")
                .to_hex()
                .as_str()
        );
    }

    #[test]
    fn min_count_max_size_and_case() {
        let small = Vocabulary::build(
            TEXT,
            &VocabularyConfig {
                min_count: 2,
                ..config()
            },
        );
        assert_eq!(small.to_file_bytes(), b"the\na\ncat\ndog\nsat\n");
        let capped = Vocabulary::build(
            TEXT,
            &VocabularyConfig {
                max_size: 4,
                ..config()
            },
        );
        assert_eq!(capped.to_file_bytes(), b"the\na\n");
        assert_eq!(capped.size(), 4);
        let empty = Vocabulary::build(
            TEXT,
            &VocabularyConfig {
                max_size: 0,
                ..config()
            },
        );
        assert_eq!(empty.size(), 2);
        let cased = Vocabulary::build(
            TEXT,
            &VocabularyConfig {
                lowercase: false,
                ..config()
            },
        );
        assert!(cased.id("The").is_some());
        assert_eq!(cased.id("the").map(|_| ()), Some(()));
    }

    #[test]
    fn file_round_trip_and_refusals() {
        let vocab = Vocabulary::build(TEXT, &config());
        let back = Vocabulary::from_file_bytes(&vocab.to_file_bytes()).unwrap();
        assert_eq!(back, vocab);
        assert_eq!(Vocabulary::from_file_bytes(b"").unwrap().size(), 2);
        let bad: [(&[u8], VocabularyError); 5] = [
            (b"a\n\xff\n", VocabularyError::NotUtf8),
            (b"a\nb", VocabularyError::NoFinalNewline),
            (b"a\n\nb\n", VocabularyError::BadToken { line: 2 }),
            (b"a b\n", VocabularyError::BadToken { line: 1 }),
            (
                b"a\nb\na\n",
                VocabularyError::Duplicate {
                    line: 3,
                    token: "a".into(),
                },
            ),
        ];
        for (bytes, expected) in bad {
            assert_eq!(Vocabulary::from_file_bytes(bytes).unwrap_err(), expected);
        }
    }

    #[test]
    fn encode_pads_cuts_and_maps_unknowns() {
        let vocab = Vocabulary::build(TEXT, &config());
        let tok = Tokenizer::new(&vocab.params(true, 6), vocab).unwrap();
        assert_eq!(
            tok.encode("The cat ZEBRA"),
            vec![2, 4, UNK_ID, PAD_ID, PAD_ID, PAD_ID]
        );
        assert_eq!(tok.encode(""), vec![PAD_ID; 6]);
        assert_eq!(tok.encode("a a a a a a a a"), vec![3; 6]);
        assert_eq!(tok.count_tokens("a a a a a a a a"), 8);
        let mut out = vec![9];
        tok.encode_into("end", &mut out);
        assert_eq!(out, vec![9, 7, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn mismatched_vocabulary_is_refused() {
        let vocab = Vocabulary::build(TEXT, &config());
        let params = vocab.params(true, 8);
        let other = Vocabulary::from_file_bytes(b"the\na\ncat\ndog\nsat\nend\non\nmat\n").unwrap();
        assert_eq!(other.size(), vocab.size());
        assert!(matches!(
            Tokenizer::new(&params, other),
            Err(VocabularyError::HashMismatch { .. })
        ));
        let smaller = Vocabulary::from_file_bytes(b"the\n").unwrap();
        assert_eq!(
            Tokenizer::new(&params, smaller).unwrap_err(),
            VocabularyError::SizeMismatch {
                expected: 10,
                found: 3
            }
        );
        let unnamed = TokenizerParams {
            vocab_blake3: String::new(),
            ..params.clone()
        };
        assert_eq!(
            Tokenizer::new(&unnamed, vocab.clone()).unwrap_err(),
            VocabularyError::NoVocabHash
        );
        let zero = TokenizerParams {
            max_len: 0,
            ..params.clone()
        };
        assert_eq!(
            Tokenizer::new(&zero, vocab.clone()).unwrap_err(),
            VocabularyError::ZeroMaxLen
        );
        let upper = TokenizerParams {
            vocab_blake3: params.vocab_blake3.to_uppercase(),
            ..params
        };
        assert!(Tokenizer::new(&upper, vocab).is_ok());
    }
}
