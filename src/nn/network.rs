//! A network as a sequence of layers ([`Layer`]): dense, activation, LayerNorm, BatchNorm
//! and residual blocks, with a loss on its last output.
//!
//! Two ways to run it, with the same arithmetic:
//!
//! - the **reference** [`Network::reference_gradients`]: a plain loop over the layers'
//!   allocating `forward` and `backward` (CS231n's `fc_net.py`), short enough to read in one
//!   screen — the specification;
//! - the **workspace path** [`Network::loss_and_gradients`], which writes into a
//!   [`NetworkWorkspace`] made once, so a training step allocates nothing; the dense layers'
//!   products and the element-wise layers (activations, norms, scales, residual adds, in row
//!   or column pieces: [`crate::nn::pieces`]) run on the workspace's threads, with the same
//!   bits on any number of them.
//!
//! A plain chain of dense layers and output-derivative activations trains faster still as
//! an [`crate::nn::Mlp`] (the fused, data-parallel fast path); `tests/suite/network.rs` checks
//! that the two give the same bits on such chains.
//!
//! Parameters are one ordered list ([`ParamSet`]): layer by layer, each layer's tensors in
//! its own order (see [`crate::nn::layer`]).

use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};

use super::activation::Activation;
use super::batch_norm::{BatchStats, Mode};
use super::classes::{ClassTally, score_chunk};
use super::dense::Dense;
use super::float::Float;
use super::gemm::GemmScratch;
use super::init::{AlphaStart, Branch, Fan, Init, LayerPlace, OtherParams, layer_rng};
use super::layer::{Layer, LayerCache};
use super::loss::{Loss, TargetsView};
use super::mlp::{Mlp, rows_mut as prefix_mut, rows_of, slice_targets};
use super::param::{ParamInfo, ParamList, ParamSet, Parameters};
use super::residual::{Alpha, Residual};

/// A feed-forward network: layers in sequence, then the loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<T> {
    /// Input width.
    pub inputs: usize,
    /// The layers, input to output; the last one's output is the logits.
    pub layers: Vec<Layer<T>>,
    /// The loss, with the output non-linearity.
    pub loss: Loss,
    /// Each parameter tensor's learning-rate multiplier, in parameter order, as a
    /// parametrization sets them ([`crate::nn::parametrization::Setup::apply`]); empty
    /// means 1 for every tensor (the standard parametrization).
    pub learning_rate_multipliers: Vec<f64>,
}

impl<T: Float> Network<T> {
    /// A network of `layers` on `inputs` features; checks that the widths chain (a residual
    /// block without projection must keep its width, BatchNorm/LayerNorm widths must match).
    pub fn new(inputs: usize, layers: Vec<Layer<T>>, loss: Loss) -> Result<Self, String> {
        check_widths(inputs, &layers, "")?;
        if layers.is_empty() {
            return Err("a network needs at least one layer".into());
        }
        Ok(Network {
            inputs,
            layers,
            loss,
            learning_rate_multipliers: Vec::new(),
        })
    }

    /// The same network as `mlp` (dense, activation, dense, …), with the same parameters.
    pub fn from_mlp(mlp: &Mlp<T>) -> Self {
        let mut layers = Vec::new();
        for (l, dense) in mlp.layers.iter().enumerate() {
            layers.push(Layer::Dense(dense.clone()));
            if let Some(&a) = mlp.activations.get(l) {
                layers.push(Layer::Activation(a));
            }
        }
        Network {
            inputs: mlp.layers[0].inputs(),
            layers,
            loss: mlp.loss,
            learning_rate_multipliers: Vec::new(),
        }
    }

    /// The output width (number of logits).
    pub fn outputs(&self) -> usize {
        self.layers
            .iter()
            .fold(self.inputs, |w, l| l.output_width(w))
    }

