//! the measurements the claims share: signal propagation through a fresh deep network,
//! short training runs through the experiment runner, and counts of distinct units.

use std::sync::atomic::AtomicBool;

use super::{Evidence, ev};
use crate::experiment::spec::{ExperimentSpec, InitEntry};
use crate::experiment::{Experiment, prepare, runner};
use crate::inspect::{InspectConfig, InspectRow, inspect};
use crate::nn::{Activation, Init, ParamSet};

/// What one init does to a deep network at initialization, summarized.
#[derive(Clone, Debug, PartialEq)]
pub struct Propagation {
    /// The per-layer rows from [`inspect`].
    pub rows: Vec<InspectRow>,
    /// Activation std of the top hidden layer / of the first.
    pub forward_overall: f64,
    /// Geometric-mean forward change per layer.
    pub forward_per_layer: f64,
    /// Gradient std at the first hidden layer / at the top one (< 1: shrinks towards the input).
    pub backward_overall: f64,
    /// Geometric-mean backward change per layer (going down).
    pub backward_per_layer: f64,
    /// Mean saturated fraction over the layers (bounded activations).
    pub saturated: Option<f64>,
}

/// Propagates a batch through a fresh `depth` × `width` network (f64), see [`inspect`].
pub fn propagate(
    init: &Init,
    activation: Activation,
    depth: usize,
    width: usize,
    seed: u64,
) -> Propagation {
    let mut config = InspectConfig::new(vec![init.clone()], activation, depth, width);
    config.batch = 256;
    config.seed = seed;
    let rows = inspect::<f64>(&config);
    let first = &rows[0];
    let top = &rows[rows.len() - 1];
    let steps = (depth.max(2) - 1) as f64;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let forward_overall = ratio(top.stats.activation_std, first.stats.activation_std);
    let backward_overall = ratio(first.stats.gradient_std, top.stats.gradient_std);
    let sat: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.stats.saturated_fraction)
        .collect();
    Propagation {
        forward_per_layer: forward_overall.powf(1.0 / steps),
        backward_per_layer: backward_overall.powf(1.0 / steps),
        forward_overall,
        backward_overall,
        saturated: (!sat.is_empty()).then(|| sat.iter().sum::<f64>() / sat.len() as f64),
        rows,
    }
}

pub(super) fn push_propagation(evidence: &mut Vec<Evidence>, condition: &str, p: &Propagation) {
    ev(
        evidence,
        condition,
        "forward factor per layer",
        p.forward_per_layer,
    );
    ev(
        evidence,
        condition,
        "forward change top/first",
        p.forward_overall,
    );
    ev(
        evidence,
        condition,
        "backward factor per layer",
        p.backward_per_layer,
    );
    ev(
        evidence,
        condition,
        "backward change first/top",
        p.backward_overall,
    );
    ev(
        evidence,
        condition,
        "activation std first layer",
        p.rows[0].stats.activation_std,
    );
    if let Some(s) = p.saturated {
        ev(evidence, condition, "saturated fraction (mean)", s);
    }
}

/// Short training runs of `spec`; returns per start (in order) its label and its runs'
/// records and weights.
pub(super) fn train_runs(
    spec: ExperimentSpec,
    threads: usize,
) -> Vec<(String, Vec<runner::RunResult<f64>>)> {
    let exp = Experiment::from_spec(spec, "claims", None).expect("claims' experiments are valid");
    let dataset = prepare::load(&exp.spec.data, None)
        .unwrap_or_else(|_| panic!("claims data generator failed"));
    let outputs =
        prepare::output_width(&dataset, exp.spec.network.loss).expect("classification data");
    let runs = runner::grid(&exp, None);
    let options = runner::RunOptions {
        threads: threads.max(1),
        save_weights: true,
    };
    let shared = runner::RunContext {
        spec: &exp.spec,
        inits: &exp.inits,
        points: &exp.sweep.points,
        dataset: &dataset,
        outputs,
        class_names: &[],
    };
    let results =
        runner::run_grid::<f64>(shared, &runs, &options, &AtomicBool::new(false), &|_, _| {});
    exp.inits
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mine = results
                .iter()
                .filter(|x| x.spec.init == i)
                .cloned()
                .collect();
            (r.label.clone(), mine)
        })
        .collect()
}

/// A start by scheme name, with parameters and an optional bias start.
pub(super) fn start(name: &str, params: &[(&str, f64)], bias: Option<&str>) -> InitEntry {
    InitEntry::Table {
        name: name.into(),
        label: None,
        bias: bias.map(|b| Box::new(InitEntry::Name(b.into()))),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), toml::Value::Float(*v)))
            .collect(),
    }
}

/// The worst of the seeds' final losses: the largest, and NaN (a diverged run) if any
/// is NaN (`f64::max` alone would drop it, and the diverged run with it).
pub fn worst_loss(losses: impl IntoIterator<Item = f64>) -> f64 {
    losses.into_iter().fold(0.0, |worst, loss| {
        if worst.is_nan() || loss.is_nan() {
            f64::NAN
        } else {
            worst.max(loss)
        }
    })
}

/// Number of distinct hidden units (rows of the first weight matrix with their bias),
/// two units being the same when every entry differs by less than 1e-9.
pub fn distinct_units(layer: &crate::nn::Dense<f64>) -> usize {
    let w = &layer.weight;
    let mut reps: Vec<usize> = Vec::new();
    for r in 0..w.nrows() {
        let same = reps.iter().any(|&q| {
            (layer.bias[r] - layer.bias[q]).abs() < 1e-9
                && w.row(r)
                    .iter()
                    .zip(w.row(q).iter())
                    .all(|(a, b)| (a - b).abs() < 1e-9)
        });
        if !same {
            reps.push(r);
        }
    }
    reps.len()
}

/// [`distinct_units`] of a trained run's first layer (its weights kept by `train_runs`).
pub fn first_layer_distinct_units(run: &runner::RunResult<f64>) -> usize {
    let snapshot = run.snapshot.as_ref().expect("weights kept");
    // Tensors 0 and 1: the first layer's weight and bias.
    let shape = (snapshot.infos[0].shape[0], snapshot.infos[0].shape[1]);
    let layer = crate::nn::Dense {
        weight: ndarray::Array2::from_shape_vec(shape, snapshot.final_.tensor(0).to_vec())
            .expect("the first weight's shape"),
        bias: ndarray::Array1::from_vec(snapshot.final_.tensor(1).to_vec()),
    };
    distinct_units(&layer)
}

/// The mean over `runs` of the last logged test accuracy (0 where a run has none).
pub fn final_test_accuracy<'a>(runs: impl IntoIterator<Item = &'a runner::RunResult<f64>>) -> f64 {
    let accuracies: Vec<f64> = runs
        .into_iter()
        .map(|r| {
            r.records
                .last()
                .and_then(|x| x.test_accuracy)
                .unwrap_or(0.0)
        })
        .collect();
    accuracies.iter().sum::<f64>() / accuracies.len().max(1) as f64
}
