//! Per-layer measurements: what the signal and the gradients look like inside a network
//! (Glorot & Bengio 2010, figures 2–9; He et al. 2015). Used by the experiment's probe
//! (`layers.csv`) and by [`crate::inspect`], so that both measure a layer the same way.
//!
//! No I/O; the caller runs the passes, these functions only read the workspace.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::dense::Dense;
use super::float::Float;
use super::gemm::GemmScratch;
use super::histogram::{HistogramBin, Quantity};
use super::mlp::{Gradients, Mlp, Workspace};

/// Outputs within this distance of a bound count as saturated: 3 % of the bounds' magnitude,
/// which is 1 for every bounded activation (tanh and softsign: |a| > 0.97; sigmoid: a < 0.03
/// or a > 0.97).
pub const SATURATION_MARGIN: f64 = 0.03;

/// One layer's statistics at one epoch. The field names are the column names of
/// `layers.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    /// Epochs completed (0 = the untrained network).
    pub epoch: usize,
    /// 1-based layer index; the last layer is the output layer (its "activation" is the logits).
    pub layer: usize,
    /// Mean of the layer's outputs over units and rows.
    pub activation_mean: f64,
    /// Standard deviation of the layer's outputs over units and rows.
    pub activation_std: f64,
    /// Fraction of outputs within [`SATURATION_MARGIN`] of a bound (sigmoid, tanh, softsign
    /// hidden layers only).
    pub saturated_fraction: Option<f64>,
    /// Fraction of units that output 0 for every row (ReLU hidden layers only).
    pub dead_fraction: Option<f64>,
    /// Standard deviation, over units and rows, of dL/da: the gradient of each row's own
    /// loss with respect to the layer's output `a` (the logits for the output layer). Per
    /// row, so it does not depend on how many rows are measured.
    pub gradient_std: f64,
    /// Standard deviation of the layer's weights.
    pub weight_std: f64,
    /// The optimizer's last step relative to the weights, std(W_after − W_before) /
    /// std(W_before) (see [`update_ratio`]); `None` when no step was taken (epoch 0) or the
    /// weights had zero spread (e.g. an all-zero start).
    pub update_ratio: Option<f64>,
    /// How far the layer's weights have moved from the start, ‖W_t − W_0‖_F / ‖W_0‖_F (see
    /// [`crate::nn::drift`]); 0 at epoch 0, `None` for an all-zero start or where it was not
    /// measured (`inspect`). Empty in files written before the column existed.
    #[serde(default)]
    pub weight_change: Option<f64>,
    /// How far the layer's outputs on the probe rows have moved from the start's,
    /// ‖h_t − h_0‖_F / ‖h_0‖_F: small in the lazy (kernel) regime, of order 1 when the
    /// layer learns features.
    #[serde(default)]
    pub feature_change: Option<f64>,
}

/// One measured column of `layers.csv`, described once for everything that shows it: the
/// expectations of `initlab check` (the column's key is a `quantity`), the pictures, the
/// `inspect` table and the report's explorer all read this table instead of naming fields.
#[derive(Clone, Copy, Debug)]
pub struct LayerColumn {
    /// The CSV header, which is also the `quantity` key of an expectation.
    pub key: &'static str,
    /// What it measures, one sentence.
    pub meaning: &'static str,
    /// A label for an axis or a legend.
    pub label: &'static str,
    /// A heading of at most 8 characters for a terminal table (fractions in %).
    pub short: &'static str,
    /// How a picture draws it.
    pub scale: Scale,
    /// Where it exists, when not for every layer (the reason a value is missing).
    pub only: Option<&'static str>,
    /// Its value in a row (`None` where it does not exist).
    pub value: fn(&LayerStats) -> Option<f64>,
}

/// How a column of `layers.csv` is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// On a linear axis.
    Linear,
    /// On a log axis: it spans decades.
    Log,
    /// A fraction in [0, 1], drawn as 0–100 %.
    Fraction,
}

