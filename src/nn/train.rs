//! The training loop: per mini-batch forward → loss → backward → update, for a number of
//! epochs, returning a [`History`]. No printing and no file I/O: progress and statistics go
//! through an observer callback at every logged epoch.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{Array2, ArrayView2, s};
use rand::Rng;
use rand::seq::SliceRandom;

use super::batch_norm::Mode;
use super::classes::ClassTally;
use super::float::Float;
use super::loss::{Loss, TargetsView};
use super::mlp::{Gradients, Mlp, Workspace, slice_targets};
use super::network::{Network, NetworkWorkspace};
use super::optim::Step;
use super::param::{ParamList, ParamSet};

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
    /// Threads each step may use: a large enough batch is split among them, bit-identically
    /// (see [`Mlp::loss_and_gradients`]). Train inside a rayon pool of this many threads.
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
pub struct Checkpoint<'a, T: Float, M: Model<T> = Mlp<T>> {
    /// The epoch's measurements.
    pub record: &'a EpochRecord,
    /// The network, as it is at this epoch.
    pub model: &'a M,
    /// Gradient of the mean training loss at this epoch (over the whole training set).
    pub gradients: &'a M::Gradients,
    /// Every parameter tensor just before the last optimizer step of this epoch (numbered
    /// as the model's), so that the model's parameters minus these is the step actually
    /// taken (momentum, weight decay and adaptive scaling included). `None` at epoch 0 (no
    /// step yet) and when the epoch stopped before its last step (divergence).
    pub weights_before_step: Option<&'a ParamList<T>>,
    /// Per-class counts of the training set at this epoch, from the same pass as the
    /// record's training accuracy (class labels only).
    pub train_classes: Option<&'a ClassTally>,
    /// Per-class counts of the test set, from the same pass as the record's test accuracy
    /// (class labels and a non-empty test set only).
    pub test_classes: Option<&'a ClassTally>,
}

/// What the training loop needs of a model: the fast [`Mlp`] and the general [`Network`]
/// both are one.
pub trait Model<T: Float>: ParamSet<T> {
    /// Buffers for forward and backward passes.
    type Workspace;
    /// Gradients numbered as the parameters.
    type Gradients: ParamSet<T>;

    /// Buffers for batches of up to `capacity` rows, using `threads` threads.
    fn workspace(&self, capacity: usize, threads: usize) -> Self::Workspace;
    /// Zero gradients.
    fn zero_gradients(&self) -> Self::Gradients;
    /// The loss with its output non-linearity.
    fn loss_function(&self) -> Loss;
    /// The mean training-mode loss of a batch and its gradient (see
    /// [`Mlp::loss_and_gradients`], [`Network::loss_and_gradients`]).
    fn batch_gradients(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Self::Workspace,
        grads: &mut Self::Gradients,
    ) -> f64;
    /// Mean evaluation-mode loss and correct count over a data set, each row also added
    /// to `classes` when given (class labels only).
    fn evaluate_set(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Self::Workspace,
        classes: Option<&mut ClassTally>,
    ) -> (f64, Option<usize>);
    /// Width of the output layer (the logits' columns).
    fn output_width(&self) -> usize;
    /// The logits of the workspace's last forward pass.
    fn last_logits(ws: &Self::Workspace) -> ArrayView2<'_, T>;
    /// The Euclidean norm of a gradient, in `f64`.
    fn gradient_norm(grads: &Self::Gradients) -> f64;
    /// `total += scale · chunk`.
    fn accumulate(total: &mut Self::Gradients, scale: T, chunk: &Self::Gradients);
    /// Whether every parameter is finite.
    fn all_finite(&self) -> bool;
    /// Whether the forward pass differs between training and evaluation (BatchNorm).
    fn depends_on_mode(&self) -> bool {
        false
    }
    /// After an optimizer step: what the step's forward pass leaves to update (BatchNorm's
    /// running statistics).
    fn after_step(&mut self, _ws: &Self::Workspace) {}
}

