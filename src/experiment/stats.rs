//! The probe: per-layer statistics of a run on a fixed batch of training rows at every
//! logged epoch (`layers.csv`). The measurements themselves live in the engine
//! ([`crate::nn::stats`]); this file only decides which rows to measure and when.
//!
//! Computed only at logged epochs, with buffers made once per run, so the training step
//! itself stays allocation-free.

use ndarray::{Array2, ArrayView2, Axis};

use crate::nn::drift::Drift;
use crate::nn::gemm::GemmScratch;
use crate::nn::histogram::{HistogramBin, Quantity};
use crate::nn::quantiles::{LayerQuantiles, layer_rows};
use crate::nn::stats::mean_std_f64;
use crate::nn::stats::{LayerStats, dead, mean_std, saturated};
use crate::nn::stats::{measure_histograms, measure_layers, update_ratio};
use crate::nn::{
    Activation, Float, Gradients, Layer, Mlp, Mode, Network, NetworkWorkspace, ParamKind,
    ParamList, ParamSet, Parameters, TargetsView, Workspace,
};

/// Rows of the probe batch at most.
pub const PROBE_ROWS: usize = 2048;

/// The rows of a training split of `n` rows that the probe (and LSUV) use: all of them
/// when there are at most [`PROBE_ROWS`], else [`PROBE_ROWS`] rows evenly spread over the
/// split, so that a split in file order (`test_fraction = 0` leaves it unshuffled), sorted
/// by class, still gives a probe with every class in it.
pub fn probe_rows(n: usize) -> Vec<usize> {
    if n <= PROBE_ROWS {
        (0..n).collect()
    } else {
        (0..PROBE_ROWS).map(|i| i * n / PROBE_ROWS).collect()
    }
}

/// The probe batch and the buffers to measure it.
pub struct Probe<T> {
    x: Array2<T>,
    labels: Vec<usize>,
    values: Option<Array2<T>>,
    workspace: Workspace<T>,
    /// dL/dz of the output layer, per row.
    delta_out: Array2<T>,
    gradients: Gradients<T>,
    /// Each layer's recomputed pre-activation, for the percentile bands (empty until the
    /// first call asks for them).
    pre_activation: Vec<Array2<T>>,
    gemm: GemmScratch<T>,
    scratch: Vec<f64>,
    /// Each layer's weights and outputs at the first measurement.
    drift: Drift<T>,
}

impl<T: Float> Probe<T> {
    /// A probe of the rows [`probe_rows`] picks from the training data.
    pub fn new(mlp: &Mlp<T>, x: ArrayView2<T>, targets: TargetsView<T>) -> Self {
        let rows = probe_rows(x.nrows());
        let (labels, values) = match targets {
            TargetsView::Classes(c) => (rows.iter().map(|&i| c[i]).collect(), None),
            TargetsView::Values(v) => (Vec::new(), Some(v.select(Axis(0), &rows))),
        };
        let outputs = mlp.layers.last().expect("at least one layer").outputs();
        Probe {
            x: x.select(Axis(0), &rows),
            labels,
            values,
            workspace: Workspace::new(mlp, rows.len().max(1)),
            delta_out: Array2::zeros((rows.len(), outputs)),
            gradients: Gradients::zeros_like(mlp),
            pre_activation: Vec::new(),
            gemm: GemmScratch::default(),
            scratch: Vec::new(),
            drift: Drift::new(),
        }
    }

