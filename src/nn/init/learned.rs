//! What the learned starts (GradInit, MetaInit) share: the batches they learn on, the
//! gradient of a model on a batch, the Hessian-vector product by a central finite
//! difference of two gradients, and the per-tensor scales they learn and report.
//!
//! A learned start draws its base start first (common random numbers with that start), then
//! multiplies each parameter tensor by a learned scale: tensor `i` becomes `sᵢ · w0ᵢ`. Only
//! the scales are learned, never the directions of the draws. It works on any [`Model`] (the
//! fused [`crate::nn::Mlp`] and the layer engine [`crate::nn::Network`]) through the
//! [`Parameters`] list, and changes the weights only by writing that list: no optimizer of
//! [`crate::nn::optim`] is involved.

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::nn::float::Float;
use crate::nn::loss::TargetsView;
use crate::nn::param::{ParamList, ParamSet, Parameters};
use crate::nn::train::{Model, Split};

/// One row of `init_scales.csv` after the run key: the scale a learned start gave one
/// parameter tensor, and the tensor's norm after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorScale {
    /// The tensor, as [`crate::nn::ParamInfo::label`] names it (`0.weight`, `3.body.1.gain`).
    pub tensor: String,
    /// What the base draw was multiplied by (1 = the base start).
    pub scale: f64,
    /// The tensor's Euclidean norm after the scale (MetaInit's learned norm).
    pub norm: f64,
}

/// Where a learned start's batches come from.
#[derive(Clone, Copy, Debug)]
pub enum InitData<'a, T> {
    /// Rows of the training split, without replacement, reshuffled when used up (GradInit).
    Train(Split<'a, T>),
    /// Standard-normal inputs with uniformly random class labels in `0..classes`, fresh for
    /// every batch: MetaInit's "random data and random labels" (Dauphin & Schoenholz 2019,
    /// Figure 2).
    Gaussian {
        /// Input features.
        inputs: usize,
        /// Number of classes (2 for a one-output network).
        classes: usize,
    },
}

/// A batch of inputs and targets, owned.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<T> {
    /// Inputs, (rows, features).
    pub x: Array2<T>,
    /// Class labels, one per row, for class targets.
    pub labels: Vec<usize>,
    /// Real targets, (rows, outputs), for value targets; (0, 0) otherwise.
    pub values: Array2<T>,
}

impl<T: Float> Batch<T> {
    /// The targets, borrowed as the engine takes them.
    pub fn targets(&self) -> TargetsView<'_, T> {
        if self.values.nrows() > 0 {
            TargetsView::Values(self.values.view())
        } else {
            TargetsView::Classes(&self.labels)
        }
    }

    /// The rows of `self` followed by the rows of `other` (GradInit's two half-batches).
    pub fn concat(&self, other: &Batch<T>) -> Batch<T> {
        let stack = |a: &Array2<T>, b: &Array2<T>| {
            ndarray::concatenate(Axis(0), &[a.view(), b.view()]).expect("same widths")
        };
        Batch {
            x: stack(&self.x, &other.x),
            labels: [self.labels.as_slice(), &other.labels].concat(),
            values: stack(&self.values, &other.values),
        }
    }
}

/// Draws batches from [`InitData`] with its own seeded RNG, so that a learned start sees
/// the same batches for the same seed whatever else the run draws.
pub struct Sampler<'a, T> {
    data: InitData<'a, T>,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    next: usize,
}

impl<'a, T: Float> Sampler<'a, T> {
    /// A sampler of `data` seeded with `seed`.
    pub fn new(data: InitData<'a, T>, seed: u64) -> Self {
        let rows = match data {
            InitData::Train(split) => split.x.nrows(),
            InitData::Gaussian { .. } => 0,
        };
        Sampler {
            data,
            rng: ChaCha8Rng::seed_from_u64(seed),
            order: (0..rows).collect(),
            // Shuffle before the first batch.
            next: rows,
        }
    }

