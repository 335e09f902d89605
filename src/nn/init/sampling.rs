//! How the schemes draw: one seeded RNG stream per layer, the common random numbers shared
//! by a family of schemes, orthogonal matrices and truncated normals.

use ndarray::{Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::schemes::{Distribution, Family, Fan, FanMode, Gain, Init};
use crate::nn::activation::Activation;
use crate::nn::float::Float;

/// The standard deviation of a standard normal truncated to [-2, 2]. Keras' variance-scaling
/// divides the target std by it so that the truncated draws keep the intended variance.
#[allow(clippy::excessive_precision)] // the value as Keras states it
pub const TRUNCATED_NORMAL_STD: f64 = 0.879_625_661_034_239_78;

/// An RNG for one layer's weights (`bias = false`) or bias (`bias = true`).
pub fn layer_rng(seed: u64, layer: usize, bias: bool) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(2 * layer as u64 + u64::from(bias));
    rng
}

/// `n` values `std · z`, z standard normal (a mean-field start's bias).
pub(super) fn normal_vector<T: Float>(n: usize, std: f64, rng: &mut ChaCha8Rng) -> Array1<T> {
    Array1::from_shape_simple_fn(n, || {
        let z: f64 = rng.sample(StandardNormal);
        T::of(std * z)
    })
}

/// A value on [-1, 1).
fn symmetric_uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    2.0 * rng.random::<f64>() - 1.0
}

/// A standard normal redrawn until it lies in [-2, 2].
fn truncated_standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let z: f64 = rng.sample(StandardNormal);
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

/// One base draw of a family: a standard normal, a uniform on [-1, 1), or a standard
/// normal truncated to [-2, 2]. Every element-wise scheme is `offset + scale · base`.
fn base_draw<R: Rng + ?Sized>(family: Family, rng: &mut R) -> f64 {
    match family {
        Family::Normal => rng.sample(StandardNormal),
        Family::Uniform => symmetric_uniform(rng),
        Family::Truncated => truncated_standard_normal(rng),
        Family::Deterministic | Family::Orthogonal | Family::Custom => 0.0,
    }
}

/// An element-wise scheme resolved for one layer: `w = offset + scale · base_draw(family)`.
#[derive(Clone, Copy, Debug)]
struct Affine {
    family: Family,
    offset: f64,
    scale: f64,
}

impl Affine {
    fn draw<R: Rng + ?Sized>(self, rng: &mut R) -> f64 {
        match self.family {
            Family::Deterministic => self.offset,
            family => self.offset + self.scale * base_draw(family, rng),
        }
    }
}

/// A (fan_out, fan_in) matrix with orthonormal rows (wide or square) or columns (tall).
///
/// Draws `min(fan_in, fan_out)` Gaussian vectors of length `max(fan_in, fan_out)` and
/// orthonormalizes them with modified Gram–Schmidt, applied twice for accuracy (every
/// vector is a contiguous row, so this is cache-friendly). Gram–Schmidt makes the diagonal
/// of R positive, which is exactly the sign fix `Q · sign(diag R)` that makes the result
/// uniform (Haar) over orthogonal matrices (Mezzadri 2007).
pub fn orthogonal_matrix<R: Rng + ?Sized>(fan: Fan, rng: &mut R) -> Array2<f64> {
    let (rows, cols) = (fan.fan_out, fan.fan_in);
    let (k, n) = (rows.min(cols), rows.max(cols));
    let mut a = Array2::<f64>::from_shape_simple_fn((k, n), || rng.sample(StandardNormal));
    for _pass in 0..2 {
        for j in 0..k {
            let (done, mut rest) = a.view_mut().split_at(Axis(0), j);
            let mut v = rest.row_mut(0);
            for q in done.rows() {
                let dot = q.dot(&v);
                v.scaled_add(-dot, &q);
            }
            let norm = v.dot(&v).sqrt();
            v.mapv_inplace(|x| x / norm);
        }
    }
    if rows <= cols {
        a
    } else {
        a.reversed_axes().as_standard_layout().into_owned()
    }
}

