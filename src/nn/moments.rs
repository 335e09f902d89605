//! Moment tests for any start, for a course to test an initializer with: draw a layer's
//! weights, and compare their sample mean and variance with the intended ones within `z`
//! standard errors, and their largest magnitude with a bound (uniform and truncated
//! starts). initlab's own starts are tested this way (`tests/suite/init_statistics.rs`).
//!
//! The standard errors are the sample's own: `SE(mean) = s / √n` and
//! `SE(variance) = √((m₄ − s⁴) / n)`, with `m₄` the fourth central moment (for a normal
//! `m₄ = 3σ⁴`, so `SE = σ² √(2/n)`; for a uniform `m₄ = 1.8σ⁴`).

use super::Activation;
use super::init::{Fan, Init, LayerPlace, layer_rng};

/// The sample moments of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    /// Number of values.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample variance (divided by n − 1).
    pub variance: f64,
    /// Fourth central moment (divided by n).
    pub fourth: f64,
    /// Largest |value|.
    pub max_abs: f64,
}

impl Moments {
    /// The moments of `values` (at least two).
    pub fn of(values: &[f64]) -> Moments {
        let n = values.len();
        assert!(n >= 2, "moments need at least two values");
        let mean = values.iter().sum::<f64>() / n as f64;
        let sq: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        let fourth = values.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n as f64;
        Moments {
            n,
            mean,
            variance: sq / (n - 1) as f64,
            fourth,
            max_abs: values.iter().map(|v| v.abs()).fold(0.0, f64::max),
        }
    }

    /// Standard error of the mean, `s / √n`.
    pub fn mean_se(&self) -> f64 {
        (self.variance / self.n as f64).sqrt()
    }

    /// Standard error of the variance, `√((m₄ − s⁴) / n)`.
    pub fn variance_se(&self) -> f64 {
        ((self.fourth - self.variance * self.variance).max(0.0) / self.n as f64).sqrt()
    }
}

/// What a start should give.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expected {
    /// The mean of the weights (0 for every variance-scaling start).
    pub mean: f64,
    /// Their standard deviation.
    pub std: f64,
    /// No |weight| above this (uniform: √3·std; truncated: 2 of its std), if any.
    pub bound: Option<f64>,
}

/// The verdict of a moment test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomentCheck {
    /// The sample's moments.
    pub moments: Moments,
    /// (mean − expected mean) / SE(mean).
    pub mean_z: f64,
    /// (variance − expected variance) / SE(variance).
    pub variance_z: f64,
    /// Whether every |weight| is within the bound (true without one).
    pub within_bound: bool,
    /// Whether both |z| are at most the `z` asked for and the bound holds.
    pub passes: bool,
}

/// Draws the weights of one `(fan_out, fan_in)` layer under `init` (layer 1 of 1,
/// followed by `activation`, seed `seed`) and tests their moments within `z` standard
/// errors.
///
/// ```
/// use initlab::nn::{Activation, Fan, Init};
/// use initlab::nn::moments::{Expected, check_start};
/// let he: Init = "he-normal:mode=fan_in".parse().unwrap();
/// let fan = Fan { fan_in: 200, fan_out: 100 };
/// let right = Expected { mean: 0.0, std: (2.0f64 / 200.0).sqrt(), bound: None };
/// assert!(check_start(&he, fan, Activation::Relu, 0, right, 4.0).unwrap().passes);
/// // He written as Var = 1/fan_in is caught: its variance is half.
/// let wrong = Expected { std: (1.0f64 / 200.0).sqrt(), ..right };
/// assert!(!check_start(&he, fan, Activation::Relu, 0, wrong, 4.0).unwrap().passes);
/// ```
///
/// # Errors
/// If a formula start gives the layer an invalid std (the message names the layer).
pub fn check_start(
    init: &Init,
    fan: Fan,
    activation: Activation,
    seed: u64,
    expected: Expected,
    z: f64,
) -> Result<MomentCheck, String> {
    let place = LayerPlace::plain(1, 1, fan, activation);
    let w =
        init.at_layer(place)?
            .try_sample_f64(fan, activation, &mut layer_rng(seed, 0, false))?;
    let values: Vec<f64> = w.iter().copied().collect();
    Ok(check_values(&values, expected, z))
}

/// Tests the moments of values already drawn.
pub fn check_values(values: &[f64], expected: Expected, z: f64) -> MomentCheck {
    let m = Moments::of(values);
    let ratio = |d: f64, se: f64| {
        if se > 0.0 {
            d / se
        } else if d == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    };
    let mean_z = ratio(m.mean - expected.mean, m.mean_se());
    let variance_z = ratio(m.variance - expected.std * expected.std, m.variance_se());
    let within_bound = expected
        .bound
        .is_none_or(|b| values.iter().all(|v| (v - expected.mean).abs() <= b));
    MomentCheck {
        moments: m,
        mean_z,
        variance_z,
        within_bound,
        passes: mean_z.abs() <= z && variance_z.abs() <= z && within_bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_errors_match_the_closed_forms() {
        // Uniform on [-1, 1]: σ² = 1/3, m₄ = 1/5, SE(var) = √((1/5 − 1/9)/n).
        let n = 100_000;
        let values: Vec<f64> = (0..n)
            .map(|i| -1.0 + 2.0 * (i as f64 + 0.5) / n as f64)
            .collect();
        let m = Moments::of(&values);
        assert!((m.variance - 1.0 / 3.0).abs() < 1e-5); // n/(n−1) · (1/3 − 1/(3n²))
        let se = ((1.0f64 / 5.0 - 1.0 / 9.0) / n as f64).sqrt();
        assert!((m.variance_se() - se).abs() / se < 1e-3);
    }

    #[test]
    fn bounds_and_uniform_starts() {
        let fan = Fan {
            fan_in: 300,
            fan_out: 100,
        };
        let std = (2.0f64 / 400.0).sqrt();
        let init: Init = "xavier-uniform:gain=1".parse().unwrap();
        let right = Expected {
            mean: 0.0,
            std,
            bound: Some(3f64.sqrt() * std),
        };
        assert!(
            check_start(&init, fan, Activation::Tanh, 1, right, 4.0)
                .unwrap()
                .passes
        );
        let tight = Expected {
            bound: Some(std),
            ..right
        };
        let c = check_start(&init, fan, Activation::Tanh, 1, tight, 4.0).unwrap();
        assert!(!c.within_bound && !c.passes);
    }
}
