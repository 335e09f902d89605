//! The multilayer perceptron: dense layers, hidden activations, a loss, and hand-written
//! backprop into a [`Gradients`] structure. Nothing here changes a weight except
//! initialization; the optimizer ([`crate::nn::optim::Sgd`]) does the rest.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};

use super::activation::Activation;
use super::classes::{ClassTally, score_chunk};
use super::dense::{Dense, DenseCache, matmul, matmul_into, sum_rows_into};
use super::float::Float;
use super::gemm::GemmScratch;
use super::init::{Fan, Init, LayerPlace, layer_rng};
use super::loss::{Loss, TargetsView};
use super::param::{ParamInfo, ParamKind, ParamSet, Parameters};

mod data_parallel;
pub use data_parallel::{BLOCK_MACS, ROW_ALIGN};

/// A feed-forward network of dense layers.
///
/// `layers[l]` maps layer `l`'s input to its pre-activation; hidden layer `l` applies
/// `activations[l]`; the last layer outputs logits, and its non-linearity is the loss's.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T> {
    /// The dense layers, input to output.
    pub layers: Vec<Dense<T>>,
    /// One activation per hidden layer (`layers.len() - 1` of them).
    pub activations: Vec<Activation>,
    /// The loss, with the output non-linearity.
    pub loss: Loss,
}

/// Gradients of the loss with respect to every parameter, in the parameters' shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T> {
    /// One entry per layer: `weight` holds dL/dW (out, in), `bias` holds dL/db (out).
    pub layers: Vec<Dense<T>>,
}

impl<T: Float> Gradients<T> {
    /// Zero gradients shaped like `mlp`'s parameters.
    pub fn zeros_like(mlp: &Mlp<T>) -> Self {
        Gradients {
            layers: mlp
                .layers
                .iter()
                .map(|l| Dense::zeros(l.inputs(), l.outputs()))
                .collect(),
        }
    }

    /// The Euclidean norm of all gradients together, in `f64`.
    pub fn norm(&self) -> f64 {
        self.layers
            .iter()
            .map(|l| {
                l.weight.iter().map(|v| v.f64() * v.f64()).sum::<f64>()
                    + l.bias.iter().map(|v| v.f64() * v.f64()).sum::<f64>()
            })
            .sum::<f64>()
            .sqrt()
    }
}

/// An MLP's parameters as one list: layer l's weight is tensor 2l, its bias 2l + 1.
impl<T> ParamSet<T> for Mlp<T> {
    fn tensor_count(&self) -> usize {
        2 * self.layers.len()
    }
    fn tensor(&self, i: usize) -> &[T] {
        dense_tensor(&self.layers[i / 2], i % 2)
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        dense_tensor_mut(&mut self.layers[i / 2], i % 2)
    }
}

impl<T> Parameters<T> for Mlp<T> {
    fn info(&self, i: usize) -> ParamInfo {
        let layer = &self.layers[i / 2];
        let (kind, shape) = if i % 2 == 0 {
            (ParamKind::Weight, layer.weight.shape().to_vec())
        } else {
            (ParamKind::Bias, layer.bias.shape().to_vec())
        };
        ParamInfo {
            layer: (i / 2).to_string(),
            kind,
            shape,
        }
    }
}

/// The gradients numbered as [`Mlp`]'s parameters.
impl<T> ParamSet<T> for Gradients<T> {
    fn tensor_count(&self) -> usize {
        2 * self.layers.len()
    }
    fn tensor(&self, i: usize) -> &[T] {
        dense_tensor(&self.layers[i / 2], i % 2)
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        dense_tensor_mut(&mut self.layers[i / 2], i % 2)
    }
}

/// A dense layer's weight (`which` = 0) or bias (1) as a slice.
pub(crate) fn dense_tensor<T>(layer: &Dense<T>, which: usize) -> &[T] {
    let values = if which == 0 {
        layer.weight.as_slice()
    } else {
        layer.bias.as_slice()
    };
    values.expect("parameters are contiguous")
}

