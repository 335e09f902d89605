//! The command line: clap derive for the raw arguments, then validated calls into the
//! library. Every user error becomes one message and an exit code (also in the README): 0 success, 1 runtime or output failure, 2 usage or configuration error,
//! 3 a run diverged under `--fail-on-divergence`, 4 an expectation does not hold
//! (`initlab check`, or an experiment's `[[expect]]` tables), 5 stopped by `--max-seconds`
//! or `--max-runs`, 130 interrupted.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand};

use crate::experiment::{self, ExecError, ExecOptions, Experiment, Overrides, Precision};

mod autograder;
mod check;
mod coord_check;
mod phase;
mod summary;

pub use autograder::AutograderArgs;
pub use check::{CheckArgs, CheckFormat, EXPECTATION_FAILED};
pub use phase::PhaseArgs;

pub use summary::format_summary;

/// Compare weight initializations of multilayer perceptrons: train the same network under
/// zero, tiny, huge, Xavier and He starts (and more) and log what happens.
#[derive(Debug, Parser)]
#[command(name = "initlab", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train the same network under each start, for each activation and seed; write CSVs,
    /// pictures and a report.
    Experiment(Box<ExperimentArgs>),
    /// List initialization schemes, activations with their gains, losses and built-in
    /// experiments.
    List,
    /// Signal propagation at initialization, no training: push a batch of standard-normal
    /// inputs through a fresh deep network and back-propagate a unit-variance gradient;
    /// print per-layer statistics, several starts side by side.
    Inspect(InspectArgs),
    /// Put the guide's claims to the test: measure signal propagation at initialization and
    /// short training runs, and print each claim with its evidence and a computed verdict.
    Claims(ClaimsArgs),
    /// Redraw every picture and report.html of a results directory from its CSV files.
    Plot {
        /// The results directory (e.g. results/xor).
        dir: PathBuf,
    },
    /// Mean-field theory's diagrams: order–chaos (ξ_c over σ_w², σ_b²), trainability over
    /// (σ_w², depth), Jacobian spectra against depth.
    Phase(PhaseArgs),
    /// Combine the shard results directories of one experiment (`experiment NAME --shard
    /// K/N`, all N shards) into one results directory, identical to an unsharded run's.
    Merge(MergeArgs),
    /// Check expectations (an expectations file's `[[expect]]` tables) against a results
    /// directory: a table, JSON, Gradescope results.json or JUnit XML; exit code 4 if any
    /// does not hold.
    Check(CheckArgs),
    /// Build an assignment's autograder: Gradescope's autograder.zip (setup.sh,
    /// run_autograder, an initlab binary, the expectations and the data) or, with
    /// --github-classroom, a GitHub Classroom template with its autograding workflow.
    Autograder(AutograderArgs),
    /// The coordinate check (mup's coord_check): mean |x| of every layer against width for
    /// a few training steps under SP and μP; writes coord_check.csv and coord_check.svg and
    /// prints each slope beside theory's.
    CoordCheck(coord_check::CoordCheckArgs),
}

/// Options of `initlab merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The merged results directory to write (replaced whole if it exists).
    pub out: PathBuf,
    /// The shard results directories, every shard of the experiment exactly once.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Skip the SVG pictures and report.html.
    #[arg(long)]
    pub no_plots: bool,
}

/// Parses `--shard K/N` into a 0-based part and the count.
fn shard_arg(text: &str) -> Result<(usize, usize), String> {
    experiment::spec::parse_shard(text)
}

fn run_merge(args: MergeArgs) -> Result<(), CliError> {
    let outcome = experiment::merge::merge(&args.out, &args.dirs)?;
    if !args.no_plots {
        draw_report(&outcome.out, &outcome.experiment)?;
    }
    println!(
        "merged {} shards ({} runs) → {}",
        outcome.shards,
        outcome.runs,
        outcome.out.display()
    );
    Ok(())
}

