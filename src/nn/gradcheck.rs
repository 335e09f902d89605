//! Finite-difference gradient checks, for a course to test backprop with: central
//! differences `(L(θ + h) − L(θ − h)) / 2h` against the analytic gradient, per parameter
//! tensor, with the norm-wise relative error `‖g − n‖ / (‖g‖ + ‖n‖)` and the largest
//! absolute error (the CS231n method; initlab's own backprop is tested with it).
//!
//! - [`check_mlp`]: any [`Mlp`] in `f64`, every layer's weight and bias;
//! - [`check_layer`]: a student's own layer through the small [`Layer`] trait: its
//!   parameters and its input gradient, under the loss `L = Σ R ⊙ y` for a fixed random
//!   `R` (so dL/dy = R).
//!
//! In `f64` with `h = 1e-5`, a correct gradient gives relative errors near 1e-9; an error
//! above 1e-6 means a bug (or a kink of ReLU hit by the perturbation).

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Gradients, Mlp, TargetsView, Workspace};

/// The step of the central differences.
pub const STEP: f64 = 1e-5;

/// The error of one parameter tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorError {
    /// Which tensor, e.g. `layer 2 weight`.
    pub name: String,
    /// ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖) (0 when both vanish).
    pub relative: f64,
    /// max |analytic − numeric|.
    pub max_abs: f64,
}

/// The result of a gradient check: one entry per tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// Every tensor checked.
    pub tensors: Vec<TensorError>,
}

impl GradCheck {
    /// The largest relative error.
    pub fn worst_relative(&self) -> f64 {
        self.tensors.iter().map(|t| t.relative).fold(0.0, f64::max)
    }

    /// Whether every tensor is within both tolerances (relative and absolute).
    pub fn passes(&self, relative: f64, absolute: f64) -> bool {
        self.tensors
            .iter()
            .all(|t| t.relative < relative && t.max_abs < absolute)
    }
}

/// Compares an analytic gradient with the numeric one.
pub fn compare(name: impl Into<String>, analytic: &[f64], numeric: &[f64]) -> TensorError {
    assert_eq!(analytic.len(), numeric.len(), "gradient lengths");
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let diff: Vec<f64> = analytic.iter().zip(numeric).map(|(a, n)| a - n).collect();
    let denominator = norm(analytic) + norm(numeric);
    TensorError {
        name: name.into(),
        relative: if denominator == 0.0 {
            0.0
        } else {
            norm(&diff) / denominator
        },
        max_abs: diff.iter().map(|d| d.abs()).fold(0.0, f64::max),
    }
}

/// Central differences of `loss` with respect to each of `params` (restored after).
pub fn numeric_gradient(params: &mut [f64], mut loss: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
    (0..params.len())
        .map(|i| {
            let keep = params[i];
            params[i] = keep + STEP;
            let plus = loss(params);
            params[i] = keep - STEP;
            let minus = loss(params);
            params[i] = keep;
            (plus - minus) / (2.0 * STEP)
        })
        .collect()
}

