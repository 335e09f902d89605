//! Weight initializers: every start a PyTorch or Keras user can pick for a dense layer, the
//! ones the papers argue about, and the defaults frameworks apply silently.
//!
//! Conventions: a weight matrix is `(out, in)`, so `fan_in = W.ncols()` and
//! `fan_out = W.nrows()`. Every draw comes from an explicit, seeded RNG: layer `l` of a run
//! with init seed `s` draws its weights from ChaCha8 stream `2l` and its bias from stream
//! `2l + 1` of seed `s`, so a layer's numbers do not depend on what other layers drew.
//!
//! **Common random numbers.** For one seed, every scheme of the normal family (tiny, huge,
//! normal, xavier-normal, he-normal, lecun-normal, variance-scaling normal) scales the *same*
//! standard normals, every scheme of the uniform family the same uniforms on [-1, 1), and the
//! truncated schemes the same truncated normals. Their weights for one replicate are exact
//! multiples of each other: a comparison between them is about variance, not luck.
//!
//! | name | rule | source |
//! |---|---|---|
//! | `zeros`, `constant` | all weights equal `value` (0) | — |
//! | `tiny`, `huge` | N(0, std²), std 0.01 and 10 | deeplearning.ai "Initialization" (×0.01, ×10) |
//! | `normal`, `uniform` | N(mean, std²), U(low, high) | — |
//! | `truncated-normal` | N(mean, std²) redrawn outside ±2 std | Keras `TruncatedNormal` |
//! | `xavier-uniform`, `xavier-normal` | Var = gain²·2/(fan_in+fan_out); bound √3·std | Glorot & Bengio 2010 |
//! | `he-uniform`, `he-normal` | Var = 2/((1+a²)·fan), fan = fan_in or fan_out | He et al. 2015 |
//! | `lecun-uniform`, `lecun-normal` | Var = 1/fan_in | LeCun et al. 1998 |
//! | `variance-scaling` | Var = scale/fan (fan_in, fan_out or their mean) | Keras `VarianceScaling` |
//! | `orthogonal` | Q of a Gaussian matrix's QR, signs fixed, × gain | Saxe et al. 2014 |
//! | `glorot-standard` | U(±1/√fan_in) | the "standard" start of Glorot & Bengio 2010 |
//! | `pytorch-default` | weight and bias U(±1/√fan_in) | `nn.Linear` (kaiming_uniform, a = √5; PyTorch issue #57109) |
//! | `keras-default` | glorot uniform weight, zero bias | Keras `Dense` |
//! | `lsuv` | orthogonal, then each layer rescaled to unit output variance on data | Mishkin & Matas 2015 |

use std::fmt;
use std::sync::Arc;

use ndarray::{Array1, Array2};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::activation::Activation;
use super::float::Float;

/// The standard deviation of a standard normal truncated to [-2, 2]. Keras' variance-scaling
/// divides the target std by it so that the truncated draws keep the intended variance.
#[allow(clippy::excessive_precision)] // the value as Keras states it
pub const TRUNCATED_NORMAL_STD: f64 = 0.879_625_661_034_239_78;

/// The fans of one dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fan {
    /// Number of inputs (columns of the weight matrix).
    pub fan_in: usize,
    /// Number of outputs (rows of the weight matrix).
    pub fan_out: usize,
}

/// Which fan a variance-preserving scheme divides by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// Preserve the forward signal's variance.
    FanIn,
    /// Preserve the backward gradient's variance.
    FanOut,
    /// The mean of both (Glorot's compromise).
    FanAvg,
}

/// The shape of the random numbers a variance-scaling scheme draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distribution {
    /// U(-bound, bound) with bound = √3·std.
    Uniform,
    /// N(0, std²).
    Normal,
    /// N(0, (std/0.8796)²) redrawn outside ±2 of its own std.
    TruncatedNormal,
}

/// A gain factor: a number, or `auto` = the gain of the layer's activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gain {
    /// A fixed gain.
    Value(f64),
    /// [`Activation::gain`] of the activation that follows the layer.
    Auto,
}

impl Gain {
    fn resolve(self, activation: Activation) -> f64 {
        match self {
            Gain::Value(g) => g,
            Gain::Auto => activation.gain(),
        }
    }
}