impl Init {
    /// The element-wise rule of this scheme for one layer, `None` for the matrix schemes
    /// (orthogonal, LSUV) and custom ones. Every scheme of one family scales the same base
    /// draws, which is what makes the common random numbers exact.
    fn affine(&self, fan: Fan, activation: Activation) -> Option<Affine> {
        let fan_in = fan.fan_in as f64;
        let fan_out = fan.fan_out as f64;
        let sqrt3 = 3f64.sqrt();
        let xavier_std = |gain: &Gain| gain.resolve(activation) * (2.0 / (fan_in + fan_out)).sqrt();
        let he_std =
            |mode: &FanMode, slope: f64| (2.0 / ((1.0 + slope * slope) * mode.fan(fan))).sqrt();
        let (family, offset, scale) = match self {
            Init::Zeros => (Family::Deterministic, 0.0, 0.0),
            Init::Constant { value } => (Family::Deterministic, *value, 0.0),
            Init::Tiny { std } | Init::Huge { std } => (Family::Normal, 0.0, *std),
            Init::Normal { mean, std } => (Family::Normal, *mean, *std),
            Init::Uniform { low, high } => (
                Family::Uniform,
                low / 2.0 + high / 2.0,
                high / 2.0 - low / 2.0,
            ),
            Init::TruncatedNormal { mean, std } => (Family::Truncated, *mean, *std),
            Init::XavierUniform { gain } => (Family::Uniform, 0.0, sqrt3 * xavier_std(gain)),
            Init::XavierNormal { gain } => (Family::Normal, 0.0, xavier_std(gain)),
            Init::KerasDefault => (Family::Uniform, 0.0, sqrt3 * xavier_std(&Gain::Value(1.0))),
            Init::HeUniform { mode, slope } => (Family::Uniform, 0.0, sqrt3 * he_std(mode, *slope)),
            Init::HeNormal { mode, slope } => (Family::Normal, 0.0, he_std(mode, *slope)),
            Init::LecunUniform => (Family::Uniform, 0.0, sqrt3 * (1.0 / fan_in).sqrt()),
            Init::LecunNormal => (Family::Normal, 0.0, (1.0 / fan_in).sqrt()),
            Init::VarianceScaling {
                scale,
                mode,
                distribution,
            } => {
                let std = (scale / mode.fan(fan)).sqrt();
                match distribution {
                    Distribution::Uniform => (Family::Uniform, 0.0, sqrt3 * std),
                    Distribution::Normal => (Family::Normal, 0.0, std),
                    Distribution::TruncatedNormal => {
                        (Family::Truncated, 0.0, std / TRUNCATED_NORMAL_STD)
                    }
                }
            }
            Init::GlorotStandard | Init::PytorchDefault => {
                (Family::Uniform, 0.0, 1.0 / fan_in.sqrt())
            }
            // The same base draws as the other families, scaled to Var = σ_w²/fan_in.
            Init::MeanField {
                sigma_w2,
                distribution,
                ..
            } => {
                let std = (sigma_w2 / fan_in).sqrt();
                match distribution {
                    Distribution::Uniform => (Family::Uniform, 0.0, sqrt3 * std),
                    Distribution::Normal => (Family::Normal, 0.0, std),
                    Distribution::TruncatedNormal => {
                        (Family::Truncated, 0.0, std / TRUNCATED_NORMAL_STD)
                    }
                }
            }
            Init::Orthogonal { .. } | Init::Lsuv { .. } | Init::Custom(_) | Init::Formula(_) => {
                return None;
            }
        };
        Some(Affine {
            family,
            offset,
            scale,
        })
    }

    /// The mean and variance of one weight of a layer followed by `activation`, by the
    /// scheme's formula; `None` for LSUV (data-dependent) and custom schemes. What the
    /// mean-field theory reads as σ_w² = variance · fan_in.
    pub fn weight_moments(&self, fan: Fan, activation: Activation) -> Option<(f64, f64)> {
        if let Some(rule) = self.affine(fan, activation) {
            let base_variance = match rule.family {
                Family::Normal => 1.0,
                Family::Uniform => 1.0 / 3.0,
                Family::Truncated => TRUNCATED_NORMAL_STD * TRUNCATED_NORMAL_STD,
                _ => 0.0,
            };
            return Some((rule.offset, rule.scale * rule.scale * base_variance));
        }
        match self {
            // gain·Q with Q (fan_out, fan_in) having orthonormal rows or columns: every
            // entry has variance gain² / max(fan_in, fan_out).
            Init::Orthogonal { gain } => {
                let g = gain.resolve(activation);
                Some((0.0, g * g / fan.fan_in.max(fan.fan_out) as f64))
            }
            _ => None,
        }
    }

    /// The variance of one value of the bias the scheme sets by default
    /// ([`Init::default_bias`]).
    pub fn default_bias_variance(&self, fan: Fan) -> f64 {
        match self {
            Init::PytorchDefault => 1.0 / (3.0 * fan.fan_in as f64),
            Init::MeanField { sigma_b2, .. } => *sigma_b2,
            _ => 0.0,
        }
    }