    /// Each top-level layer's output width.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = self.inputs;
        self.layers
            .iter()
            .map(|l| {
                w = l.output_width(w);
                w
            })
            .collect()
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.value_count()
    }

    /// Whether any layer (a residual branch included) is a BatchNorm, whose output depends
    /// on the mode.
    pub fn has_batch_norm(&self) -> bool {
        fn any<T>(layers: &[Layer<T>]) -> bool {
            layers.iter().any(|l| match l {
                Layer::BatchNorm(_) => true,
                Layer::Residual(r) => any(&r.body),
                _ => false,
            })
        }
        any(&self.layers)
    }

    /// Where each dense layer sits, in order (residual branches and projections included,
    /// depth first): its place among the dense layers and its fans, with the activation that
    /// follows it in its sequence (identity if none) and, inside a residual branch, its
    /// position there — what a start is drawn for.
    pub fn dense_places(&self) -> Vec<LayerPlace> {
        /// (fan, activation after, (position in branch, dense layers in branch)).
        type Found = (Fan, Activation, Option<(usize, usize)>);
        fn walk<T: Float>(layers: &[Layer<T>], in_branch: bool, out: &mut Vec<Found>) {
            let dense_count = layers
                .iter()
                .filter(|l| matches!(l, Layer::Dense(_)))
                .count();
            let mut position = 0;
            for (i, layer) in layers.iter().enumerate() {
                let next_activation = layers[i + 1..]
                    .iter()
                    .take_while(|l| !matches!(l, Layer::Dense(_) | Layer::Residual(_)))
                    .find_map(|l| match l {
                        Layer::Activation(a) => Some(*a),
                        _ => None,
                    })
                    .unwrap_or(Activation::Identity);
                match layer {
                    Layer::Dense(d) => {
                        position += 1;
                        let branch = in_branch.then_some((position, dense_count));
                        out.push((fan_of(d), next_activation, branch));
                    }
                    Layer::Residual(r) => {
                        walk(&r.body, true, out);
                        if let Some(p) = &r.projection {
                            out.push((fan_of(p), Activation::Identity, None));
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.layers, false, &mut found);
        let depth = found.len();
        let branches = self
            .layers
            .iter()
            .filter(|l| matches!(l, Layer::Residual(_)))
            .count();
        found
            .into_iter()
            .enumerate()
            .map(|(k, (fan, activation, branch))| LayerPlace {
                layer: k + 1,
                depth,
                fan,
                activation,
                branch: branch.map(|(position, layers)| Branch {
                    position,
                    layers,
                    branches,
                }),
            })
            .collect()
    }

    /// The dense layers in the order of [`Network::dense_places`], writable.
    fn dense_layers_mut(&mut self) -> Vec<&mut Dense<T>> {
        fn walk<'a, T>(layers: &'a mut [Layer<T>], out: &mut Vec<&'a mut Dense<T>>) {
            for layer in layers {
                match layer {
                    Layer::Dense(d) => out.push(d),
                    Layer::Residual(r) => {
                        walk(&mut r.body, out);
                        out.extend(r.projection.as_mut());
                    }
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&mut self.layers, &mut out);
        out
    }

    /// Whether `init` gives every dense layer a valid start (a formula start a finite std
    /// > 0 at each place); the error names the layer. [`Network::initialize`] needs it.
    pub fn check_start(&self, init: &Init) -> Result<(), String> {
        for place in self.dense_places() {
            init.at_layer(place)?;
        }
        Ok(())
    }

    /// Initializes every dense layer as [`Mlp::initialize`] does (dense layer k, counted
    /// depth first, draws from [`layer_rng`]`(seed, k, ..)`, with the gain of the activation
    /// that follows it), so a plain chain starts exactly as the same [`Mlp`]. A start that
    /// depends on the layer's place (Fixup, critical, a formula) is resolved for each
    /// ([`Init::at_layer`]). The other parameters are as the start says
    /// ([`Init::other_params`]): norm gains and shifts (1 and 0 unless it says otherwise), and
    /// residual α (as the network was built, or a learnable α from the start's value for
    /// ReZero and SkipInit).
    ///
    /// # Panics
    /// If a formula start gives some layer a std that is not a finite number > 0
    /// ([`Network::check_start`] reports that as an error; the runner calls it first).
    pub fn initialize(&mut self, init: &Init, bias: Option<&Init>, seed: u64) {
        let places = self.dense_places();
        for (k, (layer, place)) in self.dense_layers_mut().into_iter().zip(places).enumerate() {
            let (fan, activation) = (place.fan, place.activation);
            let init = init.at_layer(place).unwrap_or_else(|e| panic!("{e}"));
            layer.weight = init.sample(fan, activation, &mut layer_rng(seed, k, false));
            let mut bias_rng = layer_rng(seed, k, true);
            layer.bias = match bias {
                Some(b) => b.sample_bias(fan, activation, &mut bias_rng),
                None => init.default_bias(fan, &mut bias_rng),
            };
        }
        set_other_params(&mut self.layers, init.other_params());
    }

    /// The reference forward and backward pass: the mean loss over the batch and its
    /// gradient for every parameter tensor, one layer at a time, allocating as it goes.
    ///
    /// ```text
    /// h₀ = x;  h_{l+1}, cache_l = layer_l.forward(h_l)        for l = 0 … L−1
    /// loss, δ = loss(h_L, targets)                              (δ = dL/dh_L)
    /// δ, grads_l = layer_l.backward(δ, cache_l)                 for l = L−1 … 0
    /// ```
    pub fn reference_gradients(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        mode: Mode,
    ) -> (f64, ParamList<T>) {
        let scale = 1.0 / x.nrows() as f64;
        let (logits, caches) = self.reference_forward(x, mode);
        let mut delta = Array2::zeros(logits.raw_dim());
        let loss_sum = self
            .loss
            .evaluate(logits.view(), targets, Some(delta.view_mut()), scale);
        let mut grads = ParamList::zeros_like(self);
        let mut first = self.tensor_count();
        for (layer, cache) in self.layers.iter().zip(&caches).rev() {
            let (dx, layer_grads) = layer.backward(delta.view(), cache);
            first -= layer_grads.len();
            for (j, g) in layer_grads.iter().enumerate() {
                grads.tensor_mut(first + j).copy_from_slice(g);
            }
            delta = dx;
        }
        (loss_sum * scale, grads)
    }

    /// Reference forward pass: the logits and every layer's cache.
    ///
    /// x: (batch, inputs) → logits: (batch, outputs).
    pub fn reference_forward(
        &self,
        x: ArrayView2<T>,
        mode: Mode,
    ) -> (Array2<T>, Vec<LayerCache<T>>) {
        let mut h = x.to_owned();
        let mut caches = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let (next, cache) = layer.forward(h.view(), mode);
            caches.push(cache);
            h = next;
        }
        (h, caches)
    }

    /// Forward pass into the workspace, in the workspace's mode; returns the logits.
    ///
    /// x: (batch, inputs), batch ≤ the workspace's capacity → logits (batch, outputs).
    pub fn forward<'w>(
        &self,
        x: ArrayView2<T>,
        ws: &'w mut NetworkWorkspace<T>,
    ) -> ArrayView2<'w, T> {
        let rows = x.nrows();
        assert!(
            rows <= ws.capacity,
            "batch of {rows} rows exceeds workspace capacity {}",
            ws.capacity
        );
        assert_eq!(x.ncols(), self.inputs, "input width");
        ws.rows = rows;
        forward_sequence(
            &self.layers,
            x,
            &mut ws.seq,
            ws.mode,
            &mut ws.gemm,
            ws.threads,
        );
        ws.seq.output(rows)
    }

    /// Forward and backward pass on one batch in the workspace's mode: writes the gradient
    /// of the *mean* loss into `grads` (overwriting it) and returns that mean loss. Changes
    /// no parameter and no running statistic. [`Network::reference_gradients`] is its
    /// specification.
    pub fn loss_and_gradients(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut NetworkWorkspace<T>,
        grads: &mut ParamList<T>,
    ) -> f64 {
        let rows = x.nrows();
        self.forward(x, ws);
        let scale = 1.0 / rows as f64;
        let loss_sum = {
            let last = self.layers.len() - 1;
            let logits = rows_of(&ws.seq.outs[last], rows);
            let delta = prefix_mut(&mut ws.seq.grads[last], rows);
            self.loss.evaluate(logits, targets, Some(delta), scale)
        };
        backward_sequence(
            &self.layers,
            x,
            &mut ws.seq,
            None,
            grads,
            0,
            &mut ws.gemm,
            ws.threads,
        );
        loss_sum * scale
    }

    /// Back-propagates any output gradient `delta_out` (dL/d logits of the last forward pass,
    /// one row per row of `x`): fills `grads` and every layer's output gradient in the
    /// workspace. Call [`Network::forward`] on the same `x` and workspace first.
    pub fn backward_from(
        &self,
        delta_out: ArrayView2<T>,
        x: ArrayView2<T>,
        ws: &mut NetworkWorkspace<T>,
        grads: &mut ParamList<T>,
    ) {
        let rows = ws.rows;
        assert_eq!(x.nrows(), rows, "x is the batch of the last forward pass");
        ws.seq.top_gradient(rows).assign(&delta_out);
        backward_sequence(
            &self.layers,
            x,
            &mut ws.seq,
            None,
            grads,
            0,
            &mut ws.gemm,
            ws.threads,
        );
    }

    /// Moves every BatchNorm's running statistics towards those of the last forward pass in
    /// the workspace (if it ran in training mode), as PyTorch does during its forward pass.
    /// The training loop calls it after each step.
    pub fn update_running_statistics(&mut self, ws: &NetworkWorkspace<T>) {
        fn walk<T: Float>(layers: &mut [Layer<T>], seq: &SeqBuffers<T>) {
            for (layer, scratch) in layers.iter_mut().zip(&seq.scratch) {
                match (layer, scratch) {
                    (Layer::BatchNorm(n), Scratch::Features(stats)) => n.update_running(stats),
                    (Layer::Residual(r), Scratch::Residual(b)) => walk(&mut r.body, &b.body),
                    _ => {}
                }
            }
        }
        if ws.rows > 0 {
            walk(&mut self.layers, &ws.seq);
        }
    }

    /// Mean loss and number of correct predictions over a whole data set in evaluation mode,
    /// in chunks of the workspace's capacity. `None` for regression targets.
    pub fn evaluate(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut NetworkWorkspace<T>,
    ) -> (f64, Option<usize>) {
        self.evaluate_by_class(x, targets, ws, None)
    }

    /// [`Network::evaluate`], also adding each row to `classes` (class labels only): its
    /// class's row count, correct count and loss, from the same logits.
    pub fn evaluate_by_class(
        &self,
        x: ArrayView2<T>,
        targets: TargetsView<T>,
        ws: &mut NetworkWorkspace<T>,
        mut classes: Option<&mut ClassTally>,
    ) -> (f64, Option<usize>) {
        let mode = std::mem::replace(&mut ws.mode, Mode::Eval);
        let n = x.nrows();
        let mut loss_sum = 0.0;
        let mut correct = 0;
        let mut start = 0;
        while start < n {
            let end = (start + ws.capacity).min(n);
            let tb = slice_targets(targets, start, end);
            let logits = self.forward(x.slice(s![start..end, ..]), ws);
            let (l, c) = score_chunk(self.loss, logits, tb, classes.as_deref_mut());
            loss_sum += l;
            correct += c;
            start = end;
        }
        ws.mode = mode;
        let correct = matches!(targets, TargetsView::Classes(_)).then_some(correct);
        (loss_sum / n.max(1) as f64, correct)
    }

    /// Predicted logits for every row of `x` in evaluation mode (allocates; for plots).
    pub fn predict(&self, x: ArrayView2<T>) -> Array2<T> {
        let mut ws = NetworkWorkspace::new(self, x.nrows().clamp(1, 4096));
        ws.mode = Mode::Eval;
        let mut out = Array2::zeros((x.nrows(), self.outputs()));
        let mut start = 0;
        while start < x.nrows() {
            let end = (start + ws.capacity).min(x.nrows());
            let logits = self.forward(x.slice(s![start..end, ..]), &mut ws);
            out.slice_mut(s![start..end, ..]).assign(&logits);
            start = end;
        }
        out
    }

    /// LSUV (Mishkin & Matas 2016, "All you need is a good init") on any network: each
    /// dense layer, in the order of [`Network::dense_places`], has its weights scaled until
    /// the variance of its output on the batch `x` is within `tolerance` of 1 (at most
    /// `max_iterations` rescalings), on the signal the layers before it produce *after*
    /// their own rescaling, as [`Mlp::lsuv`] does for a plain chain. Norm layers normalize
    /// with the batch's statistics (training mode) and keep their running statistics; a
    /// residual block's branch is fixed first, then its projection, then the block's output
    /// x + α·F(x) feeds what follows.
    ///
    /// Returns the places (0-based, as in [`Network::dense_places`]) whose output has zero
    /// variance on the batch: they cannot be rescaled and are left as they are.
    pub fn lsuv(&mut self, x: ArrayView2<T>, tolerance: f64, max_iterations: usize) -> Vec<usize> {
        let mut lsuv = Lsuv {
            tolerance,
            max_iterations,
            next: 0,
            stuck: Vec::new(),
        };
        lsuv.sequence(&mut self.layers, x.to_owned());
        lsuv.stuck
    }

    /// Whether every parameter and running statistic is finite.
    pub fn is_finite(&self) -> bool {
        self.layers.iter().all(Layer::is_finite)
    }

    /// Top-level layer and tensor-within-layer of parameter tensor `i`.
    fn locate(&self, mut i: usize) -> (usize, usize) {
        for (l, layer) in self.layers.iter().enumerate() {
            let count = layer.tensor_count();
            if i < count {
                return (l, i);
            }
            i -= count;
        }
        panic!("parameter tensor index out of range")
    }
}

impl<T: Float> ParamSet<T> for Network<T> {
    fn tensor_count(&self) -> usize {
        self.layers.iter().map(Layer::tensor_count).sum()
    }
    fn tensor(&self, i: usize) -> &[T] {
        let (l, j) = self.locate(i);
        self.layers[l].tensor(j)
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        let (l, j) = self.locate(i);
        self.layers[l].tensor_mut(j)
    }
    fn learning_rate_multiplier(&self, i: usize) -> f64 {
        self.learning_rate_multipliers
            .get(i)
            .copied()
            .unwrap_or(1.0)
    }
}

impl<T: Float> Parameters<T> for Network<T> {
    fn info(&self, i: usize) -> ParamInfo {
        let (l, j) = self.locate(i);
        self.layers[l].info(j, &l.to_string())
    }
}

fn fan_of<T: Float>(d: &Dense<T>) -> Fan {
    Fan {
        fan_in: d.inputs(),
        fan_out: d.outputs(),
    }
}

/// Checks that each layer accepts the width before it (`path` prefixes messages inside a
/// residual block).
fn check_widths<T: Float>(inputs: usize, layers: &[Layer<T>], path: &str) -> Result<(), String> {
    let mut width = inputs;
    for (i, layer) in layers.iter().enumerate() {
        let at = format!("{path}layer {} ({})", i + 1, layer.describe());
        let expected = match layer {
            Layer::Dense(d) => Some(d.inputs()),
            Layer::LayerNorm(n) => Some(n.features()),
            Layer::BatchNorm(n) => Some(n.features()),
            Layer::Activation(_) | Layer::Scale(_) => None,
            Layer::Residual(r) => {
                if r.body.is_empty() {
                    return Err(format!("{at}: a residual block needs at least one layer"));
                }
                if r.body.iter().any(|l| matches!(l, Layer::Residual(_))) {
                    return Err(format!("{at}: residual blocks cannot be nested"));
                }
                check_widths(width, &r.body, &format!("{at}, "))?;
                let out = r.body.iter().fold(width, |w, l| l.output_width(w));
                match &r.projection {
                    None if out != width => {
                        return Err(format!(
                            "{at}: the branch maps {width} features to {out}; the skip \
                             connection needs the same width, or a projection"
                        ));
                    }
                    Some(p) if p.inputs() != width || p.outputs() != out => {
                        return Err(format!(
                            "{at}: the projection must map {width} features to {out}"
                        ));
                    }
                    _ => {}
                }
                None
            }
        };
        if let Some(e) = expected
            && e != width
        {
            return Err(format!("{at} expects {e} inputs but gets {width}"));
        }
        width = layer.output_width(width);
    }
    Ok(())
}

/// Buffers for one forward and backward pass of a [`Network`] over batches of up to
/// `capacity` rows. Made once; every pass afterwards reuses them.
#[derive(Debug)]
pub struct NetworkWorkspace<T> {
    capacity: usize,
    rows: usize,
    seq: SeqBuffers<T>,
    gemm: GemmScratch<T>,
    /// Training (batch statistics) or evaluation (running statistics) for BatchNorm.
    pub mode: Mode,
    /// Threads the layers may use (1 = the calling thread only); call the network inside a
    /// rayon pool of that many. The results do not depend on it.
    pub threads: usize,
}

impl<T: Float> NetworkWorkspace<T> {
    /// Buffers for `network` and batches of up to `capacity` rows, in training mode.
    pub fn new(network: &Network<T>, capacity: usize) -> Self {
        NetworkWorkspace {
            capacity,
            rows: 0,
            seq: SeqBuffers::new(&network.layers, network.inputs, capacity),
            gemm: GemmScratch::default(),
            mode: Mode::Train,
            threads: 1,
        }
    }

    /// The largest batch the buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Top-level layer `l`'s output of the last forward pass, (rows, width).
    pub fn output(&self, layer: usize) -> ArrayView2<'_, T> {
        rows_of(&self.seq.outs[layer], self.rows)
    }

    /// dL/d(output of top-level layer `l`) of the last backward pass, (rows, width).
    pub fn output_gradient(&self, layer: usize) -> ArrayView2<'_, T> {
        rows_of(&self.seq.grads[layer], self.rows)
    }

    /// The logits of the last forward pass.
    pub fn logits(&self) -> ArrayView2<'_, T> {
        self.seq.output(self.rows)
    }
}