    /// The probe's input rows (LSUV fits on them too).
    pub fn inputs(&self) -> ArrayView2<'_, T> {
        self.x.view()
    }

    /// Measures every layer of `mlp` at `epoch` ([`measure_layers`]), with the gradient of
    /// each probe row's own loss. `weights_before_step` are the weights before the
    /// optimizer's last step (the training loop's checkpoint gives them), for the update
    /// ratio; `None` leaves it empty.
    pub fn measure(
        &mut self,
        mlp: &Mlp<T>,
        weights_before_step: Option<&ParamList<T>>,
        epoch: usize,
    ) -> Vec<LayerStats> {
        let targets = match &self.values {
            Some(v) => TargetsView::Values(v.view()),
            None => TargetsView::Classes(&self.labels),
        };
        let logits = mlp.forward(self.x.view(), &mut self.workspace);
        // Scale 1: dL_i/dz of each row's own loss, not of the mean over the probe.
        mlp.loss
            .evaluate(logits, targets, Some(self.delta_out.view_mut()), 1.0);
        mlp.backward_from(
            self.delta_out.view(),
            self.x.view(),
            &mut self.workspace,
            &mut self.gradients,
        );
        let mut stats = measure_layers(mlp, &mut self.workspace, epoch);
        if let Some(before) = weights_before_step {
            for (l, (s, layer)) in stats.iter_mut().zip(&mlp.layers).enumerate() {
                // Tensor 2l is layer l's weight (the MLP's parameter numbering).
                let before = ArrayView2::from_shape(layer.weight.raw_dim(), before.tensor(2 * l))
                    .expect("a copy of the same parameters");
                s.update_ratio = update_ratio(before, layer.weight.view());
            }
        }
        for (l, s) in stats.iter_mut().enumerate() {
            (s.weight_change, s.feature_change) = self.drift.measure(
                l,
                mlp.layers[l].weight.iter(),
                self.workspace.output(l).iter(),
            );
        }
        stats
    }

    /// The per-layer histograms (`histograms.csv`) of the network [`Probe::measure`] last
    /// measured, from the same pass over the same probe rows: call it right after `measure`
    /// at the same `epoch`. See [`measure_histograms`].
    pub fn histograms(&mut self, mlp: &Mlp<T>, epoch: usize) -> Vec<HistogramBin> {
        measure_histograms(
            mlp,
            self.x.view(),
            &mut self.workspace,
            &self.gradients,
            epoch,
        )
    }
}

impl<T: Float> Probe<T> {
    /// The percentile bands (`quantiles.csv`) of every layer's pre-activation z and
    /// activation a from the pass [`Probe::measure`] just made at `epoch`. z is not kept by
    /// the fused forward pass (it activates in place), so it is recomputed with the same
    /// kernel and bias pass, as for the histograms, into a buffer kept from call to call.
    pub fn quantiles(&mut self, mlp: &Mlp<T>, epoch: usize) -> Vec<LayerQuantiles> {
        let rows = self.x.nrows();
        if self.pre_activation.is_empty() {
            self.pre_activation = mlp
                .layers
                .iter()
                .map(|layer| Array2::zeros((rows, layer.outputs())))
                .collect();
        }
        let mut out = Vec::with_capacity(4 * mlp.layers.len());
        for (l, layer) in mlp.layers.iter().enumerate() {
            let input = if l == 0 {
                self.x.view()
            } else {
                self.workspace.output(l - 1)
            };
            let z = &mut self.pre_activation[l];
            layer.forward_activate_into(
                input,
                z.slice_mut(ndarray::s![..rows, ..]),
                Activation::Identity,
                &mut self.gemm,
                1,
            );
            let z = z.slice(ndarray::s![..rows, ..]);
            out.extend(layer_rows(
                z,
                epoch,
                l + 1,
                Quantity::PreActivation,
                &mut self.scratch,
            ));
            let a = self.workspace.output(l);
            out.extend(layer_rows(
                a,
                epoch,
                l + 1,
                Quantity::Activation,
                &mut self.scratch,
            ));
        }
        out
    }
}

/// What a run's probe does at a logged epoch, for either engine: the per-layer statistics
/// (`layers.csv`) and, right after, the histograms (`histograms.csv`) of the same pass.
pub trait RunProbe<T, M> {
    /// Per-layer statistics of `model` at `epoch`; `before` (the parameters before the last
    /// step) gives the update ratio.
    fn measure(
        &mut self,
        model: &M,
        before: Option<&ParamList<T>>,
        epoch: usize,
    ) -> Vec<LayerStats>;
    /// The histograms of the pass [`RunProbe::measure`] just made.
    fn histograms(&mut self, model: &M, epoch: usize) -> Vec<HistogramBin>;
    /// The percentile bands of the pass [`RunProbe::measure`] just made.
    fn quantiles(&mut self, model: &M, epoch: usize) -> Vec<LayerQuantiles>;
}

impl<T: Float> RunProbe<T, Mlp<T>> for Probe<T> {
    fn measure(
        &mut self,
        model: &Mlp<T>,
        before: Option<&ParamList<T>>,
        epoch: usize,
    ) -> Vec<LayerStats> {
        Probe::measure(self, model, before, epoch)
    }
    fn histograms(&mut self, model: &Mlp<T>, epoch: usize) -> Vec<HistogramBin> {
        Probe::histograms(self, model, epoch)
    }
    fn quantiles(&mut self, model: &Mlp<T>, epoch: usize) -> Vec<LayerQuantiles> {
        Probe::quantiles(self, model, epoch)
    }
}

