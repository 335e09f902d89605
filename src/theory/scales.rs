//! σ_w² and σ_b² of a named start, for one layer: what the theory reads off a scheme.

use crate::nn::{Activation, Fan, Init};

/// The mean-field scales of a start on one layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StartScales {
    /// σ_w² = Var(w) · fan_in.
    pub sigma_w2: f64,
    /// σ_b² = Var(b) of the default bias.
    pub sigma_b2: f64,
}

/// The scales of `init` on a layer with fans `fan` followed by `activation`, or why the
/// mean-field theory does not apply: weights with a non-zero mean (constant, shifted
/// normal), all-zero weights, data-dependent (LSUV) or custom schemes.
pub fn start_scales(init: &Init, fan: Fan, activation: Activation) -> Result<StartScales, String> {
    let Some((mean, variance)) = init.weight_moments(fan, activation) else {
        return Err(format!(
            "`{}` has no variance formula (data-dependent or custom)",
            init.label()
        ));
    };
    if mean != 0.0 {
        return Err(format!(
            "`{}` has weights of mean {mean} ≠ 0 (outside the mean-field theory)",
            init.label()
        ));
    }
    if variance <= 0.0 {
        return Err(format!("`{}` has zero weight variance", init.label()));
    }
    Ok(StartScales {
        sigma_w2: variance * fan.fan_in as f64,
        sigma_b2: init.default_bias_variance(fan),
    })
}
