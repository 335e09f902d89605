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
use std::str::FromStr;
use std::sync::Arc;

use ndarray::{Array1, Array2, Axis};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

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

impl CustomInit {
    /// A named custom scheme; `formula` is a one-line description for reports.
    pub fn new(
        name: impl Into<String>,
        formula: impl Into<String>,
        init: impl Initializer + 'static,
    ) -> Self {
        CustomInit {
            name: name.into(),
            formula: formula.into(),
            init: Arc::new(init),
        }
    }

    /// Calls the initializer and checks what it returned: a `(fan_out, fan_in)` matrix of
    /// finite numbers.
    pub fn draw(&self, fan: Fan, rng: &mut dyn RngCore) -> Result<Array2<f64>, String> {
        let w = self.init.weights(fan, rng);
        let expected = (fan.fan_out, fan.fan_in);
        if w.dim() != expected {
            return Err(format!(
                "custom initializer `{}` returned a {:?} matrix for a layer with fan_in = {} and \
                 fan_out = {}; it must return (fan_out, fan_in) = {expected:?} \
                 (weights are (out, in), as in PyTorch)",
                self.name,
                w.dim(),
                fan.fan_in,
                fan.fan_out,
            ));
        }
        if let Some((index, v)) = w.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(format!(
                "custom initializer `{}` returned the non-finite value {v} at {index:?} \
                 for a layer with fan_in = {} and fan_out = {}",
                self.name, fan.fan_in, fan.fan_out
            ));
        }
        Ok(w)
    }

    /// Checks the initializer once for every layer shape (`layer_rng(0, l, false)` for
    /// layer `l`), so that a runner can report a broken scheme before training starts.
    pub fn validate(&self, fans: &[Fan]) -> Result<(), String> {
        for (l, &fan) in fans.iter().enumerate() {
            self.draw(fan, &mut layer_rng(0, l, false))?;
        }
        Ok(())
    }
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
            Init::Orthogonal { .. } | Init::Lsuv { .. } | Init::Custom(_) => return None,
        };
        Some(Affine {
            family,
            offset,
            scale,
        })
    }

    /// Draws the `(fan_out, fan_in)` weight matrix of a layer followed by `activation`
    /// (the output layer counts as identity), in `f64`.
    ///
    /// # Panics
    /// If a custom initializer returns a matrix of the wrong shape or a non-finite value
    /// (a programming error in that initializer; [`CustomInit::validate`] and
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

    /// The bias this scheme sets when the user does not choose one: U(±1/√fan_in) for
    /// `pytorch-default` (as `nn.Linear`), zeros otherwise (as Keras and the papers).
    pub fn default_bias<T: Float>(&self, fan: Fan, rng: &mut ChaCha8Rng) -> Array1<T> {
        match self {
            Init::PytorchDefault => {
                let rule = self
                    .affine(fan, Activation::Identity)
                    .expect("pytorch-default is element-wise");
                Array1::from_shape_simple_fn(fan.fan_out, || T::of(rule.draw(rng)))
            }
            _ => Array1::zeros(fan.fan_out),
        }
    }

    /// Draws a bias vector (`fan_out` values) with this scheme used *as a bias*
    /// initializer.
    ///
    /// Element-wise schemes draw each value as they would draw a weight of the layer (same
    /// fans, same scale). `pytorch-default` and `keras-default` give what those frameworks
    /// give a bias (U(±1/√fan_in) and zeros). `orthogonal` gives a random unit vector times
    /// the gain, `lsuv` zeros ([`parse_bias_init`] rejects both: they are matrix schemes).
    /// A custom scheme's bias is the first column of the matrix it returns.
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
            _ => {
                let rule = self
                    .affine(fan, activation)
                    .expect("the other schemes are element-wise");
                Array1::from_shape_simple_fn(fan.fan_out, || T::of(rule.draw(rng)))
            }
        }
    }
}

