//! Parametrizations: how a layer's start, forward pass and learning rate scale with width.
//!
//! A start (He, Xavier, …) picks each weight's *distribution* at one width. A
//! parametrization says how three numbers change as the network gets wider, per layer role
//! (input: data → width, hidden: width → width, output: width → logits):
//!
//! - the **variance multiplier** of the stored weights: the start's sample is multiplied by
//!   √v (so its variance by v, whatever its distribution);
//! - the **forward multiplier** c: the layer computes `z = W·(c·x) + b` (a
//!   [`Layer::Scale`] in front of the dense layer, so the bias is not multiplied, as in
//!   mup's `MuReadout`);
//! - the **learning-rate multiplier** μ of each tensor: the optimizer uses `lr·μ` and
//!   weight decay `wd/μ` for it (mup's `MuSGD` / `MuAdam` parameter groups; the product
//!   lr·wd is unchanged).
//!
//! Everything is relative to a **base width** n₀: with `m = fan_in / n₀` (or
//! `fan_out / n₀`) the width multiplier of a width dimension (the data's features and the
//! classes are not width dimensions: their multiplier is 1), every multiplier is 1 at
//! `m = 1`, so μP and NTK *equal* the standard parametrization at the base width, bit for bit.
//!
//! | parametrization | role | weight variance | bias variance | forward | SGD lr (weight, bias) | Adam lr (weight, bias) |
//! |---|---|---|---|---|---|---|
//! | `sp` | every layer | 1 | 1 | 1 | 1, 1 | 1, 1 |
//! | `mup` | input | 1 | 1 | 1 | m_out, m_out | 1, 1 |
//! | `mup` | hidden | 1 | m_in | 1 | m_out/m_in, m_out | 1/m_in, 1 |
//! | `mup` | output | m_in (0 with `readout_zero`) | m_in (0 with `readout_zero`) | 1/m_in | m_in, 1 | 1, 1 |
//! | `ntk` | input | 1 | 1 | 1 | 1, 1 | 1, 1 |
//! | `ntk` | hidden, output | m_in | m_in | 1/√m_in | 1, 1 | 1, 1 |
//!
//! Norm layers' gains and shifts are vectors of a width: under `mup` their SGD learning
//! rate is × m (their width's multiplier), their Adam learning rate × 1; under `ntk` × 1.
//! "Adam" here means every optimizer that normalizes the gradient entry-wise (Adam, AdamW,
//! RMSprop), "SGD" plain and momentum SGD, as mup's `optim.py` groups them.
//!
//! # Sources
//!
//! - μP: Yang et al. 2022, "Tensor Programs V", Table 3 (the μP of an MLP, as absolute
//!   scalings) and Table 8 / Appendix (the same with an output multiplier), in the form
//!   Microsoft's `mup` package implements: `MuReadout` (forward × 1/m, stored weight and
//!   bias × √m by `set_base_shapes`), `rescale_linear_bias` (hidden biases × √m_in),
//!   `MuSGD` (vector-like tensors lr × m, matrix-like lr × fan_out-mult/fan_in-mult),
//!   `MuAdam` (matrix-like lr / fan_in-mult), each dividing the weight decay by the same
//!   factor (mup's default `decoupled_wd=False`). The start itself is left alone for input
//!   and hidden weights: He, LeCun, Xavier and PyTorch's default already have variance
//!   ∝ 1/fan_in (∝ 1/width for square hidden layers), which is μP's, so the hidden
//!   multiplier is 1, not base/width. Effective (what multiplies x) variances are then
//!   He's for input and hidden layers and He's × 1/m_in = n₀/fan_in² for the readout.
//! - NTK: Jacot et al. 2018; Yang & Hu 2021, "Tensor Programs IV", Table 1 (a = ½ for
//!   every layer after the first, b = 0, c = 0), rebased so that it equals SP at n₀: the
//!   stored weights keep the start's variance at n₀ (× m_in) and the forward multiplier
//!   1/√m_in brings the effective variance back to the start's; biases, which are not
//!   multiplied, keep the start's variance at n₀ (× m_in: TP IV starts them at a constant
//!   variance, and the start's bias variance ∝ 1/fan_in); learning rates × 1, for
//!   SGD and Adam alike (Tensor Programs IV defines NTK for SGD; with Adam it is the same
//!   abc-parametrization and its features move, see [`crate::theory::width`]).
//!
//! What it is not: a search for the best multipliers (mup's `output_mult`, `input_mult`
//! tuning) — the constants stay 1.

