//! Batch normalization (Ioffe & Szegedy 2015), exactly `torch.nn.BatchNorm1d(n)`'s
//! semantics: eps = 1e-5, momentum 0.1, affine gain and shift.
//!
//! - **Training** ([`Mode::Train`]): each feature is normalized over the rows of the batch
//!   with the batch mean and the *biased* variance; the running mean and the *unbiased*
//!   running variance move towards the batch's by `momentum` (done after the step by
//!   [`BatchNorm::update_running`], from the statistics the forward pass kept).
//! - **Evaluation** ([`Mode::Eval`]): the running statistics normalize, so a row's output no
//!   longer depends on the other rows.
//!
//! The math is written once ([`BatchNorm::forward_into`], [`BatchNorm::backward_into`]);
//! the allocating [`BatchNorm::forward`] / [`BatchNorm::backward`] call them on one thread,
//! the workspace on its threads (column pieces: every statistic is one feature's, summed over
//! the rows in order, so the bits are the same either way).

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::float::Float;
use super::layer_norm::NORM_EPS;
use super::pieces::{self, Cost};

/// Training or evaluation: what BatchNorm normalizes with. Explicit everywhere it matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics (and they feed the running ones).
    Train,
    /// Running statistics.
    Eval,
}

/// PyTorch's default momentum of the running statistics.
pub const BATCH_NORM_MOMENTUM: f64 = 0.1;

/// A BatchNorm layer: parameters and running statistics.
///
/// # Shapes
/// all (features): `gain` γ (starts at 1), `shift` β (starts at 0), `running_mean` (starts
/// at 0), `running_var` (starts at 1).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm<T> {
    /// γ (torch's `BatchNorm1d.weight`).
    pub gain: Array1<T>,
    /// β (torch's `BatchNorm1d.bias`).
    pub shift: Array1<T>,
    /// Running mean, for evaluation.
    pub running_mean: Array1<T>,
    /// Running unbiased variance, for evaluation.
    pub running_var: Array1<T>,
    /// Added to the variance before the square root.
    pub eps: f64,
    /// Weight of the new batch in the running statistics.
    pub momentum: f64,
}

/// The per-feature statistics a training forward pass keeps (for backward and for the
/// running statistics).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchStats<T> {
    /// Mean per feature: the batch's (training) or the running one (evaluation).
    pub mean: Vec<T>,
    /// 1/√(var + eps) per feature, with the batch's biased variance or the running one.
    pub rstd: Vec<T>,
    /// Σ (x − mean)² per feature over the batch (training only), in `f64`.
    pub var_sum: Vec<f64>,
    /// Per-feature `f64` accumulators of the passes over the rows (the forward pass's column
    /// means, the backward pass's Σ g and Σ g·x̂): workspace, not statistics.
    pub sums: [Vec<f64>; 2],
    /// Rows of the batch.
    pub rows: usize,
    /// Which statistics normalized.
    pub mode: Mode,
}

impl<T: Float> BatchStats<T> {
    /// Room for `features` features.
    pub fn new(features: usize) -> Self {
        BatchStats {
            mean: vec![T::zero(); features],
            rstd: vec![T::zero(); features],
            var_sum: vec![0.0; features],
            sums: [vec![0.0; features], vec![0.0; features]],
            rows: 0,
            mode: Mode::Train,
        }
    }
}

/// What [`BatchNorm::forward`] keeps for [`BatchNorm::backward`].
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormCache<T> {
    /// The input, (batch, features).
    pub x: Array2<T>,
    /// The statistics used.
    pub stats: BatchStats<T>,
}

impl<T: Float> BatchNorm<T> {
    /// A layer over `features` features: γ = 1, β = 0, running mean 0 and variance 1.
    pub fn new(features: usize) -> Self {
        BatchNorm {
            gain: Array1::ones(features),
            shift: Array1::zeros(features),
            running_mean: Array1::zeros(features),
            running_var: Array1::ones(features),
            eps: NORM_EPS,
            momentum: BATCH_NORM_MOMENTUM,
        }
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.gain.len()
    }

