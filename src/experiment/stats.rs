//! Per-layer statistics on a fixed probe batch: what the signal and the gradients look like
//! inside the network at a logged epoch (Glorot & Bengio 2010, figures 2–9; He et al. 2015).
//!
//! Computed only at logged epochs, with buffers made once per run, so the training step
//! itself stays allocation-free.

use ndarray::{Array2, ArrayView2, s};

use crate::nn::{Float, Gradients, Mlp, TargetsView, Workspace};

/// Rows of the probe batch at most: the first rows of the (shuffled) training split.
pub const PROBE_ROWS: usize = 2048;

/// Outputs within this distance of a bound count as saturated: 3 % of the bounds' magnitude,
/// which is 1 for every bounded activation (tanh and softsign: |a| > 0.97; sigmoid: a < 0.03
/// or a > 0.97).
pub const SATURATION_MARGIN: f64 = 0.03;

/// One layer's statistics at one epoch.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerStats {
    /// Epochs completed.
    pub epoch: usize,
    /// 1-based layer index; the last layer is the output layer (its "activation" is the logits).
    pub layer: usize,
    /// Mean of the layer's outputs over units and probe rows.
    pub activation_mean: f64,
    /// Standard deviation of the layer's outputs over units and probe rows.
    pub activation_std: f64,
    /// Fraction of outputs within 3 % of a bound (sigmoid, tanh, softsign layers only).
    pub saturated_fraction: Option<f64>,
    /// Fraction of units that output 0 for every probe row (ReLU layers only).
    pub dead_fraction: Option<f64>,
    /// Standard deviation of the back-propagated gradient dL/dz at this layer.
    pub gradient_std: f64,
    /// Standard deviation of the layer's weights.
    pub weight_std: f64,
    /// std(learning_rate · dL/dW) / std(W), with the full training gradient; `None` when
    /// the weights have zero spread (e.g. an all-zero start).
    pub update_ratio: Option<f64>,
}

/// Mean and population standard deviation, in f64.
pub fn mean_std<'a, T: Float>(values: impl IntoIterator<Item = &'a T>) -> (f64, f64) {
    let mut n = 0usize;
    let mut sum = 0.0;
    let mut sum_sq = 0.0;
    // Two-pass-free but shifted by the first value for stability.
    let mut shift = None;
    for v in values {
        let v = v.f64();
        let k = *shift.get_or_insert(v);
        let d = v - k;
        n += 1;
        sum += d;
        sum_sq += d * d;
    }
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let nf = n as f64;
    let mean_d = sum / nf;
    let var = (sum_sq / nf - mean_d * mean_d).max(0.0);
    (shift.unwrap_or(0.0) + mean_d, var.sqrt())
}

/// The probe batch and the buffers to measure it.
pub struct Probe<T> {
    x: Array2<T>,
    labels: Vec<usize>,
    values: Option<Array2<T>>,
    workspace: Workspace<T>,
    gradients: Gradients<T>,
}

impl<T: Float> Probe<T> {
    /// A probe of the first [`PROBE_ROWS`] rows of the training data.
    pub fn new(mlp: &Mlp<T>, x: ArrayView2<T>, targets: TargetsView<T>) -> Self {
        let rows = x.nrows().min(PROBE_ROWS);
        let (labels, values) = match targets {
            TargetsView::Classes(c) => (c[..rows].to_vec(), None),
            TargetsView::Values(v) => (Vec::new(), Some(v.slice(s![..rows, ..]).to_owned())),
        };
        Probe {
            x: x.slice(s![..rows, ..]).to_owned(),
            labels,
            values,
            workspace: Workspace::new(mlp, rows.max(1)),
            gradients: Gradients::zeros_like(mlp),
        }
    }

    /// Measures every layer of `mlp`; `full_gradients` is the gradient of the training loss
    /// (for the update ratio), `learning_rate` the optimizer's step size.
    pub fn measure(
        &mut self,
        mlp: &Mlp<T>,
        full_gradients: &Gradients<T>,
        learning_rate: f64,
        epoch: usize,
    ) -> Vec<LayerStats> {
        let targets = match &self.values {
            Some(v) => TargetsView::Values(v.view()),
            None => TargetsView::Classes(&self.labels),
        };
        mlp.loss_and_gradients(
            self.x.view(),
            targets,
            &mut self.workspace,
            &mut self.gradients,
        );
        let last = mlp.layers.len() - 1;
        (0..mlp.layers.len())
            .map(|l| {
                let a = self.workspace.output(l);
                let (activation_mean, activation_std) = mean_std(a.iter());
                let activation = mlp.activation_after(l);
                let saturated_fraction = (l < last)
                    .then(|| activation.bounds())
                    .flatten()
                    .map(|(low, high)| saturated(a, low, high));
                let dead_fraction = (l < last && activation.can_die()).then(|| dead(a));
                let (_, gradient_std) = mean_std(self.workspace.delta(l).iter());
                let (_, weight_std) = mean_std(mlp.layers[l].weight.iter());
                let (_, grad_w_std) = mean_std(full_gradients.layers[l].weight.iter());
                let update_ratio = (weight_std > 0.0 && weight_std.is_finite())
                    .then(|| learning_rate * grad_w_std / weight_std)
                    .filter(|r| r.is_finite());
                LayerStats {
                    epoch,
                    layer: l + 1,
                    activation_mean,
                    activation_std,
                    saturated_fraction,
                    dead_fraction,
                    gradient_std,
                    weight_std,
                    update_ratio,
                }
            })
            .collect()
    }
}

