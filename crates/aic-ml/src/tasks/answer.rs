//! Answer selection: score (question, sentence) pairs, ranked per question by MAP.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::metrics::{self, RankingReport};
use crate::models::textmatch::{TextMatchCnn, TextMatchConfig};
use crate::train::{index_batches, BatchIter, Task};

/// Pairs are scored in batches of this many.
const EVAL_BATCH: usize = 512;

/// Token-id pairs with relevance labels and question groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pairs {
    /// `len * question_len` question ids.
    pub questions: Vec<i64>,
    /// `len * answer_len` answer ids.
    pub answers: Vec<i64>,
    /// 1 if the sentence answers the question.
    pub relevant: Vec<bool>,
    /// Question id of each pair.
    pub groups: Vec<u64>,
    /// Question length.
    pub question_len: usize,
    /// Answer length.
    pub answer_len: usize,
}

impl Pairs {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.relevant.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.relevant.is_empty()
    }

    /// The pairs at `indices` as id tensors.
    pub fn gather(&self, indices: &[usize], device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>) {
        let (lq, la) = (self.question_len, self.answer_len);
        let mut q = Vec::with_capacity(indices.len() * lq);
        let mut a = Vec::with_capacity(indices.len() * la);
        for &i in indices {
            q.extend_from_slice(&self.questions[i * lq..(i + 1) * lq]);
            a.extend_from_slice(&self.answers[i * la..(i + 1) * la]);
        }
        let n = indices.len();
        (
            Tensor::from_data(TensorData::new(q, [n, lq]), device),
            Tensor::from_data(TensorData::new(a, [n, la]), device),
        )
    }
}

/// Scores of every pair.
pub fn score(model: &TextMatchCnn, pairs: &Pairs, device: &Device) -> Vec<f32> {
    let all: Vec<usize> = (0..pairs.len()).collect();
    let mut out = Vec::with_capacity(pairs.len());
    for chunk in all.chunks(EVAL_BATCH) {
        let (q, a) = pairs.gather(chunk, device);
        out.extend(
            model
                .forward(q, a)
                .into_data()
                .try_into_vec_as::<f32>()
                .expect("float tensor casts to f32"),
        );
    }
    out
}

/// MAP and MRR of `model` on `pairs`.
pub fn evaluate(model: &TextMatchCnn, pairs: &Pairs, device: &Device) -> RankingReport {
    metrics::ranking(&pairs.groups, &score(model, pairs, device), &pairs.relevant)
}

/// Document-frequency IDF over the distinct answer sentences of `pairs`, one entry per id:
/// `ln((N + 1) / (df + 1)) + 1`; ids never seen get the largest value.
pub fn idf_table(pairs: &Pairs, vocab: usize) -> Vec<f32> {
    let la = pairs.answer_len;
    let mut seen = std::collections::BTreeSet::new();
    let mut df = vec![0u32; vocab];
    for row in pairs.answers.chunks(la) {
        if !seen.insert(row.to_vec()) {
            continue;
        }
        let mut words: Vec<i64> = row.iter().copied().filter(|&id| id >= 2).collect();
        words.sort_unstable();
        words.dedup();
        for id in words {
            if let Some(d) = df.get_mut(id as usize) {
                *d += 1;
            }
        }
    }
    let n = seen.len() as f64;
    df.iter()
        .map(|&d| (((n + 1.0) / (f64::from(d) + 1.0)).ln() + 1.0) as f32)
        .collect()
}

/// The answer-selection task.
pub struct AnswerTask {
    /// Architecture.
    pub config: TextMatchConfig,
    /// Training pairs.
    pub train: Pairs,
    /// Validation pairs (early stopping on MAP).
    pub valid: Pairs,
}

impl Task for AnswerTask {
    type Model = TextMatchCnn;
    type Batch = Vec<usize>;

    fn train_len(&self) -> usize {
        self.train.len()
    }

    fn batches(
        &self,
        seed: u64,
        epoch: u32,
        first: u64,
        batch_size: usize,
    ) -> Result<BatchIter<'_, Vec<usize>>, String> {
        Ok(index_batches(
            seed,
            epoch,
            first,
            batch_size,
            self.train.len(),
        ))
    }

    fn loss(&self, model: &TextMatchCnn, indices: Vec<usize>, device: &Device) -> Tensor<1> {
        let indices = &indices[..];
        let (q, a) = self.train.gather(indices, device);
        let logits = model.forward(q, a);
        let y: Vec<f32> = indices
            .iter()
            .map(|&i| if self.train.relevant[i] { 1.0 } else { 0.0 })
            .collect();
        let y = Tensor::<1>::from_data(TensorData::new(y, [indices.len()]), device);
        // Binary cross-entropy with logits, stable form: max(x, 0) - x y + ln(1 + e^-|x|).
        let loss = logits.clone().clamp_min(0.0) - logits.clone() * y
            + logits.abs().neg().exp().add_scalar(1.0).log();
        loss.mean()
    }

    fn validate(&self, model: &TextMatchCnn) -> f64 {
        let device = model.conv.bias.val().device();
        evaluate(model, &self.valid, &device).map
    }
}

/// English function words left out of the word-count baseline (a short standard list).
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has",
    "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "many", "more",
    "most", "much", "no", "not", "of", "on", "one", "or", "other", "our", "out", "she", "so",
    "some", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to",
    "up", "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will",
    "with", "would", "you", "your", "'s", ",", ".", "?", "``", "''", "-lrb-", "-rrb-",
];

/// The two reference baselines of answer selection, scored on raw text pairs: ranking by the
/// candidate's position in its question's list (which a model must not use), and the count of
/// shared non-stopwords with ties broken at random (seeded).
pub fn baselines(pairs: &[aic_data::corpora::QaPair], seed: u64) -> (RankingReport, RankingReport) {
    let groups: Vec<u64> = pairs.iter().map(|p| p.question_id).collect();
    let relevant: Vec<bool> = pairs.iter().map(|p| p.relevant).collect();
    let mut position = Vec::with_capacity(pairs.len());
    let mut last = None;
    let mut k = 0f32;
    for p in pairs {
        if last != Some(p.question_id) {
            k = 0.0;
            last = Some(p.question_id);
        }
        position.push(-k);
        k += 1.0;
    }
    let mut rng = crate::rng::Rng::stream(seed, "baseline/ties");
    let overlap: Vec<f32> = pairs
        .iter()
        .map(|p| {
            let q: std::collections::BTreeSet<&str> = p
                .question
                .split_ascii_whitespace()
                .filter(|w| !STOPWORDS.contains(w))
                .collect();
            let a: std::collections::BTreeSet<&str> = p.answer.split_ascii_whitespace().collect();
            q.intersection(&a).count() as f32 + rng.uniform(0.0, 0.5)
        })
        .collect();
    (
        metrics::ranking(&groups, &position, &relevant),
        metrics::ranking(&groups, &overlap, &relevant),
    )
}
