//! Experiments as data: the TOML schema, its validation, and the resolved form.
//!
//! ```toml
//! name = "xor"
//! description = "One line on what this shows"
//! seeds = 5            # replicates; seed values are seed, seed+1, ...
//! seed = 0
//! inits = ["zeros", "tiny", { name = "huge", std = 10.0 }, "xavier-normal", "he-normal"]
//!
//! [data]
//! source = "xor"       # xor | circles | moons | spiral | blobs | csv | idx
//! test_fraction = 0.0
//! standardize = false
//!
//! [network]
//! hidden = [4]
//! activations = ["sigmoid", "tanh", "relu"]
//! loss = "bce"
//!
//! [training]
//! epochs = 2000
//! learning_rate = 0.5
//! log_every = 20
//! target_loss = 0.1
//! ```
//!
//! The example is the test `module_example_parses` below.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::axes::GridSpec;
use super::build::{LayerSpec, NormPosition, NormSpec, OptimizerSpec, Shape, network_plan};
use crate::nn::init::{Init, ParamValue, check_bias_init, parse_init};
use crate::nn::parametrization::{DEFAULT_BASE_WIDTH, Parametrization, Setup};
use crate::nn::{Activation, Loss};

/// A whole experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Short name; the default results directory is `results/<name>/`.
    pub name: String,
    /// One line shown by `list` and at the top of the report.
    #[serde(default)]
    pub description: String,
    /// Number of replicates (seeds) per init × activation (default 5).
    #[serde(default = "default_seeds")]
    pub seeds: usize,
    /// The first seed; replicate r uses seed + r.
    #[serde(default)]
    pub seed: u64,
    /// Where the data come from.
    pub data: DataSpec,
    /// The network shape and loss.
    pub network: NetworkSpec,
    /// How to train.
    pub training: TrainingSpec,
    /// The starts to compare (default: the guide's five, [`default_inits`]).
    #[serde(default = "default_inits")]
    pub inits: Vec<InitEntry>,
    /// Axes over other settings (`[grid]`, see [`super::axes`]); empty for none, and then
    /// not written to `config.toml`.
    #[serde(default, skip_serializing_if = "GridSpec::is_empty")]
    pub grid: GridSpec,
    /// Bias initializer for every start that does not set its own (default: zeros, or the
    /// scheme's own default such as pytorch-default's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<InitEntry>,
    /// Written by initlab into `config.toml`: the version that produced the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initlab_version: Option<String>,
    /// Written into a shard's `config.toml` (`"K/N"`, 1-based): which slice of the grid the
    /// results hold. Running such a file runs that shard again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Written into `config.toml` for data with named classes (string labels in a CSV):
    /// the class names, class `i` being `classes[i]` (sorted). Read back, it is ignored:
    /// the data decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Expectations checked when the experiment finishes (`[[expect]]` tables, see
    /// [`crate::check`]); never written to `config.toml`, so hidden ones stay hidden.
    #[serde(default, skip_serializing)]
    pub expect: Vec<toml::Value>,
    /// A smaller version of the experiment that `--quick` runs (`[quick]`, see
    /// [`crate::experiment::Experiment::quick`]): settings in the file's own layout
    /// (`seeds = 1`, `[quick.training] epochs = 3`, `[quick.grid] "network.width" = [64,
    /// 256]`) that replace the ones they name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick: Option<toml::Table>,
}

impl ExperimentSpec {
    /// A spec built in code, every optional setting at its default (as if left out of the
    /// TOML file): five seeds from 0, no description.
    pub fn new(
        name: &str,
        data: DataSpec,
        network: NetworkSpec,
        training: TrainingSpec,
        inits: Vec<InitEntry>,
    ) -> Self {
        ExperimentSpec {
            name: name.to_string(),
            description: String::new(),
            seeds: default_seeds(),
            seed: 0,
            data,
            network,
            training,
            inits,
            grid: GridSpec::default(),
            bias: None,
            initlab_version: None,
            shard: None,
            classes: None,
            expect: Vec::new(),
            quick: None,
        }
    }
}

/// Parses a shard `K/N` (1-based) into `(K - 1, N)`; the error says what was expected.
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("shard `{text}` is not valid; expected K/N with 1 ≤ K ≤ N (e.g. 2/3)");
    let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k - 1, n))
}

