//! How much memory an experiment needs, estimated from its plan before anything is
//! allocated: the network's parameters and layer widths, the batch sizes, the number of runs
//! at once and the rows a run holds until it is written. The generic parts (an
//! [`Estimate`] of [`Part`]s, the [`Budget`](crate::memory::Budget) that checks it, and the
//! sizes of dense layers) live in [`crate::memory`], which knows nothing of experiments; this
//! file is where an experiment asks it.

use crate::memory::{Estimate, Part, batch_bytes, grouped, parameters};

use super::spec::ExperimentSpec;

/// The size of the data an experiment trains on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataShape {
    /// Rows of the whole data set.
    pub rows: usize,
    /// Input features.
    pub features: usize,
    /// Width of the output layer.
    pub outputs: usize,
}

/// Rows the engine evaluates at once (the training loop's evaluation chunk and the
/// probe's batch are both at most this many rows).
const EVAL_ROWS: usize = if crate::nn::train::EVAL_CHUNK > crate::experiment::stats::PROBE_ROWS {
    crate::nn::train::EVAL_CHUNK
} else {
    crate::experiment::stats::PROBE_ROWS
};
/// Parameter-sized buffers of one training run besides the optimizer's state: the weights,
/// the step's gradient, the weights before the step (for the update ratio), the
/// evaluation's two gradient sums, the probe's gradient and the start's weights the probe
/// measures the weight change against. Counted by hand from the runner;
/// `tests/suite/memory_estimate.rs` holds a run's measured peak to within 2× of the estimate,
/// so a count that drifts from the engine fails there.
const PARAMETER_COPIES: u64 = 7;
/// Decision-boundary points of a run on 2-D data, 32 bytes each.
const BOUNDARY_BYTES: u64 = 40 * 40 * 32;

/// Logged epochs of a run (epoch 0, every `log_every`-th, and the last).
fn logged_epochs(spec: &ExperimentSpec) -> u64 {
    let t = &spec.training;
    ((t.epochs / t.log_every.max(1)) as u64).saturating_add(2)
}

/// Most non-empty bins of one histogram: the signed log bins (4 a decade over 12 decades,
/// both signs), the zero, NaN, underflow and overflow bins (the linear bins of bounded
/// outputs are fewer).
const HISTOGRAM_BINS: u64 = 2
    * (crate::nn::histogram::LOG_BINS_PER_DECADE
        * (crate::nn::histogram::LOG_MAX_EXPONENT - crate::nn::histogram::LOG_MIN_EXPONENT))
        as u64
    + 6;

/// What one run keeps in memory until it is written, growing with its length: a metrics
/// row and a `layers.csv` row per layer at every logged epoch, and the histograms of its
/// histogram epochs (five quantities per layer). Returns the bytes and the logged epochs.
fn logged_rows_bytes(spec: &ExperimentSpec) -> (u64, u64) {
    use std::mem::size_of;
    let logged = logged_epochs(spec);
    let layers = spec.network.hidden.len() as u64 + 1;
    // quantiles.csv: two quantities × (all units, unit 1) per layer, when asked for.
    let quantile_rows = if spec.training.quantiles { 4 } else { 0 };
    let row = size_of::<crate::nn::EpochRecord>() as u64
        + layers * size_of::<crate::nn::stats::LayerStats>() as u64
        + layers * quantile_rows * size_of::<crate::nn::quantiles::LayerQuantiles>() as u64;
    let runs = spec
        .inits
        .len()
        .saturating_mul(spec.network.activations.len())
        .saturating_mul(spec.seeds);
    let histogram_epochs =
        (spec.training.histogram_count(runs, layers as usize) as u64).min(logged);
    let histogram = layers
        * crate::nn::histogram::Quantity::ALL.len() as u64
        * HISTOGRAM_BINS
        * size_of::<crate::nn::histogram::HistogramBin>() as u64
        + size_of::<usize>() as u64;
    (
        logged
            .saturating_mul(row)
            .saturating_add(histogram_epochs.saturating_mul(histogram)),
        logged,
    )
}

/// The layer sizes of `spec`'s network on data of shape `data`, inputs first.
fn layer_sizes(spec: &ExperimentSpec, data: DataShape) -> Vec<usize> {
    let mut sizes = vec![data.features];
    sizes.extend_from_slice(&spec.network.hidden);
    sizes.push(data.outputs);
    sizes
}