/// What a layer keeps between its forward and backward pass in the workspace, besides its
/// input and output (which are the neighbouring buffers).
#[derive(Debug)]
pub(crate) enum Scratch<T> {
    /// Dense and activation layers keep nothing more.
    None,
    /// LayerNorm: each row's mean and 1/σ.
    Rows { mean: Vec<T>, rstd: Vec<T> },
    /// BatchNorm: each feature's statistics.
    Features(BatchStats<T>),
    /// A residual block: its branch's buffers.
    Residual(Box<ResidualBuffers<T>>),
}

/// A residual block's buffers.
#[derive(Debug)]
pub(crate) struct ResidualBuffers<T> {
    /// The branch's sequence.
    pub body: SeqBuffers<T>,
    /// dx through the projection, (capacity, in) (empty without projection).
    pub skip_dx: Array2<T>,
}

/// Buffers of a sequence of layers (the network, or a residual branch).
#[derive(Debug)]
pub(crate) struct SeqBuffers<T> {
    /// outs[l]: layer l's output, (capacity, width_l).
    outs: Vec<Array2<T>>,
    /// grads[l]: dL/d(layer l's output), (capacity, width_l).
    grads: Vec<Array2<T>>,
    scratch: Vec<Scratch<T>>,
    /// The first parameter tensor of each layer, counted from the sequence's first.
    first: Vec<usize>,
}