impl<T: Float> RunProbe<T, Network<T>> for NetworkProbe<T> {
    fn measure(
        &mut self,
        model: &Network<T>,
        before: Option<&ParamList<T>>,
        epoch: usize,
    ) -> Vec<LayerStats> {
        NetworkProbe::measure(self, model, before, epoch)
    }
    fn histograms(&mut self, model: &Network<T>, epoch: usize) -> Vec<HistogramBin> {
        NetworkProbe::histograms(self, model, epoch)
    }
    fn quantiles(&mut self, _: &Network<T>, epoch: usize) -> Vec<LayerQuantiles> {
        NetworkProbe::quantiles(self, epoch)
    }
}

/// The probe of a run on the layer engine ([`Network`]): the same measurements as
/// [`Probe`], one `layers.csv` row per *stage* of the network. A stage starts at each
/// top-level dense layer or residual block and runs to the next one, so its row measures
/// what the stage hands on:
///
/// - dense → (norm) → activation: the activation's output, as for a plain network (a
///   norm layer's row is therefore after normalizing and after the activation);
/// - a residual block (with a post-norm after it): the block's output x + α·F(x);
/// - the output layer: the logits.
///
/// `weight_std` and `update_ratio` pool every dense weight of the stage (a residual block's
/// branch and projection). Saturated and dead fractions are reported when the stage ends in
/// a bounded or ReLU activation.
pub struct NetworkProbe<T> {
    x: Array2<T>,
    labels: Vec<usize>,
    values: Option<Array2<T>>,
    workspace: NetworkWorkspace<T>,
    delta_out: Array2<T>,
    gradients: ParamList<T>,
    stages: Vec<Stage>,
    /// Values being selected for the percentile bands (grown once, kept).
    scratch: Vec<f64>,
    /// Each stage's weights and output at the first measurement.
    drift: Drift<T>,
}

/// One stage: its top-level layers `first..=last`, its weight tensors, and the activation
/// its output comes from (if it ends in one).
struct Stage {
    first: usize,
    last: usize,
    weights: Vec<usize>,
    activation: Option<Activation>,
}

impl<T: Float> NetworkProbe<T> {
    /// The probe's rows, (rows, features): what LSUV rescales on, as for [`Probe`].
    pub fn inputs(&self) -> ArrayView2<'_, T> {
        self.x.view()
    }

    /// A probe of the rows [`probe_rows`] picks from the training data.
    pub fn new(network: &Network<T>, x: ArrayView2<T>, targets: TargetsView<T>) -> Self {
        let rows = probe_rows(x.nrows());
        let (labels, values) = match targets {
            TargetsView::Classes(c) => (rows.iter().map(|&i| c[i]).collect(), None),
            TargetsView::Values(v) => (Vec::new(), Some(v.select(Axis(0), &rows))),
        };
        let mut workspace = NetworkWorkspace::new(network, rows.len().max(1));
        workspace.mode = Mode::Eval;
        NetworkProbe {
            x: x.select(Axis(0), &rows),
            labels,
            values,
            workspace,
            delta_out: Array2::zeros((rows.len(), network.outputs())),
            gradients: ParamList::zeros_like(network),
            stages: stages(network),
            scratch: Vec::new(),
            drift: Drift::new(),
        }
    }

    /// Measures every stage of `network` at `epoch` in evaluation mode, with the gradient of
    /// each probe row's own loss; `before` (the parameters before the last step) gives the
    /// update ratio.
    pub fn measure(
        &mut self,
        network: &Network<T>,
        before: Option<&ParamList<T>>,
        epoch: usize,
    ) -> Vec<LayerStats> {
        let targets = match &self.values {
            Some(v) => TargetsView::Values(v.view()),
            None => TargetsView::Classes(&self.labels),
        };
        let logits = network.forward(self.x.view(), &mut self.workspace);
        network
            .loss
            .evaluate(logits, targets, Some(self.delta_out.view_mut()), 1.0);
        network.backward_from(
            self.delta_out.view(),
            self.x.view(),
            &mut self.workspace,
            &mut self.gradients,
        );
        let count = self.stages.len();
        let mut stats: Vec<LayerStats> = self
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let a = self.workspace.output(stage.last);
                let hidden = i + 1 < count;
                let activation = stage.activation.filter(|_| hidden);
                let weights = stage.weights.iter().flat_map(|&k| network.tensor(k).iter());
                let (activation_mean, activation_std) = mean_std(a.iter());
                LayerStats {
                    epoch,
                    layer: i + 1,
                    activation_mean,
                    activation_std,
                    saturated_fraction: activation
                        .and_then(|f| f.bounds())
                        .map(|(low, high)| saturated(a, low, high)),
                    dead_fraction: activation.filter(|f| f.can_die()).map(|_| dead(a)),
                    gradient_std: mean_std(self.workspace.output_gradient(stage.last).iter()).1,
                    weight_std: mean_std(weights).1,
                    update_ratio: before.and_then(|before| {
                        let (_, before_std) =
                            mean_std(stage.weights.iter().flat_map(|&k| before.tensor(k).iter()));
                        let steps = stage.weights.iter().flat_map(|&k| {
                            network
                                .tensor(k)
                                .iter()
                                .zip(before.tensor(k))
                                .map(|(a, b)| a.f64() - b.f64())
                        });
                        let (_, step_std) = mean_std_f64(steps);
                        (before_std > 0.0 && before_std.is_finite())
                            .then(|| step_std / before_std)
                            .filter(|r| r.is_finite())
                    }),
                    weight_change: None,
                    feature_change: None,
                }
            })
            .collect();
        for (i, (s, stage)) in stats.iter_mut().zip(&self.stages).enumerate() {
            (s.weight_change, s.feature_change) = self.drift.measure(
                i,
                stage.weights.iter().flat_map(|&k| network.tensor(k).iter()),
                self.workspace.output(stage.last).iter(),
            );
        }
        stats
    }
}

