//! Plain classification of feature vectors with the `mlp` family, scored by accuracy.

use burn::tensor::{Device, Tensor};

use super::{cross_entropy, Examples, TrainSet};
use crate::metrics::{self, ClassificationReport};
use crate::models::mlp::{Mlp, MlpConfig};
use crate::train::{BatchIter, Task};

/// Examples are evaluated in batches of this many.
const EVAL_BATCH: usize = 1024;

/// The classification task.
pub struct ClassifyTask {
    /// Architecture.
    pub config: MlpConfig,
    /// Training examples.
    pub train: TrainSet,
    /// Validation examples.
    pub valid: Examples,
}

/// Accuracy, macro-F1 and confusion matrix of `model` on `examples`.
pub fn evaluate(
    config: &MlpConfig,
    model: &Mlp,
    examples: &Examples,
    device: &Device,
) -> ClassificationReport {
    let all: Vec<usize> = (0..examples.len()).collect();
    let mut predictions = Vec::with_capacity(examples.len());
    for chunk in all.chunks(EVAL_BATCH) {
        let (x, _) = examples.gather(chunk, device);
        let idx = model
            .forward(x)
            .argmax(1)
            .into_data()
            .try_into_vec_as::<i64>()
            .expect("index tensor casts to i64");
        predictions.extend(idx.into_iter().map(|i| i as usize));
    }
    metrics::classification(&examples.labels, &predictions, config.classes)
}

impl Task for ClassifyTask {
    type Model = Mlp;
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

    fn loss(&self, model: &Mlp, batch: Examples, device: &Device) -> Tensor<1> {
        let (x, labels) = batch.into_tensor(device);
        cross_entropy(model.forward(x), &labels)
    }

    fn validate(&self, model: &Mlp) -> f64 {
        let device = model.head.bias.val().device();
        evaluate(&self.config, model, &self.valid, &device).accuracy
    }
}