use std::fmt;
use std::str::FromStr;

use super::float::Float;
use super::layer::Layer;
use super::network::Network;
use super::optim::Optimizer;
use super::param::ParamSet;

/// Which parametrization a network trains in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Parametrization {
    /// The standard parametrization: the start as drawn, one learning rate (what initlab
    /// always did).
    #[default]
    Standard,
    /// The neural-tangent parametrization (forward × 1/√m after the first layer).
    Ntk,
    /// The maximal-update parametrization μP (Tensor Programs V, mup).
    Mup,
}

/// Every parametrization, in the order `initlab list` shows them.
pub const ALL: [Parametrization; 3] = [
    Parametrization::Standard,
    Parametrization::Ntk,
    Parametrization::Mup,
];

impl Parametrization {
    /// Its name in TOML and on the command line: `sp`, `ntk`, `mup`.
    pub fn name(&self) -> &'static str {
        match self {
            Parametrization::Standard => "sp",
            Parametrization::Ntk => "ntk",
            Parametrization::Mup => "mup",
        }
    }

    /// Whether it is the standard parametrization (nothing to scale).
    pub fn is_standard(&self) -> bool {
        *self == Parametrization::Standard
    }
}

impl fmt::Display for Parametrization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Parametrization {
    type Err = String;
    /// `sp` (or `standard`), `ntk`, `mup` (or `μp`), any case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_lowercase().as_str() {
            "sp" | "standard" => Ok(Parametrization::Standard),
            "ntk" => Ok(Parametrization::Ntk),
            "mup" | "μp" => Ok(Parametrization::Mup),
            other => Err(format!(
                "unknown parametrization `{other}`; expected one of: sp, ntk, mup"
            )),
        }
    }
}

impl serde::Serialize for Parametrization {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Parametrization {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A dense layer's role, which decides its multipliers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The first dense layer: data features (not a width) → width.
    Input,
    /// Width → width.
    Hidden,
    /// The last dense layer (the readout): width → logits (not a width).
    Output,
}

impl Role {
    /// `input`, `hidden`, `output`.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Input => "input",
            Role::Hidden => "hidden",
            Role::Output => "output",
        }
    }
}

/// How an optimizer's update scales with the gradient, which decides the learning-rate
/// multipliers (mup's grouping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// The update is proportional to the gradient: SGD, with or without momentum.
    Sgd,
    /// The update normalizes the gradient entry-wise: Adam, AdamW, RMSprop.
    Adam,
}

impl Family {
    /// The family of `optimizer`.
    pub fn of<T>(optimizer: &Optimizer<T>) -> Family {
        match optimizer {
            Optimizer::Sgd(_) => Family::Sgd,
            Optimizer::Adam(_) | Optimizer::RmsProp(_) => Family::Adam,
        }
    }

    /// `sgd` or `adam`.
    pub fn name(&self) -> &'static str {
        match self {
            Family::Sgd => "sgd",
            Family::Adam => "adam",
        }
    }
}

/// One dense layer's multipliers (see the module's table).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Multipliers {
    /// Multiplies the variance of the start's weights (the sample is multiplied by its
    /// square root).
    pub weight_variance: f64,
    /// Multiplies the variance of the start's biases.
    pub bias_variance: f64,
    /// The forward multiplier c of `z = W·(c·x) + b`.
    pub forward: f64,
    /// The weight's learning-rate multiplier.
    pub weight_lr: f64,
    /// The bias's learning-rate multiplier.
    pub bias_lr: f64,
}

