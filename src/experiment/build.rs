//! From the experiment file to the engine: the network's layers and the optimizer.
//!
//! `[network]` describes a network three ways, from simplest to most general:
//!
//! 1. `hidden` widths and the compared `activations` (every file written before the layer
//!    engine): dense → activation per hidden layer, then the output layer;
//! 2. the same with the common modern shapes as keys: `norm = "layernorm" | "batchnorm"`
//!    with `norm_position`, `residual = true` with `block` dense layers per residual branch
//!    and the branch scale `alpha` (`alpha_learnable` for ReZero / SkipInit);
//! 3. an explicit `layers = [...]` list for anything else.
//!
//! Every shape ends in the output dense layer (to the number of classes or targets), added
//! here. Networks that are a plain chain of dense layers and output-derivative activations
//! run on the fused fast path ([`crate::nn::Mlp`]); every other one on the layer engine
//! ([`crate::nn::Network`]).

use serde::{Deserialize, Serialize};

use crate::nn::dense::Dense;
use crate::nn::{
    Activation, Adam, Alpha, BatchNorm, Layer, LayerNorm, Loss, Network, Optimizer, RmsProp, Sgd,
};

/// `training.optimizer`: a name (`optimizer = "adam"`, with `momentum` and `weight_decay` in
/// `[training]`) or a table (`[training.optimizer]` with `name` and its hyper-parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OptimizerSpec {
    /// Just the name; hyper-parameters from `[training]` or the optimizer's defaults.
    Name(String),
    /// The name and any hyper-parameters.
    Table(OptimizerTable),
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        OptimizerSpec::Name("sgd".into())
    }
}

/// `[training.optimizer]`: every key but `name` optional (PyTorch's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerTable {
    /// `sgd`, `adam`, `adamw` or `rmsprop`.
    pub name: String,
    /// Adam's (β₁, β₂).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub betas: Option<[f64; 2]>,
    /// Adam's and RMSprop's eps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eps: Option<f64>,
    /// L2 (SGD, Adam, RMSprop) or decoupled (AdamW) weight decay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    /// SGD's and RMSprop's momentum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// SGD's dampening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dampening: Option<f64>,
    /// SGD's Nesterov momentum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nesterov: Option<bool>,
    /// RMSprop's smoothing constant α.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
}

/// The optimizers, with their update rules, for `initlab list`.
pub const OPTIMIZERS: [(&str, &str); 4] = [
    (
        "sgd",
        "g ← g + λw; v ← μv + (1−dampening)g (v ← g at the first step); w ← w − lr·v \
         (nesterov: w ← w − lr·(g + μv)); torch.optim.SGD",
    ),
    (
        "adam",
        "g ← g + λw; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; \
         w ← w − lr/(1−β₁ᵗ) · m/(√v/√(1−β₂ᵗ) + eps); torch.optim.Adam",
    ),
    (
        "adamw",
        "w ← w(1 − lr·λ), then Adam's update without λ in g (decoupled decay); \
         torch.optim.AdamW",
    ),
    (
        "rmsprop",
        "g ← g + λw; s ← αs + (1−α)g²; w ← w − lr·g/(√s + eps); torch.optim.RMSprop",
    ),
];

