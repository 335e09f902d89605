//! A fully connected layer: `z = x · Wᵀ + b`.
//!
//! Two ways to run it. [`Dense::forward`] and [`Dense::backward`] are the reference: one
//! layer, allocating, each with its shapes and its chain rule, in the style of CS231n's
//! `affine_forward` / `affine_backward`. [`Dense::forward_activate_into`] is the fast path
//! the training loop uses: it writes into a workspace buffer and applies the activation in
//! the same pass. `tests/suite/reference_backprop.rs` checks that both give the same gradients.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::activation::Activation;
use super::float::Float;
use super::gemm::{GemmScratch, Plan, gemm, gemm_part};

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

/// What [`Dense::forward`] keeps for [`Dense::backward`]: the layer's input.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseCache<T> {
    /// The input `x` of the forward pass, (batch, in).
    pub x: Array2<T>,
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

    /// Reference forward pass: `z = x · Wᵀ + b`.
    ///
    /// x: (batch, in) → z: (batch, out), and the cache for [`Dense::backward`].
    pub fn forward(&self, x: ArrayView2<T>) -> (Array2<T>, DenseCache<T>) {
        let mut z = matmul(x, self.weight.t());
        for mut row in z.rows_mut() {
            row.zip_mut_with(&self.bias, |z, &b| *z = *z + b);
        }
        (z, DenseCache { x: x.to_owned() })
    }

    /// Reference backward pass: from `dz` = dL/dz, (batch, out), the gradients
    /// `(dx, dW, db)` by the chain rule through `z = x · Wᵀ + b`:
    ///
    /// - `dx = dz · W`, (batch, in): the gradient passed to the layer below;
    /// - `dW = dzᵀ · x`, (out, in);
    /// - `db = Σ_rows dz`, (out).
    pub fn backward(
        &self,
        dz: ArrayView2<T>,
        cache: &DenseCache<T>,
    ) -> (Array2<T>, Array2<T>, Array1<T>) {
        // Any layout of dz (a transposed or sliced view too): the row sums need rows in order.
        let dz = dz.as_standard_layout();
        let dx = matmul(dz.view(), self.weight.view());
        let dw = matmul(dz.t(), cache.x.view());
        let mut db = Array1::zeros(self.outputs());
        sum_rows_into(
            dz.view(),
            db.as_slice_mut().expect("a new array is contiguous"),
        );
        (dx, dw, db)
    }

    /// Fast forward pass: writes the activations `f(x · Wᵀ + b)` into `out`: the product,
    /// then one pass that adds `b` to each row and applies `activation` (see
    /// [`Activation::forward_with_bias`]).
    ///
    /// x: (batch, in) → out: (batch, out), which must be contiguous (a workspace buffer).
    pub fn forward_activate_into(
        &self,
        x: ArrayView2<T>,
        mut out: ArrayViewMut2<T>,
        activation: Activation,
        scratch: &mut GemmScratch<T>,
        threads: usize,
    ) {
        matmul_into(x, self.weight.t(), out.view_mut(), scratch, threads);
        self.add_bias_activate(out, activation);
    }

    /// [`Dense::forward_activate_into`] for a block of rows of a batch of `batch` rows, on
    /// the calling thread: each row gets exactly the operations it gets when the whole batch
    /// is computed at once (the product's plan is the whole batch's, see
    /// [`gemm::Plan::with_rows`](super::gemm::Plan::with_rows)).
    ///
    /// x: (rows, in) → out: (rows, out), contiguous; rows ≤ batch.
    pub fn forward_activate_rows(
        &self,
        x: ArrayView2<T>,
        mut out: ArrayViewMut2<T>,
        activation: Activation,
        batch: usize,
        scratch: &mut GemmScratch<T>,
    ) {
        let w = self.weight.t();
        let plan = Plan::with_rows(batch, &x, &w, &out);
        gemm_part(plan, T::one(), x, w, T::zero(), out.view_mut(), scratch);
        self.add_bias_activate(out, activation);
    }

    /// `out = f(out + b)` row by row: the element-wise half of the forward pass.
    fn add_bias_activate(&self, mut out: ArrayViewMut2<T>, activation: Activation) {
        let bias = self.bias.as_slice().expect("contiguous bias");
        let flat = out
            .as_slice_mut()
            .expect("forward writes into a contiguous buffer");
        activation.forward_with_bias(flat, bias);
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

/// `out = a · b`, overwriting `out`: the crate's GEMM without BLAS's α and β. `scratch`
/// holds its packing buffers, `threads` is how many threads it may use.
///
/// a: (m, k), b: (k, n) → out: (m, n).
pub fn matmul_into<T: Float>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    out: ArrayViewMut2<T>,
    scratch: &mut GemmScratch<T>,
    threads: usize,
) {
    gemm(T::one(), a, b, T::zero(), out, scratch, threads);
}

/// `a · b` in a new array, on the calling thread (for the reference path and tools).
///
/// a: (m, k), b: (k, n) → (m, n).
pub fn matmul<T: Float>(a: ArrayView2<T>, b: ArrayView2<T>) -> Array2<T> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    matmul_into(a, b, out.view_mut(), &mut GemmScratch::default(), 1);
    out
}

/// Writes the sum of the rows of `m` into `sums` (one entry per column), adding the rows in
/// order: the bias gradient `db = Σ_rows dz`.
///
/// Panics if `m` is not contiguous or `sums.len()` is not its width.
pub fn sum_rows_into<T: Float>(m: ArrayView2<T>, sums: &mut [T]) {
    assert_eq!(m.ncols(), sums.len(), "one sum per column");
    sums.fill(T::zero());
    let flat = m.as_slice().expect("rows summed from a contiguous buffer");
    for row in flat.chunks_exact(sums.len().max(1)) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s = *s + v;
        }
    }
}