impl PartialEq for Init {
    /// Built-in schemes are equal when their names and parameters are; custom schemes when
    /// they share the name and the same initializer object.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Init::Custom(a), Init::Custom(b)) => a.name == b.name && Arc::ptr_eq(&a.init, &b.init),
            (Init::Custom(_), _) | (_, Init::Custom(_)) => false,
            _ => self.name() == other.name() && self.params() == other.params(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parsing: from TOML (a name and a table of parameters) and the command line
// (`name:key=value:key=value`).
// ---------------------------------------------------------------------------------------

/// A parameter value as it comes from a TOML table or the command line.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// A number (TOML integers and floats alike).
    Number(f64),
    /// Anything else: `auto`, `fan_out`, `normal`, ...
    Text(String),
}

impl ParamValue {
    /// Reads a command-line value: a number if it parses as one, text otherwise.
    pub fn parse(s: &str) -> ParamValue {
        let t = s.trim();
        t.parse::<f64>()
            .map(ParamValue::Number)
            .unwrap_or_else(|_| ParamValue::Text(t.to_string()))
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Number(v) => write!(f, "{v}"),
            ParamValue::Text(t) => f.write_str(t),
        }
    }
}

/// Other names users type for a scheme (after lower-casing and `_` → `-`).
pub const SCHEME_ALIASES: &[(&str, &str)] = &[
    ("zero", "zeros"),
    ("glorot-uniform", "xavier-uniform"),
    ("glorot-normal", "xavier-normal"),
    ("kaiming-uniform", "he-uniform"),
    ("kaiming-normal", "he-normal"),
    ("truncated", "truncated-normal"),
    ("pytorch", "pytorch-default"),
    ("keras", "keras-default"),
];

/// The catalogue name of a scheme typed as `name` (case-insensitive, `_` or `-`, aliases
/// from [`SCHEME_ALIASES`]), or `None` if there is no such scheme.
pub fn canonical_scheme_name(name: &str) -> Option<&'static str> {
    let n = name.trim().to_ascii_lowercase().replace('_', "-");
    SCHEMES
        .iter()
        .map(|s| s.name)
        .find(|s| *s == n)
        .or_else(|| {
            SCHEME_ALIASES
                .iter()
                .find(|(alias, _)| *alias == n)
                .map(|(_, c)| *c)
        })
}

/// The parameter names a scheme (by catalogue name) accepts, in canonical order.
pub fn scheme_keys(name: &str) -> &'static [&'static str] {
    match name {
        "constant" => &["value"],
        "tiny" | "huge" => &["std"],
        "normal" | "truncated-normal" => &["mean", "std"],
        "uniform" => &["low", "high"],
        "xavier-uniform" | "xavier-normal" | "orthogonal" => &["gain"],
        "he-uniform" | "he-normal" => &["mode", "slope"],
        "variance-scaling" => &["scale", "mode", "distribution"],
        "lsuv" => &["tolerance", "max_iterations"],
        _ => &[],
    }
}

/// A constraint on a numeric parameter.
#[derive(Clone, Copy)]
enum Rule {
    Finite,
    Positive,
    NonNegative,
}

impl Rule {
    fn holds(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Rule::Finite => true,
                Rule::Positive => v > 0.0,
                Rule::NonNegative => v >= 0.0,
            }
    }

    fn describe(self) -> &'static str {
        match self {
            Rule::Finite => "a finite number",
            Rule::Positive => "a finite number > 0",
            Rule::NonNegative => "a finite number ≥ 0",
        }
    }
}

/// The parameters given for one scheme, checked against the keys it accepts.
struct Args<'a> {
    scheme: &'static str,
    values: Vec<(&'static str, &'a ParamValue)>,
}

impl<'a> Args<'a> {
    fn new(scheme: &'static str, params: &'a [(String, ParamValue)]) -> Result<Self, String> {
        let keys = scheme_keys(scheme);
        let mut values: Vec<(&'static str, &'a ParamValue)> = Vec::new();
        for (key, value) in params {
            let k = key.trim().to_ascii_lowercase().replace('-', "_");
            let k = match k.as_str() {
                "a" | "negative_slope" => "slope".to_string(),
                "stddev" => "std".to_string(),
                _ => k,
            };
            let Some(&found) = keys.iter().find(|&&valid| valid == k) else {
                return Err(if keys.is_empty() {
                    format!("init `{scheme}` takes no parameters (got `{key}`)")
                } else {
                    format!(
                        "init `{scheme}` has no parameter `{key}`; its parameters are: {}",
                        keys.join(", ")
                    )
                });
            };
            if values.iter().any(|(k, _)| *k == found) {
                return Err(format!(
                    "init `{scheme}`: parameter `{found}` is given twice"
                ));
            }
            values.push((found, value));
        }
        Ok(Args { scheme, values })
    }