/// Checks the backprop of `mlp` on the batch `x` (rows, in) with `targets`: the gradient
/// of the mean loss for every layer's weight and bias.
///
/// ```
/// use initlab::nn::{Activation, Init, Loss, Mlp, TargetsView};
/// use initlab::nn::gradcheck::check_mlp;
/// use ndarray::array;
/// let mut mlp = Mlp::<f64>::new(&[2, 3, 1], &[Activation::Tanh], Loss::BinaryCrossEntropy);
/// mlp.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 0);
/// let x = array![[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8]];
/// let report = check_mlp(&mlp, x.view(), TargetsView::Classes(&[1, 0, 1]));
/// assert!(report.passes(1e-6, 1e-8), "{report:?}");
/// ```
pub fn check_mlp(mlp: &Mlp<f64>, x: ArrayView2<f64>, targets: TargetsView<f64>) -> GradCheck {
    let rows = x.nrows();
    let mut ws = Workspace::new(mlp, rows.max(1));
    let mut grads = Gradients::zeros_like(mlp);
    mlp.loss_and_gradients(x, targets, &mut ws, &mut grads);
    let mean_loss = |m: &Mlp<f64>, ws: &mut Workspace<f64>| {
        let logits = m.forward(x, ws);
        m.loss.evaluate(logits, targets, None, 1.0) / rows as f64
    };
    let mut tensors = Vec::new();
    let mut probe = mlp.clone();
    for l in 0..mlp.layers.len() {
        for weight in [true, false] {
            let mut params: Vec<f64> = if weight {
                probe.layers[l].weight.iter().copied().collect()
            } else {
                probe.layers[l].bias.to_vec()
            };
            let numeric = numeric_gradient(&mut params, |p| {
                if weight {
                    let shape = probe.layers[l].weight.raw_dim();
                    probe.layers[l].weight =
                        Array2::from_shape_vec(shape, p.to_vec()).expect("same shape");
                } else {
                    probe.layers[l].bias = p.to_vec().into();
                }
                mean_loss(&probe, &mut ws)
            });
            // Restore the tensor the closure left at its last perturbation.
            probe.layers[l] = mlp.layers[l].clone();
            let analytic: Vec<f64> = if weight {
                grads.layers[l].weight.iter().copied().collect()
            } else {
                grads.layers[l].bias.to_vec()
            };
            let name = format!("layer {} {}", l + 1, if weight { "weight" } else { "bias" });
            tensors.push(compare(name, &analytic, &numeric));
        }
    }
    GradCheck { tensors }
}

/// A layer a student writes: a differentiable map of a batch `x` (rows, in) to `y`
/// (rows, out) with flat parameters.
pub trait Layer {
    /// The parameters, flattened in the layer's own order.
    fn parameters(&self) -> Vec<f64>;
    /// Sets the parameters (same order and length as [`Layer::parameters`]).
    fn set_parameters(&mut self, parameters: &[f64]);
    /// `y = f(x)`, (rows, in) → (rows, out).
    fn forward(&self, x: ArrayView2<f64>) -> Array2<f64>;
    /// Given `x` and dL/dy (rows, out), returns dL/dx (rows, in) and dL/dparameters (flat,
    /// in the order of [`Layer::parameters`]).
    fn backward(&self, x: ArrayView2<f64>, grad_output: ArrayView2<f64>)
    -> (Array2<f64>, Vec<f64>);
}

