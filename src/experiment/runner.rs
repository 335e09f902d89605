//! The grid: starts × activations × `[grid]` axis points × seeds, one independent run per task, in parallel with
//! rayon, handed on in a fixed order (through a bounded [`ReorderWindow`]) so the output
//! does not depend on the thread count and memory does not grow with the grid.
//!
//! Fairness: within a replicate (seed), every start and every axis point sees the same data
//! split and the same mini-batch order, and every axis point the same start draws; only
//! the initial weights (or the point's setting) differ. Seeds for the split, the batch order
//! and the weights are derived from the replicate's seed with separate streams.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::Dataset;
use crate::nn::float::DenormalMode;
use crate::nn::init::{FirstStep, GradInit, InitData, Learning, TensorScale};
use crate::nn::{
    ClassTally, EpochRecord, Float, Init, Mlp, Model, Network, ParamInfo, ParamList, Parameters,
    TrainConfig, train,
};

use super::Experiment;
use super::axes::Point;
use super::build;
use super::prepare::{Prepared, prepare};
use super::record::{ClassStats, DataSplit};
use super::reorder::ReorderWindow;
use super::spec::{ExperimentSpec, ResolvedInit};
use super::stats::{NetworkProbe, Probe, RunProbe};
use crate::nn::histogram::HistogramBin;
use crate::nn::quantiles::LayerQuantiles;
use crate::nn::stats::LayerStats;

/// Resolution of the decision-boundary grid (points per axis).
pub const BOUNDARY_GRID: usize = 40;

/// One cell of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Position in the full grid (init-major, then activation, then axis point, then
    /// replicate).
    pub index: usize,
    /// Index into the experiment's starts.
    pub init: usize,
    /// Index into the experiment's activations.
    pub activation: usize,
    /// Index into the experiment's `[grid]` axis points ([`super::axes::Sweep::points`]; 0
    /// without a `[grid]`).
    pub point: usize,
    /// Replicate number (0-based).
    pub replicate: usize,
    /// The replicate's seed (`seed + replicate`).
    pub seed: u64,
}

/// One decision-boundary grid point (the columns of `boundary.csv` after the run key).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoundaryPoint {
    /// First input feature.
    pub x: f64,
    /// Second input feature.
    pub y: f64,
    /// Predicted class.
    pub class: usize,
    /// Predicted probability of that class.
    pub confidence: f64,
}

/// Every parameter tensor, at the start and the end of a run.
#[derive(Clone, Debug)]
pub struct Snapshot<T> {
    /// Each tensor's name and shape, in the model's parameter order.
    pub infos: Vec<ParamInfo>,
    /// Before training.
    pub initial: ParamList<T>,
    /// After training.
    pub final_: ParamList<T>,
}

impl<T: Float> Snapshot<T> {
    fn start<M: Parameters<T>>(model: &M) -> (Vec<ParamInfo>, ParamList<T>) {
        (model.infos(), ParamList::copy_of(model))
    }
}

/// Everything one run produced.
#[derive(Clone, Debug)]
pub struct RunResult<T> {
    /// The cell.
    pub spec: RunSpec,
    /// Metrics per logged epoch.
    pub records: Vec<EpochRecord>,
    /// Per-layer statistics per logged epoch.
    pub layers: Vec<LayerStats>,
    /// Decision-boundary grid (2-D data, first replicate only).
    pub boundary: Vec<BoundaryPoint>,
    /// Per-layer histograms at the spec's histogram epochs (non-empty bins only).
    pub histograms: Vec<HistogramBin>,
    /// Per-class accuracy and loss of each split per logged epoch (class labels only),
    /// `classes.csv`'s rows.
    pub classes: Vec<ClassStats>,
    /// Percentile bands of each layer per logged epoch when `training.quantiles` asks for
    /// them, `quantiles.csv`'s rows.
    pub quantiles: Vec<LayerQuantiles>,
    /// Weights, if asked for.
    pub snapshot: Option<Snapshot<T>>,
    /// Layers LSUV could not rescale (zero variance).
    pub lsuv_stuck: Vec<usize>,
    /// The scales a learned start (GradInit, MetaInit) gave its tensors,
    /// `init_scales.csv`'s rows; empty for every other start.
    pub init_scales: Vec<TensorScale>,
}

