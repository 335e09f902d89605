//! Per-layer predictions for a given input, not only the fixed point: what the mean-field
//! theory expects `inspect` to measure at each hidden layer of a fresh network.
//!
//! Forward: the first hidden layer's pre-activations have variance
//! q¹ = σ_w²₁ · m₀ + σ_b²₁ (m₀ the inputs' mean square), then
//! q^l = σ_w²_l E[φ(√q^{l−1} z)²] + σ_b²_l; the activations a = φ(h) over units and rows
//! have mean E\[φ(√q z)\] and variance E\[φ²\] − E\[φ\]².
//!
//! Backward (treating the backward weights as independent of the forward ones, as the
//! mean-field theory does): with a gradient of variance v injected at the output layer's
//! pre-activations, Var(dL/da^l) = Var(w_{l+1}) · fan_out_{l+1} · E[φ′(h^{l+1})²] ·
//! Var(dL/da^{l+1}), where the output layer counts φ′ = 1. For square layers
//! Var(w) · fan_out = σ_w², so each layer multiplies the gradient variance by χ₁(q^l).

use super::maps::{MeanField, Q_LIMIT};
use crate::nn::Activation;

/// The scale of one dense layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerScale {
    /// σ_w² = Var(w) · fan_in.
    pub sigma_w2: f64,
    /// σ_b² = Var(b).
    pub sigma_b2: f64,
    /// Inputs of the layer.
    pub fan_in: usize,
    /// Outputs of the layer.
    pub fan_out: usize,
}

/// The theory's expectation for one hidden layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerPrediction {
    /// The hidden layer, 1-based.
    pub layer: usize,
    /// Variance of the pre-activations, `None` when it diverges (overflows).
    pub q: Option<f64>,
    /// Mean of the activations over units and rows (`None` when q diverges).
    pub activation_mean: Option<f64>,
    /// Standard deviation of the activations over units and rows.
    pub activation_std: Option<f64>,
    /// Standard deviation of dL/da, the back-propagated gradient at the layer's output.
    pub gradient_std: Option<f64>,
}

/// Predictions for every hidden layer, input side first.
///
/// `hidden` holds the hidden layers' scales, `output` the output layer's;
/// `input_mean_square` is m₀ (1 for standard-normal inputs) and `output_gradient_variance`
/// the variance of the gradient injected at the output layer's pre-activations.
pub fn predict_layers(
    activation: Activation,
    hidden: &[LayerScale],
    output: LayerScale,
    input_mean_square: f64,
    output_gradient_variance: f64,
) -> Vec<LayerPrediction> {
    let finite = |v: f64| v.is_finite() && v <= Q_LIMIT;
    // Forward: q^l, E[φ], E[φ²] per layer.
    let mut forward: Vec<Option<(f64, f64, f64)>> = Vec::with_capacity(hidden.len());
    let mut previous_square = Some(input_mean_square);
    for scale in hidden {
        let layer = MeanField {
            activation,
            sigma_w2: scale.sigma_w2,
            sigma_b2: scale.sigma_b2,
        };
        let moments = previous_square.and_then(|m| {
            let q = scale.sigma_w2 * m + scale.sigma_b2;
            finite(q).then(|| (q, layer.mean(q), layer.second_moment(q)))
        });
        previous_square = moments.map(|(_, _, m2)| m2);
        forward.push(moments);
    }
    // Backward: Var(dL/da^l), from the output down.
    let mut gradient = vec![None; hidden.len()];
    let mut variance = Some(
        output.sigma_w2 / output.fan_in as f64 * output.fan_out as f64 * output_gradient_variance,
    );
    for l in (0..hidden.len()).rev() {
        gradient[l] = variance.filter(|v| finite(*v));
        if l == 0 {
            break;
        }
        let scale = hidden[l];
        let layer = MeanField {
            activation,
            sigma_w2: scale.sigma_w2,
            sigma_b2: scale.sigma_b2,
        };
        variance = match (variance, forward[l]) {
            (Some(v), Some((q, _, _))) => Some(
                scale.sigma_w2 / scale.fan_in as f64
                    * scale.fan_out as f64
                    * layer.derivative_second_moment(q)
                    * v,
            ),
            _ => None,
        };
    }
    forward
        .iter()
        .zip(gradient)
        .enumerate()
        .map(|(l, (moments, gradient))| LayerPrediction {
            layer: l + 1,
            q: moments.map(|m| m.0),
            activation_mean: moments.map(|m| m.1),
            activation_std: moments.map(|(_, mean, m2)| (m2 - mean * mean).max(0.0).sqrt()),
            gradient_std: gradient.map(f64::sqrt),
        })
        .collect()
}
