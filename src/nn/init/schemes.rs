//! What a start is: the [`Init`] value (a row of the catalogue with its parameter values, a
//! formula, or a user's own initializer), the shape of a catalogue row ([`SchemeInfo`]: how it
//! draws, what bias it sets, what it does to norm layers and residual scales) and the
//! questions every part of initlab asks a start (name, formula, parameters, family).
//! The rows themselves are in `catalogue.rs`.

use std::fmt;
use std::sync::Arc;

use ndarray::{Array1, Array2};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use serde::{Serialize, Serializer};

use super::catalogue::SCHEMES;
use super::formula::FormulaInit;
use super::parsing::{Kind, Param, Params, Rule, Value, Values, parse_init};
use super::placed::LayerPlace;
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

/// A start: a row of the catalogue [`SCHEMES`] with its parameter values, a formula start,
/// or a user-written initializer.
///
/// Build one by name, as users do: `"he-normal:mode=fan_out".parse::<Init>()` or
/// [`super::parse_init`]; every built-in start's rule, parameters and source are in its row.
#[derive(Clone, Debug)]
pub enum Init {
    /// A built-in start: its catalogue row and its checked parameters.
    Scheme(Scheme),
    /// A user-written scheme.
    Custom(CustomInit),
    /// A start written as a formula of the layer's fans, gain and position (see
    /// [`FormulaInit`]); drawn as the plain scheme of its distribution ([`Init::at_layer`]).
    Formula(FormulaInit),
}

/// A built-in start: a catalogue row and its parameter values (defaults filled in).
#[derive(Clone, Debug, PartialEq)]
pub struct Scheme {
    pub(super) row: &'static SchemeInfo,
    pub(super) values: Values,
}

impl Scheme {
    /// The start's catalogue row.
    pub fn row(&self) -> &'static SchemeInfo {
        self.row
    }
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

/// An element-wise rule resolved for one layer: every weight is
/// `offset + scale · base draw of the family` (a constant `offset` for the deterministic
/// family). Every start of one family scales the same base draws: that is what makes the
/// common random numbers exact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    /// Which base draws.
    pub family: Family,
    /// Added to every weight.
    pub offset: f64,
    /// Multiplies every base draw.
    pub scale: f64,
}

impl Affine {
    /// Every weight `value`, nothing drawn.
    pub const fn constant(value: f64) -> Affine {
        Affine {
            family: Family::Deterministic,
            offset: value,
            scale: 0.0,
        }
    }

    /// Zero-mean weights of the family, `scale ·` its base draw.
    pub const fn centred(family: Family, scale: f64) -> Affine {
        Affine {
            family,
            offset: 0.0,
            scale,
        }
    }
}

/// How a start's row sets a layer's weight matrix.
#[derive(Clone, Copy)]
pub(super) enum Weights {
    /// Element-wise: the rule for a layer of these fans followed by this activation.
    Elementwise(fn(&Values, Fan, Activation) -> Affine),
    /// A whole matrix at once (orthogonal, ZerO): the base draws it uses, the draw, and the
    /// mean and variance of one weight if the start has a formula for them.
    Matrix {
        /// Which random numbers it consumes.
        family: Family,
        /// The `(fan_out, fan_in)` matrix, in `f64`.
        draw: fn(&Values, Fan, Activation, &mut ChaCha8Rng) -> Array2<f64>,
        /// Mean and variance of one weight, `None` if the start has no such formula.
        moments: fn(&Values, Fan, Activation) -> Option<(f64, f64)>,
    },
    /// By the layer's place in the network (Fixup, ReZero, critical): the start resolves to
    /// another start for each layer ([`Init::at_layer`]), whose numbers it then draws.
    Placed(fn(&Values, &LayerPlace) -> Result<Init, String>),
}

/// The bias a start sets when the user does not choose one.
#[derive(Clone, Copy)]
pub(super) enum DefaultBias {
    /// Zeros (Keras and the papers).
    Zeros,
    /// Drawn value by value as the layer's weights are (PyTorch's `nn.Linear`), with this
    /// variance per value.
    LikeWeights(fn(&Values, Fan) -> f64),
    /// N(0, σ_b²), σ_b² from the parameters (zeros, drawing nothing, when σ_b² = 0).
    Normal(fn(&Values) -> f64),
}