    fn get(&self, key: &str) -> Option<&'a ParamValue> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn number(&self, key: &str, default: f64, rule: Rule) -> Result<f64, String> {
        let scheme = self.scheme;
        let v = match self.get(key) {
            None => return Ok(default),
            Some(ParamValue::Number(v)) => *v,
            Some(ParamValue::Text(t)) => t.trim().parse::<f64>().map_err(|_| {
                format!(
                    "init `{scheme}`: `{key}` must be {}, got `{t}`",
                    rule.describe()
                )
            })?,
        };
        if rule.holds(v) {
            Ok(v)
        } else {
            Err(format!(
                "init `{scheme}`: `{key}` must be {}, got {v}",
                rule.describe()
            ))
        }
    }

    fn count(&self, key: &str, default: usize) -> Result<usize, String> {
        let whole = |e: String| e.replace("a finite number", "a whole number ≥ 1");
        let v = self
            .number(key, default as f64, Rule::Finite)
            .map_err(whole)?;
        if v.fract() != 0.0 || !(1.0..=1e9).contains(&v) {
            return Err(format!(
                "init `{}`: `{key}` must be a whole number ≥ 1, got {v}",
                self.scheme
            ));
        }
        Ok(v as usize)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|v| v.to_string().trim().to_ascii_lowercase())
    }

    fn gain(&self) -> Result<Gain, String> {
        match self.text("gain").as_deref() {
            Some("auto") => Ok(Gain::Auto),
            _ => self
                .number("gain", 1.0, Rule::Positive)
                .map(Gain::Value)
                .map_err(|e| format!("{e} (or `auto` for the activation's gain)")),
        }
    }

    fn mode(&self, default: FanMode) -> Result<FanMode, String> {
        let Some(t) = self.text("mode") else {
            return Ok(default);
        };
        match t.replace('-', "_").as_str() {
            "fan_in" | "fanin" => Ok(FanMode::FanIn),
            "fan_out" | "fanout" => Ok(FanMode::FanOut),
            "fan_avg" | "fanavg" => Ok(FanMode::FanAvg),
            _ => Err(format!(
                "init `{}`: `mode` must be one of fan_in, fan_out, fan_avg, got `{t}`",
                self.scheme
            )),
        }
    }

    fn distribution(&self, default: Distribution) -> Result<Distribution, String> {
        let Some(t) = self.text("distribution") else {
            return Ok(default);
        };
        match t.replace('_', "-").as_str() {
            "uniform" => Ok(Distribution::Uniform),
            "normal" | "untruncated-normal" => Ok(Distribution::Normal),
            "truncated-normal" | "truncated" => Ok(Distribution::TruncatedNormal),
            _ => Err(format!(
                "init `{}`: `distribution` must be one of uniform, normal, truncated-normal, got `{t}`",
                self.scheme
            )),
        }
    }
}

