//! The training loop: per mini-batch forward → loss → backward → update, for a number of
//! epochs, returning a [`History`]. No printing and no file I/O: progress and statistics go
//! through an observer callback at every logged epoch.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{Array2, ArrayView2, s};
use rand::Rng;
use rand::seq::SliceRandom;

use super::float::Float;
use super::loss::TargetsView;
use super::mlp::{Gradients, Mlp, Workspace, slice_targets};
use super::optim::Sgd;

/// A data split as the engine sees it: inputs and targets, row for row.
#[derive(Clone, Copy, Debug)]
pub struct Split<'a, T> {
    /// Inputs, (n, features).
    pub x: ArrayView2<'a, T>,
    /// Targets for the same n rows.
    pub targets: TargetsView<'a, T>,
}

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Number of passes over the training set.
    pub epochs: usize,
    /// Rows per mini-batch; ≥ the training set size means full-batch gradient descent.
    pub batch_size: usize,
    /// Record every this many epochs (epoch 0 and the last epoch are always recorded).
    pub log_every: usize,
    /// Threads each matrix product may use.
    pub threads: usize,
}

/// The measurements at one logged epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// Epochs completed (0 = the untrained network).
    pub epoch: usize,
    /// Mean loss over the whole training set.
    pub train_loss: f64,
    /// Fraction of training rows classified correctly (classification only).
    pub train_accuracy: Option<f64>,
    /// Mean loss over the test set, if there is one.
    pub test_loss: Option<f64>,
    /// Test accuracy, if there is a test set and the task is classification.
    pub test_accuracy: Option<f64>,
    /// Euclidean norm of the gradient of the training loss over all parameters.
    pub gradient_norm: f64,
    /// Whether the run diverged (non-finite loss or weights) at this epoch.
    pub diverged: bool,
}

/// What the observer sees at a logged epoch.
pub struct Checkpoint<'a, T> {
    /// The epoch's measurements.
    pub record: &'a EpochRecord,
    /// The network, as it is at this epoch.
    pub model: &'a Mlp<T>,
    /// Gradient of the mean training loss at this epoch (over the whole training set).
    pub gradients: &'a Gradients<T>,
}

/// The result of a training run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// One record per logged epoch, in order.
    pub records: Vec<EpochRecord>,
    /// The epoch at which the loss or weights became non-finite, if they did.
    pub diverged_at: Option<usize>,
    /// Whether training stopped early because the observer or the stop flag asked.
    pub interrupted: bool,
    /// Number of SGD steps taken.
    pub steps: usize,
}

/// Buffers for a training run, made once so that steps allocate nothing.
struct Buffers<T> {
    workspace: Workspace<T>,
    gradients: Gradients<T>,
    order: Vec<usize>,
    x_batch: Array2<T>,
    labels_batch: Vec<usize>,
    values_batch: Array2<T>,
}