/// What a start does when it is named as a *bias* initializer (`bias = "..."`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AsBias {
    /// Draws each value as it draws a weight of the layer.
    LikeWeights,
    /// Gives the bias it sets by default (a framework's default, LSUV's zeros).
    Default,
    /// Cannot: it draws whole matrices or by place ([`super::check_bias_init`]).
    Refused,
}

/// What a start learns after drawing, before training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterDraw {
    /// Nothing: the draw is the start.
    Nothing,
    /// LSUV's layer-by-layer rescaling on a batch of training data.
    Lsuv,
    /// GradInit's per-tensor scales, learned on training data.
    GradInit,
    /// MetaInit's per-matrix norms, learned on random data.
    MetaInit,
}

/// What a learned start does after drawing, with its settings ([`Init::learning`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Learning {
    /// LSUV ([`crate::nn::Mlp::lsuv`], [`crate::nn::Network::lsuv`]).
    Lsuv {
        /// |Var − 1| to reach.
        tolerance: f64,
        /// Rescalings per layer at most.
        max_iterations: usize,
    },
    /// GradInit ([`super::GradInit::learn`]).
    GradInit(super::GradInit),
    /// MetaInit ([`super::MetaInit::learn`]).
    MetaInit(super::MetaInit),
}

/// The value a start gives each residual block's scale α.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AlphaStart {
    /// As the network was configured (`alpha`, `alpha_learnable`; by default 1, fixed).
    AsConfigured,
    /// A learnable α starting at this value, whatever the network configured (ReZero,
    /// SkipInit).
    Learnable(f64),
}

/// What a network must have for a start to make sense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Any network.
    Nothing,
    /// At least one residual block (Fixup, ReZero).
    Residual,
    /// Residual blocks and no BatchNorm or LayerNorm (SkipInit, which replaces them).
    ResidualWithoutNorm,
}

/// What a start does to the parameters that are not dense weights and biases.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OtherParams {
    /// Every norm layer's gain γ.
    pub norm_gain: f64,
    /// Every norm layer's shift β.
    pub norm_shift: f64,
    /// Every residual block's α.
    pub alpha: AlphaStart,
    /// What the network must have.
    pub needs: Needs,
}

impl OtherParams {
    /// What PyTorch does and most starts keep: γ = 1, β = 0, α as configured.
    pub const DEFAULT: OtherParams = OtherParams {
        norm_gain: 1.0,
        norm_shift: 0.0,
        alpha: AlphaStart::AsConfigured,
        needs: Needs::Nothing,
    };
}

/// One row of the start catalogue: everything about a start.
pub struct SchemeInfo {
    /// Name as users type it.
    pub name: &'static str,
    /// Parameters in canonical order, with their defaults; displays as `key=default, ...`.
    pub params: Params,
    /// The rule in one line, for `initlab list`.
    pub formula: &'static str,
    /// The rule for reports, `{key}` standing for the value of parameter `key`.
    pub(super) filled: &'static str,
    /// Where it comes from (paper or framework), for `initlab list`.
    pub source: &'static str,
    /// Checks between parameters beyond each one's own rule (e.g. `low < high`).
    pub(super) check: fn(&Values) -> Result<(), String>,
    /// How it sets a weight matrix.
    pub(super) weights: Weights,
    /// The bias it sets by default.
    pub(super) bias: DefaultBias,
    /// What it does as a bias initializer.
    pub(super) as_bias: AsBias,
    /// What it learns after drawing, before training (LSUV, GradInit, MetaInit).
    pub(super) after_draw: AfterDraw,
    /// Norm gains and shifts, residual α, and what the network must have.
    pub other: OtherParams,
}