/// One-line text of a TOML error: `origin, line L, column C: message`.
fn toml_error(e: &toml::de::Error, text: &str, origin: &str) -> String {
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    match e.span() {
        // A span over the whole document (e.g. a missing top-level key) says nothing.
        Some(span)
            if !(span.start == 0
                && (span.end >= text.trim_end().len() || message.starts_with("missing field"))) =>
        {
            let mut start = span.start.min(text.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let before = &text[..start];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let line = before.matches('\n').count() + 1;
            let column = before[line_start..].chars().count() + 1;
            let source = text[line_start..].lines().next().unwrap_or("").trim();
            let source: String = source.chars().take(60).collect();
            if source.is_empty() {
                format!("{origin}, line {line}, column {column}: {message}")
            } else {
                format!("{origin}, line {line}, column {column}: {message} (in `{source}`)")
            }
        }
        _ => format!("{origin}: {message}"),
    }
}

/// The number of seeds of an experiment that does not say: 5.
fn default_seeds() -> usize {
    5
}

/// The starts of an experiment that does not list any: the guide's five, zeros, tiny,
/// huge, xavier-normal and he-normal.
pub fn default_inits() -> Vec<InitEntry> {
    ["zeros", "tiny", "huge", "xavier-normal", "he-normal"]
        .into_iter()
        .map(|n| InitEntry::Name(n.into()))
        .collect()
}

/// The data section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// `xor`, `circles`, `moons`, `spiral`, `blobs`, `csv` or `idx`.
    pub source: String,
    /// Generators: number of samples (circles, moons, blobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
    /// Generators: Gaussian noise std (circles, moons) or cluster std (blobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
    /// circles: inner radius relative to the outer one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// spiral: points per class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_per_class: Option<usize>,
    /// spiral and blobs: number of classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
    /// Seed of the generator (the data set is the same for every run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_seed: Option<u64>,
    /// csv: the file (relative paths are taken from the experiment file's directory, then
    /// from the current directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// csv: the label column, by name (`"label"`) or 0-based index (`0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelSpec>,
    /// csv: the field separator, one character (`","` by default; tab for `.tsv` files);
    /// `"\t"` or `"tab"` for a tab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// csv: `classification` (default) or `regression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// idx: the images file (gzip or raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<PathBuf>,
    /// idx: the labels file (gzip or raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    /// Fraction of rows held out for testing, in [0, 1).
    #[serde(default)]
    pub test_fraction: f64,
    /// Standardize features with the training split's mean and std.
    #[serde(default)]
    pub standardize: bool,
    /// Use at most this many rows (after loading; the first rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<usize>,
}

impl DataSpec {
    /// Data from `source` with every other setting at its default (as if left out of the
    /// TOML file): the generator's own sizes, no test split, no standardization.
    pub fn new(source: &str) -> Self {
        DataSpec {
            source: source.to_string(),
            samples: None,
            noise: None,
            factor: None,
            points_per_class: None,
            classes: None,
            data_seed: None,
            path: None,
            label: None,
            delimiter: None,
            task: None,
            images: None,
            labels: None,
            test_fraction: 0.0,
            standardize: false,
            max_rows: None,
        }
    }
}

/// A CSV label column, by name or index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelSpec {
    /// 0-based column index.
    Index(usize),
    /// Column name.
    Name(String),
}

/// The network section (see [`crate::experiment::build`] for the three ways to describe a
/// network). Keys left at their defaults are not written to `config.toml`, so files of
/// plain networks keep their old form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Hidden layer widths, input side first (empty with `layers`).
    #[serde(default)]
    pub hidden: Vec<usize>,
    /// The hidden activations to compare (every hidden layer of a run uses the same one).
    pub activations: Vec<Activation>,
    /// The loss (which fixes the output non-linearity).
    pub loss: Loss,
    /// `none` (default), `layernorm` or `batchnorm` after each hidden dense layer (or in
    /// each residual branch).
    #[serde(default, skip_serializing_if = "is_default")]
    pub norm: NormSpec,
    /// Where the norm goes: `pre` (default) or `post` (see [`NormPosition`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub norm_position: NormPosition,
    /// Residual blocks after the first hidden layer.
    #[serde(default, skip_serializing_if = "is_default")]
    pub residual: bool,
    /// Dense layers per residual branch (default 2).
    #[serde(default = "default_block", skip_serializing_if = "is_default_block")]
    pub block: usize,
    /// The residual branch scale α (default 1).
    #[serde(default = "default_alpha", skip_serializing_if = "is_default_alpha")]
    pub alpha: f64,
    /// Whether α is learned (ReZero, SkipInit: `alpha = 0.0`, `alpha_learnable = true`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub alpha_learnable: bool,
    /// An explicit list of layers instead of `hidden` (the output layer is added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<LayerSpec>>,
    /// `sp` (default), `ntk` or `mup` (see [`crate::nn::parametrization`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub parametrization: Parametrization,
    /// The width at which the parametrization equals SP (default 64); signed so that a
    /// negative value gets its own message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_width: Option<i64>,
    /// Start μP's readout at zero (mup's `readout_zero_init`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub readout_zero: bool,
}