impl<T: Float> SeqBuffers<T> {
    fn new(layers: &[Layer<T>], inputs: usize, capacity: usize) -> Self {
        let mut width = inputs;
        let mut first = 0;
        let mut buffers = SeqBuffers {
            outs: Vec::new(),
            grads: Vec::new(),
            scratch: Vec::new(),
            first: Vec::new(),
        };
        for layer in layers {
            let out = layer.output_width(width);
            buffers.outs.push(Array2::zeros((capacity, out)));
            buffers.grads.push(Array2::zeros((capacity, out)));
            buffers.scratch.push(match layer {
                Layer::LayerNorm(_) => Scratch::Rows {
                    mean: vec![T::zero(); capacity],
                    rstd: vec![T::zero(); capacity],
                },
                Layer::BatchNorm(n) => Scratch::Features(BatchStats::new(n.features())),
                Layer::Residual(r) => {
                    Scratch::Residual(Box::new(residual_buffers(r, width, capacity)))
                }
                _ => Scratch::None,
            });
            buffers.first.push(first);
            first += layer.tensor_count();
            width = out;
        }
        buffers
    }

    /// The last layer's output, (rows, width).
    pub fn output(&self, rows: usize) -> ArrayView2<'_, T> {
        rows_of(self.outs.last().expect("a sequence has layers"), rows)
    }

    /// The last layer's output gradient buffer, (rows, width), writable.
    pub fn top_gradient(&mut self, rows: usize) -> ArrayViewMut2<'_, T> {
        prefix_mut(self.grads.last_mut().expect("a sequence has layers"), rows)
    }
}