/// Builds a scheme from its name and parameters (as given in a TOML table or on the
/// command line), with the defaults of [`SCHEMES`] for parameters not given.
///
/// Names are case-insensitive, `_` and `-` are interchangeable and [`SCHEME_ALIASES`] are
/// accepted. Errors name the scheme and the bad key or value and list what is valid.
///
/// ```
/// use initlab::nn::init::{parse_init, FanMode, Init, ParamValue};
/// let he = parse_init("he-normal", &[("mode".into(), ParamValue::Text("fan_out".into()))]).unwrap();
/// assert_eq!(he, Init::HeNormal { mode: FanMode::FanOut, slope: 0.0 });
/// assert!(parse_init("hee-normal", &[]).unwrap_err().contains("xavier-uniform"));
/// ```
pub fn parse_init(name: &str, params: &[(String, ParamValue)]) -> Result<Init, String> {
    let scheme = canonical_scheme_name(name).ok_or_else(|| {
        format!(
            "unknown init scheme `{}`; expected one of: {}",
            name.trim(),
            scheme_names()
        )
    })?;
    let a = Args::new(scheme, params)?;
    let init = match scheme {
        "zeros" => Init::Zeros,
        "constant" => Init::Constant {
            value: a.number("value", 0.0, Rule::Finite)?,
        },
        "tiny" => Init::Tiny {
            std: a.number("std", 0.01, Rule::Positive)?,
        },
        "huge" => Init::Huge {
            std: a.number("std", 10.0, Rule::Positive)?,
        },
        "normal" => Init::Normal {
            mean: a.number("mean", 0.0, Rule::Finite)?,
            std: a.number("std", 1.0, Rule::Positive)?,
        },
        "uniform" => {
            let low = a.number("low", -1.0, Rule::Finite)?;
            let high = a.number("high", 1.0, Rule::Finite)?;
            if low >= high {
                return Err(format!(
                    "init `uniform`: `low` must be < `high`, got low = {low}, high = {high}"
                ));
            }
            Init::Uniform { low, high }
        }
        "truncated-normal" => Init::TruncatedNormal {
            mean: a.number("mean", 0.0, Rule::Finite)?,
            std: a.number("std", 0.05, Rule::Positive)?,
        },
        "xavier-uniform" => Init::XavierUniform { gain: a.gain()? },
        "xavier-normal" => Init::XavierNormal { gain: a.gain()? },
        "he-uniform" => Init::HeUniform {
            mode: a.mode(FanMode::FanIn)?,
            slope: a.number("slope", 0.0, Rule::NonNegative)?,
        },
        "he-normal" => Init::HeNormal {
            mode: a.mode(FanMode::FanIn)?,
            slope: a.number("slope", 0.0, Rule::NonNegative)?,
        },
        "lecun-uniform" => Init::LecunUniform,
        "lecun-normal" => Init::LecunNormal,
        "variance-scaling" => Init::VarianceScaling {
            scale: a.number("scale", 1.0, Rule::Positive)?,
            mode: a.mode(FanMode::FanIn)?,
            distribution: a.distribution(Distribution::TruncatedNormal)?,
        },
        "orthogonal" => Init::Orthogonal { gain: a.gain()? },
        "glorot-standard" => Init::GlorotStandard,
        "pytorch-default" => Init::PytorchDefault,
        "keras-default" => Init::KerasDefault,
        "lsuv" => Init::Lsuv {
            tolerance: a.number("tolerance", 0.1, Rule::Positive)?,
            max_iterations: a.count("max_iterations", 10)?,
        },
        other => unreachable!("scheme `{other}` is in SCHEMES but has no parser"),
    };
    Ok(init)
}

/// Schemes that draw a matrix as a whole and cannot initialize a bias vector.
const MATRIX_ONLY: &[&str] = &["orthogonal", "lsuv"];

/// Builds a *bias* initializer: the same names and parameters as [`parse_init`], except the
/// matrix schemes (`orthogonal`, `lsuv`). See [`Init::sample_bias`] for what each does to
/// a bias (`pytorch-default` → U(±1/√fan_in), `keras-default` → zeros).
pub fn parse_bias_init(name: &str, params: &[(String, ParamValue)]) -> Result<Init, String> {
    let init = parse_init(name, params)?;
    if MATRIX_ONLY.contains(&init.name().as_str()) {
        let valid: Vec<&str> = SCHEMES
            .iter()
            .map(|s| s.name)
            .filter(|n| !MATRIX_ONLY.contains(n))
            .collect();
        return Err(format!(
            "init `{}` draws a whole matrix and cannot initialize a bias; bias inits: {}",
            init.name(),
            valid.join(", ")
        ));
    }
    Ok(init)
}

/// Splits the command-line form `name:key=value:key=value` into a name and parameters.
pub fn split_init_spec(spec: &str) -> Result<(String, Vec<(String, ParamValue)>), String> {
    let mut parts = spec.split(':');
    let name = parts.next().unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return Err(format!(
            "empty init name in `{spec}`; expected NAME or NAME:key=value (one of: {})",
            scheme_names()
        ));
    }
    let mut params = Vec::new();
    for part in parts {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!(
                "in init `{spec}`: expected key=value after `:`, got `{part}` \
                 (e.g. he-normal:mode=fan_out:slope=0.1)"
            ));
        };
        if key.trim().is_empty() || value.trim().is_empty() {
            return Err(format!(
                "in init `{spec}`: expected key=value after `:`, got `{part}`"
            ));
        }
        params.push((key.trim().to_string(), ParamValue::parse(value)));
    }
    Ok((name, params))
}