/// A user-written initializer: given the fans and an RNG, return the `(fan_out, fan_in)`
/// weight matrix (in `f64`; it is rounded to the run's precision).
///
/// Closures `Fn(Fan, &mut dyn RngCore) -> Array2<f64>` implement it.
pub trait Initializer: Send + Sync {
    /// Draws the weight matrix `(fan.fan_out, fan.fan_in)`.
    fn weights(&self, fan: Fan, rng: &mut dyn RngCore) -> Array2<f64>;
}

impl<F> Initializer for F
where
    F: Fn(Fan, &mut dyn RngCore) -> Array2<f64> + Send + Sync,
{
    fn weights(&self, fan: Fan, rng: &mut dyn RngCore) -> Array2<f64> {
        self(fan, rng)
    }
}

/// A named user initializer, usable everywhere a built-in scheme is.
#[derive(Clone)]
pub struct CustomInit {
    /// The name it appears under in CSV files, plots and tables.
    pub name: String,
    /// A one-line formula for reports.
    pub formula: String,
    /// The initializer itself.
    pub init: Arc<dyn Initializer>,
}

impl fmt::Debug for CustomInit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomInit({:?})", self.name)
    }
}

/// A weight initialization scheme. See the module docs for the formulas and sources.
#[derive(Clone, Debug)]
pub enum Init {
    /// All weights 0: every hidden unit of a layer stays a clone of the others.
    Zeros,
    /// All weights equal `value`.
    Constant {
        /// The value.
        value: f64,
    },
    /// N(0, std²), std = 0.01 by default: the signal shrinks layer by layer.
    Tiny {
        /// Standard deviation.
        std: f64,
    },
    /// N(0, std²), std = 10 by default: the signal explodes or saturates.
    Huge {
        /// Standard deviation.
        std: f64,
    },
    /// N(mean, std²).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// U(low, high).
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// N(mean, std²) redrawn outside mean ± 2 std (Keras `TruncatedNormal`).
    TruncatedNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation of the untruncated normal.
        std: f64,
    },
    /// U(±gain·√(6/(fan_in+fan_out))), Glorot & Bengio 2010.
    XavierUniform {
        /// Gain.
        gain: Gain,
    },
    /// N(0, gain²·2/(fan_in+fan_out)), Glorot & Bengio 2010.
    XavierNormal {
        /// Gain.
        gain: Gain,
    },
    /// U(±√(6/((1+a²)·fan))), He et al. 2015.
    HeUniform {
        /// Which fan.
        mode: FanMode,
        /// Negative slope a of the leaky ReLU that follows (0 for ReLU).
        slope: f64,
    },
    /// N(0, 2/((1+a²)·fan)), He et al. 2015.
    HeNormal {
        /// Which fan.
        mode: FanMode,
        /// Negative slope a of the leaky ReLU that follows (0 for ReLU).
        slope: f64,
    },
    /// U(±√(3/fan_in)), LeCun et al. 1998.
    LecunUniform,
    /// N(0, 1/fan_in), LeCun et al. 1998.
    LecunNormal,
    /// Var = scale/fan, Keras `VarianceScaling`.
    VarianceScaling {
        /// The variance numerator.
        scale: f64,
        /// Which fan.
        mode: FanMode,
        /// Which distribution.
        distribution: Distribution,
    },
    /// A (semi-)orthogonal matrix times gain, Saxe et al. 2014.
    Orthogonal {
        /// Gain.
        gain: Gain,
    },
    /// U(±1/√fan_in), the "standard" start of Glorot & Bengio 2010.
    GlorotStandard,
    /// What PyTorch's `nn.Linear` does: weight and bias U(±1/√fan_in).
    PytorchDefault,
    /// What Keras' `Dense` does: glorot uniform weight, zero bias.
    KerasDefault,
    /// Layer-sequential unit-variance (Mishkin & Matas 2015): orthogonal, then each layer
    /// rescaled on a batch of training data. See [`crate::nn::mlp::Mlp::lsuv`].
    Lsuv {
        /// Stop when |Var(output) - 1| < tolerance.
        tolerance: f64,
        /// At most this many rescalings per layer.
        max_iterations: usize,
    },
    /// A user-written scheme.
    Custom(CustomInit),
}

/// The random numbers a scheme draws, for common random numbers across schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Draws nothing.
    Deterministic,
    /// Standard normals.
    Normal,
    /// Uniforms on [-1, 1).
    Uniform,
    /// Standard normals redrawn outside ±2.
    Truncated,
    /// Orthogonalized standard normals.
    Orthogonal,
    /// A user's own draws.
    Custom,
}