fn residual_buffers<T: Float>(
    r: &Residual<T>,
    width: usize,
    capacity: usize,
) -> ResidualBuffers<T> {
    ResidualBuffers {
        body: SeqBuffers::new(&r.body, width, capacity),
        skip_dx: match r.projection {
            Some(_) => Array2::zeros((capacity, width)),
            None => Array2::zeros((0, 0)),
        },
    }
}

/// The first `rows` rows of a workspace buffer, writable.
pub(crate) fn rows_mut<T>(a: &mut Array2<T>, rows: usize) -> ArrayViewMut2<'_, T> {
    prefix_mut(a, rows)
}

/// Runs `layers` forward on `x`, each writing its output into its buffer.
pub(crate) fn forward_sequence<T: Float>(
    layers: &[Layer<T>],
    x: ArrayView2<T>,
    buffers: &mut SeqBuffers<T>,
    mode: Mode,
    gemm: &mut GemmScratch<T>,
    threads: usize,
) {
    let rows = x.nrows();
    for (l, layer) in layers.iter().enumerate() {
        let (done, rest) = buffers.outs.split_at_mut(l);
        let input = if l == 0 {
            x.view()
        } else {
            rows_of(&done[l - 1], rows)
        };
        let out = prefix_mut(&mut rest[0], rows);
        layer.forward_into(input, out, &mut buffers.scratch[l], mode, gemm, threads);
    }
}

