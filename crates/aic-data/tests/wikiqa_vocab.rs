//! A vocabulary built from WikiQA's training questions and answers, when the shared data sets
//! are present (WikiQA's research license keeps its text out of this repository).

#![allow(clippy::print_stderr)] // tests report what they measured and what they skipped

use std::path::Path;

use aic_data::{Tokenizer, Vocabulary, VocabularyConfig};
use aic_model::featurizer::{PAD_ID, UNK_ID};

#[test]
fn wikiqa_vocabulary_and_encoding() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/wikiqa");
    let read = |split: &str, file: &str| std::fs::read_to_string(dir.join(split).join(file));
    let (Ok(a), Ok(b), Ok(dev_a)) = (
        read("train", "a.toks"),
        read("train", "b.toks"),
        read("dev", "a.toks"),
    ) else {
        eprintln!(
            "skipped: {} is absent (the shared data sets are not installed)",
            dir.display()
        );
        return;
    };
    let config = VocabularyConfig {
        lowercase: true,
        min_count: 2,
        max_size: 20_000,
    };
    let lines = || a.lines().chain(b.lines());
    let vocab = Vocabulary::build(lines(), &config);
    // Rebuilt from the lines in another order, the vocabulary is byte-identical.
    let mut shuffled: Vec<&str> = lines().collect();
    shuffled.reverse();
    assert_eq!(
        Vocabulary::build(shuffled, &config).blake3_hex(),
        vocab.blake3_hex()
    );
    assert!(vocab.size() > 1_000, "only {} ids", vocab.size());
    assert_eq!(
        Vocabulary::from_file_bytes(&vocab.to_file_bytes()).unwrap(),
        vocab
    );

    let tok = Tokenizer::new(&vocab.params(true, 40), vocab).unwrap();
    let (mut tokens, mut unknown) = (0usize, 0usize);
    for question in dev_a.lines() {
        let ids = tok.encode(question);
        assert_eq!(ids.len(), 40);
        let n = tok.count_tokens(question).min(40);
        assert!(ids[n..].iter().all(|&id| id == PAD_ID));
        assert!(ids[..n].iter().all(|&id| id != PAD_ID));
        tokens += n;
        unknown += ids[..n].iter().filter(|&&id| id == UNK_ID).count();
    }
    let rate = unknown as f64 / tokens as f64;
    eprintln!(
        "wikiqa: {} ids, dev question tokens unknown: {:.1}%",
        tok.vocabulary().size(),
        100.0 * rate
    );
    assert!(rate < 0.2, "unknown rate {rate}");
}
