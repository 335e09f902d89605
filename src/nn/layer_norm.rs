//! Layer normalization (Ba, Kiros & Hinton 2016), `torch.nn.LayerNorm(n)` with its affine
//! gain and shift and eps = 1e-5: every row is normalized over its own features, so a row's
//! output does not depend on the other rows of the batch (unlike [`crate::nn::BatchNorm`]).
//!
//! The math, once ([`LayerNorm::forward_into`], [`LayerNorm::backward_into`]); the
//! allocating [`LayerNorm::forward`] / [`LayerNorm::backward`] (CS231n's
//! `layernorm_forward` / `layernorm_backward`) call them on one thread, the workspace on its
//! threads (row pieces, and column pieces for the sums over rows: the same bits either way).
//! As in llm.c, the cache keeps each row's mean and 1/σ, and the backward pass recomputes x̂
//! from the input.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::float::Float;
use super::pieces::{self, Cost};

/// PyTorch's default eps for LayerNorm and BatchNorm.
pub const NORM_EPS: f64 = 1e-5;

/// A LayerNorm layer's parameters.
///
/// # Shapes
/// - `gain` γ: (features), starts at 1 (torch's `LayerNorm.weight`)
/// - `shift` β: (features), starts at 0 (torch's `LayerNorm.bias`)
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm<T> {
    /// γ, (features).
    pub gain: Array1<T>,
    /// β, (features).
    pub shift: Array1<T>,
    /// Added to the variance before the square root.
    pub eps: f64,
}

/// What [`LayerNorm::forward`] keeps for [`LayerNorm::backward`].
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNormCache<T> {
    /// The input, (batch, features).
    pub x: Array2<T>,
    /// Each row's mean, (batch).
    pub mean: Vec<T>,
    /// Each row's 1/√(var + eps), (batch).
    pub rstd: Vec<T>,
}

impl<T: Float> LayerNorm<T> {
    /// A layer over `features` values per row: γ = 1, β = 0, eps = 1e-5.
    pub fn new(features: usize) -> Self {
        LayerNorm {
            gain: Array1::ones(features),
            shift: Array1::zeros(features),
            eps: NORM_EPS,
        }
    }

    /// Number of features (input and output width).
    pub fn features(&self) -> usize {
        self.gain.len()
    }

    /// Forward pass, row by row:
    ///
    /// ```text
    /// μ = mean(x),  σ² = mean((x − μ)²)   (biased, as PyTorch)
    /// x̂ = (x − μ) / √(σ² + eps)
    /// y = γ ⊙ x̂ + β
    /// ```
    ///
    /// x: (batch, n), rows contiguous → y: (batch, n), mean and rstd: (at least batch). Sums in
    /// `f64`, each as 8 interleaved partial sums added pairwise (a fixed order, vectorized). On
    /// up to `threads` threads: a row's statistics are its own, so row pieces compute exactly what
    /// one loop over the rows does.
    pub fn forward_into(
        &self,
        x: ArrayView2<T>,
        y: ArrayViewMut2<T>,
        mean: &mut [T],
        rstd: &mut [T],
        threads: usize,
    ) {
        let (rows, n) = x.dim();
        assert_eq!(n, self.features(), "LayerNorm input width");
        let gain = self.gain.as_slice().expect("contiguous gain");
        let shift = self.shift.as_slice().expect("contiguous shift");
        let parts = (x, y, &mut mean[..rows], &mut rstd[..rows]);
        pieces::rows(threads, Cost::Heavy, parts, |(x, mut y, mean, rstd)| {
            for (r, (x_row, mut y_row)) in x.rows().into_iter().zip(y.rows_mut()).enumerate() {
                let x_row = x_row.as_slice().expect("rows of a standard-layout input");
                let mu = lane_sum(n, |j| x_row[j].f64()) / n as f64;
                let var = lane_sum(n, |j| (x_row[j].f64() - mu) * (x_row[j].f64() - mu)) / n as f64;
                let (mu, inv) = (T::of(mu), T::of(1.0 / (var + self.eps).sqrt()));
                mean[r] = mu;
                rstd[r] = inv;
                // Slices zipped, not indexed: no bounds checks, so the compiler uses vectors.
                let y_row = y_row.as_slice_mut().expect("rows of a contiguous output");
                for (((y, &x), &g), &b) in y_row.iter_mut().zip(x_row).zip(gain).zip(shift) {
                    *y = (x - mu) * inv * g + b;
                }
            }
        });
    }