/// The measured columns of `layers.csv`, in the file's order (after `epoch` and `layer`).
pub static LAYER_COLUMNS: [LayerColumn; 9] = [
    LayerColumn {
        key: "activation_mean",
        meaning: "mean of the layer's outputs over units and rows",
        label: "activation mean",
        short: "act mean",
        scale: Scale::Linear,
        only: None,
        value: |s| Some(s.activation_mean),
    },
    LayerColumn {
        key: "activation_std",
        meaning: "standard deviation of the layer's outputs over units and rows",
        label: "activation std",
        short: "act std",
        scale: Scale::Log,
        only: None,
        value: |s| Some(s.activation_std),
    },
    LayerColumn {
        key: "saturated_fraction",
        meaning: "fraction of outputs within 3 % of a bound of the activation",
        label: "saturated units",
        short: "sat %",
        scale: Scale::Fraction,
        only: Some("it is measured for hidden layers of sigmoid, tanh and softsign"),
        value: |s| s.saturated_fraction,
    },
    LayerColumn {
        key: "dead_fraction",
        meaning: "fraction of units that output 0 for every row",
        label: "dead units",
        short: "dead %",
        scale: Scale::Fraction,
        only: Some("it is measured for hidden ReLU layers"),
        value: |s| s.dead_fraction,
    },
    LayerColumn {
        key: "gradient_std",
        meaning: "standard deviation of dL/da, the back-propagated gradient of each row's loss with respect to the layer's output",
        label: "back-prop gradient std",
        short: "grad std",
        scale: Scale::Log,
        only: None,
        value: |s| Some(s.gradient_std),
    },
    LayerColumn {
        key: "weight_std",
        meaning: "standard deviation of the layer's weights",
        label: "weight std",
        short: "w std",
        scale: Scale::Log,
        only: None,
        value: |s| Some(s.weight_std),
    },
    LayerColumn {
        key: "update_ratio",
        meaning: "the last step relative to the weights, std(W_after − W_before) / std(W_before)",
        label: "update ratio",
        short: "upd/w",
        scale: Scale::Log,
        only: Some("it has no value before the first step, nor for all-zero weights"),
        value: |s| s.update_ratio,
    },
    LayerColumn {
        key: "weight_change",
        meaning: "how far the weights have moved from the start, ‖W_t − W_0‖_F / ‖W_0‖_F",
        label: "weight change from the start",
        short: "ΔW/W0",
        scale: Scale::Log,
        only: Some("it is 0 at the start and has no value for all-zero starting weights"),
        value: |s| s.weight_change,
    },
    LayerColumn {
        key: "feature_change",
        meaning: "how far the layer's outputs on the probe rows have moved from the start's, \
                  ‖h_t − h_0‖_F / ‖h_0‖_F (small: lazy, kernel regime; order 1: feature learning)",
        label: "feature change from the start",
        short: "Δh/h0",
        scale: Scale::Log,
        only: Some("it is 0 at the start and has no value where the start's outputs are all 0"),
        value: |s| s.feature_change,
    },
];

/// The column named `key`, for names fixed in the code (the pictures' and tables' choice
/// of columns; the unit tests below show each of them exists). A user's key goes through
/// [`layer_column`].
pub fn column(key: &str) -> &'static LayerColumn {
    layer_column(key).unwrap_or_else(|| panic!("`{key}` is not a column of layers.csv"))
}

/// The column of `layers.csv` whose header is `key`.
pub fn layer_column(key: &str) -> Option<&'static LayerColumn> {
    LAYER_COLUMNS.iter().find(|c| c.key == key)
}

/// Measures layer `l` of `mlp` from its output `a` (rows, out_l) and the per-row gradient
/// `output_gradient` = dL/da of the same shape (see [`Mlp::output_gradient`]). The update
/// ratio is left `None`: it needs the weights before a step ([`update_ratio`]).
pub fn measure_layer<T: Float>(
    mlp: &Mlp<T>,
    l: usize,
    a: ArrayView2<T>,
    output_gradient: ArrayView2<T>,
    epoch: usize,
) -> LayerStats {
    let hidden = l + 1 < mlp.layers.len();
    let activation = mlp.activation_after(l);
    let (activation_mean, activation_std) = mean_std(a.iter());
    LayerStats {
        epoch,
        layer: l + 1,
        activation_mean,
        activation_std,
        saturated_fraction: hidden
            .then(|| activation.bounds())
            .flatten()
            .map(|(low, high)| saturated(a, low, high)),
        dead_fraction: (hidden && activation.can_die()).then(|| dead(a)),
        gradient_std: mean_std(output_gradient.iter()).1,
        weight_std: mean_std(mlp.layers[l].weight.iter()).1,
        update_ratio: None,
        weight_change: None,
        feature_change: None,
    }
}

/// Every layer of `mlp`, input side first, after [`Mlp::forward`] and a backward pass
/// from per-row output deltas ([`Mlp::backward_from`]) on `ws`: [`measure_layer`] with
/// dL/da from [`Mlp::output_gradient`]. Allocates (one gradient array per layer).
pub fn measure_layers<T: Float>(
    mlp: &Mlp<T>,
    ws: &mut Workspace<T>,
    epoch: usize,
) -> Vec<LayerStats> {
    (0..mlp.layers.len())
        .map(|l| {
            let gradient = mlp.output_gradient(l, ws);
            measure_layer(mlp, l, ws.output(l), gradient.view(), epoch)
        })
        .collect()
}

