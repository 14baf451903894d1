//! The standard corpora as training examples: FSDD clips featurized to log-mel frames, WikiQA
//! pairs tokenized to ids. Featurization is `aic-data`'s, the same code that digitizes data
//! sets for the network.

use std::path::Path;

use aic_data::corpora::{self, FsddSplit, Skipped};
use aic_data::{LogMel, Tokenizer, Vocabulary, VocabularyConfig};
use aic_model::{LogMelParams, TokenizerParams};

use crate::tasks::answer::Pairs;
use crate::tasks::Examples;

/// Why a corpus could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The folder or a file could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The featurizer parameters are invalid.
    #[error("featurizer: {0}")]
    Featurizer(String),
}

/// FSDD as train, validation and test examples.
#[derive(Debug, Default)]
pub struct Fsdd {
    /// Indices 10-49.
    pub train: Examples,
    /// Indices 5-9.
    pub valid: Examples,
    /// Indices 0-4 (the conventional test set).
    pub test: Examples,
    /// Files skipped, with reasons.
    pub skipped: Vec<Skipped>,
}

/// Reads and featurizes every recording of an FSDD folder.
pub fn fsdd(dir: &Path, params: &LogMelParams) -> Result<Fsdd, DataError> {
    let logmel = LogMel::new(params).map_err(|e| DataError::Featurizer(e.to_string()))?;
    let (clips, skipped) = corpora::fsdd_clips(dir)?;
    let row = logmel.len();
    let mut out = Fsdd {
        train: Examples {
            row,
            ..Examples::default()
        },
        valid: Examples {
            row,
            ..Examples::default()
        },
        test: Examples {
            row,
            ..Examples::default()
        },
        skipped,
    };
    for clip in clips {
        let features = match std::fs::read(&clip.path) {
            Ok(bytes) => logmel.compute_wav(&bytes).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match features {
            Ok(f) => {
                let split = match clip.split() {
                    FsddSplit::Train => &mut out.train,
                    FsddSplit::Valid => &mut out.valid,
                    FsddSplit::Test => &mut out.test,
                };
                split.push(&f, usize::from(clip.digit));
            }
            Err(reason) => out.skipped.push(Skipped {
                path: clip.path,
                reason,
            }),
        }
    }
    Ok(out)
}

/// WikiQA tokenized: the vocabulary built from the training split and pairs of each split.
#[derive(Debug)]
pub struct WikiQa {
    /// Tokenizer parameters (naming the vocabulary by hash).
    pub params: TokenizerParams,
    /// The vocabulary.
    pub vocabulary: Vocabulary,
    /// Training pairs.
    pub train: Pairs,
    /// Dev pairs.
    pub dev: Pairs,
    /// Lines skipped, with reasons.
    pub skipped: Vec<Skipped>,
}

/// Reads `dir/train` and `dir/dev`, builds the vocabulary from the training questions and
/// answers (words seen at least twice), and tokenizes both splits to `max_len` ids with
/// `oov_buckets` hashed ids for unknown words.
pub fn wikiqa(dir: &Path, max_len: u32, oov_buckets: u32) -> Result<WikiQa, DataError> {
    let (train, mut skipped) = corpora::wikiqa_split(&dir.join("train"))?;
    let (dev, s2) = corpora::wikiqa_split(&dir.join("dev"))?;
    skipped.extend(s2);
    let lines = train
        .iter()
        .flat_map(|p| [p.question.as_str(), p.answer.as_str()]);
    let vocabulary = Vocabulary::build(
        lines,
        &VocabularyConfig {
            lowercase: true,
            min_count: 2,
            max_size: u32::MAX,
        },
    );
    let params = TokenizerParams {
        oov_buckets,
        ..vocabulary.params(true, max_len)
    };
    let tokenizer = Tokenizer::new(&params, vocabulary.clone())
        .map_err(|e| DataError::Featurizer(e.to_string()))?;
    let pairs = |raw: &[corpora::QaPair]| {
        let mut p = Pairs {
            question_len: max_len as usize,
            answer_len: max_len as usize,
            ..Pairs::default()
        };
        for pair in raw {
            p.questions
                .extend(tokenizer.encode(&pair.question).into_iter().map(i64::from));
            p.answers
                .extend(tokenizer.encode(&pair.answer).into_iter().map(i64::from));
            p.relevant.push(pair.relevant);
            p.groups.push(pair.question_id);
        }
        p
    };
    Ok(WikiQa {
        train: pairs(&train),
        dev: pairs(&dev),
        params,
        vocabulary,
        skipped,
    })
}
