//! `initlab coord-check`: the coordinate check of [`crate::coord_check`] on an experiment's
//! data; writes `coord_check.csv` and `coord_check.svg`, prints the slope table and a
//! verdict per parametrization.

use std::path::PathBuf;

use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::CliError;
use crate::coord_check::{self, Settings};
use crate::csvfile::write_rows;
use crate::experiment::Experiment;
use crate::experiment::build::OptimizerSpec;
use crate::fsutil::{write_atomic, write_atomic_with};
use crate::nn::init::parse_init;
use crate::nn::parametrization::{DEFAULT_BASE_WIDTH, Parametrization};

/// Options of `initlab coord-check`.
#[derive(Debug, Args)]
pub struct CoordCheckArgs {
    /// The data: a built-in experiment's name or a TOML file (its data, split and loss).
    #[arg(long, default_value = "digits")]
    pub experiment: String,
    /// Hidden widths, strictly increasing.
    #[arg(long, value_delimiter = ',', default_values_t = [64, 128, 256, 512, 1024, 2048, 4096])]
    pub widths: Vec<usize>,
    /// Updates to take; statistics at steps 0 (the start) … STEPS.
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
    /// Seeds per width.
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Parametrizations to compare (sp, ntk, mup).
    #[arg(long, value_delimiter = ',', default_values_t = ["sp".to_string(), "mup".to_string()])]
    pub parametrizations: Vec<String>,
    /// The width at which ntk and mup equal sp.
    #[arg(long, default_value_t = DEFAULT_BASE_WIDTH as i64, allow_negative_numbers = true)]
    pub base_width: i64,
    /// Start μP's readout at zero (mup's readout_zero_init).
    #[arg(long)]
    pub readout_zero: bool,
    /// Optimizer: sgd, adam, adamw or rmsprop.
    #[arg(long, default_value = "sgd")]
    pub optimizer: String,
    /// Learning rate [default: 0.1 for sgd, 0.001 otherwise, as mup's coord checks].
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Momentum (sgd, rmsprop).
    #[arg(long, default_value_t = 0.0)]
    pub momentum: f64,
    /// Hidden activation.
    #[arg(long, default_value = "relu")]
    pub activation: String,
    /// Hidden layers.
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// The start (a scheme of `initlab list`).
    #[arg(long, default_value = "he-normal")]
    pub init: String,
    /// Rows per batch (one batch per step).
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Results directory.
    #[arg(long, default_value = "results/coord-check")]
    pub out: PathBuf,
    /// Threads for the products [default: all cores]; the output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Refuse to start when the widest network's estimated memory exceeds this size.
    #[arg(long, value_name = "SIZE", value_parser = crate::memory::parse_size)]
    pub max_memory: Option<u64>,
    /// Skip the SVG.
    #[arg(long)]
    pub no_plots: bool,
}

/// Checks the options and builds the settings (exit 2 on bad input).
fn settings(args: &CoordCheckArgs, loss: crate::nn::Loss) -> Result<Settings, CliError> {
    let usage = |m: String| CliError::usage(m);
    coord_check::check_widths(&args.widths).map_err(usage)?;
    if args.base_width <= 0 {
        return Err(usage(format!(
            "--base-width must be a width ≥ 1 (the width at which ntk and mup equal sp), got {}",
            args.base_width
        )));
    }
    if args.seeds == 0 || args.batch_size == 0 || args.depth == 0 {
        return Err(usage(
            "--seeds, --batch-size and --depth must be at least 1 (μP needs a hidden layer)".into(),
        ));
    }
    if args.threads == Some(0) {
        return Err(usage("--threads must be at least 1, got 0".into()));
    }
    let mut parametrizations = Vec::new();
    for p in &args.parametrizations {
        let p: Parametrization = p
            .parse()
            .map_err(|e| usage(format!("--parametrizations: {e}")))?;
        if !parametrizations.contains(&p) {
            parametrizations.push(p);
        }
    }
    if parametrizations.is_empty() {
        return Err(usage("--parametrizations must name at least one".into()));
    }
    let learning_rate =
        args.learning_rate
            .unwrap_or(if args.optimizer == "sgd" { 0.1 } else { 0.001 });
    let optimizer = OptimizerSpec::Name(args.optimizer.clone())
        .build::<f32>(learning_rate, args.momentum, 0.0)
        .map_err(|e| usage(format!("--optimizer/--learning-rate: {e}")))?;
    if !(learning_rate.is_finite() && learning_rate > 0.0) {
        return Err(usage(format!(
            "--learning-rate must be a finite number > 0, got {learning_rate}"
        )));
    }
    let activation = args
        .activation
        .parse()
        .map_err(|e| usage(format!("--activation: {e}")))?;
    let init = parse_init(&args.init, &[]).map_err(|e| usage(format!("--init: {e}")))?;
    Ok(Settings {
        widths: args.widths.clone(),
        steps: args.steps,
        seeds: args.seeds,
        seed: args.seed,
        parametrizations,
        base_width: args.base_width as usize,
        readout_zero: args.readout_zero,
        optimizer,
        activation,
        hidden: args.depth,
        init,
        batch_size: args.batch_size,
        loss,
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    })
}

