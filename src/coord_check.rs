//! The coordinate check (Tensor Programs V, §D; mup's `coord_check`): train networks of
//! increasing width for a few steps on the same batches, and watch the mean |x| of every
//! layer's pre-activations, activations and logits against width. Under μP these stay flat
//! (slope 0 on log–log axes) at every step; under SP some grow after the first step.
//!
//! For each parametrization, width, seed and step t = 0 … steps (t = 0 is the start), one
//! forward pass on batch t records the statistics, then the update is taken on the same
//! batch. At each width every parametrization starts from the same random numbers (the same
//! seed's draw of the start, then scaled) and sees the same batches. [`slopes`] fits
//! log mean|x| against log width (least squares over the widths, on the mean over seeds)
//! and the per-seed fits' spread; [`crate::theory::width`] gives the slope theory predicts.
//!
//! It knows nothing of files or terminals: `initlab coord-check` loads the data, writes
//! `coord_check.csv`, draws the figure and prints the table.

use ndarray::Axis;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::experiment::prepare::{OwnedTargets, SplitData};
use crate::experiment::runner::derive_seed;
use crate::memory::{Estimate, Part, parameters};
use crate::nn::parametrization::{Family, Parametrization, Role, Setup};
use crate::nn::{
    Activation, Init, Layer, Loss, Network, NetworkWorkspace, Optimizer, ParamList, dense::Dense,
};
use crate::theory::width;

/// What to check.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Widths of every hidden layer, increasing.
    pub widths: Vec<usize>,
    /// Updates to take (statistics at 0 … steps).
    pub steps: usize,
    /// Seeds 0 … seeds−1 (each derived from `seed`).
    pub seeds: usize,
    /// The base seed.
    pub seed: u64,
    /// The parametrizations compared.
    pub parametrizations: Vec<Parametrization>,
    /// Their base width.
    pub base_width: usize,
    /// Start μP's readout at zero (mup's `readout_zero_init`): the logits then come from
    /// the updates alone, without the start's n^(−½) part.
    pub readout_zero: bool,
    /// The optimizer (its learning rate included); a fresh copy per network.
    pub optimizer: Optimizer<f32>,
    /// The hidden activation.
    pub activation: Activation,
    /// Hidden layers (dense layers = hidden + 1).
    pub hidden: usize,
    /// The start.
    pub init: Init,
    /// Rows per batch.
    pub batch_size: usize,
    /// The loss.
    pub loss: Loss,
    /// Threads for the products.
    pub threads: usize,
}

/// One line of `coord_check.csv`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// `sp`, `ntk` or `mup`.
    pub parametrization: String,
    /// The hidden width.
    pub width: usize,
    /// Updates taken before this forward pass.
    pub step: usize,
    /// The dense layer, 1 = the input layer, hidden + 1 = the readout.
    pub layer: usize,
    /// `pre_activation` (the dense layer's output), `activation` (after the non-linearity)
    /// or `logits` (the readout's output).
    pub quantity: String,
    /// Seed index.
    pub seed: usize,
    /// Mean of |x| over the batch and the layer's units.
    pub mean_abs: f64,
}

/// Checks a width list: not empty, no 0, strictly increasing.
pub fn check_widths(widths: &[usize]) -> Result<(), String> {
    if widths.is_empty() {
        return Err("--widths must list at least two widths, got none".into());
    }
    if widths.contains(&0) {
        return Err(format!("--widths must not contain 0, got {widths:?}"));
    }
    if widths.windows(2).any(|p| p[1] <= p[0]) {
        return Err(format!(
            "--widths must be strictly increasing (the slope is fitted against width), got \
             {widths:?}"
        ));
    }
    if widths.len() < 2 {
        return Err(format!(
            "--widths must list at least two widths to fit a slope, got {widths:?}"
        ));
    }
    Ok(())
}

/// The memory the widest network needs (weights, gradients, optimizer state; a batch's
/// activations and gradients), naming the width in the setting.
pub fn estimate(s: &Settings, inputs: usize, classes: usize, width: usize) -> Estimate {
    let mut sizes = vec![inputs];
    sizes.extend(std::iter::repeat_n(width, s.hidden));
    sizes.push(classes);
    let copies = 2 + s.optimizer.state_copies() as u64;
    let rows = s.batch_size as u64;
    let values: u64 = sizes.iter().skip(1).map(|&w| w as u64).sum();
    Estimate {
        parts: vec![
            Part::new(
                format!("--widths …,{width}"),
                format!(
                    "the weights, gradients and optimizer state of {} hidden layers of width {width}",
                    s.hidden
                ),
                parameters(&sizes).saturating_mul(copies * 4),
            ),
            Part::new(
                format!("--widths …,{width}"),
                "a batch's activations and gradients",
                rows.saturating_mul(values).saturating_mul(3 * 4),
            ),
        ],
    }
}