/// How to run the grid.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Worker threads for the grid (runs in parallel).
    pub threads: usize,
    /// Keep initial and final weights.
    pub save_weights: bool,
}

/// Seed derivation: a SplitMix64 step of `seed` mixed with a purpose tag.
pub fn derive_seed(seed: u64, purpose: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(purpose.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const SPLIT: u64 = 1;
const BATCHES: u64 = 2;
const WEIGHTS: u64 = 3;
/// The batches a learned start (GradInit, MetaInit) learns on.
const START_BATCHES: u64 = 4;

/// The cells of a grid (or of one shard of it) in their fixed order, computed from their
/// position rather than stored: a grid of millions of runs takes no memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    activations: usize,
    points: usize,
    seeds: usize,
    seed: u64,
    /// Cells of the whole grid.
    cells: usize,
    /// `(part, count)`: this shard takes the cells whose index is `part` mod `count`.
    shard: (usize, usize),
    /// At most this many runs, the first ones (`--max-runs`, see [`Grid::first`]).
    limit: usize,
}

impl Grid {
    /// The grid of an experiment, or shard `(part, count)` of it.
    pub fn new(exp: &Experiment, shard: Option<(usize, usize)>) -> Self {
        let spec = &exp.spec;
        let activations = spec.network.activations.len();
        let points = exp.sweep.points.len();
        Grid {
            activations,
            points,
            seeds: spec.seeds,
            seed: spec.seed,
            cells: exp
                .inits
                .len()
                .saturating_mul(activations)
                .saturating_mul(points)
                .saturating_mul(spec.seeds),
            shard: shard.unwrap_or((0, 1)),
            limit: usize::MAX,
        }
    }

    /// Only the first `runs` runs of this grid (or shard), in its order (`--max-runs`).
    pub fn first(self, runs: usize) -> Self {
        Grid {
            limit: runs,
            ..self
        }
    }

    /// Number of runs (in the shard).
    pub fn len(&self) -> usize {
        let (part, count) = self.shard;
        self.cells
            .saturating_sub(part)
            .div_ceil(count)
            .min(self.limit)
    }

    /// Whether there are no runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k`-th run (of the shard), `k < len()`.
    pub fn get(&self, k: usize) -> RunSpec {
        let (part, count) = self.shard;
        let index = part + k * count;
        let replicate = index % self.seeds;
        let per_activation = self.seeds * self.points;
        RunSpec {
            index,
            init: index / (per_activation * self.activations),
            activation: (index / per_activation) % self.activations,
            point: (index / self.seeds) % self.points,
            replicate,
            seed: self.seed.wrapping_add(replicate as u64),
        }
    }

    /// Every run, in order.
    pub fn iter(&self) -> impl Iterator<Item = RunSpec> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }
}

/// The whole grid in its fixed order (init-major, then activation, then axis point, then
/// replicate), or one shard of it, as a list.
pub fn grid(exp: &Experiment, shard: Option<(usize, usize)>) -> Vec<RunSpec> {
    Grid::new(exp, shard).iter().collect()
}

/// What every run of an experiment shares.
#[derive(Clone, Copy)]
pub struct RunContext<'a> {
    /// The experiment (each run reads its axis point's, see [`RunContext::points`]).
    pub spec: &'a ExperimentSpec,
    /// Its starts.
    pub inits: &'a [ResolvedInit],
    /// Its `[grid]` axis points: the experiment and starts a run with [`RunSpec::point`]
    /// trains (one point, the experiment itself, without a `[grid]`).
    pub points: &'a [Point],
    /// The whole data set, before splitting.
    pub dataset: &'a Dataset,
    /// Width of the output layer.
    pub outputs: usize,
    /// The classes' names (class `i` is `class_names[i]`) for data that name them; empty
    /// otherwise (classes are then called by their index).
    pub class_names: &'a [String],
}

