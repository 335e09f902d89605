//! GradInit (Zhu et al. 2021, "GradInit: Learning to Initialize Neural Networks for Stable
//! and Efficient Training"): one scale per parameter tensor, learned on training data before
//! training, so that the loss after the optimizer's first step is smallest.
//!
//! With the base draw `w0` and scales `s` (tensor `i` is `sᵢ · w0ᵢ`), one iteration takes a
//! batch S = A ∪ B of two half-batches and its gradient g = ∇L(θ; S), then
//!
//! - if ‖g‖_p > γ (p = 2 for SGD, 1 for Adam) — the gradient-norm constraint is violated —
//!   a step of the scales' Adam that lowers ‖g‖_p, as the paper does;
//! - otherwise a step of the scales' Adam on the objective
//!   J(s) = L(θ − η·d(g); S̃) / η, the loss after the optimizer's first step on a batch
//!   S̃ = A ∪ C that shares half of S and has a fresh half C (the paper's code;
//!   `batch_no_overlap` off), with d(g) = g/‖g‖₂ for SGD (its scripts'
//!   `--gradinit-normalize-grad`) and sign(g) for Adam (Adam's first step).
//!
//! Both gradients with respect to the scales go through g(θ), so they need a
//! Hessian-vector product: ∂J/∂θ = u/η − H·D·u with u = ∇L(θ − η d; S̃) and D = ∂d/∂g
//! ((I − ĝĝᵀ)/‖g‖ for SGD, 0 for sign), and ∂‖g‖_p/∂θ = H·∂‖g‖_p/∂g. The product is a
//! central finite difference of two gradients ([`Oracle::hessian_vector_product`]). Then
//! ∂/∂sᵢ = ⟨∂/∂θᵢ, w0ᵢ⟩.
//!
//! The scales' optimizer is the paper's `RescaleAdam`: Adam (β = (0.9, 0.999), ε = 10⁻⁸) on
//! each scalar, its derivative clipped to [−1, 1] (`--gradinit-grad-clip 1`), separate
//! first moments for the constraint and objective steps, one second moment, and every
//! weight-like scale (weights, norm gains, α) kept ≥ `min_scale`, biases and shifts ≥ 0.
//! Tensors drawn as all zeros stay zero.

use super::learned::{Batch, InitData, Oracle, Sampler, Scaled, TensorScale, restore};
use crate::nn::float::Float;
use crate::nn::param::{ParamKind, ParamList, ParamSet, Parameters};
use crate::nn::train::Model;

/// The optimizer's first step, which GradInit anticipates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstStep {
    /// SGD (with or without momentum; its first step has none): θ − η·g/‖g‖₂, the
    /// constraint on ‖g‖₂.
    Sgd,
    /// Adam, AdamW, RMSprop: the first step is ≈ θ − η·sign(g), the constraint on ‖g‖₁.
    Sign,
}

/// GradInit's settings (the catalogue row's parameters, with the optimizer's first step
/// from the experiment).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradInit {
    /// η: the step the objective anticipates (`--gradinit-eta 0.1`).
    pub eta: f64,
    /// γ: the bound on the gradient norm (`--gradinit-gamma 1`).
    pub gamma: f64,
    /// The scales' Adam learning rate.
    pub learning_rate: f64,
    /// The lower bound of a weight's scale (`--gradinit-min-scale 0.01`).
    pub min_scale: f64,
    /// Number of iterations.
    pub iterations: usize,
    /// Rows of S and of S̃ (two half-batches each).
    pub batch: usize,
    /// The optimizer's first step.
    pub first_step: FirstStep,
}

/// What GradInit did.
#[derive(Clone, Debug, PartialEq)]
pub struct GradInitOutcome {
    /// The learned scale and norm of each scaled tensor.
    pub scales: Vec<TensorScale>,
    /// Iterations that stepped on the constraint (‖g‖_p > γ).
    pub constraint_steps: usize,
    /// Iterations skipped because a gradient was not finite.
    pub skipped: usize,
}