    /// Which random numbers the scheme draws (see the module docs on common random numbers).
    pub fn family(&self) -> Family {
        // The family does not depend on the layer's shape, so any fan will do.
        let any = Fan {
            fan_in: 1,
            fan_out: 1,
        };
        match self.affine(any, Activation::Identity) {
            Some(rule) => rule.family,
            None => match self {
                Init::Custom(_) => Family::Custom,
                // A formula start draws as the plain scheme of its distribution.
                Init::Formula(f) => match f.distribution {
                    Distribution::Normal => Family::Normal,
                    Distribution::Uniform => Family::Uniform,
                    Distribution::TruncatedNormal => Family::Truncated,
                },
                _ => Family::Orthogonal,
            },
        }
    }

    /// Draws the `(fan_out, fan_in)` weight matrix of a layer followed by `activation`
    /// (the output layer counts as identity), in `f64`.
    ///
    /// # Panics
    /// If a custom initializer returns a matrix of the wrong shape or a non-finite value
    /// (a programming error in that initializer; [`super::CustomInit::validate`] and
    /// [`Init::try_sample_f64`] report it as an error instead).
    pub fn sample_f64(
        &self,
        fan: Fan,
        activation: Activation,
        rng: &mut ChaCha8Rng,
    ) -> Array2<f64> {
        self.try_sample_f64(fan, activation, rng)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Init::sample_f64`], but a custom initializer's wrong shape or non-finite value
    /// is an error naming the initializer, the layer's fans and the shape expected.
    pub fn try_sample_f64(
        &self,
        fan: Fan,
        activation: Activation,
        rng: &mut ChaCha8Rng,
    ) -> Result<Array2<f64>, String> {
        if let Some(rule) = self.affine(fan, activation) {
            return Ok(Array2::from_shape_simple_fn(
                (fan.fan_out, fan.fan_in),
                || rule.draw(rng),
            ));
        }
        match self {
            Init::Orthogonal { gain } => Ok(orthogonal_matrix(fan, rng) * gain.resolve(activation)),
            Init::Lsuv { .. } => Ok(orthogonal_matrix(fan, rng)),
            Init::Custom(c) => c.draw(fan, rng),
            Init::Formula(_) => Err(
                "a formula start needs the layer's place in the network: resolve it with `Init::at_layer` first"
                    .to_string(),
            ),
            _ => unreachable!("element-wise schemes are handled by `affine`"),
        }
    }

    /// Draws a layer's weights in the engine's precision.
    pub fn sample<T: Float>(
        &self,
        fan: Fan,
        activation: Activation,
        rng: &mut ChaCha8Rng,
    ) -> Array2<T> {
        self.sample_f64(fan, activation, rng).mapv(T::of)
    }

    /// `fan_out` values drawn as this element-wise scheme draws a weight of the layer.
    ///
    /// # Panics
    /// For the matrix schemes and custom ones, which have no element-wise rule.
    pub(super) fn elementwise_bias<T: Float>(
        &self,
        fan: Fan,
        activation: Activation,
        rng: &mut ChaCha8Rng,
    ) -> Array1<T> {
        let rule = self
            .affine(fan, activation)
            .expect("only element-wise schemes draw a bias value by value");
        Array1::from_shape_simple_fn(fan.fan_out, || T::of(rule.draw(rng)))
    }

    /// Draws a bias vector (`fan_out` values) with this scheme used *as a bias*
    /// initializer.
    ///
    /// Element-wise schemes draw each value as they would draw a weight of the layer (same
    /// fans, same scale). `pytorch-default` and `keras-default` give what those frameworks
    /// give a bias (U(±1/√fan_in) and zeros). `orthogonal` gives a random unit vector times
    /// the gain, `lsuv` zeros ([`super::check_bias_init`] rejects both: they are matrix
    /// schemes). A custom scheme's bias is the first column of the matrix it returns.
    pub fn sample_bias<T: Float>(
        &self,
        fan: Fan,
        activation: Activation,
        rng: &mut ChaCha8Rng,
    ) -> Array1<T> {
        match self {
            Init::PytorchDefault | Init::KerasDefault | Init::Lsuv { .. } => {
                self.default_bias(fan, rng)
            }
            Init::Orthogonal { gain } => {
                let column = Fan {
                    fan_in: 1,
                    fan_out: fan.fan_out,
                };
                let g = gain.resolve(activation);
                orthogonal_matrix(column, rng)
                    .column(0)
                    .mapv(|v| T::of(g * v))
            }
            Init::Custom(_) => self.sample_f64(fan, activation, rng).column(0).mapv(T::of),
            Init::Formula(_) => {
                panic!("a formula start cannot initialize a bias (check_bias_init)")
            }
            _ => self.elementwise_bias(fan, activation, rng),
        }
    }
}
