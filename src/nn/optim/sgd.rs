//! Stochastic gradient descent, with `torch.optim.SGD`'s semantics.

use super::{ParamList, ParamSet, Update, check_range, update_tensors};
use crate::nn::float::Float;

/// SGD with optional momentum (plain, dampened or Nesterov) and weight decay, exactly
/// `torch.optim.SGD` (`foreach=False`):
///
/// ```text
/// g ← g + weight_decay · w          (if weight_decay ≠ 0; biases included, as in PyTorch)
/// v ← g                             (first step with momentum)
/// v ← momentum · v + (1 − dampening) · g   (later steps)
/// d ← g + momentum · v  (nesterov)  or  v  (momentum)  or  g  (none)
/// w ← w − learning_rate · d
/// ```
///
/// Without dampening the first step's `v = momentum · 0 + g` is the same as `v ← g`, which
/// is how it is computed (bit for bit what initlab always did).
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    /// Step size.
    pub learning_rate: f64,
    /// Momentum μ; 0 means plain SGD.
    pub momentum: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Dampening of the gradient in the velocity (after the first step); 0 in PyTorch's
    /// default.
    pub dampening: f64,
    /// Nesterov momentum (needs momentum > 0 and no dampening, as in PyTorch).
    pub nesterov: bool,
    velocity: Vec<ParamList<T>>,
    steps: u64,
}

impl<T: Float> Sgd<T> {
    /// Plain SGD with the given learning rate.
    pub fn new(learning_rate: f64) -> Self {
        Self::with(learning_rate, 0.0, 0.0)
    }

    /// SGD with momentum and weight decay.
    pub fn with(learning_rate: f64, momentum: f64, weight_decay: f64) -> Self {
        Sgd {
            learning_rate,
            momentum,
            weight_decay,
            dampening: 0.0,
            nesterov: false,
            velocity: Vec::new(),
            steps: 0,
        }
    }

    /// Checks the hyper-parameters as `torch.optim.SGD` does (messages name the TOML keys).
    pub fn validate(&self) -> Result<(), String> {
        check_range("learning_rate", self.learning_rate, 0.0, f64::INFINITY)?;
        check_range("momentum", self.momentum, 0.0, f64::INFINITY)?;
        check_range("weight_decay", self.weight_decay, 0.0, f64::INFINITY)?;
        check_range("dampening", self.dampening, 0.0, 1.0 + f64::EPSILON)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(
                "training.optimizer.nesterov = true needs momentum > 0 and dampening = 0 \
                 (as torch.optim.SGD)"
                    .into(),
            );
        }
        Ok(())
    }

    /// Makes the velocity buffers for `params` now (if momentum is used), so that no step
    /// allocates. [`crate::nn::train()`] calls it before training.
    pub fn prepare<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
        if self.momentum != 0.0 && self.velocity.is_empty() {
            self.velocity.push(ParamList::zeros_like(params));
        }
    }

    /// Applies one update to `params` from `grads`, on the calling thread.
    pub fn step<P, G>(&mut self, params: &mut P, grads: &G)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized,
    {
        self.step_threaded(params, grads, 1);
    }

    /// [`Sgd::step`] on up to `threads` threads (call it inside a rayon pool of that many):
    /// see [`update_tensors`]. Each parameter gets the arithmetic of [`Sgd::step`], so the
    /// result is the same bit for bit.
    pub fn step_threaded<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized,
    {
        self.prepare(params);
        let first = self.steps == 0;
        self.steps += 1;
        let rates = Rates::new(self.learning_rate, self.weight_decay);
        if self.momentum == 0.0 {
            update_tensors(params, grads, &mut [], threads, &Plain(rates));
            return;
        }
        let rule = Momentum {
            rates,
            mu: T::of(self.momentum),
            keep: T::of(1.0 - self.dampening),
            restart: first && self.dampening != 0.0,
            nesterov: self.nesterov,
        };
        update_tensors(params, grads, &mut self.velocity, threads, &rule);
    }
}

/// The learning rate and weight decay of one tensor's update, in `T`, with the `f64`
/// values they came from (to rescale them for a tensor with its own multiplier).
#[derive(Clone, Copy)]
struct Rates<T> {
    lr: T,
    wd: T,
    learning_rate: f64,
    weight_decay: f64,
}

impl<T: Float> Rates<T> {
    fn new(learning_rate: f64, weight_decay: f64) -> Self {
        Rates {
            lr: T::of(learning_rate),
            wd: T::of(weight_decay),
            learning_rate,
            weight_decay,
        }
    }

    fn scaled(&self, m: f64) -> Self {
        Rates::new(self.learning_rate * m, self.weight_decay / m)
    }
}

/// Plain SGD's update (no momentum).
struct Plain<T>(Rates<T>);

impl<T: Float> Update<T> for Plain<T> {
    fn apply(&self, w: &mut [T], g: &[T], _: &mut [T], _: &mut [T]) {
        let Rates { lr, wd, .. } = self.0;
        if wd == T::zero() {
            for (w, &g) in w.iter_mut().zip(g) {
                *w = *w - lr * g;
            }
        } else {
            for (w, &g) in w.iter_mut().zip(g) {
                *w = *w - lr * (g + wd * *w);
            }
        }
    }

    fn scaled(&self, m: f64) -> Self {
        Plain(self.0.scaled(m))
    }
}

/// The momentum update's constants for one step.
struct Momentum<T> {
    rates: Rates<T>,
    mu: T,
    /// 1 − dampening.
    keep: T,
    /// The first step with dampening: v ← g (PyTorch's fresh buffer).
    restart: bool,
    nesterov: bool,
}

impl<T: Float> Update<T> for Momentum<T> {
    fn scaled(&self, m: f64) -> Self {
        Momentum {
            rates: self.rates.scaled(m),
            ..*self
        }
    }

    fn apply(&self, w: &mut [T], g: &[T], v: &mut [T], _: &mut [T]) {
        let Momentum {
            rates: Rates { lr, wd, .. },
            mu,
            keep,
            restart,
            nesterov,
        } = *self;
        for ((w, &g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
            let g = g + wd * *w;
            *v = if restart {
                g
            } else if keep == T::one() {
                mu * *v + g
            } else {
                mu * *v + keep * g
            };
            let d = if nesterov { g + mu * *v } else { *v };
            *w = *w - lr * d;
        }
    }
}