impl Multipliers {
    /// All ones: the standard parametrization.
    pub const ONE: Multipliers = Multipliers {
        weight_variance: 1.0,
        bias_variance: 1.0,
        forward: 1.0,
        weight_lr: 1.0,
        bias_lr: 1.0,
    };
}

/// A parametrization with its settings: `[network] parametrization`, `base_width`,
/// `readout_zero`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    /// Which parametrization.
    pub parametrization: Parametrization,
    /// The width n₀ at which it equals the standard parametrization.
    pub base_width: usize,
    /// Start the readout's weight and bias at zero (mup's `readout_zero_init`; μP only).
    pub readout_zero: bool,
}

/// The default base width, mup's MLP example's (`width64.bsh`).
pub const DEFAULT_BASE_WIDTH: usize = 64;

impl Default for Setup {
    fn default() -> Self {
        Setup {
            parametrization: Parametrization::Standard,
            base_width: DEFAULT_BASE_WIDTH,
            readout_zero: false,
        }
    }
}

impl Setup {
    /// `parametrization` at base width `base_width`, readout started as the start draws it.
    pub fn new(parametrization: Parametrization, base_width: usize) -> Self {
        Setup {
            parametrization,
            base_width,
            readout_zero: false,
        }
    }

    /// The multipliers of a dense layer of role `role` with `fan_in` inputs and `fan_out`
    /// outputs, trained by an optimizer of `family` (the module's table).
    ///
    /// ```
    /// use initlab::nn::parametrization::{Family, Parametrization, Role, Setup};
    /// let mup = Setup::new(Parametrization::Mup, 64);
    /// // A hidden layer four times the base width: Adam's learning rate ÷ 4.
    /// let m = mup.multipliers(Role::Hidden, 256, 256, Family::Adam);
    /// assert_eq!(m.weight_lr, 0.25);
    /// // The readout: forward × 1/4, stored variance × 4, SGD learning rate × 4.
    /// let m = mup.multipliers(Role::Output, 256, 10, Family::Sgd);
    /// assert_eq!((m.forward, m.weight_variance, m.weight_lr), (0.25, 4.0, 4.0));
    /// // At the base width every multiplier is 1.
    /// let m = mup.multipliers(Role::Hidden, 64, 64, Family::Sgd);
    /// assert_eq!(m, initlab::nn::parametrization::Multipliers::ONE);
    /// ```
    pub fn multipliers(
        &self,
        role: Role,
        fan_in: usize,
        fan_out: usize,
        family: Family,
    ) -> Multipliers {
        let base = self.base_width as f64;
        let m_in = match role {
            Role::Input => 1.0,
            Role::Hidden | Role::Output => fan_in as f64 / base,
        };
        let m_out = match role {
            Role::Output => 1.0,
            Role::Input | Role::Hidden => fan_out as f64 / base,
        };
        match (self.parametrization, role, family) {
            (Parametrization::Standard, ..) => Multipliers::ONE,
            (Parametrization::Mup, Role::Input, Family::Sgd) => Multipliers {
                weight_lr: m_out,
                bias_lr: m_out,
                ..Multipliers::ONE
            },
            (Parametrization::Mup, Role::Input, Family::Adam) => Multipliers::ONE,
            (Parametrization::Mup, Role::Hidden, family) => Multipliers {
                bias_variance: m_in,
                weight_lr: match family {
                    Family::Sgd => m_out / m_in,
                    Family::Adam => 1.0 / m_in,
                },
                bias_lr: match family {
                    Family::Sgd => m_out,
                    Family::Adam => 1.0,
                },
                ..Multipliers::ONE
            },
            (Parametrization::Mup, Role::Output, family) => {
                let start = if self.readout_zero { 0.0 } else { m_in };
                Multipliers {
                    weight_variance: start,
                    bias_variance: start,
                    forward: 1.0 / m_in,
                    weight_lr: match family {
                        Family::Sgd => m_in,
                        Family::Adam => 1.0,
                    },
                    bias_lr: 1.0,
                }
            }
            (Parametrization::Ntk, Role::Input, _) => Multipliers::ONE,
            (Parametrization::Ntk, Role::Hidden | Role::Output, _) => Multipliers {
                weight_variance: m_in,
                bias_variance: m_in,
                forward: 1.0 / m_in.sqrt(),
                ..Multipliers::ONE
            },
        }
    }