/// Counts the epochs trained across the runs of a grid, for a progress bar: `report(done,
/// total)` with `total` = runs × epochs. Only counts: nothing in a run reads it back, so
/// progress cannot change a result.
struct EpochCounter<'a> {
    done: AtomicUsize,
    total: usize,
    report: &'a (dyn Fn(usize, usize) + Sync),
}

impl EpochCounter<'_> {
    fn advance(&self, epochs: usize) {
        if epochs > 0 {
            let done = self.done.fetch_add(epochs, Ordering::Relaxed) + epochs;
            (self.report)(done, self.total);
        }
    }
}

/// Finished runs a grid holds in memory at most, per worker thread, while they wait for the
/// runs before them in grid order (see [`run_grid_in_order`]). A few per thread let the
/// workers run ahead of one slow run without holding more than a handful of results.
pub const WINDOW_PER_THREAD: usize = 4;

/// Runs every cell of `runs` on `threads` workers and collects the results in the order of
/// `runs`, whatever the thread count; runs interrupted by `stop` are left out. For grids
/// small enough to hold (the claims); an experiment streams its runs with
/// [`run_grid_in_order`].
pub fn run_grid<T: Float>(
    shared: RunContext<'_>,
    runs: &[RunSpec],
    options: &RunOptions,
    stop: &AtomicBool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<RunResult<T>> {
    let mut results = Vec::with_capacity(runs.len());
    let cell = |k: usize| runs[k].clone();
    let collected: Result<(), std::convert::Infallible> = run_cells(
        shared,
        runs.len(),
        &cell,
        options,
        stop,
        progress,
        &mut |r| {
            results.push(r);
            Ok(())
        },
    );
    let Ok(()) = collected;
    results
}

/// Runs every cell of `grid` on `threads` workers and hands each finished run to
/// `consume` in grid order, whatever the thread count, as soon as it and every run before
/// it have finished. Runs interrupted by `stop` are skipped. At most
/// [`WINDOW_PER_THREAD`] × threads finished runs wait in memory for `consume`, so memory
/// does not grow with the grid. `progress(epochs_done, epochs_total)` is called at every
/// logged epoch of every run (and when a run stops early, for the epochs it skipped), with
/// `epochs_total` = runs × epochs.
///
/// If `consume` fails, no further run is started, the runs under way finish, and its
/// error is returned.
pub fn run_grid_in_order<T: Float, E>(
    shared: RunContext<'_>,
    grid: &Grid,
    options: &RunOptions,
    stop: &AtomicBool,
    progress: &(dyn Fn(usize, usize) + Sync),
    consume: &mut dyn FnMut(RunResult<T>) -> Result<(), E>,
) -> Result<(), E> {
    let cell = |k: usize| grid.get(k);
    run_cells(shared, grid.len(), &cell, options, stop, progress, consume)
}

/// The engine of [`run_grid`] and [`run_grid_in_order`]: cells `cell(0..len)`.
///
/// The workers are tasks in a rayon pool of `threads` threads (so a lone run's matrix
/// products can use the pool's other threads); they take cells in order from a
/// [`ReorderWindow`], and this thread, outside the pool, takes the results in order and
/// consumes them.
fn run_cells<T: Float, E>(
    shared: RunContext<'_>,
    len: usize,
    cell: &(dyn Fn(usize) -> RunSpec + Sync),
    options: &RunOptions,
    stop: &AtomicBool,
    progress: &(dyn Fn(usize, usize) + Sync),
    consume: &mut dyn FnMut(RunResult<T>) -> Result<(), E>,
) -> Result<(), E> {
    let threads = options.threads.max(1);
    // One thread per run; a lone run may use the threads inside its matrix products.
    let gemm_threads = if len == 1 { threads } else { 1 };
    let workers = threads.min(len);
    let epochs = shared.spec.training.epochs;
    let counter = EpochCounter {
        done: AtomicUsize::new(0),
        total: len.saturating_mul(epochs),
        report: progress,
    };
    let window = ReorderWindow::<RunResult<T>>::new(len, WINDOW_PER_THREAD * threads);
    let worker = || {
        while let Some(k) = window.claim() {
            let run = cell(k);
            // Each run computes with denormals flushed, on whichever thread it lands (see
            // `DenormalMode`): same numbers on every thread.
            let _mode = DenormalMode::Flush.enter();
            let mut counted = 0;
            let mut at_epoch = |epoch: usize| {
                counter.advance(epoch.saturating_sub(counted));
                counted = counted.max(epoch);
            };
            let result = run_one::<T>(shared, &run, options, gemm_threads, stop, &mut at_epoch);
            // A diverged run stops early: its remaining epochs count as done.
            if result.is_some() {
                at_epoch(epochs);
            }
            window.finish(k, result);
        }
    };
    let mut take_in_order = || -> Result<(), E> {
        while let Some(result) = window.next() {
            if let Some(result) = result {
                if let Err(e) = consume(result) {
                    window.close();
                    return Err(e);
                }
            }
        }
        Ok(())
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.in_place_scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|_| worker());
            }
            take_in_order()
        }),
        // No pool (threads could not be spawned): one worker, then the consumer.
        Err(_) => std::thread::scope(|scope| {
            scope.spawn(worker);
            take_in_order()
        }),
    }
}