impl NetworkSpec {
    /// A plain network: `hidden` widths, each followed by the compared activation.
    pub fn new(hidden: Vec<usize>, activations: Vec<Activation>, loss: Loss) -> Self {
        NetworkSpec {
            hidden,
            activations,
            loss,
            norm: NormSpec::None,
            norm_position: NormPosition::Pre,
            residual: false,
            block: default_block(),
            alpha: default_alpha(),
            alpha_learnable: false,
            layers: None,
            parametrization: Parametrization::Standard,
            base_width: None,
            readout_zero: false,
        }
    }

    /// The parametrization with its settings (`base_width` defaults to 64; call it on a
    /// validated spec).
    pub fn parametrization_setup(&self) -> Setup {
        Setup {
            parametrization: self.parametrization,
            base_width: self
                .base_width
                .map_or(DEFAULT_BASE_WIDTH, |w| w.max(0) as usize),
            readout_zero: self.readout_zero,
        }
    }

    /// The shape keys, for [`crate::experiment::build::network_layers`].
    pub fn shape(&self) -> Shape<'_> {
        Shape {
            hidden: &self.hidden,
            norm: self.norm,
            norm_position: self.norm_position,
            residual: self.residual,
            block: self.block,
            alpha: self.alpha,
            alpha_learnable: self.alpha_learnable,
            layers: self.layers.as_deref(),
        }
    }

    /// Whether a run with `activation` takes the fused fast path ([`crate::nn::Mlp`]): a
    /// plain chain whose activation's derivative comes from its output.
    /// Any parametrization but SP runs on the layer engine (its forward multipliers are
    /// layers; its learning-rate multipliers are the network's).
    pub fn runs_as_mlp(&self, activation: Activation) -> bool {
        self.shape().is_plain()
            && activation.derivative_from_output()
            && self.parametrization.is_standard()
    }
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
fn default_block() -> usize {
    2
}
fn is_default_block(b: &usize) -> bool {
    *b == 2
}
fn default_alpha() -> f64 {
    1.0
}
fn is_default_alpha(a: &f64) -> bool {
    *a == 1.0
}

/// The training section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSpec {
    /// Passes over the training set.
    pub epochs: usize,
    /// Rows per mini-batch; omitted = the whole training set (full-batch gradient descent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// `sgd` (default), `adam`, `adamw` or `rmsprop`, or a `[training.optimizer]` table with
    /// the name and hyper-parameters.
    #[serde(default)]
    pub optimizer: OptimizerSpec,
    /// Step size.
    pub learning_rate: f64,
    /// SGD's (or RMSprop's) momentum (0 = none).
    #[serde(default)]
    pub momentum: f64,
    /// L2 weight decay.
    #[serde(default)]
    pub weight_decay: f64,
    /// Record metrics every this many epochs (epoch 0 and the last always).
    #[serde(default = "default_log_every")]
    pub log_every: usize,
    /// "Epochs to reach" in the summary counts the first logged epoch with train loss ≤ this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_loss: Option<f64>,
    /// `f32` (default) or `f64`.
    #[serde(default = "default_precision")]
    pub precision: Precision,
    /// At how many logged epochs, evenly spaced from epoch 0 to the last, per-layer
    /// histograms are kept (`histograms.csv`); 0 = none. Omitted =
    /// [`TrainingSpec::DEFAULT_HISTOGRAM_EPOCHS`] (and then not written to `config.toml`, so
    /// results made before histograms existed keep their config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram_epochs: Option<usize>,
    /// Whether to write `quantiles.csv`: at every logged epoch, percentile bands of each
    /// layer's pre-activation and activation on the probe rows (TensorBoard's distribution
    /// view; off by default, as it costs a selection over the probe's values per layer).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quantiles: bool,
}