    /// The learning-rate multiplier of a norm layer's gain or shift of `features` values
    /// (a vector of a width: mup's "vector-like" tensors).
    pub fn vector_lr(&self, features: usize, family: Family) -> f64 {
        match (self.parametrization, family) {
            (Parametrization::Mup, Family::Sgd) => features as f64 / self.base_width as f64,
            _ => 1.0,
        }
    }

    /// Checks the settings: a base width ≥ 1, `readout_zero` only with μP. Messages name
    /// the TOML keys.
    pub fn validate(&self) -> Result<(), String> {
        if self.base_width == 0 {
            return Err(
                "network.base_width must be a width ≥ 1 (the width at which the \
                        parametrization equals the standard one), got 0"
                    .into(),
            );
        }
        if self.readout_zero && self.parametrization != Parametrization::Mup {
            return Err(format!(
                "network.readout_zero applies to parametrization = \"mup\", not to `{}`",
                self.parametrization
            ));
        }
        Ok(())
    }

    /// Each top-level dense layer's role, in order, or why the roles can't be told apart.
    /// The network must be a chain of dense layers (activations and norm layers between
    /// them are fine) with at least one hidden layer: the first dense layer is the input
    /// layer, the last the readout, the others hidden.
    pub fn roles<T: Float>(network: &Network<T>) -> Result<Vec<Role>, String> {
        let residual = network
            .layers
            .iter()
            .any(|l| matches!(l, Layer::Residual(_)));
        let dense = network
            .layers
            .iter()
            .filter(|l| matches!(l, Layer::Dense(_)))
            .count();
        Self::roles_of(dense, residual)
    }

    /// [`Setup::roles`] from what it looks at: the number of top-level dense layers and
    /// whether there are residual blocks (for checking a planned network before building it).
    pub fn roles_of(dense: usize, residual: bool) -> Result<Vec<Role>, String> {
        if residual {
            return Err(
                "μP and NTK tell a layer's role (input, hidden, output) from its place \
                        in a chain of dense layers; this network has residual blocks, whose \
                        dense layers have no such place. Use a network without residual \
                        blocks (`network.residual = false`, no `{ residual = [...] }` in \
                        `network.layers`)"
                    .into(),
            );
        }
        if dense < 2 {
            return Err(format!(
                "μP and NTK need the input layer and the readout to be different dense \
                 layers (at least one hidden layer, e.g. `network.hidden = [64]`); this \
                 network has {dense} dense layer{}",
                if dense == 1 { "" } else { "s" }
            ));
        }
        Ok((0..dense)
            .map(|k| match k {
                0 => Role::Input,
                k if k + 1 == dense => Role::Output,
                _ => Role::Hidden,
            })
            .collect())
    }

