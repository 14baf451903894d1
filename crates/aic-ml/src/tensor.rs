//! Tensors at a model's boundary: a name, an Open Inference Protocol datatype, a shape and the
//! elements row-major. This is what [`crate::infer::Predictor`] takes and returns; the wire
//! encoding (JSON) belongs to the server crate.

use aic_model::Datatype;

/// Elements of a tensor, stored by kind. The [`Datatype`] of the tensor decides the variant:
/// `FP16` and `FP32` are [`Values::F32`], `FP64` is [`Values::F64`], `UINT64` is
/// [`Values::U64`], every other integer type is [`Values::I64`] (range-checked against the
/// datatype), `BOOL` is [`Values::Bool`], `BYTES` is [`Values::Bytes`].
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `FP16`, `FP32`.
    F32(Vec<f32>),
    /// `FP64`.
    F64(Vec<f64>),
    /// `INT8` to `INT64`, `UINT8` to `UINT32`.
    I64(Vec<i64>),
    /// `UINT64`.
    U64(Vec<u64>),
    /// `BOOL`.
    Bool(Vec<bool>),
    /// `BYTES`: one byte string per element.
    Bytes(Vec<Vec<u8>>),
}

impl Values {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::U64(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Bytes(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this variant stores elements of `datatype`.
    pub fn holds(&self, datatype: Datatype) -> bool {
        use Datatype as D;
        matches!(
            (self, datatype),
            (Values::F32(_), D::Fp16 | D::Fp32)
                | (Values::F64(_), D::Fp64)
                | (Values::U64(_), D::Uint64)
                | (Values::Bool(_), D::Bool)
                | (Values::Bytes(_), D::Bytes)
                | (
                    Values::I64(_),
                    D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::Uint8 | D::Uint16 | D::Uint32
                )
        )
    }
}

/// The range of an integer datatype stored as [`Values::I64`].
pub fn int_range(datatype: Datatype) -> Option<(i64, i64)> {
    Some(match datatype {
        Datatype::Int8 => (i8::MIN.into(), i8::MAX.into()),
        Datatype::Int16 => (i16::MIN.into(), i16::MAX.into()),
        Datatype::Int32 => (i32::MIN.into(), i32::MAX.into()),
        Datatype::Int64 => (i64::MIN, i64::MAX),
        Datatype::Uint8 => (0, u8::MAX.into()),
        Datatype::Uint16 => (0, u16::MAX.into()),
        Datatype::Uint32 => (0, u32::MAX.into()),
        _ => return None,
    })
}

/// A named tensor.
///
/// # Invariants
///
/// `data` holds `datatype` (see [`Values`]) and has as many elements as the product of
/// `shape`; [`NamedTensor::new`] refuses anything else.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    name: String,
    datatype: Datatype,
    shape: Vec<usize>,
    data: Values,
}

/// A tensor whose parts do not agree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TensorError {
    /// The elements are of another kind than the datatype.
    #[error("tensor {name:?}: the data does not hold {datatype} elements")]
    Kind {
        /// Tensor name.
        name: String,
        /// Declared datatype.
        datatype: Datatype,
    },
    /// The number of elements is not the product of the shape.
    #[error("tensor {name:?}: shape {shape:?} needs {expected} elements, the data has {got}")]
    Length {
        /// Tensor name.
        name: String,
        /// Declared shape.
        shape: Vec<usize>,
        /// Product of the shape.
        expected: usize,
        /// Elements given.
        got: usize,
    },
}

impl NamedTensor {
    /// A tensor, checked (see the type's invariants).
    pub fn new(
        name: impl Into<String>,
        datatype: Datatype,
        shape: Vec<usize>,
        data: Values,
    ) -> Result<Self, TensorError> {
        let name = name.into();
        if !data.holds(datatype) {
            return Err(TensorError::Kind { name, datatype });
        }
        let expected = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if expected != Some(data.len()) {
            return Err(TensorError::Length {
                name,
                expected: expected.unwrap_or(usize::MAX),
                got: data.len(),
                shape,
            });
        }
        Ok(Self {
            name,
            datatype,
            shape,
            data,
        })
    }

    /// An `FP32` tensor.
    pub fn f32(
        name: impl Into<String>,
        shape: Vec<usize>,
        data: Vec<f32>,
    ) -> Result<Self, TensorError> {
        Self::new(name, Datatype::Fp32, shape, Values::F32(data))
    }

    /// An `INT64` tensor.
    pub fn i64(
        name: impl Into<String>,
        shape: Vec<usize>,
        data: Vec<i64>,
    ) -> Result<Self, TensorError> {
        Self::new(name, Datatype::Int64, shape, Values::I64(data))
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Element type.
    pub fn datatype(&self) -> Datatype {
        self.datatype
    }

    /// Shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Elements, row-major.
    pub fn data(&self) -> &Values {
        &self.data
    }

    /// The elements, when `FP32`/`FP16`.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            Values::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The elements, when stored as [`Values::I64`].
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            Values::I64(v) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_must_agree() {
        assert!(NamedTensor::f32("x", vec![2, 3], vec![0.0; 6]).is_ok());
        assert!(matches!(
            NamedTensor::f32("x", vec![2, 3], vec![0.0; 5]),
            Err(TensorError::Length {
                expected: 6,
                got: 5,
                ..
            })
        ));
        assert!(matches!(
            NamedTensor::new("x", Datatype::Int64, vec![1], Values::F32(vec![1.0])),
            Err(TensorError::Kind { .. })
        ));
        assert!(NamedTensor::new("x", Datatype::Uint8, vec![1], Values::I64(vec![1])).is_ok());
    }
}