impl TrainingSpec {
    /// Full-batch SGD for `epochs` at `learning_rate`, every other setting at its default
    /// (as if left out of the TOML file): no momentum or weight decay, every epoch logged,
    /// f32.
    pub fn new(epochs: usize, learning_rate: f64) -> Self {
        TrainingSpec {
            epochs,
            batch_size: None,
            optimizer: OptimizerSpec::default(),
            learning_rate,
            momentum: 0.0,
            weight_decay: 0.0,
            log_every: default_log_every(),
            target_loss: None,
            precision: default_precision(),
            histogram_epochs: None,
            quantiles: false,
        }
    }

    /// Most logged epochs with histograms when `histogram_epochs` is omitted: 0, ¼, ½, ¾
    /// and all of training, unless that would pass [`TrainingSpec::HISTOGRAM_BUDGET`].
    pub const DEFAULT_HISTOGRAM_EPOCHS: usize = 5;

    /// Histograms (one run × layer × quantity × epoch, about 2.5 kB of `histograms.csv` for
    /// a 2048-row probe) an experiment keeps by default at most, though never fewer than at
    /// epoch 0 and the last: keeps `histograms.csv` under 10 MB for every built-in.
    pub const HISTOGRAM_BUDGET: usize = 4000;

    /// How many logged epochs get histograms: `histogram_epochs` if set, else as many as
    /// [`TrainingSpec::HISTOGRAM_BUDGET`] allows for `runs` runs of `layers` layers (five
    /// quantities each), between 2 and [`TrainingSpec::DEFAULT_HISTOGRAM_EPOCHS`].
    pub fn histogram_count(&self, runs: usize, layers: usize) -> usize {
        self.histogram_epochs.unwrap_or_else(|| {
            let per_epoch = runs
                .saturating_mul(layers)
                .saturating_mul(crate::nn::histogram::Quantity::ALL.len())
                .max(1);
            (Self::HISTOGRAM_BUDGET / per_epoch).clamp(2, Self::DEFAULT_HISTOGRAM_EPOCHS)
        })
    }
}

impl ExperimentSpec {
    /// The logged epochs at which histograms are kept (see [`TrainingSpec::histogram_count`]
    /// and [`crate::experiment::stats::histogram_epochs`]), the same for every run and
    /// shard of the grid.
    pub fn histogram_epoch_list(&self) -> Vec<usize> {
        let runs = self
            .inits
            .len()
            .saturating_mul(self.network.activations.len())
            .saturating_mul(self.seeds);
        let layers = self.network.hidden.len() + 1;
        let t = &self.training;
        super::stats::histogram_epochs(t.epochs, t.log_every, t.histogram_count(runs, layers))
    }
}

fn default_log_every() -> usize {
    1
}
fn default_precision() -> Precision {
    Precision::F32
}

/// Floating-point precision of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats (default).
    F32,
    /// 64-bit floats.
    F64,
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        })
    }
}

/// One start to compare: a scheme name, or a table with the name, parameters, an optional
/// display label and an optional bias initializer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InitEntry {
    /// Just the name, with default parameters.
    Name(String),
    /// `{ name = "huge", std = 5.0, label = "huge-5", bias = "zeros" }`.
    Table {
        /// The scheme.
        name: String,
        /// Shown in CSV files and plots instead of the name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// Bias initializer for this start.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bias: Option<Box<InitEntry>>,
        /// The scheme's parameters.
        #[serde(flatten)]
        params: BTreeMap<String, toml::Value>,
    },
}

/// A start resolved into an engine initializer.
#[derive(Clone, Debug)]
pub struct ResolvedInit {
    /// Name in CSV files and plots.
    pub label: String,
    /// Weight initializer.
    pub init: Init,
    /// Bias initializer, if not the scheme's default.
    pub bias: Option<Init>,
}