/// Options of `initlab experiment`.
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// A built-in experiment name (see `initlab list`) or the path of a TOML file.
    pub experiment: String,
    /// Number of seeds (replicates) per start and activation.
    #[arg(long)]
    pub seeds: Option<usize>,
    /// Number of epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Starts to compare, comma-separated; parameters as name:key=value (e.g. huge:std=5).
    #[arg(long, value_delimiter = ',')]
    pub inits: Option<Vec<String>>,
    /// Hidden activations to compare, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub activations: Option<Vec<String>>,
    /// Learning rate.
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Optimizer: sgd, adam, adamw or rmsprop (`initlab list` shows their updates).
    #[arg(long)]
    pub optimizer: Option<String>,
    /// Momentum (sgd, rmsprop).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Weight decay (L2 for sgd, adam, rmsprop; decoupled for adamw).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Rows per mini-batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Normalization after each hidden dense layer: none, layernorm or batchnorm.
    #[arg(long)]
    pub norm: Option<String>,
    /// Parametrization: sp, ntk or mup (`initlab list` shows the multipliers).
    #[arg(long)]
    pub parametrization: Option<String>,
    /// The width at which ntk and mup equal sp [default: 64].
    #[arg(long, allow_negative_numbers = true)]
    pub base_width: Option<i64>,
    /// Sweep a setting: SETTING=VALUE,VALUE,... (e.g. training.learning_rate=0.01,0.1 or
    /// network.norm=none,batchnorm), an axis of the experiment's `[grid]` set or replaced;
    /// may be given several times.
    #[arg(long, value_name = "SETTING=VALUES", value_parser = grid_arg)]
    pub grid: Vec<(String, Vec<toml::Value>)>,
    /// Record metrics every N epochs.
    #[arg(long)]
    pub log_every: Option<usize>,
    /// Keep per-layer histograms (histograms.csv) at N logged epochs, evenly spaced from
    /// epoch 0 to the last [default: `training.histogram_epochs`, else 5].
    #[arg(long, value_name = "N", conflicts_with = "no_histograms")]
    pub histogram_epochs: Option<usize>,
    /// Keep no histograms (no histograms.csv); the same as --histogram-epochs 0.
    #[arg(long)]
    pub no_histograms: bool,
    /// Write quantiles.csv: percentile bands of every layer's pre-activations and
    /// activations at each logged epoch (`training.quantiles = true`).
    #[arg(long)]
    pub quantiles: bool,
    /// Run the experiment's smaller `[quick]` preset (e.g. `lr-transfer`'s: fewer widths,
    /// learning rates and seeds); the other flags still apply on top.
    #[arg(long)]
    pub quick: bool,
    /// Results directory [default: results/NAME/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Floating-point precision.
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionArg>,
    /// No progress bar and no summary table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Skip the SVG pictures and report.html.
    #[arg(long)]
    pub no_plots: bool,
    /// Write initial and final weights of every run as .npy under weights/.
    #[arg(long)]
    pub save_weights: bool,
    /// Exit with code 3 if any run diverged (by default divergence is a result).
    #[arg(long)]
    pub fail_on_divergence: bool,
    /// Run only the K-th of N balanced slices of the grid (1 ≤ K ≤ N), into
    /// results/NAME-shard-K-of-N/ by default; combine the shards with `initlab merge`.
    #[arg(long, value_name = "K/N", value_parser = shard_arg)]
    pub shard: Option<(usize, usize)>,
    /// Refuse to start when the estimated memory exceeds this size (e.g. 2G, 512M, 4GiB)
    /// [default: the memory available].
    #[arg(long, value_name = "SIZE", value_parser = crate::memory::parse_size)]
    pub max_memory: Option<u64>,
    /// Stop the experiment after this many seconds (from the start of the command): the
    /// runs under way stop at their next training step, the finished ones are written,
    /// marked partial, and the exit code is 5.
    #[arg(long, value_name = "SECONDS")]
    pub max_seconds: Option<f64>,
    /// Run at most N runs, the first of the grid in its order; the rest are left out, the
    /// results are marked partial and the exit code is 5.
    #[arg(long, value_name = "N")]
    pub max_runs: Option<usize>,
    /// Treat the experiment file as untrusted (grading): every data file it names must be
    /// inside a --data-root directory once symbolic links are followed, and no error quotes
    /// the contents of a data file.
    #[arg(long)]
    pub untrusted: bool,
    /// With --untrusted: a directory the experiment's data files may come from (may be
    /// given several times); initlab's built-in data sets are always allowed.
    #[arg(long, value_name = "DIR", requires = "untrusted")]
    pub data_root: Vec<PathBuf>,
}

