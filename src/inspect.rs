//! Signal propagation at initialization: how the activations and back-propagated gradients
//! of a deep, freshly initialized network behave layer by layer, under several inits.
//!
//! No training happens. For each init, a network of `depth` hidden layers of `width` units
//! and an output layer of `width` units is initialized (seeded; LSUV is then fitted on the
//! same input batch, GradInit and MetaInit learn their scales on random data of that shape,
//! [`learn_scales`]), a batch of standard-normal inputs is pushed forward with the engine's
//! [`Mlp::forward`], and a standard-normal gradient at the logits (dL/dz of the output
//! layer, one per unit and row, seeded) is back-propagated with the engine's
//! [`Mlp::backward_from`]: the same backprop that trains.
//!
//! Per hidden layer `l` (1-based, as in `layers.csv`) a [`InspectRow`] holds what
//! [`measure_layer`] measures for `layers.csv`:
//! - the mean and standard deviation of the activations, over all units and rows;
//! - the saturated fraction for bounded activations (sigmoid, tanh, softsign): outputs within
//!   [`SATURATION_MARGIN`](crate::nn::stats::SATURATION_MARGIN) of a bound (sigmoid: a < 0.03 or a > 0.97; tanh: |a| > 0.97);
//! - the dead fraction for ReLU: units whose output is exactly 0 on every row of the batch;
//! - the standard deviation of dL/da, the back-propagated gradient with respect to the
//!   layer's output, per row;
//! - the standard deviation of the layer's weights (epoch 0; no update ratio, as no step
//!   is taken);
//!
//! and, in addition, the standard deviation of dL/dW for the *mean* over the batch.

use std::io::{self, Write};
use std::path::Path;

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize, Serializer};

use crate::csvfile::{ReadError, read_split, write_rows};
use crate::nn::init::{InitData, Learning};
use crate::nn::stats::{
    LAYER_COLUMNS, LayerColumn, LayerStats, Scale, column, mean_std, measure_layer, measure_layers,
};
use crate::nn::{
    Activation, Float, Gradients, Init, Layer, Loss, Mlp, Network, NetworkWorkspace, ParamList,
    ParamSet, Workspace,
};

/// The RNG stream of the input batch (far from the layer streams `2l`, `2l + 1`).
const INPUT_STREAM: u64 = u64::MAX;
/// The RNG stream of the injected gradient.
const GRADIENT_STREAM: u64 = u64::MAX - 1;
/// The purpose tag of a learned start's random batches ([`learn_scales`]).
const LEARNED_STREAM: u64 = 4;

/// What to inspect.
#[derive(Clone, Debug)]
pub struct InspectConfig {
    /// The inits to compare, side by side.
    pub inits: Vec<Init>,
    /// The activation of every hidden layer.
    pub activation: Activation,
    /// Number of hidden layers.
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Rows in the input batch.
    pub batch: usize,
    /// Seed of the weights, the input batch and the injected gradient.
    pub seed: u64,
    /// Input features (usually `width`).
    pub inputs: usize,
}

impl InspectConfig {
    /// `depth` hidden layers of `width` units, a batch of 256 rows, seed 0, `width` inputs.
    pub fn new(inits: Vec<Init>, activation: Activation, depth: usize, width: usize) -> Self {
        InspectConfig {
            inits,
            activation,
            depth,
            width,
            batch: 256,
            seed: 0,
            inputs: width,
        }
    }
}

/// The statistics of one hidden layer under one init: the engine's measurement, as in
/// `layers.csv`, and the gradient of the batch mean.
#[derive(Clone, Debug, PartialEq)]
pub struct InspectRow {
    /// The init's label ([`Init::label`]).
    pub init: String,
    /// What [`measure_layer`] measures, at epoch 0 (no
    /// step taken, so no update ratio); `stats.layer` is the hidden layer, 1-based.
    pub stats: LayerStats,
    /// Standard deviation of dL/dW of this layer's weights, for the mean over the batch.
    pub weight_gradient_std: f64,
}

/// The columns of `inspect.csv` that are not [`LayerStats`]'s.
#[derive(Serialize, Deserialize)]
struct OwnColumns {
    init: String,
    weight_gradient_std: f64,
}