    /// Forward pass, feature by feature (column j):
    ///
    /// ```text
    /// training:   μ_j = mean_rows x_j,  σ²_j = mean_rows (x_j − μ_j)²   (biased)
    /// evaluation: μ_j = running_mean_j, σ²_j = running_var_j
    /// y_j = γ_j (x_j − μ_j) / √(σ²_j + eps) + β_j
    /// ```
    ///
    /// x: (batch, n) → y: (batch, n). Sums in `f64`. In training a single row has variance
    /// 0, so x̂ = 0 and y = β: defined, but useless to train on, which is why PyTorch refuses
    /// it and experiments refuse a `batch_size` that leaves a one-row batch (the whole-set
    /// gradient at logged epochs, taken in chunks, may still meet one; it does not touch the
    /// running statistics).
    ///
    /// On up to `threads` threads, in column pieces: a feature's statistics sum over the rows,
    /// so each piece sums its columns over all the rows in row order, as one thread does.
    pub fn forward_into(
        &self,
        x: ArrayView2<T>,
        y: ArrayViewMut2<T>,
        mode: Mode,
        stats: &mut BatchStats<T>,
        threads: usize,
    ) {
        let (rows, n) = x.dim();
        assert_eq!(n, self.features(), "BatchNorm input width");
        stats.rows = rows;
        stats.mode = mode;
        let (mean, rstd, var_sum) = (&mut stats.mean, &mut stats.rstd, &mut stats.var_sum);
        let [mu64, _] = &mut stats.sums;
        if mode == Mode::Eval {
            for j in 0..n {
                mean[j] = self.running_mean[j];
                rstd[j] = T::of(1.0 / (self.running_var[j].f64() + self.eps).sqrt());
                var_sum[j] = 0.0;
            }
        }
        let gain = self.gain.as_slice().expect("contiguous gain");
        let shift = self.shift.as_slice().expect("contiguous shift");
        let parts = (
            x,
            y,
            gain,
            shift,
            &mut mean[..],
            &mut rstd[..],
            &mut var_sum[..],
            &mut mu64[..],
        );
        pieces::columns(
            threads,
            Cost::Heavy,
            parts,
            |(x, mut y, gain, shift, mean, rstd, var_sum, mu64)| {
                if mode == Mode::Train {
                    // Row by row, each feature's sums in row order (as a loop down each column
                    // would add them, so the same bits), but along the rows in memory order,
                    // the features side by side as vector lanes.
                    let start: f64 = std::iter::empty::<f64>().sum(); // `Sum`'s own start
                    mu64.fill(start);
                    var_sum.fill(start);
                    for x_row in x.rows() {
                        for (m, v) in mu64.iter_mut().zip(x_row) {
                            *m += v.f64();
                        }
                    }
                    for m in mu64.iter_mut() {
                        *m /= rows as f64;
                    }
                    for x_row in x.rows() {
                        for ((s, v), &mu) in var_sum.iter_mut().zip(x_row).zip(mu64.iter()) {
                            *s += (v.f64() - mu) * (v.f64() - mu);
                        }
                    }
                    for j in 0..x.ncols() {
                        mean[j] = T::of(mu64[j]);
                        rstd[j] = T::of(1.0 / (var_sum[j] / rows as f64 + self.eps).sqrt());
                    }
                }
                for (x_row, mut y_row) in x.rows().into_iter().zip(y.rows_mut()) {
                    for j in 0..x_row.len() {
                        y_row[j] = (x_row[j] - mean[j]) * rstd[j] * gain[j] + shift[j];
                    }
                }
            },
        );
    }