impl SchemeInfo {
    /// The fields most rows share: no cross-parameter check, zero bias, drawn value by value
    /// as a bias, no data, the default γ, β and α. A row sets `name`, `params`, `formula`,
    /// `filled`, `source` and `weights`, and `..SchemeInfo::ROW` for the rest.
    pub(super) const ROW: SchemeInfo = SchemeInfo {
        name: "",
        params: Params(&[]),
        formula: "",
        filled: "",
        source: "",
        check: |_| Ok(()),
        weights: Weights::Elementwise(|_, _, _| Affine::constant(0.0)),
        bias: DefaultBias::Zeros,
        as_bias: AsBias::LikeWeights,
        after_draw: AfterDraw::Nothing,
        other: OtherParams::DEFAULT,
    };

    /// Whether it draws by the layer's place ([`Weights::Placed`]).
    pub(super) fn is_placed(&self) -> bool {
        matches!(self.weights, Weights::Placed(_))
    }

    /// Whether it can initialize a bias vector.
    pub(super) fn can_set_bias(&self) -> bool {
        self.as_bias != AsBias::Refused
    }

    /// Whether another start may use it for its weights (`rezero:base=...`): one that draws
    /// on its own, without the layer's place or data.
    pub(super) fn can_be_base(&self) -> bool {
        !self.is_placed() && !self.is_learned()
    }

    /// Whether it learns something after drawing ([`AfterDraw`]).
    pub(super) fn is_learned(&self) -> bool {
        self.after_draw != AfterDraw::Nothing
    }
}

impl PartialEq for SchemeInfo {
    /// Rows are equal when their names are (names are unique).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Debug for SchemeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SchemeInfo({:?})", self.name)
    }
}

pub(super) const GAIN: Param = Param::new("gain", "1", Kind::Gain);
pub(super) const MODE: Param = Param::new("mode", "fan_in", Kind::Mode);
pub(super) const SLOPE: Param = Param::new("slope", "0", Kind::Number(Rule::NonNegative));

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

/// A built-in start from its row name and parameter values as text, for the rules that
/// resolve to another start (a formula or Fixup at one layer).
///
/// # Panics
/// If the row or a value is invalid: the callers pass values they have checked.
pub(super) fn builtin(name: &str, params: &[(&str, f64)]) -> Init {
    let params: Vec<(String, super::ParamValue)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), super::ParamValue::Number(*v)))
        .collect();
    parse_init(name, &params).unwrap_or_else(|e| panic!("{e}"))
}

impl Init {
    /// The built-in start's row and values, `None` for formula and custom starts.
    pub fn scheme(&self) -> Option<&Scheme> {
        match self {
            Init::Scheme(s) => Some(s),
            _ => None,
        }
    }

    /// The scheme's name as users type it (a custom scheme's own name).
    pub fn name(&self) -> String {
        match self {
            Init::Scheme(s) => s.row.name.into(),
            Init::Custom(c) => c.name.clone(),
            Init::Formula(_) => "formula".into(),
        }
    }

    /// The scheme's formula with its parameters filled in, for reports.
    pub fn formula(&self) -> String {
        let s = match self {
            Init::Scheme(s) => s,
            Init::Custom(c) => return c.formula.clone(),
            Init::Formula(f) => return f.describe(),
        };
        let mut formula = s.row.filled.to_string();
        for (key, value) in s.values.iter() {
            let text = match value {
                Value::Gain(Gain::Auto) => "gain(activation)".to_string(),
                v => v.to_string(),
            };
            formula = formula.replace(&format!("{{{key}}}"), &text);
        }
        formula
    }

    /// Whether the scheme learns on batches of training data after sampling (LSUV,
    /// GradInit). MetaInit learns after sampling too, but on random data.
    pub fn is_data_dependent(&self) -> bool {
        self.scheme()
            .is_some_and(|s| matches!(s.row.after_draw, AfterDraw::Lsuv | AfterDraw::GradInit))
    }

    /// LSUV's settings `(tolerance, max_iterations)` for the `lsuv` start, to run
    /// [`crate::nn::Mlp::lsuv`] after drawing; `None` for every other start.
    pub fn lsuv_settings(&self) -> Option<(f64, usize)> {
        match self.learning()? {
            Learning::Lsuv {
                tolerance,
                max_iterations,
            } => Some((tolerance, max_iterations)),
            _ => None,
        }
    }