/// One run; `None` if it was interrupted.
fn run_one<T: Float>(
    shared: RunContext<'_>,
    run: &RunSpec,
    options: &RunOptions,
    gemm_threads: usize,
    stop: &AtomicBool,
    at_epoch: &mut dyn FnMut(usize),
) -> Option<RunResult<T>> {
    if stop.load(Ordering::Relaxed) {
        return None;
    }
    // The run's own settings: its axis point's experiment and starts.
    let point = &shared.points[run.point];
    let shared = RunContext {
        spec: &point.spec,
        inits: &point.inits,
        ..shared
    };
    let RunContext {
        spec,
        inits,
        dataset,
        outputs,
        ..
    } = shared;
    let mut split_rng = ChaCha8Rng::seed_from_u64(derive_seed(run.seed, SPLIT));
    let data: Prepared<T> = prepare(dataset, &spec.data, &mut split_rng);
    let activation = spec.network.activations[run.activation];
    let init = &inits[run.init];
    if !spec.network.runs_as_mlp(activation) {
        return run_network(shared, run, options, gemm_threads, stop, at_epoch, data);
    }
    let mut sizes = vec![dataset.n_features()];
    sizes.extend_from_slice(&spec.network.hidden);
    sizes.push(outputs);
    let mut mlp = Mlp::<T>::new(
        &sizes,
        &vec![activation; spec.network.hidden.len()],
        spec.network.loss,
    );
    mlp.initialize(
        &init.init,
        init.bias.as_ref(),
        derive_seed(run.seed, WEIGHTS),
    );
    let probe = Probe::new(&mlp, data.train.x.view(), data.train.targets.view());
    let learned = learn_start(
        &mut mlp,
        LearnOn {
            spec,
            run,
            init: &init.init,
            data: &data,
            probe_inputs: probe.inputs(),
        },
        Mlp::lsuv,
    );
    let trained = Trained {
        probe,
        learned,
        predict: |m: &Mlp<T>, x: ArrayView2<T>| m.predict(x),
        loss: spec.network.loss,
    };
    train_and_measure(
        mlp,
        trained,
        shared,
        run,
        options,
        gemm_threads,
        stop,
        at_epoch,
        &data,
    )
}