/// Reads `--grid SETTING=VALUES` (see [`experiment::load::parse_grid_arg`]).
fn grid_arg(text: &str) -> Result<(String, Vec<toml::Value>), String> {
    experiment::load::parse_grid_arg(text)
}

/// Exit code of an experiment stopped by `--max-seconds` or `--max-runs` before it
/// completed (its finished runs written, marked partial).
pub const BUDGET_STOPPED: u8 = 5;

/// Why an experiment's stop flag was raised.
const STOP_NONE: u8 = 0;
const STOP_SIGNAL: u8 = 1;
const STOP_TIME: u8 = 2;

/// Checks `--max-seconds` and `--max-runs`; the time limit as a duration.
fn budget_args(args: &ExperimentArgs) -> Result<Option<std::time::Duration>, CliError> {
    if args.max_runs == Some(0) {
        return Err(CliError::usage("--max-runs must be at least 1, got 0"));
    }
    args.max_seconds
        .map(|s| {
            std::time::Duration::try_from_secs_f64(s)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "--max-seconds must be a number of seconds > 0, got {s}"
                    ))
                })
        })
        .transpose()
}

/// Raises `stop` (noting why in `reason`) once `limit` has passed since `started`; runs
/// on a thread of its own, which ends with the process.
fn start_timer(
    started: std::time::Instant,
    limit: std::time::Duration,
    stop: Arc<AtomicBool>,
    reason: Arc<std::sync::atomic::AtomicU8>,
) {
    // A limit past what an Instant can hold never comes.
    let Some(deadline) = started.checked_add(limit) else {
        return;
    };
    std::thread::spawn(move || {
        loop {
            let now = std::time::Instant::now();
            if now >= deadline {
                let _ = reason.compare_exchange(
                    STOP_NONE,
                    STOP_TIME,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                stop.store(true, Ordering::SeqCst);
                return;
            }
            std::thread::sleep((deadline - now).min(std::time::Duration::from_millis(50)));
        }
    });
}

/// The message of an experiment stopped before it completed: by a signal (exit code
/// 130), `--max-seconds` or `--max-runs` (exit code [`BUDGET_STOPPED`]).
fn stopped_error(reason: u8, args: &ExperimentArgs, outcome: &experiment::Outcome) -> CliError {
    let (code, why) = match reason {
        STOP_SIGNAL => (130, "interrupted".to_string()),
        STOP_TIME => (
            BUDGET_STOPPED,
            format!(
                "stopped by --max-seconds {}",
                args.max_seconds.unwrap_or_default()
            ),
        ),
        _ => (
            BUDGET_STOPPED,
            format!(
                "stopped by --max-runs {}",
                args.max_runs.unwrap_or_default()
            ),
        ),
    };
    let message = if outcome.written {
        format!(
            "{why}: {} of {} runs finished and were written to {} (marked partial in summary.csv)",
            outcome.runs_done,
            outcome.runs_total,
            outcome.out.display()
        )
    } else {
        format!(
            "{why} before any of the {} runs finished: nothing written, {} left as it was",
            outcome.runs_total,
            outcome.out.display()
        )
    };
    CliError { code, message }
}

/// Options of `initlab inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Starts, comma-separated (name or name:key=value), or `all` for every built-in scheme
    /// but the learned `gradinit` and `metainit` (thousands of gradients at this size: name
    /// them to see them).
    #[arg(long, value_delimiter = ',', required = true)]
    pub init: Vec<String>,
    /// Hidden activation.
    #[arg(long, default_value = "relu")]
    pub activation: String,
    /// Number of hidden layers.
    #[arg(long, default_value_t = 10)]
    pub depth: usize,
    /// Units per hidden layer (and inputs).
    #[arg(long, default_value_t = 256)]
    pub width: usize,
    /// Rows of the standard-normal input batch.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Seed of the weights, inputs and gradient.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Floating-point precision.
    #[arg(long, value_enum, default_value_t = PrecisionArg::F32)]
    pub precision: PrecisionArg,
    /// Also write the table in long format to this CSV file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Refuse to start when the estimated memory exceeds this size (e.g. 2G, 512M, 4GiB)
    /// [default: the memory available].
    #[arg(long, value_name = "SIZE", value_parser = crate::memory::parse_size)]
    pub max_memory: Option<u64>,
    /// Print the mean-field theory's predictions beside the measurements, and a summary
    /// line per start (σ_w², σ_b², q*, χ₁, phase, ξ_c).
    #[arg(long)]
    pub theory: bool,
    /// Print the singular-value spectrum of the input–output Jacobian per start.
    #[arg(long)]
    pub jacobian: bool,
}