/// The column names of [`OwnColumns`], which [`read_csv`] splits off the rest.
const OWN_COLUMNS: [&str; 2] = ["init", "weight_gradient_std"];

/// Written as the pair (own columns, layer stats), as `layers.csv` writes (run key, layer
/// stats): the `csv` crate cannot flatten a nested struct.
impl Serialize for InspectRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let own = OwnColumns {
            init: self.init.clone(),
            weight_gradient_std: self.weight_gradient_std,
        };
        (own, &self.stats).serialize(serializer)
    }
}

/// A (rows, cols) array of standard-normal draws from stream `stream` of `seed`.
fn standard_normal<T: Float>(rows: usize, cols: usize, seed: u64, stream: u64) -> Array2<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    Array2::from_shape_simple_fn((rows, cols), || {
        let z: f64 = StandardNormal.sample(&mut rng);
        T::of(z)
    })
}

/// The dense layers' weights and biases of `network` (a chain made by
/// [`Network::from_mlp`]) written back into `mlp`.
fn copy_dense_layers<T: Float>(network: &Network<T>, mlp: &mut Mlp<T>) {
    let dense = network.layers.iter().filter_map(|l| match l {
        Layer::Dense(d) => Some(d),
        _ => None,
    });
    for (layer, d) in mlp.layers.iter_mut().zip(dense) {
        layer.weight.assign(&d.weight);
        layer.bias.assign(&d.bias);
    }
}

/// GradInit's or MetaInit's scales, if `init` is one of them, learned on random data of
/// the inspected shape — there is no data set here: standard-normal inputs with random
/// labels of `width` classes under the inspection's MSE, MetaInit's random data, from the
/// learned start's own stream of `seed` — and SGD's first step for GradInit. They learn on
/// the layer engine, which runs every activation, and the learned weights are copied back.
pub fn learn_scales<T: Float>(mlp: &mut Mlp<T>, init: &Init, seed: u64) {
    let (Some(first), Some(last)) = (mlp.layers.first(), mlp.layers.last()) else {
        return;
    };
    let data = InitData::Gaussian {
        inputs: first.inputs(),
        classes: last.outputs().max(2),
    };
    let seed = crate::experiment::runner::derive_seed(seed, LEARNED_STREAM);
    let mut network = Network::from_mlp(mlp);
    match init.learning() {
        Some(Learning::GradInit(settings)) => {
            settings.learn(&mut network, data, seed);
        }
        Some(Learning::MetaInit(settings)) => {
            settings.learn(&mut network, data, seed);
        }
        _ => return,
    }
    copy_dense_layers(&network, mlp);
}

/// The rows of one init: one per hidden layer, input side first.
fn inspect_one<T: Float>(config: &InspectConfig, init: &Init) -> Vec<InspectRow> {
    let (depth, width) = (config.depth, config.width);
    let mut sizes = vec![config.inputs];
    sizes.extend(std::iter::repeat_n(width, depth + 1));
    let activations = vec![config.activation; depth];
    let mut mlp = Mlp::<T>::new(&sizes, &activations, Loss::Mse);
    mlp.initialize(init, None, config.seed);
    learn_scales(&mut mlp, init, config.seed);
    let x = standard_normal::<T>(config.batch, config.inputs, config.seed, INPUT_STREAM);
    if let Some((tolerance, max_iterations)) = init.lsuv_settings()
        && config.activation.derivative_from_output()
    {
        mlp.lsuv(x.view(), tolerance, max_iterations);
    }
    let delta_out = standard_normal::<T>(config.batch, width, config.seed, GRADIENT_STREAM);
    // The injected gradient is per row: dW summed over the rows, divided by n, is the
    // gradient of the mean.
    let rows = config.batch as f64;
    let row = |stats, weight_gradient: &[T]| InspectRow {
        init: init.label(),
        stats,
        weight_gradient_std: mean_std(weight_gradient.iter()).1 / rows,
    };
    if !config.activation.derivative_from_output() {
        return inspect_on_layer_engine(mlp, x.view(), delta_out.view(), init, depth)
            .into_iter()
            .map(|(stats, grad)| row(stats, &grad))
            .collect();
    }
    let mut ws = Workspace::new(&mlp, config.batch);
    mlp.forward(x.view(), &mut ws);
    let mut grads = Gradients::zeros_like(&mlp);
    mlp.backward_from(delta_out.view(), x.view(), &mut ws, &mut grads);
    measure_layers(&mlp, &mut ws, 0)
        .into_iter()
        .zip(&grads.layers)
        .take(depth)
        .map(|(stats, grad)| row(stats, grad.weight.as_slice().expect("contiguous weights")))
        .collect()
}

