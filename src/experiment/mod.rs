//! The experiment layer: experiments as TOML data, the grid runner, per-layer statistics,
//! the tidy CSV records and the results directory. It knows nothing of terminals: progress
//! goes through a callback, and the summary comes back as data and as a formatted table.

pub mod merge;
pub mod output;
pub mod prepare;
pub mod record;
pub mod runner;
pub mod spec;
pub mod stats;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use crate::nn::Float;

pub use spec::{ConfigError, ExperimentSpec, Precision, ResolvedInit};

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
    /// `built-in NAME` or the file path, for messages.
    pub origin: String,
    /// Directory relative data paths are resolved against (the TOML file's directory).
    pub base_dir: Option<PathBuf>,
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
        let spec = ExperimentSpec::from_toml(text, origin)?;
        let inits = spec.validate(origin)?;
        Ok(Experiment {
            spec,
            inits,
            origin: origin.to_string(),
            base_dir,
        })
    }

    /// Applies command-line overrides and validates again.
    pub fn with_overrides(mut self, o: &Overrides) -> Result<Self, ConfigError> {
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
        if let Some(v) = o.precision {
            s.training.precision = v;
        }
        if let Some(list) = &o.inits {
            s.inits = list
                .iter()
                .map(|n| spec::InitEntry::Name(n.clone()))
                .collect();
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
        let origin = format!("{} (with command-line options)", self.origin);
        self.inits = self.spec.validate(&origin)?;
        Ok(self)
    }

    /// The fully resolved spec as written to `config.toml`.
    pub fn resolved_spec(&self) -> ExperimentSpec {
        let mut spec = self.spec.clone();
        spec.inits = self
            .inits
            .iter()
            .map(spec::InitEntry::from_resolved)
            .collect();
        spec.bias = None;
        spec.initlab_version = Some(env!("CARGO_PKG_VERSION").to_string());
        spec
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

    /// The activation names, in order.
    pub fn activation_names(&self) -> Vec<String> {
        self.spec
            .network
            .activations
            .iter()
            .map(|a| a.name())
            .collect()
    }
}

/// How to execute an experiment.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Results directory.
    pub out: PathBuf,
    /// Worker threads.
    pub threads: usize,
    /// Draw the SVGs and report.html.
    pub plots: bool,
    /// Write weights as .npy.
    pub save_weights: bool,
    /// Run only shard `(part, count)` (0-based part).
    pub shard: Option<(usize, usize)>,
}

/// What an execution produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The summary rows, in experiment order.
    pub summary: Vec<record::SummaryRow>,
    /// Runs finished and written.
    pub runs_done: usize,
    /// Runs in the grid (or shard).
    pub runs_total: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Whether a stop signal cut the experiment short.
    pub interrupted: bool,
    /// Where the results are.
    pub out: PathBuf,
    /// Whether anything was written: false when a stop came before any run finished (the
    /// previous results, if any, are then left as they were).
    pub written: bool,
    /// Warnings for the user (e.g. LSUV could not rescale a layer).
    pub warnings: Vec<String>,
}

/// Errors of execution, by kind (the CLI maps them to exit codes).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Bad configuration or data (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad data file content or missing data file (exit code 2).
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// Output could not be written (exit code 1).
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// Loads the data, runs the grid and writes the results directory (replacing any previous
/// one only once everything is written). `progress(done, total)` is called after each run.
pub fn execute(
    exp: &Experiment,
    options: &ExecOptions,
    stop: &AtomicBool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Outcome, ExecError> {
    let dataset = prepare::load(&exp.spec.data, exp.base_dir.as_deref()).map_err(|e| match e {
        prepare::PrepareError::Data(d) => ExecError::Data(d),
        prepare::PrepareError::Config(c) => ExecError::Config(c),
    })?;
    let outputs = prepare::output_width(&dataset, exp.spec.network.loss)
        .map_err(|e| ConfigError(format!("{}: {}", exp.origin, e.0)))?;
    if exp.inits.iter().any(|i| i.init.is_data_dependent()) && dataset.is_empty() {
        return Err(ConfigError(format!("{}: lsuv needs training data", exp.origin)).into());
    }
    let staging = output::Staging::new(&options.out)?;
    let outcome = match exp.spec.training.precision {
        Precision::F32 => {
            execute_typed::<f32>(exp, options, stop, progress, &dataset, outputs, &staging)?
        }
        Precision::F64 => {
            execute_typed::<f64>(exp, options, stop, progress, &dataset, outputs, &staging)?
        }
    };
    if outcome.interrupted && outcome.runs_done == 0 {
        // Nothing finished: write nothing, keep what was there (the staging dir is removed).
        drop(staging);
        return Ok(Outcome {
            written: false,
            ..outcome
        });
    }
    // A partial experiment never replaces complete previous results: it goes beside them.
    let out = if outcome.interrupted && options.out.exists() {
        staging.commit_to(&partial_path(&options.out))?
    } else {
        staging.commit()?
    };
    Ok(Outcome {
        out,
        written: true,
        ..outcome
    })
}

/// Where an interrupted rerun writes its partial results when `out` already holds results:
/// the sibling `<out>.partial`.
pub fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    out.with_file_name(format!("{name}.partial"))
}