/// Runs `layers` backward from the gradient already in the last layer's gradient buffer,
/// down to `dx` (dL/dx of the sequence's input, when wanted), writing each layer's parameter
/// gradients into `grads` from tensor `first` on.
#[allow(clippy::too_many_arguments)] // the sequence, its input, buffers, dx, gradients and the GEMM's settings
pub(crate) fn backward_sequence<T: Float>(
    layers: &[Layer<T>],
    x: ArrayView2<T>,
    buffers: &mut SeqBuffers<T>,
    mut dx: Option<ArrayViewMut2<T>>,
    grads: &mut ParamList<T>,
    first: usize,
    gemm: &mut GemmScratch<T>,
    threads: usize,
) {
    let rows = x.nrows();
    for l in (0..layers.len()).rev() {
        let input = if l == 0 {
            x.view()
        } else {
            rows_of(&buffers.outs[l - 1], rows)
        };
        let output = rows_of(&buffers.outs[l], rows);
        let (below, here) = buffers.grads.split_at_mut(l);
        let dy = rows_of(&here[0], rows);
        let target = if l > 0 {
            Some(prefix_mut(&mut below[l - 1], rows))
        } else {
            dx.take()
        };
        layers[l].backward_into(
            input,
            output,
            dy,
            target,
            &mut buffers.scratch[l],
            grads,
            first + buffers.first[l],
            gemm,
            threads,
        );
    }
}