impl InitEntry {
    /// Resolves to an engine initializer; `context` names where the entry is, for errors.
    pub fn resolve(&self, context: &str) -> Result<(Init, Option<String>, Option<Init>), String> {
        match self {
            InitEntry::Name(name) => {
                let init: Init = name.parse().map_err(|e| format!("{context}: {e}"))?;
                Ok((init, None, None))
            }
            InitEntry::Table {
                name,
                label,
                bias,
                params,
            } => {
                let mut list = Vec::new();
                for (key, value) in params {
                    let v = match value {
                        toml::Value::Integer(i) => ParamValue::Number(*i as f64),
                        toml::Value::Float(f) => ParamValue::Number(*f),
                        toml::Value::String(s) => ParamValue::Text(s.clone()),
                        other => {
                            return Err(format!(
                                "{context}: parameter `{key}` of `{name}` must be a number or a string, got {}",
                                other.type_str()
                            ));
                        }
                    };
                    list.push((key.clone(), v));
                }
                let init = parse_init(name, &list).map_err(|e| format!("{context}: {e}"))?;
                let bias = match bias {
                    Some(b) => Some(b.resolve_bias(&format!("{context}.bias"))?),
                    None => None,
                };
                Ok((init, label.clone(), bias))
            }
        }
    }

    /// Resolves an entry given as a bias initializer (the matrix schemes cannot be one).
    pub fn resolve_bias(&self, context: &str) -> Result<Init, String> {
        let (init, _, _) = self.resolve(context)?;
        check_bias_init(&init).map_err(|e| format!("{context}: {e}"))?;
        Ok(init)
    }

    /// The entry for a resolved init, with every parameter written out.
    pub fn from_resolved(r: &ResolvedInit) -> InitEntry {
        let name = r.init.name();
        let params: BTreeMap<String, toml::Value> = r
            .init
            .params()
            .into_iter()
            .map(|(k, v)| {
                let value = match v.parse::<f64>() {
                    // A formula that reads as an infinite number ("11e308") stays text:
                    // written as `inf`, it would no longer parse as a formula.
                    Ok(f) if f.is_finite() => toml::Value::Float(f),
                    _ => toml::Value::String(v),
                };
                (k, value)
            })
            .collect();
        let bias = r.bias.as_ref().map(|b| {
            Box::new(InitEntry::from_resolved(&ResolvedInit {
                label: b.name(),
                init: b.clone(),
                bias: None,
            }))
        });
        let label = (r.label != name).then(|| r.label.clone());
        if params.is_empty() && bias.is_none() && label.is_none() {
            InitEntry::Name(name)
        } else {
            InitEntry::Table {
                name,
                label,
                bias,
                params,
            }
        }
    }
}