/// `--precision`: the command line's names of [`Precision`] (the library type carries no
/// clap derive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PrecisionArg {
    /// 32-bit floats (default).
    F32,
    /// 64-bit floats.
    F64,
}

impl From<PrecisionArg> for Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::F64 => Precision::F64,
        }
    }
}

/// Options of `initlab claims`.
#[derive(Clone, Debug, Args)]
pub struct ClaimsArgs {
    /// Units per hidden layer of the propagation measurements.
    #[arg(long, default_value_t = 128)]
    pub width: usize,
    /// Number of hidden layers of the propagation measurements (the deep ReLU check uses
    /// three times as many).
    #[arg(long, default_value_t = 10)]
    pub depth: usize,
    /// Seed of every measurement.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads of the training runs.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Also write the evidence in long format (claim,condition,measure,value,verdict).
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// An error for the user, with its exit code.
#[derive(Debug)]
pub struct CliError {
    /// Process exit code.
    pub code: u8,
    /// The message (one paragraph).
    pub message: String,
}

impl CliError {
    /// A usage or configuration error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            message: message.into(),
        }
    }

    /// A runtime failure (exit code 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        CliError {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<ExecError> for CliError {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::Config(c) => CliError::usage(c.0),
            ExecError::Data(d) => CliError::usage(d.to_string()),
            ExecError::Io(e) => CliError::runtime(format!("{e:#}")),
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Experiment(args) => run_experiment(*args),
        Command::List => {
            print!("{}", list_text());
            Ok(())
        }
        Command::Inspect(args) => inspect(args),
        Command::Plot { dir } => plot(&dir),
        Command::Merge(args) => run_merge(args),
        Command::Claims(args) => claims(&args),
        Command::Check(args) => check::run(args),
        Command::Phase(args) => phase::run(args),
        Command::CoordCheck(args) => coord_check::run(args),
        Command::Autograder(args) => autograder::run(args),
    }
}