/// The objective at one point, on one pair of batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// L(θ − η·d(g); S̃), the loss after the anticipated step.
    pub loss_after_step: f64,
    /// ‖g‖_p on S (p = 2 for SGD, 1 for sign).
    pub gradient_norm: f64,
}

/// Derivative clip of the scales' Adam (`--gradinit-grad-clip 1`).
const CLIP: f64 = 1.0;
/// Adam's β₁, β₂ and ε for the scales (PyTorch's defaults, the paper's `RescaleAdam`).
const BETAS: (f64, f64) = (0.9, 0.999);
const ADAM_EPSILON: f64 = 1e-8;

/// Buffers of one GradInit run, numbered as the model's parameters.
struct Work<T> {
    gradient: ParamList<T>,
    direction: ParamList<T>,
    after: ParamList<T>,
    product: ParamList<T>,
}

impl<T: Float> Work<T> {
    fn new<M: ParamSet<T>>(model: &M) -> Self {
        Work {
            gradient: ParamList::zeros_like(model),
            direction: ParamList::zeros_like(model),
            after: ParamList::zeros_like(model),
            product: ParamList::zeros_like(model),
        }
    }
}

impl GradInit {
    /// ‖g‖_p: ℓ2 for SGD, ℓ1 for sign.
    fn norm<T: Float>(&self, g: &ParamList<T>) -> f64 {
        match self.first_step {
            FirstStep::Sgd => g.norm(),
            FirstStep::Sign => (0..g.tensor_count())
                .map(|i| g.tensor(i).iter().map(|v| v.f64().abs()).sum::<f64>())
                .sum(),
        }
    }

    /// `out` = d(g): g/‖g‖₂ for SGD, sign(g) for sign (sign(0) = 0). Also ∂‖g‖_p/∂g.
    fn direction<T: Float>(&self, g: &ParamList<T>, out: &mut ParamList<T>) {
        let scale = match self.first_step {
            FirstStep::Sgd => T::of(1.0 / g.norm().max(f64::MIN_POSITIVE)),
            FirstStep::Sign => T::one(),
        };
        for i in 0..g.tensor_count() {
            for (o, &v) in out.tensor_mut(i).iter_mut().zip(g.tensor(i)) {
                *o = match self.first_step {
                    FirstStep::Sgd => v * scale,
                    FirstStep::Sign if v == T::zero() => T::zero(),
                    FirstStep::Sign => v.signum(),
                };
            }
        }
    }

    /// Moves the model to θ − η·d, d in `work.direction`; the caller restores θ.
    fn step_model<T: Float, M: ParamSet<T>>(&self, model: &mut M, direction: &ParamList<T>) {
        let eta = T::of(self.eta);
        for i in 0..model.tensor_count() {
            for (w, &d) in model.tensor_mut(i).iter_mut().zip(direction.tensor(i)) {
                *w = *w - eta * d;
            }
        }
    }

    /// The objective at the model's parameters: the gradient norm on `s` and the loss on
    /// `s_tilde` after the anticipated step (the model is left as it was).
    pub fn objective<T: Float, M: Model<T>>(
        &self,
        model: &mut M,
        s: &Batch<T>,
        s_tilde: &Batch<T>,
    ) -> Objective {
        let rows = s.x.nrows().max(s_tilde.x.nrows());
        let mut oracle = Oracle::new(model, rows);
        let mut gradient = ParamList::zeros_like(model);
        let mut direction = ParamList::zeros_like(model);
        let theta = ParamList::copy_of(model);
        oracle.gradient(model, s, &mut gradient);
        self.direction(&gradient, &mut direction);
        self.step_model(model, &direction);
        let loss_after_step = oracle.gradient(model, s_tilde, &mut direction);
        restore(model, &theta);
        Objective {
            loss_after_step,
            gradient_norm: self.norm(&gradient),
        }
    }

