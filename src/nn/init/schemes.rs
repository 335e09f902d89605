//! What the schemes are: the [`Init`] enum with each scheme's formula and source, the
//! catalogue [`SCHEMES`] (one row per scheme: name, parameters with their defaults, formulas,
//! constructor), the bias a scheme sets by default, and gains.

use std::fmt;
use std::sync::Arc;

use ndarray::{Array1, Array2};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Serialize, Serializer};

use super::formula::FormulaInit;
use super::parsing::{Kind, Param, Params, Rule, Value, Values, parse_init};
use super::sampling::layer_rng;
use crate::nn::activation::Activation;
use crate::nn::float::Float;

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

impl FanMode {
    /// The fan this mode divides by.
    pub(super) fn fan(self, fan: Fan) -> f64 {
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

/// A gain factor: a number, or `auto` = the gain of the layer's activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gain {
    /// A fixed gain.
    Value(f64),
    /// [`Activation::gain`] of the activation that follows the layer.
    Auto,
}

impl Gain {
    /// The gain for a layer followed by `activation`.
    pub(super) fn resolve(self, activation: Activation) -> f64 {
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

/// A weight initialization scheme: every start a PyTorch or Keras user can pick for a dense
/// layer, the ones the papers argue about, and the defaults frameworks apply silently.
///
/// Each variant's comment gives its rule and where it comes from. `fan` is `fan_in`,
/// `fan_out` or their mean as the scheme's `mode` says; its parameters, their defaults and
/// the keys users type are in [`SCHEMES`].
#[derive(Clone, Debug)]
pub enum Init {
    /// All weights 0: every hidden unit of a layer stays a clone of the others.
    Zeros,
    /// All weights equal `value`.
    Constant {
        /// The value.
        value: f64,
    },
    /// N(0, std²), std = 0.01 by default: the signal shrinks layer by layer
    /// (deeplearning.ai's "Initialization" exercise, weights × 0.01).
    Tiny {
        /// Standard deviation.
        std: f64,
    },
    /// N(0, std²), std = 10 by default: the signal explodes or saturates
    /// (deeplearning.ai's "Initialization" exercise, weights × 10).
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
    /// U(±gain·√(6/(fan_in+fan_out))), i.e. Var = gain²·2/(fan_in+fan_out) (Glorot &
    /// Bengio 2010).
    XavierUniform {
        /// Gain.
        gain: Gain,
    },
    /// N(0, gain²·2/(fan_in+fan_out)) (Glorot & Bengio 2010).
    XavierNormal {
        /// Gain.
        gain: Gain,
    },
    /// U(±√(6/((1+a²)·fan))), i.e. Var = 2/((1+a²)·fan) (He et al. 2015).
    HeUniform {
        /// Which fan.
        mode: FanMode,
        /// Negative slope a of the leaky ReLU that follows (0 for ReLU).
        slope: f64,
    },
    /// N(0, 2/((1+a²)·fan)) (He et al. 2015).
    HeNormal {
        /// Which fan.
        mode: FanMode,
        /// Negative slope a of the leaky ReLU that follows (0 for ReLU).
        slope: f64,
    },
    /// U(±√(3/fan_in)), i.e. Var = 1/fan_in (LeCun et al. 1998).
    LecunUniform,
    /// N(0, 1/fan_in) (LeCun et al. 1998).
    LecunNormal,
    /// Var = scale/fan, uniform, normal or truncated normal (Keras `VarianceScaling`).
    VarianceScaling {
        /// The variance numerator.
        scale: f64,
        /// Which fan.
        mode: FanMode,
        /// Which distribution.
        distribution: Distribution,
    },
    /// A (semi-)orthogonal matrix times gain: Q of a Gaussian matrix's QR with the signs
    /// fixed (Saxe et al. 2014).
    Orthogonal {
        /// Gain.
        gain: Gain,
    },
    /// U(±1/√fan_in), the "standard" start of Glorot & Bengio 2010.
    GlorotStandard,
    /// What PyTorch's `nn.Linear` does: weight and bias U(±1/√fan_in) (kaiming_uniform with
    /// a = √5; PyTorch issue #57109).
    PytorchDefault,
    /// What Keras' `Dense` does: glorot uniform weight, zero bias.
    KerasDefault,
    /// Layer-sequential unit-variance (Mishkin & Matas 2015): orthogonal, then each layer
    /// rescaled to unit output variance on a batch of training data. See
    /// [`crate::nn::mlp::Mlp::lsuv`].
    Lsuv {
        /// Stop when |Var(output) - 1| < tolerance.
        tolerance: f64,
        /// At most this many rescalings per layer.
        max_iterations: usize,
    },
    /// N(0, σ_w²/fan_in) weights and N(0, σ_b²) biases: the start parametrized the way
    /// mean-field theory is (Poole et al. 2016; Schoenholz et al. 2017). `sigma_w2 = 2`
    /// is He normal, `1` LeCun normal; see [`crate::theory`]. Uniform and truncated-normal
    /// weights of the same variance are available as for `variance-scaling`.
    MeanField {
        /// σ_w² = Var(w) · fan_in.
        sigma_w2: f64,
        /// σ_b² = Var(b) (the default bias; an explicit bias init replaces it).
        sigma_b2: f64,
        /// The distribution of the weights.
        distribution: Distribution,
    },
    /// A user-written scheme.
    Custom(CustomInit),
    /// A start written as a formula of the layer's fans, gain and position (see
    /// [`FormulaInit`]); drawn as the plain scheme of its distribution ([`Init::at_layer`]).
    Formula(FormulaInit),
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

/// One row of the scheme catalogue: everything about a scheme except how it draws (that is
/// its arm of the sampling rule in `sampling.rs`).
pub struct SchemeInfo {
    /// Name as users type it.
    pub name: &'static str,
    /// Parameters in canonical order, with their defaults; displays as `key=default, ...`.
    pub params: Params,
    /// The rule in one line, for `initlab list`.
    pub formula: &'static str,
    /// The rule for reports, `{key}` standing for the value of parameter `key`.
    pub(super) filled: &'static str,
    /// Builds the scheme from its checked parameters (defaults filled in).
    pub(super) build: fn(&Values) -> Result<Init, String>,
}

const GAIN: Param = Param::new("gain", "1", Kind::Gain);
const MODE: Param = Param::new("mode", "fan_in", Kind::Mode);
const SLOPE: Param = Param::new("slope", "0", Kind::Number(Rule::NonNegative));

/// Every built-in scheme: its name, parameters with defaults, formulas and constructor.
/// Adding a scheme means a variant of [`Init`], a row here, its arm in `Init::values` below
/// and its arm of the sampling rule.
pub const SCHEMES: &[SchemeInfo] = &[
    SchemeInfo {
        name: "zeros",
        params: Params(&[]),
        formula: "W = 0",
        filled: "W = 0, b = 0",
        build: |_| Ok(Init::Zeros),
    },
    SchemeInfo {
        name: "constant",
        params: Params(&[Param::new("value", "0", Kind::Number(Rule::Finite))]),
        formula: "W = value",
        filled: "W = {value}",
        build: |v| {
            Ok(Init::Constant {
                value: v.number("value"),
            })
        },
    },
    SchemeInfo {
        name: "tiny",
        params: Params(&[Param::new("std", "0.01", Kind::Number(Rule::Positive))]),
        formula: "N(0, std²)",
        filled: "W ~ N(0, {std}²)",
        build: |v| {
            Ok(Init::Tiny {
                std: v.number("std"),
            })
        },
    },
    SchemeInfo {
        name: "huge",
        params: Params(&[Param::new("std", "10", Kind::Number(Rule::Positive))]),
        formula: "N(0, std²)",
        filled: "W ~ N(0, {std}²)",
        build: |v| {
            Ok(Init::Huge {
                std: v.number("std"),
            })
        },
    },
    SchemeInfo {
        name: "normal",
        params: Params(&[
            Param::new("mean", "0", Kind::Number(Rule::Finite)),
            Param::new("std", "1", Kind::Number(Rule::Positive)),
        ]),
        formula: "N(mean, std²)",
        filled: "W ~ N({mean}, {std}²)",
        build: |v| {
            Ok(Init::Normal {
                mean: v.number("mean"),
                std: v.number("std"),
            })
        },
    },
    SchemeInfo {
        name: "uniform",
        params: Params(&[
            Param::new("low", "-1", Kind::Number(Rule::Finite)),
            Param::new("high", "1", Kind::Number(Rule::Finite)),
        ]),
        formula: "U(low, high)",
        filled: "W ~ U({low}, {high})",
        build: |v| {
            let (low, high) = (v.number("low"), v.number("high"));
            if low >= high {
                return Err(format!(
                    "init `uniform`: `low` must be < `high`, got low = {low}, high = {high}"
                ));
            }
            Ok(Init::Uniform { low, high })
        },
    },
    SchemeInfo {
        name: "truncated-normal",
        params: Params(&[
            Param::new("mean", "0", Kind::Number(Rule::Finite)),
            Param::new("std", "0.05", Kind::Number(Rule::Positive)),
        ]),
        formula: "N(mean, std²), redrawn outside mean ± 2·std",
        filled: "W ~ N({mean}, {std}²) truncated at ±2·{std}",
        build: |v| {
            Ok(Init::TruncatedNormal {
                mean: v.number("mean"),
                std: v.number("std"),
            })
        },
    },
    SchemeInfo {
        name: "xavier-uniform",
        params: Params(&[GAIN]),
        formula: "U(±gain·√(6/(fan_in+fan_out)))",
        filled: "W ~ U(±{gain}·√(6/(fan_in+fan_out)))",
        build: |v| Ok(Init::XavierUniform { gain: v.gain() }),
    },
    SchemeInfo {
        name: "xavier-normal",
        params: Params(&[GAIN]),
        formula: "N(0, gain²·2/(fan_in+fan_out))",
        filled: "W ~ N(0, {gain}²·2/(fan_in+fan_out))",
        build: |v| Ok(Init::XavierNormal { gain: v.gain() }),
    },
    SchemeInfo {
        name: "he-uniform",
        params: Params(&[MODE, SLOPE]),
        formula: "U(±√(6/((1+a²)·fan)))",
        filled: "W ~ U(±√(6/((1+{slope}²)·{mode})))",
        build: |v| {
            Ok(Init::HeUniform {
                mode: v.mode(),
                slope: v.number("slope"),
            })
        },
    },
    SchemeInfo {
        name: "he-normal",
        params: Params(&[MODE, SLOPE]),
        formula: "N(0, 2/((1+a²)·fan))",
        filled: "W ~ N(0, 2/((1+{slope}²)·{mode}))",
        build: |v| {
            Ok(Init::HeNormal {
                mode: v.mode(),
                slope: v.number("slope"),
            })
        },
    },
    SchemeInfo {
        name: "lecun-uniform",
        params: Params(&[]),
        formula: "U(±√(3/fan_in))",
        filled: "W ~ U(±√(3/fan_in))",
        build: |_| Ok(Init::LecunUniform),
    },
    SchemeInfo {
        name: "lecun-normal",
        params: Params(&[]),
        formula: "N(0, 1/fan_in)",
        filled: "W ~ N(0, 1/fan_in)",
        build: |_| Ok(Init::LecunNormal),
    },
    SchemeInfo {
        name: "variance-scaling",
        params: Params(&[
            Param::new("scale", "1", Kind::Number(Rule::Positive)),
            MODE,
            Param::new("distribution", "truncated-normal", Kind::Distribution),
        ]),
        formula: "Var = scale/fan (uniform, normal or truncated normal with std/0.8796)",
        filled: "Var(W) = {scale}/{mode}, {distribution} distribution",
        build: |v| {
            Ok(Init::VarianceScaling {
                scale: v.number("scale"),
                mode: v.mode(),
                distribution: v.distribution(),
            })
        },
    },
    SchemeInfo {
        name: "orthogonal",
        params: Params(&[GAIN]),
        formula: "gain · Q, Q from the QR of a Gaussian matrix (signs of diag R fixed)",
        filled: "W = {gain}·Q, Q orthogonal",
        build: |v| Ok(Init::Orthogonal { gain: v.gain() }),
    },
    SchemeInfo {
        name: "glorot-standard",
        params: Params(&[]),
        formula: "U(±1/√fan_in)",
        filled: "W ~ U(±1/√fan_in)",
        build: |_| Ok(Init::GlorotStandard),
    },
    SchemeInfo {
        name: "pytorch-default",
        params: Params(&[]),
        formula: "W, b ~ U(±1/√fan_in) (nn.Linear)",
        filled: "W, b ~ U(±1/√fan_in)",
        build: |_| Ok(Init::PytorchDefault),
    },
    SchemeInfo {
        name: "keras-default",
        params: Params(&[]),
        formula: "U(±√(6/(fan_in+fan_out))), b = 0 (Dense)",
        filled: "W ~ U(±√(6/(fan_in+fan_out))), b = 0",
        build: |_| Ok(Init::KerasDefault),
    },
    SchemeInfo {
        name: "lsuv",
        params: Params(&[
            Param::new("tolerance", "0.1", Kind::Number(Rule::Positive)),
            Param::new("max_iterations", "10", Kind::Count),
        ]),
        formula: "orthogonal, then W /= std(layer output on data) until Var ≈ 1",
        filled: "orthogonal, then W /= std(output) per layer until |Var − 1| < {tolerance} \
                 (≤ {max_iterations} steps)",
        build: |v| {
            Ok(Init::Lsuv {
                tolerance: v.number("tolerance"),
                max_iterations: v.count("max_iterations"),
            })
        },
    },
    SchemeInfo {
        name: "mean-field",
        params: Params(&[
            Param::new("sigma_w2", "1", Kind::Number(Rule::Positive)),
            Param::new("sigma_b2", "0", Kind::Number(Rule::NonNegative)),
            Param::new("distribution", "normal", Kind::Distribution),
        ]),
        formula: "Var(W) = sigma_w2/fan_in, b ~ N(0, sigma_b2) (mean-field theory's scales)",
        filled: "W with Var = {sigma_w2}/fan_in ({distribution}), b ~ N(0, {sigma_b2})",
        build: |v| {
            Ok(Init::MeanField {
                sigma_w2: v.number("sigma_w2"),
                sigma_b2: v.number("sigma_b2"),
                distribution: v.distribution(),
            })
        },
    },
];

/// The catalogue row of a scheme by its catalogue name.
pub(super) fn scheme_info(name: &str) -> Option<&'static SchemeInfo> {
    SCHEMES.iter().find(|s| s.name == name)
}

/// The valid scheme names, for error messages.
pub fn scheme_names() -> String {
    SCHEMES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parameter names a scheme (by catalogue name) accepts, in canonical order.
pub fn scheme_keys(name: &str) -> Vec<&'static str> {
    scheme_info(name)
        .map(|s| s.params.keys())
        .unwrap_or_default()
}

impl Init {
    /// The catalogue name and the parameter values in the order of its [`SCHEMES`] row;
    /// `None` for a custom scheme. The inverse of the row's constructor.
    fn values(&self) -> Option<(&'static str, Vec<Value>)> {
        use Value::{Count, Number};
        let (name, values) = match self {
            Init::Zeros => ("zeros", vec![]),
            Init::Constant { value } => ("constant", vec![Number(*value)]),
            Init::Tiny { std } => ("tiny", vec![Number(*std)]),
            Init::Huge { std } => ("huge", vec![Number(*std)]),
            Init::Normal { mean, std } => ("normal", vec![Number(*mean), Number(*std)]),
            Init::Uniform { low, high } => ("uniform", vec![Number(*low), Number(*high)]),
            Init::TruncatedNormal { mean, std } => {
                ("truncated-normal", vec![Number(*mean), Number(*std)])
            }
            Init::XavierUniform { gain } => ("xavier-uniform", vec![Value::Gain(*gain)]),
            Init::XavierNormal { gain } => ("xavier-normal", vec![Value::Gain(*gain)]),
            Init::HeUniform { mode, slope } => {
                ("he-uniform", vec![Value::Mode(*mode), Number(*slope)])
            }
            Init::HeNormal { mode, slope } => {
                ("he-normal", vec![Value::Mode(*mode), Number(*slope)])
            }
            Init::LecunUniform => ("lecun-uniform", vec![]),
            Init::LecunNormal => ("lecun-normal", vec![]),
            Init::VarianceScaling {
                scale,
                mode,
                distribution,
            } => (
                "variance-scaling",
                vec![
                    Number(*scale),
                    Value::Mode(*mode),
                    Value::Distribution(*distribution),
                ],
            ),
            Init::Orthogonal { gain } => ("orthogonal", vec![Value::Gain(*gain)]),
            Init::GlorotStandard => ("glorot-standard", vec![]),
            Init::PytorchDefault => ("pytorch-default", vec![]),
            Init::KerasDefault => ("keras-default", vec![]),
            Init::Lsuv {
                tolerance,
                max_iterations,
            } => ("lsuv", vec![Number(*tolerance), Count(*max_iterations)]),
            Init::MeanField {
                sigma_w2,
                sigma_b2,
                distribution,
            } => (
                "mean-field",
                vec![
                    Number(*sigma_w2),
                    Number(*sigma_b2),
                    Value::Distribution(*distribution),
                ],
            ),
            Init::Custom(_) | Init::Formula(_) => return None,
        };
        Some((name, values))
    }

    /// The scheme's catalogue row with its parameter values, for built-in schemes.
    fn row(&self) -> Option<(&'static SchemeInfo, Vec<Value>)> {
        let (name, values) = self.values()?;
        let row = scheme_info(name).expect("every built-in scheme has a catalogue row");
        Some((row, values))
    }

    /// The scheme's name as users type it (a custom scheme's own name).
    pub fn name(&self) -> String {
        match self {
            Init::Custom(c) => c.name.clone(),
            Init::Formula(_) => "formula".into(),
            _ => self
                .row()
                .map(|(row, _)| row.name)
                .unwrap_or_default()
                .into(),
        }
    }

    /// The scheme's formula with its parameters filled in, for reports.
    pub fn formula(&self) -> String {
        let Some((row, values)) = self.row() else {
            return match self {
                Init::Custom(c) => c.formula.clone(),
                Init::Formula(f) => f.describe(),
                _ => String::new(),
            };
        };
        let mut formula = row.filled.to_string();
        for (key, value) in row.params.keys().into_iter().zip(values) {
            let text = match value {
                Value::Gain(Gain::Auto) => "gain(activation)".to_string(),
                v => v.to_string(),
            };
            formula = formula.replace(&format!("{{{key}}}"), &text);
        }
        formula
    }

    /// Whether the scheme needs a batch of data after sampling (LSUV).
    pub fn is_data_dependent(&self) -> bool {
        matches!(self, Init::Lsuv { .. })
    }

    /// The resolved parameters, in canonical order, as `(key, value)` text: what a resolved
    /// config should record. `parse_init(name, params)` gives the scheme back. Custom
    /// schemes have none.
    pub fn params(&self) -> Vec<(String, String)> {
        if let Init::Formula(f) = self {
            return f.params();
        }
        let Some((row, values)) = self.row() else {
            return vec![];
        };
        row.params
            .keys()
            .into_iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), v.to_string()))
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
            Init::Custom(_) | Init::Formula(_) => vec![],
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

    /// The bias this scheme sets when the user does not choose one: U(±1/√fan_in) for
    /// `pytorch-default` (as `nn.Linear`), N(0, σ_b²) for `mean-field` with σ_b² > 0,
    /// zeros otherwise (as Keras and the papers).
    pub fn default_bias<T: Float>(&self, fan: Fan, rng: &mut ChaCha8Rng) -> Array1<T> {
        match self {
            Init::PytorchDefault => self.elementwise_bias(fan, Activation::Identity, rng),
            Init::MeanField { sigma_b2, .. } if *sigma_b2 > 0.0 => {
                super::sampling::normal_vector(fan.fan_out, sigma_b2.sqrt(), rng)
            }
            _ => Array1::zeros(fan.fan_out),
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