impl<T: Float> Model<T> for Mlp<T> {
    type Workspace = Workspace<T>;
    type Gradients = Gradients<T>;

    fn workspace(&self, capacity: usize, threads: usize) -> Workspace<T> {
        let mut ws = Workspace::new(self, capacity);
        ws.threads = threads;
        ws
    }
    fn zero_gradients(&self) -> Gradients<T> {
        Gradients::zeros_like(self)
    }
    fn loss_function(&self) -> Loss {
        self.loss
    }
    fn batch_gradients(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) -> f64 {
        self.loss_and_gradients(x, targets, ws, grads)
    }
    fn evaluate_set(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Workspace<T>,
        classes: Option<&mut ClassTally>,
    ) -> (f64, Option<usize>) {
        self.evaluate_by_class(x, targets, ws, classes)
    }
    fn output_width(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs())
    }
    fn last_logits(ws: &Workspace<T>) -> ArrayView2<'_, T> {
        ws.logits()
    }
    fn gradient_norm(grads: &Gradients<T>) -> f64 {
        grads.norm()
    }
    fn accumulate(total: &mut Gradients<T>, scale: T, chunk: &Gradients<T>) {
        for (total, chunk) in total.layers.iter_mut().zip(&chunk.layers) {
            total.weight.scaled_add(scale, &chunk.weight);
            total.bias.scaled_add(scale, &chunk.bias);
        }
    }
    fn all_finite(&self) -> bool {
        self.is_finite()
    }
}

impl<T: Float> Model<T> for Network<T> {
    type Workspace = NetworkWorkspace<T>;
    type Gradients = ParamList<T>;

    fn workspace(&self, capacity: usize, threads: usize) -> NetworkWorkspace<T> {
        let mut ws = NetworkWorkspace::new(self, capacity);
        ws.threads = threads;
        ws
    }
    fn zero_gradients(&self) -> ParamList<T> {
        ParamList::zeros_like(self)
    }
    fn loss_function(&self) -> Loss {
        self.loss
    }
    fn batch_gradients(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut NetworkWorkspace<T>,
        grads: &mut ParamList<T>,
    ) -> f64 {
        ws.mode = Mode::Train;
        self.loss_and_gradients(x, targets, ws, grads)
    }
    fn evaluate_set(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut NetworkWorkspace<T>,
        classes: Option<&mut ClassTally>,
    ) -> (f64, Option<usize>) {
        self.evaluate_by_class(x, targets, ws, classes)
    }
    fn output_width(&self) -> usize {
        self.outputs()
    }
    fn last_logits(ws: &NetworkWorkspace<T>) -> ArrayView2<'_, T> {
        ws.logits()
    }
    fn gradient_norm(grads: &ParamList<T>) -> f64 {
        grads.norm()
    }
    fn accumulate(total: &mut ParamList<T>, scale: T, chunk: &ParamList<T>) {
        total.scaled_add(scale, chunk);
    }
    fn all_finite(&self) -> bool {
        self.is_finite()
    }
    fn depends_on_mode(&self) -> bool {
        self.has_batch_norm()
    }
    fn after_step(&mut self, ws: &NetworkWorkspace<T>) {
        self.update_running_statistics(ws);
    }
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
    /// Number of optimizer steps applied (a step whose loss was not finite is not applied
    /// and not counted).
    pub steps: usize,
}

/// Buffers for a training run, made once so that steps allocate nothing.
struct Buffers<T: Float, M: Model<T>> {
    workspace: M::Workspace,
    gradients: M::Gradients,
    order: Vec<usize>,
    x_batch: Array2<T>,
    labels_batch: Vec<usize>,
    values_batch: Array2<T>,
    /// The parameters before the last step of a logged epoch, copied in place.
    weights_before_step: ParamList<T>,
}

