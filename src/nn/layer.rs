//! The closed set of layers a [`crate::nn::Network`] is a sequence of, and what each keeps
//! between its forward and backward passes.
//!
//! | layer | file | parameters (in order) | forward |
//! |---|---|---|---|
//! | dense | `dense.rs` | weight (out, in), bias (out) | z = x·Wᵀ + b |
//! | activation | `activation.rs` | — | a = f(z) |
//! | layernorm | `layer_norm.rs` | gain, shift (n) | per row: γ ⊙ (x − μ)/σ + β |
//! | batchnorm | `batch_norm.rs` | gain, shift (n) | per feature over the batch (training) or running statistics (evaluation) |
//! | residual | `residual.rs` | the branch's, the projection's, α | x + α·F(x) |
//! | scale | here | — | y = c·x, a fixed forward multiplier (μP's readout 1/width, NTK's 1/√fan_in; see [`crate::nn::parametrization`]) |
//!
//! Each layer has two ways to run, with the same arithmetic: the allocating reference
//! [`Layer::forward`] / [`Layer::backward`] (the readable specification, `(y, cache)` and
//! `(dx, gradients)`), and `Layer::forward_into` / `Layer::backward_into` (crate-internal), which write
//! into a workspace made once so that a training step allocates nothing, and run on the
//! workspace's threads: dense layers through the matrix product, the others in row pieces, or
//! column pieces where a sum runs over the rows ([`crate::nn::pieces`]), so that no sum
//! changes order and the bits are those of one thread.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::activation::Activation;
use super::batch_norm::{BatchNorm, BatchNormCache, Mode};
use super::dense::{Dense, DenseCache, matmul_into, sum_rows_into};
use super::float::Float;
use super::gemm::GemmScratch;
use super::layer_norm::{LayerNorm, LayerNormCache};
use super::network::{Scratch, backward_sequence, forward_sequence};
use super::param::{ParamInfo, ParamKind, ParamList, ParamSet};
use super::pieces::{self, Cost};
use super::residual::{Alpha, Residual, ResidualCache, alpha_gradient};

/// One layer of a network.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer<T> {
    /// A fully connected layer, z = x·Wᵀ + b.
    Dense(Dense<T>),
    /// An element-wise non-linearity.
    Activation(Activation),
    /// Layer normalization over each row's features.
    LayerNorm(LayerNorm<T>),
    /// Batch normalization over each feature's rows.
    BatchNorm(BatchNorm<T>),
    /// A residual block around a short sequence of layers.
    Residual(Residual<T>),
    /// A fixed forward multiplier y = c·x, no parameters: how a parametrization (μP, NTK)
    /// multiplies the input of the dense layer after it (so the bias is not multiplied, as
    /// in mup's `MuReadout`). Backward: dx = c·dy.
    Scale(f64),
}

/// What a layer's reference forward pass keeps for its backward pass.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerCache<T> {
    /// The dense layer's input.
    Dense(DenseCache<T>),
    /// The activation's input z and output a (its derivative needs one of them).
    Activation {
        /// Input, (batch, n).
        z: Array2<T>,
        /// Output, (batch, n).
        a: Array2<T>,
    },
    /// LayerNorm's input and row statistics.
    LayerNorm(LayerNormCache<T>),
    /// BatchNorm's input and feature statistics.
    BatchNorm(BatchNormCache<T>),
    /// The residual block's input, branch output and the branch's caches.
    Residual(ResidualCache<T>),
    /// A scale layer keeps nothing (its derivative is its constant).
    Scale,
}