    /// Backward pass, with x̂ recomputed from the cache and g = γ ⊙ dy:
    ///
    /// ```text
    /// dγ = Σ_rows dy ⊙ x̂,   dβ = Σ_rows dy
    /// dx = (1/σ) · (g − mean(g) − x̂ · mean(g ⊙ x̂))     (means over a row's features)
    /// ```
    ///
    /// x, dy: (batch, n), rows contiguous; dx: (batch, n) if wanted; dgain, dshift: (n),
    /// overwritten. Sums over a row's features in `f64`, as in the forward pass. On up to
    /// `threads` threads: dx is per row (row pieces), while dγ and dβ sum over the rows, so
    /// they take column pieces, each column summed over all the rows in row order: the same
    /// bits as one thread.
    #[allow(clippy::too_many_arguments)] // inputs, cache, three outputs, threads
    pub fn backward_into(
        &self,
        x: ArrayView2<T>,
        dy: ArrayView2<T>,
        mean: &[T],
        rstd: &[T],
        dx: Option<ArrayViewMut2<T>>,
        dgain: &mut [T],
        dshift: &mut [T],
        threads: usize,
    ) {
        let (rows, n) = x.dim();
        let gain = self.gain.as_slice().expect("contiguous gain");
        let (mean, rstd) = (&mean[..rows], &rstd[..rows]);
        if let Some(dx) = dx {
            pieces::rows(
                threads,
                Cost::Heavy,
                (x, dy, mean, rstd, dx),
                |(x, dy, mean, rstd, mut dx)| {
                    for r in 0..x.nrows() {
                        let (x_row, dy_row) = (x.row(r), dy.row(r));
                        let x_row = x_row.as_slice().expect("rows of a standard-layout input");
                        let dy_row = dy_row.as_slice().expect("rows of a standard-layout dy");
                        let xhat = |j: usize| (x_row[j] - mean[r]) * rstd[r];
                        let g_mean = lane_sum(n, |j| (gain[j] * dy_row[j]).f64());
                        let gx_mean = lane_sum(n, |j| (gain[j] * dy_row[j]).f64() * xhat(j).f64());
                        let (g_mean, gx_mean) =
                            (T::of(g_mean / n as f64), T::of(gx_mean / n as f64));
                        let (mu, inv) = (mean[r], rstd[r]);
                        let mut dx_row = dx.row_mut(r);
                        let dx_row = dx_row.as_slice_mut().expect("rows of a contiguous dx");
                        let terms = dx_row.iter_mut().zip(x_row).zip(dy_row).zip(gain);
                        for (((d, &x), &dy), &gain) in terms {
                            let g = gain * dy;
                            *d = (g - g_mean - (x - mu) * inv * gx_mean) * inv;
                        }
                    }
                },
            );
        }
        pieces::columns(
            threads,
            Cost::Heavy,
            (x, dy, dgain, dshift),
            |(x, dy, dgain, dshift)| {
                dgain.fill(T::zero());
                dshift.fill(T::zero());
                for r in 0..x.nrows() {
                    let (x_row, dy_row) = (x.row(r), dy.row(r));
                    for j in 0..x_row.len() {
                        let xhat = (x_row[j] - mean[r]) * rstd[r];
                        dgain[j] = dgain[j] + dy_row[j] * xhat;
                        dshift[j] = dshift[j] + dy_row[j];
                    }
                }
            },
        );
    }

    /// Reference forward pass (allocating).
    ///
    /// x: (batch, n) → y: (batch, n), and the cache for [`LayerNorm::backward`].
    pub fn forward(&self, x: ArrayView2<T>) -> (Array2<T>, LayerNormCache<T>) {
        let mut y = Array2::zeros(x.raw_dim());
        let mut mean = vec![T::zero(); x.nrows()];
        let mut rstd = vec![T::zero(); x.nrows()];
        let x = x.as_standard_layout().into_owned();
        self.forward_into(x.view(), y.view_mut(), &mut mean, &mut rstd, 1);
        (y, LayerNormCache { x, mean, rstd })
    }

    /// Reference backward pass (allocating): `(dx, dγ, dβ)` from dy, (batch, n).
    pub fn backward(
        &self,
        dy: ArrayView2<T>,
        cache: &LayerNormCache<T>,
    ) -> (Array2<T>, Array1<T>, Array1<T>) {
        let mut dx = Array2::zeros(dy.raw_dim());
        let mut dgain = Array1::zeros(self.features());
        let mut dshift = Array1::zeros(self.features());
        let dy = dy.as_standard_layout();
        self.backward_into(
            cache.x.view(),
            dy.view(),
            &cache.mean,
            &cache.rstd,
            Some(dx.view_mut()),
            dgain.as_slice_mut().expect("new array"),
            dshift.as_slice_mut().expect("new array"),
            1,
        );
        (dx, dgain, dshift)
    }
}

/// Σ_{j<n} term(j) in `f64` as 8 interleaved partial sums (the terms j ≡ l mod 8 in lane l, in
/// order) added pairwise at the end. The order is fixed, whatever the vector width, so every
/// CPU gives the same bits; and unlike one running sum, whose every addition waits for the
/// previous one, the compiler can run the lanes as vectors (LayerNorm's row sums were 7 % of a
/// W6 step as one running sum each).
#[inline(always)]
fn lane_sum(n: usize, term: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [0.0_f64; 8];
    let whole = n - n % 8;
    let mut j = 0;
    while j < whole {
        for (l, a) in acc.iter_mut().enumerate() {
            *a += term(j + l);
        }
        j += 8;
    }
    for (l, a) in acc.iter_mut().enumerate().take(n - whole) {
        *a += term(whole + l);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}
