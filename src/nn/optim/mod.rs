//! Optimizers: the only code that changes weights after initialization.
//!
//! An optimizer is per-parameter state plus an update (as optax and llm.c write them): it
//! walks the model's parameter list ([`ParamSet`]) beside the gradients and its own state,
//! tensor by tensor, and never knows what a tensor is for. Every formula is PyTorch's,
//! written in the module of its optimizer:
//!
//! | optimizer | file | state per parameter |
//! |---|---|---|
//! | SGD (momentum, nesterov, dampening, weight decay) | `sgd.rs` | velocity (with momentum) |
//! | Adam, AdamW | `adam.rs` | first and second moments |
//! | RMSprop | `rmsprop.rs` | mean square (and velocity with momentum) |
//!
//! State is created by `prepare`, before the first step, so no step allocates. One driver,
//! [`update_tensors`], runs every optimizer's element-wise update on the requested number of
//! threads: each large tensor is cut into contiguous halves, recursively, and every value
//! gets the same arithmetic wherever it lands, so the result is the same bit for bit whatever
//! the thread count.
//!
//! A parametrization (μP, NTK; see [`crate::nn::parametrization`]) gives each tensor a
//! learning-rate multiplier, carried by the model ([`ParamSet::learning_rate_multiplier`]):
//! the driver asks each tensor for it and, when it is not 1, runs that tensor with the rule
//! [`Update::scaled`] makes (learning rate × m, weight decay ÷ m, as mup's `MuSGD` / `MuAdam`
//! scale their parameter groups). A multiplier of exactly 1 runs the rule as it is, so the
//! standard parametrization computes what it always did, bit for bit.

mod adam;
mod rmsprop;
mod sgd;

pub use adam::Adam;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use super::float::{DenormalMode, Float};
use super::param::{ParamList, ParamSet};

/// Values per piece below which a tensor is not cut further between threads.
pub const PAR_BLOCK: usize = 1 << 15;

/// Any of the optimizers, as an experiment chooses one.
#[derive(Clone, Debug)]
pub enum Optimizer<T> {
    /// Stochastic gradient descent.
    Sgd(Sgd<T>),
    /// Adam or AdamW.
    Adam(Adam<T>),
    /// RMSprop.
    RmsProp(RmsProp<T>),
}

impl<T: Float> Optimizer<T> {
    /// Makes the state for `params` now, so that no step allocates.
    pub fn prepare<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
        match self {
            Optimizer::Sgd(o) => o.prepare(params),
            Optimizer::Adam(o) => o.prepare(params),
            Optimizer::RmsProp(o) => o.prepare(params),
        }
    }

    /// Applies one update to `params` from `grads`, on up to `threads` threads (call it
    /// inside a rayon pool of that many); the result does not depend on `threads`.
    pub fn step<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized,
    {
        match self {
            Optimizer::Sgd(o) => o.step_threaded(params, grads, threads),
            Optimizer::Adam(o) => o.step_threaded(params, grads, threads),
            Optimizer::RmsProp(o) => o.step_threaded(params, grads, threads),
        }
    }

    /// The learning rate.
    pub fn learning_rate(&self) -> f64 {
        match self {
            Optimizer::Sgd(o) => o.learning_rate,
            Optimizer::Adam(o) => o.learning_rate,
            Optimizer::RmsProp(o) => o.learning_rate,
        }
    }

    /// How many copies of the parameters its state holds (for memory estimates).
    pub fn state_copies(&self) -> usize {
        match self {
            Optimizer::Sgd(o) => usize::from(o.momentum != 0.0),
            Optimizer::Adam(_) => 2,
            Optimizer::RmsProp(o) => 1 + usize::from(o.momentum != 0.0),
        }
    }
}

/// What the training loop asks of an optimizer: state made before the first step, then one
/// step at a time. [`Sgd`], [`Adam`], [`RmsProp`] and [`Optimizer`] implement it.
pub trait Step<T> {
    /// Makes the state for `params` now, so that no step allocates.
    fn prepare_for<P: ParamSet<T> + ?Sized>(&mut self, params: &P);
    /// One update of `params` from `grads` on up to `threads` threads.
    fn step_on<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized;
}

macro_rules! impl_step {
    ($($t:ident),*) => {$(
        impl<T: Float> Step<T> for $t<T> {
            fn prepare_for<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
                self.prepare(params);
            }
            fn step_on<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
            where
                P: ParamSet<T> + ?Sized,
                G: ParamSet<T> + ?Sized,
            {
                self.step_threaded(params, grads, threads);
            }
        }
    )*};
}
impl_step!(Sgd, Adam, RmsProp);

