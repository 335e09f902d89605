//! How the schemes draw: one seeded RNG stream per layer, the common random numbers shared
//! by a family of schemes, orthogonal matrices and truncated normals.

use ndarray::{Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::placed::LayerPlace;
use super::schemes::{Affine, AsBias, Distribution, Family, Fan, Init, Weights};
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

impl Affine {
    /// One weight: `offset + scale · base draw` (just `offset` for the deterministic family).
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

/// ZerO's deterministic matrix (Zhao et al. 2022, Algorithm 1) for a `(fan_out, fan_in)`
/// layer: the identity when the fans are equal, the partial identity `[I 0]` (the first
/// `fan_out` inputs) when the layer shrinks, and when it expands
/// `c · I*(fan_out × 2^k) · H_k · I*(2^k × fan_in)`, where `H_k` is the Sylvester–Hadamard
/// matrix of size 2^k (entries ±1; entry (i, j) is (−1)^popcount(i & j)),
/// k = ⌈log₂ fan_out⌉ and c = 2^(−(k−1)/2): the top-left `fan_out × fan_in` block of the
/// scaled Hadamard matrix. Nothing is random; the Hadamard part keeps an expanding layer's
/// outputs from being copies of its inputs (the symmetry a plain partial identity would
/// leave).
pub fn zero_hadamard(fan: Fan) -> Array2<f64> {
    let (rows, cols) = (fan.fan_out, fan.fan_in);
    if rows <= cols {
        return Array2::from_shape_fn((rows, cols), |(i, j)| f64::from(u8::from(i == j)));
    }
    let k = rows.next_power_of_two().trailing_zeros() as i32;
    let c = 2f64.powf(-f64::from(k - 1) / 2.0);
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        if (i & j).count_ones() % 2 == 0 { c } else { -c }
    })
}

impl Init {
    /// The element-wise rule of this start for one layer, `None` for the matrix starts
    /// (orthogonal, LSUV, ZerO), the place-dependent and custom ones. Every start of one
    /// family scales the same base draws, which is what makes the common random numbers
    /// exact.
    fn affine(&self, fan: Fan, activation: Activation) -> Option<Affine> {
        match self {
            Init::Scheme(s) => match s.row.weights {
                Weights::Elementwise(rule) => Some(rule(&s.values, fan, activation)),
                _ => None,
            },
            _ => None,
        }
    }

    /// A place-dependent start resolved for a hidden layer of a plain network with these
    /// fans and activation ([`LayerPlace::hidden`]); `None` for every other start.
    fn resolved_hidden(&self, fan: Fan, activation: Activation) -> Option<Result<Init, String>> {
        match self {
            Init::Scheme(s) => match s.row.weights {
                Weights::Placed(rule) => {
                    Some(rule(&s.values, &LayerPlace::hidden(fan, activation)))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The mean and variance of one weight of a layer followed by `activation`, by the
    /// scheme's formula; `None` for LSUV (data-dependent), ZerO (deterministic matrices)
    /// and custom schemes. A place-dependent start answers for a hidden layer of a plain
    /// network. What the mean-field theory reads as σ_w² = variance · fan_in.
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
        if let Some(resolved) = self.resolved_hidden(fan, activation) {
            return resolved.ok()?.weight_moments(fan, activation);
        }
        match self {
            Init::Scheme(s) => match s.row.weights {
                Weights::Matrix { moments, .. } => moments(&s.values, fan, activation),
                _ => None,
            },
            _ => None,
        }
    }

    /// Which random numbers the scheme draws (see the module docs on common random numbers).
    pub fn family(&self) -> Family {
        // The family does not depend on the layer's shape, so any fan will do.
        let any = Fan {
            fan_in: 1,
            fan_out: 1,
        };
        if let Some(rule) = self.affine(any, Activation::Identity) {
            return rule.family;
        }
        match self {
            Init::Scheme(s) => match s.row.weights {
                Weights::Matrix { family, .. } => family,
                Weights::Placed(rule) => {
                    rule(&s.values, &LayerPlace::hidden(any, Activation::Identity))
                        .map_or(Family::Custom, |init| init.family())
                }
                Weights::Elementwise(_) => unreachable!("answered by `affine`"),
            },
            Init::Custom(_) => Family::Custom,
            // A formula start draws as the plain scheme of its distribution.
            Init::Formula(f) => match f.distribution {
                Distribution::Normal => Family::Normal,
                Distribution::Uniform => Family::Uniform,
                Distribution::TruncatedNormal => Family::Truncated,
            },
        }
    }

    /// Draws the `(fan_out, fan_in)` weight matrix of a layer followed by `activation`
    /// (the output layer counts as identity), in `f64`. A place-dependent start draws as it
    /// does for a hidden layer of a plain network ([`LayerPlace::hidden`]); in a network,
    /// resolve it for each layer's place first ([`Init::at_layer`]).
    ///
    /// # Panics
    /// If a custom initializer returns a matrix of the wrong shape or a non-finite value
    /// (a programming error in that initializer; [`super::CustomInit::validate`] and
    /// [`Init::try_sample_f64`] report it as an error instead), or a place-dependent start
    /// has no value for this layer (`critical` where the activation has no edge of chaos).
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
            Init::Scheme(s) => match s.row.weights {
                Weights::Matrix { draw, .. } => Ok(draw(&s.values, fan, activation, rng)),
                Weights::Placed(rule) => rule(&s.values, &LayerPlace::hidden(fan, activation))?
                    .try_sample_f64(fan, activation, rng),
                Weights::Elementwise(_) => unreachable!("element-wise rules are drawn above"),
            },
            Init::Custom(c) => c.draw(fan, rng),
            Init::Formula(_) => Err(
                "a formula start needs the layer's place in the network: resolve it with `Init::at_layer` first"
                    .to_string(),
            ),
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
    /// give a bias (U(±1/√fan_in) and zeros), `lsuv` zeros. `orthogonal` gives a random unit
    /// vector times the gain ([`super::check_bias_init`] rejects it, the other matrix
    /// starts and the place-dependent ones). A custom scheme's bias is the first column of
    /// the matrix it returns.
    ///
    /// # Panics
    /// For a formula start, ZerO and the place-dependent starts (refused as bias inits).
    pub fn sample_bias<T: Float>(
        &self,
        fan: Fan,
        activation: Activation,
        rng: &mut ChaCha8Rng,
    ) -> Array1<T> {
        let s = match self {
            Init::Scheme(s) => s,
            Init::Custom(_) => {
                return self.sample_f64(fan, activation, rng).column(0).mapv(T::of);
            }
            Init::Formula(_) => {
                panic!("a formula start cannot initialize a bias (check_bias_init)")
            }
        };
        match (s.row.as_bias, s.row.weights) {
            (AsBias::Default, _) => self.default_bias(fan, rng),
            (AsBias::Refused, _) if s.row.is_learned() => self.default_bias(fan, rng),
            (AsBias::LikeWeights, _) => self.elementwise_bias(fan, activation, rng),
            (
                AsBias::Refused,
                Weights::Matrix {
                    family: Family::Orthogonal,
                    ..
                },
            ) => {
                let column = Fan {
                    fan_in: 1,
                    fan_out: fan.fan_out,
                };
                self.sample_f64(column, activation, rng)
                    .column(0)
                    .mapv(T::of)
            }
            (AsBias::Refused, _) => panic!(
                "init `{}` cannot initialize a bias (check_bias_init)",
                s.row.name
            ),
        }
    }
}