/// [`inspect_one`] for an activation whose derivative needs its input (GELU, SiLU): the
/// same network, start and batch on the layer engine ([`Network`]), where the fused path
/// cannot run. LSUV, if it is the start, rescales there; the per-layer measurement is the
/// same [`measure_layer`], on the layer engine's outputs and output gradients. Returns each
/// hidden layer's statistics and its summed weight gradient.
fn inspect_on_layer_engine<T: Float>(
    mut mlp: Mlp<T>,
    x: ArrayView2<T>,
    delta_out: ArrayView2<T>,
    init: &Init,
    depth: usize,
) -> Vec<(LayerStats, Vec<T>)> {
    let mut network = Network::from_mlp(&mlp);
    if let Some((tolerance, max_iterations)) = init.lsuv_settings() {
        network.lsuv(x, tolerance, max_iterations);
        // The measurement reads the weights from the chain: give it the rescaled ones.
        copy_dense_layers(&network, &mut mlp);
    }
    let mut ws = NetworkWorkspace::new(&network, x.nrows());
    network.forward(x, &mut ws);
    let mut grads = ParamList::zeros_like(&network);
    network.backward_from(delta_out, x, &mut ws, &mut grads);
    // Layer l of the chain is the network's dense layer 2l followed by its activation
    // 2l + 1, whose output is what the row measures; its weight is parameter tensor 2l.
    (0..depth)
        .map(|l| {
            let stats = measure_layer(
                &mlp,
                l,
                ws.output(2 * l + 1),
                ws.output_gradient(2 * l + 1),
                0,
            );
            (stats, grads.tensor(2 * l).to_vec())
        })
        .collect()
}

/// Signal propagation at initialization for every init of `config`: one [`InspectRow`] per
/// init and hidden layer, init by init, input side first. See the module docs.
///
/// # Panics
/// If `depth`, `width`, `batch` or `inputs` is 0 (check user input before calling).
pub fn inspect<T: Float>(config: &InspectConfig) -> Vec<InspectRow> {
    assert!(
        config.depth > 0 && config.width > 0 && config.batch > 0 && config.inputs > 0,
        "inspect needs depth, width, batch and inputs ≥ 1: {config:?}"
    );
    let _mode = crate::nn::float::DenormalMode::Flush.enter(); // as in training
    config
        .inits
        .iter()
        .flat_map(|init| inspect_one::<T>(config, init))
        .collect()
}

/// A number in at most 8 characters: fixed for ordinary magnitudes, scientific otherwise.
fn short(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !v.is_finite() {
        format!("{v}")
    } else if (1e-3..1e4).contains(&a) {
        // Four significant digits, at most four decimals.
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 4) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.2e}")
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |f| format!("{:.1}", 100.0 * f))
}