    /// The derivative of the objective L(θ − η·d(g); S̃)/η (of ‖g‖_p when `constraint`)
    /// with respect to each tensor's scale, at the model's parameters taken as the base (all
    /// scales 1): what an iteration of [`GradInit::learn`] steps on. `None` if a loss is not
    /// finite.
    pub fn scale_gradient<T: Float, M: Model<T>>(
        &self,
        model: &mut M,
        s: &Batch<T>,
        s_tilde: &Batch<T>,
        constraint: bool,
    ) -> Option<Vec<f64>> {
        let scaled = Scaled::new(model, |_| true);
        let mut oracle = Oracle::new(model, s.x.nrows().max(s_tilde.x.nrows()));
        let mut work = Work::new(model);
        oracle.gradient(model, s, &mut work.gradient);
        let gradient = if constraint {
            self.constraint_gradient(model, s, &mut oracle, &mut work)
        } else {
            self.objective_gradient(model, s, s_tilde, &mut oracle, &mut work, &scaled)
        };
        gradient.map(|g| scaled.scale_gradient(g))
    }

    /// Learns the scales of `model`'s drawn parameters on batches of `data` (its own RNG
    /// seeded with `seed`) and leaves the model at the learned scales.
    pub fn learn<T: Float, M: Model<T> + Parameters<T>>(
        &self,
        model: &mut M,
        data: InitData<'_, T>,
        seed: u64,
    ) -> GradInitOutcome {
        let half = (self.batch / 2).max(1);
        let mut sampler = Sampler::new(data, seed);
        let mut scaled = Scaled::new(model, |_| true);
        let floors: Vec<f64> = (0..model.tensor_count())
            .map(|i| match model.info(i).kind {
                ParamKind::Bias | ParamKind::Shift => 0.0,
                ParamKind::Weight | ParamKind::Gain | ParamKind::Alpha => self.min_scale,
            })
            .collect();
        let mut oracle = Oracle::new(model, 2 * half);
        let mut work = Work::new(model);
        let mut adam = ScaleAdam::new(scaled.scales.len());
        let (mut constraint_steps, mut skipped) = (0, 0);
        for _ in 0..self.iterations {
            let a = sampler.draw(half);
            let s = a.concat(&sampler.draw(half));
            let loss = oracle.gradient(model, &s, &mut work.gradient);
            let norm = self.norm(&work.gradient);
            let constraint = norm > self.gamma;
            let gradient = if !loss.is_finite() || !norm.is_finite() {
                None
            } else if constraint {
                self.constraint_gradient(model, &s, &mut oracle, &mut work)
            } else {
                let s_tilde = a.concat(&sampler.draw(half));
                self.objective_gradient(model, &s, &s_tilde, &mut oracle, &mut work, &scaled)
            };
            let Some(gradient) = gradient else {
                skipped += 1;
                continue;
            };
            let mut ds = scaled.scale_gradient(gradient);
            for (d, &learned) in ds.iter_mut().zip(&scaled.learned) {
                if !learned {
                    *d = 0.0;
                }
            }
            if ds.iter().any(|d| !d.is_finite()) {
                skipped += 1;
                continue;
            }
            constraint_steps += usize::from(constraint);
            adam.step(
                &mut scaled.scales,
                &ds,
                constraint,
                self.learning_rate,
                &floors,
            );
            scaled.apply(model);
        }
        GradInitOutcome {
            scales: scaled.report(model),
            constraint_steps,
            skipped,
        }
    }