/// A dense layer's weight (`which` = 0) or bias (1) as a writable slice.
pub(crate) fn dense_tensor_mut<T>(layer: &mut Dense<T>, which: usize) -> &mut [T] {
    let values = if which == 0 {
        layer.weight.as_slice_mut()
    } else {
        layer.bias.as_slice_mut()
    };
    values.expect("parameters are contiguous")
}

/// Buffers for one forward and backward pass over batches of up to `capacity` rows.
///
/// Prepared once; every pass afterwards reuses them, so a training step allocates nothing.
/// Smaller batches use the first rows of each buffer.
#[derive(Debug)]
pub struct Workspace<T> {
    capacity: usize,
    rows: usize,
    /// outputs[l]: layer l's output, (capacity, out_l): activations, logits for the last.
    outputs: Vec<Array2<T>>,
    /// deltas[l]: dL/dz of layer l, (capacity, out_l).
    deltas: Vec<Array2<T>>,
    scratch: GemmScratch<T>,
    /// Packing buffers of each thread of a threaded step.
    part_scratch: Vec<GemmScratch<T>>,
    /// Each layer's buffers as the threads of a step see them (refilled every threaded step).
    shared: Vec<data_parallel::LayerBuffers<T>>,
    /// Threads a forward and backward pass may use (1 = the calling thread only): a large
    /// enough batch is split among them (see [`Mlp::loss_and_gradients`]); a lone forward
    /// pass uses them inside its matrix products.
    pub threads: usize,
}

impl<T: Float> Workspace<T> {
    /// Buffers for `mlp` and batches of up to `capacity` rows.
    pub fn new(mlp: &Mlp<T>, capacity: usize) -> Self {
        let widths: Vec<usize> = mlp.layers.iter().map(|l| l.outputs()).collect();
        Workspace {
            capacity,
            rows: 0,
            outputs: widths
                .iter()
                .map(|&w| Array2::zeros((capacity, w)))
                .collect(),
            deltas: widths
                .iter()
                .map(|&w| Array2::zeros((capacity, w)))
                .collect(),
            scratch: GemmScratch::default(),
            part_scratch: Vec::new(),
            shared: Vec::with_capacity(widths.len()),
            threads: 1,
        }
    }

    /// The largest batch the buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Layer `l`'s output for the last forward pass, (rows, out_l).
    pub fn output(&self, layer: usize) -> ArrayView2<'_, T> {
        rows_of(&self.outputs[layer], self.rows)
    }

    /// dL/dz of layer `l` for the last backward pass, (rows, out_l).
    pub fn delta(&self, layer: usize) -> ArrayView2<'_, T> {
        rows_of(&self.deltas[layer], self.rows)
    }

    /// The logits of the last forward pass, (rows, outputs).
    pub fn logits(&self) -> ArrayView2<'_, T> {
        self.output(self.outputs.len() - 1)
    }
}

/// The first `rows` rows of a workspace buffer, read-only.
///
/// A buffer is row-major, so its first rows are a prefix of its memory and the view is built
/// directly; ndarray's general `slice` (range checks and stride arithmetic per axis, not
/// inlined) cost about a third of a W1 step, whose arithmetic is a few dozen multiply-adds.
#[inline]
pub(crate) fn rows_of<T>(a: &Array2<T>, rows: usize) -> ArrayView2<'_, T> {
    assert!(
        rows <= a.nrows() && a.is_standard_layout(),
        "workspace row prefix"
    );
    // SAFETY: the first `rows` rows of a row-major array are its first `rows · ncols`
    // elements, all inside the array, which `a` borrows for the view's lifetime.
    unsafe { ArrayView2::from_shape_ptr((rows, a.ncols()), a.as_ptr()) }
}

/// The first `rows` rows of a workspace buffer, writable (see [`rows_of`]).
#[inline]
pub(crate) fn rows_mut<T>(a: &mut Array2<T>, rows: usize) -> ArrayViewMut2<'_, T> {
    assert!(
        rows <= a.nrows() && a.is_standard_layout(),
        "workspace row prefix"
    );
    // SAFETY: as in `rows_of`; `a` is borrowed mutably for the view's lifetime.
    unsafe { ArrayViewMut2::from_shape_ptr((rows, a.ncols()), a.as_mut_ptr()) }
}