    /// Applies the parametrization to a freshly started `network` that `family` will train:
    /// multiplies each dense layer's weights and biases by the square roots of their
    /// variance multipliers, puts a [`Layer::Scale`] in front of each dense layer whose
    /// forward multiplier is not 1, and sets the network's learning-rate multipliers. The
    /// standard parametrization, and any at its base width, change nothing. Call it once,
    /// after the start.
    pub fn apply<T: Float>(&self, network: &mut Network<T>, family: Family) -> Result<(), String> {
        self.validate()?;
        if self.parametrization.is_standard() {
            return Ok(());
        }
        let roles = Self::roles(network)?;
        let mut layers = Vec::with_capacity(network.layers.len() + roles.len());
        let mut lr = Vec::new();
        let mut k = 0;
        for mut layer in std::mem::take(&mut network.layers) {
            match &mut layer {
                Layer::Dense(d) => {
                    let m = self.multipliers(roles[k], d.inputs(), d.outputs(), family);
                    k += 1;
                    scale_values(d.weight.as_slice_mut(), m.weight_variance);
                    scale_values(d.bias.as_slice_mut(), m.bias_variance);
                    if m.forward != 1.0 {
                        layers.push(Layer::Scale(m.forward));
                    }
                    lr.extend([m.weight_lr, m.bias_lr]);
                }
                Layer::LayerNorm(n) => {
                    let m = self.vector_lr(n.features(), family);
                    lr.extend([m, m]);
                }
                Layer::BatchNorm(n) => {
                    let m = self.vector_lr(n.features(), family);
                    lr.extend([m, m]);
                }
                _ => {}
            }
            layers.push(layer);
        }
        network.layers = layers;
        assert_eq!(
            lr.len(),
            network.tensor_count(),
            "one multiplier per tensor"
        );
        network.learning_rate_multipliers = if lr.iter().all(|&m| m == 1.0) {
            Vec::new()
        } else {
            lr
        };
        Ok(())
    }
}

/// Multiplies every value by √variance (exactly nothing when the multiplier is 1).
fn scale_values<T: Float>(values: Option<&mut [T]>, variance: f64) {
    if variance == 1.0 {
        return;
    }
    let factor = T::of(variance.sqrt());
    for v in values.expect("contiguous parameters") {
        *v = *v * factor;
    }
}

/// One row of the table `initlab list` prints: a parametrization, a role, and each
/// multiplier as a formula in m_in = fan_in/base_width and m_out = fan_out/base_width.
pub struct TableRow {
    /// The parametrization.
    pub parametrization: Parametrization,
    /// The roles the row covers.
    pub roles: &'static str,
    /// Weight variance, bias variance, forward, SGD lr (weight, bias), Adam lr (weight, bias).
    pub formulas: [&'static str; 5],
}

/// The multiplier table as formulas (the module docs' table), for `initlab list`;
/// `tests/suite/parametrization.rs` checks it against [`Setup::multipliers`].
pub const TABLE: [TableRow; 6] = [
    TableRow {
        parametrization: Parametrization::Standard,
        roles: "all",
        formulas: ["1", "1", "1", "1, 1", "1, 1"],
    },
    TableRow {
        parametrization: Parametrization::Mup,
        roles: "input",
        formulas: ["1", "1", "1", "m_out, m_out", "1, 1"],
    },
    TableRow {
        parametrization: Parametrization::Mup,
        roles: "hidden",
        formulas: ["1", "m_in", "1", "m_out/m_in, m_out", "1/m_in, 1"],
    },
    TableRow {
        parametrization: Parametrization::Mup,
        roles: "output",
        formulas: [
            "m_in (0 zero)",
            "m_in (0 zero)",
            "1/m_in",
            "m_in, 1",
            "1, 1",
        ],
    },
    TableRow {
        parametrization: Parametrization::Ntk,
        roles: "input",
        formulas: ["1", "1", "1", "1, 1", "1, 1"],
    },
    TableRow {
        parametrization: Parametrization::Ntk,
        roles: "hidden, output",
        formulas: ["m_in", "m_in", "1/√m_in", "1, 1", "1, 1"],
    },
];

/// Where the table comes from, printed under it.
pub const SOURCE: &str = "μP: Yang et al. 2022, Tensor Programs V, Table 3 and Table 8, as \
    Microsoft's mup implements it (MuReadout, set_base_shapes, MuSGD, MuAdam); NTK: Yang & \
    Hu 2021, Tensor Programs IV, Table 1, rebased to equal SP at the base width";
