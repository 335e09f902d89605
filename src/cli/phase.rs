//! `initlab phase`: the order–chaos diagram, the trainability diagram (with `--shard` and
//! `merge`) and Jacobian spectra against depth. The work is in [`crate::phase`].

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use clap::{Args, Subcommand};

use super::CliError;
use crate::csvfile::write_rows;
use crate::fsutil::{write_atomic, write_atomic_with};
use crate::nn::{Activation, Init};
use crate::phase::grid::{Range, check_cells};
use crate::phase::{order_chaos, spectra, trainability};

/// Options of `initlab phase`.
#[derive(Debug, Args)]
pub struct PhaseArgs {
    /// Which diagram.
    #[command(subcommand)]
    pub diagram: Diagram,
}

/// The diagrams.
#[derive(Debug, Subcommand)]
pub enum Diagram {
    /// ξ_c over a (σ_w², σ_b²) grid, the critical line χ₁ = 1 and the named starts (theory
    /// only, seconds): order-chaos.csv, order-chaos-starts.csv, order-chaos.svg.
    OrderChaos {
        /// Hidden activation.
        #[arg(long, default_value = "tanh")]
        activation: String,
        /// σ_w² values, START:END:COUNT.
        #[arg(long, default_value = "0.5:4:15")]
        sigma_w2: String,
        /// σ_b² values, START:END:COUNT.
        #[arg(long, default_value = "0:0.3:11")]
        sigma_b2: String,
        /// Output directory.
        #[arg(long, default_value = "results/phase")]
        out: PathBuf,
    },
    /// Training accuracy over (σ_w², depth) with 6·ξ_c drawn over it: trainability.csv,
    /// trainability.svg and one results directory per depth.
    Trainability {
        /// The quick preset (a few minutes on 2 cores) instead of the full one.
        #[arg(long)]
        quick: bool,
        /// Output directory [default: results/trainability-PRESET, or
        /// results/trainability-PRESET-shard-K-of-N].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads [default: all cores].
        #[arg(long)]
        threads: Option<usize>,
        /// Run only the K-th of N slices of every depth's grid; combine with `phase merge`.
        #[arg(long, value_name = "K/N", value_parser = super::shard_arg)]
        shard: Option<(usize, usize)>,
    },
    /// Combine the shard directories of `phase trainability --shard K/N` into one.
    Merge {
        /// The quick preset's shards (as they were run).
        #[arg(long)]
        quick: bool,
        /// The merged output directory.
        out: PathBuf,
        /// Every shard directory exactly once.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Singular values of the input–output Jacobian against depth, per start:
    /// spectra.csv, spectra-histogram.csv and one SVG per start.
    Spectra {
        /// Hidden activation.
        #[arg(long, default_value = "tanh")]
        activation: String,
        /// Starts, comma-separated.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "mean-field:sigma_w2=1,orthogonal"
        )]
        init: Vec<String>,
        /// Depths, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "2,8,32,128")]
        depths: Vec<usize>,
        /// Units per layer.
        #[arg(long, default_value_t = 128)]
        width: usize,
        /// Seed of the weights and probes.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output directory.
        #[arg(long, default_value = "results/spectra")]
        out: PathBuf,
    },
}

/// Any activation: the diagrams are mean-field theory and Jacobians of [`crate::theory`],
/// which know every activation's φ and φ′ (GELU and SiLU included).
fn activation(text: &str) -> Result<Activation, CliError> {
    text.parse()
        .map_err(|e: String| CliError::usage(format!("--activation: {e}")))
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::runtime(format!("cannot write {}: {e}", path.display()))
}

fn write_csv<R: serde::Serialize>(path: &Path, rows: &[R]) -> Result<(), CliError> {
    write_atomic_with(path, |w| write_rows(w, rows)).map_err(|e| io_error(path, e))
}

fn write_svg(path: &Path, svg: &str) -> Result<(), CliError> {
    write_atomic(path, svg.as_bytes()).map_err(|e| io_error(path, e))
}

fn create(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))
}

/// Writes trainability.csv and .svg from the depth directories under `out`.
fn assemble(preset: &trainability::Preset, out: &Path) -> Result<(), CliError> {
    let cells = trainability::assemble(preset, out).map_err(CliError::runtime)?;
    write_csv(&out.join("trainability.csv"), &cells)?;
    write_svg(
        &out.join("trainability.svg"),
        &trainability::svg(preset, &cells),
    )?;
    println!("{}", out.join("trainability.csv").display());
    Ok(())
}