/// Trains `mlp` (an [`Mlp`] or a [`Network`]) with `optimizer` (any of
/// [`crate::nn::optim`]'s) on `train`, evaluating on `test` at every logged epoch.
///
/// Mini-batches are drawn in an order shuffled by `rng` each epoch (full-batch training
/// uses the rows as they are). The observer is called at every logged epoch, epoch 0
/// included; returning `ControlFlow::Break` stops training, as does `stop` becoming true
/// (checked between steps). A run whose loss or weights become non-finite stops and
/// records the epoch at which it diverged. Computes with denormals flushed to zero, whatever
/// the calling thread's mode (see [`crate::nn::float::DenormalMode`]). A network with
/// BatchNorm trains in training mode and is measured in evaluation mode (its running
/// statistics), as `model.train()` / `model.eval()` in PyTorch; its gradient norm is that
/// of the training-mode loss.
#[allow(clippy::too_many_arguments)] // each argument is a distinct role; a struct would only rename them
pub fn train<T: Float, M: Model<T>, R: Rng + ?Sized>(
    mlp: &mut M,
    optimizer: &mut impl Step<T>,
    train: Split<'_, T>,
    test: Option<Split<'_, T>>,
    config: &TrainConfig,
    rng: &mut R,
    stop: Option<&AtomicBool>,
    mut observer: impl FnMut(&Checkpoint<'_, T, M>) -> ControlFlow<()>,
) -> History {
    let _mode = crate::nn::float::DenormalMode::Flush.enter(); // see `DenormalMode`
    assert!(config.batch_size > 0, "batch size must be > 0");
    assert!(config.log_every > 0, "log interval must be > 0");
    let n = train.x.nrows();
    assert!(n > 0, "empty training set");
    let batch = config.batch_size.min(n);
    let full_batch = batch == n;
    let mut buffers = Buffers::<T, M> {
        workspace: mlp.workspace(batch, config.threads),
        gradients: mlp.zero_gradients(),
        order: (0..n).collect(),
        x_batch: Array2::zeros((batch, train.x.ncols())),
        labels_batch: vec![0; batch],
        values_batch: match train.targets {
            TargetsView::Values(v) => Array2::zeros((batch, v.ncols())),
            TargetsView::Classes(_) => Array2::zeros((0, 0)),
        },
        weights_before_step: ParamList::zeros_like(mlp),
    };
    let mut evaluator = Evaluator::new(
        mlp,
        n.max(test.map_or(0, |t| t.x.nrows())),
        config.threads,
        matches!(train.targets, TargetsView::Classes(_)),
    );

    optimizer.prepare_for(mlp);
    let mut history = History::default();
    // Room for every record, so that logging between steps does not grow the vector.
    history.records.reserve(
        (config.epochs / config.log_every)
            .saturating_add(2)
            .min(1 << 16),
    );
    let stopped = || stop.is_some_and(|s| s.load(Ordering::Relaxed));

    // Epoch 0 takes no step: it records the untrained network.
    for epoch in 0..=config.epochs {
        let logged = epoch % config.log_every == 0 || epoch == config.epochs; // 0 included
        let mut diverged = false;
        let mut stepped_from_copy = false;
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
                mlp.batch_gradients(
                    train.x,
                    train.targets,
                    &mut buffers.workspace,
                    &mut buffers.gradients,
                )
            } else {
                step_minibatch(mlp, train, &mut buffers, start, end)
            };
            if !loss.is_finite() {
                diverged = true;
                break;
            }
            // Keep the parameters before the epoch's last step, for the update ratio.
            stepped_from_copy = logged && end == n;
            if stepped_from_copy {
                buffers.weights_before_step.assign(mlp);
            }
            mlp.after_step(&buffers.workspace);
            optimizer.step_on(mlp, &buffers.gradients, config.threads);
            history.steps += 1;
            start = end;
        }
        if diverged || logged {
            let mut record = evaluator.record(mlp, epoch, train, test, diverged);
            record.diverged = diverged || !record.train_loss.is_finite() || !Model::all_finite(mlp);
            let flow = observer(&Checkpoint {
                record: &record,
                model: mlp,
                gradients: &evaluator.total,
                weights_before_step: stepped_from_copy.then_some(&buffers.weights_before_step),
                train_classes: evaluator.train_classes.as_ref(),
                test_classes: evaluator
                    .test_classes
                    .as_ref()
                    .filter(|_| test.is_some_and(|t| t.x.nrows() > 0)),
            });
            let stop = record.diverged || flow.is_break();
            if record.diverged {
                history.diverged_at = Some(epoch);
            }
            history.interrupted |= flow.is_break();
            history.records.push(record);
            if stop {
                return history;
            }
        }
    }
    history
}