    /// ∂‖g‖_p/∂θ = H·∂‖g‖_p/∂g, into `work.product`.
    fn constraint_gradient<'w, T: Float, M: Model<T>>(
        &self,
        model: &mut M,
        s: &Batch<T>,
        oracle: &mut Oracle<T, M>,
        work: &'w mut Work<T>,
    ) -> Option<&'w ParamList<T>> {
        self.direction(&work.gradient, &mut work.direction);
        oracle.hessian_vector_product(model, s, &work.direction, &mut work.product);
        Some(&work.product)
    }

    /// ∂J/∂θ = u/η − H·D·u, into `work.product` (`None` if the loss after the step is not
    /// finite).
    fn objective_gradient<'w, T: Float, M: Model<T>>(
        &self,
        model: &mut M,
        s: &Batch<T>,
        s_tilde: &Batch<T>,
        oracle: &mut Oracle<T, M>,
        work: &'w mut Work<T>,
        scaled: &Scaled<T>,
    ) -> Option<&'w ParamList<T>> {
        self.direction(&work.gradient, &mut work.direction);
        self.step_model(model, &work.direction);
        let loss = oracle.gradient(model, s_tilde, &mut work.after);
        scaled.apply(model);
        if !loss.is_finite() {
            return None;
        }
        let inverse_eta = T::of(1.0 / self.eta);
        match self.first_step {
            FirstStep::Sign => {
                // d = sign(g) has derivative 0: ∂J/∂θ = u/η.
                work.product.fill_zero();
            }
            FirstStep::Sgd => {
                // D·u = (u − ĝ⟨ĝ, u⟩)/‖g‖, ĝ in `direction`.
                let norm = work.gradient.norm();
                let along: f64 = (0..work.after.tensor_count())
                    .map(|i| super::learned::dot(work.after.tensor(i), work.direction.tensor(i)))
                    .sum();
                let (along, inverse_norm) = (T::of(along), T::of(1.0 / norm));
                for i in 0..work.after.tensor_count() {
                    let u = work.after.tensor(i);
                    for (d, &u) in work.direction.tensor_mut(i).iter_mut().zip(u) {
                        *d = (u - *d * along) * inverse_norm;
                    }
                }
                oracle.hessian_vector_product(model, s, &work.direction, &mut work.product);
            }
        }
        // product = u/η − product.
        for i in 0..work.after.tensor_count() {
            let u = work.after.tensor(i);
            for (p, &u) in work.product.tensor_mut(i).iter_mut().zip(u) {
                *p = u * inverse_eta - *p;
            }
        }
        Some(&work.product)
    }
}

/// The paper's `RescaleAdam` on the scales: Adam on each scalar with its derivative clipped,
/// first moments apart for constraint and objective steps, the second moment shared, each
/// scale kept at or above its floor.
struct ScaleAdam {
    objective_mean: Vec<f64>,
    constraint_mean: Vec<f64>,
    square_mean: Vec<f64>,
    objective_steps: i32,
    constraint_steps: i32,
}

impl ScaleAdam {
    fn new(n: usize) -> Self {
        ScaleAdam {
            objective_mean: vec![0.0; n],
            constraint_mean: vec![0.0; n],
            square_mean: vec![0.0; n],
            objective_steps: 0,
            constraint_steps: 0,
        }
    }

    fn step(
        &mut self,
        scales: &mut [f64],
        derivatives: &[f64],
        constraint: bool,
        learning_rate: f64,
        floors: &[f64],
    ) {
        let (beta1, beta2) = BETAS;
        let (mean, steps) = if constraint {
            self.constraint_steps += 1;
            (&mut self.constraint_mean, self.constraint_steps)
        } else {
            self.objective_steps += 1;
            (&mut self.objective_mean, self.objective_steps)
        };
        let total = self.objective_steps + self.constraint_steps;
        let correction1 = 1.0 - beta1.powi(steps);
        let correction2 = 1.0 - beta2.powi(total);
        for i in 0..scales.len() {
            let d = derivatives[i].clamp(-CLIP, CLIP);
            mean[i] = beta1 * mean[i] + (1.0 - beta1) * d;
            self.square_mean[i] = beta2 * self.square_mean[i] + (1.0 - beta2) * d * d;
            let denominator = (self.square_mean[i] / correction2).sqrt() + ADAM_EPSILON;
            let step = learning_rate / correction1 * mean[i] / denominator;
            scales[i] = (scales[i] - step).max(floors[i]);
        }
    }
}
