//! Stochastic gradient descent: the only code that changes weights after initialization.

use std::sync::Mutex;

use super::float::{DenormalMode, Float};
use super::mlp::{Gradients, Mlp};

/// Parameters per work item of [`Sgd::step_threaded`].
const PAR_BLOCK: usize = 1 << 15;

/// SGD with optional momentum and weight decay, with PyTorch's semantics:
///
/// ```text
/// g ← g + weight_decay · w          (if weight_decay ≠ 0; biases included, as in PyTorch)
/// v ← momentum · v + g              (if momentum ≠ 0; v starts at 0, so the first v = g)
/// w ← w − learning_rate · v         (v = g when momentum = 0)
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    /// Step size.
    pub learning_rate: f64,
    /// Momentum μ; 0 means plain SGD.
    pub momentum: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    velocity: Option<Gradients<T>>,
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
            velocity: None,
        }
    }

    /// Makes the velocity buffers for `mlp` now (if momentum is used), so that no step
    /// allocates. [`crate::nn::train()`] calls it before training.
    pub fn prepare(&mut self, mlp: &Mlp<T>) {
        if self.momentum != 0.0 && self.velocity.is_none() {
            self.velocity = Some(Gradients::zeros_like(mlp));
        }
    }

    /// Applies one update to `mlp` from `grads`. The velocity buffers are created on the
    /// first step with momentum; later steps allocate nothing.
    pub fn step(&mut self, mlp: &mut Mlp<T>, grads: &Gradients<T>) {
        let lr = T::of(self.learning_rate);
        let mu = T::of(self.momentum);
        let wd = T::of(self.weight_decay);
        if self.momentum == 0.0 {
            for (layer, grad) in mlp.layers.iter_mut().zip(&grads.layers) {
                update_plain(layer.weight.as_slice_mut(), grad.weight.as_slice(), lr, wd);
                update_plain(layer.bias.as_slice_mut(), grad.bias.as_slice(), lr, wd);
            }
            return;
        }
        let velocity = self
            .velocity
            .get_or_insert_with(|| Gradients::zeros_like(mlp));
        for ((layer, grad), vel) in mlp
            .layers
            .iter_mut()
            .zip(&grads.layers)
            .zip(velocity.layers.iter_mut())
        {
            update_momentum(
                layer.weight.as_slice_mut(),
                grad.weight.as_slice(),
                vel.weight.as_slice_mut(),
                lr,
                mu,
                wd,
            );
            update_momentum(
                layer.bias.as_slice_mut(),
                grad.bias.as_slice(),
                vel.bias.as_slice_mut(),
                lr,
                mu,
                wd,
            );
        }
    }
}

impl<T: Float> Sgd<T> {
    /// [`Sgd::step`] on `threads` threads (call it inside a rayon pool of that many): each
    /// layer's weights are cut into blocks of 32,768 values and its bias is one more block;
    /// the threads take blocks one at a time from a shared queue. Each parameter gets the
    /// arithmetic of [`Sgd::step`], so the result is the same bit for bit. A network of fewer
    /// than 65,536 parameters is updated on the calling thread.
    pub fn step_threaded(&mut self, mlp: &mut Mlp<T>, grads: &Gradients<T>, threads: usize) {
        if threads < 2 || mlp.parameter_count() < 2 * PAR_BLOCK {
            self.step(mlp, grads);
            return;
        }
        self.prepare(mlp);
        let lr = T::of(self.learning_rate);
        let mu = T::of(self.momentum);
        let wd = T::of(self.weight_decay);
        let plain = self.momentum == 0.0;
        let mut velocity = self.velocity.as_mut().map(|v| v.layers.iter_mut());
        let blocks = mlp
            .layers
            .iter_mut()
            .zip(&grads.layers)
            .flat_map(move |(layer, grad)| {
                let vel = velocity.as_mut().and_then(|v| v.next());
                let (v_weight, v_bias) = match vel {
                    Some(v) => (v.weight.as_slice_mut(), v.bias.as_slice_mut()),
                    None => (None, None),
                };
                let (w, g) = slices(layer.weight.as_slice_mut(), grad.weight.as_slice());
                let mut v_chunks = v_weight.map(|v| v.chunks_mut(PAR_BLOCK));
                let weights = w
                    .chunks_mut(PAR_BLOCK)
                    .zip(g.chunks(PAR_BLOCK))
                    .map(move |(w, g)| (w, g, v_chunks.as_mut().and_then(|c| c.next())));
                let (b, gb) = slices(layer.bias.as_slice_mut(), grad.bias.as_slice());
                weights.chain(std::iter::once((b, gb, v_bias)))
            });
        let queue = Mutex::new(blocks);
        let mode = DenormalMode::current();
        let work = || {
            let _mode = mode.enter();
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some((w, g, v)) = next else { break };
                if plain {
                    update_plain(Some(w), Some(g), lr, wd);
                } else {
                    update_momentum(Some(w), Some(g), v, lr, mu, wd);
                }
            }
        };
        rayon::join(work, work);
    }
}

fn slices<'a, T>(w: Option<&'a mut [T]>, g: Option<&'a [T]>) -> (&'a mut [T], &'a [T]) {
    let w = w.expect("parameters are contiguous");
    let g = g.expect("gradients are contiguous");
    assert_eq!(w.len(), g.len(), "parameter and gradient shapes differ");
    (w, g)
}

fn update_plain<T: Float>(w: Option<&mut [T]>, g: Option<&[T]>, lr: T, wd: T) {
    let (w, g) = slices(w, g);
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

fn update_momentum<T: Float>(
    w: Option<&mut [T]>,
    g: Option<&[T]>,
    v: Option<&mut [T]>,
    lr: T,
    mu: T,
    wd: T,
) {
    let (w, g) = slices(w, g);
    let v = v.expect("velocity is contiguous");
    for ((w, &g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
        let g = g + wd * *w;
        *v = mu * *v + g;
        *w = *w - lr * *v;
    }
}