impl<T: Float> NetworkProbe<T> {
    /// The per-stage histograms (`histograms.csv`) of the network [`NetworkProbe::measure`]
    /// last measured, from the same pass: call it right after `measure` at the same `epoch`.
    /// A stage's `pre_activation` is the input of its final activation (for a stage that
    /// ends in a residual block or is the output layer, its output, as the logits are for a
    /// plain network); `activation` and `gradient` are the stage's output and dL/d(output)
    /// per row, `weight` and `weight_gradient` pool its dense weights (the gradient of the
    /// mean probe loss).
    pub fn histograms(&mut self, network: &Network<T>, epoch: usize) -> Vec<HistogramBin> {
        let rows = self.x.nrows().max(1) as f64;
        let count = self.stages.len();
        let mut out = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let hidden = i + 1 < count;
            let activation = stage
                .activation
                .filter(|_| hidden)
                .unwrap_or(Activation::Identity);
            let output = self.workspace.output(stage.last);
            let pre = if stage.activation.is_some() && stage.last > stage.first {
                self.workspace.output(stage.last - 1)
            } else {
                output
            };
            let gradient = self.workspace.output_gradient(stage.last);
            for quantity in Quantity::ALL {
                let bins = quantity.bins(Some(activation));
                let weights = stage.weights.iter();
                let counts = match quantity {
                    Quantity::PreActivation => bins.count(pre.iter().map(|v| v.f64())),
                    Quantity::Activation => bins.count(output.iter().map(|v| v.f64())),
                    Quantity::Gradient => bins.count(gradient.iter().map(|v| v.f64())),
                    Quantity::Weight => {
                        bins.count(weights.flat_map(|&k| network.tensor(k).iter().map(|v| v.f64())))
                    }
                    Quantity::WeightGradient => bins.count(weights.flat_map(|&k| {
                        self.gradients.tensor(k).iter().map(move |v| v.f64() / rows)
                    })),
                };
                out.extend(counts.iter().enumerate().filter(|(_, c)| **c > 0).map(
                    |(b, &count)| {
                        let (bin_low, bin_high) = bins.range(b);
                        HistogramBin {
                            epoch,
                            layer: i + 1,
                            quantity,
                            bin_low,
                            bin_high,
                            count,
                        }
                    },
                ));
            }
        }
        out
    }
}

impl<T: Float> NetworkProbe<T> {
    /// The percentile bands (`quantiles.csv`) of every stage's pre-activation (the input of
    /// its final activation, as in [`NetworkProbe::histograms`]) and output, from the pass
    /// [`NetworkProbe::measure`] just made at `epoch`.
    pub fn quantiles(&mut self, epoch: usize) -> Vec<LayerQuantiles> {
        let mut out = Vec::with_capacity(4 * self.stages.len());
        for (i, stage) in self.stages.iter().enumerate() {
            let output = self.workspace.output(stage.last);
            let pre = if stage.activation.is_some() && stage.last > stage.first {
                self.workspace.output(stage.last - 1)
            } else {
                output
            };
            for (quantity, values) in [
                (Quantity::PreActivation, pre),
                (Quantity::Activation, output),
            ] {
                out.extend(layer_rows(
                    values,
                    epoch,
                    i + 1,
                    quantity,
                    &mut self.scratch,
                ));
            }
        }
        out
    }
}

