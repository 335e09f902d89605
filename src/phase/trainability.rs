//! The trainability diagram (Schoenholz et al. 2017, Fig. 5): over a grid of (σ_w², depth),
//! each cell a short training run of a `mean-field` start on the digits that ship, coloured
//! by training accuracy after a few epochs, with the theory's trainable depth 6·ξ_c drawn
//! over it.
//!
//! Built on the experiment runner: one experiment per depth (its grid: the σ_w² values ×
//! seeds, as `mean-field` starts), executed into `depth-D/` of the output directory, so the
//! runner's threads, `--shard K/N` and merging all apply per depth. `trainability.csv` is
//! then assembled from the depths' `summary.csv` files, so a sharded and merged diagram is
//! byte-identical to an unsharded one.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::heatmap::HeatMap;
use crate::csvfile::read_rows;
use crate::experiment::record::SummaryRow;
use crate::experiment::{ConfigError, ExecError, ExecOptions, Experiment, execute};
use crate::nn::Activation;
use crate::theory::MeanField;

/// The depth curve's factor: Schoenholz et al. find networks trainable up to about 6·ξ_c.
pub const DEPTH_FACTOR: f64 = 6.0;

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    /// `quick` or `full`.
    pub name: &'static str,
    /// The hidden activation.
    pub activation: Activation,
    /// Units per hidden layer.
    pub width: usize,
    /// The depths (hidden layers).
    pub depths: Vec<usize>,
    /// The σ_w² values.
    pub sigma_w2: Vec<f64>,
    /// σ_b², one value for the whole diagram.
    pub sigma_b2: f64,
    /// Epochs of each run.
    pub epochs: usize,
    /// SGD learning rate.
    pub learning_rate: f64,
    /// Seeds per cell.
    pub seeds: usize,
}

impl Preset {
    /// A few minutes on 2 cores: tanh, width 32, 6 depths × 8 σ_w², 2 epochs.
    pub fn quick() -> Preset {
        Preset {
            name: "quick",
            activation: Activation::Tanh,
            width: 32,
            depths: vec![2, 6, 10, 16, 24, 32],
            sigma_w2: vec![0.5, 1.0, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0],
            sigma_b2: 0.05,
            epochs: 2,
            learning_rate: 0.01,
            seeds: 1,
        }
    }

    /// The full diagram (a cluster job): width 128, 10 depths up to 100, 15 σ_w², 10
    /// epochs, 2 seeds.
    pub fn full() -> Preset {
        Preset {
            name: "full",
            activation: Activation::Tanh,
            width: 128,
            depths: vec![2, 5, 10, 15, 20, 30, 40, 60, 80, 100],
            sigma_w2: (0..15).map(|i| 0.5 + 0.25 * i as f64).collect(),
            sigma_b2: 0.05,
            epochs: 10,
            learning_rate: 0.01,
            seeds: 2,
        }
    }

    /// The `mean-field` start of one σ_w².
    pub fn init(&self, sigma_w2: f64) -> String {
        format!("mean-field:sigma_w2={sigma_w2}:sigma_b2={}", self.sigma_b2)
    }

    /// The experiment of one depth.
    pub fn experiment(&self, depth: usize) -> Result<Experiment, ConfigError> {
        let inits: Vec<String> = self
            .sigma_w2
            .iter()
            .map(|w| {
                format!(
                    "{{ name = \"mean-field\", sigma_w2 = {w:?}, sigma_b2 = {:?}, label = \"{}\" }}",
                    self.sigma_b2,
                    self.init(*w)
                )
            })
            .collect();
        let hidden = vec![self.width.to_string(); depth].join(", ");
        let text = format!(
            "name = \"trainability-depth-{depth}\"\n\
             description = \"trainability diagram ({}), depth {depth}\"\n\
             seeds = {}\nseed = 0\ninits = [{}]\n\n\
             [data]\nsource = \"csv\"\npath = \"../data/digits.csv\"\nlabel = \"label\"\n\
             test_fraction = 0.2\nstandardize = true\n\n\
             [network]\nhidden = [{hidden}]\nactivations = [\"{}\"]\nloss = \"cross-entropy\"\n\n\
             [training]\nepochs = {}\nbatch_size = 32\nlearning_rate = {:?}\nlog_every = {}\n",
            self.name,
            self.seeds,
            inits.join(", "),
            self.activation.name(),
            self.epochs,
            self.learning_rate,
            self.epochs,
        );
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
        Experiment::from_text(&text, &format!("trainability depth {depth}"), Some(base))
    }

    /// Runs per depth (σ_w² values × seeds).
    pub fn runs_per_depth(&self) -> usize {
        self.sigma_w2.len() * self.seeds
    }
}

/// The subdirectory of one depth.
pub fn depth_dir(out: &Path, depth: usize) -> PathBuf {
    out.join(format!("depth-{depth}"))
}