    /// The next batch of `rows` rows. From the training split: the next rows of a
    /// shuffled order, reshuffled when it runs out; a split with at most `rows` rows
    /// gives all of them, in order, every time (a deterministic full batch).
    pub fn draw(&mut self, rows: usize) -> Batch<T> {
        match self.data {
            InitData::Gaussian { inputs, classes } => {
                let rng = &mut self.rng;
                let x = Array2::from_shape_simple_fn((rows, inputs), || {
                    T::of(rng.sample::<f64, _>(StandardNormal))
                });
                let labels = (0..rows).map(|_| rng.random_range(0..classes)).collect();
                Batch {
                    x,
                    labels,
                    values: Array2::zeros((0, 0)),
                }
            }
            InitData::Train(split) => {
                let n = split.x.nrows();
                let picked: Vec<usize> = if n <= rows {
                    (0..n).collect()
                } else {
                    if self.next + rows > n {
                        self.order.shuffle(&mut self.rng);
                        self.next = 0;
                    }
                    self.next += rows;
                    self.order[self.next - rows..self.next].to_vec()
                };
                let x = split.x.select(Axis(0), &picked);
                match split.targets {
                    TargetsView::Classes(labels) => Batch {
                        x,
                        labels: picked.iter().map(|&i| labels[i]).collect(),
                        values: Array2::zeros((0, 0)),
                    },
                    TargetsView::Values(values) => Batch {
                        x,
                        labels: Vec::new(),
                        values: values.select(Axis(0), &picked),
                    },
                }
            }
        }
    }
}

/// Gradients of a model on batches, and Hessian-vector products from them, with the
/// buffers made once.
pub struct Oracle<T: Float, M: Model<T>> {
    workspace: M::Workspace,
    workspace_rows: usize,
    gradients: M::Gradients,
    /// The parameters before a finite-difference perturbation, restored exactly after.
    saved: ParamList<T>,
    plus: ParamList<T>,
}

impl<T: Float, M: Model<T>> Oracle<T, M> {
    /// Buffers for `model` and batches of up to `rows` rows (more rows grow them).
    pub fn new(model: &M, rows: usize) -> Self {
        Oracle {
            workspace: model.workspace(rows.max(1), 1),
            workspace_rows: rows.max(1),
            gradients: model.zero_gradients(),
            saved: ParamList::zeros_like(model),
            plus: ParamList::zeros_like(model),
        }
    }

    /// The mean training-mode loss of `batch` and its gradient, copied into `out`.
    pub fn gradient(&mut self, model: &M, batch: &Batch<T>, out: &mut ParamList<T>) -> f64 {
        if batch.x.nrows() > self.workspace_rows {
            self.workspace = model.workspace(batch.x.nrows(), 1);
            self.workspace_rows = batch.x.nrows();
        }
        let loss = model.batch_gradients(
            batch.x.view(),
            batch.targets(),
            &mut self.workspace,
            &mut self.gradients,
        );
        out.assign(&self.gradients);
        loss
    }