/// What running the grid of `spec` needs: `threads` runs at once, each with its network
/// and optimizer state, its copy of the data split, the buffers of its mini-batch, of the
/// whole-set evaluation and of the probe, plus the finished runs waiting in the reorder
/// window (`window` of them) and the summary's values of one start × activation, and the
/// rows each of those runs logs as it trains until it is written (they grow with
/// `training.epochs / training.log_every`, so a run too long to hold is refused before it
/// starts rather than failing an allocation hours later). The number of runs in the grid
/// does not appear: results are streamed to disk.
pub fn grid_estimate(
    spec: &ExperimentSpec,
    data: DataShape,
    threads: usize,
    window: usize,
    save_weights: bool,
    element: usize,
) -> Estimate {
    let e = element as u64;
    let sizes = layer_sizes(spec, data);
    let mut params = parameters(&sizes);
    let mut batch_row_values = None;
    if !spec.network.shape().is_plain() {
        // The layer engine: count the planned network (nothing allocated), the largest of
        // the compared activations' (they share the shape).
        for &a in &spec.network.activations {
            if let Ok(plan) = crate::experiment::build::network_plan(
                &spec.network.shape(),
                data.features,
                data.outputs,
                a,
            ) {
                let (p, values) = crate::experiment::build::plan_size(&plan, data.features);
                params = params.max(p);
                batch_row_values = Some(values.saturating_add(data.features as u64));
            }
        }
    }
    let batch_bytes = |rows: usize| match batch_row_values {
        Some(values) => values.saturating_mul(rows as u64).saturating_mul(e),
        None => batch_bytes(&sizes, rows, element),
    };
    // Adam keeps two moment buffers where SGD keeps one velocity.
    // The optimizer says how many copies of the parameters its state holds (SGD with
    // momentum one, Adam two; a configuration that does not build counts as plain SGD).
    let t = &spec.training;
    let state = t
        .optimizer
        .build::<f32>(t.learning_rate, t.momentum, t.weight_decay)
        .map_or(0, |o| o.state_copies()) as u64;
    let copies = PARAMETER_COPIES + state.max(1);
    let threads = threads.max(1) as u64;
    let at_once = if threads == 1 {
        "one run at a time (--threads 1)".to_string()
    } else {
        format!("{threads} runs at once (--threads {threads})")
    };
    let hidden = match spec.network.hidden.as_slice() {
        [w, rest @ ..] if rest.len() >= 3 && rest.iter().all(|x| x == w) => format!(
            "network.hidden ({} layers of {})",
            rest.len() + 1,
            grouped(*w)
        ),
        [] => "network.layers".to_string(),
        h => format!("network.hidden = {h:?}"),
    };
    let batch = spec
        .training
        .batch_size
        .unwrap_or(usize::MAX)
        .min(data.rows);
    let eval = data.rows.clamp(1, EVAL_ROWS);
    let (rows, logged) = logged_rows_bytes(spec);
    // classes.csv's rows: every class of both splits at every logged epoch (counted for
    // regression too, where there are none: a few bytes per epoch).
    let classes = data.outputs.max(2) as u64;
    let class_row =
        std::mem::size_of::<crate::experiment::record::ClassStats>() as u64 + CLASS_NAME_BYTES;
    let rows = rows.saturating_add(logged.saturating_mul(2 * classes * class_row));
    let t = &spec.training;
    let result = BOUNDARY_BYTES.saturating_add(if save_weights { 2 * params * e } else { 0 });
    let batch_setting = match spec.training.batch_size {
        Some(b) => format!("training.batch_size = {b}"),
        None => format!("full-batch training on {} rows", grouped(data.rows)),
    };
    Estimate {
        parts: vec![
            Part::new(
                hidden.clone(),
                format!(
                    "the weights, gradients and optimizer state of {} parameters, × {at_once}",
                    grouped(params as usize)
                ),
                params.saturating_mul(copies * e).saturating_mul(threads),
            ),
            Part::new(
                batch_setting,
                format!(
                    "the activations of a {}-row batch, × {at_once}",
                    grouped(batch)
                ),
                batch_bytes(batch).saturating_mul(threads),
            ),
            Part::new(
                hidden,
                format!(
                    "the activations of the {}-row evaluation and probe passes, × {at_once}",
                    grouped(eval)
                ),
                batch_bytes(eval).saturating_mul(2 * threads),
            ),
            Part::new(
                format!(
                    "the data set ({} rows × {} features)",
                    grouped(data.rows),
                    data.features
                ),
                "each run's copy of its split",
                (data.rows as u64 * data.features as u64)
                    .saturating_mul(e + 8)
                    .saturating_mul(threads + 1),
            ),
            Part::new(
                if save_weights {
                    "--save-weights".to_string()
                } else {
                    format!("--threads {threads}")
                },
                format!(
                    "the weights and boundaries of {window} finished runs waiting to be written"
                ),
                result.saturating_mul(window as u64),
            ),
            Part::new(
                format!(
                    "training.epochs = {} with training.log_every = {}",
                    t.epochs, t.log_every
                ),
                format!(
                    "the rows of {} logged epochs a run holds until it is written (metrics, per-layer statistics, histograms, per-class accuracies), × {} runs training or waiting",
                    grouped(logged as usize),
                    threads as usize + window
                ),
                rows.saturating_mul(threads + window as u64),
            ),
            Part::new(
                format!("--seeds {}", spec.seeds),
                "the final values of one start × activation's runs, for summary.csv and the per-class summary",
                (spec.seeds as u64).saturating_mul(32 + 2 * classes * 8),
            ),
        ],
    }
}

/// Heap bytes of a class name held in a `classes.csv` row (a short name or index; longer
/// names are rare and few).
const CLASS_NAME_BYTES: u64 = 16;

/// Bytes of one row of `metrics.csv`, `layers.csv` or `boundary.csv` once the report has
/// read it back (the run key's strings included): `initlab plot` of xor at 500 seeds
/// peaks at 755 MB for 2.76 million rows, 274 bytes a row.
const REPORT_ROW_BYTES: u64 = 300;

/// What drawing the report of `runs` runs of `spec` needs: it reads `metrics.csv`,
/// `layers.csv` and `boundary.csv` back whole (counted as if the data were 2-D).
pub fn report_estimate(spec: &ExperimentSpec, runs: usize) -> Estimate {
    let layers = spec.network.hidden.len() as u64 + 1;
    let rows_per_run = logged_epochs(spec) * (1 + layers);
    // The first replicate of each start × activation has a decision boundary on 2-D data.
    let boundary_rows = (runs as u64 / spec.seeds.max(1) as u64) * 1600;
    let rows = (runs as u64)
        .saturating_mul(rows_per_run)
        .saturating_add(boundary_rows);
    Estimate::from(Part::new(
        format!("--seeds {}", spec.seeds),
        format!(
            "drawing the report of {} runs (it reads every row of metrics.csv and layers.csv back; --no-plots skips it)",
            grouped(runs)
        ),
        rows.saturating_mul(REPORT_ROW_BYTES),
    ))
}