/// [`run_one`] for a network the fused fast path does not run (norm layers, residual
/// blocks, GELU/SiLU, an explicit layer list): the layer engine, [`Network`], with the same
/// data, split, batch order and start as an [`Mlp`] of the same dense layers would get.
fn run_network<T: Float>(
    shared: RunContext<'_>,
    run: &RunSpec,
    options: &RunOptions,
    gemm_threads: usize,
    stop: &AtomicBool,
    at_epoch: &mut dyn FnMut(usize),
    data: Prepared<T>,
) -> Option<RunResult<T>> {
    let RunContext {
        spec,
        inits,
        dataset,
        outputs,
        ..
    } = shared;
    let activation = spec.network.activations[run.activation];
    let init = &inits[run.init];
    let mut network = build::network_layers::<T>(
        &spec.network.shape(),
        dataset.n_features(),
        outputs,
        activation,
        spec.network.loss,
    )
    .expect("the experiment was validated");
    network.initialize(
        &init.init,
        init.bias.as_ref(),
        derive_seed(run.seed, WEIGHTS),
    );
    // SP, NTK or μP: scales the start, adds forward multipliers, sets learning-rate ones.
    let family = crate::nn::parametrization::Family::of(
        &spec
            .training
            .optimizer
            .build::<T>(1.0, 0.0, 0.0)
            .expect("the experiment was validated"),
    );
    spec.network
        .parametrization_setup()
        .apply(&mut network, family)
        .expect("the experiment was validated");
    let probe = NetworkProbe::new(&network, data.train.x.view(), data.train.targets.view());
    let learned = learn_start(
        &mut network,
        LearnOn {
            spec,
            run,
            init: &init.init,
            data: &data,
            probe_inputs: probe.inputs(),
        },
        Network::lsuv,
    );
    let trained = Trained {
        probe,
        learned,
        predict: |m: &Network<T>, x: ArrayView2<T>| m.predict(x),
        loss: spec.network.loss,
    };
    train_and_measure(
        network,
        trained,
        shared,
        run,
        options,
        gemm_threads,
        stop,
        at_epoch,
        &data,
    )
}

/// What [`train_and_measure`] needs besides the model: its probe, what a learned start
/// learned, how it predicts (for the decision boundary) and its loss.
struct Trained<P, F> {
    probe: P,
    learned: LearnedStart,
    predict: F,
    loss: crate::nn::Loss,
}

/// What a learned start learned: the layers LSUV could not rescale, the scales of
/// GradInit or MetaInit.
#[derive(Default)]
struct LearnedStart {
    lsuv_stuck: Vec<usize>,
    scales: Vec<TensorScale>,
}

/// What [`learn_start`] learns on.
struct LearnOn<'a, T> {
    spec: &'a ExperimentSpec,
    run: &'a RunSpec,
    init: &'a Init,
    data: &'a Prepared<T>,
    /// The probe's rows of the training split (LSUV's batch).
    probe_inputs: ArrayView2<'a, T>,
}

/// Runs the learned part of a start on a freshly drawn model (either engine): LSUV on the
/// probe's rows; GradInit on batches of the training split for the experiment's optimizer
/// (SGD, or the sign step of Adam, AdamW and RMSprop); MetaInit on random data of the
/// network's shape. Their batches come from the run's own stream, the same for every start
/// and axis point of a replicate.
fn learn_start<T, M>(
    model: &mut M,
    on: LearnOn<'_, T>,
    lsuv: fn(&mut M, ArrayView2<T>, f64, usize) -> Vec<usize>,
) -> LearnedStart
where
    T: Float,
    M: Model<T> + Parameters<T>,
{
    let seed = derive_seed(on.run.seed, START_BATCHES);
    match on.init.learning() {
        None => LearnedStart::default(),
        Some(Learning::Lsuv {
            tolerance,
            max_iterations,
        }) => LearnedStart {
            lsuv_stuck: lsuv(model, on.probe_inputs, tolerance, max_iterations),
            scales: Vec::new(),
        },
        Some(Learning::GradInit(settings)) => {
            let sgd = on
                .spec
                .training
                .optimizer
                .name()
                .trim()
                .eq_ignore_ascii_case("sgd");
            let settings = GradInit {
                first_step: if sgd { FirstStep::Sgd } else { FirstStep::Sign },
                ..settings
            };
            let data = InitData::Train(on.data.train.view());
            LearnedStart {
                lsuv_stuck: Vec::new(),
                scales: settings.learn(model, data, seed).scales,
            }
        }
        Some(Learning::MetaInit(settings)) => {
            let data = InitData::Gaussian {
                inputs: on.probe_inputs.ncols(),
                classes: model.output_width().max(2),
            };
            LearnedStart {
                lsuv_stuck: Vec::new(),
                scales: settings.learn(model, data, seed).scales,
            }
        }
    }
}

