//! A module's tensors by path, in a canonical order, and back.
//!
//! burn names every parameter and running statistic by its path in the module tree
//! (`blocks.0.pointwise.weight`). [`collect`] reads them all as `f32` values in `BTreeMap`
//! order; [`apply`] writes values back into a module of the same architecture, refusing any
//! missing, extra or misshapen tensor. Checkpoints and weights files are built on these two.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};

/// One tensor's shape and values.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

/// Tensors by path.
pub type TensorMap = BTreeMap<String, NamedTensor>;

/// Why tensors could not be applied to a module.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StateError {
    /// The module has a tensor the map lacks.
    #[error("missing tensor {0}")]
    Missing(String),
    /// The map has a tensor the module lacks.
    #[error("unexpected tensor {0}")]
    Unexpected(String),
    /// Same path, different shape.
    #[error("tensor {path} has shape {found:?}, the model needs {expected:?}")]
    Shape {
        /// Tensor path.
        path: String,
        /// Shape in the model.
        expected: Vec<usize>,
        /// Shape in the map.
        found: Vec<usize>,
    },
}

/// Every float tensor of `module` by path.
pub fn collect<M: Module>(module: &M) -> TensorMap {
    struct Collector {
        out: TensorMap,
        path: Vec<String>,
    }
    impl ModuleVisitor for Collector {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let tensor = param.val();
            let data = tensor.to_data();
            let values = data
                .try_into_vec_as::<f32>()
                .expect("float tensor casts to f32");
            self.out.insert(
                self.path.join("."),
                NamedTensor {
                    shape: tensor.dims().to_vec(),
                    values,
                },
            );
        }
    }
    let mut c = Collector {
        out: TensorMap::new(),
        path: Vec::new(),
    };
    module.visit(&mut c);
    c.out
}

/// Writes `tensors` into `module`, which must have exactly these paths and shapes.
pub fn apply<M: Module>(module: M, tensors: &TensorMap) -> Result<M, StateError> {
    let expected = collect_shapes(&module);
    for (path, shape) in &expected {
        match tensors.get(path) {
            None => return Err(StateError::Missing(path.clone())),
            Some(t) if &t.shape != shape => {
                return Err(StateError::Shape {
                    path: path.clone(),
                    expected: shape.clone(),
                    found: t.shape.clone(),
                })
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = tensors.keys().find(|k| !expected.contains_key(*k)) {
        return Err(StateError::Unexpected(extra.clone()));
    }
    struct Writer<'a> {
        tensors: &'a TensorMap,
        path: Vec<String>,
    }
    impl ModuleMapper for Writer<'_> {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, tensor, mapper) = param.consume();
            let path = self.path.join(".");
            let Some(t) = self.tensors.get(&path) else {
                return Param::from_mapped_value(id, tensor, mapper);
            };
            let device = tensor.device();
            let required = tensor.is_require_grad();
            let mut value =
                Tensor::<D>::from_data(TensorData::new(t.values.clone(), t.shape.clone()), &device);
            if required {
                value = value.require_grad();
            }
            Param::from_mapped_value(id, value, mapper)
        }
    }
    Ok(module.map(&mut Writer {
        tensors,
        path: Vec::new(),
    }))
}

fn collect_shapes<M: Module>(module: &M) -> BTreeMap<String, Vec<usize>> {
    struct Shapes {
        out: BTreeMap<String, Vec<usize>>,
        path: Vec<String>,
    }
    impl ModuleVisitor for Shapes {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.out
                .insert(self.path.join("."), param.shape().dims::<D>().to_vec());
        }
    }
    let mut s = Shapes {
        out: BTreeMap::new(),
        path: Vec::new(),
    };
    module.visit(&mut s);
    s.out
}
