//! The multilayer perceptron: dense layers, hidden activations, a loss, and hand-written
//! backprop into a [`Gradients`] structure. Nothing here changes a weight except
//! initialization; the optimizer ([`crate::nn::optim::Sgd`]) does the rest.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};

use super::activation::Activation;
use super::dense::Dense;
use super::float::Float;
use super::gemm::{GemmScratch, gemm};
use super::init::{Fan, Init, layer_rng};
use super::loss::{Loss, TargetsView};

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
    /// Threads each matrix product may use (1 = the calling thread only).
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
            threads: 1,
        }
    }

    /// The largest batch the buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Layer `l`'s output for the last forward pass, (rows, out_l).
    pub fn output(&self, layer: usize) -> ArrayView2<'_, T> {
        self.outputs[layer].slice(s![..self.rows, ..])
    }

    /// dL/dz of layer `l` for the last backward pass, (rows, out_l).
    pub fn delta(&self, layer: usize) -> ArrayView2<'_, T> {
        self.deltas[layer].slice(s![..self.rows, ..])
    }

    /// The logits of the last forward pass, (rows, outputs).
    pub fn logits(&self) -> ArrayView2<'_, T> {
        self.output(self.outputs.len() - 1)
    }
}

fn rows_mut<T>(a: &mut Array2<T>, rows: usize) -> ArrayViewMut2<'_, T> {
    a.slice_mut(s![..rows, ..])
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
    pub fn initialize(&mut self, init: &Init, bias: Option<&Init>, seed: u64) {
        for l in 0..self.layers.len() {
            let activation = self.activation_after(l);
            let layer = &mut self.layers[l];
            let fan = Fan {
                fan_in: layer.inputs(),
                fan_out: layer.outputs(),
            };
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
        let last = self.layers.len() - 1;
        for l in 0..self.layers.len() {
            let (done, rest) = ws.outputs.split_at_mut(l);
            let input = if l == 0 {
                x.view()
            } else {
                done[l - 1].slice(s![..rows, ..])
            };
            let out = rows_mut(&mut rest[0], rows);
            let activation = if l < last {
                self.activations[l]
            } else {
                Activation::Identity
            };
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
    /// weight.
    pub fn loss_and_gradients(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) -> f64 {
        let rows = x.nrows();
        self.forward(x.view(), ws);
        let last = self.layers.len() - 1;
        let scale = 1.0 / rows as f64;
        let loss_sum = {
            let logits = ws.outputs[last].slice(s![..rows, ..]);
            let delta = ws.deltas[last].slice_mut(s![..rows, ..]);
            self.loss.evaluate(logits, targets, Some(delta), scale)
        };
        self.backward_from_output(x, ws, grads);
        loss_sum * scale
    }

    /// Back-propagates the output deltas already in the workspace (dL/dz of the last
    /// layer) through the network, filling `grads` and every layer's delta.
    pub fn backward_from_output(
        &self,
        x: ArrayView2<T>,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) {
        let rows = ws.rows;
        let mut bias_ready = false;
        for l in (0..self.layers.len()).rev() {
            let (lower, upper) = ws.deltas.split_at_mut(l);
            let delta = upper[0].slice(s![..rows, ..]);
            let input = if l == 0 {
                x.view()
            } else {
                ws.outputs[l - 1].slice(s![..rows, ..])
            };
            let grad = &mut grads.layers[l];
            // dW = δᵀ · input: (out, batch) · (batch, in)
            gemm(
                T::one(),
                delta.t(),
                input,
                T::zero(),
                grad.weight.view_mut(),
                &mut ws.scratch,
                ws.threads,
            );
            // db = Σ_rows δ (already summed by the activation pass of the layer above)
            let bias = grad.bias.as_slice_mut().expect("contiguous bias");
            if !bias_ready {
                bias.fill(T::zero());
            }
            match delta.as_slice() {
                _ if bias_ready => {}
                Some(flat) => {
                    for row in flat.chunks_exact(bias.len()) {
                        for (b, &d) in bias.iter_mut().zip(row) {
                            *b = *b + d;
                        }
                    }
                }
                None => {
                    for row in delta.rows() {
                        for (b, &d) in bias.iter_mut().zip(row) {
                            *b = *b + d;
                        }
                    }
                }
            }
            if l > 0 {
                // dL/da_{l-1} = δ · W: (batch, out) · (out, in), then × f'(z_{l-1})
                let mut below = lower[l - 1].slice_mut(s![..rows, ..]);
                gemm(
                    T::one(),
                    delta,
                    self.layers[l].weight.view(),
                    T::zero(),
                    below.view_mut(),
                    &mut ws.scratch,
                    ws.threads,
                );
                let a = ws.outputs[l - 1].slice(s![..rows, ..]);
                // × f'(z_{l-1}), and db_{l-1} = Σ_rows δ_{l-1} in the same pass
                let bias_below = grads.layers[l - 1]
                    .bias
                    .as_slice_mut()
                    .expect("contiguous bias");
                bias_below.fill(T::zero());
                self.activations[l - 1].backward_sum_rows(
                    a.as_slice().expect("standard layout"),
                    contiguous(&mut below),
                    bias_below,
                );
                bias_ready = true;
            } else {
                bias_ready = false;
            }
        }
    }

    /// Mean loss and number of correct predictions over a whole data set, in chunks of
    /// the workspace's capacity. `labels` is `None` for regression targets.
    pub fn evaluate(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut Workspace<T>,
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
            loss_sum += self.loss.evaluate(logits, tb, None, 1.0);
            if let TargetsView::Classes(labels) = tb {
                correct += self.loss.count_correct(logits, labels);
            }
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

    fn pre_activation_f64(&self, l: usize, input: &Array2<f64>) -> Array2<f64> {
        let w = self.layers[l].weight.mapv(|v| v.f64());
        let b = self.layers[l].bias.mapv(|v| v.f64());
        input.dot(&w.t()) + &b
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
