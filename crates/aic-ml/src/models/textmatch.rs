//! `text-match-cnn`: answer selection in the style of Severyn and Moschitti (2015) and of the
//! WikiQA paper's CNN-Cnt. A question and a candidate sentence are embedded, each passed
//! through one shared width-3 convolution and max-pooled; a bilinear form scores their
//! agreement; word-overlap features (plain and IDF-weighted, computed inside the model from the
//! token ids, with the IDF table a fixed tensor of the model) join the pooled vectors in a small
//! MLP that gives one logit. Every pair is scored on its own: nothing depends on where the
//! candidate sits in its question's list.

use burn::module::{Module, Param};
use burn::tensor::{activation::relu, Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::layers::{kaiming, Dense};
use crate::rng::Rng;

/// Number of overlap features.
pub const OVERLAP_FEATURES: usize = 4;
/// Ids below this (padding 0, unknown 1) never count as a match.
const FIRST_WORD_ID: i64 = 2;

/// Architecture hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextMatchConfig {
    /// Token ids, including padding, unknown and hashed buckets.
    pub vocab: usize,
    /// Embedding width.
    pub embed: usize,
    /// Convolution filters.
    pub filters: usize,
    /// Question length in tokens.
    pub question_len: usize,
    /// Answer length in tokens.
    pub answer_len: usize,
    /// Hidden units of the scoring MLP.
    pub hidden: usize,
}

impl Default for TextMatchConfig {
    fn default() -> Self {
        Self {
            vocab: 30_000,
            embed: 64,
            filters: 64,
            question_len: 24,
            answer_len: 40,
            hidden: 64,
        }
    }
}

/// The network.
#[derive(Module, Debug)]
pub struct TextMatchCnn {
    /// `[vocab, embed]`.
    pub embedding: Param<Tensor<2>>,
    /// Width-3 convolution as `[3 * embed, filters]`, shared by question and answer.
    pub conv: Dense,
    /// Bilinear agreement `q^T M a`, `[filters, filters]`.
    pub bilinear: Param<Tensor<2>>,
    /// Scoring MLP, hidden layer.
    pub hidden: Dense,
    /// Scoring MLP, output.
    pub out: Dense,
    /// Inverse document frequency of each id, fixed at training start (not trained).
    pub idf: Param<Tensor<1>>,
}

impl TextMatchCnn {
    /// A network with weights drawn from `rng` and the given IDF table (`vocab` entries).
    pub fn new(config: &TextMatchConfig, idf: Vec<f32>, rng: &mut Rng, device: &Device) -> Self {
        assert_eq!(idf.len(), config.vocab, "one IDF per id");
        let f = config.filters;
        let emb_values = rng.uniform_vec(config.vocab * config.embed, 0.1);
        let embedding = Param::from_tensor(Tensor::from_data(
            TensorData::new(emb_values, [config.vocab, config.embed]),
            device,
        ));
        let mut bilinear = kaiming(rng, [f, f], f, device);
        bilinear = bilinear.map(|t| t.mul_scalar(0.1));
        let idf = Param::from_tensor(Tensor::from_data(
            TensorData::new(idf, [config.vocab]),
            device,
        ))
        .set_require_grad(false);
        Self {
            embedding,
            conv: Dense::new(rng, 3 * config.embed, f, device),
            bilinear,
            hidden: Dense::new(rng, 2 * f + 1 + OVERLAP_FEATURES, config.hidden, device),
            out: Dense::new(rng, config.hidden, 1, device),
            idf,
        }
    }

    /// Max-pooled convolution features of `[b, len]` ids: `[b, filters]`.
    fn encode(&self, ids: Tensor<2, Int>) -> Tensor<2> {
        let [b, len] = ids.dims();
        let e = self.embedding.dims()[1];
        let emb = self
            .embedding
            .val()
            .select(0, ids.clone().reshape([b * len]))
            .reshape([b, len, e]);
        let padded = emb.pad([(1, 1), (0, 0)], burn::tensor::ops::PadMode::Constant(0.0));
        let windows = Tensor::cat(
            vec![
                padded.clone().slice([0..b, 0..len, 0..e]),
                padded.clone().slice([0..b, 1..len + 1, 0..e]),
                padded.slice([0..b, 2..len + 2, 0..e]),
            ],
            2,
        );
        let f = self.conv.bias.dims()[0];
        let h = relu(self.conv.forward(windows.reshape([b * len, 3 * e]))).reshape([b, len, f]);
        // Padding positions cannot win the max: push them far below any ReLU output.
        let pad = ids
            .equal_elem(0)
            .float()
            .reshape([b, len, 1])
            .mul_scalar(-1e4);
        (h + pad).max_dim(1).reshape([b, f])
    }

    /// Overlap features `[b, 4]`: IDF-weighted share of the question's words found in the
    /// answer, plain share, IDF-weighted overlap (scaled), and the answer's length share.
    pub fn overlap(&self, question: Tensor<2, Int>, answer: Tensor<2, Int>) -> Tensor<2> {
        let [b, lq] = question.dims();
        let [_, la] = answer.dims();
        let q = question.clone().float();
        let a = answer.clone().float();
        let same = (q.clone().reshape([b, lq, 1]) - a.reshape([b, 1, la]))
            .abs()
            .lower_elem(0.5)
            .float();
        let matched = same.max_dim(2).reshape([b, lq]);
        let qmask = question.clone().greater_equal_elem(FIRST_WORD_ID).float();
        let idf = self
            .idf
            .val()
            .select(0, question.reshape([b * lq]))
            .reshape([b, lq])
            * qmask.clone();
        let hits = matched * qmask.clone();
        let idf_hits = (hits.clone() * idf.clone()).sum_dim(1);
        let f_idf = idf_hits.clone() / idf.sum_dim(1).add_scalar(1e-6);
        let f_plain = hits.sum_dim(1) / qmask.sum_dim(1).add_scalar(1e-6);
        let f_raw = idf_hits.div_scalar(10.0);
        let f_len = answer
            .not_equal_elem(0)
            .float()
            .sum_dim(1)
            .div_scalar(la as f32);
        Tensor::cat(vec![f_idf, f_plain, f_raw, f_len], 1).detach()
    }

    /// One logit per (question, answer) pair: `[b, lq]`, `[b, la]` ids to `[b]`.
    pub fn forward(&self, question: Tensor<2, Int>, answer: Tensor<2, Int>) -> Tensor<1> {
        let [b, _] = question.dims();
        let features = self.overlap(question.clone(), answer.clone());
        let q = self.encode(question);
        let a = self.encode(answer);
        let sim = (q.clone().matmul(self.bilinear.val()) * a.clone()).sum_dim(1);
        let joined = Tensor::cat(vec![q, sim, a, features], 1);
        self.out
            .forward(relu(self.hidden.forward(joined)))
            .reshape([b])
    }
}