/// One entry of the scheme catalogue shown by `initlab list`.
pub struct SchemeInfo {
    /// Name as users type it.
    pub name: &'static str,
    /// Parameters with their defaults.
    pub params: &'static str,
    /// The rule in one line.
    pub formula: &'static str,
}

/// Every built-in scheme with its parameters and formula.
pub const SCHEMES: &[SchemeInfo] = &[
    SchemeInfo {
        name: "zeros",
        params: "",
        formula: "W = 0",
    },
    SchemeInfo {
        name: "constant",
        params: "value=0",
        formula: "W = value",
    },
    SchemeInfo {
        name: "tiny",
        params: "std=0.01",
        formula: "N(0, std²)",
    },
    SchemeInfo {
        name: "huge",
        params: "std=10",
        formula: "N(0, std²)",
    },
    SchemeInfo {
        name: "normal",
        params: "mean=0, std=1",
        formula: "N(mean, std²)",
    },
    SchemeInfo {
        name: "uniform",
        params: "low=-1, high=1",
        formula: "U(low, high)",
    },
    SchemeInfo {
        name: "truncated-normal",
        params: "mean=0, std=0.05",
        formula: "N(mean, std²), redrawn outside mean ± 2·std",
    },
    SchemeInfo {
        name: "xavier-uniform",
        params: "gain=1|auto",
        formula: "U(±gain·√(6/(fan_in+fan_out)))",
    },
    SchemeInfo {
        name: "xavier-normal",
        params: "gain=1|auto",
        formula: "N(0, gain²·2/(fan_in+fan_out))",
    },
    SchemeInfo {
        name: "he-uniform",
        params: "mode=fan_in, slope=0",
        formula: "U(±√(6/((1+a²)·fan)))",
    },
    SchemeInfo {
        name: "he-normal",
        params: "mode=fan_in, slope=0",
        formula: "N(0, 2/((1+a²)·fan))",
    },
    SchemeInfo {
        name: "lecun-uniform",
        params: "",
        formula: "U(±√(3/fan_in))",
    },
    SchemeInfo {
        name: "lecun-normal",
        params: "",
        formula: "N(0, 1/fan_in)",
    },
    SchemeInfo {
        name: "variance-scaling",
        params: "scale=1, mode=fan_in, distribution=truncated-normal",
        formula: "Var = scale/fan (uniform, normal or truncated normal with std/0.8796)",
    },
    SchemeInfo {
        name: "orthogonal",
        params: "gain=1|auto",
        formula: "gain · Q, Q from the QR of a Gaussian matrix (signs of diag R fixed)",
    },
    SchemeInfo {
        name: "glorot-standard",
        params: "",
        formula: "U(±1/√fan_in)",
    },
    SchemeInfo {
        name: "pytorch-default",
        params: "",
        formula: "W, b ~ U(±1/√fan_in) (nn.Linear)",
    },
    SchemeInfo {
        name: "keras-default",
        params: "",
        formula: "U(±√(6/(fan_in+fan_out))), b = 0 (Dense)",
    },
    SchemeInfo {
        name: "lsuv",
        params: "tolerance=0.1, max_iterations=10",
        formula: "orthogonal, then W /= std(layer output on data) until Var ≈ 1",
    },
];

/// The valid scheme names, for error messages.
pub fn scheme_names() -> String {
    SCHEMES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl FanMode {
    fn fan(self, fan: Fan) -> f64 {
        match self {
            FanMode::FanIn => fan.fan_in as f64,
            FanMode::FanOut => fan.fan_out as f64,
            FanMode::FanAvg => (fan.fan_in + fan.fan_out) as f64 / 2.0,
        }
    }

    /// The name as users type it.
    pub fn name(self) -> &'static str {
        match self {
            FanMode::FanIn => "fan_in",
            FanMode::FanOut => "fan_out",
            FanMode::FanAvg => "fan_avg",
        }
    }
}

impl Distribution {
    /// The name as users type it.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::Normal => "normal",
            Distribution::TruncatedNormal => "truncated-normal",
        }
    }
}

/// An RNG for one layer's weights (`bias = false`) or bias (`bias = true`).
pub fn layer_rng(seed: u64, layer: usize, bias: bool) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(2 * layer as u64 + u64::from(bias));
    rng
}

/// A value on [-1, 1).
fn symmetric_uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    2.0 * rng.random::<f64>() - 1.0
}

fn truncated_standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let z: f64 = rng.sample(StandardNormal);
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

