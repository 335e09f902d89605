//! Loading an experiment: the built-in registry, TOML files, specs built in code, and the
//! command-line overrides, each validated into an [`Experiment`] ready to run.

use std::path::{Path, PathBuf};

use super::axes::Sweep;
use super::build::{NormSpec, OptimizerSpec};
use super::prepare::PrepareError;
use super::record::RunKey;
use super::runner::RunSpec;
use super::spec::{ConfigError, DataSpec, ExperimentSpec, InitEntry, Precision, ResolvedInit};
use super::untrusted::DataPolicy;

/// The experiments that ship with initlab, embedded so their names work from any directory.
pub const BUILTINS: &[(&str, &str)] = &[
    ("xor", include_str!("../../experiments/xor.toml")),
    ("circles", include_str!("../../experiments/circles.toml")),
    ("moons", include_str!("../../experiments/moons.toml")),
    ("spiral", include_str!("../../experiments/spiral.toml")),
    ("iris", include_str!("../../experiments/iris.toml")),
    ("digits", include_str!("../../experiments/digits.toml")),
    (
        "deep-relu",
        include_str!("../../experiments/deep-relu.toml"),
    ),
    (
        "deep-relu-20",
        include_str!("../../experiments/deep-relu-20.toml"),
    ),
    (
        "deep-tanh",
        include_str!("../../experiments/deep-tanh.toml"),
    ),
    (
        "batchnorm",
        include_str!("../../experiments/batchnorm.toml"),
    ),
    (
        "weight-scale",
        include_str!("../../experiments/weight-scale.toml"),
    ),
    (
        "residual-depth",
        include_str!("../../experiments/residual-depth.toml"),
    ),
    ("adam", include_str!("../../experiments/adam.toml")),
    (
        "lr-transfer",
        include_str!("../../experiments/lr-transfer.toml"),
    ),
];

/// The names of the built-in experiments, for error messages.
pub fn builtin_names() -> String {
    BUILTINS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A validated experiment, ready to run.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The (possibly overridden) spec.
    pub spec: ExperimentSpec,
    /// The starts, resolved.
    pub inits: Vec<ResolvedInit>,
    /// The `[grid]` axes and the experiment at each of their points (one point, the
    /// experiment itself, without a `[grid]`).
    pub sweep: Sweep,
    /// `built-in NAME` or the file path, for messages.
    pub origin: String,
    /// Directory relative data paths are resolved against (the TOML file's directory).
    pub base_dir: Option<PathBuf>,
    /// `--untrusted`: where data files may come from; `None` trusts the file.
    pub data_policy: Option<DataPolicy>,
}

/// Changes to an experiment from the command line.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--seeds`.
    pub seeds: Option<usize>,
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// `--inits`, in the command-line syntax `name[:key=value...]`.
    pub inits: Option<Vec<String>>,
    /// `--activations`.
    pub activations: Option<Vec<String>>,
    /// `--precision`.
    pub precision: Option<Precision>,
    /// `--log-every`.
    pub log_every: Option<usize>,
    /// `--learning-rate`.
    pub learning_rate: Option<f64>,
    /// `--histogram-epochs N` (`--no-histograms` gives 0).
    pub histogram_epochs: Option<usize>,
    /// `--optimizer`.
    pub optimizer: Option<String>,
    /// `--momentum`.
    pub momentum: Option<f64>,
    /// `--weight-decay`.
    pub weight_decay: Option<f64>,
    /// `--batch-size`.
    pub batch_size: Option<usize>,
    /// `--norm`.
    pub norm: Option<String>,
    /// `--parametrization`.
    pub parametrization: Option<String>,
    /// `--base-width`.
    pub base_width: Option<i64>,
    /// `--quantiles`: write `quantiles.csv` (`training.quantiles = true`).
    pub quantiles: bool,
    /// `--quick`: run the experiment's `[quick]` preset (applied before the other flags,
    /// which still win).
    pub quick: bool,
    /// `--grid KEY=V1,V2,...`: axes set (or replaced) from the command line, each value
    /// read as TOML (a number, `true`/`false`) or else as a string.
    pub grid: Vec<(String, Vec<toml::Value>)>,
}