fn run_experiment(args: ExperimentArgs) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let time_limit = budget_args(&args)?;
    let mut exp = Experiment::load(&args.experiment).map_err(|e| CliError::usage(e.0))?;
    if args.untrusted {
        exp.data_policy =
            Some(experiment::untrusted::DataPolicy::new(&args.data_root).map_err(CliError::usage)?);
    }
    let overrides = Overrides {
        seeds: args.seeds,
        epochs: args.epochs,
        inits: args.inits.clone(),
        activations: args.activations.clone(),
        precision: args.precision.map(Precision::from),
        log_every: args.log_every,
        learning_rate: args.learning_rate,
        optimizer: args.optimizer.clone(),
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        batch_size: args.batch_size,
        norm: args.norm.clone(),
        parametrization: args.parametrization.clone(),
        base_width: args.base_width,
        quantiles: args.quantiles,
        quick: args.quick,
        grid: args.grid.clone(),
        histogram_epochs: if args.no_histograms {
            Some(0)
        } else {
            args.histogram_epochs
        },
    };
    let mut exp = exp
        .with_overrides(&overrides)
        .map_err(|e| CliError::usage(e.0))?;
    // The experiment's own [[expect]] tables, checked before anything runs.
    let expectations = crate::check::expectation::from_tables(&exp.spec.expect, &exp.origin)
        .map_err(CliError::usage)?;
    // `--shard`, or the `shard` of a shard's config.toml being run again.
    let shard = match args.shard {
        Some(s) => Some(s),
        None => exp
            .spec
            .shard
            .as_deref()
            .map(experiment::spec::parse_shard)
            .transpose()
            .map_err(CliError::usage)?,
    };
    exp.spec.shard = shard.map(|(part, count)| format!("{}/{count}", part + 1));
    let threads = match args.threads {
        Some(0) => return Err(CliError::usage("--threads must be at least 1, got 0")),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let out = args.out.clone().unwrap_or_else(|| match shard {
        Some((part, count)) => PathBuf::from("results").join(format!(
            "{}-shard-{}-of-{count}",
            exp.spec.name,
            part + 1
        )),
        None => PathBuf::from("results").join(&exp.spec.name),
    });
    let options = ExecOptions {
        out,
        threads,
        save_weights: args.save_weights || crate::check::needs_weights(&expectations),
        shard,
    };
    // Before any run allocates: the report reads the results back whole.
    let budget = crate::memory::Budget::detect(args.max_memory);
    if !args.no_plots {
        let runs = experiment::runner::Grid::new(&exp, shard).len();
        budget
            .check(&crate::experiment::footprint::report_estimate(
                &exp.spec, runs,
            ))
            .map_err(CliError::usage)?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let reason = Arc::new(std::sync::atomic::AtomicU8::new(STOP_NONE));
    {
        let (stop, reason) = (Arc::clone(&stop), Arc::clone(&reason));
        // Ctrl-C / SIGTERM: finish writing what is done, then exit non-zero.
        let _ = ctrlc::set_handler(move || {
            let _ =
                reason.compare_exchange(STOP_NONE, STOP_SIGNAL, Ordering::SeqCst, Ordering::SeqCst);
            stop.store(true, Ordering::SeqCst);
        });
    }
    if let Some(limit) = time_limit {
        start_timer(started, limit, Arc::clone(&stop), Arc::clone(&reason));
    }
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let bar = show_progress.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} epochs, {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(exp.spec.name.clone());
        bar
    });
    // Epochs trained across all runs; runs report from several threads, so a count can
    // arrive after a larger one and must not move the bar back.
    let progress = |done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            if done as u64 > bar.position() {
                bar.set_position(done as u64);
            }
        }
    };
    let outcome =
        experiment::execute_limited(&exp, &options, &budget, args.max_runs, &stop, &progress)?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    if !args.no_plots && outcome.written {
        draw_report(&outcome.out, &exp)?;
    }
    if !args.quiet && outcome.written {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "{}: {} runs ({} diverged) → {}",
            exp.spec.name,
            outcome.runs_done,
            outcome.diverged,
            outcome.out.display()
        );
        let _ = write!(
            stdout,
            "{}",
            format_summary(&outcome.summary, exp.spec.training.target_loss)
        );
        if let Some(best) = summary::format_best_learning_rates(&outcome.summary) {
            let _ = write!(stdout, "{best}");
        }
        if let Some(names) = exp.class_names() {
            let _ = write!(stdout, "{}", summary::format_classes(&names));
            let _ = write!(
                stdout,
                "{}",
                summary::format_class_summary(&outcome.class_summary)
            );
        }
    }
    if outcome.interrupted {
        return Err(stopped_error(
            reason.load(Ordering::SeqCst),
            &args,
            &outcome,
        ));
    }
    if !expectations.is_empty() && outcome.written {
        check::check_and_print(&outcome.out, &expectations, &exp.origin)?;
    }
    if args.fail_on_divergence && outcome.diverged > 0 {
        return Err(CliError {
            code: 3,
            message: format!(
                "{} of {} runs diverged (--fail-on-divergence); results written to {}",
                outcome.diverged,
                outcome.runs_done,
                outcome.out.display()
            ),
        });
    }
    Ok(())
}

