//! Parameters as one ordered list of tensors: what optimizers, saving, gradient checks and
//! memory estimates iterate, instead of reaching into a layer's fields.
//!
//! A model (a [`crate::nn::Mlp`] or a [`crate::nn::Network`]) numbers its parameter tensors
//! 0, 1, 2, … in layer order; each layer contributes its own in a fixed order (a dense layer
//! its weight then its bias; a norm layer its gain then its shift; a residual block its
//! body's, then its projection's, then α). Gradients and optimizer state use the same
//! numbering ([`ParamList`]), so an optimizer is a loop over `0..tensor_count()` that never
//! needs to know what a tensor is for.

use std::fmt;

use super::float::Float;

/// What a parameter tensor is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// A dense layer's weight matrix, (out, in).
    Weight,
    /// A dense layer's bias, (out).
    Bias,
    /// A norm layer's multiplicative gain γ, (features); starts at 1.
    Gain,
    /// A norm layer's additive shift β, (features); starts at 0.
    Shift,
    /// A residual block's learnable branch scale α, one value.
    Alpha,
}

impl ParamKind {
    /// The kind as PyTorch names the tensor: `weight` / `bias` for dense and norm layers
    /// alike (`torch.nn.LayerNorm.weight` is the gain), `alpha` for a residual scale. Saved
    /// `.npy` files carry this name, so they load into the PyTorch module's attribute.
    pub fn torch_name(&self) -> &'static str {
        match self {
            ParamKind::Weight | ParamKind::Gain => "weight",
            ParamKind::Bias | ParamKind::Shift => "bias",
            ParamKind::Alpha => "alpha",
        }
    }

    /// The kind in initlab's words (`weight`, `bias`, `gain`, `shift`, `alpha`).
    pub fn name(&self) -> &'static str {
        match self {
            ParamKind::Weight => "weight",
            ParamKind::Bias => "bias",
            ParamKind::Gain => "gain",
            ParamKind::Shift => "shift",
            ParamKind::Alpha => "alpha",
        }
    }
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One parameter tensor's name and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    /// Where it lives: the layer's index in the network, and inside a residual block the
    /// path below it (`"3"`, `"3.body.1"`, `"3.projection"`).
    pub layer: String,
    /// What it is.
    pub kind: ParamKind,
    /// Its shape: `[out, in]` for a weight, `[n]` for a vector, `[1]` for α.
    pub shape: Vec<usize>,
}

impl ParamInfo {
    /// `layer.kind`, e.g. `2.weight` or `3.body.1.gain`.
    pub fn label(&self) -> String {
        format!("{}.{}", self.layer, self.kind)
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Anything holding an ordered list of tensors with the model's parameter numbering:
/// the model itself, its gradients, an optimizer's state.
pub trait ParamSet<T> {
    /// Number of tensors.
    fn tensor_count(&self) -> usize;
    /// Tensor `i`'s values, row-major.
    fn tensor(&self, i: usize) -> &[T];
    /// Tensor `i`'s values, writable.
    fn tensor_mut(&mut self, i: usize) -> &mut [T];

    /// The learning-rate multiplier of tensor `i` (1 unless a parametrization such as μP
    /// set one; see [`crate::nn::parametrization`]). Optimizers multiply their learning
    /// rate by it and divide their weight decay by it.
    fn learning_rate_multiplier(&self, i: usize) -> f64 {
        let _ = i;
        1.0
    }

    /// Total number of values.
    fn value_count(&self) -> usize {
        (0..self.tensor_count()).map(|i| self.tensor(i).len()).sum()
    }

    /// Whether every value is finite.
    fn all_finite(&self) -> bool
    where
        T: Float,
    {
        (0..self.tensor_count()).all(|i| self.tensor(i).iter().all(|v| v.is_finite()))
    }
}

/// A model's parameter list with names: what a [`ParamSet`] that is a model adds.
pub trait Parameters<T>: ParamSet<T> {
    /// Tensor `i`'s name and shape.
    fn info(&self, i: usize) -> ParamInfo;

    /// Every tensor's name and shape, in order (allocates; for saving, checks and tables).
    fn infos(&self) -> Vec<ParamInfo> {
        (0..self.tensor_count()).map(|i| self.info(i)).collect()
    }
}

/// A plain list of tensors numbered like a model's parameters: gradients, optimizer state,
/// copies of the weights.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ParamList<T> {
    tensors: Vec<Vec<T>>,
}

impl<T: Float> ParamList<T> {
    /// Zeros shaped like `like`'s tensors.
    pub fn zeros_like<P: ParamSet<T> + ?Sized>(like: &P) -> Self {
        ParamList {
            tensors: (0..like.tensor_count())
                .map(|i| vec![T::zero(); like.tensor(i).len()])
                .collect(),
        }
    }

    /// A copy of `from`'s values.
    pub fn copy_of<P: ParamSet<T> + ?Sized>(from: &P) -> Self {
        ParamList {
            tensors: (0..from.tensor_count())
                .map(|i| from.tensor(i).to_vec())
                .collect(),
        }
    }

    /// Overwrites every tensor with `from`'s values (same shapes; allocates nothing).
    pub fn assign<P: ParamSet<T> + ?Sized>(&mut self, from: &P) {
        assert_eq!(
            self.tensor_count(),
            from.tensor_count(),
            "tensor counts differ"
        );
        for (i, t) in self.tensors.iter_mut().enumerate() {
            t.copy_from_slice(from.tensor(i));
        }
    }

    /// Sets every value to 0.
    pub fn fill_zero(&mut self) {
        for t in &mut self.tensors {
            t.fill(T::zero());
        }
    }

    /// The Euclidean norm of all values together, in `f64` (tensor by tensor, in order).
    pub fn norm(&self) -> f64 {
        self.tensors
            .iter()
            .map(|t| t.iter().map(|v| v.f64() * v.f64()).sum::<f64>())
            .sum::<f64>()
            .sqrt()
    }

    /// Tensors `i` and `j` (i < j), both writable.
    pub fn two_mut(&mut self, i: usize, j: usize) -> (&mut [T], &mut [T]) {
        assert!(i < j, "two_mut wants i < j");
        let (low, high) = self.tensors.split_at_mut(j);
        (&mut low[i], &mut high[0])
    }

    /// `self += scale · other`, tensor by tensor.
    pub fn scaled_add<P: ParamSet<T> + ?Sized>(&mut self, scale: T, other: &P) {
        for (i, t) in self.tensors.iter_mut().enumerate() {
            for (s, &o) in t.iter_mut().zip(other.tensor(i)) {
                *s = *s + scale * o;
            }
        }
    }
}

impl<T> ParamSet<T> for ParamList<T> {
    fn tensor_count(&self) -> usize {
        self.tensors.len()
    }
    fn tensor(&self, i: usize) -> &[T] {
        &self.tensors[i]
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        &mut self.tensors[i]
    }
}
