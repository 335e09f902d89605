//! A fully connected layer: `z = x · Wᵀ + b`.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::float::Float;
use super::gemm::{GemmScratch, gemm};

/// A dense layer's parameters (also used, with the same shapes, for their gradients).
///
/// # Shapes
/// - `weight`: (out, in), as PyTorch's `nn.Linear.weight`; `fan_in = ncols`, `fan_out = nrows`
/// - `bias`: (out)
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<T> {
    /// Weight matrix, (out, in).
    pub weight: Array2<T>,
    /// Bias vector, (out).
    pub bias: Array1<T>,
}

impl<T: Float> Dense<T> {
    /// A layer of zeros with `inputs` inputs and `outputs` outputs.
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Dense {
            weight: Array2::zeros((outputs, inputs)),
            bias: Array1::zeros(outputs),
        }
    }

    /// Number of inputs (fan_in).
    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of outputs (fan_out).
    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }

    /// Writes the pre-activations `z = x · Wᵀ + b` into `out`.
    ///
    /// x: (batch, in) → out: (batch, out).
    pub fn forward_into(
        &self,
        x: ArrayView2<T>,
        mut out: ArrayViewMut2<T>,
        scratch: &mut GemmScratch<T>,
        threads: usize,
    ) {
        match (out.as_slice_mut(), self.bias.as_slice()) {
            (Some(flat), Some(bias)) if !bias.is_empty() => {
                for row in flat.chunks_exact_mut(bias.len()) {
                    row.copy_from_slice(bias);
                }
            }
            _ => {
                for mut row in out.rows_mut() {
                    row.assign(&self.bias);
                }
            }
        }
        gemm(
            T::one(),
            x,
            self.weight.t(),
            T::one(),
            out,
            scratch,
            threads,
        );
    }

    /// Sets every parameter to 0.
    pub fn fill_zero(&mut self) {
        self.weight.fill(T::zero());
        self.bias.fill(T::zero());
    }

    /// Whether every parameter is finite.
    pub fn is_finite(&self) -> bool {
        self.weight.iter().all(|v| v.is_finite()) && self.bias.iter().all(|v| v.is_finite())
    }
}