    /// Backward pass, with x̂ recomputed from the input and the statistics, g = γ ⊙ dy:
    ///
    /// ```text
    /// dγ = Σ_rows dy ⊙ x̂,   dβ = Σ_rows dy
    /// training:   dx = (1/σ) · (g − mean_rows(g) − x̂ · mean_rows(g ⊙ x̂))
    /// evaluation: dx = g / σ                (the statistics are constants)
    /// ```
    ///
    /// x, dy: (batch, n); dx: (batch, n) if wanted; dgain, dshift: (n), overwritten. On up to
    /// `threads` threads, in column pieces as [`BatchNorm::forward_into`]: every sum is over
    /// one feature's rows, in row order.
    #[allow(clippy::too_many_arguments)] // inputs, statistics, three outputs, threads
    pub fn backward_into(
        &self,
        x: ArrayView2<T>,
        dy: ArrayView2<T>,
        stats: &mut BatchStats<T>,
        dx: Option<ArrayViewMut2<T>>,
        dgain: &mut [T],
        dshift: &mut [T],
        threads: usize,
    ) {
        let rows = x.nrows();
        let gain = self.gain.as_slice().expect("contiguous gain");
        let mode = stats.mode;
        let [g_sum, gx_sum] = &mut stats.sums;
        let parts = (
            (x, dy, dx),
            (dgain, dshift, gain),
            (&stats.mean[..], &stats.rstd[..]),
            (&mut g_sum[..], &mut gx_sum[..]),
        );
        pieces::columns(
            threads,
            Cost::Heavy,
            parts,
            |((x, dy, dx), (dgain, dshift, gain), (mean, rstd), (g_sum, gx_sum))| {
                // Row by row (memory order, the features as vector lanes), each feature's sums
                // in row order: the same bits as a loop down each column.
                g_sum.fill(0.0);
                gx_sum.fill(0.0);
                dgain.fill(T::zero());
                dshift.fill(T::zero());
                for (x_row, dy_row) in x.rows().into_iter().zip(dy.rows()) {
                    for j in 0..x_row.len() {
                        let d = dy_row[j];
                        let xhat = (x_row[j] - mean[j]) * rstd[j];
                        g_sum[j] += (gain[j] * d).f64();
                        gx_sum[j] += (gain[j] * d).f64() * xhat.f64();
                        dgain[j] = dgain[j] + d * xhat;
                        dshift[j] = dshift[j] + d;
                    }
                }
                let Some(mut dx) = dx else { return };
                match mode {
                    Mode::Train => {
                        // The means, rounded to T once (kept widened: exact).
                        for (g, gx) in g_sum.iter_mut().zip(gx_sum.iter_mut()) {
                            *g = T::of(*g / rows as f64).f64();
                            *gx = T::of(*gx / rows as f64).f64();
                        }
                        let rows_of = x.rows().into_iter().zip(dy.rows()).zip(dx.rows_mut());
                        for ((x_row, dy_row), mut dx_row) in rows_of {
                            for j in 0..x_row.len() {
                                let (inv, g_mean, gx_mean) =
                                    (rstd[j], T::of(g_sum[j]), T::of(gx_sum[j]));
                                let xhat = (x_row[j] - mean[j]) * inv;
                                dx_row[j] = (gain[j] * dy_row[j] - g_mean - xhat * gx_mean) * inv;
                            }
                        }
                    }
                    Mode::Eval => {
                        for (dy_row, mut dx_row) in dy.rows().into_iter().zip(dx.rows_mut()) {
                            for j in 0..dy_row.len() {
                                dx_row[j] = gain[j] * dy_row[j] * rstd[j];
                            }
                        }
                    }
                }
            },
        );
    }

    /// Moves the running statistics towards a training batch's, as PyTorch does:
    ///
    /// ```text
    /// running_mean ← momentum · μ + (1 − momentum) · running_mean
    /// running_var  ← momentum · Σ(x − μ)²/(rows − 1) + (1 − momentum) · running_var
    /// ```
    ///
    /// Does nothing for statistics of an evaluation pass.
    pub fn update_running(&mut self, stats: &BatchStats<T>) {
        if stats.mode != Mode::Train || stats.rows < 2 {
            return;
        }
        let m = self.momentum;
        for j in 0..self.features() {
            let unbiased = stats.var_sum[j] / (stats.rows - 1) as f64;
            self.running_mean[j] =
                T::of(m * stats.mean[j].f64() + (1.0 - m) * self.running_mean[j].f64());
            self.running_var[j] = T::of(m * unbiased + (1.0 - m) * self.running_var[j].f64());
        }
    }

    /// Reference forward pass (allocating); does not touch the running statistics.
    ///
    /// x: (batch, n) → y: (batch, n), and the cache for [`BatchNorm::backward`].
    pub fn forward(&self, x: ArrayView2<T>, mode: Mode) -> (Array2<T>, BatchNormCache<T>) {
        let mut y = Array2::zeros(x.raw_dim());
        let mut stats = BatchStats::new(self.features());
        self.forward_into(x, y.view_mut(), mode, &mut stats, 1);
        let x = x.to_owned();
        (y, BatchNormCache { x, stats })
    }

    /// Reference backward pass (allocating): `(dx, dγ, dβ)` from dy, (batch, n).
    pub fn backward(
        &self,
        dy: ArrayView2<T>,
        cache: &BatchNormCache<T>,
    ) -> (Array2<T>, Array1<T>, Array1<T>) {
        let mut dx = Array2::zeros(dy.raw_dim());
        let mut dgain = Array1::zeros(self.features());
        let mut dshift = Array1::zeros(self.features());
        self.backward_into(
            cache.x.view(),
            dy,
            &mut cache.stats.clone(),
            Some(dx.view_mut()),
            dgain.as_slice_mut().expect("new array"),
            dshift.as_slice_mut().expect("new array"),
            1,
        );
        (dx, dgain, dshift)
    }
}