/// The valid optimizer names, for error messages.
pub fn optimizer_names() -> String {
    OPTIMIZERS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

impl OptimizerSpec {
    /// The optimizer's name as written.
    pub fn name(&self) -> &str {
        match self {
            OptimizerSpec::Name(n) => n,
            OptimizerSpec::Table(t) => &t.name,
        }
    }

    /// Whether this is the default (plain `"sgd"` with its keys in `[training]`).
    pub fn is_plain_sgd(&self) -> bool {
        matches!(self, OptimizerSpec::Name(n) if n == "sgd")
    }

    /// Builds the optimizer with `learning_rate` and `[training]`'s `momentum` and
    /// `weight_decay` (the table's keys win), checking every hyper-parameter; errors name
    /// the TOML key.
    pub fn build<T: crate::nn::Float>(
        &self,
        learning_rate: f64,
        momentum: f64,
        weight_decay: f64,
    ) -> Result<Optimizer<T>, String> {
        let empty = OptimizerTable {
            name: self.name().to_string(),
            betas: None,
            eps: None,
            weight_decay: None,
            momentum: None,
            dampening: None,
            nesterov: None,
            alpha: None,
        };
        let t = match self {
            OptimizerSpec::Table(t) => t,
            OptimizerSpec::Name(_) => &empty,
        };
        let name = t.name.trim().to_ascii_lowercase();
        let only = |key: &str, given: bool, for_: &str| -> Result<(), String> {
            if given {
                Err(format!(
                    "training.optimizer.{key} applies to {for_}, not to `{}`",
                    t.name
                ))
            } else {
                Ok(())
            }
        };
        let momentum = t.momentum.unwrap_or(momentum);
        let optimizer = match name.as_str() {
            "sgd" => {
                only("betas", t.betas.is_some(), "adam and adamw")?;
                only("eps", t.eps.is_some(), "adam, adamw and rmsprop")?;
                only("alpha", t.alpha.is_some(), "rmsprop")?;
                let mut sgd = Sgd::with(
                    learning_rate,
                    momentum,
                    t.weight_decay.unwrap_or(weight_decay),
                );
                sgd.dampening = t.dampening.unwrap_or(0.0);
                sgd.nesterov = t.nesterov.unwrap_or(false);
                sgd.validate()?;
                Optimizer::Sgd(sgd)
            }
            "adam" | "adamw" => {
                only("momentum", t.momentum.is_some(), "sgd and rmsprop")?;
                only("dampening", t.dampening.is_some(), "sgd")?;
                only("nesterov", t.nesterov.is_some(), "sgd")?;
                only("alpha", t.alpha.is_some(), "rmsprop")?;
                if momentum != 0.0 {
                    return Err(format!(
                        "training.momentum (--momentum) applies to sgd and rmsprop, not to \
                         `{}` (its moments are training.optimizer.betas)",
                        t.name
                    ));
                }
                let mut adam = if name == "adam" {
                    Adam::new(learning_rate)
                } else {
                    Adam::adamw(learning_rate)
                };
                if let Some([b1, b2]) = t.betas {
                    adam.betas = (b1, b2);
                }
                adam.eps = t.eps.unwrap_or(adam.eps);
                adam.weight_decay = match t.weight_decay {
                    Some(wd) => wd,
                    None if weight_decay != 0.0 => weight_decay,
                    None => adam.weight_decay,
                };
                adam.validate()?;
                Optimizer::Adam(adam)
            }
            "rmsprop" => {
                only("betas", t.betas.is_some(), "adam and adamw")?;
                only("dampening", t.dampening.is_some(), "sgd")?;
                only("nesterov", t.nesterov.is_some(), "sgd")?;
                let mut rms = RmsProp::new(learning_rate);
                rms.alpha = t.alpha.unwrap_or(rms.alpha);
                rms.eps = t.eps.unwrap_or(rms.eps);
                rms.momentum = momentum;
                rms.weight_decay = t.weight_decay.unwrap_or(weight_decay);
                rms.validate()?;
                Optimizer::RmsProp(rms)
            }
            _ => {
                return Err(format!(
                    "unknown optimizer `{}` in `training.optimizer`; expected one of: {}",
                    t.name,
                    optimizer_names()
                ));
            }
        };
        Ok(optimizer)
    }
}

/// `network.norm`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormSpec {
    /// No normalization (the default).
    #[default]
    None,
    /// LayerNorm.
    Layernorm,
    /// BatchNorm.
    Batchnorm,
}

/// `network.norm_position`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormPosition {
    /// Plain networks: dense → norm → activation (Ioffe & Szegedy, CS231n). Residual
    /// networks: the norm opens each branch, y = x + α·F(norm(x)) (pre-LN, GPT-2).
    #[default]
    Pre,
    /// Plain networks: dense → activation → norm. Residual networks: after the sum,
    /// y = norm(x + α·F(x)) (the original Transformer's post-LN).
    Post,
}