/// Runs `initlab phase`.
pub fn run(args: PhaseArgs) -> Result<(), CliError> {
    match args.diagram {
        Diagram::OrderChaos {
            activation: a,
            sigma_w2,
            sigma_b2,
            out,
        } => {
            let a = activation(&a)?;
            let w = Range::parse("--sigma-w2", &sigma_w2, true).map_err(CliError::usage)?;
            let b = Range::parse("--sigma-b2", &sigma_b2, false).map_err(CliError::usage)?;
            check_cells(w.count.saturating_mul(b.count), "--sigma-w2 × --sigma-b2")
                .map_err(CliError::usage)?;
            let (ws, bs) = (w.values(), b.values());
            let cells = order_chaos::cells(a, &ws, &bs);
            let line = order_chaos::critical_line(a, &bs, ws[0], ws[ws.len() - 1]);
            let starts = order_chaos::starts(a);
            create(&out)?;
            write_csv(&out.join("order-chaos.csv"), &cells)?;
            write_csv(&out.join("order-chaos-starts.csv"), &starts)?;
            write_svg(
                &out.join("order-chaos.svg"),
                &order_chaos::svg(a, &ws, &bs, &cells, &line, &starts),
            )?;
            for s in &starts {
                println!(
                    "{:<28} σ_w² = {:<8.4} σ_b² = {:<8.4} χ₁ = {:<8.4} {}",
                    s.init, s.sigma_w2, s.sigma_b2, s.chi1, s.phase
                );
            }
            println!("{}", out.join("order-chaos.csv").display());
            Ok(())
        }
        Diagram::Trainability {
            quick,
            out,
            threads,
            shard,
        } => {
            let preset = if quick {
                trainability::Preset::quick()
            } else {
                trainability::Preset::full()
            };
            let out = out.unwrap_or_else(|| {
                let base = format!("results/trainability-{}", preset.name);
                match shard {
                    Some((k, n)) => PathBuf::from(format!("{base}-shard-{}-of-{n}", k + 1)),
                    None => PathBuf::from(base),
                }
            });
            if threads == Some(0) {
                return Err(CliError::usage("--threads must be at least 1, got 0"));
            }
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let stop = AtomicBool::new(false);
            trainability::run(&preset, &out, threads, shard, &stop)?;
            if shard.is_none() {
                assemble(&preset, &out)?;
            } else {
                println!(
                    "shard written to {} (combine with `initlab phase merge`)",
                    out.display()
                );
            }
            Ok(())
        }
        Diagram::Merge { quick, out, dirs } => {
            let preset = if quick {
                trainability::Preset::quick()
            } else {
                trainability::Preset::full()
            };
            trainability::merge(&preset, &out, &dirs)?;
            assemble(&preset, &out)
        }
        Diagram::Spectra {
            activation: a,
            init,
            depths,
            width,
            seed,
            out,
        } => {
            let a = activation(&a)?;
            if width == 0 {
                return Err(CliError::usage("--width must be at least 1, got 0"));
            }
            if let Some(d) = depths.iter().find(|&&d| d == 0) {
                return Err(CliError::usage(format!(
                    "--depths: a depth must be at least 1, got {d}"
                )));
            }
            // Each layer holds width² f64s twice (weights and the Jacobian product).
            let bytes = (width as u128).pow(2)
                * 8
                * (depths.iter().max().copied().unwrap_or(1) as u128 + 4);
            if bytes > 8 << 30 {
                return Err(CliError::usage(format!(
                    "--width {width} with --depths up to {}: the networks would need {} GiB; use fewer",
                    depths.iter().max().unwrap(),
                    bytes >> 30
                )));
            }
            let inits = init
                .iter()
                .map(|s| {
                    s.parse::<Init>()
                        .map_err(|e| CliError::usage(format!("--init: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (rows, bins) = spectra::spectra(&inits, a, &depths, width, seed);
            create(&out)?;
            write_csv(&out.join("spectra.csv"), &rows)?;
            write_csv(&out.join("spectra-histogram.csv"), &bins)?;
            for i in &inits {
                let name = i.label().replace([':', '='], "_");
                write_svg(
                    &out.join(format!("spectra-{name}.svg")),
                    &spectra::svg(&i.label(), &depths, &bins),
                )?;
            }
            println!(
                "{:<28} {:>6} {:>10} {:>10} {:>10}",
                "init", "depth", "mean s²", "var s²", "max/min"
            );
            for r in &rows {
                println!(
                    "{:<28} {:>6} {:>10.4} {:>10.4} {:>10.3e}",
                    r.init,
                    r.depth,
                    r.mean_s2,
                    r.var_s2,
                    r.condition.unwrap_or(f64::INFINITY)
                );
            }
            Ok(())
        }
    }
}
