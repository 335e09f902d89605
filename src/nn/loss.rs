//! Losses, fused with the output non-linearity for numerical stability.
//!
//! The network's last layer produces *logits* `z` (batch, outputs); each loss applies its own
//! output non-linearity inside, so that a finite network never yields a NaN loss made by our
//! own arithmetic, whatever the size of the logits (|z| = 1e4 included):
//!
//! | loss | output | per-sample value | dL/dz (before the 1/n of the mean) |
//! |---|---|---|---|
//! | `mse` | identity | mean_k (z_k - y_k)² | 2 (z - y) / K |
//! | `sigmoid-mse` | sigmoid | mean_k (σ(z_k) - y_k)² | 2 (σ - y) σ (1 - σ) / K |
//! | `bce` | sigmoid | max(z,0) - z·y + ln(1 + e^-\|z\|) | σ(z) - y |
//! | `cross-entropy` | softmax | logsumexp(z) - z_y | softmax(z) - onehot(y) |
//!
//! Values are accumulated in `f64`, so even an `f32` network reports the true size of a
//! huge loss instead of overflowing. The reported loss is the mean over samples (and, for the
//! MSE losses, over outputs too, as PyTorch's `MSELoss` does).

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use super::float::{Float, exp_f64, sigmoid_f64};

/// A loss with its output non-linearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Loss {
    /// Mean squared error on the raw (identity) output.
    Mse,
    /// Mean squared error on a sigmoid output.
    SigmoidMse,
    /// Binary cross-entropy taking logits (sigmoid output).
    BinaryCrossEntropy,
    /// Softmax cross-entropy taking logits (log-sum-exp).
    SoftmaxCrossEntropy,
}

/// Every loss, in the order `list` shows them.
pub const ALL_LOSSES: [Loss; 4] = [
    Loss::Mse,
    Loss::SigmoidMse,
    Loss::BinaryCrossEntropy,
    Loss::SoftmaxCrossEntropy,
];

