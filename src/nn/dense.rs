//! A fully connected layer: `z = x · Wᵀ + b`.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::activation::Activation;
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
    /// x: (batch, in) → out: (batch, out). The product is computed first, then `b` is
    /// added to each row.
    pub fn forward_into(
        &self,
        x: ArrayView2<T>,
        out: ArrayViewMut2<T>,
        scratch: &mut GemmScratch<T>,
        threads: usize,
    ) {
        self.forward_activate_into(x, out, Activation::Identity, scratch, threads);
    }

    /// Writes the activations `f(x · Wᵀ + b)` into `out`: the product, then one pass that
    /// adds `b` to each row and applies `activation` (see [`Activation::forward_with_bias`]).
    ///
    /// x: (batch, in) → out: (batch, out).
    pub fn forward_activate_into(
        &self,
        x: ArrayView2<T>,
        mut out: ArrayViewMut2<T>,
        activation: Activation,
        scratch: &mut GemmScratch<T>,
        threads: usize,
    ) {
        gemm(
            T::one(),
            x,
            self.weight.t(),
            T::zero(),
            out.view_mut(),
            scratch,
            threads,
        );
        let bias = self.bias.as_slice().expect("contiguous bias");
        match out.as_slice_mut() {
            Some(flat) => activation.forward_with_bias(flat, bias),
            None => {
                for mut row in out.rows_mut() {
                    let mut tmp = row.to_vec();
                    activation.forward_with_bias(&mut tmp, bias);
                    row.assign(&ndarray::ArrayView1::from(&tmp));
                }
            }
        }
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