#[allow(clippy::too_many_arguments)] // internal continuation of `execute`
fn execute_typed<T: Float + ndarray_npy::WritableElement>(
    exp: &Experiment,
    options: &ExecOptions,
    stop: &AtomicBool,
    progress: &(dyn Fn(usize, usize) + Sync),
    dataset: &crate::data::Dataset,
    outputs: usize,
    staging: &output::Staging,
) -> Result<Outcome> {
    let spec = &exp.spec;
    let runs = runner::grid(spec, exp.inits.len(), options.shard);
    let total = runs.len();
    let run_options = runner::RunOptions {
        threads: options.threads,
        save_weights: options.save_weights,
        shard: options.shard,
    };
    let report = |done: usize| progress(done, total);
    let shared = runner::Shared {
        spec,
        inits: &exp.inits,
        dataset,
        outputs,
    };
    let results = runner::run_grid::<T>(shared, &runs, &run_options, stop, &report);
    let interrupted = results.len() < total;
    let labels = exp.init_labels();
    let activations = exp.activation_names();
    let summary = summarize_results(spec, &labels, &activations, &results, interrupted);
    let mut warnings = Vec::new();
    for r in &results {
        if !r.lsuv_stuck.is_empty() {
            warnings.push(format!(
                "{} / {} / seed {}: LSUV could not rescale layer(s) {:?} (zero output variance on the batch); left as initialized",
                labels[r.spec.init], activations[r.spec.activation], r.spec.seed,
                r.lsuv_stuck.iter().map(|l| l + 1).collect::<Vec<_>>()
            ));
        }
    }
    let points = if dataset.n_features() == 2 {
        let mut split_rng = rand::SeedableRng::seed_from_u64(runner::derive_seed(spec.seed, 1));
        Some(prepare::prepare::<T>(dataset, &spec.data, &mut split_rng).train_f64)
    } else {
        None
    };
    let dir = &staging.dir;
    output::write_tables(
        dir,
        &spec.name,
        &labels,
        &activations,
        &results,
        &summary,
        points.as_ref(),
    )?;
    let config = toml::to_string(&exp.resolved_spec())
        .context("cannot serialize the resolved experiment")?;
    output::write_file(dir, "config.toml", |w| w.write_all(config.as_bytes()))?;
    if options.save_weights {
        output::write_weights(dir, &labels, &activations, &results)?;
    }
    if options.plots && !results.is_empty() {
        crate::report::draw_all(dir, &exp.formulas())?;
    }
    let diverged = results
        .iter()
        .filter(|r| r.records.last().is_some_and(|x| x.diverged))
        .count();
    Ok(Outcome {
        summary,
        runs_done: results.len(),
        runs_total: total,
        diverged,
        interrupted,
        out: options.out.clone(),
        written: false,
        warnings,
    })
}

/// Summary rows for every start × activation present in `results`, in grid order.
pub fn summarize_results<T>(
    spec: &ExperimentSpec,
    labels: &[String],
    activations: &[String],
    results: &[runner::RunResult<T>],
    partial: bool,
) -> Vec<record::SummaryRow> {
    let mut rows = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        for (a, act) in activations.iter().enumerate() {
            let runs: Vec<&[crate::nn::EpochRecord]> = results
                .iter()
                .filter(|r| r.spec.init == i && r.spec.activation == a)
                .map(|r| r.records.as_slice())
                .collect();
            if runs.is_empty() {
                continue;
            }
            rows.push(record::summarize(
                &spec.name,
                label,
                act,
                &runs,
                spec.training.target_loss,
                partial,
            ));
        }
    }
    rows
}

/// The summary as a table for the terminal: grouped by activation, best final loss first,
/// the best start of each activation marked with `*`.
pub fn format_summary(rows: &[record::SummaryRow], target: Option<f64>) -> String {
    use std::fmt::Write as _;
    let pm = |p: Option<(f64, f64)>, pct: bool| match p {
        Some((m, s)) if pct => format!("{:.1} ± {:.1} %", 100.0 * m, 100.0 * s),
        Some((m, s)) => format!("{m:.4} ± {s:.4}"),
        None => "—".into(),
    };
    let has_test = rows.iter().any(|r| r.test_accuracy.is_some());
    let has_acc = rows.iter().any(|r| r.train_accuracy.is_some());
    let mut header = vec![
        "activation",
        "",
        "init",
        "runs",
        "diverged",
        "final train loss",
    ];
    if has_acc {
        header.push("train accuracy");
    }
    if has_test {
        header.push("test accuracy");
    }
    let target_col = target.map(|t| format!("epochs to loss ≤ {t}"));
    if let Some(t) = &target_col {
        header.push(t);
    }
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    let mut activations: Vec<&str> = Vec::new();
    for r in rows {
        if !activations.contains(&r.activation.as_str()) {
            activations.push(&r.activation);
        }
    }
    for act in activations {
        let mut group: Vec<&record::SummaryRow> =
            rows.iter().filter(|r| r.activation == act).collect();
        let key = |r: &record::SummaryRow| r.train_loss.map_or(f64::INFINITY, |(m, _)| m);
        group.sort_by(|a, b| key(a).total_cmp(&key(b)));
        for (i, r) in group.iter().enumerate() {
            let mut line = vec![
                if i == 0 {
                    act.to_string()
                } else {
                    String::new()
                },
                if i == 0 && r.train_loss.is_some() {
                    "*".into()
                } else {
                    String::new()
                },
                r.init.clone(),
                r.runs.to_string(),
                r.diverged.to_string(),
                pm(r.train_loss, false),
            ];
            if has_acc {
                line.push(pm(r.train_accuracy, true));
            }
            if has_test {
                line.push(pm(r.test_accuracy, true));
            }
            if target_col.is_some() {
                line.push(
                    r.epochs_to_target
                        .map_or("never".into(), |e| format!("{e}")),
                );
            }
            table.push(line);
        }
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in table.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            let _ = writeln!(out, "{}", "─".repeat(total));
        }
    }
    out
}
