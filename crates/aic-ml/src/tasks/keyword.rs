//! Keyword spotting: log-mel frames to one of N words, scored by accuracy.

use burn::tensor::{Device, Tensor};

use super::{cross_entropy, Examples, TrainSet};
use crate::metrics::{self, ClassificationReport};
use crate::models::kws::{KwsConfig, KwsDsCnn};
use crate::train::{BatchIter, Task};

/// Examples are evaluated in batches of this many.
const EVAL_BATCH: usize = 256;

/// The keyword-spotting task: a `kws-dscnn` on `[frames, mels]` examples.
pub struct KeywordTask {
    /// Architecture.
    pub config: KwsConfig,
    /// Training examples.
    pub train: TrainSet,
    /// Validation examples (early stopping).
    pub valid: Examples,
}

impl KeywordTask {
    fn shape(&self, x: Tensor<2>) -> Tensor<3> {
        let [b, _] = x.dims();
        x.reshape([b, self.config.frames, self.config.mels])
    }
}

/// Predicted classes of `examples`.
pub fn predict(
    config: &KwsConfig,
    model: &KwsDsCnn,
    examples: &Examples,
    device: &Device,
) -> Vec<usize> {
    let mut out = Vec::with_capacity(examples.len());
    let all: Vec<usize> = (0..examples.len()).collect();
    for chunk in all.chunks(EVAL_BATCH) {
        let (x, _) = examples.gather(chunk, device);
        let [b, _] = x.dims();
        let logits = model.forward(x.reshape([b, config.frames, config.mels]));
        let idx = logits
            .argmax(1)
            .into_data()
            .try_into_vec_as::<i64>()
            .expect("index tensor casts to i64");
        out.extend(idx.into_iter().map(|i| i as usize));
    }
    out
}

/// Accuracy, macro-F1 and confusion matrix of `model` on `examples`.
pub fn evaluate(
    config: &KwsConfig,
    model: &KwsDsCnn,
    examples: &Examples,
    device: &Device,
) -> ClassificationReport {
    let predictions = predict(config, model, examples, device);
    metrics::classification(&examples.labels, &predictions, config.classes)
}

impl Task for KeywordTask {
    type Model = KwsDsCnn;
    type Batch = Examples;

    fn train_len(&self) -> usize {
        self.train.len()
    }

    fn batches(
        &self,
        seed: u64,
        epoch: u32,
        first: u64,
        batch_size: usize,
    ) -> Result<BatchIter<'_, Examples>, String> {
        self.train
            .batches(seed, epoch, first, batch_size, self.config.classes)
    }

    fn loss(&self, model: &KwsDsCnn, batch: Examples, device: &Device) -> Tensor<1> {
        let (x, labels) = batch.into_tensor(device);
        cross_entropy(model.forward(self.shape(x)), &labels)
    }

    fn validate(&self, model: &KwsDsCnn) -> f64 {
        let device = model.stem.weight.val().device();
        evaluate(&self.config, model, &self.valid, &device).accuracy
    }
}