    /// What the start learns after drawing, with its settings; `None` for a start that
    /// only draws. GradInit's first step is SGD's here: the runner sets the experiment's
    /// ([`super::GradInit::first_step`]).
    pub fn learning(&self) -> Option<Learning> {
        let s = self.scheme()?;
        let v = &s.values;
        Some(match s.row.after_draw {
            AfterDraw::Nothing => return None,
            AfterDraw::Lsuv => Learning::Lsuv {
                tolerance: v.number("tolerance"),
                max_iterations: v.count("max_iterations"),
            },
            AfterDraw::GradInit => Learning::GradInit(super::GradInit {
                eta: v.number("eta"),
                gamma: v.number("gamma"),
                learning_rate: v.number("learning_rate"),
                min_scale: v.number("min_scale"),
                iterations: v.count("iterations"),
                batch: v.count("batch"),
                first_step: super::FirstStep::Sgd,
            }),
            AfterDraw::MetaInit => Learning::MetaInit(super::MetaInit {
                learning_rate: v.number("learning_rate"),
                momentum: v.number("momentum"),
                iterations: v.count("iterations"),
                epsilon: v.number("epsilon"),
                batch: v.count("batch"),
            }),
        })
    }

    /// What the start does to norm gains and shifts and residual α, and what it needs of
    /// the network (formula and custom starts: the defaults).
    pub fn other_params(&self) -> OtherParams {
        self.scheme().map_or(OtherParams::DEFAULT, |s| s.row.other)
    }

    /// The resolved parameters, in canonical order, as `(key, value)` text: what a resolved
    /// config should record. `parse_init(name, params)` gives the scheme back. Custom
    /// schemes have none.
    pub fn params(&self) -> Vec<(String, String)> {
        match self {
            Init::Scheme(s) => s
                .values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            Init::Formula(f) => f.params(),
            Init::Custom(_) => vec![],
        }
    }

    /// The full command-line form with every parameter, e.g. `he-normal:mode=fan_in:slope=0`.
    pub fn spec(&self) -> String {
        self.spec_of(self.params())
    }

    /// A short label: the name plus the parameters that differ from the defaults, e.g.
    /// `he-normal:mode=fan_out` or `xavier-normal`. Parses back to the same scheme.
    pub fn label(&self) -> String {
        let defaults = match self {
            Init::Scheme(s) => parse_init(s.row.name, &[])
                .map(|d| d.params())
                .unwrap_or_default(),
            _ => vec![],
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

    /// The bias this scheme sets when the user does not choose one: its row's
    /// default bias (U(±1/√fan_in) for `pytorch-default` as `nn.Linear`, N(0, σ_b²) for
    /// `mean-field` with σ_b² > 0, zeros otherwise, as Keras and the papers). A start that
    /// draws by place gives the bias of what it resolves to ([`Init::at_layer`]).
    pub fn default_bias<T: Float>(&self, fan: Fan, rng: &mut ChaCha8Rng) -> Array1<T> {
        let Init::Scheme(s) = self else {
            return Array1::zeros(fan.fan_out);
        };
        match s.row.bias {
            DefaultBias::Zeros => Array1::zeros(fan.fan_out),
            DefaultBias::LikeWeights(_) => self.elementwise_bias(fan, Activation::Identity, rng),
            DefaultBias::Normal(variance) => match variance(&s.values) {
                v if v > 0.0 => super::sampling::normal_vector(fan.fan_out, v.sqrt(), rng),
                _ => Array1::zeros(fan.fan_out),
            },
        }
    }

    /// The variance of one value of the bias the scheme sets by default
    /// ([`Init::default_bias`]).
    pub fn default_bias_variance(&self, fan: Fan) -> f64 {
        let Init::Scheme(s) = self else {
            return 0.0;
        };
        match s.row.bias {
            DefaultBias::Zeros => 0.0,
            DefaultBias::LikeWeights(variance) => variance(&s.values, fan),
            DefaultBias::Normal(variance) => variance(&s.values),
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