fn inspect(args: InspectArgs) -> Result<(), CliError> {
    use crate::inspect::{InspectConfig, format_table, inspect as run_inspect, write_csv};
    use crate::nn::init::Learning;
    let activation: crate::nn::Activation = args
        .activation
        .parse()
        .map_err(|e: String| CliError::usage(format!("--activation: {e}")))?;
    let mut inits = Vec::new();
    for name in &args.init {
        if name == "all" {
            for scheme in crate::nn::init::SCHEMES {
                let init: crate::nn::Init =
                    scheme.name.parse().expect("built-in scheme names parse");
                // GradInit and MetaInit take thousands of gradients at this size: only
                // when named.
                if !matches!(
                    init.learning(),
                    Some(Learning::GradInit(_) | Learning::MetaInit(_))
                ) {
                    inits.push(init);
                }
            }
        } else {
            inits.push(
                name.parse::<crate::nn::Init>()
                    .map_err(|e| CliError::usage(format!("--init: {e}")))?,
            );
        }
    }
    for (name, value) in [
        ("--depth", args.depth),
        ("--width", args.width),
        ("--batch", args.batch),
    ] {
        if value == 0 {
            return Err(CliError::usage(format!("{name} must be at least 1, got 0")));
        }
    }
    let element = match Precision::from(args.precision) {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    crate::memory::Budget::detect(args.max_memory)
        .check(&crate::memory::inspect_estimate(
            args.depth, args.width, args.batch, element,
        ))
        .map_err(CliError::usage)?;
    // A formula start must give every layer a valid std before anything is drawn.
    let sizes = vec![args.width; args.depth + 2];
    for init in &inits {
        init.check_layers(&sizes, activation)
            .map_err(|e| CliError::usage(format!("--init: {e}")))?;
    }
    let mut config = InspectConfig::new(inits, activation, args.depth, args.width);
    config.batch = args.batch;
    config.seed = args.seed;
    let rows = match Precision::from(args.precision) {
        Precision::F32 => run_inspect::<f32>(&config),
        Precision::F64 => run_inspect::<f64>(&config),
    };
    if let Some(path) = &args.csv {
        crate::fsutil::write_atomic_with(path, |w| write_csv(&rows, w))
            .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", path.display())))?;
    }
    print!("{}", format_table(&rows));
    if args.theory {
        println!();
        print!(
            "{}",
            crate::inspect::format_theory(&rows, &crate::inspect::theory(&config))
        );
    }
    if args.jacobian {
        println!();
        print!("{}", crate::inspect::format_spectra(&config));
    }
    Ok(())
}

fn claims(args: &ClaimsArgs) -> Result<(), CliError> {
    for (name, value) in [
        ("--depth", args.depth),
        ("--width", args.width),
        ("--threads", args.threads),
    ] {
        if value == 0 {
            return Err(CliError::usage(format!("{name} must be at least 1, got 0")));
        }
    }
    let reports = crate::claims::run_all(&crate::claims::ClaimsOptions {
        width: args.width,
        depth: args.depth,
        seed: args.seed,
        threads: args.threads,
    });
    if let Some(path) = &args.csv {
        crate::fsutil::write_atomic_with(path, |w| crate::claims::write_csv(&reports, w))
            .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", path.display())))?;
    }
    print!("{}", crate::claims::format_reports(&reports));
    Ok(())
}

/// Draws the pictures and report.html of the results in `dir` (written by `exp`).
fn draw_report(dir: &Path, exp: &Experiment) -> Result<(), CliError> {
    crate::report::draw_all(dir, &exp.formulas())
        .map(|_| ())
        .map_err(|e| CliError::runtime(format!("{e:#}")))
}

fn plot(dir: &Path) -> Result<(), CliError> {
    if !dir.is_dir() {
        return Err(CliError::usage(format!(
            "{}: not a results directory (expected a directory with metrics.csv)",
            dir.display()
        )));
    }
    let config = dir.join("config.toml");
    // Formulas come from the resolved config; a config that no longer parses (edited by
    // hand, or naming a library user's custom scheme) only costs the formulas section.
    let formulas = if config.exists() {
        match Experiment::load(&config.display().to_string()) {
            Ok(exp) => exp.formulas(),
            Err(e) => {
                eprintln!("warning: formulas left out of the report: {}", e.0);
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let written =
        crate::report::draw_all(dir, &formulas).map_err(|e| CliError::usage(format!("{e:#}")))?;
    for p in written {
        println!("{}", p.display());
    }
    Ok(())
}

/// The text of `initlab list`.
pub fn list_text() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Initialization schemes (--inits name or name:key=value):"
    );
    for s in crate::nn::init::SCHEMES {
        let params = if s.params.is_empty() {
            String::new()
        } else {
            format!(" [{}]", s.params)
        };
        let _ = writeln!(
            out,
            "  {:<18} {}{} — {}",
            s.name, s.formula, params, s.source
        );
    }
    let _ = writeln!(
        out,
        "  {:<18} std or variance as an expression of fan_in, fan_out, gain, layer, depth [std|variance, distribution=normal]",
        "formula"
    );
    let _ = writeln!(
        out,
        "\nActivations (--activations), their gains, and the σ_w² the `critical` start picks \
         (χ₁ = 1; sigma_b2 = 0 and 0.1):"
    );
    for a in crate::nn::activation::ALL_ACTIVATIONS
        .iter()
        .chain(&crate::nn::activation::INPUT_DERIVATIVE_ACTIVATIONS)
    {
        let critical = |sigma_b2: f64| match crate::theory::critical_sigma_w2(*a, sigma_b2) {
            Ok(c) => format!("{:.4}", c.sigma_w2),
            Err(_) => "none".to_string(),
        };
        let _ = writeln!(
            out,
            "  {:<18} gain {:.6}   critical σ_w² {} / {}",
            a.name(),
            a.gain(),
            critical(0.0),
            critical(0.1)
        );
    }
    let _ = writeln!(
        out,
        "\nLayers (network.layers = [...]; or the keys network.norm, network.residual):"
    );
    for (name, what) in [
        ("{ dense = N }", "z = x·Wᵀ + b, N outputs"),
        (
            "\"activation\"",
            "the compared activation (or an activation's name)",
        ),
        (
            "\"layernorm\"",
            "per row: γ ⊙ (x − mean)/√(var + 1e-5) + β (torch.nn.LayerNorm)",
        ),
        (
            "\"batchnorm\"",
            "per feature over the batch in training, running statistics in evaluation \
             (torch.nn.BatchNorm1d, momentum 0.1)",
        ),
        (
            "{ residual = [...] }",
            "x + α·F(x); alpha = 1.0, alpha_learnable = false, projection = false",
        ),
    ] {
        let _ = writeln!(out, "  {name:<22} {what}");
    }
    let _ = writeln!(
        out,
        "\nOptimizers (training.optimizer, --optimizer), as PyTorch computes them:"
    );
    for (name, rule) in crate::experiment::build::OPTIMIZERS {
        let _ = writeln!(out, "  {name:<18} {rule}");
    }
    let _ = writeln!(
        out,
        "\nParametrizations (network.parametrization, --parametrization; network.base_width, \
         --base-width, default 64), multipliers of the start's variance, the forward pass and \
         the learning rate, with m_in = fan_in/base_width, m_out = fan_out/base_width (1 for \
         the data's features and the classes):"
    );
    let _ = writeln!(
        out,
        "  {:<5} {:<14} {:<14} {:<14} {:<8} {:<18} Adam lr (w, b)",
        "", "role", "weight var", "bias var", "forward", "SGD lr (w, b)"
    );
    for row in &crate::nn::parametrization::TABLE {
        let [wv, bv, forward, sgd, adam] = row.formulas;
        let _ = writeln!(
            out,
            "  {:<5} {:<14} {wv:<14} {bv:<14} {forward:<8} {sgd:<18} {adam}",
            row.parametrization.name(),
            row.roles,
        );
    }
    let _ = writeln!(
        out,
        "  (0 zero: with network.readout_zero = true. Weight decay is divided by the lr \
         multiplier. Source: {}.)",
        crate::nn::parametrization::SOURCE
    );
    let _ = writeln!(out, "\nLosses (network.loss):");
    for l in crate::nn::loss::ALL_LOSSES {
        let _ = writeln!(out, "  {:<18} {}", l.name(), l.describe());
    }
    let _ = writeln!(out, "\nBuilt-in experiments (initlab experiment NAME):");
    for (name, text) in experiment::BUILTINS {
        let description = experiment::ExperimentSpec::from_toml(text, name)
            .map(|s| s.description)
            .unwrap_or_default();
        let _ = writeln!(out, "  {name:<18} {description}");
    }
    out
}