fn fill<R: Rng + ?Sized>(
    fan: Fan,
    rng: &mut R,
    mut draw: impl FnMut(&mut R) -> f64,
) -> Array2<f64> {
    Array2::from_shape_simple_fn((fan.fan_out, fan.fan_in), || draw(rng))
}

/// A (fan_out, fan_in) matrix with orthonormal rows (wide or square) or columns (tall).
///
/// Draws a Gaussian matrix, orthonormalizes the columns of its tall orientation with
/// modified Gram–Schmidt (applied twice for accuracy). Gram–Schmidt makes the diagonal of R
/// positive, which is exactly the sign fix `Q · sign(diag R)` that makes the result uniform
/// over orthogonal matrices (Mezzadri 2007).
pub fn orthogonal_matrix<R: Rng + ?Sized>(fan: Fan, rng: &mut R) -> Array2<f64> {
    let (rows, cols) = (fan.fan_out, fan.fan_in);
    let (tall_rows, tall_cols) = if rows >= cols {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let mut a = Array2::<f64>::zeros((tall_rows, tall_cols));
    for v in a.iter_mut() {
        *v = rng.sample(StandardNormal);
    }
    for _pass in 0..2 {
        for j in 0..tall_cols {
            for i in 0..j {
                let dot = a.column(i).dot(&a.column(j));
                let qi = a.column(i).to_owned();
                a.column_mut(j).scaled_add(-dot, &qi);
            }
            let norm = a.column(j).dot(&a.column(j)).sqrt();
            a.column_mut(j).mapv_inplace(|v| v / norm);
        }
    }
    if rows >= cols {
        a
    } else {
        a.reversed_axes().as_standard_layout().into_owned()
    }
}

impl Init {
    /// The scheme's name as users type it (a custom scheme's own name).
    pub fn name(&self) -> String {
        let n = match self {
            Init::Zeros => "zeros",
            Init::Constant { .. } => "constant",
            Init::Tiny { .. } => "tiny",
            Init::Huge { .. } => "huge",
            Init::Normal { .. } => "normal",
            Init::Uniform { .. } => "uniform",
            Init::TruncatedNormal { .. } => "truncated-normal",
            Init::XavierUniform { .. } => "xavier-uniform",
            Init::XavierNormal { .. } => "xavier-normal",
            Init::HeUniform { .. } => "he-uniform",
            Init::HeNormal { .. } => "he-normal",
            Init::LecunUniform => "lecun-uniform",
            Init::LecunNormal => "lecun-normal",
            Init::VarianceScaling { .. } => "variance-scaling",
            Init::Orthogonal { .. } => "orthogonal",
            Init::GlorotStandard => "glorot-standard",
            Init::PytorchDefault => "pytorch-default",
            Init::KerasDefault => "keras-default",
            Init::Lsuv { .. } => "lsuv",
            Init::Custom(c) => return c.name.clone(),
        };
        n.to_string()
    }

    /// The scheme's formula with its parameters filled in, for reports.
    pub fn formula(&self) -> String {
        let gain = |g: &Gain| match g {
            Gain::Value(v) => format!("{v}"),
            Gain::Auto => "gain(activation)".to_string(),
        };
        match self {
            Init::Zeros => "W = 0, b = 0".into(),
            Init::Constant { value } => format!("W = {value}"),
            Init::Tiny { std } | Init::Huge { std } => format!("W ~ N(0, {std}²)"),
            Init::Normal { mean, std } => format!("W ~ N({mean}, {std}²)"),
            Init::Uniform { low, high } => format!("W ~ U({low}, {high})"),
            Init::TruncatedNormal { mean, std } => {
                format!("W ~ N({mean}, {std}²) truncated at ±2·{std}")
            }
            Init::XavierUniform { gain: g } => {
                format!("W ~ U(±{}·√(6/(fan_in+fan_out)))", gain(g))
            }
            Init::XavierNormal { gain: g } => {
                format!("W ~ N(0, {}²·2/(fan_in+fan_out))", gain(g))
            }
            Init::HeUniform { mode, slope } => {
                format!("W ~ U(±√(6/((1+{slope}²)·{})))", mode.name())
            }
            Init::HeNormal { mode, slope } => {
                format!("W ~ N(0, 2/((1+{slope}²)·{}))", mode.name())
            }
            Init::LecunUniform => "W ~ U(±√(3/fan_in))".into(),
            Init::LecunNormal => "W ~ N(0, 1/fan_in)".into(),
            Init::VarianceScaling {
                scale,
                mode,
                distribution,
            } => format!(
                "Var(W) = {scale}/{}, {} distribution",
                mode.name(),
                distribution.name()
            ),
            Init::Orthogonal { gain: g } => format!("W = {}·Q, Q orthogonal", gain(g)),
            Init::GlorotStandard => "W ~ U(±1/√fan_in)".into(),
            Init::PytorchDefault => "W, b ~ U(±1/√fan_in)".into(),
            Init::KerasDefault => "W ~ U(±√(6/(fan_in+fan_out))), b = 0".into(),
            Init::Lsuv {
                tolerance,
                max_iterations,
            } => format!(
                "orthogonal, then W /= std(output) per layer until |Var − 1| < {tolerance} (≤ {max_iterations} steps)"
            ),
            Init::Custom(c) => c.formula.clone(),
        }
    }

    /// Which random numbers the scheme draws (see the module docs on common random numbers).
    pub fn family(&self) -> Family {
        match self {
            Init::Zeros | Init::Constant { .. } => Family::Deterministic,
            Init::Tiny { .. }
            | Init::Huge { .. }
            | Init::Normal { .. }
            | Init::XavierNormal { .. }
            | Init::HeNormal { .. }
            | Init::LecunNormal => Family::Normal,
            Init::Uniform { .. }
            | Init::XavierUniform { .. }
            | Init::HeUniform { .. }
            | Init::LecunUniform
            | Init::GlorotStandard
            | Init::PytorchDefault
            | Init::KerasDefault => Family::Uniform,
            Init::TruncatedNormal { .. } => Family::Truncated,
            Init::VarianceScaling { distribution, .. } => match distribution {
                Distribution::Uniform => Family::Uniform,
                Distribution::Normal => Family::Normal,
                Distribution::TruncatedNormal => Family::Truncated,
            },
            Init::Orthogonal { .. } | Init::Lsuv { .. } => Family::Orthogonal,
            Init::Custom(_) => Family::Custom,
        }
    }

    /// Whether the scheme needs a batch of data after sampling (LSUV).
    pub fn is_data_dependent(&self) -> bool {
        matches!(self, Init::Lsuv { .. })
    }

    /// Draws the `(fan_out, fan_in)` weight matrix of a layer followed by `activation`
    /// (the output layer counts as identity), in `f64`.
    pub fn sample_f64(
        &self,
        fan: Fan,
        activation: Activation,
        rng: &mut ChaCha8Rng,
    ) -> Array2<f64> {
        let fan_in = fan.fan_in as f64;
        let fan_out = fan.fan_out as f64;
        let normal = |rng: &mut ChaCha8Rng, mean: f64, std: f64| {
            fill(fan, rng, |r| {
                mean + std * r.sample::<f64, _>(StandardNormal)
            })
        };
        let uniform =
            |rng: &mut ChaCha8Rng, bound: f64| fill(fan, rng, |r| bound * symmetric_uniform(r));
        let truncated = |rng: &mut ChaCha8Rng, mean: f64, std: f64| {
            fill(fan, rng, |r| mean + std * truncated_standard_normal(r))
        };
        match self {
            Init::Zeros => Array2::zeros((fan.fan_out, fan.fan_in)),
            Init::Constant { value } => Array2::from_elem((fan.fan_out, fan.fan_in), *value),
            Init::Tiny { std } | Init::Huge { std } => normal(rng, 0.0, *std),
            Init::Normal { mean, std } => normal(rng, *mean, *std),
            Init::Uniform { low, high } => fill(fan, rng, |r| {
                low + (high - low) * (symmetric_uniform(r) + 1.0) / 2.0
            }),
            Init::TruncatedNormal { mean, std } => truncated(rng, *mean, *std),
            Init::XavierUniform { gain } => {
                let std = gain.resolve(activation) * (2.0 / (fan_in + fan_out)).sqrt();
                uniform(rng, 3f64.sqrt() * std)
            }
            Init::XavierNormal { gain } => {
                let std = gain.resolve(activation) * (2.0 / (fan_in + fan_out)).sqrt();
                normal(rng, 0.0, std)
            }
            Init::HeUniform { mode, slope } => {
                let std = (2.0 / ((1.0 + slope * slope) * mode.fan(fan))).sqrt();
                uniform(rng, 3f64.sqrt() * std)
            }
            Init::HeNormal { mode, slope } => {
                let std = (2.0 / ((1.0 + slope * slope) * mode.fan(fan))).sqrt();
                normal(rng, 0.0, std)
            }
            Init::LecunUniform => uniform(rng, (3.0 / fan_in).sqrt()),
            Init::LecunNormal => normal(rng, 0.0, (1.0 / fan_in).sqrt()),
            Init::VarianceScaling {
                scale,
                mode,
                distribution,
            } => {
                let std = (scale / mode.fan(fan)).sqrt();
                match distribution {
                    Distribution::Uniform => uniform(rng, 3f64.sqrt() * std),
                    Distribution::Normal => normal(rng, 0.0, std),
                    Distribution::TruncatedNormal => {
                        truncated(rng, 0.0, std / TRUNCATED_NORMAL_STD)
                    }
                }
            }
            Init::GlorotStandard | Init::PytorchDefault => uniform(rng, 1.0 / fan_in.sqrt()),
            Init::KerasDefault => uniform(rng, (6.0 / (fan_in + fan_out)).sqrt()),
            Init::Orthogonal { gain } => orthogonal_matrix(fan, rng) * gain.resolve(activation),
            Init::Lsuv { .. } => orthogonal_matrix(fan, rng),
            Init::Custom(c) => {
                let w = c.init.weights(fan, rng);
                assert_eq!(
                    w.dim(),
                    (fan.fan_out, fan.fan_in),
                    "custom initializer `{}` returned a {:?} matrix, expected (fan_out, fan_in) = {:?}",
                    c.name,
                    w.dim(),
                    (fan.fan_out, fan.fan_in)
                );
                w
            }
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

    /// The bias this scheme sets when the user does not choose one: U(±1/√fan_in) for
    /// `pytorch-default`, zeros otherwise.
    pub fn default_bias<T: Float>(&self, fan: Fan, rng: &mut ChaCha8Rng) -> Array1<T> {
        match self {
            Init::PytorchDefault => {
                let bound = 1.0 / (fan.fan_in as f64).sqrt();
                Array1::from_shape_simple_fn(fan.fan_out, || T::of(bound * symmetric_uniform(rng)))
            }
            _ => Array1::zeros(fan.fan_out),
        }
    }

    /// Draws a bias vector with this scheme used *as a bias* initializer: the layer's
    /// `(fan_out, 1)` column under the layer's fans.
    pub fn sample_bias<T: Float>(
        &self,
        fan: Fan,
        activation: Activation,
        rng: &mut ChaCha8Rng,
    ) -> Array1<T> {
        let column = self.sample_f64(fan, activation, rng);
        // Only the first column is used: the bias sees the same per-element distribution.
        column.column(0).mapv(T::of)
    }
}

// ---- TEMPORARY parser (replaced by the init branch) ----

/// A parameter value from TOML or the command line.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// A number.
    Number(f64),
    /// A word such as `auto` or `fan_out`.
    Text(String),
}

/// Builds a scheme from its name and parameters.
pub fn parse_init(name: &str, params: &[(String, ParamValue)]) -> Result<Init, String> {
    let num = |key: &str, default: f64| -> f64 {
        params
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| match v {
                ParamValue::Number(n) => Some(*n),
                _ => None,
            })
            .unwrap_or(default)
    };
    Ok(match name {
        "zeros" => Init::Zeros,
        "tiny" => Init::Tiny {
            std: num("std", 0.01),
        },
        "huge" => Init::Huge {
            std: num("std", 10.0),
        },
        "xavier-uniform" => Init::XavierUniform {
            gain: Gain::Value(num("gain", 1.0)),
        },
        "xavier-normal" => Init::XavierNormal {
            gain: Gain::Value(num("gain", 1.0)),
        },
        "he-uniform" => Init::HeUniform {
            mode: FanMode::FanIn,
            slope: num("slope", 0.0),
        },
        "he-normal" => Init::HeNormal {
            mode: FanMode::FanIn,
            slope: num("slope", 0.0),
        },
        "glorot-standard" => Init::GlorotStandard,
        "pytorch-default" => Init::PytorchDefault,
        "lecun-normal" => Init::LecunNormal,
        "orthogonal" => Init::Orthogonal {
            gain: Gain::Value(num("gain", 1.0)),
        },
        _ => {
            return Err(format!(
                "unknown init `{name}`; expected one of: {}",
                scheme_names()
            ));
        }
    })
}

impl std::str::FromStr for Init {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_init(s, &[])
    }
}

impl Init {
    /// The resolved parameters as (key, value) text.
    pub fn params(&self) -> Vec<(String, String)> {
        match self {
            Init::Tiny { std } | Init::Huge { std } => vec![("std".into(), std.to_string())],
            _ => vec![],
        }
    }
}