/// A table for people: one row per layer, one column group per init (activation std,
/// gradient std, and saturated % or dead % when they apply). Two inits fit in about 70
/// columns, five in about 160.
pub fn format_table(rows: &[InspectRow]) -> String {
    let mut inits: Vec<&str> = Vec::new();
    for r in rows {
        if !inits.contains(&r.init.as_str()) {
            inits.push(&r.init);
        }
    }
    let mut layers: Vec<usize> = rows.iter().map(|r| r.stats.layer).collect();
    layers.sort_unstable();
    layers.dedup();
    let find = |init: &str, layer: usize| {
        rows.iter()
            .find(|r| r.init == init && r.stats.layer == layer)
    };
    let (act, grad) = (column("activation_std"), column("gradient_std"));
    // The third column of a group: the first fraction of layers.csv (saturated, dead) that
    // a row of the init has.
    let extra = |init: &str| {
        LAYER_COLUMNS.iter().find(|c| {
            c.scale == Scale::Fraction
                && rows
                    .iter()
                    .any(|r| r.init == init && (c.value)(&r.stats).is_some())
        })
    };
    const W: usize = 8;
    let group_width = |init: &str| {
        if extra(init).is_some() {
            3 * W + 2
        } else {
            2 * W + 1
        }
    };
    let mut out = String::new();
    let mut head1 = format!("{:>5}", "");
    let mut head2 = format!("{:>5}", "layer");
    for &init in &inits {
        let gw = group_width(init).max(init.chars().count());
        head1.push_str(&format!(" │ {init:^gw$}"));
        let mut cols = format!("{:>W$} {:>W$}", act.short, grad.short);
        if let Some(e) = extra(init) {
            cols.push_str(&format!(" {:>W$}", e.short));
        }
        head2.push_str(&format!(" │ {cols:>gw$}"));
    }
    out.push_str(head1.trim_end());
    out.push('\n');
    out.push_str(&head2);
    out.push('\n');
    out.push_str(&"─".repeat(head2.chars().count()));
    out.push('\n');
    for layer in layers {
        let mut line = format!("{layer:>5}");
        for &init in &inits {
            let gw = group_width(init).max(init.chars().count());
            let cells = match find(init, layer) {
                Some(r) => {
                    let value = |c: &LayerColumn| (c.value)(&r.stats).unwrap_or(f64::NAN);
                    let mut c = format!("{:>W$} {:>W$}", short(value(act)), short(value(grad)));
                    if let Some(e) = extra(init) {
                        c.push_str(&format!(" {:>W$}", percent((e.value)(&r.stats))));
                    }
                    c
                }
                None => String::new(),
            };
            line.push_str(&format!(" │ {cells:>gw$}"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Writes the rows in long format, one row per init × layer: the columns `init` and
/// `weight_gradient_std`, then those of `layers.csv`'s measurement ([`LayerStats`]); a
/// value that does not apply is an empty cell. Numbers are written exactly (shortest
/// round-trip form), by the same writer as the experiments' CSV files.
pub fn write_csv(rows: &[InspectRow], w: &mut dyn Write) -> io::Result<()> {
    write_rows(w, rows)
}

/// Reads what [`write_csv`] wrote (columns matched by name).
pub fn read_csv(path: &Path) -> Result<Vec<InspectRow>, ReadError> {
    let pairs = read_split::<OwnColumns, LayerStats>(path, &OWN_COLUMNS)?;
    Ok(pairs
        .into_iter()
        .map(|(own, stats)| InspectRow {
            init: own.init,
            stats,
            weight_gradient_std: own.weight_gradient_std,
        })
        .collect())
}

/// What the mean-field theory says about one init of an inspection: the per-start summary
/// (σ_w², σ_b² of the square hidden layers, q*, χ₁, phase, ξ_c) and the per-layer
/// predictions beside the measurements (`inspect --theory`).
#[derive(Clone, Debug)]
pub struct TheoryOfStart {
    /// The init's label.
    pub init: String,
    /// σ_w², σ_b² and the analysis of a hidden layer, or why the theory does not apply.
    pub summary: Result<(crate::theory::StartScales, crate::theory::Analysis), String>,
    /// One prediction per hidden layer (empty when the theory does not apply).
    pub layers: Vec<crate::theory::LayerPrediction>,
}

/// The theory of every init of `config`, from the scheme formulas (LSUV and custom schemes
/// have none). The inputs are standard normal (mean square 1) and the injected gradient
/// has variance 1, as [`inspect`] draws them.
pub fn theory(config: &InspectConfig) -> Vec<TheoryOfStart> {
    use crate::nn::Fan;
    use crate::theory::{LayerScale, MeanField, predict_layers, start_scales};
    let mut sizes = vec![config.inputs];
    sizes.extend(std::iter::repeat_n(config.width, config.depth + 1));
    config
        .inits
        .iter()
        .map(|init| {
            let scales: Result<Vec<LayerScale>, String> = sizes
                .windows(2)
                .enumerate()
                .map(|(l, pair)| {
                    let fan = Fan {
                        fan_in: pair[0],
                        fan_out: pair[1],
                    };
                    let after = if l < config.depth {
                        config.activation
                    } else {
                        Activation::Identity
                    };
                    start_scales(init, fan, after).map(|s| LayerScale {
                        sigma_w2: s.sigma_w2,
                        sigma_b2: s.sigma_b2,
                        fan_in: fan.fan_in,
                        fan_out: fan.fan_out,
                    })
                })
                .collect();
            let (summary, layers) = match scales {
                Ok(scales) => {
                    let (hidden, output) = scales.split_at(config.depth);
                    let layers = predict_layers(config.activation, hidden, output[0], 1.0, 1.0);
                    // The summary is that of a square hidden layer (the last one).
                    let s = hidden[hidden.len() - 1];
                    let summary = MeanField::new(config.activation, s.sigma_w2, s.sigma_b2)
                        .map(|m| {
                            (
                                crate::theory::StartScales {
                                    sigma_w2: s.sigma_w2,
                                    sigma_b2: s.sigma_b2,
                                },
                                m.analyze(),
                            )
                        })
                        .map_err(|e| e.0);
                    (summary, layers)
                }
                Err(e) => (Err(e), Vec::new()),
            };
            TheoryOfStart {
                init: init.label(),
                summary,
                layers,
            }
        })
        .collect()
}

/// A number for the theory table: [`short`], or `diverges` / `-`.
fn predicted(v: Option<f64>, applies: bool) -> String {
    match v {
        Some(v) => short(v),
        None if applies => "diverges".into(),
        None => "-".into(),
    }
}

/// The one-line summary of a start: σ_w², σ_b², q*, χ₁, phase, ξ_c.
pub fn format_summary_line(t: &TheoryOfStart) -> String {
    match &t.summary {
        Ok((s, a)) => {
            let q = match a.q_star.value() {
                Some(q) => short(q),
                None => "diverges".into(),
            };
            let xi = if a.xi_c.is_infinite() {
                "∞".to_string()
            } else {
                short(a.xi_c)
            };
            format!(
                "{}: σ_w² = {}, σ_b² = {}, q* = {q}, χ₁ = {}, {}, ξ_c = {xi}",
                t.init,
                short(s.sigma_w2),
                short(s.sigma_b2),
                short(a.chi1),
                a.phase.name()
            )
        }
        Err(e) => format!("{}: no mean-field prediction: {e}", t.init),
    }
}

/// Measured beside predicted, per init: the summary line, then one row per layer with the
/// activation std and the gradient std, measured and predicted.
pub fn format_theory(rows: &[InspectRow], theory: &[TheoryOfStart]) -> String {
    const W: usize = 10;
    let mut out = String::new();
    for t in theory {
        out.push_str(&format_summary_line(t));
        out.push('\n');
        out.push_str(&format!(
            "{:>5} {:>W$} {:>W$} {:>W$} {:>W$}\n",
            "layer", "act std", "predicted", "grad std", "predicted"
        ));
        let applies = t.summary.is_ok();
        for r in rows.iter().filter(|r| r.init == t.init) {
            let p = t.layers.iter().find(|p| p.layer == r.stats.layer);
            out.push_str(&format!(
                "{:>5} {:>W$} {:>W$} {:>W$} {:>W$}\n",
                r.stats.layer,
                short(r.stats.activation_std),
                predicted(p.and_then(|p| p.activation_std), applies),
                short(r.stats.gradient_std),
                predicted(p.and_then(|p| p.gradient_std), applies),
            ));
        }
        out.push('\n');
    }
    out
}

/// Probe inputs of the Jacobian spectra (rows of the inspection's input batch).
pub const JACOBIAN_PROBES: usize = 4;

/// The input–output Jacobian spectrum of one init: singular values of ∂a^L/∂x (the last
/// hidden layer's output) at [`JACOBIAN_PROBES`] probe inputs, pooled.
#[derive(Clone, Debug)]
pub struct Spectrum {
    /// The init's label.
    pub init: String,
    /// The singular values of every probe, largest first per probe.
    pub singular_values: Vec<f64>,
    /// Their summary.
    pub summary: crate::theory::jacobian::SpectrumSummary,
}

/// The Jacobian spectrum of every init of `config` (in `f64`, the same weights and inputs
/// as [`inspect`]; LSUV is fitted on the inspection batch first).
pub fn spectra(config: &InspectConfig) -> Vec<Spectrum> {
    use crate::theory::jacobian::{hidden_jacobian, singular_values, summarize};
    let mut sizes = vec![config.inputs];
    sizes.extend(std::iter::repeat_n(config.width, config.depth + 1));
    let activations = vec![config.activation; config.depth];
    let x = standard_normal::<f64>(config.batch, config.inputs, config.seed, INPUT_STREAM);
    config
        .inits
        .iter()
        .map(|init| {
            let mut mlp = Mlp::<f64>::new(&sizes, &activations, Loss::Mse);
            mlp.initialize(init, None, config.seed);
            learn_scales(&mut mlp, init, config.seed);
            if let Some((tolerance, max_iterations)) = init.lsuv_settings() {
                mlp.lsuv(x.view(), tolerance, max_iterations);
            }
            let mut all = Vec::new();
            for row in x.rows().into_iter().take(JACOBIAN_PROBES) {
                all.extend(singular_values(&hidden_jacobian(&mlp, row)));
            }
            Spectrum {
                init: init.label(),
                summary: summarize(&all),
                singular_values: all,
            }
        })
        .collect()
}

/// The spectra as a table: per init, mean and variance of s², s_max, s_min, s_max/s_min.
pub fn format_spectra(config: &InspectConfig) -> String {
    let mut out = format!(
        "Jacobian ∂a^{}/∂x singular values ({} probes): \n{:<28} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        config.depth, JACOBIAN_PROBES, "init", "mean s²", "var s²", "s_max", "s_min", "max/min"
    );
    for s in spectra(config) {
        let m = s.summary;
        out.push_str(&format!(
            "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            s.init,
            short(m.mean_s2),
            short(m.var_s2),
            short(m.s_max),
            short(m.s_min),
            short(m.condition())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layer-engine measurement (what GELU and SiLU get) equals the fused path's where
    /// both can run: the same statistics and weight gradients, to rounding, for every layer
    /// and for LSUV's rescaled weights. This pins its layer and tensor indices.
    #[test]
    fn the_layer_engine_measures_as_the_fast_path() {
        for activation in [Activation::Tanh, Activation::Relu, Activation::Sigmoid] {
            for init in ["he-normal", "lsuv"] {
                let init: Init = init.parse().unwrap();
                let config = InspectConfig {
                    inits: vec![init.clone()],
                    activation,
                    depth: 4,
                    width: 16,
                    batch: 32,
                    seed: 3,
                    inputs: 16,
                };
                let fast = inspect::<f64>(&config);
                let mut sizes = vec![16];
                sizes.extend([16; 5]);
                let mut mlp = Mlp::<f64>::new(&sizes, &[activation; 4], Loss::Mse);
                mlp.initialize(&init, None, 3);
                let x = standard_normal::<f64>(32, 16, 3, INPUT_STREAM);
                let delta = standard_normal::<f64>(32, 16, 3, GRADIENT_STREAM);
                let slow = inspect_on_layer_engine(mlp, x.view(), delta.view(), &init, 4);
                assert_eq!(fast.len(), slow.len());
                for (f, (s, grad)) in fast.iter().zip(&slow) {
                    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1.0);
                    for c in &LAYER_COLUMNS {
                        let (a, b) = ((c.value)(&f.stats), (c.value)(s));
                        assert_eq!(a.is_some(), b.is_some(), "{activation} {}", c.key);
                        if let (Some(a), Some(b)) = (a, b) {
                            assert!(
                                close(a, b),
                                "{activation} {} layer {}: {a} vs {b}",
                                c.key,
                                s.layer
                            );
                        }
                    }
                    let g = mean_std(grad.iter()).1 / 32.0;
                    assert!(
                        close(f.weight_gradient_std, g),
                        "{activation}: {} vs {g}",
                        f.weight_gradient_std
                    );
                }
            }
        }
    }
}