impl<T: Float> Layer<T> {
    /// The layer's kind as `layers = [...]` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Activation(_) => "activation",
            Layer::LayerNorm(_) => "layernorm",
            Layer::BatchNorm(_) => "batchnorm",
            Layer::Residual(_) => "residual",
            Layer::Scale(_) => "scale",
        }
    }

    /// A short description: `dense 4→8`, `tanh`, `layernorm 8`, `residual[dense 8→8, relu]`.
    pub fn describe(&self) -> String {
        match self {
            Layer::Dense(d) => format!("dense {}→{}", d.inputs(), d.outputs()),
            Layer::Activation(a) => a.name(),
            Layer::Scale(c) => format!("×{c}"),
            Layer::LayerNorm(n) => format!("layernorm {}", n.features()),
            Layer::BatchNorm(n) => format!("batchnorm {}", n.features()),
            Layer::Residual(r) => {
                let body: Vec<String> = r.body.iter().map(Layer::describe).collect();
                let alpha = match &r.alpha {
                    Alpha::Fixed(a) if *a == 1.0 => String::new(),
                    Alpha::Fixed(a) => format!(", α = {a}"),
                    Alpha::Learnable(a) => format!(", learnable α from {}", a[0]),
                };
                let projection = match &r.projection {
                    Some(p) => format!(", projection {}→{}", p.inputs(), p.outputs()),
                    None => String::new(),
                };
                format!("residual[{}{projection}{alpha}]", body.join(", "))
            }
        }
    }

    /// The output width for an input of `input` features.
    pub fn output_width(&self, input: usize) -> usize {
        match self {
            Layer::Dense(d) => d.outputs(),
            Layer::Activation(_) | Layer::Scale(_) => input,
            Layer::LayerNorm(n) => n.features(),
            Layer::BatchNorm(n) => n.features(),
            Layer::Residual(r) => match &r.projection {
                Some(p) => p.outputs(),
                None => r.body.iter().fold(input, |w, l| l.output_width(w)),
            },
        }
    }

    /// Number of parameter tensors.
    pub fn tensor_count(&self) -> usize {
        match self {
            Layer::Dense(_) | Layer::LayerNorm(_) | Layer::BatchNorm(_) => 2,
            Layer::Activation(_) | Layer::Scale(_) => 0,
            Layer::Residual(r) => r.tensor_count(),
        }
    }

    /// Parameter tensor `j` of this layer (see the table in the module docs for the order).
    pub fn tensor(&self, j: usize) -> &[T] {
        let values = match (self, j) {
            (Layer::Dense(d), 0) => d.weight.as_slice(),
            (Layer::Dense(d), 1) => d.bias.as_slice(),
            (Layer::LayerNorm(n), 0) => n.gain.as_slice(),
            (Layer::LayerNorm(n), 1) => n.shift.as_slice(),
            (Layer::BatchNorm(n), 0) => n.gain.as_slice(),
            (Layer::BatchNorm(n), 1) => n.shift.as_slice(),
            (Layer::Residual(r), j) => return residual_tensor(r, j),
            _ => panic!("{} has no parameter tensor {j}", self.describe()),
        };
        values.expect("parameters are contiguous")
    }

    /// Parameter tensor `j`, writable.
    pub fn tensor_mut(&mut self, j: usize) -> &mut [T] {
        let values = match (self, j) {
            (Layer::Dense(d), 0) => d.weight.as_slice_mut(),
            (Layer::Dense(d), 1) => d.bias.as_slice_mut(),
            (Layer::LayerNorm(n), 0) => n.gain.as_slice_mut(),
            (Layer::LayerNorm(n), 1) => n.shift.as_slice_mut(),
            (Layer::BatchNorm(n), 0) => n.gain.as_slice_mut(),
            (Layer::BatchNorm(n), 1) => n.shift.as_slice_mut(),
            (Layer::Residual(r), j) => return residual_tensor_mut(r, j),
            (layer, j) => panic!("{} has no parameter tensor {j}", layer.describe()),
        };
        values.expect("parameters are contiguous")
    }

    /// Tensor `j`'s name and shape, for a layer at `path` (e.g. `"3"` or `"3.body.1"`).
    pub fn info(&self, j: usize, path: &str) -> ParamInfo {
        let info = |kind, shape: &[usize]| ParamInfo {
            layer: path.to_string(),
            kind,
            shape: shape.to_vec(),
        };
        match (self, j) {
            (Layer::Dense(d), 0) => info(ParamKind::Weight, d.weight.shape()),
            (Layer::Dense(d), _) => info(ParamKind::Bias, d.bias.shape()),
            (Layer::LayerNorm(n), 0) => info(ParamKind::Gain, n.gain.shape()),
            (Layer::LayerNorm(n), _) => info(ParamKind::Shift, n.shift.shape()),
            (Layer::BatchNorm(n), 0) => info(ParamKind::Gain, n.gain.shape()),
            (Layer::BatchNorm(n), _) => info(ParamKind::Shift, n.shift.shape()),
            (Layer::Residual(r), mut j) => {
                for (i, layer) in r.body.iter().enumerate() {
                    if j < layer.tensor_count() {
                        return layer.info(j, &format!("{path}.body.{i}"));
                    }
                    j -= layer.tensor_count();
                }
                if let Some(p) = &r.projection {
                    if j < 2 {
                        let mut i = Layer::Dense(p.clone()).info(j, path);
                        i.layer = format!("{path}.projection");
                        return i;
                    }
                    j -= 2;
                }
                assert_eq!(j, 0, "residual tensor index");
                info(ParamKind::Alpha, &[1])
            }
            (Layer::Activation(_) | Layer::Scale(_), _) => {
                panic!("{} has no parameters", self.describe())
            }
        }
    }

    /// Whether every parameter (and running statistic) is finite.
    pub fn is_finite(&self) -> bool {
        let finite = |v: &[T]| v.iter().all(|x| x.is_finite());
        let own = (0..self.tensor_count()).all(|j| finite(self.tensor(j)));
        own && match self {
            Layer::BatchNorm(n) => {
                n.running_mean.iter().all(|v| v.is_finite())
                    && n.running_var.iter().all(|v| v.is_finite())
            }
            _ => true,
        }
    }

    /// Reference forward pass (allocating): x: (batch, in) → y: (batch, out), and the cache.
    pub fn forward(&self, x: ArrayView2<T>, mode: Mode) -> (Array2<T>, LayerCache<T>) {
        match self {
            Layer::Dense(d) => {
                let (y, cache) = d.forward(x);
                (y, LayerCache::Dense(cache))
            }
            Layer::Activation(a) => {
                let y = a.forward_array(x.to_owned());
                let cache = LayerCache::Activation {
                    z: x.to_owned(),
                    a: y.clone(),
                };
                (y, cache)
            }
            Layer::LayerNorm(n) => {
                let (y, cache) = n.forward(x);
                (y, LayerCache::LayerNorm(cache))
            }
            Layer::BatchNorm(n) => {
                let (y, cache) = n.forward(x, mode);
                (y, LayerCache::BatchNorm(cache))
            }
            Layer::Residual(r) => {
                let (y, cache) = r.forward(x, mode);
                (y, LayerCache::Residual(cache))
            }
            Layer::Scale(c) => {
                let c = T::of(*c);
                (x.mapv(|v| c * v), LayerCache::Scale)
            }
        }
    }

    /// Reference backward pass (allocating): from dy = dL/dy, (batch, out), the gradient
    /// with respect to the input, (batch, in), and one gradient per parameter tensor, in
    /// the layer's tensor order.
    pub fn backward(&self, dy: ArrayView2<T>, cache: &LayerCache<T>) -> (Array2<T>, Vec<Vec<T>>) {
        match (self, cache) {
            (Layer::Dense(d), LayerCache::Dense(c)) => {
                let (dx, dw, db) = d.backward(dy, c);
                (dx, vec![dw.into_raw_vec_and_offset().0, db.to_vec()])
            }
            (Layer::Activation(f), LayerCache::Activation { z, a }) => {
                let dx = if f.derivative_from_output() {
                    f.backward_array(a.view(), dy.to_owned())
                } else {
                    let mut dx = dy.as_standard_layout().into_owned();
                    let z = z.as_standard_layout();
                    f.backward_from_input(
                        z.as_slice().expect("standard layout"),
                        dx.as_slice_mut().expect("standard layout"),
                    );
                    dx
                };
                (dx, Vec::new())
            }
            (Layer::LayerNorm(n), LayerCache::LayerNorm(c)) => {
                let (dx, dg, ds) = n.backward(dy, c);
                (dx, vec![dg.to_vec(), ds.to_vec()])
            }
            (Layer::BatchNorm(n), LayerCache::BatchNorm(c)) => {
                let (dx, dg, ds) = n.backward(dy, c);
                (dx, vec![dg.to_vec(), ds.to_vec()])
            }
            (Layer::Residual(r), LayerCache::Residual(c)) => r.backward(dy, c),
            (Layer::Scale(c), LayerCache::Scale) => {
                let c = T::of(*c);
                (dy.mapv(|g| c * g), Vec::new())
            }
            _ => panic!("a {} layer was given another layer's cache", self.kind()),
        }
    }

    /// Workspace forward pass: writes the layer's output for `x` into `y` (contiguous),
    /// keeping what backward needs in `scratch`; the same arithmetic as [`Layer::forward`].
    pub(crate) fn forward_into(
        &self,
        x: ArrayView2<T>,
        mut y: ArrayViewMut2<T>,
        scratch: &mut Scratch<T>,
        mode: Mode,
        gemm: &mut GemmScratch<T>,
        threads: usize,
    ) {
        match (self, scratch) {
            (Layer::Dense(d), _) => {
                d.forward_activate_into(x, y, Activation::Identity, gemm, threads);
            }
            // Element-wise layers: each row piece (see `pieces`) gets the arithmetic of the
            // whole, so the bits do not depend on `threads`.
            (Layer::Activation(a), _) => {
                pieces::rows(threads, activation_cost(a), (x, y), |(x, mut y)| {
                    a.forward_into(contiguous(&x), contiguous_mut(&mut y));
                });
            }
            (Layer::Scale(c), _) => {
                let c = T::of(*c);
                pieces::rows(threads, Cost::Light, (x, y), |(x, mut y)| {
                    y.zip_mut_with(&x, |y, &v| *y = c * v);
                });
            }
            (Layer::LayerNorm(n), Scratch::Rows { mean, rstd }) => {
                n.forward_into(x, y, mean, rstd, threads);
            }
            (Layer::BatchNorm(n), Scratch::Features(stats)) => {
                n.forward_into(x, y, mode, stats, threads);
            }
            (Layer::Residual(r), Scratch::Residual(buffers)) => {
                let rows = x.nrows();
                forward_sequence(&r.body, x, &mut buffers.body, mode, gemm, threads);
                match &r.projection {
                    Some(p) => {
                        p.forward_activate_into(
                            x,
                            y.view_mut(),
                            Activation::Identity,
                            gemm,
                            threads,
                        );
                    }
                    None => pieces::rows(threads, Cost::Light, (y.view_mut(), x), |(mut y, x)| {
                        y.assign(&x)
                    }),
                }
                r.add_branch(y.view_mut(), buffers.body.output(rows), threads);
            }
            (layer, _) => panic!("workspace does not match the {} layer", layer.kind()),
        }
    }

    /// Workspace backward pass: from dy, (rows, out), writes dx, (rows, in) (when wanted)
    /// and this layer's parameter gradients into `grads` tensors `first..`. `x` and `y` are
    /// the layer's input and output of the last forward pass.
    #[allow(clippy::too_many_arguments)] // input, output, dy, dx, cache, gradients and the GEMM's two settings
    pub(crate) fn backward_into(
        &self,
        x: ArrayView2<T>,
        y: ArrayView2<T>,
        dy: ArrayView2<T>,
        dx: Option<ArrayViewMut2<T>>,
        scratch: &mut Scratch<T>,
        grads: &mut ParamList<T>,
        first: usize,
        gemm: &mut GemmScratch<T>,
        threads: usize,
    ) {
        match (self, scratch) {
            (Layer::Dense(d), _) => {
                dense_backward_into(d, x, dy, dx, grads, first, gemm, threads);
            }
            // Element-wise layers in row pieces, as forward.
            (Layer::Scale(c), _) => {
                let Some(dx) = dx else { return };
                let c = T::of(*c);
                pieces::rows(threads, Cost::Light, (dy, dx), |(dy, mut dx)| {
                    dx.zip_mut_with(&dy, |d, &g| *d = c * g);
                });
            }
            (Layer::Activation(f), _) => {
                let Some(dx) = dx else { return };
                let parts = (x, y, dy, dx);
                pieces::rows(threads, activation_cost(f), parts, |(z, a, dy, mut dx)| {
                    dx.assign(&dy);
                    f.backward_layer(contiguous(&z), contiguous(&a), contiguous_mut(&mut dx));
                });
            }
            (Layer::LayerNorm(n), Scratch::Rows { mean, rstd }) => {
                let (dgain, dshift) = two_tensors(grads, first);
                n.backward_into(x, dy, mean, rstd, dx, dgain, dshift, threads);
            }
            (Layer::BatchNorm(n), Scratch::Features(stats)) => {
                let (dgain, dshift) = two_tensors(grads, first);
                n.backward_into(x, dy, stats, dx, dgain, dshift, threads);
            }
            (Layer::Residual(r), Scratch::Residual(buffers)) => {
                let rows = x.nrows();
                let body_count: usize = r.body.iter().map(Layer::tensor_count).sum();
                let mut next = first + body_count;
                // The branch's output gradient: dF = α · dy.
                let (scale, alpha) = (r.scales_branch(), r.alpha_value());
                let d_branch = buffers.body.top_gradient(rows);
                pieces::rows(
                    threads,
                    Cost::Light,
                    (d_branch, dy),
                    |(mut d_branch, dy)| {
                        if scale {
                            d_branch.zip_mut_with(&dy, |d, &g| *d = alpha * g);
                        } else {
                            d_branch.assign(&dy);
                        }
                    },
                );
                if let Alpha::Learnable(_) = r.alpha {
                    let alpha_index = next + if r.projection.is_some() { 2 } else { 0 };
                    grads.tensor_mut(alpha_index)[0] =
                        alpha_gradient(dy, buffers.body.output(rows));
                }
                let mut dx = dx;
                backward_sequence(
                    &r.body,
                    x,
                    &mut buffers.body,
                    dx.as_mut().map(|d| d.view_mut()),
                    grads,
                    first,
                    gemm,
                    threads,
                );
                match &r.projection {
                    Some(p) => {
                        let mut skip = super::network::rows_mut(&mut buffers.skip_dx, rows);
                        let want = dx.is_some();
                        dense_backward_into(
                            p,
                            x,
                            dy,
                            want.then(|| skip.view_mut()),
                            grads,
                            next,
                            gemm,
                            threads,
                        );
                        next += 2;
                        if let Some(dx) = dx.as_mut() {
                            add_rows(dx.view_mut(), skip.view(), threads);
                        }
                    }
                    None => {
                        if let Some(dx) = dx.as_mut() {
                            add_rows(dx.view_mut(), dy, threads);
                        }
                    }
                }
                let _ = next;
            }
            (layer, _) => panic!("workspace does not match the {} layer", layer.kind()),
        }
    }
}