/// The targets of a batch, borrowed.
#[derive(Clone, Copy, Debug)]
pub enum TargetsView<'a, T> {
    /// Integer classes in `0..n_classes`, one per row.
    Classes(&'a [usize]),
    /// Real targets, (batch, outputs).
    Values(ArrayView2<'a, T>),
}

impl Loss {
    /// The name as users type it.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::SigmoidMse => "sigmoid-mse",
            Loss::BinaryCrossEntropy => "bce",
            Loss::SoftmaxCrossEntropy => "cross-entropy",
        }
    }

    /// One line on what the loss is.
    pub fn describe(&self) -> &'static str {
        match self {
            Loss::Mse => "mean squared error on the raw output (regression, or one-hot classes)",
            Loss::SigmoidMse => "mean squared error on a sigmoid output",
            Loss::BinaryCrossEntropy => "binary cross-entropy on a sigmoid output, from logits",
            Loss::SoftmaxCrossEntropy => "softmax cross-entropy from logits (log-sum-exp)",
        }
    }

    /// The width of the output layer for a classification problem with `n_classes`
    /// classes, or an error saying why this loss cannot be used for it.
    pub fn outputs_for_classes(&self, n_classes: usize) -> Result<usize, String> {
        match self {
            Loss::SoftmaxCrossEntropy if n_classes >= 2 => Ok(n_classes),
            Loss::BinaryCrossEntropy if n_classes == 2 => Ok(1),
            Loss::BinaryCrossEntropy => Err(format!(
                "loss `bce` needs exactly 2 classes, the data has {n_classes}; use `cross-entropy`"
            )),
            Loss::Mse | Loss::SigmoidMse if n_classes == 2 => Ok(1),
            Loss::Mse | Loss::SigmoidMse if n_classes > 2 => Ok(n_classes),
            _ => Err(format!(
                "loss `{}` needs at least 2 classes, the data has {n_classes}",
                self.name()
            )),
        }
    }

    /// Whether the loss accepts real-valued (regression) targets.
    pub fn accepts_values(&self) -> bool {
        !matches!(self, Loss::SoftmaxCrossEntropy)
    }

    /// Sum over the batch of the per-sample losses, and, if `grad` is given, writes
    /// `scale · dL_i/dz` into it (use `scale = 1/n` for the gradient of the mean).
    ///
    /// `logits`: (batch, outputs); `grad`: (batch, outputs).
    pub fn evaluate<T: Float>(
        &self,
        logits: ArrayView2<T>,
        targets: TargetsView<T>,
        mut grad: Option<ArrayViewMut2<T>>,
        scale: f64,
    ) -> f64 {
        let (rows, width) = logits.dim();
        if let Some(g) = &grad {
            assert_eq!(g.dim(), logits.dim(), "loss gradient buffer shape");
        }
        if let (Loss::SoftmaxCrossEntropy, TargetsView::Classes(labels)) = (self, &targets)
            && width <= SOFTMAX_STACK
            && logits.as_slice().is_some()
        {
            return softmax_ce_classes(logits, labels, grad, scale);
        }
        let mut total = 0.0_f64;
        for i in 0..rows {
            let z = logits.row(i);
            let mut g_row = grad.as_mut().map(|g| g.row_mut(i));
            let target = |k: usize| -> f64 {
                match &targets {
                    TargetsView::Classes(c) => {
                        if width == 1 {
                            c[i] as f64
                        } else if c[i] == k {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    TargetsView::Values(v) => v[[i, k]].f64(),
                }
            };
            match self {
                Loss::Mse | Loss::SigmoidMse => {
                    let per = 1.0 / width as f64;
                    for k in 0..width {
                        let zk = z[k].f64();
                        let y = target(k);
                        let out = if *self == Loss::Mse {
                            zk
                        } else {
                            sigmoid_f64(zk)
                        };
                        let diff = out - y;
                        total += per * diff * diff;
                        if let Some(g) = g_row.as_mut() {
                            let slope = if *self == Loss::Mse {
                                1.0
                            } else {
                                out * (1.0 - out)
                            };
                            g[k] = T::of(scale * per * 2.0 * diff * slope);
                        }
                    }
                }
                Loss::BinaryCrossEntropy => {
                    for k in 0..width {
                        let zk = z[k].f64();
                        let y = target(k);
                        total += zk.max(0.0) - zk * y + (-zk.abs()).exp().ln_1p();
                        if let Some(g) = g_row.as_mut() {
                            g[k] = T::of(scale * (sigmoid_f64(zk) - y));
                        }
                    }
                }
                Loss::SoftmaxCrossEntropy => {
                    let max = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.f64()));
                    let sum: f64 = z.iter().map(|v| (v.f64() - max).exp()).sum();
                    let lse = max + sum.ln();
                    let label = match &targets {
                        TargetsView::Classes(c) => Some(c[i]),
                        TargetsView::Values(_) => None,
                    };
                    match label {
                        Some(y) => total += lse - z[y].f64(),
                        None => {
                            for k in 0..width {
                                total -= target(k) * (z[k].f64() - lse);
                            }
                        }
                    }
                    if let Some(g) = g_row.as_mut() {
                        for k in 0..width {
                            let p = (z[k].f64() - lse).exp();
                            g[k] = T::of(scale * (p - target(k)));
                        }
                    }
                }
            }
        }
        total
    }

    /// Number of rows whose predicted class equals the label.
    ///
    /// One output: class 1 when the output is past its midpoint (logit > 0, or raw output
    /// > 0.5 for `mse`); several outputs: the arg-max (first on ties).
    pub fn count_correct<T: Float>(&self, logits: ArrayView2<T>, labels: &[usize]) -> usize {
        logits
            .rows()
            .into_iter()
            .zip(labels)
            .filter(|(z, label)| self.predicted_class(z.view()) == **label)
            .count()
    }

    /// The class a row of logits predicts, as [`Loss::count_correct`] reads it: one output
    /// is class 1 past its midpoint (logit > 0, raw output > 0.5 for `mse`), several the
    /// arg-max (first on ties).
    pub fn predicted_class<T: Float>(&self, z: ArrayView1<T>) -> usize {
        let threshold = if *self == Loss::Mse { 0.5 } else { 0.0 };
        predict(&z, z.len(), threshold)
    }
}

/// Widest output for which [`softmax_ce_classes`] keeps the exponentials on the stack.
const SOFTMAX_STACK: usize = 64;