fn bias_mut<T>(layer: &mut Dense<T>) -> &mut [T] {
    layer.bias.as_slice_mut().expect("contiguous bias")
}

fn contiguous<'a, T>(a: &'a mut ArrayViewMut2<'_, T>) -> &'a mut [T] {
    a.as_slice_mut()
        .expect("workspace buffers are standard-layout row prefixes")
}

impl<T: Float> Mlp<T> {
    /// A network with the given layer widths (`sizes[0]` inputs, `sizes.last()` outputs),
    /// one activation per hidden layer, all parameters 0.
    ///
    /// Panics if `sizes` has fewer than 2 entries, a width is 0, or the number of
    /// activations is not `sizes.len() - 2`.
    pub fn new(sizes: &[usize], activations: &[Activation], loss: Loss) -> Self {
        assert!(
            sizes.len() >= 2,
            "an MLP needs at least input and output sizes"
        );
        assert!(
            sizes.iter().all(|&s| s > 0),
            "layer widths must be > 0: {sizes:?}"
        );
        assert_eq!(
            activations.len(),
            sizes.len() - 2,
            "one activation per hidden layer"
        );
        Mlp {
            layers: sizes.windows(2).map(|w| Dense::zeros(w[0], w[1])).collect(),
            activations: activations.to_vec(),
            loss,
        }
    }