/// Gathers rows `order[start..end]` into the batch buffers and runs forward + backward.
fn step_minibatch<T: Float, M: Model<T>>(
    mlp: &M,
    train: Split<'_, T>,
    buffers: &mut Buffers<T, M>,
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
    mlp.batch_gradients(
        buffers.x_batch.slice(s![..rows, ..]),
        targets,
        &mut buffers.workspace,
        &mut buffers.gradients,
    )
}

/// Whole-set evaluation in chunks, with the full training gradient and, for class
/// labels, the per-class counts of both sets (buffers made once per run).
struct Evaluator<T: Float, M: Model<T>> {
    workspace: M::Workspace,
    chunk: M::Gradients,
    total: M::Gradients,
    train_classes: Option<ClassTally>,
    test_classes: Option<ClassTally>,
}

/// Rows per evaluation chunk.
pub const EVAL_CHUNK: usize = 2048;

impl<T: Float, M: Model<T>> Evaluator<T, M> {
    fn new(mlp: &M, rows: usize, threads: usize, classes: bool) -> Self {
        let tally = classes.then(|| ClassTally::for_outputs(mlp.output_width()));
        Evaluator {
            workspace: mlp.workspace(rows.clamp(1, EVAL_CHUNK), threads),
            chunk: mlp.zero_gradients(),
            total: mlp.zero_gradients(),
            test_classes: tally.clone(),
            train_classes: tally,
        }
    }