/// The stages of `network` (see [`NetworkProbe`]).
fn stages<T: Float>(network: &Network<T>) -> Vec<Stage> {
    let infos = network.infos();
    let starts: Vec<usize> = (0..network.layers.len())
        .filter(|&l| l == 0 || matches!(network.layers[l], Layer::Dense(_) | Layer::Residual(_)))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &first)| {
            let last = starts
                .get(i + 1)
                .map_or(network.layers.len() - 1, |&n| n - 1);
            let weights = infos
                .iter()
                .enumerate()
                .filter(|(_, info)| {
                    let top: usize = info
                        .layer
                        .split('.')
                        .next()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(usize::MAX);
                    info.kind == ParamKind::Weight && (first..=last).contains(&top)
                })
                .map(|(k, _)| k)
                .collect();
            let activation = match network.layers[last] {
                Layer::Activation(a) => Some(a),
                _ => None,
            };
            Stage {
                first,
                last,
                weights,
                activation,
            }
        })
        .collect()
}

/// The logged epochs at which histograms are kept: `count` of the logged epochs
/// 0, `log_every`, 2·`log_every`, …, `epochs` (the last always logged), evenly spaced from
/// the first to the last (both included when `count` ≥ 2; only epoch 0 when `count` = 1;
/// none when 0; every logged epoch when `count` is at least their number).
pub fn histogram_epochs(epochs: usize, log_every: usize, count: usize) -> Vec<usize> {
    // The logged epochs are computed, not listed: a long run logs millions of them, and
    // only `count` are wanted.
    let step = log_every.max(1);
    let n = (epochs / step) as u128 + 1 + u128::from(epochs % step != 0);
    let logged = |k: u128| (k.saturating_mul(step as u128)).min(epochs as u128) as usize;
    match count {
        0 => Vec::new(),
        1 => vec![0],
        c if c as u128 >= n => (0..n).map(logged).collect(),
        c => {
            let (n, c) = (n - 1, (c - 1) as u128);
            let mut picked: Vec<usize> = (0..=c).map(|i| logged((i * n + c / 2) / c)).collect();
            picked.dedup();
            picked
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, Target};
    use crate::experiment::prepare::prepare;
    use crate::experiment::spec::DataSpec;
    use crate::nn::{Activation, Loss};
    use ndarray::array;
    use rand::SeedableRng;

    /// A 1-2-1 ReLU network with hand-chosen weights: every statistic by hand.
    #[test]
    fn statistics_of_a_tiny_network_by_hand() {
        let mut mlp = Mlp::<f64>::new(&[1, 2, 1], &[Activation::Relu], Loss::Mse);
        mlp.layers[0].weight = array![[1.0], [-1.0]];
        mlp.layers[1].weight = array![[2.0, 3.0]];
        let x = array![[1.0], [2.0]];
        let y = array![[0.0], [0.0]];
        let mut probe = Probe::new(&mlp, x.view(), TargetsView::Values(y.view()));
        let stats = probe.measure(&mlp, None, 0);
        // Hidden outputs: rows [1, 0] and [2, 0] → values {1, 0, 2, 0}: mean 0.75,
        // var = (0.0625 + 0.5625 + 1.5625 + 0.5625)/4 = 0.6875. Unit 2 never fires: dead 1/2.
        let h = &stats[0];
        assert_eq!(h.layer, 1);
        assert!((h.activation_mean - 0.75).abs() < 1e-15);
        assert!((h.activation_std - 0.6875f64.sqrt()).abs() < 1e-15);
        assert_eq!(h.dead_fraction, Some(0.5));
        assert_eq!(h.saturated_fraction, None);
        // Output z = 2·h1: [2, 4]; per-row MSE gradient dL_i/dz = 2(z − 0) = [4, 8]: std 2
        // (the probe's two rows do not halve it).
        let o = &stats[1];
        assert!((o.activation_mean - 3.0).abs() < 1e-15);
        assert!((o.gradient_std - 2.0).abs() < 1e-15);
        // Hidden dL/da = [4, 8]ᵀ·[2, 3] = [[8, 12], [16, 24]], the dead unit included (dL/da,
        // not dL/dz): values {8, 12, 16, 24}: mean 15, var (49 + 9 + 1 + 81)/4 = 35.
        assert!((h.gradient_std - 35f64.sqrt()).abs() < 1e-12);
        // Weight std of layer 1: {1, −1} → 1; of layer 2: {2, 3} → 0.5.
        assert!((h.weight_std - 1.0).abs() < 1e-15);
        assert!((o.weight_std - 0.5).abs() < 1e-15);
        // No step given → no update ratio. Layer 1 moved from {0.5, −0.5} (std 0.5) to
        // {1, −1}: step {0.5, −0.5}, std 0.5, ratio 1. Layer 2 moved from {1.5, 2.5} by
        // {0.5, 0.5}: step std 0, ratio 0.
        assert_eq!(h.update_ratio, None);
        let mut before = ParamList::copy_of(&mlp);
        before.tensor_mut(0).copy_from_slice(&[0.5, -0.5]);
        before.tensor_mut(2).copy_from_slice(&[1.5, 2.5]);
        let stats = probe.measure(&mlp, Some(&before), 1);
        assert_eq!(stats[0].update_ratio, Some(1.0));
        assert_eq!(stats[1].update_ratio, Some(0.0));
    }

    fn sorted_by_class(n: usize) -> Dataset {
        let labels: Vec<usize> = (0..n).map(|i| 3 * i / n).collect();
        Dataset {
            features: Array2::from_shape_fn((n, 2), |(i, j)| (i + j) as f64),
            target: Target::Classes {
                labels,
                n_classes: 3,
            },
            feature_names: vec!["x1".into(), "x2".into()],
        }
    }

    /// With `test_fraction = 0` the training split is the file in file order; the probe
    /// must still see every class when the file is longer than the probe.
    #[test]
    fn histogram_epochs_evenly_spaced() {
        assert_eq!(histogram_epochs(20, 1, 5), vec![0, 5, 10, 15, 20]);
        assert_eq!(histogram_epochs(20, 1, 0), Vec::<usize>::new());
        assert_eq!(histogram_epochs(20, 1, 1), vec![0]);
        assert_eq!(histogram_epochs(20, 1, 2), vec![0, 20]);
        assert_eq!(histogram_epochs(3, 1, 9), vec![0, 1, 2, 3]);
        // xor: 2000 epochs logged every 20 → 101 logged epochs; 5 of them.
        assert_eq!(
            histogram_epochs(2000, 20, 5),
            vec![0, 500, 1000, 1500, 2000]
        );
        // The last epoch is logged even off the log_every grid.
        assert_eq!(histogram_epochs(10, 4, 9), vec![0, 4, 8, 10]);
        assert_eq!(histogram_epochs(10, 4, 3), vec![0, 8, 10]);
        // Without listing the logged epochs: 2⁴⁰ of them would not fit in memory.
        let e = 1usize << 40;
        assert_eq!(histogram_epochs(e, 1, 3), vec![0, e / 2, e]);
        assert_eq!(histogram_epochs(usize::MAX, 1, 2), vec![0, usize::MAX]);
        assert_eq!(histogram_epochs(usize::MAX, 7, 1), vec![0]);
    }

    #[test]
    fn probe_of_an_unsplit_file_sorted_by_class() {
        let spec: DataSpec = toml::from_str("source = \"csv\"\ntest_fraction = 0.0").unwrap();
        let mlp = Mlp::<f64>::new(&[2, 3], &[], Loss::SoftmaxCrossEntropy);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);

        // Small file: the probe is the whole training split, row for row.
        let small = sorted_by_class(300);
        let data = prepare::<f64>(&small, &spec, &mut rng);
        let probe = Probe::new(&mlp, data.train.x.view(), data.train.targets.view());
        assert_eq!(probe.inputs(), small.features.view());
        let Target::Classes { labels, .. } = &small.target else {
            unreachable!()
        };
        assert_eq!(&probe.labels, labels);

        // Long file: PROBE_ROWS rows spread over it, each class about a third of them.
        let long = sorted_by_class(3 * PROBE_ROWS);
        let data = prepare::<f64>(&long, &spec, &mut rng);
        let probe = Probe::new(&mlp, data.train.x.view(), data.train.targets.view());
        assert_eq!(probe.labels.len(), PROBE_ROWS);
        for class in 0..3 {
            let count = probe.labels.iter().filter(|&&c| c == class).count();
            assert!(
                count.abs_diff(PROBE_ROWS / 3) <= 1,
                "class {class}: {count} of {PROBE_ROWS} probe rows"
            );
        }
        assert_eq!(probe.inputs().row(1), long.features.row(3));
    }
}