    /// The layer widths, input first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.layers[0].inputs()];
        sizes.extend(self.layers.iter().map(|l| l.outputs()));
        sizes
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weight.len() + l.bias.len())
            .sum()
    }

    /// The activation after layer `l` (identity for the output layer, whose non-linearity
    /// belongs to the loss).
    pub fn activation_after(&self, layer: usize) -> Activation {
        self.activations
            .get(layer)
            .copied()
            .unwrap_or(Activation::Identity)
    }

    /// Initializes every layer: weights with `init`, biases with `bias` if given (else the
    /// scheme's default, zeros except `pytorch-default`). Layer `l` draws from
    /// [`layer_rng`]`(seed, l, ..)`. Data-dependent schemes (LSUV) need [`Mlp::lsuv`] after.
    ///
    /// # Panics
    /// If a formula start gives some layer a std that is not a finite number > 0
    /// ([`Init::check_layers`] reports that as an error; runners call it first).
    pub fn initialize(&mut self, init: &Init, bias: Option<&Init>, seed: u64) {
        let depth = self.layers.len();
        for l in 0..depth {
            let activation = self.activation_after(l);
            let layer = &mut self.layers[l];
            let fan = Fan {
                fan_in: layer.inputs(),
                fan_out: layer.outputs(),
            };
            // A formula or place-dependent start is resolved for this layer's place (other
            // schemes are as is).
            let place = LayerPlace::plain(l + 1, depth, fan, activation);
            let init = init.at_layer(place).unwrap_or_else(|e| panic!("{e}"));
            layer.weight = init.sample(fan, activation, &mut layer_rng(seed, l, false));
            let mut bias_rng = layer_rng(seed, l, true);
            layer.bias = match bias {
                Some(b) => b.sample_bias(fan, activation, &mut bias_rng),
                None => init.default_bias(fan, &mut bias_rng),
            };
        }
    }

    /// Forward pass: fills the workspace with every layer's output; returns the logits.
    ///
    /// x: (batch, in) with batch ≤ workspace capacity → logits (batch, outputs).
    pub fn forward<'w>(&self, x: ArrayView2<T>, ws: &'w mut Workspace<T>) -> ArrayView2<'w, T> {
        let rows = x.nrows();
        assert!(
            rows <= ws.capacity,
            "batch of {rows} rows exceeds workspace capacity {}",
            ws.capacity
        );
        assert_eq!(x.ncols(), self.layers[0].inputs(), "input width");
        ws.rows = rows;
        for l in 0..self.layers.len() {
            let (done, rest) = ws.outputs.split_at_mut(l);
            let input = if l == 0 {
                x.view()
            } else {
                rows_of(&done[l - 1], rows)
            };
            let out = rows_mut(&mut rest[0], rows);
            let activation = self.activation_after(l);
            self.layers[l].forward_activate_into(
                input,
                out,
                activation,
                &mut ws.scratch,
                ws.threads,
            );
        }
        ws.logits()
    }

    /// Forward and backward pass on one batch: writes dL/dparameters of the *mean* loss
    /// over the batch into `grads` (overwriting it) and returns that mean loss. Changes no
    /// weight. This is the fast path training uses; [`Mlp::reference_gradients`] is its
    /// specification.
    ///
    /// With `ws.threads > 1` and a large enough batch the pass is data parallel: the rows
    /// are split among the threads for everything computed per row, and every sum over rows
    /// is split by output element, so the result is bit-identical for every thread count
    /// (the rule is in `src/nn/mlp/data_parallel.rs` and docs/benchmarks.md). Call it from
    /// inside a rayon pool (`ThreadPool::install`) of that many threads: the threads are the
    /// pool's (from outside one, rayon's global pool, whose job queue allocates now and then).
    pub fn loss_and_gradients(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) -> f64 {
        let rows = x.nrows();
        if data_parallel::worth_threading(self, rows, ws.threads) {
            return data_parallel::loss_and_gradients(self, x, targets, ws, grads);
        }
        self.forward(x.view(), ws);
        let last = self.layers.len() - 1;
        let scale = 1.0 / rows as f64;
        let loss_sum = {
            let logits = rows_of(&ws.outputs[last], rows);
            let delta = rows_mut(&mut ws.deltas[last], rows);
            self.loss.evaluate(logits, targets, Some(delta), scale)
        };
        self.backward_from_output(x, ws, grads);
        loss_sum * scale
    }

    /// Back-propagates from any output delta: `delta_out` is dL/dz of the last layer (the
    /// logits), one row per row of `x`, for whatever loss the caller has in mind. Fills
    /// `grads` and every layer's delta in the workspace.
    ///
    /// Call [`Mlp::forward`] on the same `x` and workspace first.
    pub fn backward_from(
        &self,
        delta_out: ArrayView2<T>,
        x: ArrayView2<T>,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) {
        let last = self.layers.len() - 1;
        assert_eq!(
            x.nrows(),
            ws.rows,
            "x is the batch of the last forward pass"
        );
        assert_eq!(
            delta_out.dim(),
            ws.logits().dim(),
            "one output delta per logit of the last forward pass"
        );
        rows_mut(&mut ws.deltas[last], ws.rows).assign(&delta_out);
        self.backward_from_output(x, ws, grads);
    }

    /// Back-propagates the output delta already in the workspace (dL/dz of the last layer,
    /// written by the loss) through the network, filling `grads` and every layer's delta.
    ///
    /// The fused fast path. With δ_l = dL/dz_l and a_l = f(z_l) (a_{-1} = x), layer by
    /// layer from the top, where δ_l and db_l are already known:
    ///
    /// ```text
    /// dW_l     = δ_lᵀ · a_{l-1}
    /// δ_{l-1}  = (δ_l · W_l) ⊙ f'(z_{l-1}),   db_{l-1} = Σ_rows δ_{l-1}   (one pass)
    /// ```
    ///
    /// The bias gradient of each hidden layer is summed in the same pass that makes its
    /// delta, so no delta is read twice.
    pub fn backward_from_output(
        &self,
        x: ArrayView2<T>,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) {
        let rows = ws.rows;
        let last = self.layers.len() - 1;
        // The output layer's delta comes from the loss; its bias gradient is its row sum.
        sum_rows_into(ws.delta(last), bias_mut(&mut grads.layers[last]));
        for l in (0..=last).rev() {
            let (lower, upper) = ws.deltas.split_at_mut(l);
            let delta = rows_of(&upper[0], rows);
            let input = if l == 0 {
                x.view()
            } else {
                rows_of(&ws.outputs[l - 1], rows)
            };
            // dW_l = δ_lᵀ · a_{l-1}: (out, batch) · (batch, in)
            let grad_w = grads.layers[l].weight.view_mut();
            matmul_into(delta.t(), input, grad_w, &mut ws.scratch, ws.threads);
            if l > 0 {
                // δ_{l-1} = (δ_l · W_l) ⊙ f'(z_{l-1}), and db_{l-1} = Σ_rows δ_{l-1}
                let mut below = rows_mut(&mut lower[l - 1], rows);
                let weight = self.layers[l].weight.view();
                matmul_into(delta, weight, below.view_mut(), &mut ws.scratch, ws.threads);
                self.activations[l - 1].backward_sum_rows(
                    input.as_slice().expect("workspace rows are contiguous"),
                    contiguous(&mut below),
                    bias_mut(&mut grads.layers[l - 1]),
                );
            }
        }
    }

    /// dL/da_l, the gradient with respect to layer `l`'s *output*, per row, from the
    /// deltas of the last backward pass: `δ_{l+1} · W_{l+1}`, (rows, out_l); for the last
    /// layer (a = the logits) its delta. Allocates (for measurements, not for training).
    pub fn output_gradient(&self, layer: usize, ws: &mut Workspace<T>) -> Array2<T> {
        if layer + 1 == self.layers.len() {
            return ws.delta(layer).to_owned();
        }
        let mut out = Array2::zeros((ws.rows, self.layers[layer].outputs()));
        let delta_above = rows_of(&ws.deltas[layer + 1], ws.rows);
        let weight = self.layers[layer + 1].weight.view();
        matmul_into(
            delta_above,
            weight,
            out.view_mut(),
            &mut ws.scratch,
            ws.threads,
        );
        out
    }

    /// The reference forward and backward pass (Nielsen's `backprop`, CS231n's layers): the
    /// mean loss over the batch and its gradients, one [`Dense`] and one [`Activation`] at
    /// a time, allocating as it goes. Slow and plain on purpose: it is the specification
    /// that the fast [`Mlp::loss_and_gradients`] is tested against.
    pub fn reference_gradients(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
    ) -> (f64, Gradients<T>) {
        let n = x.nrows() as f64;
        let (logits, caches) = self.reference_forward(x);
        let mut delta_out = Array2::zeros(logits.raw_dim());
        let loss_sum =
            self.loss
                .evaluate(logits.view(), targets, Some(delta_out.view_mut()), 1.0 / n);
        (loss_sum / n, self.reference_backward(delta_out, &caches))
    }

    /// Reference forward pass: the logits, and each layer's cache (its input).
    ///
    /// x: (batch, in) → logits: (batch, outputs).
    pub fn reference_forward(&self, x: ArrayView2<T>) -> (Array2<T>, Vec<DenseCache<T>>) {
        let mut a = x.to_owned();
        let mut caches = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            let (z, cache) = layer.forward(a.view());
            caches.push(cache);
            a = self.activation_after(l).forward_array(z);
        }
        (a, caches)
    }

    /// Reference backward pass from `delta_out` = dL/dz of the last layer, (batch,
    /// outputs), through the caches of [`Mlp::reference_forward`]: for each layer from the
    /// top, `(dx, dW, db) = backward(δ)`, then `δ_below = dx ⊙ f'(z_below)`.
    pub fn reference_backward(
        &self,
        delta_out: Array2<T>,
        caches: &[DenseCache<T>],
    ) -> Gradients<T> {
        let mut grads = Gradients::zeros_like(self);
        let mut delta = delta_out;
        for l in (0..self.layers.len()).rev() {
            let (dx, dw, db) = self.layers[l].backward(delta.view(), &caches[l]);
            grads.layers[l] = Dense {
                weight: dw,
                bias: db,
            };
            if l > 0 {
                // The cache of layer l is a_{l-1} = f(z_{l-1}), the output of the layer below.
                delta = self.activations[l - 1].backward_array(caches[l].x.view(), dx);
            }
        }
        grads
    }

    /// Mean loss and number of correct predictions over a whole data set, in chunks of
    /// the workspace's capacity; the count is `None` for regression targets.
    pub fn evaluate(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Workspace<T>,
    ) -> (f64, Option<usize>) {
        self.evaluate_by_class(x, targets, ws, None)
    }

    /// [`Mlp::evaluate`], also adding each row to `classes` (class labels only): its
    /// class's row count, correct count and loss, from the same logits.
    pub fn evaluate_by_class(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Workspace<T>,
        mut classes: Option<&mut ClassTally>,
    ) -> (f64, Option<usize>) {
        let n = x.nrows();
        let mut loss_sum = 0.0;
        let mut correct = 0;
        let mut start = 0;
        while start < n {
            let end = (start + ws.capacity).min(n);
            let xb = x.slice(s![start..end, ..]);
            let tb = slice_targets(targets, start, end);
            let logits = self.forward(xb, ws);
            let (l, c) = score_chunk(self.loss, logits, tb, classes.as_deref_mut());
            loss_sum += l;
            correct += c;
            start = end;
        }
        let correct = matches!(targets, TargetsView::Classes(_)).then_some(correct);
        (loss_sum / n.max(1) as f64, correct)
    }

    /// Predicted logits for every row of `x` (allocates; for plots and tools).
    pub fn predict(&self, x: ArrayView2<T>) -> Array2<T> {
        let mut ws = Workspace::new(self, x.nrows().clamp(1, 4096));
        let mut out = Array2::zeros((x.nrows(), self.layers.last().unwrap().outputs()));
        let mut start = 0;
        while start < x.nrows() {
            let end = (start + ws.capacity).min(x.nrows());
            let logits = self.forward(x.slice(s![start..end, ..]), &mut ws);
            out.slice_mut(s![start..end, ..]).assign(&logits);
            start = end;
        }
        out
    }

    /// Whether every parameter is finite.
    pub fn is_finite(&self) -> bool {
        self.layers.iter().all(|l| l.is_finite())
    }

    /// Layer-sequential unit-variance rescaling (Mishkin & Matas 2015), after an
    /// orthogonal start: for each layer in turn, push `x` forward and divide the layer's
    /// weights by the standard deviation of its pre-activations `z = a·Wᵀ + b`, until their
    /// variance is within `tolerance` of 1 or `max_iterations` rescalings were made.
    ///
    /// A layer whose pre-activations have zero variance on the batch (every unit of the
    /// layer below is dead, or the batch is one repeated row) cannot be rescaled: it is
    /// left as it is, and its index is returned in the list of such layers.
    pub fn lsuv(&mut self, x: ArrayView2<T>, tolerance: f64, max_iterations: usize) -> Vec<usize> {
        let mut stuck = Vec::new();
        let mut input = x.mapv(|v| v.f64());
        for l in 0..self.layers.len() {
            let mut z = self.pre_activation_f64(l, &input);
            for _ in 0..max_iterations {
                let var = variance(&z);
                if !var.is_finite() || var <= 0.0 {
                    stuck.push(l);
                    break;
                }
                if (var - 1.0).abs() < tolerance {
                    break;
                }
                let factor = T::of(1.0 / var.sqrt());
                self.layers[l].weight.mapv_inplace(|w| w * factor);
                z = self.pre_activation_f64(l, &input);
            }
            let activation = self.activation_after(l);
            input = z.mapv(|v| activation.value(v));
        }
        stuck
    }

    /// `z = a · Wᵀ + b` of layer `l`, in `f64` whatever the network's precision.
    fn pre_activation_f64(&self, l: usize, input: &Array2<f64>) -> Array2<f64> {
        let w = self.layers[l].weight.mapv(|v| v.f64());
        let b = self.layers[l].bias.mapv(|v| v.f64());
        matmul(input.view(), w.t()) + &b
    }
}

/// Population variance of all elements (0 for an empty array).
fn variance(a: &Array2<f64>) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    let n = a.len() as f64;
    let mean = a.sum() / n;
    a.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n
}

/// Rows `start..end` of a targets view.
pub fn slice_targets<T>(
    targets: TargetsView<'_, T>,
    start: usize,
    end: usize,
) -> TargetsView<'_, T> {
    match targets {
        TargetsView::Classes(c) => TargetsView::Classes(&c[start..end]),
        TargetsView::Values(v) => TargetsView::Values(v.slice_move(s![start..end, ..])),
    }
}