/// Fraction of elements within [`SATURATION_MARGIN`] of the range's ends.
pub fn saturated<T: Float>(a: ArrayView2<T>, low: f64, high: f64) -> f64 {
    let margin = SATURATION_MARGIN;
    let count = a
        .iter()
        .filter(|v| {
            let v = v.f64();
            v < low + margin || v > high - margin
        })
        .count();
    count as f64 / a.len().max(1) as f64
}

/// Fraction of units (columns) whose output is 0 on every row.
pub fn dead<T: Float>(a: ArrayView2<T>) -> f64 {
    let units = a.ncols();
    let dead = a
        .columns()
        .into_iter()
        .filter(|c| c.iter().all(|v| *v == T::zero()))
        .count();
    dead as f64 / units.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Loss};
    use ndarray::array;

    #[test]
    fn mean_std_matches_direct_formula() {
        let (m, s) = mean_std([1.0_f64, 2.0, 3.0, 4.0].iter());
        assert!((m - 2.5).abs() < 1e-15);
        assert!((s - 1.25f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn saturation_and_dead_counts() {
        let a = array![[0.99_f64, -0.5, 0.0], [0.2, -0.98, 0.0]];
        assert_eq!(saturated(a.view(), -1.0, 1.0), 2.0 / 6.0);
        // 0.96 is not saturated for tanh (|a| must exceed 0.97).
        assert_eq!(saturated(array![[0.96_f64]].view(), -1.0, 1.0), 0.0);
        assert_eq!(dead(a.view()), 1.0 / 3.0);
    }

    /// A 1-2-1 ReLU network with hand-chosen weights: every statistic by hand.
    #[test]
    fn statistics_of_a_tiny_network_by_hand() {
        let mut mlp = Mlp::<f64>::new(&[1, 2, 1], &[Activation::Relu], Loss::Mse);
        mlp.layers[0].weight = array![[1.0], [-1.0]];
        mlp.layers[1].weight = array![[2.0, 3.0]];
        let x = array![[1.0], [2.0]];
        let y = array![[0.0], [0.0]];
        let mut probe = Probe::new(&mlp, x.view(), TargetsView::Values(y.view()));
        let grads = Gradients::zeros_like(&mlp);
        let stats = probe.measure(&mlp, &grads, 0.1, 0);
        // Hidden outputs: rows [1, 0] and [2, 0] → values {1, 0, 2, 0}: mean 0.75,
        // var = (0.0625 + 0.5625 + 1.5625 + 0.5625)/4 = 0.6875. Unit 2 never fires: dead 1/2.
        let h = &stats[0];
        assert_eq!(h.layer, 1);
        assert!((h.activation_mean - 0.75).abs() < 1e-15);
        assert!((h.activation_std - 0.6875f64.sqrt()).abs() < 1e-15);
        assert_eq!(h.dead_fraction, Some(0.5));
        assert_eq!(h.saturated_fraction, None);
        // Output z = 2·h1: [2, 4]; MSE gradient dL/dz = 2(z − 0)/n = [2, 4]: std 1.
        let o = &stats[1];
        assert!((o.activation_mean - 3.0).abs() < 1e-15);
        assert!((o.gradient_std - 1.0).abs() < 1e-15);
        // Hidden deltas: dL/dz1 = [2,4]ᵀ·[2,3] masked by ReLU': [[4, 0], [8, 0]]:
        // values {4, 0, 8, 0}: mean 3, var (1+9+25+9)/4 = 11.
        assert!((h.gradient_std - 11f64.sqrt()).abs() < 1e-12);
        // Weight std of layer 1: {1, −1} → 1; of layer 2: {2, 3} → 0.5.
        assert!((h.weight_std - 1.0).abs() < 1e-15);
        assert!((o.weight_std - 0.5).abs() < 1e-15);
        // Zero gradients → zero update ratio.
        assert_eq!(h.update_ratio, Some(0.0));
    }
}
