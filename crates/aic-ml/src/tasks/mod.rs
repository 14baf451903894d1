//! Tasks: a model family bound to its data, its loss and its validation metric.

pub mod answer;
pub mod keyword;

use burn::tensor::{activation::log_softmax, Device, Tensor, TensorData};

/// Mean cross-entropy of `logits` `[batch, classes]` against class indices.
pub fn cross_entropy(logits: Tensor<2>, labels: &[usize]) -> Tensor<1> {
    let [b, c] = logits.dims();
    let mut onehot = vec![0.0f32; b * c];
    for (i, &y) in labels.iter().enumerate() {
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

    /// The examples at `indices` as a `[n, row]` matrix and their labels.
    pub fn gather(&self, indices: &[usize], device: &Device) -> (Tensor<2>, Vec<usize>) {
        let mut values = Vec::with_capacity(indices.len() * self.row);
        for &i in indices {
            values.extend_from_slice(&self.values[i * self.row..(i + 1) * self.row]);
        }
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        (
            Tensor::from_data(TensorData::new(values, [indices.len(), self.row]), device),
            labels,
        )
    }
}