/// Every layer's histograms ([`Quantity::ALL`], each over [`Quantity::bins`]) after
/// [`Mlp::forward`] on `x` and a backward pass from per-row output deltas
/// ([`Mlp::backward_from`]) into `ws` and `grads_sum` (dL_i/dW summed over the rows, as the
/// probe's unit-scale deltas give). Only the non-empty bins are returned; each histogram's
/// counts add up to rows × units (pre-activation, activation, gradient) or to the weight
/// count (weight, weight gradient). The weight gradient is that of the *mean* loss over the
/// rows, `grads_sum / rows`. Allocates (for measurements, not for training).
pub fn measure_histograms<T: Float>(
    mlp: &Mlp<T>,
    x: ArrayView2<T>,
    ws: &mut Workspace<T>,
    grads_sum: &Gradients<T>,
    epoch: usize,
) -> Vec<HistogramBin> {
    let rows = x.nrows();
    let mut scratch = GemmScratch::new();
    let mut out = Vec::new();
    for l in 0..mlp.layers.len() {
        let layer: &Dense<T> = &mlp.layers[l];
        // z is not kept by the forward pass (it is activated in place): recompute it with
        // the same kernel and bias pass, without the activation.
        let mut z = ndarray::Array2::<T>::zeros((rows, layer.outputs()));
        let input = if l == 0 { x } else { ws.output(l - 1) };
        layer.forward_activate_into(
            input,
            z.view_mut(),
            Activation::Identity,
            &mut scratch,
            ws.threads,
        );
        let gradient = mlp.output_gradient(l, ws);
        let per_row = 1.0 / rows.max(1) as f64;
        let activation = mlp.activation_after(l);
        for quantity in Quantity::ALL {
            let bins = quantity.bins(Some(activation));
            let counts = match quantity {
                Quantity::PreActivation => bins.count(z.iter().map(|v| v.f64())),
                Quantity::Activation => bins.count(ws.output(l).iter().map(|v| v.f64())),
                Quantity::Gradient => bins.count(gradient.iter().map(|v| v.f64())),
                Quantity::Weight => bins.count(layer.weight.iter().map(|v| v.f64())),
                Quantity::WeightGradient => {
                    bins.count(grads_sum.layers[l].weight.iter().map(|v| v.f64() * per_row))
                }
            };
            out.extend(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(|(i, &count)| {
                        let (bin_low, bin_high) = bins.range(i);
                        HistogramBin {
                            epoch,
                            layer: l + 1,
                            quantity,
                            bin_low,
                            bin_high,
                            count,
                        }
                    }),
            );
        }
    }
    out
}

/// The size of an optimizer step relative to the weights it changed:
/// std(after − before) / std(before), in f64. `None` if `before` has zero or non-finite
/// spread, or the ratio is not finite.
pub fn update_ratio<T: Float>(before: ArrayView2<T>, after: ArrayView2<T>) -> Option<f64> {
    assert_eq!(before.dim(), after.dim(), "weights before and after a step");
    let (_, before_std) = mean_std(before.iter());
    let steps = after
        .iter()
        .zip(before.iter())
        .map(|(a, b)| a.f64() - b.f64());
    let (_, step_std) = mean_std_f64(steps);
    (before_std > 0.0 && before_std.is_finite())
        .then(|| step_std / before_std)
        .filter(|r| r.is_finite())
}

/// Mean and population standard deviation, in f64 (NaN for no values).
pub fn mean_std<'a, T: Float>(values: impl IntoIterator<Item = &'a T>) -> (f64, f64) {
    mean_std_f64(values.into_iter().map(|v| v.f64()))
}

/// [`mean_std`] of values already in f64.
pub fn mean_std_f64(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let mut n = 0usize;
    let mut sum = 0.0;
    let mut sum_sq = 0.0;
    // One pass, shifted by the first value so that a large common offset does not cancel
    // the variance away.
    let mut shift = None;
    for v in values {
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
    use ndarray::array;

    /// The registry is the file's header: `epoch`, `layer`, then its keys in order, so a
    /// field added to [`LayerStats`] without its row (or the other way round) fails here.
    #[test]
    fn the_column_registry_is_the_csv_header() {
        let row = LayerStats {
            epoch: 3,
            layer: 1,
            activation_mean: 0.5,
            activation_std: 1.5,
            saturated_fraction: Some(0.25),
            dead_fraction: None,
            gradient_std: 2.5,
            weight_std: 3.5,
            update_ratio: Some(0.001),
            weight_change: Some(0.125),
            feature_change: Some(0.0625),
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(&row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let keys: Vec<&str> = LAYER_COLUMNS.iter().map(|c| c.key).collect();
        assert_eq!(header[..2], ["epoch", "layer"]);
        assert_eq!(header[2..], keys[..]);
        // Each reader returns its own field: the values written in the row, in order.
        let values: Vec<&str> = lines.next().unwrap().split(',').skip(2).collect();
        for (c, written) in LAYER_COLUMNS.iter().zip(values) {
            let read = (c.value)(&row).map(|v| v.to_string()).unwrap_or_default();
            assert_eq!(read, written, "{}", c.key);
        }
        for c in &LAYER_COLUMNS {
            assert!(c.short.chars().count() <= 8, "{}", c.short);
            assert!(std::ptr::eq(column(c.key), c));
        }
        assert!(layer_column("weight").is_none());
    }

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

    #[test]
    fn update_ratio_by_hand() {
        // before {1, 3}: std 1; step {+0.5, -0.5}: std 0.5.
        let before = array![[1.0_f64, 3.0]];
        let after = array![[1.5_f64, 2.5]];
        assert_eq!(update_ratio(before.view(), after.view()), Some(0.5));
        let zeros = array![[0.0_f64, 0.0]];
        assert_eq!(update_ratio(zeros.view(), after.view()), None);
    }
}