/// Trains `mlp` with `optimizer` on `train`, evaluating on `test` at every logged epoch.
///
/// Mini-batches are drawn in an order shuffled by `rng` each epoch (full-batch training
/// uses the rows as they are). The observer is called at every logged epoch, epoch 0
/// included; returning `ControlFlow::Break` stops training, as does `stop` becoming true
/// (checked between steps). A run whose loss or weights become non-finite stops and
/// records the epoch at which it diverged. Computes with denormals flushed to zero, whatever
/// the calling thread's mode (see [`crate::nn::float::DenormalMode`]).
#[allow(clippy::too_many_arguments)] // each argument is a distinct role; a struct would only rename them
pub fn train<T: Float, R: Rng + ?Sized>(
    mlp: &mut Mlp<T>,
    optimizer: &mut Sgd<T>,
    train: Split<'_, T>,
    test: Option<Split<'_, T>>,
    config: &TrainConfig,
    rng: &mut R,
    stop: Option<&AtomicBool>,
    mut observer: impl FnMut(&Checkpoint<'_, T>) -> ControlFlow<()>,
) -> History {
    let _mode = crate::nn::float::DenormalMode::Flush.enter(); // see `DenormalMode`
    assert!(config.batch_size > 0, "batch size must be > 0");
    assert!(config.log_every > 0, "log interval must be > 0");
    let n = train.x.nrows();
    assert!(n > 0, "empty training set");
    let batch = config.batch_size.min(n);
    let full_batch = batch == n;
    let mut buffers = Buffers {
        workspace: Workspace::new(mlp, batch),
        gradients: Gradients::zeros_like(mlp),
        order: (0..n).collect(),
        x_batch: Array2::zeros((batch, train.x.ncols())),
        labels_batch: vec![0; batch],
        values_batch: match train.targets {
            TargetsView::Values(v) => Array2::zeros((batch, v.ncols())),
            TargetsView::Classes(_) => Array2::zeros((0, 0)),
        },
    };
    buffers.workspace.threads = config.threads;
    let mut evaluator = Evaluator::new(mlp, n.max(test.map_or(0, |t| t.x.nrows())));
    evaluator.workspace.threads = config.threads;

    optimizer.prepare(mlp);
    let mut history = History::default();
    // Room for every record, so that logging between steps does not grow the vector.
    history
        .records
        .reserve((config.epochs / config.log_every + 2).min(1 << 16));
    let stopped = || stop.is_some_and(|s| s.load(Ordering::Relaxed));

    // Epoch 0 takes no step: it records the untrained network.
    for epoch in 0..=config.epochs {
        let mut diverged = false;
        let mut start = if epoch == 0 { n } else { 0 };
        if epoch > 0 && !full_batch {
            buffers.order.shuffle(rng);
        }
        while start < n {
            if stopped() {
                history.interrupted = true;
                return history;
            }
            let end = (start + batch).min(n);
            let loss = if full_batch {
                mlp.loss_and_gradients(
                    train.x,
                    train.targets,
                    &mut buffers.workspace,
                    &mut buffers.gradients,
                )
            } else {
                step_minibatch(mlp, train, &mut buffers, start, end)
            };
            history.steps += 1;
            if !loss.is_finite() {
                diverged = true;
                break;
            }
            optimizer.step(mlp, &buffers.gradients);
            start = end;
        }
        let logged = epoch % config.log_every == 0 || epoch == config.epochs; // 0 included
        if diverged || logged {
            let record = evaluator.record(mlp, epoch, train, test, diverged);
            let diverged = diverged || !record.train_loss.is_finite() || !mlp.is_finite();
            if log(
                &mut history,
                &mut observer,
                &evaluator,
                mlp,
                record,
                diverged,
            ) {
                return history;
            }
        }
    }
    history
}

/// Records a checkpoint; returns true when training must stop.
fn log<T: Float>(
    history: &mut History,
    observer: &mut impl FnMut(&Checkpoint<'_, T>) -> ControlFlow<()>,
    evaluator: &Evaluator<T>,
    mlp: &Mlp<T>,
    mut record: EpochRecord,
    diverged: bool,
) -> bool {
    record.diverged = diverged;
    if diverged {
        history.diverged_at = Some(record.epoch);
    }
    let flow = observer(&Checkpoint {
        record: &record,
        model: mlp,
        gradients: &evaluator.total,
    });
    history.records.push(record);
    if flow.is_break() {
        history.interrupted = true;
    }
    diverged || flow.is_break()
}

/// Gathers rows `order[start..end]` into the batch buffers and runs forward + backward.
fn step_minibatch<T: Float>(
    mlp: &Mlp<T>,
    train: Split<'_, T>,
    buffers: &mut Buffers<T>,
    start: usize,
    end: usize,
) -> f64 {
    let rows = end - start;
    for (r, &i) in buffers.order[start..end].iter().enumerate() {
        buffers.x_batch.row_mut(r).assign(&train.x.row(i));
    }
    let targets = match train.targets {
        TargetsView::Classes(labels) => {
            for (r, &i) in buffers.order[start..end].iter().enumerate() {
                buffers.labels_batch[r] = labels[i];
            }
            TargetsView::Classes(&buffers.labels_batch[..rows])
        }
        TargetsView::Values(values) => {
            for (r, &i) in buffers.order[start..end].iter().enumerate() {
                buffers.values_batch.row_mut(r).assign(&values.row(i));
            }
            TargetsView::Values(buffers.values_batch.slice(s![..rows, ..]))
        }
    };
    mlp.loss_and_gradients(
        buffers.x_batch.slice(s![..rows, ..]),
        targets,
        &mut buffers.workspace,
        &mut buffers.gradients,
    )
}

/// Whole-set evaluation in chunks, with the full training gradient.
struct Evaluator<T> {
    workspace: Workspace<T>,
    chunk: Gradients<T>,
    total: Gradients<T>,
}

/// Rows per evaluation chunk.
const EVAL_CHUNK: usize = 2048;

impl<T: Float> Evaluator<T> {
    fn new(mlp: &Mlp<T>, rows: usize) -> Self {
        Evaluator {
            workspace: Workspace::new(mlp, rows.clamp(1, EVAL_CHUNK)),
            chunk: Gradients::zeros_like(mlp),
            total: Gradients::zeros_like(mlp),
        }
    }

    fn record(
        &mut self,
        mlp: &Mlp<T>,
        epoch: usize,
        train: Split<'_, T>,
        test: Option<Split<'_, T>>,
        diverged: bool,
    ) -> EpochRecord {
        let (train_loss, train_correct) = self.train_pass(mlp, train);
        let n = train.x.nrows() as f64;
        let (test_loss, test_accuracy) = match test {
            Some(t) if t.x.nrows() > 0 => {
                let (loss, correct) = mlp.evaluate(t.x, t.targets, &mut self.workspace);
                (Some(loss), correct.map(|c| c as f64 / t.x.nrows() as f64))
            }
            _ => (None, None),
        };
        EpochRecord {
            epoch,
            train_loss,
            train_accuracy: train_correct.map(|c| c as f64 / n),
            test_loss,
            test_accuracy,
            gradient_norm: self.total.norm(),
            diverged,
        }
    }

    /// Mean training loss, correct count, and the full gradient into `self.total`.
    fn train_pass(&mut self, mlp: &Mlp<T>, train: Split<'_, T>) -> (f64, Option<usize>) {
        let n = train.x.nrows();
        for g in &mut self.total.layers {
            g.fill_zero();
        }
        let mut loss_sum = 0.0;
        let mut correct = 0;
        let mut start = 0;
        while start < n {
            let end = (start + self.workspace.capacity()).min(n);
            let xb = train.x.slice(s![start..end, ..]);
            let tb = slice_targets(train.targets, start, end);
            let loss = mlp.loss_and_gradients(xb, tb, &mut self.workspace, &mut self.chunk);
            let weight = (end - start) as f64 / n as f64;
            loss_sum += loss * weight;
            if let TargetsView::Classes(labels) = tb {
                correct += mlp.loss.count_correct(self.workspace.logits(), labels);
            }
            let w = T::of(weight);
            for (total, chunk) in self.total.layers.iter_mut().zip(&self.chunk.layers) {
                total.weight.scaled_add(w, &chunk.weight);
                total.bias.scaled_add(w, &chunk.bias);
            }
            start = end;
        }
        let correct = matches!(train.targets, TargetsView::Classes(_)).then_some(correct);
        (loss_sum, correct)
    }
}