/// The network of `width`: dense (inputs → width), activation, … , dense (width → classes).
fn network(s: &Settings, inputs: usize, classes: usize, width: usize) -> Network<f32> {
    let mut layers = Vec::new();
    let mut fan_in = inputs;
    for _ in 0..s.hidden {
        layers.push(Layer::Dense(Dense::zeros(fan_in, width)));
        layers.push(Layer::Activation(s.activation));
        fan_in = width;
    }
    layers.push(Layer::Dense(Dense::zeros(fan_in, classes)));
    Network::new(inputs, layers, s.loss).expect("widths chain")
}

/// The batches of one seed: `steps + 1` batches of `batch_size` rows drawn without
/// replacement (wrapping around) from a shuffle of the training rows.
fn batches(data: &SplitData<f32>, s: &Settings, seed: u64) -> Vec<SplitData<f32>> {
    let n = data.x.nrows();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    (0..=s.steps)
        .map(|t| {
            let rows: Vec<usize> = (0..s.batch_size)
                .map(|i| order[(t * s.batch_size + i) % n])
                .collect();
            SplitData {
                x: data.x.select(Axis(0), &rows),
                targets: match &data.targets {
                    OwnedTargets::Classes(c) => {
                        OwnedTargets::Classes(rows.iter().map(|&r| c[r]).collect())
                    }
                    OwnedTargets::Values(v) => OwnedTargets::Values(v.select(Axis(0), &rows)),
                },
            }
        })
        .collect()
}

fn mean_abs(x: ndarray::ArrayView2<f32>) -> f64 {
    x.iter().map(|v| v.abs() as f64).sum::<f64>() / x.len().max(1) as f64
}

/// Runs the check on `data` (`classes` outputs): rows in the order parametrization, width,
/// seed, step, layer, quantity.
pub fn run(s: &Settings, data: &SplitData<f32>, classes: usize) -> Result<Vec<Row>, String> {
    let inputs = data.x.ncols();
    let family = Family::of(&s.optimizer);
    let mut rows = Vec::new();
    for &p in &s.parametrizations {
        let setup = Setup {
            readout_zero: s.readout_zero && p == Parametrization::Mup,
            ..Setup::new(p, s.base_width)
        };
        for &width in &s.widths {
            for seed in 0..s.seeds {
                let run_seed = derive_seed(s.seed, seed as u64);
                let batches = batches(data, s, derive_seed(run_seed, 2));
                let mut net = network(s, inputs, classes, width);
                net.initialize(&s.init, None, derive_seed(run_seed, 3));
                setup.apply(&mut net, family)?;
                let mut optimizer = s.optimizer.clone();
                optimizer.prepare(&net);
                let mut ws = NetworkWorkspace::new(&net, s.batch_size);
                ws.threads = s.threads;
                let mut grads = ParamList::zeros_like(&net);
                for (step, batch) in batches.iter().enumerate() {
                    net.loss_and_gradients(
                        batch.x.view(),
                        batch.targets.view(),
                        &mut ws,
                        &mut grads,
                    );
                    let mut layer = 0;
                    let dense_count = s.hidden + 1;
                    for (l, kind) in net.layers.iter().enumerate() {
                        let quantity = match kind {
                            Layer::Dense(_) => {
                                layer += 1;
                                if layer == dense_count {
                                    "logits"
                                } else {
                                    "pre_activation"
                                }
                            }
                            Layer::Activation(_) => "activation",
                            _ => continue,
                        };
                        rows.push(Row {
                            parametrization: p.name().to_string(),
                            width,
                            step,
                            layer,
                            quantity: quantity.to_string(),
                            seed,
                            mean_abs: mean_abs(ws.output(l)),
                        });
                    }
                    if step < s.steps {
                        optimizer.step(&mut net, &grads, s.threads);
                    }
                }
            }
        }
    }
    Ok(rows)
}

/// A fitted slope beside theory's.
#[derive(Clone, Debug, PartialEq)]
pub struct Slope {
    /// The parametrization.
    pub parametrization: String,
    /// The dense layer (1 = input layer).
    pub layer: usize,
    /// The quantity.
    pub quantity: String,
    /// The step.
    pub step: usize,
    /// The least-squares slope of ln(mean over seeds of mean|x|) against ln width
    /// (NaN if a value is not finite and positive).
    pub measured: f64,
    /// The standard deviation of the per-seed slopes (0 with one seed).
    pub seed_sd: f64,
    /// The slope [`crate::theory::width`] predicts.
    pub theory: f64,
}

