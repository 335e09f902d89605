//! MetaInit (Dauphin & Schoenholz 2019, "MetaInit: Initializing learning by learning to
//! initialize"): the norm of every weight matrix chosen so that the loss looks locally
//! linear — so that a gradient step changes the gradient little — measured by the gradient
//! quotient
//!
//! GQ(θ) = mean over all parameters of |(g − H·g) / (g + ε·sgn(g)) − 1|,
//!
//! g = ∇L(θ), sgn(0) = +1, ε = 10⁻⁵ (the paper's Figure 2), over standard-normal inputs with
//! random labels ("random data and random labels": no data set is needed), a fresh batch
//! every step. H·g is a central finite difference of two gradients
//! ([`Oracle::hessian_vector_product`]).
//!
//! The paper differentiates GQ with respect to each weight matrix's norm by automatic
//! differentiation (a third derivative of the loss); here that derivative is a central
//! finite difference over the norm itself: GQ with tensor i's norm × (1 ± δ), δ = 1 %,
//! on the step's batch — 2 evaluations of GQ per weight matrix, cheap for the few tensors
//! of an MLP. Only its sign is used: the norms move by signSGD with momentum, as the
//! paper's code does (`memory = momentum·memory − lr·sign(∂GQ/∂‖W‖)`, `‖W‖ += memory`),
//! with its defaults lr = 0.1, momentum = 0.9. A norm is kept ≥ 10⁻³ of its base norm (the
//! paper's code has no bound; a non-positive norm would flip the matrix). Only the weight
//! matrices are rescaled (the paper's `len(p.size()) >= 2`); GQ runs over every parameter.

use super::learned::{Batch, InitData, Oracle, Sampler, Scaled, TensorScale, dot};
use crate::nn::float::Float;
use crate::nn::param::{ParamKind, ParamList, ParamSet, Parameters};
use crate::nn::train::Model;

/// MetaInit's settings (the catalogue row's parameters).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetaInit {
    /// signSGD's step on a norm (the paper's `lr = 0.1`).
    pub learning_rate: f64,
    /// Its momentum (`momentum = 0.9`).
    pub momentum: f64,
    /// Number of steps.
    pub iterations: usize,
    /// GQ's ε (`eps = 1e-5`).
    pub epsilon: f64,
    /// Rows of each random batch.
    pub batch: usize,
}

/// What MetaInit did.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaInitOutcome {
    /// The learned scale and norm of each weight matrix.
    pub scales: Vec<TensorScale>,
    /// GQ on the first step's batch at the base start.
    pub first_quotient: f64,
    /// GQ on the last step's batch at the learned norms.
    pub last_quotient: f64,
}

/// Relative change of a norm in the finite difference of GQ over it.
const NORM_STEP: f64 = 0.01;
/// A norm is kept at or above this fraction of its base norm.
const NORM_FLOOR: f64 = 1e-3;

/// Buffers for [`gradient_quotient`], numbered as the model's parameters.
pub struct QuotientWork<T> {
    gradient: ParamList<T>,
    product: ParamList<T>,
}

impl<T: Float> QuotientWork<T> {
    /// Buffers for `model`.
    pub fn new<M: ParamSet<T>>(model: &M) -> Self {
        QuotientWork {
            gradient: ParamList::zeros_like(model),
            product: ParamList::zeros_like(model),
        }
    }
}

/// The gradient quotient of `model` on `batch` (see the module docs), H·g by
/// [`Oracle::hessian_vector_product`].
pub fn gradient_quotient<T: Float, M: Model<T>>(
    model: &mut M,
    batch: &Batch<T>,
    epsilon: f64,
    oracle: &mut Oracle<T, M>,
    work: &mut QuotientWork<T>,
) -> f64 {
    let loss = oracle.gradient(model, batch, &mut work.gradient);
    if !loss.is_finite() {
        return f64::NAN;
    }
    oracle.hessian_vector_product(model, batch, &work.gradient, &mut work.product);
    let (mut sum, mut count) = (0.0, 0usize);
    for i in 0..work.gradient.tensor_count() {
        for (&g, &hg) in work.gradient.tensor(i).iter().zip(work.product.tensor(i)) {
            let (g, hg) = (g.f64(), hg.f64());
            let regularized = g + if g >= 0.0 { epsilon } else { -epsilon };
            sum += ((g - hg) / regularized - 1.0).abs();
            count += 1;
        }
    }
    sum / count.max(1) as f64
}

impl MetaInit {
    /// Learns the norms of `model`'s drawn weight matrices on random batches (inputs and
    /// labels from `data`, its own RNG seeded with `seed`) and leaves the model at them.
    pub fn learn<T: Float, M: Model<T> + Parameters<T>>(
        &self,
        model: &mut M,
        data: InitData<'_, T>,
        seed: u64,
    ) -> MetaInitOutcome {
        let mut sampler = Sampler::new(data, seed);
        let kinds: Vec<ParamKind> = (0..model.tensor_count())
            .map(|i| model.info(i).kind)
            .collect();
        let mut scaled = Scaled::new(model, |i| kinds[i] == ParamKind::Weight);
        let base_norms: Vec<f64> = (0..scaled.scales.len())
            .map(|i| dot(scaled.base.tensor(i), scaled.base.tensor(i)).sqrt())
            .collect();
        let mut oracle = Oracle::new(model, self.batch);
        let mut work = QuotientWork::new(model);
        let mut memory = vec![0.0; scaled.scales.len()];
        let mut derivative = vec![0.0; scaled.scales.len()];
        let (mut first_quotient, mut last_quotient) = (f64::NAN, f64::NAN);
        for step in 0..self.iterations {
            let batch = sampler.draw(self.batch);
            if step == 0 {
                first_quotient =
                    gradient_quotient(model, &batch, self.epsilon, &mut oracle, &mut work);
            }
            for i in 0..scaled.scales.len() {
                if !scaled.learned[i] {
                    continue;
                }
                let scale = scaled.scales[i];
                let mut at = |factor: f64, model: &mut M| {
                    scaled.scales[i] = scale * factor;
                    scaled.apply(model);
                    gradient_quotient(model, &batch, self.epsilon, &mut oracle, &mut work)
                };
                let plus = at(1.0 + NORM_STEP, model);
                let minus = at(1.0 - NORM_STEP, model);
                scaled.scales[i] = scale;
                // ∂GQ/∂‖Wᵢ‖; only its sign is used, a non-finite difference counts as 0.
                let d = (plus - minus) / (2.0 * NORM_STEP * scale * base_norms[i]);
                derivative[i] = if d.is_finite() { d } else { 0.0 };
            }
            for i in 0..scaled.scales.len() {
                if !scaled.learned[i] {
                    continue;
                }
                let sign = if derivative[i] > 0.0 {
                    1.0
                } else if derivative[i] < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                memory[i] = self.momentum * memory[i] - self.learning_rate * sign;
                let norm = scaled.scales[i] * base_norms[i] + memory[i];
                scaled.scales[i] = (norm / base_norms[i]).max(NORM_FLOOR);
            }
            scaled.apply(model);
            if step + 1 == self.iterations {
                last_quotient =
                    gradient_quotient(model, &batch, self.epsilon, &mut oracle, &mut work);
            }
        }
        MetaInitOutcome {
            scales: scaled.report(model),
            first_quotient,
            last_quotient,
        }
    }
}