/// An error in an experiment's configuration (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ExperimentSpec {
    /// Parses TOML text; `origin` (a file path or `built-in NAME`) prefixes every error.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // On a thread with a large stack, which also drops whatever nests too deep for
        // the rest of the program (see `untrusted::check_value_depth`).
        super::untrusted::on_parse_stack(|| {
            let spec: ExperimentSpec =
                toml::from_str(text).map_err(|e| ConfigError(toml_error(&e, text, origin)))?;
            super::untrusted::check_value_depth(&spec, origin).map_err(ConfigError)?;
            Ok(spec)
        })
    }

    /// Checks every value and resolves the inits; errors name the key and what was expected.
    pub fn validate(&self, origin: &str) -> Result<Vec<ResolvedInit>, ConfigError> {
        let err = |msg: String| Err(ConfigError(format!("{origin}: {msg}")));
        if self.name.trim().is_empty() {
            return err("`name` must not be empty".into());
        }
        if self.name.contains(['/', '\\']) || self.name.starts_with('.') {
            return err(format!(
                "`name` = {:?} must not contain path separators or start with a dot",
                self.name
            ));
        }
        if let Some(shard) = &self.shard {
            parse_shard(shard).map_err(|e| ConfigError(format!("{origin}: `shard`: {e}")))?;
        }
        if self.seeds == 0 {
            return err("`seeds` must be at least 1, got 0".into());
        }
        let t = &self.training;
        if t.epochs == 0 {
            return err("`training.epochs` must be at least 1, got 0".into());
        }
        if t.batch_size == Some(0) {
            return err(
                "`training.batch_size` must be at least 1 (omit it for full batch), got 0".into(),
            );
        }
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
            return err(format!(
                "`training.learning_rate` must be a finite number > 0, got {}",
                t.learning_rate
            ));
        }
        if !(t.momentum.is_finite() && (0.0..1.0).contains(&t.momentum)) {
            return err(format!(
                "`training.momentum` must be in [0, 1), got {}",
                t.momentum
            ));
        }
        t.optimizer
            .build::<f64>(t.learning_rate, t.momentum, t.weight_decay)
            .map_err(|e| ConfigError(format!("{origin}: {e}")))?;
        if !(t.weight_decay.is_finite() && t.weight_decay >= 0.0) {
            return err(format!(
                "`training.weight_decay` must be a finite number ≥ 0, got {}",
                t.weight_decay
            ));
        }
        if t.log_every == 0 {
            return err("`training.log_every` must be at least 1, got 0".into());
        }
        if let Some(target) = t.target_loss
            && !(target.is_finite() && target >= 0.0)
        {
            return err(format!(
                "`training.target_loss` must be a finite number ≥ 0, got {target}"
            ));
        }
        let d = &self.data;
        if !(d.test_fraction.is_finite() && (0.0..1.0).contains(&d.test_fraction)) {
            return err(format!(
                "`data.test_fraction` must be in [0, 1), got {}",
                d.test_fraction
            ));
        }
        const SOURCES: &str = "xor, circles, moons, spiral, blobs, csv, idx";
        if !SOURCES.split(", ").any(|s| s == d.source) {
            return err(format!(
                "unknown data source `{}` in `data.source`; expected one of: {SOURCES}",
                d.source
            ));
        }
        if let Some(noise) = d.noise
            && !(noise.is_finite() && noise >= 0.0)
        {
            return err(format!(
                "`data.noise` must be a finite number ≥ 0, got {noise}"
            ));
        }
        if let Some(factor) = d.factor
            && !(factor.is_finite() && (0.0..1.0).contains(&factor))
        {
            return err(format!("`data.factor` must be in [0, 1), got {factor}"));
        }
        for (key, value) in [
            ("data.samples", d.samples),
            ("data.points_per_class", d.points_per_class),
            ("data.max_rows", d.max_rows),
        ] {
            if value == Some(0) {
                return err(format!("`{key}` must be at least 1, got 0"));
            }
        }
        if let Some(classes) = d.classes
            && classes < 2
        {
            return err(format!("`data.classes` must be at least 2, got {classes}"));
        }
        match d.source.as_str() {
            "csv" if d.path.is_none() => {
                return err("`data.source = \"csv\"` needs `data.path`".into());
            }
            "idx" if d.images.is_none() || d.labels.is_none() => {
                return err("`data.source = \"idx\"` needs `data.images` and `data.labels`".into());
            }
            _ => {}
        }
        if let Some(delimiter) = &d.delimiter {
            parse_delimiter(delimiter).map_err(|e| ConfigError(format!("{origin}: {e}")))?;
        }
        if let Some(task) = &d.task
            && task != "classification"
            && task != "regression"
        {
            return err(format!(
                "`data.task` must be `classification` or `regression`, got `{task}`"
            ));
        }
        let n = &self.network;
        if let Some(pos) = n.hidden.iter().position(|&w| w == 0) {
            return err(format!(
                "`network.hidden[{pos}]` is 0; every hidden width must be at least 1"
            ));
        }
        if n.activations.is_empty() {
            return err("`network.activations` must list at least one activation".into());
        }
        if n.layers.is_some() && !n.hidden.is_empty() {
            return err(
                "`network.layers` and `network.hidden` both describe the hidden layers; give \
                 one of them"
                    .into(),
            );
        }
        if n.layers.is_some() && (n.residual || n.norm != NormSpec::None) {
            return err(
                "`network.layers` lists every layer itself; `network.norm` and \
                 `network.residual` apply to `network.hidden` only"
                    .into(),
            );
        }
        if let Some(w) = n.base_width
            && w <= 0
        {
            return err(format!(
                "`network.base_width` must be a width ≥ 1 (the width at which `{}` equals the \
                 standard parametrization), got {w}",
                n.parametrization
            ));
        }
        n.parametrization_setup()
            .validate()
            .map_err(|e| ConfigError(format!("{origin}: {e}")))?;
        if !n.parametrization.is_standard() {
            for &a in &n.activations {
                use super::build::Plan;
                let plan = network_plan(&n.shape(), 1, 1, a)
                    .map_err(|e| ConfigError(format!("{origin}: {e}")))?;
                let dense = plan.iter().filter(|p| matches!(p, Plan::Dense(..))).count();
                let residual = plan.iter().any(|p| matches!(p, Plan::Residual { .. }));
                Setup::roles_of(dense, residual).map_err(|e| {
                    ConfigError(format!(
                        "{origin}: `network.parametrization` = \"{}\": {e}",
                        n.parametrization
                    ))
                })?;
            }
        }
        if !(n.alpha.is_finite()) {
            return err(format!(
                "`network.alpha` must be a finite number, got {}",
                n.alpha
            ));
        }
        // Plan every compared network once (shapes only: nothing is allocated before the
        // memory guard; the data's widths do not matter to the checks).
        for &a in &n.activations {
            network_plan(&n.shape(), 1, 1, a).map_err(|e| ConfigError(format!("{origin}: {e}")))?;
        }
        if (n.norm == NormSpec::Batchnorm || uses_batch_norm(n.layers.as_deref()))
            && t.batch_size == Some(1)
        {
            {
                return err(
                    "`training.batch_size` = 1 with BatchNorm: batch statistics need at least \
                     2 rows per batch (PyTorch refuses it too); use batch_size ≥ 2 or \
                     norm = \"layernorm\""
                        .into(),
                );
            }
        }
        if self.inits.is_empty() {
            return err("`inits` must list at least one start".into());
        }
        let default_bias = match &self.bias {
            Some(b) => Some(
                b.resolve_bias("bias")
                    .map_err(|e| ConfigError(format!("{origin}: {e}")))?,
            ),
            None => None,
        };
        let mut resolved: Vec<ResolvedInit> = Vec::new();
        for (i, entry) in self.inits.iter().enumerate() {
            let (init, label, bias) = entry
                .resolve(&format!("inits[{i}]"))
                .map_err(|e| ConfigError(format!("{origin}: {e}")))?;
            let label = label.unwrap_or_else(|| init.name());
            if resolved.iter().any(|r| r.label == label) {
                return err(format!(
                    "inits[{i}]: the start `{label}` appears twice; give one a different `label`"
                ));
            }
            resolved.push(ResolvedInit {
                label,
                init,
                bias: bias.or_else(|| default_bias.clone()),
            });
        }
        let mut seen = Vec::new();
        for a in &n.activations {
            if seen.contains(a) {
                return err(format!("`network.activations` lists `{a}` twice"));
            }
            seen.push(*a);
        }
        Ok(resolved)
    }
}