/// Reads one `--grid KEY=V1,V2,...` argument: the setting and its values, each value read
/// as a TOML number or boolean, else as text (`batchnorm`); the error says what was
/// expected.
pub fn parse_grid_arg(text: &str) -> Result<(String, Vec<toml::Value>), String> {
    let (key, values) = text.split_once('=').ok_or_else(|| {
        format!(
            "--grid `{text}`: expected SETTING=VALUE,VALUE,... (e.g. --grid training.learning_rate=0.01,0.1)"
        )
    })?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!(
            "--grid `{text}`: the setting before `=` is missing"
        ));
    }
    let values: Vec<toml::Value> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            toml::from_str::<toml::Table>(&format!("v = {v}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .filter(|x| !matches!(x, toml::Value::Array(_) | toml::Value::Table(_)))
                .unwrap_or_else(|| toml::Value::String(v.to_string()))
        })
        .collect();
    if values.is_empty() {
        return Err(format!(
            "--grid `{text}`: no values after `=`; give at least one (SETTING=VALUE,VALUE,...)"
        ));
    }
    Ok((key.to_string(), values))
}

/// `spec` with the `[quick]` table `preset` merged in (see [`Experiment::quick`]).
fn quick_spec(
    spec: &ExperimentSpec,
    preset: &toml::Table,
    origin: &str,
) -> Result<ExperimentSpec, ConfigError> {
    fn merge(into: &mut toml::Table, from: &toml::Table) {
        for (key, value) in from {
            match (into.get_mut(key), value) {
                (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
                _ => {
                    into.insert(key.clone(), value.clone());
                }
            }
        }
    }
    if preset.contains_key("quick") {
        return Err(ConfigError(format!(
            "{origin}: `[quick]` cannot hold another `quick`"
        )));
    }
    let toml::Value::Table(mut tree) =
        toml::Value::try_from(spec).map_err(|e| ConfigError(format!("{origin}: {e}")))?
    else {
        return Err(ConfigError(format!("{origin}: not a table")));
    };
    merge(&mut tree, preset);
    let mut quick: ExperimentSpec = toml::Value::Table(tree)
        .try_into()
        .map_err(|e| ConfigError(format!("{origin} `[quick]`: {}", e.message())))?;
    // What `[[expect]]` holds is not serialized; the quick version keeps the same tables.
    quick.expect = spec.expect.clone();
    Ok(quick)
}

impl Experiment {
    /// Loads a built-in experiment by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Self, ConfigError> {
        let path = Path::new(name_or_path);
        let looks_like_path = name_or_path.ends_with(".toml")
            || name_or_path.contains(std::path::MAIN_SEPARATOR)
            || name_or_path.contains('/');
        if !looks_like_path
            && let Some((_, text)) = BUILTINS.iter().find(|(n, _)| *n == name_or_path)
        {
            // Built-ins name their data relative to the crate's experiments/ directory.
            let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
            return Self::from_text(
                text,
                &format!("built-in experiment `{name_or_path}`"),
                Some(base),
            );
        }
        if !looks_like_path && !path.exists() {
            return Err(ConfigError(format!(
                "unknown experiment `{name_or_path}`; built-in experiments are: {} (or give the path of a .toml file)",
                builtin_names()
            )));
        }
        if path.is_dir() {
            return Err(ConfigError(format!(
                "{}: is a directory, expected an experiment .toml file",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| {
            ConfigError(format!(
                "{}: cannot read experiment file: {e}",
                path.display()
            ))
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            ConfigError(format!(
                "{}: not valid UTF-8 text (byte {}); expected a TOML file",
                path.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        let base = path.parent().map(Path::to_path_buf);
        Self::from_text(&text, &path.display().to_string(), base)
    }

    /// Parses and validates TOML text.
    pub fn from_text(
        text: &str,
        origin: &str,
        base_dir: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        Self::from_spec(ExperimentSpec::from_toml(text, origin)?, origin, base_dir)
    }

    /// Validates a spec built in code (or parsed); `origin` prefixes every error.
    pub fn from_spec(
        spec: ExperimentSpec,
        origin: &str,
        base_dir: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        // A `[quick]` preset is checked now, not first when someone asks for it.
        if let Some(preset) = &spec.quick {
            let quick = quick_spec(&spec, preset, origin)?;
            let inits = quick.validate(&format!("{origin} `[quick]`"))?;
            super::axes::expand(&quick, &inits, &format!("{origin} `[quick]`"))
                .map_err(ConfigError)?;
        }
        let inits = spec.validate(origin)?;
        let sweep = super::axes::expand(&spec, &inits, origin).map_err(ConfigError)?;
        Ok(Experiment {
            spec,
            inits,
            sweep,
            origin: origin.to_string(),
            base_dir,
            data_policy: None,
        })
    }

    /// The experiment's `[quick]` preset applied: each table of the preset merged into the
    /// spec's (a `[quick.grid]` axis replaces that axis), each value replacing the one it
    /// names; the preset itself is kept, so `config.toml` can run the full version again.
    /// An error when the experiment has none, or the preset names a key the file could not.
    pub fn quick(mut self) -> Result<Self, ConfigError> {
        let Some(preset) = self.spec.quick.clone() else {
            return Err(ConfigError(format!(
                "--quick: {} has no `[quick]` preset (a `[quick]` table with smaller \
                 settings, e.g. `seeds = 1` and `[quick.training] epochs = 3`)",
                self.origin
            )));
        };
        self.spec = quick_spec(&self.spec, &preset, &self.origin)?;
        Ok(self)
    }

    /// Applies command-line overrides and validates again.
    pub fn with_overrides(mut self, o: &Overrides) -> Result<Self, ConfigError> {
        if o.quick {
            self = self.quick()?;
        }
        let s = &mut self.spec;
        if let Some(v) = o.seeds {
            s.seeds = v;
        }
        if let Some(v) = o.epochs {
            s.training.epochs = v;
        }
        if let Some(v) = o.log_every {
            s.training.log_every = v;
        }
        if let Some(v) = o.learning_rate {
            s.training.learning_rate = v;
        }
        if let Some(v) = o.histogram_epochs {
            s.training.histogram_epochs = Some(v);
        }
        if let Some(name) = &o.optimizer {
            // The name replaces the optimizer; a table's hyper-parameters for another
            // optimizer would not apply.
            s.training.optimizer = match &s.training.optimizer {
                OptimizerSpec::Table(t) if t.name.eq_ignore_ascii_case(name) => {
                    s.training.optimizer.clone()
                }
                _ => OptimizerSpec::Name(name.trim().to_ascii_lowercase()),
            };
        }
        // The flags win over a `[training.optimizer]` table's keys too.
        if let Some(v) = o.momentum {
            s.training.momentum = v;
            if let OptimizerSpec::Table(t) = &mut s.training.optimizer {
                t.momentum = t.momentum.map(|_| v);
            }
        }
        if let Some(v) = o.weight_decay {
            s.training.weight_decay = v;
            if let OptimizerSpec::Table(t) = &mut s.training.optimizer {
                t.weight_decay = t.weight_decay.map(|_| v);
            }
        }
        if o.quantiles {
            s.training.quantiles = true;
        }
        if let Some(v) = o.batch_size {
            s.training.batch_size = Some(v);
        }
        if let Some(norm) = &o.norm {
            s.network.norm = match norm.trim().to_ascii_lowercase().as_str() {
                "none" => NormSpec::None,
                "layernorm" => NormSpec::Layernorm,
                "batchnorm" => NormSpec::Batchnorm,
                other => {
                    return Err(ConfigError(format!(
                        "--norm {other}: unknown normalization; expected one of: none, \
                         layernorm, batchnorm"
                    )));
                }
            };
        }
        if let Some(p) = &o.parametrization {
            s.network.parametrization = p
                .parse()
                .map_err(|e| ConfigError(format!("--parametrization: {e}")))?;
        }
        if let Some(w) = o.base_width {
            if w <= 0 {
                return Err(ConfigError(format!(
                    "--base-width must be a width ≥ 1 (the width at which ntk and mup equal \
                     sp), got {w}"
                )));
            }
            s.network.base_width = Some(w);
        }
        if let Some(v) = o.precision {
            s.training.precision = v;
        }
        if let Some(list) = &o.inits {
            s.inits = list.iter().map(|n| InitEntry::Name(n.clone())).collect();
        }
        if let Some(list) = &o.activations {
            let mut acts = Vec::new();
            for a in list {
                acts.push(
                    a.parse()
                        .map_err(|e| ConfigError(format!("--activations: {e}")))?,
                );
            }
            s.network.activations = acts;
        }
        for (key, values) in &o.grid {
            let list = toml::Value::Array(values.clone());
            match s.grid.0.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = list,
                None => s.grid.0.push((key.clone(), list)),
            }
        }
        let origin = format!("{} (with command-line options)", self.origin);
        self.inits = self.spec.validate(&origin)?;
        self.sweep = super::axes::expand(&self.spec, &self.inits, &origin).map_err(ConfigError)?;
        Ok(self)
    }

    /// The experiment at one `[grid]` axis point (`k` into [`Sweep::points`]), as if it
    /// were written without a `[grid]`: its settings and starts, its origin naming the
    /// point (the experiment itself without a `[grid]`).
    pub fn at_point(&self, k: usize) -> Experiment {
        let point = &self.sweep.points[k];
        let origin = if self.sweep.axes.is_empty() {
            self.origin.clone()
        } else {
            format!("{} at `[grid]` {}", self.origin, self.sweep.describe(k))
        };
        Experiment {
            spec: point.spec.clone(),
            inits: point.inits.clone(),
            sweep: Sweep {
                axes: Vec::new(),
                points: vec![point.clone()],
            },
            origin,
            base_dir: self.base_dir.clone(),
            data_policy: self.data_policy.clone(),
        }
    }

    /// How the grid's runs multiply, for messages: `5 starts × 1 activation × 20
    /// training.learning_rate × 2 network.norm × 3 seeds`.
    pub fn run_count_text(&self) -> String {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut parts = vec![
            plural(self.inits.len(), "start"),
            plural(self.spec.network.activations.len(), "activation"),
        ];
        for axis in &self.sweep.axes {
            parts.push(format!("{} {}", axis.values.len(), axis.key));
        }
        parts.push(plural(self.spec.seeds, "seed"));
        parts.join(" × ")
    }

    /// The fully resolved spec as written to `config.toml`.
    pub fn resolved_spec(&self) -> ExperimentSpec {
        let mut spec = self.spec.clone();
        spec.inits = self.inits.iter().map(InitEntry::from_resolved).collect();
        spec.bias = None;
        spec.initlab_version = Some(env!("CARGO_PKG_VERSION").to_string());
        spec.classes = self.class_names().or_else(|| self.spec.classes.clone());
        spec
    }

    /// The class names of the data, when the data name their classes (a CSV label column
    /// of names): read from the data file, which a run has just read successfully
    /// (`None` otherwise, or if it cannot be read now).
    pub fn class_names(&self) -> Option<Vec<String>> {
        let d = &self.spec.data;
        if d.source != "csv" || d.task.as_deref() == Some("regression") {
            return None;
        }
        self.load_data().ok().and_then(|(_, names)| names)
    }

    /// The data section as it is loaded: as written, or under `--untrusted`
    /// ([`Experiment::data_policy`]) with every data file checked to be inside the data root
    /// and replaced by its canonical path.
    pub fn data_to_load(&self) -> Result<DataSpec, ConfigError> {
        let mut d = self.spec.data.clone();
        let Some(policy) = &self.data_policy else {
            return Ok(d);
        };
        let base = self.base_dir.as_deref();
        let check = |key: &str, path: &mut Option<PathBuf>| -> Result<(), ConfigError> {
            if let Some(given) = path.take() {
                let inside = policy
                    .check(key, &given, base)
                    .map_err(|e| ConfigError(format!("{}: {e}", self.origin)))?;
                *path = Some(inside);
            }
            Ok(())
        };
        match d.source.as_str() {
            "csv" => check("data.path", &mut d.path)?,
            "idx" => {
                check("data.images", &mut d.images)?;
                check("data.labels", &mut d.labels)?;
            }
            // Generated data read no file; a path left beside them is not read either.
            _ => {}
        }
        Ok(d)
    }

    /// Loads (or generates) the experiment's data with its class names, within
    /// [`Experiment::data_policy`]: under `--untrusted`, a file outside the data root is
    /// refused and an error about a file's content quotes none of it.
    pub fn load_data(&self) -> Result<(crate::data::Dataset, Option<Vec<String>>), PrepareError> {
        let d = self.data_to_load()?;
        let loaded = super::prepare::load_named(&d, self.base_dir.as_deref());
        match (loaded, &self.data_policy) {
            (Err(PrepareError::Data(e)), Some(_)) => Err(PrepareError::Data(e.without_contents())),
            (other, _) => other,
        }
    }

    /// (label, formula) of every start, for the report.
    pub fn formulas(&self) -> Vec<(String, String)> {
        self.inits
            .iter()
            .map(|r| (r.label.clone(), r.init.formula()))
            .collect()
    }

    /// The labels of the starts, in order.
    pub fn init_labels(&self) -> Vec<String> {
        self.inits.iter().map(|r| r.label.clone()).collect()
    }

    /// The key of a run's rows: the experiment's name, the run's start label and
    /// activation name, its seed, and its value on each `[grid]` axis.
    pub fn key(&self, run: &RunSpec) -> RunKey {
        RunKey {
            experiment: self.spec.name.clone(),
            init: self.inits[run.init].label.clone(),
            activation: self.spec.network.activations[run.activation].name(),
            seed: run.seed,
            axes: self.sweep.key_of(run.point),
        }
    }
}