/// One entry of `network.layers`: a string (`"activation"` for the compared activation, an
/// activation name, `"layernorm"`, `"batchnorm"`) or a table (`{ dense = 64 }`,
/// `{ residual = [...], alpha = 0.0, alpha_learnable = true }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LayerSpec {
    /// A layer without settings.
    Name(String),
    /// A dense layer of this many outputs.
    Dense {
        /// Output width.
        dense: usize,
    },
    /// A residual block around these layers.
    Residual {
        /// The branch.
        residual: Vec<LayerSpec>,
        /// α (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alpha: Option<f64>,
        /// Whether α is learned (default false).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alpha_learnable: Option<bool>,
        /// A dense projection on the skip path (needed when the branch changes the width).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        projection: Option<bool>,
    },
}

/// What [`network_layers`] needs of `[network]`.
#[derive(Clone, Copy, Debug)]
pub struct Shape<'a> {
    /// `hidden`.
    pub hidden: &'a [usize],
    /// `norm`.
    pub norm: NormSpec,
    /// `norm_position`.
    pub norm_position: NormPosition,
    /// `residual`.
    pub residual: bool,
    /// `block`: dense layers per residual branch.
    pub block: usize,
    /// `alpha`.
    pub alpha: f64,
    /// `alpha_learnable`.
    pub alpha_learnable: bool,
    /// `layers`, if given.
    pub layers: Option<&'a [LayerSpec]>,
}

impl Shape<'_> {
    /// Whether the network is today's plain chain (dense → activation …), which the fused
    /// fast path runs.
    pub fn is_plain(&self) -> bool {
        self.norm == NormSpec::None && !self.residual && self.layers.is_none()
    }
}

fn norm_layer(norm: NormSpec, width: usize) -> Option<Plan> {
    match norm {
        NormSpec::None => None,
        NormSpec::Layernorm => Some(Plan::LayerNorm(width)),
        NormSpec::Batchnorm => Some(Plan::BatchNorm(width)),
    }
}

/// The network's layers for `inputs` features, `outputs` logits and the compared
/// `activation`, all parameters zero (the start fills them). Errors name the TOML key.
pub fn network_layers<T: crate::nn::Float>(
    shape: &Shape<'_>,
    inputs: usize,
    outputs: usize,
    activation: Activation,
    loss: Loss,
) -> Result<Network<T>, String> {
    let plan = network_plan(shape, inputs, outputs, activation)?;
    let layers = plan.iter().map(Plan::build).collect();
    Network::new(inputs, layers, loss).map_err(|e| format!("network: {e}"))
}

/// The network's layers as a [`Plan`]: shapes only, nothing allocated, widths checked.
pub fn network_plan(
    shape: &Shape<'_>,
    inputs: usize,
    outputs: usize,
    activation: Activation,
) -> Result<Vec<Plan>, String> {
    let mut layers = Vec::new();
    let mut width = inputs;
    if let Some(specs) = shape.layers {
        width = explicit_layers(specs, width, activation, &mut layers, "network.layers", 0)?;
    } else if shape.residual {
        let Some((&stem, rest)) = shape.hidden.split_first() else {
            return Err(
                "network.residual = true needs at least one width in network.hidden".into(),
            );
        };
        if shape.block == 0 || rest.len() % shape.block != 0 {
            return Err(format!(
                "network.residual = true: after the first hidden layer (the stem), the {} \
                 remaining widths of network.hidden must form whole blocks of \
                 network.block = {} dense layers",
                rest.len(),
                shape.block
            ));
        }
        layers.push(Plan::Dense(width, stem));
        layers.push(Plan::Activation(activation));
        width = stem;
        for group in rest.chunks(shape.block) {
            let mut body = Vec::new();
            if shape.norm_position == NormPosition::Pre
                && let Some(n) = norm_layer(shape.norm, width)
            {
                body.push(n);
            }
            let mut w = width;
            for (i, &h) in group.iter().enumerate() {
                body.push(Plan::Dense(w, h));
                if i + 1 < group.len() {
                    body.push(Plan::Activation(activation));
                }
                w = h;
            }
            layers.push(residual_layer(
                body,
                width,
                w,
                shape.alpha,
                shape.alpha_learnable,
                w != width,
            ));
            if shape.norm_position == NormPosition::Post
                && let Some(n) = norm_layer(shape.norm, w)
            {
                layers.push(n);
            }
            width = w;
        }
    } else {
        for &h in shape.hidden {
            layers.push(Plan::Dense(width, h));
            let norm = norm_layer(shape.norm, h);
            if shape.norm_position == NormPosition::Post {
                layers.push(Plan::Activation(activation));
                layers.extend(norm);
            } else {
                layers.extend(norm);
                layers.push(Plan::Activation(activation));
            }
            width = h;
        }
    }
    layers.push(Plan::Dense(width, outputs));
    Ok(layers)
}