/// Trains a run's initialized model (either engine) with the experiment's optimizer,
/// measuring it with the probe at every logged epoch (histograms at the spec's histogram
/// epochs), and gathers what the run produced.
#[allow(clippy::too_many_arguments)] // the run's model and context, as `run_one` receives them
fn train_and_measure<T, M, P, F>(
    mut model: M,
    trained: Trained<P, F>,
    shared: RunContext<'_>,
    run: &RunSpec,
    options: &RunOptions,
    gemm_threads: usize,
    stop: &AtomicBool,
    at_epoch: &mut dyn FnMut(usize),
    data: &Prepared<T>,
) -> Option<RunResult<T>>
where
    T: Float,
    M: Model<T> + Parameters<T>,
    P: RunProbe<T, M>,
    F: Fn(&M, ArrayView2<T>) -> Array2<T>,
{
    let Trained {
        mut probe,
        learned,
        predict,
        loss,
    } = trained;
    let spec = shared.spec;
    let initial = options.save_weights.then(|| Snapshot::start(&model));
    let (config, mut optimizer, mut batch_rng) =
        training_setup::<T>(&spec.training, run, gemm_threads);
    let mut layers = Vec::new();
    let histogram_epochs = spec.histogram_epoch_list();
    let mut histograms = Vec::new();
    let mut classes = Vec::new();
    let mut quantiles = Vec::new();
    let history = train(
        &mut model,
        &mut optimizer,
        data.train.view(),
        data.test.as_ref().map(|t| t.view()),
        &config,
        &mut batch_rng,
        Some(stop),
        |checkpoint| {
            at_epoch(checkpoint.record.epoch);
            layers.extend(probe.measure(
                checkpoint.model,
                checkpoint.weights_before_step,
                checkpoint.record.epoch,
            ));
            if histogram_epochs
                .binary_search(&checkpoint.record.epoch)
                .is_ok()
            {
                histograms.extend(probe.histograms(checkpoint.model, checkpoint.record.epoch));
            }
            if spec.training.quantiles {
                quantiles.extend(probe.quantiles(checkpoint.model, checkpoint.record.epoch));
            }
            for (split, tally) in [
                (DataSplit::Train, checkpoint.train_classes),
                (DataSplit::Test, checkpoint.test_classes),
            ] {
                if let Some(tally) = tally {
                    classes.extend(class_rows(
                        checkpoint.record.epoch,
                        split,
                        tally,
                        shared.class_names,
                    ));
                }
            }
            ControlFlow::Continue(())
        },
    );
    if history.interrupted {
        return None;
    }
    let boundary = if run.replicate == 0 && shared.dataset.n_features() == 2 {
        let points = grid_points::<T>(&data.train_f64);
        boundary_points(&predict(&model, points.view()), loss, &data.train_f64)
    } else {
        Vec::new()
    };
    Some(RunResult {
        spec: run.clone(),
        records: history.records,
        layers,
        boundary,
        histograms,
        classes,
        quantiles,
        snapshot: initial.map(|(infos, initial)| Snapshot {
            infos,
            initial,
            final_: ParamList::copy_of(&model),
        }),
        lsuv_stuck: learned.lsuv_stuck,
        init_scales: learned.scales,
    })
}