/// Whether an explicit layer list has a BatchNorm anywhere.
fn uses_batch_norm(layers: Option<&[LayerSpec]>) -> bool {
    layers.is_some_and(|layers| {
        layers.iter().any(|l| match l {
            LayerSpec::Name(n) => n.trim().eq_ignore_ascii_case("batchnorm"),
            LayerSpec::Residual { residual, .. } => uses_batch_norm(Some(residual)),
            LayerSpec::Dense { .. } => false,
        })
    })
}

/// Resolves a data path: absolute as is; relative to the experiment file's directory if it
/// exists there, else relative to the current directory.
pub fn resolve_path(path: &Path, base: Option<&Path>) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    if let Some(base) = base {
        let candidate = base.join(path);
        if candidate.exists() {
            return candidate;
        }
    }
    path.to_path_buf()
}

/// Reads `data.delimiter`: one ASCII character, or `tab` / `\t` for a tab.
pub fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && t != "\"" && t != "\n" && t != "\r" => {
            Ok(t.as_bytes()[0])
        }
        t => Err(format!(
            "`data.delimiter` = {t:?} is not valid; expected one ASCII character such as \",\" or \";\", or \"tab\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TOML example of this module's documentation is a valid experiment.
    #[test]
    fn module_example_parses() {
        let source = include_str!("spec.rs");
        let example: String = source
            .lines()
            .skip_while(|l| *l != "//! ```toml")
            .skip(1)
            .take_while(|l| *l != "//! ```")
            .map(|l| l.strip_prefix("//!").unwrap_or(l).trim_start_matches(' '))
            .map(|l| format!("{l}\n"))
            .collect();
        let spec = ExperimentSpec::from_toml(&example, "example").unwrap();
        assert_eq!(spec.inits.len(), 5);
        spec.validate("example").unwrap();
    }
}