fn residual_layer(
    body: Vec<Plan>,
    width: usize,
    out: usize,
    alpha: f64,
    learnable: bool,
    projection: bool,
) -> Plan {
    Plan::Residual {
        body,
        projection: projection.then_some((width, out)),
        alpha,
        learnable,
    }
}

/// A layer before its parameters exist: what [`network_plan`] makes, so that the
/// experiment can be checked and its memory counted without allocating the network.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// A dense layer (inputs, outputs).
    Dense(usize, usize),
    /// An activation.
    Activation(Activation),
    /// LayerNorm over this many features.
    LayerNorm(usize),
    /// BatchNorm over this many features.
    BatchNorm(usize),
    /// A residual block.
    Residual {
        /// The branch.
        body: Vec<Plan>,
        /// The projection (inputs, outputs), if any.
        projection: Option<(usize, usize)>,
        /// α's value.
        alpha: f64,
        /// Whether α is learned.
        learnable: bool,
    },
}

impl Plan {
    /// The layer, all parameters zero (norm gains one).
    pub fn build<T: crate::nn::Float>(&self) -> Layer<T> {
        match self {
            Plan::Dense(i, o) => Layer::Dense(Dense::zeros(*i, *o)),
            Plan::Activation(a) => Layer::Activation(*a),
            Plan::LayerNorm(n) => Layer::LayerNorm(LayerNorm::new(*n)),
            Plan::BatchNorm(n) => Layer::BatchNorm(BatchNorm::new(*n)),
            Plan::Residual {
                body,
                projection,
                alpha,
                learnable,
            } => Layer::Residual(crate::nn::Residual {
                body: body.iter().map(Plan::build).collect(),
                projection: projection.map(|(i, o)| Dense::zeros(i, o)),
                alpha: if *learnable {
                    Alpha::Learnable(ndarray::Array1::from_elem(1, T::of(*alpha)))
                } else {
                    Alpha::Fixed(*alpha)
                },
            }),
        }
    }

    /// Number of trainable parameters (saturating).
    pub fn parameters(&self) -> u64 {
        match self {
            Plan::Dense(i, o) => (*i as u64)
                .saturating_mul(*o as u64)
                .saturating_add(*o as u64),
            Plan::Activation(_) => 0,
            Plan::LayerNorm(n) | Plan::BatchNorm(n) => 2 * *n as u64,
            Plan::Residual {
                body,
                projection,
                learnable,
                ..
            } => body
                .iter()
                .map(Plan::parameters)
                .fold(0, u64::saturating_add)
                .saturating_add(projection.map_or(0, |(i, o)| Plan::Dense(i, o).parameters()))
                .saturating_add(u64::from(*learnable)),
        }
    }