/// `dx += skip`, element by element, in row pieces on up to `threads` threads: the skip
/// path's gradient added to the branch's.
fn add_rows<T: Float>(dx: ArrayViewMut2<T>, skip: ArrayView2<T>, threads: usize) {
    pieces::rows(threads, Cost::Light, (dx, skip), |(mut dx, skip)| {
        dx.zip_mut_with(&skip, |d, &s| *d = *d + s);
    });
}

/// What a value of an activation layer costs (see [`Cost`]): the activations whose
/// derivative comes from their output are the vectorized or one-comparison ones; GELU and
/// SiLU compute each value (and derivative) in `f64`.
fn activation_cost(a: &Activation) -> Cost {
    if a.derivative_from_output() {
        Cost::Light
    } else {
        Cost::Heavy
    }
}

/// A piece of a workspace buffer as a slice (its rows are whole, so it is contiguous).
fn contiguous<'a, T>(piece: &'a ArrayView2<T>) -> &'a [T] {
    piece.as_slice().expect("contiguous workspace buffer")
}

/// [`contiguous`], writable.
fn contiguous_mut<'a, T>(piece: &'a mut ArrayViewMut2<T>) -> &'a mut [T] {
    piece.as_slice_mut().expect("contiguous workspace buffer")
}

/// Tensors `first` and `first + 1` of `grads`, both writable.
fn two_tensors<T: Float>(grads: &mut ParamList<T>, first: usize) -> (&mut [T], &mut [T]) {
    grads.two_mut(first, first + 1)
}