impl<T: Float> Step<T> for Optimizer<T> {
    fn prepare_for<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
        self.prepare(params);
    }
    fn step_on<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized,
    {
        self.step(params, grads, threads);
    }
}

/// The element-wise update of one piece of one tensor: parameter values, their gradients,
/// and up to two state slices of the same length (empty when the optimizer keeps fewer).
pub trait Update<T>: Sync + Sized {
    /// Updates `w` in place from `g`, reading and writing the state.
    fn apply(&self, w: &mut [T], g: &[T], s0: &mut [T], s1: &mut [T]);

    /// The same step's rule for a tensor whose learning rate is multiplied by
    /// `lr_multiplier` and whose weight decay is divided by it (mup's convention: the
    /// product learning rate × weight decay stays the same). Made on the stack, per tensor
    /// and step; allocates nothing.
    fn scaled(&self, lr_multiplier: f64) -> Self;
}

/// Runs `update` over every tensor of `params` with its gradient and state (`state` holds up
/// to two [`ParamList`]s numbered like `params`), on up to `threads` threads: a tensor of
/// at least 2 × [`PAR_BLOCK`] values is cut in contiguous halves between the threads,
/// recursively; smaller ones run on the calling thread. Threads compute with the caller's
/// denormal mode.
pub fn update_tensors<T, P, G>(
    params: &mut P,
    grads: &G,
    state: &mut [ParamList<T>],
    threads: usize,
    update: &impl Update<T>,
) where
    T: Float,
    P: ParamSet<T> + ?Sized,
    G: ParamSet<T> + ?Sized,
{
    assert_eq!(
        params.tensor_count(),
        grads.tensor_count(),
        "one gradient per parameter tensor"
    );
    assert!(state.len() <= 2, "at most two state tensors per parameter");
    for i in 0..params.tensor_count() {
        let multiplier = params.learning_rate_multiplier(i);
        let rescaled;
        let update = if multiplier == 1.0 {
            update
        } else {
            rescaled = update.scaled(multiplier);
            &rescaled
        };
        let w = params.tensor_mut(i);
        let g = grads.tensor(i);
        assert_eq!(w.len(), g.len(), "parameter and gradient shapes differ");
        let (s0, s1): (&mut [T], &mut [T]) = match state {
            [] => (&mut [], &mut []),
            [a] => (a.tensor_mut(i), &mut []),
            [a, b] => (a.tensor_mut(i), b.tensor_mut(i)),
            _ => unreachable!(),
        };
        if threads < 2 || w.len() < 2 * PAR_BLOCK {
            // Small tensors (every tensor of a small network): no thread, no mode to pass.
            update.apply(w, g, s0, s1);
        } else {
            split_apply(w, g, s0, s1, threads, DenormalMode::current(), update);
        }
    }
}

fn split_apply<T: Float>(
    w: &mut [T],
    g: &[T],
    s0: &mut [T],
    s1: &mut [T],
    threads: usize,
    mode: DenormalMode,
    update: &impl Update<T>,
) {
    if threads < 2 || w.len() < 2 * PAR_BLOCK {
        update.apply(w, g, s0, s1);
        return;
    }
    let mid = w.len() / 2;
    let (w0, w1) = w.split_at_mut(mid);
    let (g0, g1) = g.split_at(mid);
    let (a0, a1) = split_state(s0, mid);
    let (b0, b1) = split_state(s1, mid);
    let left = threads / 2;
    rayon::join(
        || {
            let _mode = mode.enter();
            split_apply(w0, g0, a0, b0, left, mode, update)
        },
        || {
            let _mode = mode.enter();
            split_apply(w1, g1, a1, b1, threads - left, mode, update)
        },
    );
}

fn split_state<T>(s: &mut [T], mid: usize) -> (&mut [T], &mut [T]) {
    if s.is_empty() {
        (&mut [], &mut [])
    } else {
        s.split_at_mut(mid)
    }
}

/// Checks optimizer hyper-parameters the way PyTorch's constructors do, with the TOML key
/// in the message.
pub(crate) fn check_range(key: &str, value: f64, low: f64, high: f64) -> Result<(), String> {
    if value.is_finite() && value >= low && value < high {
        Ok(())
    } else if high.is_infinite() {
        Err(format!(
            "training.optimizer.{key} must be a finite number ≥ {low}, got {value}"
        ))
    } else {
        Err(format!(
            "training.optimizer.{key} must be a finite number in [{low}, {high}), got {value}"
        ))
    }
}