/// Checks a [`Layer`]'s backward pass on the batch `x` under the loss `L = Σ R ⊙ y`, `R`
/// standard normal from `seed`: its parameter gradient and its input gradient.
///
/// ```
/// use initlab::nn::gradcheck::{Layer, check_layer};
/// use ndarray::{Array2, ArrayView2, array};
/// /// y = x · w (one weight per column), a student's layer.
/// struct Scale { w: Vec<f64> }
/// impl Layer for Scale {
///     fn parameters(&self) -> Vec<f64> { self.w.clone() }
///     fn set_parameters(&mut self, p: &[f64]) { self.w = p.to_vec(); }
///     fn forward(&self, x: ArrayView2<f64>) -> Array2<f64> {
///         Array2::from_shape_fn(x.dim(), |(r, c)| x[[r, c]] * self.w[c])
///     }
///     fn backward(&self, x: ArrayView2<f64>, g: ArrayView2<f64>) -> (Array2<f64>, Vec<f64>) {
///         let dx = Array2::from_shape_fn(x.dim(), |(r, c)| g[[r, c]] * self.w[c]);
///         let dw = (0..self.w.len()).map(|c| (0..x.nrows()).map(|r| g[[r, c]] * x[[r, c]]).sum()).collect();
///         (dx, dw)
///     }
/// }
/// let x = array![[1.0, 2.0], [3.0, -1.0]];
/// let report = check_layer(&mut Scale { w: vec![0.5, -2.0] }, x.view(), 0);
/// assert!(report.passes(1e-6, 1e-6), "{report:?}");
/// ```
pub fn check_layer<L: Layer>(layer: &mut L, x: ArrayView2<f64>, seed: u64) -> GradCheck {
    let y = layer.forward(x);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let r = Array2::from_shape_simple_fn(y.dim(), || StandardNormal.sample(&mut rng));
    let (dx, dparams) = layer.backward(x, r.view());
    let original = layer.parameters();
    let mut params = original.clone();
    let numeric_params = numeric_gradient(&mut params, |p| {
        layer.set_parameters(p);
        (&layer.forward(x) * &r).sum()
    });
    layer.set_parameters(&original);
    let mut inputs: Vec<f64> = x.iter().copied().collect();
    let numeric_inputs = numeric_gradient(&mut inputs, |v| {
        let xv = ArrayView2::from_shape(x.dim(), v).expect("same shape");
        (&layer.forward(xv) * &r).sum()
    });
    let dx: Vec<f64> = dx.iter().copied().collect();
    GradCheck {
        tensors: vec![
            compare("parameters", &dparams, &numeric_params),
            compare("input", &dx, &numeric_inputs),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Init, Loss};
    use ndarray::array;

    #[test]
    fn a_wrong_gradient_is_caught() {
        struct Square {
            w: f64,
            wrong: bool,
        }
        impl Layer for Square {
            fn parameters(&self) -> Vec<f64> {
                vec![self.w]
            }
            fn set_parameters(&mut self, p: &[f64]) {
                self.w = p[0];
            }
            fn forward(&self, x: ArrayView2<f64>) -> Array2<f64> {
                x.mapv(|v| self.w * v * v)
            }
            fn backward(&self, x: ArrayView2<f64>, g: ArrayView2<f64>) -> (Array2<f64>, Vec<f64>) {
                let factor = if self.wrong { 1.0 } else { 2.0 }; // d(w x²)/dx = 2 w x
                let dx = Array2::from_shape_fn(x.dim(), |i| g[i] * factor * self.w * x[i]);
                let dw = x.iter().zip(g.iter()).map(|(x, g)| g * x * x).sum();
                (dx, vec![dw])
            }
        }
        let x = array![[1.0, -2.0], [0.5, 3.0]];
        assert!(
            check_layer(
                &mut Square {
                    w: 1.5,
                    wrong: false
                },
                x.view(),
                1
            )
            .passes(1e-7, 1e-6)
        );
        let bad = check_layer(
            &mut Square {
                w: 1.5,
                wrong: true,
            },
            x.view(),
            1,
        );
        assert!(!bad.passes(1e-3, 1e-3));
        assert!(bad.tensors[0].relative < 1e-8, "parameters are right");
        assert!(bad.tensors[1].relative > 0.1, "{bad:?}");
    }

    #[test]
    fn every_layer_of_a_deep_mlp_is_checked() {
        let mut mlp = Mlp::<f64>::new(
            &[3, 4, 3, 2],
            &[Activation::Tanh; 2],
            Loss::SoftmaxCrossEntropy,
        );
        mlp.initialize(
            &"normal:mean=0:std=0.8".parse::<Init>().unwrap(),
            Some(&"normal:mean=0.1:std=0.3".parse::<Init>().unwrap()),
            3,
        );
        let x = array![[0.1, -0.5, 0.9], [1.2, 0.3, -0.7]];
        let report = check_mlp(&mlp, x.view(), TargetsView::Classes(&[0, 1]));
        assert_eq!(report.tensors.len(), 6);
        assert!(report.worst_relative() < 1e-7, "{report:?}");
        // A sabotaged gradient: compare against zeros.
        let e = compare("w", &[1.0, 2.0], &[0.0, 0.0]);
        assert_eq!(e.relative, 1.0);
    }
}