/// The least-squares slope of ln y against ln x (NaN unless every y is finite and > 0).
pub fn fit_slope(points: &[(f64, f64)]) -> f64 {
    if points.len() < 2 || points.iter().any(|&(_, y)| !(y.is_finite() && y > 0.0)) {
        return f64::NAN;
    }
    let n = points.len() as f64;
    let (lx, ly): (Vec<f64>, Vec<f64>) = points.iter().map(|&(x, y)| (x.ln(), y.ln())).unzip();
    let mx = lx.iter().sum::<f64>() / n;
    let my = ly.iter().sum::<f64>() / n;
    let sxy: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = lx.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}

/// Every (parametrization, layer, quantity, step)'s slope, in the order of the rows.
pub fn slopes(rows: &[Row], s: &Settings) -> Vec<Slope> {
    let family = Family::of(&s.optimizer);
    let mut keys: Vec<(String, usize, String, usize)> = Vec::new();
    for r in rows {
        let k = (
            r.parametrization.clone(),
            r.layer,
            r.quantity.clone(),
            r.step,
        );
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.sort_by(|a, b| (&a.0, a.3, a.1, &a.2).cmp(&(&b.0, b.3, b.1, &b.2)));
    keys.sort_by_key(|k| {
        s.parametrizations
            .iter()
            .position(|p| p.name() == k.0)
            .unwrap_or(0)
    });
    keys.into_iter()
        .map(|(p, layer, quantity, step)| {
            let of = |seed: Option<usize>| -> Vec<(f64, f64)> {
                s.widths
                    .iter()
                    .map(|&w| {
                        let vals: Vec<f64> = rows
                            .iter()
                            .filter(|r| {
                                r.parametrization == p
                                    && r.layer == layer
                                    && r.quantity == quantity
                                    && r.step == step
                                    && r.width == w
                                    && seed.is_none_or(|s| r.seed == s)
                            })
                            .map(|r| r.mean_abs)
                            .collect();
                        (
                            w as f64,
                            vals.iter().sum::<f64>() / vals.len().max(1) as f64,
                        )
                    })
                    .collect()
            };
            let measured = fit_slope(&of(None));
            let per_seed: Vec<f64> = (0..s.seeds).map(|k| fit_slope(&of(Some(k)))).collect();
            let seed_sd = crate::nn::stats::mean_std(per_seed.iter()).1;
            let parametrization: Parametrization = p.parse().expect("written by run");
            let role = if layer == 1 {
                Role::Input
            } else if layer == s.hidden + 1 {
                Role::Output
            } else {
                Role::Hidden
            };
            let pre = width::coordinate_exponent(parametrization, family, role, step);
            let theory = if quantity == "activation" {
                width::activation_exponent(s.activation, pre)
            } else {
                pre
            };
            Slope {
                parametrization: p,
                layer,
                quantity,
                step,
                measured,
                seed_sd,
                theory,
            }
        })
        .collect()
}

/// How far a slope may be from 0 and still count as flat in the verdict.
pub const FLAT: f64 = 0.2;

/// One line per parametrization: whether its hidden and output coordinates stay flat after
/// the start, or the steepest growth.
pub fn verdicts(slopes: &[Slope], parametrizations: &[Parametrization]) -> Vec<String> {
    parametrizations
        .iter()
        .map(|p| {
            let after: Vec<&Slope> = slopes
                .iter()
                .filter(|s| s.parametrization == p.name() && s.step > 0 && s.layer > 1)
                .collect();
            if after.iter().any(|s| s.measured.is_nan()) {
                return format!(
                    "{p}: some coordinates are not finite (the training diverged at a width); \
                     not width-stable"
                );
            }
            let steepest = after
                .iter()
                .max_by(|a, b| a.measured.total_cmp(&b.measured));
            let lowest = after
                .iter()
                .map(|s| s.measured)
                .fold(f64::INFINITY, f64::min);
            let shrinking = if lowest < -FLAT {
                format!(" (the lowest, {lowest:+.2}, shrinks with width)")
            } else {
                String::new()
            };
            match steepest {
                Some(s) if s.measured > FLAT => format!(
                    "{p}: coordinates grow with width — steepest slope {:+.2} (layer {} {}, \
                     step {}); not width-stable",
                    s.measured, s.layer, s.quantity, s.step
                ),
                Some(s) => format!(
                    "{p}: no hidden or output coordinate grows with width after the start \
                     (steepest slope {:+.2} ≤ {FLAT}){shrinking}: width-stable",
                    s.measured
                ),
                None => format!("{p}: nothing measured"),
            }
        })
        .collect()
}

/// Refuses, before anything is allocated, a check whose widest network does not fit in
/// `budget`; the message names the width.
pub fn check_memory(
    s: &Settings,
    inputs: usize,
    classes: usize,
    budget: &crate::memory::Budget,
) -> Result<(), String> {
    let widest = *s.widths.last().expect("checked widths");
    budget.check(&estimate(s, inputs, classes, widest))
}