/// A dense layer's backward pass into workspace buffers:
/// `dW = dyᵀ · x` (out, in), `db = Σ_rows dy` (out), `dx = dy · W` (rows, in) if wanted.
#[allow(clippy::too_many_arguments)] // the layer, its input, dy, dx, the gradients and the GEMM's settings
fn dense_backward_into<T: Float>(
    d: &Dense<T>,
    x: ArrayView2<T>,
    dy: ArrayView2<T>,
    dx: Option<ArrayViewMut2<T>>,
    grads: &mut ParamList<T>,
    first: usize,
    gemm: &mut GemmScratch<T>,
    threads: usize,
) {
    let (dw, db) = grads.two_mut(first, first + 1);
    let dw = ArrayViewMut2::from_shape(d.weight.raw_dim(), dw).expect("weight gradient shape");
    matmul_into(dy.t(), x, dw, gemm, threads);
    sum_rows_into(dy, db);
    if let Some(dx) = dx {
        matmul_into(dy, d.weight.view(), dx, gemm, threads);
    }
}

fn residual_tensor<T: Float>(r: &Residual<T>, mut j: usize) -> &[T] {
    for layer in &r.body {
        if j < layer.tensor_count() {
            return layer.tensor(j);
        }
        j -= layer.tensor_count();
    }
    if let Some(p) = &r.projection {
        if j < 2 {
            return super::mlp::dense_tensor(p, j);
        }
        j -= 2;
    }
    match (&r.alpha, j) {
        (Alpha::Learnable(a), 0) => a.as_slice().expect("contiguous α"),
        _ => panic!("residual block has no parameter tensor {j}"),
    }
}

fn residual_tensor_mut<T: Float>(r: &mut Residual<T>, mut j: usize) -> &mut [T] {
    for layer in &mut r.body {
        if j < layer.tensor_count() {
            return layer.tensor_mut(j);
        }
        j -= layer.tensor_count();
    }
    if let Some(p) = &mut r.projection {
        if j < 2 {
            return super::mlp::dense_tensor_mut(p, j);
        }
        j -= 2;
    }
    match (&mut r.alpha, j) {
        (Alpha::Learnable(a), 0) => a.as_slice_mut().expect("contiguous α"),
        _ => panic!("residual block has no parameter tensor {j}"),
    }
}