    fn record(
        &mut self,
        mlp: &M,
        epoch: usize,
        train: Split<'_, T>,
        test: Option<Split<'_, T>>,
        diverged: bool,
    ) -> EpochRecord {
        let (mut train_loss, mut train_correct) = self.train_pass(mlp, train);
        if mlp.depends_on_mode() {
            if let Some(tally) = &mut self.train_classes {
                tally.clear();
            }
            (train_loss, train_correct) = mlp.evaluate_set(
                train.x,
                train.targets,
                &mut self.workspace,
                self.train_classes.as_mut(),
            );
        }
        let n = train.x.nrows() as f64;
        let (test_loss, test_accuracy) = match test {
            Some(t) if t.x.nrows() > 0 => {
                if let Some(tally) = &mut self.test_classes {
                    tally.clear();
                }
                let (loss, correct) = mlp.evaluate_set(
                    t.x,
                    t.targets,
                    &mut self.workspace,
                    self.test_classes.as_mut(),
                );
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
            gradient_norm: M::gradient_norm(&self.total),
            diverged,
        }
    }

    /// Mean training loss, correct count, and the full gradient into `self.total`.
    fn train_pass(&mut self, mlp: &M, train: Split<'_, T>) -> (f64, Option<usize>) {
        let n = train.x.nrows();
        for i in 0..self.total.tensor_count() {
            self.total.tensor_mut(i).fill(T::zero());
        }
        let mut loss_sum = 0.0;
        let mut correct = 0;
        let mut start = 0;
        let loss = mlp.loss_function();
        if let Some(tally) = &mut self.train_classes {
            tally.clear();
        }
        while start < n {
            let end = (start + EVAL_CHUNK).min(n);
            let xb = train.x.slice(s![start..end, ..]);
            let tb = slice_targets(train.targets, start, end);
            let chunk_loss = mlp.batch_gradients(xb, tb, &mut self.workspace, &mut self.chunk);
            let weight = (end - start) as f64 / n as f64;
            loss_sum += chunk_loss * weight;
            if let TargetsView::Classes(labels) = tb {
                let logits = M::last_logits(&self.workspace);
                correct += loss.count_correct(logits, labels);
                if let Some(tally) = &mut self.train_classes {
                    tally.add(loss, logits, labels);
                }
            }
            M::accumulate(&mut self.total, T::of(weight), &self.chunk);
            start = end;
        }
        let correct = matches!(train.targets, TargetsView::Classes(_)).then_some(correct);
        (loss_sum, correct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Init, Loss};
    use ndarray::Axis;

    fn buffers<T: Float>(mlp: &Mlp<T>, train: Split<'_, T>, batch: usize) -> Buffers<T, Mlp<T>> {
        Buffers {
            workspace: Workspace::new(mlp, batch),
            gradients: Gradients::zeros_like(mlp),
            order: (0..train.x.nrows()).collect(),
            x_batch: Array2::zeros((batch, train.x.ncols())),
            labels_batch: vec![0; batch],
            values_batch: match train.targets {
                TargetsView::Values(v) => Array2::zeros((batch, v.ncols())),
                TargetsView::Classes(_) => Array2::zeros((0, 0)),
            },
            weights_before_step: ParamList::zeros_like(mlp),
        }
    }

    /// A mini-batch gathered through `order` gives the gradient computed directly on the
    /// same rows, for class labels and for real-valued targets, including a short last batch.
    #[test]
    fn minibatch_gather_equals_the_gradient_on_the_same_rows() {
        let x = Array2::from_shape_fn((9, 2), |(i, j)| (i as f64 - 4.0) * 0.3 + j as f64 * 0.1);
        let labels: Vec<usize> = (0..9).map(|i| (i * 2) % 3).collect();
        let values = Array2::from_shape_fn((9, 3), |(i, j)| ((i + 2 * j) % 5) as f64 / 5.0);
        let order = vec![7, 2, 8, 0, 5, 3, 1, 6, 4];
        for loss in [Loss::SoftmaxCrossEntropy, Loss::Mse] {
            let targets = match loss {
                Loss::Mse => TargetsView::Values(values.view()),
                _ => TargetsView::Classes(&labels),
            };
            let mut mlp = Mlp::<f64>::new(&[2, 5, 3], &[Activation::Tanh], loss);
            mlp.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 2);
            let train = Split {
                x: x.view(),
                targets,
            };
            let mut b = buffers(&mlp, train, 4);
            b.order.clone_from(&order);
            for (start, end) in [(0, 4), (4, 8), (8, 9)] {
                let loss_gathered = step_minibatch(&mlp, train, &mut b, start, end);

                let rows = &order[start..end];
                let x_rows = x.select(Axis(0), rows);
                let label_rows: Vec<usize> = rows.iter().map(|&i| labels[i]).collect();
                let value_rows = values.select(Axis(0), rows);
                let direct_targets = match loss {
                    Loss::Mse => TargetsView::Values(value_rows.view()),
                    _ => TargetsView::Classes(&label_rows),
                };
                let mut ws = Workspace::new(&mlp, rows.len());
                let mut direct = Gradients::zeros_like(&mlp);
                let loss_direct =
                    mlp.loss_and_gradients(x_rows.view(), direct_targets, &mut ws, &mut direct);
                assert_eq!(loss_gathered, loss_direct, "{loss} rows {rows:?}");
                assert_eq!(b.gradients, direct, "{loss} rows {rows:?}");
                assert!(direct.norm() > 0.0);
            }
        }
    }
}
