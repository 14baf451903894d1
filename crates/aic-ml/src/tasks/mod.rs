//! Tasks: a model family bound to its data, its loss and its validation metric.

pub mod answer;
pub mod classify;
pub mod keyword;

use burn::tensor::{activation::log_softmax, Device, Tensor, TensorData};

use crate::train::{index_batches, BatchIter};

/// Mean cross-entropy of `logits` `[batch, classes]` against class indices.
pub fn cross_entropy(logits: Tensor<2>, labels: &[usize]) -> Tensor<1> {
    let [b, c] = logits.dims();
    let mut onehot = vec![0.0f32; b * c];
    for (i, &y) in labels.iter().enumerate() {
        // Callers check labels against the model's classes (`TrainSet::batches`, the jobs);
        // past this, a wrong label would land in the next example's row.
        assert!(y < c, "label {y} outside {c} classes");
        onehot[i * c + y] = 1.0;
    }
    let device = logits.device();
    let target = Tensor::<2>::from_data(TensorData::new(onehot, [b, c]), &device);
    (log_softmax(logits, 1) * target)
        .sum()
        .neg()
        .div_scalar(b as f32)
        .reshape([1])
}

/// Dense examples of equal size, stored row after row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Examples {
    /// `len * row` values.
    pub values: Vec<f32>,
    /// Values per example.
    pub row: usize,
    /// Class index of each example.
    pub labels: Vec<usize>,
}

impl Examples {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Appends one example.
    pub fn push(&mut self, values: &[f32], label: usize) {
        assert_eq!(values.len(), self.row, "example size");
        self.values.extend_from_slice(values);
        self.labels.push(label);
    }

    /// The examples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Examples {
        let mut values = Vec::with_capacity(indices.len() * self.row);
        for &i in indices {
            values.extend_from_slice(&self.values[i * self.row..(i + 1) * self.row]);
        }
        Examples {
            values,
            row: self.row,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The examples as a `[len, row]` matrix (the buffer moves, no copy) and their labels.
    pub fn into_tensor(self, device: &Device) -> (Tensor<2>, Vec<usize>) {
        let n = self.len();
        (
            Tensor::from_data(TensorData::new(self.values, [n, self.row]), device),
            self.labels,
        )
    }

    /// The examples at `indices` as a `[n, row]` matrix and their labels.
    pub fn gather(&self, indices: &[usize], device: &Device) -> (Tensor<2>, Vec<usize>) {
        self.subset(indices).into_tensor(device)
    }
}

/// Training examples of a task: in memory, or streamed from a digitized data set's shards.
pub enum TrainSet {
    /// In memory; batches in the order of [`crate::train::epoch_order`].
    Memory(Examples),
    /// Read shard by shard through the data set's loader, in the loader's order (a pure
    /// function of seed, epoch and shard sizes), while the next shards are prefetched.
    Stream(Box<crate::digitized::Stream>),
}

impl From<Examples> for TrainSet {
    fn from(examples: Examples) -> Self {
        TrainSet::Memory(examples)
    }
}

impl TrainSet {
    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            TrainSet::Memory(e) => e.len(),
            TrainSet::Stream(s) => s.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batches of `epoch` from batch `first` on (see [`crate::train::Task::batches`]); a
    /// label outside `0..classes` ends them with an error naming it.
    pub fn batches(
        &self,
        seed: u64,
        epoch: u32,
        first: u64,
        batch_size: usize,
        classes: usize,
    ) -> Result<BatchIter<'_, Examples>, String> {
        let batches = self.unchecked_batches(seed, epoch, first, batch_size)?;
        Ok(Box::new(batches.map(move |b| {
            let b = b?;
            match b.labels.iter().find(|&&l| l >= classes) {
                Some(l) => Err(format!(
                    "label {l} is outside the model's {classes} classes"
                )),
                None => Ok(b),
            }
        })))
    }

    fn unchecked_batches(
        &self,
        seed: u64,
        epoch: u32,
        first: u64,
        batch_size: usize,
    ) -> Result<BatchIter<'_, Examples>, String> {
        match self {
            TrainSet::Memory(e) => Ok(Box::new(
                index_batches(seed, epoch, first, batch_size, e.len())
                    .map(move |b| b.map(|indices| e.subset(&indices))),
            )),
            TrainSet::Stream(s) => s.batches(seed, epoch, first, batch_size),
        }
    }
}
