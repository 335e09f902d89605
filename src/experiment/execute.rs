//! Executing a loaded experiment: load its data, run the grid, and write the results
//! directory whole (into a staging directory that replaces the previous results only once
//! everything is written), each run's rows as soon as the runs before it are written, so
//! memory does not grow with the grid. Drawing the report is the caller's business.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use crate::memory::Budget;
use crate::nn::Float;

use super::output;
use super::record::{self, ClassSummaryRow, PointRow, SummaryRow};
use super::runner::{self, RunResult};
use super::spec::{ConfigError, Precision};
use super::{Experiment, footprint, prepare};

/// How to execute an experiment.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Results directory.
    pub out: PathBuf,
    /// Worker threads.
    pub threads: usize,
    /// Write weights as .npy.
    pub save_weights: bool,
    /// Run only shard `(part, count)` (0-based part).
    pub shard: Option<(usize, usize)>,
}

/// What an execution produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The summary rows, in experiment order.
    pub summary: Vec<SummaryRow>,
    /// The final per-class accuracies of each start × activation (classification only),
    /// in experiment order.
    pub class_summary: Vec<ClassSummaryRow>,
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

/// One execution, prepared: everything the precision-typed part needs.
struct Job<'a> {
    exp: &'a Experiment,
    options: &'a ExecOptions,
    shared: runner::RunContext<'a>,
    grid: runner::Grid,
    /// Runs of the whole grid (or shard): more than `grid` holds under `--max-runs`.
    runs_total: usize,
    /// The training points of 2-D data, for `points.csv`.
    points: Option<Vec<PointRow>>,
    stop: &'a AtomicBool,
    progress: &'a (dyn Fn(usize, usize) + Sync),
}

/// For each `critical` start, a comment for `config.toml` with the σ_w² it picked for each
/// compared activation (the hidden layers; the output layer, followed by no activation, gets
/// 1). Nothing for experiments without one, whose files keep their old form.
fn critical_scales(exp: &Experiment) -> String {
    let mut text = String::new();
    for start in &exp.inits {
        if start.init.name() != "critical" {
            continue;
        }
        let sigma_b2: f64 = start
            .init
            .params()
            .into_iter()
            .find(|(k, _)| k == "sigma_b2")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0.0);
        let picked: Vec<String> = exp
            .spec
            .network
            .activations
            .iter()
            .map(|&a| match crate::theory::critical_sigma_w2(a, sigma_b2) {
                Ok(c) => format!("{a} {}", c.sigma_w2),
                Err(_) => format!("{a} none"),
            })
            .collect();
        text.push_str(&format!(
            "# `{}` picked σ_w² (χ₁ = 1 at q*, sigma_b2 = {sigma_b2}) for the hidden layers: \
             {}; the output layer: 1\n",
            start.label,
            picked.join(", ")
        ));
    }
    text
}

/// For a network on the layer engine, `config.toml`'s closing comment: the layers each
/// compared activation resolved to on this data (nothing for plain networks, whose files
/// keep their old form).
fn resolved_layers(job: &Job<'_>) -> String {
    let spec = job.shared.spec;
    if spec.network.shape().is_plain()
        && spec
            .network
            .activations
            .iter()
            .all(|a| a.derivative_from_output())
    {
        return String::new();
    }
    let mut text = String::from(
        "\n# The network each activation resolved to, input to output (the layer engine):\n",
    );
    for &a in &spec.network.activations {
        let features = job.shared.dataset.n_features();
        if let Ok(plan) =
            super::build::network_plan(&spec.network.shape(), features, job.shared.outputs, a)
        {
            let layers: Vec<String> = plan.iter().map(|p| p.build::<f32>().describe()).collect();
            text.push_str(&format!("# {a}: {}\n", layers.join(", ")));
        }
    }
    text
}