impl FromStr for Init {
    type Err = String;

    /// Parses `name` or `name:key=value:key=value`, e.g. `huge:std=5`,
    /// `he-normal:mode=fan_out:slope=0.1`, `xavier-uniform:gain=auto`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, params) = split_init_spec(s)?;
        parse_init(&name, &params)
    }
}

fn number_text(v: f64) -> String {
    format!("{v}")
}

impl Init {
    /// The resolved parameters, in canonical order, as `(key, value)` text: what a resolved
    /// config should record. `parse_init(name, params)` gives the scheme back. Custom
    /// schemes have none.
    pub fn params(&self) -> Vec<(String, String)> {
        let gain = |g: &Gain| match g {
            Gain::Value(v) => number_text(*v),
            Gain::Auto => "auto".to_string(),
        };
        let values: Vec<String> = match self {
            Init::Zeros
            | Init::LecunUniform
            | Init::LecunNormal
            | Init::GlorotStandard
            | Init::PytorchDefault
            | Init::KerasDefault
            | Init::Custom(_) => vec![],
            Init::Constant { value } => vec![number_text(*value)],
            Init::Tiny { std } | Init::Huge { std } => vec![number_text(*std)],
            Init::Normal { mean, std } | Init::TruncatedNormal { mean, std } => {
                vec![number_text(*mean), number_text(*std)]
            }
            Init::Uniform { low, high } => vec![number_text(*low), number_text(*high)],
            Init::XavierUniform { gain: g }
            | Init::XavierNormal { gain: g }
            | Init::Orthogonal { gain: g } => vec![gain(g)],
            Init::HeUniform { mode, slope } | Init::HeNormal { mode, slope } => {
                vec![mode.name().to_string(), number_text(*slope)]
            }
            Init::VarianceScaling {
                scale,
                mode,
                distribution,
            } => vec![
                number_text(*scale),
                mode.name().to_string(),
                distribution.name().to_string(),
            ],
            Init::Lsuv {
                tolerance,
                max_iterations,
            } => vec![number_text(*tolerance), max_iterations.to_string()],
        };
        let name = self.name();
        scheme_keys(&name)
            .iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    /// The full command-line form with every parameter, e.g. `he-normal:mode=fan_in:slope=0`.
    pub fn spec(&self) -> String {
        self.spec_of(self.params())
    }

    /// A short label: the name plus the parameters that differ from the defaults, e.g.
    /// `he-normal:mode=fan_out` or `xavier-normal`. Parses back to the same scheme.
    pub fn label(&self) -> String {
        let defaults = match self {
            Init::Custom(_) => vec![],
            _ => parse_init(&self.name(), &[])
                .map(|d| d.params())
                .unwrap_or_default(),
        };
        let changed = self
            .params()
            .into_iter()
            .filter(|p| !defaults.contains(p))
            .collect();
        self.spec_of(changed)
    }

    fn spec_of(&self, params: Vec<(String, String)>) -> String {
        let mut s = self.name();
        for (k, v) in params {
            s.push(':');
            s.push_str(&k);
            s.push('=');
            s.push_str(&v);
        }
        s
    }
}

impl fmt::Display for Init {
    /// Writes [`Init::label`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for Init {
    /// Serializes as the full command-line form ([`Init::spec`]), every parameter resolved.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.spec())
    }
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ParamValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
                Ok(ParamValue::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue::Number(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue::Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue::Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Init {
    /// Accepts a string (`"he-normal"`, `"he-normal:mode=fan_out"`) or a table with a
    /// `name` and the parameters (`{ name = "he-normal", mode = "fan_out" }`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Init;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an init such as \"he-normal\" or \"he-normal:mode=fan_out\", or a table \
                     { name = \"he-normal\", mode = \"fan_out\" }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Init, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Init, A::Error> {
                let mut name: Option<String> = None;
                let mut params = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "name" || key == "scheme" {
                        name = Some(map.next_value()?);
                    } else {
                        params.push((key, map.next_value::<ParamValue>()?));
                    }
                }
                let name = name.ok_or_else(|| {
                    de::Error::custom(format!(
                        "an init table needs `name` (one of: {})",
                        scheme_names()
                    ))
                })?;
                parse_init(&name, &params).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}
