//! Adam and AdamW, with `torch.optim.Adam` / `torch.optim.AdamW`'s semantics.

use super::{ParamList, ParamSet, Update, check_range, update_tensors};
use crate::nn::float::Float;

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), exactly as PyTorch's
/// single-tensor implementation (`foreach=False`) computes them, at step t = 1, 2, …:
///
/// ```text
/// w ← w · (1 − lr · weight_decay)                  (AdamW: decoupled decay, first)
/// g ← g + weight_decay · w                         (Adam: L2 in the gradient)
/// m ← m + (1 − β₁) · (g − m)                       (torch's lerp; m starts at 0)
/// v ← β₂ · v + (1 − β₂) · g²                       (v starts at 0)
/// w ← w − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)
/// ```
///
/// eps is added after the square root and the bias correction, as in PyTorch (not inside
/// the square root, as in some other libraries).
#[derive(Clone, Debug)]
pub struct Adam<T> {
    /// Step size.
    pub learning_rate: f64,
    /// β₁, β₂: decay of the first and second moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// L2 penalty (Adam) or decoupled decay rate (AdamW).
    pub weight_decay: f64,
    /// AdamW's decoupled weight decay instead of Adam's L2 gradient term.
    pub decoupled: bool,
    /// [first moments, second moments], made by `prepare`.
    moments: Vec<ParamList<T>>,
    steps: u64,
}

impl<T: Float> Adam<T> {
    /// Adam with PyTorch's defaults for everything but the learning rate: β = (0.9, 0.999),
    /// eps = 1e-8, no weight decay.
    pub fn new(learning_rate: f64) -> Self {
        Adam {
            learning_rate,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            moments: Vec::new(),
            steps: 0,
        }
    }

    /// AdamW with PyTorch's defaults (β = (0.9, 0.999), eps = 1e-8, weight decay 0.01).
    pub fn adamw(learning_rate: f64) -> Self {
        Adam {
            weight_decay: 0.01,
            decoupled: true,
            ..Adam::new(learning_rate)
        }
    }

    /// Checks the hyper-parameters as `torch.optim.Adam` does (messages name the TOML keys).
    pub fn validate(&self) -> Result<(), String> {
        check_range("learning_rate", self.learning_rate, 0.0, f64::INFINITY)?;
        check_range("betas[0]", self.betas.0, 0.0, 1.0)?;
        check_range("betas[1]", self.betas.1, 0.0, 1.0)?;
        check_range("eps", self.eps, 0.0, f64::INFINITY)?;
        check_range("weight_decay", self.weight_decay, 0.0, f64::INFINITY)
    }

    /// Steps taken so far (t of the last step).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Makes both moment buffers for `params` now, so that no step allocates.
    pub fn prepare<P: ParamSet<T> + ?Sized>(&mut self, params: &P) {
        if self.moments.is_empty() {
            self.moments.push(ParamList::zeros_like(params));
            self.moments.push(ParamList::zeros_like(params));
        }
    }

    /// Applies one update on up to `threads` threads (see [`update_tensors`]).
    pub fn step_threaded<P, G>(&mut self, params: &mut P, grads: &G, threads: usize)
    where
        P: ParamSet<T> + ?Sized,
        G: ParamSet<T> + ?Sized,
    {
        self.prepare(params);
        self.steps += 1;
        let rule = AdamRule::new(self, self.learning_rate, self.weight_decay);
        update_tensors(params, grads, &mut self.moments, threads, &rule);
    }
}

/// One step's constants.
struct AdamRule<T> {
    /// The learning rate, weight decay, betas, eps, decoupling and step these came from
    /// (to remake them for a tensor with its own learning-rate multiplier).
    from: (f64, f64, (f64, f64), f64, bool, u64),
    /// 1 − lr · weight_decay (AdamW).
    decay: T,
    /// The L2 coefficient added to the gradient (Adam), 0 for AdamW.
    l2: T,
    decoupled: bool,
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    step_size: T,
    bias_correction2_sqrt: T,
    eps: T,
}

impl<T: Float> AdamRule<T> {
    /// Step `adam.steps()`'s constants with this learning rate and weight decay.
    fn new(adam: &Adam<T>, learning_rate: f64, weight_decay: f64) -> Self {
        Self::with(
            learning_rate,
            weight_decay,
            adam.betas,
            adam.eps,
            adam.decoupled,
            adam.steps,
        )
    }

    fn with(
        learning_rate: f64,
        weight_decay: f64,
        (beta1, beta2): (f64, f64),
        eps: f64,
        decoupled: bool,
        steps: u64,
    ) -> Self {
        let t = steps as f64;
        // The scalars as PyTorch computes them, in double precision.
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        AdamRule {
            from: (
                learning_rate,
                weight_decay,
                (beta1, beta2),
                eps,
                decoupled,
                steps,
            ),
            decay: T::of(1.0 - learning_rate * weight_decay),
            l2: T::of(if decoupled { 0.0 } else { weight_decay }),
            decoupled: decoupled && weight_decay != 0.0,
            one_minus_beta1: T::of(1.0 - beta1),
            beta2: T::of(beta2),
            one_minus_beta2: T::of(1.0 - beta2),
            step_size: T::of(learning_rate / bias_correction1),
            bias_correction2_sqrt: T::of(bias_correction2.sqrt()),
            eps: T::of(eps),
        }
    }
}

impl<T: Float> Update<T> for AdamRule<T> {
    fn scaled(&self, m: f64) -> Self {
        let (lr, wd, betas, eps, decoupled, steps) = self.from;
        Self::with(lr * m, wd / m, betas, eps, decoupled, steps)
    }

    fn apply(&self, w: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
        for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            if self.decoupled {
                *w = *w * self.decay;
            }
            let g = if self.l2 == T::zero() {
                g
            } else {
                g + self.l2 * *w
            };
            *m = *m + self.one_minus_beta1 * (g - *m);
            *v = *v * self.beta2 + self.one_minus_beta2 * g * g;
            let denom = v.sqrt() / self.bias_correction2_sqrt + self.eps;
            *w = *w + (-self.step_size) * *m / denom;
        }
    }
}