    /// Values per row the workspace keeps for this layer: its output and its gradient (a
    /// residual block's branch buffers and projection gradient included).
    pub fn row_values(&self, input: usize) -> u64 {
        match self {
            Plan::Residual {
                body, projection, ..
            } => {
                let mut width = input;
                let mut values = 0u64;
                for layer in body {
                    values = values.saturating_add(layer.row_values(width));
                    width = layer.output_width(width);
                }
                let out = self.output_width(input) as u64;
                values
                    .saturating_add(2 * out)
                    .saturating_add(if projection.is_some() {
                        input as u64
                    } else {
                        0
                    })
            }
            _ => 2 * self.output_width(input) as u64,
        }
    }

    /// The output width for `input` features.
    pub fn output_width(&self, input: usize) -> usize {
        match self {
            Plan::Dense(_, o) => *o,
            Plan::Activation(_) => input,
            Plan::LayerNorm(n) | Plan::BatchNorm(n) => *n,
            Plan::Residual {
                body, projection, ..
            } => match projection {
                Some((_, o)) => *o,
                None => body.iter().fold(input, |w, l| l.output_width(w)),
            },
        }
    }
}

/// Parameters and per-row workspace values of a planned network on `inputs` features.
pub fn plan_size(plan: &[Plan], inputs: usize) -> (u64, u64) {
    let mut width = inputs;
    let mut values = 0u64;
    for layer in plan {
        values = values.saturating_add(layer.row_values(width));
        width = layer.output_width(width);
    }
    let params = plan
        .iter()
        .map(Plan::parameters)
        .fold(0, u64::saturating_add);
    (params, values)
}

/// The valid names of a layer given as a string in `network.layers`.
const LAYER_NAMES: &str = "\"activation\" (the compared activation), an activation name, \
    \"layernorm\", \"batchnorm\", or a table { dense = WIDTH } or { residual = [...] }";

fn explicit_layers(
    specs: &[LayerSpec],
    mut width: usize,
    activation: Activation,
    out: &mut Vec<Plan>,
    key: &str,
    depth: usize,
) -> Result<usize, String> {
    for (i, spec) in specs.iter().enumerate() {
        let at = format!("{key}[{i}]");
        match spec {
            LayerSpec::Name(name) => {
                let layer = match name.trim().to_ascii_lowercase().as_str() {
                    "activation" => Plan::Activation(activation),
                    "layernorm" => Plan::LayerNorm(width),
                    "batchnorm" => Plan::BatchNorm(width),
                    other => match other.parse::<Activation>() {
                        Ok(a) => Plan::Activation(a),
                        Err(_) => {
                            return Err(format!(
                                "{at} = {name:?} is not a layer; expected {LAYER_NAMES}"
                            ));
                        }
                    },
                };
                out.push(layer);
            }
            LayerSpec::Dense { dense } => {
                if *dense == 0 {
                    return Err(format!("{at}: dense width must be at least 1, got 0"));
                }
                out.push(Plan::Dense(width, *dense));
                width = *dense;
            }
            LayerSpec::Residual {
                residual,
                alpha,
                alpha_learnable,
                projection,
            } => {
                if depth > 0 {
                    return Err(format!("{at}: residual blocks cannot be nested"));
                }
                if residual.is_empty() {
                    return Err(format!("{at}: a residual block needs at least one layer"));
                }
                let alpha = alpha.unwrap_or(1.0);
                if !alpha.is_finite() {
                    return Err(format!("{at}: alpha must be a finite number, got {alpha}"));
                }
                let mut body = Vec::new();
                let w = explicit_layers(
                    residual,
                    width,
                    activation,
                    &mut body,
                    &format!("{at}.residual"),
                    depth + 1,
                )?;
                let projection = projection.unwrap_or(false);
                if w != width && !projection {
                    return Err(format!(
                        "{at}: the branch maps {width} features to {w}, so the skip connection \
                         does not fit; set projection = true (a dense layer on the skip path) \
                         or keep the width"
                    ));
                }
                out.push(residual_layer(
                    body,
                    width,
                    w,
                    alpha,
                    alpha_learnable.unwrap_or(false),
                    projection,
                ));
                width = w;
            }
        }
    }
    Ok(width)
}
