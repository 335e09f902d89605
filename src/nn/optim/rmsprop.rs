//! RMSprop, with `torch.optim.RMSprop`'s semantics.

use super::{ParamList, ParamSet, Update, check_range, update_tensors};
use crate::nn::float::Float;

/// RMSprop (Tieleman & Hinton 2012) as `torch.optim.RMSprop` computes it (`foreach=False`,
/// not centered):
///
/// ```text
/// g ← g + weight_decay · w                  (if weight_decay ≠ 0)
/// s ← α · s + (1 − α) · g²                  (s starts at 0)
/// d ← g / (√s + eps)
/// b ← momentum · b + d;  w ← w − lr · b     (momentum > 0; b starts at 0)
/// w ← w − lr · d                            (momentum = 0)
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp<T> {
    /// Step size.
    pub learning_rate: f64,
    /// α: decay of the mean square (PyTorch's default 0.99).
    pub alpha: f64,
    /// Added to the root mean square.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Momentum of the scaled step; 0 for none.
    pub momentum: f64,
    /// [mean square, momentum buffer (with momentum)], made by `prepare`.
    state: Vec<ParamList<T>>,
}

impl<T: Float> RmsProp<T> {
    /// RMSprop with PyTorch's defaults: α = 0.99, eps = 1e-8, no decay, no momentum.
    pub fn new(learning_rate: f64) -> Self {
        RmsProp {
            learning_rate,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            state: Vec::new(),
        }
    }

    /// Checks the hyper-parameters as `torch.optim.RMSprop` does.
    pub fn validate(&self) -> Result<(), String> {
        check_range("learning_rate", self.learning_rate, 0.0, f64::INFINITY)?;
        check_range("alpha", self.alpha, 0.0, 1.0 + f64::EPSILON)?;
        check_range("eps", self.eps, 0.0, f64::INFINITY)?;
        check_range("weight_decay", self.weight_decay, 0.0, f64::INFINITY)?;
        check_range("momentum", self.momentum, 0.0, f64::INFINITY)
    }

    /// Makes the state for `params` now, so that no step allocates.
    pub fn prepare<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
        if self.state.is_empty() {
            self.state.push(ParamList::zeros_like(params));
            if self.momentum != 0.0 {
                self.state.push(ParamList::zeros_like(params));
            }
        }
    }

    /// Applies one update on up to `threads` threads (see [`update_tensors`]).
    pub fn step_threaded<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized,
    {
        self.prepare(params);
        let rule = RmsRule::new(self, self.learning_rate, self.weight_decay);
        update_tensors(params, grads, &mut self.state, threads, &rule);
    }
}

/// One step's constants.
struct RmsRule<T> {
    /// The learning rate and weight decay these came from (to remake them for a tensor with
    /// its own learning-rate multiplier), and α, eps, momentum.
    from: [f64; 5],
    lr: T,
    alpha: T,
    one_minus_alpha: T,
    eps: T,
    wd: T,
    momentum: T,
    with_momentum: bool,
}

impl<T: Float> RmsRule<T> {
    fn new(o: &RmsProp<T>, learning_rate: f64, weight_decay: f64) -> Self {
        Self::with([learning_rate, weight_decay, o.alpha, o.eps, o.momentum])
    }

    fn with(from: [f64; 5]) -> Self {
        let [learning_rate, weight_decay, alpha, eps, momentum] = from;
        RmsRule {
            from,
            lr: T::of(learning_rate),
            alpha: T::of(alpha),
            one_minus_alpha: T::of(1.0 - alpha),
            eps: T::of(eps),
            wd: T::of(weight_decay),
            momentum: T::of(momentum),
            with_momentum: momentum != 0.0,
        }
    }
}

impl<T: Float> Update<T> for RmsRule<T> {
    fn scaled(&self, m: f64) -> Self {
        let [lr, wd, alpha, eps, momentum] = self.from;
        Self::with([lr * m, wd / m, alpha, eps, momentum])
    }

    fn apply(&self, w: &mut [T], g: &[T], s: &mut [T], b: &mut [T]) {
        for (i, (w, &g)) in w.iter_mut().zip(g).enumerate() {
            let g = if self.wd == T::zero() {
                g
            } else {
                g + self.wd * *w
            };
            s[i] = s[i] * self.alpha + self.one_minus_alpha * g * g;
            let avg = s[i].sqrt() + self.eps;
            if self.with_momentum {
                b[i] = b[i] * self.momentum + g / avg;
                *w = *w + (-self.lr) * b[i];
            } else {
                *w = *w + (-self.lr) * g / avg;
            }
        }
    }
}
