//! A residual block (He et al. 2016): `y = x + α · F(x)`, where the branch F is a short
//! sequence of layers, and `y = P(x) + α · F(x)` with a dense projection P when F changes the
//! width.
//!
//! α is either fixed (1 for a plain ResNet block) or a learnable scalar: ReZero (Bachlechner
//! et al. 2020) and SkipInit (De et al. 2020) start it at 0, so that every block starts as
//! the identity. Backward, by the chain rule through the sum:
//!
//! ```text
//! dF  = α · dy                    (into the branch's backward pass)
//! dα  = Σ dy ⊙ F(x)               (learnable α)
//! dx  = dx_F + dy                 (identity skip)   or   dx_F + dy · W_P   (projection)
//! ```

use ndarray::{Array1, Array2, ArrayView2};

use super::batch_norm::Mode;
use super::dense::Dense;
use super::float::Float;
use super::layer::{Layer, LayerCache};
use super::pieces::{self, Cost};

/// The branch scale of a residual block.
#[derive(Clone, Debug, PartialEq)]
pub enum Alpha<T> {
    /// A constant (1 for the plain block: then no multiplication happens at all).
    Fixed(f64),
    /// A learnable scalar, a parameter tensor of one value.
    Learnable(Array1<T>),
}

/// A residual block's layers and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Residual<T> {
    /// The branch F, applied in order (it may not contain another residual block).
    pub body: Vec<Layer<T>>,
    /// The dense projection P of the skip path, only when F's output width differs from its
    /// input's.
    pub projection: Option<Dense<T>>,
    /// The branch scale α.
    pub alpha: Alpha<T>,
}

/// What [`Residual::forward`] keeps for [`Residual::backward`].
#[derive(Clone, Debug, PartialEq)]
pub struct ResidualCache<T> {
    /// The input, (batch, in).
    pub x: Array2<T>,
    /// The branch's output F(x), (batch, out).
    pub branch: Array2<T>,
    /// Each branch layer's cache.
    pub body: Vec<LayerCache<T>>,
}

impl<T: Float> Residual<T> {
    /// α's current value.
    pub fn alpha_value(&self) -> T {
        match &self.alpha {
            Alpha::Fixed(a) => T::of(*a),
            Alpha::Learnable(a) => a[0],
        }
    }

    /// Whether the branch output is scaled (α learnable, or fixed ≠ 1).
    pub fn scales_branch(&self) -> bool {
        !matches!(self.alpha, Alpha::Fixed(a) if a == 1.0)
    }

    /// Number of parameter tensors: the body's, the projection's two, α.
    pub fn tensor_count(&self) -> usize {
        self.body.iter().map(Layer::tensor_count).sum::<usize>()
            + if self.projection.is_some() { 2 } else { 0 }
            + usize::from(matches!(self.alpha, Alpha::Learnable(_)))
    }

    /// Reference forward pass: F layer by layer, then the skip and the sum.
    ///
    /// x: (batch, in) → y: (batch, out), and the cache for [`Residual::backward`].
    pub fn forward(&self, x: ArrayView2<T>, mode: Mode) -> (Array2<T>, ResidualCache<T>) {
        let mut h = x.to_owned();
        let mut body = Vec::with_capacity(self.body.len());
        for layer in &self.body {
            let (next, cache) = layer.forward(h.view(), mode);
            body.push(cache);
            h = next;
        }
        let mut y = match &self.projection {
            Some(p) => p.forward(x).0,
            None => x.to_owned(),
        };
        self.add_branch(y.view_mut(), h.view(), 1);
        let cache = ResidualCache {
            x: x.to_owned(),
            branch: h,
            body,
        };
        (y, cache)
    }

    /// `y += α · branch` (or `y += branch` for α fixed at 1), element by element, in row
    /// pieces on up to `threads` threads.
    pub(crate) fn add_branch(
        &self,
        y: ndarray::ArrayViewMut2<T>,
        branch: ArrayView2<T>,
        threads: usize,
    ) {
        let alpha = self.alpha_value();
        let scale = self.scales_branch();
        pieces::rows(threads, Cost::Light, (y, branch), |(mut y, branch)| {
            y.zip_mut_with(&branch, |y, &f| {
                *y = if scale { *y + alpha * f } else { *y + f }
            });
        });
    }

    /// Reference backward pass: `(dx, parameter gradients)` from dy, (batch, out); the
    /// gradients in the block's tensor order (body, projection, α).
    pub fn backward(
        &self,
        dy: ArrayView2<T>,
        cache: &ResidualCache<T>,
    ) -> (Array2<T>, Vec<Vec<T>>) {
        let alpha = self.alpha_value();
        let mut d = if self.scales_branch() {
            dy.mapv(|v| alpha * v)
        } else {
            dy.to_owned()
        };
        let mut body_grads = Vec::new();
        for (layer, layer_cache) in self.body.iter().zip(&cache.body).rev() {
            let (dx, grads) = layer.backward(d.view(), layer_cache);
            body_grads.push(grads);
            d = dx;
        }
        let mut grads: Vec<Vec<T>> = body_grads.into_iter().rev().flatten().collect();
        let dx = match &self.projection {
            Some(p) => {
                let (dx_skip, dw, db) =
                    p.backward(dy, &super::dense::DenseCache { x: cache.x.clone() });
                grads.push(dw.into_raw_vec_and_offset().0);
                grads.push(db.to_vec());
                d + &dx_skip
            }
            None => d + dy,
        };
        if matches!(self.alpha, Alpha::Learnable(_)) {
            grads.push(vec![alpha_gradient(dy, cache.branch.view())]);
        }
        (dx, grads)
    }
}

/// dα = Σ dy ⊙ F(x), summed in `f64` over rows then columns.
pub(crate) fn alpha_gradient<T: Float>(dy: ArrayView2<T>, branch: ArrayView2<T>) -> T {
    let mut sum = 0.0;
    for (d, f) in dy.iter().zip(branch.iter()) {
        sum += (*d * *f).f64();
    }
    T::of(sum)
}