/// The walk of [`Network::lsuv`]: its settings, the next dense place, and the places that
/// could not be rescaled.
struct Lsuv {
    tolerance: f64,
    max_iterations: usize,
    next: usize,
    stuck: Vec<usize>,
}

impl Lsuv {
    /// Rescales the dense layers of `layers` in order on the input `h`; returns the
    /// sequence's output with the rescaled weights.
    fn sequence<T: Float>(&mut self, layers: &mut [Layer<T>], mut h: Array2<T>) -> Array2<T> {
        for layer in layers {
            h = match layer {
                Layer::Dense(d) => self.dense(d, h.view()),
                Layer::Residual(r) => {
                    self.sequence(&mut r.body, h.clone());
                    if let Some(p) = &mut r.projection {
                        self.dense(p, h.view());
                    }
                    r.forward(h.view(), Mode::Train).0
                }
                other => other.forward(h.view(), Mode::Train).0,
            };
        }
        h
    }

    /// Scales `d`'s weights by 1/std of its output on `x` until the variance is within the
    /// tolerance of 1; returns the output.
    fn dense<T: Float>(&mut self, d: &mut Dense<T>, x: ArrayView2<T>) -> Array2<T> {
        let place = self.next;
        self.next += 1;
        let mut z = d.forward(x).0;
        for _ in 0..self.max_iterations {
            let var = crate::nn::stats::mean_std(z.iter()).1.powi(2);
            if !var.is_finite() || var <= 0.0 {
                self.stuck.push(place);
                break;
            }
            if (var - 1.0).abs() < self.tolerance {
                break;
            }
            let factor = T::of(1.0 / var.sqrt());
            d.weight.mapv_inplace(|w| w * factor);
            z = d.forward(x).0;
        }
        z
    }
}

/// Sets what a start decides beyond the dense layers: every norm layer's gain and shift, and
/// every residual block's α.
fn set_other_params<T: Float>(layers: &mut [Layer<T>], other: OtherParams) {
    for layer in layers {
        match layer {
            Layer::LayerNorm(n) => {
                n.gain.fill(T::of(other.norm_gain));
                n.shift.fill(T::of(other.norm_shift));
            }
            Layer::BatchNorm(n) => {
                n.gain.fill(T::of(other.norm_gain));
                n.shift.fill(T::of(other.norm_shift));
            }
            Layer::Residual(r) => {
                if let AlphaStart::Learnable(a) = other.alpha {
                    r.alpha = Alpha::Learnable(ndarray::Array1::from_elem(1, T::of(a)));
                }
                set_other_params(&mut r.body, other);
            }
            Layer::Dense(_) | Layer::Activation(_) | Layer::Scale(_) => {}
        }
    }
}
