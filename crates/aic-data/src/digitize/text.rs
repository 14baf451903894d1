//! WikiQA: `train/` and `dev/` folders of line-aligned `a.toks`, `b.toks`, `sim.txt`, `id.txt`
//! to token ids, exactly as the training path tokenizes them: the vocabulary is built from the
//! training questions and answers (tokens seen at least twice), unknown tokens hashed into the
//! template's `oov_buckets`, every sequence cut or padded to `max_len`.

use std::collections::BTreeMap;
use std::path::Path;

use aic_model::{Featurizer, TokenizerParams};

use super::{source_file, DigitizeError, DigitizeOptions, DigitizeReport, Progress};
use crate::corpora::{self, Skipped};
use crate::dataset::{write_dataset, ShardSetWriter};
use crate::manifest::{
    Column, DType, DatasetManifest, FeaturizerRecord, Provenance, Split, MANIFEST_FORMAT,
};
use crate::shard::u32_bytes;
use crate::{Tokenizer, Vocabulary, VocabularyConfig};

/// Splits read from the WikiQA folder, in this order.
const SPLITS: [&str; 2] = ["train", "dev"];
const FILES: [&str; 4] = ["a.toks", "b.toks", "sim.txt", "id.txt"];

/// Digitizes the WikiQA folder `src` into `out`. `template` gives `lowercase`, `max_len` and
/// `oov_buckets` (a model manifest's tokenizer); the vocabulary is built here and stored as
/// the blob `blobs/<vocab_blake3>`, named by the manifest's featurizer parameters. Columns:
/// `question` and `answer` (`[max_len]` ids, `UINT16` when the id space `vocab_size +
/// oov_buckets` fits, else `UINT32`), `label` (`UINT8`, 1 if the sentence answers) and
/// `group` (`UINT32` question id; candidates of one question share it). Splits `train` and
/// `dev`, pairs in file order. `options.encoding` does not apply (ids are exact).
pub fn digitize_wikiqa(
    src: &Path,
    out: &Path,
    template: &TokenizerParams,
    options: &DigitizeOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<DigitizeReport, DigitizeError> {
    let mut skipped = Vec::new();
    let mut sources = Vec::new();
    let mut pairs = Vec::new();
    for split in SPLITS {
        let dir = src.join(split);
        for file in FILES {
            let path = dir.join(file);
            let bytes = std::fs::read(&path).map_err(|source| DigitizeError::Read {
                path: path.clone(),
                source,
            })?;
            sources.push(source_file(src, &path, &bytes));
        }
        let (mut p, s) = corpora::wikiqa_split(&dir).map_err(|source| DigitizeError::Read {
            path: dir.clone(),
            source,
        })?;
        skipped.extend(s);
        p.retain(|pair| {
            let ok = u32::try_from(pair.question_id).is_ok();
            if !ok {
                skipped.push(Skipped {
                    path: dir.join(format!("question {}", pair.question_id)),
                    reason: "question id does not fit in 32 bits".into(),
                });
            }
            ok
        });
        pairs.push(p);
    }
    let total = pairs.iter().map(Vec::len).sum::<usize>() as u64;
    if total == 0 {
        return Err(DigitizeError::Empty(src.to_owned()));
    }
    let vocabulary = Vocabulary::build(
        pairs[0]
            .iter()
            .flat_map(|p| [p.question.as_str(), p.answer.as_str()]),
        &VocabularyConfig {
            lowercase: template.lowercase,
            min_count: 2,
            max_size: u32::MAX,
        },
    );
    let params = TokenizerParams {
        oov_buckets: template.oov_buckets,
        ..vocabulary.params(template.lowercase, template.max_len)
    };
    let vocab_bytes = vocabulary.to_file_bytes();
    let tokenizer = Tokenizer::new(&params, vocabulary)
        .map_err(|e| DigitizeError::Featurizer(e.to_string()))?;
    let wide = params.id_space() > u32::from(u16::MAX) + 1;
    let id_type = if wide { DType::Uint32 } else { DType::Uint16 };
    let len = params.max_len;
    let columns = vec![
        Column::new("question", id_type, &[len]),
        Column::new("answer", id_type, &[len]),
        Column::new("label", DType::Uint8, &[]),
        Column::new("group", DType::Uint32, &[]),
    ];
    let encode = |text: &str, ids: &mut Vec<u32>, out: &mut Vec<u8>| {
        ids.clear();
        out.clear();
        tokenizer.encode_into(text, ids);
        if wide {
            out.extend(u32_bytes(ids));
        } else {
            // In range: every id is below the id space, which fits in 16 bits.
            out.extend(ids.iter().flat_map(|&id| (id as u16).to_le_bytes()));
        }
    };
    let mut manifest = DatasetManifest {
        format: MANIFEST_FORMAT.into(),
        name: "wikiqa-tokens".into(),
        columns: columns.clone(),
        shards: Vec::new(),
        splits: BTreeMap::new(),
        provenance: Provenance {
            sources,
            featurizer: FeaturizerRecord {
                name: "aic-data".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                params: Featurizer::Tokenizer(params.clone()),
            },
            license: "WikiQA, Yang, Yih and Meek (EMNLP 2015), Microsoft Research Data License \
                      (research use only)"
                .into(),
        },
    };
    let mut samples = BTreeMap::new();
    let mut shards = Vec::new();
    let (mut ids, mut q, mut a) = (Vec::new(), Vec::new(), Vec::new());
    let mut done = 0u64;
    for (split, pairs) in SPLITS.iter().zip(&pairs) {
        if pairs.is_empty() {
            continue;
        }
        let mut writer = ShardSetWriter::new(&columns, options.shard_bytes, options.zstd_level)?;
        for pair in pairs {
            encode(&pair.question, &mut ids, &mut q);
            encode(&pair.answer, &mut ids, &mut a);
            let group = u32::try_from(pair.question_id).unwrap_or(u32::MAX);
            writer.push(&[&q, &a, &[u8::from(pair.relevant)], &u32_bytes(&[group])])?;
        }
        done += pairs.len() as u64;
        progress(Progress {
            stage: "featurize",
            done,
            total,
        });
        let first = shards.len() as u32;
        shards.extend(writer.finish()?);
        manifest.splits.insert(
            (*split).into(),
            Split {
                shards: (first..shards.len() as u32).collect(),
            },
        );
        samples.insert((*split).into(), pairs.len() as u64);
    }
    manifest.shards = shards.iter().map(|s| s.entry.clone()).collect();
    let source_bytes = manifest.provenance.sources.iter().map(|s| s.bytes).sum();
    let dataset_bytes = write_dataset(out, &manifest, &shards, &[vocab_bytes])?;
    progress(Progress {
        stage: "write",
        done: shards.len() as u64,
        total: shards.len() as u64,
    });
    Ok(DigitizeReport {
        manifest_blake3: manifest.blake3_hex(),
        manifest,
        skipped,
        samples,
        source_bytes,
        dataset_bytes,
        max_abs_error: 0.0,
        clamped: 0,
    })
}
