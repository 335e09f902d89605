//! The input–output Jacobian J = ∂a^L/∂x of a network's hidden stack at a probe input, and
//! its singular values (dynamical isometry, Pennington, Schoenholz & Ganguli 2017).
//!
//! J = D_L W_L ⋯ D_1 W_1 with D_l = diag φ′(h^l): a `(width_L, inputs)` matrix, built layer
//! by layer in `f64` with the exact φ′ of [`super::phi`]. Its singular values come from
//! a one-sided Jacobi SVD ([`super::linalg`]). At criticality the mean of s² is 1 whatever the depth; what differs between
//! starts is the spread: an isometric network has every s near 1.

use ndarray::{Array1, Array2, ArrayView1};

use super::phi::{dphi, phi};
use crate::nn::Mlp;

/// J = ∂a^L/∂x for the hidden layers of `mlp` (every layer but the output layer), at `x`.
///
/// # Panics
/// If `x`'s length is not the network's input count.
pub fn hidden_jacobian(mlp: &Mlp<f64>, x: ArrayView1<f64>) -> Array2<f64> {
    let hidden = mlp.layers.len() - 1;
    assert_eq!(
        x.len(),
        mlp.layers[0].weight.ncols(),
        "probe of the wrong length"
    );
    let mut a: Array1<f64> = x.to_owned();
    let mut jacobian = Array2::<f64>::eye(x.len());
    for l in 0..hidden {
        let layer = &mlp.layers[l];
        let f = mlp.activations[l];
        let h = layer.weight.dot(&a) + &layer.bias;
        let mut next = layer.weight.dot(&jacobian);
        for (mut row, &hi) in next.rows_mut().into_iter().zip(&h) {
            row *= dphi(f, hi);
        }
        jacobian = next;
        a = h.mapv(|v| phi(f, v));
    }
    jacobian
}

/// The singular values of `m`, largest first (one-sided Jacobi, [`super::linalg`]).
pub fn singular_values(m: &Array2<f64>) -> Vec<f64> {
    super::linalg::singular_values(m)
}

/// A spectrum in four numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpectrumSummary {
    /// Mean of s² (= trace(JJᵀ)/n; 1 at criticality).
    pub mean_s2: f64,
    /// Variance of s² (0 for an isometry).
    pub var_s2: f64,
    /// Largest singular value.
    pub s_max: f64,
    /// Smallest singular value.
    pub s_min: f64,
}

impl SpectrumSummary {
    /// s_max / s_min (infinite when s_min is 0).
    pub fn condition(&self) -> f64 {
        if self.s_min > 0.0 {
            self.s_max / self.s_min
        } else {
            f64::INFINITY
        }
    }
}

/// The summary of a pool of singular values (several probes' together).
///
/// # Panics
/// If `s` is empty.
pub fn summarize(s: &[f64]) -> SpectrumSummary {
    assert!(!s.is_empty(), "an empty spectrum");
    let n = s.len() as f64;
    let mean_s2 = s.iter().map(|v| v * v).sum::<f64>() / n;
    let var_s2 = s.iter().map(|v| (v * v - mean_s2).powi(2)).sum::<f64>() / n;
    SpectrumSummary {
        mean_s2,
        var_s2,
        s_max: s.iter().cloned().fold(f64::MIN, f64::max),
        s_min: s.iter().cloned().fold(f64::MAX, f64::min),
    }
}

/// Counts of log10(s) in `bins` equal bins over [lo, hi] (values outside go to the end
/// bins; s = 0 to the first).
pub fn log_histogram(s: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    let width = (hi - lo) / bins as f64;
    for &v in s {
        let x = if v > 0.0 { v.log10() } else { lo };
        let b = ((x - lo) / width).floor().clamp(0.0, (bins - 1) as f64) as usize;
        counts[b] += 1;
    }
    counts
}