/// The `classes.csv` rows of one split at one logged epoch, in class order; a class is
/// called by its name when the data name their classes, else by its index.
fn class_rows<'a>(
    epoch: usize,
    split: DataSplit,
    tally: &'a ClassTally,
    names: &'a [String],
) -> impl Iterator<Item = ClassStats> + 'a {
    tally
        .classes
        .iter()
        .enumerate()
        .map(move |(i, count)| ClassStats {
            epoch,
            split,
            class: names.get(i).cloned().unwrap_or_else(|| i.to_string()),
            count: count.rows,
            accuracy: count.accuracy(),
            loss: count.mean_loss(),
        })
}

/// A run's training settings, optimizer and mini-batch order, the same for both engines.
fn training_setup<T: Float>(
    t: &super::spec::TrainingSpec,
    run: &RunSpec,
    gemm_threads: usize,
) -> (TrainConfig, crate::nn::Optimizer<T>, ChaCha8Rng) {
    let config = TrainConfig {
        epochs: t.epochs,
        batch_size: t.batch_size.unwrap_or(usize::MAX),
        log_every: t.log_every,
        threads: gemm_threads,
    };
    let optimizer = t
        .optimizer
        .build::<T>(t.learning_rate, t.momentum, t.weight_decay)
        .expect("the experiment was validated");
    let batch_rng = ChaCha8Rng::seed_from_u64(derive_seed(run.seed, BATCHES));
    (config, optimizer, batch_rng)
}

/// Predictions on a regular grid covering the training points with a 10 % margin.
pub fn decision_grid<T: Float>(mlp: &Mlp<T>, train: &Dataset) -> Vec<BoundaryPoint> {
    let points = grid_points::<T>(train);
    boundary_points(&mlp.predict(points.view()), mlp.loss, train)
}

/// The decision grid's points, (BOUNDARY_GRID², 2).
fn grid_points<T: Float>(train: &Dataset) -> Array2<T> {
    let x = &train.features;
    let range = |c: usize| {
        let col = x.column(c);
        let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = ((hi - lo) * 0.1).max(1e-3);
        (lo - pad, hi + pad)
    };
    let ((x0, x1), (y0, y1)) = (range(0), range(1));
    let n = BOUNDARY_GRID;
    let step = |lo: f64, hi: f64, i: usize| lo + (hi - lo) * i as f64 / (n - 1) as f64;
    let mut points = Array2::<T>::zeros((n * n, 2));
    for j in 0..n {
        for i in 0..n {
            points[[j * n + i, 0]] = T::of(step(x0, x1, i));
            points[[j * n + i, 1]] = T::of(step(y0, y1, j));
        }
    }
    points
}

/// Each grid point's predicted class and confidence from the model's logits.
fn boundary_points<T: Float>(
    logits: &Array2<T>,
    loss: crate::nn::Loss,
    train: &Dataset,
) -> Vec<BoundaryPoint> {
    let points = grid_points::<T>(train);
    let n = BOUNDARY_GRID;
    let multi = logits.ncols() > 1;
    (0..n * n)
        .map(|r| {
            let z = logits.row(r);
            let (class, confidence) = if multi {
                let max = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.f64()));
                let sum: f64 = z.iter().map(|v| (v.f64() - max).exp()).sum();
                let mut best = 0;
                for k in 1..z.len() {
                    if z[k] > z[best] {
                        best = k;
                    }
                }
                (best, (z[best].f64() - max).exp() / sum)
            } else {
                // One output: a logit (sigmoid losses) or a raw output read at 0.5 (mse).
                let p = match loss {
                    crate::nn::Loss::Mse => z[0].f64().clamp(0.0, 1.0),
                    _ => crate::nn::float::sigmoid_f64(z[0].f64()),
                };
                if p > 0.5 { (1, p) } else { (0, 1.0 - p) }
            };
            BoundaryPoint {
                x: points[[r, 0]].f64(),
                y: points[[r, 1]].f64(),
                class,
                confidence,
            }
        })
        .collect()
}