/// Runs every depth's experiment (or shard `(part, count)` of each) into `out/depth-D/`.
pub fn run(
    preset: &Preset,
    out: &Path,
    threads: usize,
    shard: Option<(usize, usize)>,
    stop: &AtomicBool,
) -> Result<(), ExecError> {
    if let Some((_, n)) = shard
        && n > preset.runs_per_depth()
    {
        return Err(ConfigError(format!(
            "--shard K/{n}: N must be at most the {} runs per depth of the {} preset",
            preset.runs_per_depth(),
            preset.name
        ))
        .into());
    }
    for &depth in &preset.depths {
        let mut exp = preset.experiment(depth)?;
        // As `experiment --shard` records it: the merge reads it back from config.toml.
        exp.spec.shard = shard.map(|(part, count)| format!("{}/{count}", part + 1));
        let options = ExecOptions {
            out: depth_dir(out, depth),
            threads,
            save_weights: false,
            shard,
        };
        execute(&exp, &options, stop, &|_, _| {})?;
    }
    Ok(())
}

/// One cell of `trainability.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellRow {
    /// The activation.
    pub activation: String,
    /// σ_w².
    pub sigma_w2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// Hidden layers.
    pub depth: usize,
    /// Mean training accuracy after the preset's epochs (empty if every run diverged).
    pub train_accuracy: Option<f64>,
    /// Mean test accuracy.
    pub test_accuracy: Option<f64>,
    /// Mean final training loss.
    pub train_loss: Option<f64>,
    /// Runs that diverged.
    pub diverged: usize,
    /// The theory's ξ_c (empty when infinite).
    pub xi_c: Option<f64>,
    /// The theory's trainable depth 6·ξ_c (empty when infinite).
    pub trainable_depth: Option<f64>,
}

/// Assembles the cells from the depths' `summary.csv` files under `out`.
pub fn assemble(preset: &Preset, out: &Path) -> Result<Vec<CellRow>, String> {
    let mut rows = Vec::new();
    for &depth in &preset.depths {
        let path = depth_dir(out, depth).join("summary.csv");
        let summary: Vec<SummaryRow> = read_rows(&path).map_err(|e| format!("{e}"))?;
        for &w in &preset.sigma_w2 {
            let label = preset.init(w);
            let s = summary.iter().find(|r| r.init == label).ok_or_else(|| {
                format!(
                    "{}: no row for `{label}` (an incomplete run?)",
                    path.display()
                )
            })?;
            let a = MeanField::new(preset.activation, w, preset.sigma_b2)
                .map_err(|e| e.0)?
                .analyze();
            let xi = a.xi_c.is_finite().then_some(a.xi_c);
            rows.push(CellRow {
                activation: preset.activation.name(),
                sigma_w2: w,
                sigma_b2: preset.sigma_b2,
                depth,
                train_accuracy: s.final_train_accuracy_mean,
                test_accuracy: s.final_test_accuracy_mean,
                train_loss: s.final_train_loss_mean,
                diverged: s.diverged,
                xi_c: xi,
                trainable_depth: xi.map(|x| DEPTH_FACTOR * x),
            });
        }
    }
    Ok(rows)
}

/// Merges shard directories (each written by [`run`] with `--shard K/N`) into `out`, depth by
/// depth, with the experiment merge.
pub fn merge(preset: &Preset, out: &Path, dirs: &[PathBuf]) -> Result<(), ExecError> {
    for &depth in &preset.depths {
        let shards: Vec<PathBuf> = dirs.iter().map(|d| depth_dir(d, depth)).collect();
        crate::experiment::merge::merge(&depth_dir(out, depth), &shards)?;
    }
    Ok(())
}

/// The heat map of training accuracy over (σ_w², depth) with 6·ξ_c drawn over it.
pub fn svg(preset: &Preset, cells: &[CellRow]) -> String {
    let depths: Vec<f64> = preset.depths.iter().map(|&d| d as f64).collect();
    let values: Vec<Vec<Option<f64>>> = preset
        .depths
        .iter()
        .map(|&d| {
            preset
                .sigma_w2
                .iter()
                .map(|&w| {
                    cells
                        .iter()
                        .find(|c| c.depth == d && c.sigma_w2 == w)
                        .and_then(|c| c.train_accuracy)
                })
                .collect()
        })
        .collect();
    // The curve on a fine σ_w² grid.
    let (lo, hi) = (
        preset.sigma_w2[0],
        preset.sigma_w2[preset.sigma_w2.len() - 1],
    );
    let curve: Vec<(f64, f64)> = (0..=120)
        .filter_map(|i| {
            let w = lo + (hi - lo) * i as f64 / 120.0;
            let a = MeanField::new(preset.activation, w, preset.sigma_b2)
                .ok()?
                .analyze();
            Some((w, (DEPTH_FACTOR * a.xi_c).min(1e6)))
        })
        .collect();
    let title = format!(
        "{} width {}, σ_b² = {}: training accuracy after {} epochs",
        preset.activation.name(),
        preset.width,
        preset.sigma_b2,
        preset.epochs
    );
    HeatMap {
        title: &title,
        x_label: "σ_w²",
        y_label: "depth (hidden layers)",
        xs: &preset.sigma_w2,
        ys: &depths,
        values: &values,
        range: (0.1, 1.0),
        curves: vec![("6·ξ_c".into(), curve)],
        points: vec![],
    }
    .svg()
}