/// Softmax cross-entropy against class labels, `width ≤ SOFTMAX_STACK`: one `exp` per logit.
///
/// Per row, in `f64`: `e_k = exp(z_k − max)` ([`exp_f64`], vectorized over a block of rows),
/// `s = Σ e_k`, loss `max + ln s − z_y`, and
/// `p_k = e_k / s`, which equals `exp(z_k − lse)` of the general path up to a few `f64`
/// roundings (relative difference ≲ 1e-15, far below an `f32` ulp), and is in [0, 1] for every
/// finite logit.
///
/// The `ln s` terms are summed as the logarithm of their product: each `s` is in
/// [1, width], so the running product is flushed into the sum with one `ln` whenever it
/// passes 2^900 (never overflowing). Each product rounding adds at most 2^-53 relative
/// error, so the sum of the `ln s` is off by at most (rows + 1) · 1.2e-16 in absolute terms
/// (3.6e-14 for a batch of 300) against summing them one by one.
fn softmax_ce_classes<T: Float>(
    logits: ArrayView2<T>,
    labels: &[usize],
    mut grad: Option<ArrayViewMut2<T>>,
    scale: f64,
) -> f64 {
    const FLUSH: f64 = 8.452712498170644e270; // 2^900
    let width = logits.ncols();
    // Rows are taken a block at a time, so that the block's exponentials are one flat loop
    // the compiler vectorizes (a row of W2's is only 3 wide): per row the max, then every
    // e = exp(z − max) of the block, then per row the sum, the loss and the gradient.
    let rows_per_block = SOFTMAX_STACK / width;
    let mut e = [0.0_f64; SOFTMAX_STACK];
    let mut maxes = [0.0_f64; SOFTMAX_STACK];
    let mut total = 0.0_f64;
    let mut product = 1.0_f64;
    let flat = logits
        .as_slice()
        .expect("contiguous logits (checked by the caller)");
    for (b, block) in flat.chunks(rows_per_block * width).enumerate() {
        let e = &mut e[..block.len()];
        for (m, z) in maxes.iter_mut().zip(block.chunks_exact(width)) {
            *m = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.f64()));
        }
        for ((e_row, z), &max) in e
            .chunks_exact_mut(width)
            .zip(block.chunks_exact(width))
            .zip(&maxes)
        {
            for (ek, zk) in e_row.iter_mut().zip(z) {
                *ek = zk.f64() - max;
            }
        }
        for ek in e.iter_mut() {
            *ek = exp_f64(*ek);
        }
        for (j, (e_row, z)) in e
            .chunks_exact(width)
            .zip(block.chunks_exact(width))
            .enumerate()
        {
            let i = b * rows_per_block + j;
            let sum: f64 = e_row.iter().fold(0.0, |s, &ek| s + ek);
            let y = labels[i];
            total += maxes[j] - z[y].f64();
            product *= sum;
            if product > FLUSH {
                total += product.ln();
                product = 1.0;
            }
            if let Some(g) = grad.as_mut() {
                let mut g_row = g.row_mut(i);
                for (k, (gk, &ek)) in g_row.iter_mut().zip(e_row).enumerate() {
                    let target = if k == y { 1.0 } else { 0.0 };
                    *gk = T::of(scale * (ek / sum - target));
                }
            }
        }
    }
    total + product.ln()
}

fn predict<T: Float>(z: &ndarray::ArrayView1<T>, width: usize, threshold: f64) -> usize {
    if width == 1 {
        usize::from(z[0].f64() > threshold)
    } else {
        let mut best = 0;
        for k in 1..width {
            if z[k] > z[best] {
                best = k;
            }
        }
        best
    }
}

/// The valid loss names, for error messages.
pub fn loss_names() -> String {
    ALL_LOSSES
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Loss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mse" => Ok(Loss::Mse),
            "sigmoid-mse" => Ok(Loss::SigmoidMse),
            "bce" | "binary-cross-entropy" => Ok(Loss::BinaryCrossEntropy),
            "cross-entropy" | "softmax-cross-entropy" | "ce" => Ok(Loss::SoftmaxCrossEntropy),
            _ => Err(format!(
                "unknown loss `{s}`; expected one of: {}",
                loss_names()
            )),
        }
    }
}

impl TryFrom<String> for Loss {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Loss> for String {
    fn from(l: Loss) -> String {
        l.name().to_string()
    }
}