/// Loads the data, runs the grid and writes the results directory (replacing any previous
/// one only once everything is written). `progress(epochs_done, epochs_total)` is called
/// as the runs train (see [`runner::run_grid_in_order`]). Refuses a grid whose runs would
/// not fit in the memory available ([`execute_within`] with [`Budget::detect`]).
pub fn execute(
    exp: &Experiment,
    options: &ExecOptions,
    stop: &AtomicBool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Outcome, ExecError> {
    execute_within(exp, options, &Budget::detect(None), stop, progress)
}

/// Like [`execute`], within `budget`: once the data are loaded, and before any run
/// allocates, the memory the grid needs is estimated ([`footprint::grid_estimate`]) and a
/// grid that does not fit is refused with an error naming the setting and the estimate.
pub fn execute_within(
    exp: &Experiment,
    options: &ExecOptions,
    budget: &Budget,
    stop: &AtomicBool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Outcome, ExecError> {
    execute_limited(exp, options, budget, None, stop, progress)
}

/// Like [`execute_within`], running at most `max_runs` runs (`--max-runs`): the first ones
/// of the grid (or shard), in grid order. When that leaves runs out, the results are
/// partial as after an interrupt ([`Outcome::interrupted`], `partial=true` in
/// `summary.csv`, written beside complete previous results).
pub fn execute_limited(
    exp: &Experiment,
    options: &ExecOptions,
    budget: &Budget,
    max_runs: Option<usize>,
    stop: &AtomicBool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Outcome, ExecError> {
    let spec = &exp.spec;
    let (dataset, class_names) = exp.load_data().map_err(|e| match e {
        prepare::PrepareError::Data(d) => ExecError::Data(d),
        prepare::PrepareError::Config(c) => ExecError::Config(c),
    })?;
    let outputs = prepare::output_width(&dataset, spec.network.loss)
        .map_err(|e| ConfigError(format!("{}: {}", exp.origin, e.0)))?;
    for k in 0..exp.sweep.points.len() {
        prepare::check_starts(&exp.at_point(k), &dataset, outputs)?;
    }
    if let Some(start) = exp.inits.iter().find(|i| i.init.is_data_dependent())
        && dataset.is_empty()
    {
        return Err(ConfigError(format!(
            "{}: {} needs training data",
            exp.origin,
            start.init.name()
        ))
        .into());
    }
    let shape = footprint::DataShape {
        rows: dataset.len(),
        features: dataset.n_features(),
        outputs,
    };
    let element = match spec.training.precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    let threads = options.threads.max(1);
    // The memory guard counts the largest axis point (every point's runs are alike but for
    // its settings); its message names the point.
    let mut needs: Option<(usize, crate::memory::Estimate)> = None;
    for (k, point) in exp.sweep.points.iter().enumerate() {
        let estimate = footprint::grid_estimate(
            &point.spec,
            shape,
            threads,
            runner::WINDOW_PER_THREAD * threads,
            options.save_weights,
            element,
        );
        if needs
            .as_ref()
            .is_none_or(|(_, e)| estimate.total() > e.total())
        {
            needs = Some((k, estimate));
        }
    }
    let (largest, needs) = needs.expect("an experiment has at least one point");
    budget
        .check(&needs)
        .map_err(|m| ConfigError(format!("{}: {m}", exp.at_point(largest).origin)))?;
    for k in 0..exp.sweep.points.len() {
        prepare::check_layer_engine(&exp.at_point(k), &dataset, outputs)?;
    }
    let full_grid = runner::Grid::new(exp, options.shard);
    if let Some(limit) = max_runs
        && !exp.sweep.axes.is_empty()
        && full_grid.len() > limit
    {
        // A sweep cut short is no sweep: refuse it whole rather than run its first points.
        return Err(ConfigError(format!(
            "{}: the `[grid]` sweep makes {} runs ({}), more than --max-runs {limit}; sweep fewer values, or run it in shards (--shard K/N) of at most {limit} runs",
            exp.origin,
            full_grid.len(),
            exp.run_count_text(),
        ))
        .into());
    }
    let points = (dataset.n_features() == 2).then(|| {
        // The first replicate's training split, as its runs saw it.
        let mut split_rng = rand::SeedableRng::seed_from_u64(runner::derive_seed(spec.seed, 1));
        record::points_of(&prepare::prepare::<f64>(&dataset, &spec.data, &mut split_rng).train_f64)
    });
    let job = Job {
        exp,
        options,
        shared: runner::RunContext {
            spec,
            inits: &exp.inits,
            points: &exp.sweep.points,
            dataset: &dataset,
            outputs,
            class_names: class_names.as_deref().unwrap_or(&[]),
        },
        grid: full_grid.first(max_runs.unwrap_or(usize::MAX)),
        runs_total: full_grid.len(),
        points,
        stop,
        progress,
    };
    let staging = output::Staging::new(&options.out)?;
    let outcome = match spec.training.precision {
        Precision::F32 => execute_typed::<f32>(&job, &staging.dir)?,
        Precision::F64 => execute_typed::<f64>(&job, &staging.dir)?,
    };
    if outcome.interrupted && outcome.runs_done == 0 {
        // Nothing finished: write nothing, keep what was there (the staging dir is removed).
        drop(staging);
        return Ok(outcome);
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

/// Warnings about LSUV listed one by one at most; past that, one line counts the rest (a
/// grid of many runs must not gather one message per run).
const MAX_LSUV_WARNINGS: usize = 20;

/// Runs the grid in precision `T` and writes every file into `dir`, each run's rows as
/// soon as it and the runs before it have finished.
fn execute_typed<T: Float + ndarray_npy::WritableElement>(
    job: &Job<'_>,
    dir: &Path,
) -> Result<Outcome> {
    let exp = job.exp;
    let run_options = runner::RunOptions {
        threads: job.options.threads,
        save_weights: job.options.save_weights,
    };
    let mut writer = output::ResultsWriter::create(dir, exp, job.options.save_weights)?;
    let (mut runs_done, mut diverged, mut unscaled) = (0, 0, 0);
    let mut warnings = Vec::new();
    runner::run_grid_in_order::<T, anyhow::Error>(
        job.shared,
        &job.grid,
        &run_options,
        job.stop,
        job.progress,
        &mut |run| {
            runs_done += 1;
            diverged += usize::from(run.records.last().is_some_and(|x| x.diverged));
            if !run.lsuv_stuck.is_empty() {
                unscaled += 1;
                if unscaled <= MAX_LSUV_WARNINGS {
                    warnings.push(lsuv_warning(exp, &run));
                }
            }
            writer.write(&run)
        },
    )?;
    if unscaled > MAX_LSUV_WARNINGS {
        warnings.push(format!(
            "… and {} more runs whose LSUV start left layers unscaled",
            unscaled - MAX_LSUV_WARNINGS
        ));
    }
    let interrupted = runs_done < job.runs_total;
    let (summary, class_summary) = writer.finish(interrupted, job.points.as_deref())?;
    let mut config = toml::to_string(&exp.resolved_spec())
        .context("cannot serialize the resolved experiment")?;
    config.push_str(&resolved_layers(job));
    config.push_str(&critical_scales(exp));
    output::write_file(dir, "config.toml", |w| w.write_all(config.as_bytes()))?;
    Ok(Outcome {
        summary,
        class_summary,
        runs_done,
        runs_total: job.runs_total,
        diverged,
        interrupted,
        out: job.options.out.clone(),
        written: false,
        warnings,
    })
}

/// The warning for a run whose LSUV start left layers unscaled.
fn lsuv_warning<T>(exp: &Experiment, run: &RunResult<T>) -> String {
    let key = exp.key(&run.spec);
    format!(
        "{} / {} / seed {}: LSUV could not rescale layer(s) {:?} (zero output variance on the batch); left as initialized",
        key.init,
        key.activation,
        key.seed,
        run.lsuv_stuck.iter().map(|l| l + 1).collect::<Vec<_>>()
    )
}