/// Runs `initlab coord-check`.
pub fn run(args: CoordCheckArgs) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let exp = Experiment::load(&args.experiment).map_err(|e| CliError::usage(e.0))?;
    let s = settings(&args, exp.spec.network.loss)?;
    let (dataset, _) = exp
        .load_data()
        .map_err(|e| CliError::usage(e.to_string()))?;
    let classes = dataset.n_outputs();
    crate::coord_check::check_memory(
        &s,
        dataset.n_features(),
        classes,
        &crate::memory::Budget::detect(args.max_memory),
    )
    .map_err(CliError::usage)?;
    let mut split_rng = ChaCha8Rng::seed_from_u64(s.seed);
    let data = crate::experiment::prepare::prepare::<f32>(&dataset, &exp.spec.data, &mut split_rng);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.threads)
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let rows = pool
        .install(|| coord_check::run(&s, &data.train, classes))
        .map_err(CliError::usage)?;
    let slopes = coord_check::slopes(&rows, &s);
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::runtime(format!("{}: {e}", args.out.display())))?;
    let csv = args.out.join("coord_check.csv");
    write_atomic_with(&csv, |w| write_rows(w, rows.iter()))
        .map_err(|e| CliError::runtime(format!("{}: {e}", csv.display())))?;
    if !args.no_plots {
        let picture = crate::report::plots::coord_check(&rows)
            .map_err(|e| CliError::runtime(format!("coord_check.svg: {e:#}")))?;
        let path = args.out.join(picture.file);
        write_atomic(&path, picture.svg.as_bytes())
            .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?;
    }
    print!("{}", table(&slopes, &s));
    println!(
        "wrote {} ({} rows) in {:.1} s",
        csv.display(),
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The slope table and the verdicts, as printed.
pub fn table(slopes: &[coord_check::Slope], s: &Settings) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Slope of log mean|x| against log width (widths {}…{}, {} seeds, {} lr {}; theory: \
         theory::width, one step's leading order):",
        s.widths[0],
        s.widths[s.widths.len() - 1],
        s.seeds,
        crate::nn::parametrization::Family::of(&s.optimizer).name(),
        s.optimizer.learning_rate()
    );
    let _ = writeln!(
        out,
        "  {:<5} {:>4} {:>5}  {:<15} {:>8} {:>8} {:>7}",
        "param", "step", "layer", "quantity", "slope", "seed sd", "theory"
    );
    for sl in slopes {
        let _ = writeln!(
            out,
            "  {:<5} {:>4} {:>5}  {:<15} {:>+8.3} {:>8.3} {:>+7.2}",
            sl.parametrization, sl.step, sl.layer, sl.quantity, sl.measured, sl.seed_sd, sl.theory
        );
    }
    for v in coord_check::verdicts(slopes, &s.parametrizations) {
        let _ = writeln!(out, "{v}");
    }
    out
}