    /// The Hessian of the batch loss times `v`, into `out`, by a central difference of two
    /// gradients:
    ///
    /// H·v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / (2ε),  ε = u^(1/3) · max(‖θ‖, 1) / ‖v‖,
    ///
    /// `u` the machine epsilon of `T`. The central difference's error is O(ε²) (the third
    /// derivative) plus O(u/ε) (rounding in the two gradients); ε ∝ u^(1/3) balances them,
    /// the textbook choice. Scaled by ‖θ‖/‖v‖, the step moves the parameters by a fraction
    /// u^(1/3) of their norm (≈ 0.5 % in `f32`, ≈ 6·10⁻⁶ in `f64`): large against rounding,
    /// small against the curvature's scale. A ReLU kink crossed by the step adds a bounded
    /// error; `tests/suite/init_learned.rs` checks the product against exact references.
    /// The parameters are restored bit for bit. `v = 0` gives 0.
    pub fn hessian_vector_product(
        &mut self,
        model: &mut M,
        batch: &Batch<T>,
        v: &ParamList<T>,
        out: &mut ParamList<T>,
    ) {
        let v_norm = v.norm();
        if v_norm == 0.0 {
            out.fill_zero();
            return;
        }
        self.saved.assign(model);
        let theta_norm = self.saved.norm().max(1.0);
        let step = T::epsilon().f64().cbrt() * theta_norm / v_norm;
        let mut plus = std::mem::take(&mut self.plus);
        for (sign, target) in [(1.0, &mut plus), (-1.0, out)] {
            let shift = T::of(sign * step);
            for i in 0..model.tensor_count() {
                let saved = self.saved.tensor(i);
                for ((w, &w0), &d) in model.tensor_mut(i).iter_mut().zip(saved).zip(v.tensor(i)) {
                    *w = w0 + shift * d;
                }
            }
            self.gradient(model, batch, target);
        }
        let half = T::of(0.5 / step);
        for i in 0..plus.tensor_count() {
            for (o, &p) in out.tensor_mut(i).iter_mut().zip(plus.tensor(i)) {
                *o = (p - *o) * half;
            }
        }
        self.plus = plus;
        restore(model, &self.saved);
    }
}

/// Writes `values` into the model's parameters.
pub(super) fn restore<T: Float, M: ParamSet<T>>(model: &mut M, values: &ParamList<T>) {
    for i in 0..model.tensor_count() {
        model.tensor_mut(i).copy_from_slice(values.tensor(i));
    }
}

/// `⟨a_i, b_i⟩` of tensor `i` of two lists, in `f64`.
pub(super) fn dot<T: Float>(a: &[T], b: &[T]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x.f64() * y.f64()).sum()
}

/// The base draw of every parameter tensor and the scale each is multiplied by.
pub(super) struct Scaled<T> {
    /// The tensors as drawn (the base start).
    pub base: ParamList<T>,
    /// One scale per tensor, 1 at the start.
    pub scales: Vec<f64>,
    /// Which tensors are learned: the ones with a non-zero base draw (a zero tensor
    /// stays zero whatever its scale).
    pub learned: Vec<bool>,
}

impl<T: Float> Scaled<T> {
    /// The model's current parameters as the base, every scale 1; a tensor is learned when
    /// `learn(i)` says so and its base is not all zeros.
    pub fn new<M: ParamSet<T>>(model: &M, learn: impl Fn(usize) -> bool) -> Self {
        let base = ParamList::copy_of(model);
        let learned = (0..base.tensor_count())
            .map(|i| learn(i) && base.tensor(i).iter().any(|v| *v != T::zero()))
            .collect();
        Scaled {
            scales: vec![1.0; base.tensor_count()],
            base,
            learned,
        }
    }

    /// Writes `scale_i · base_i` into every tensor of the model.
    pub fn apply<M: ParamSet<T>>(&self, model: &mut M) {
        for (i, &s) in self.scales.iter().enumerate() {
            let s = T::of(s);
            for (w, &b) in model.tensor_mut(i).iter_mut().zip(self.base.tensor(i)) {
                *w = s * b;
            }
        }
    }

    /// `∂f/∂sᵢ = ⟨∂f/∂θᵢ, base_i⟩` for every tensor, given the gradient of `f` with
    /// respect to the parameters.
    pub fn scale_gradient(&self, gradient: &ParamList<T>) -> Vec<f64> {
        (0..self.scales.len())
            .map(|i| dot(gradient.tensor(i), self.base.tensor(i)))
            .collect()
    }

    /// The learned tensors' scales and norms, as `init_scales.csv` records them.
    pub fn report<M: Parameters<T>>(&self, model: &M) -> Vec<TensorScale> {
        (0..self.scales.len())
            .filter(|&i| self.learned[i])
            .map(|i| TensorScale {
                tensor: model.info(i).label(),
                scale: self.scales[i],
                norm: dot(model.tensor(i), model.tensor(i)).sqrt(),
            })
            .collect()
    }
}
