//! The layer engine ([`Network`]) proven three ways:
//!
//! - finite differences: every layer kind × every activation × every loss, f64, in training
//!   and evaluation mode, for every parameter tensor and the input;
//! - its workspace path gives exactly the reference loop's numbers;
//! - on a plain chain of dense layers it gives exactly the bits of the fused fast path
//!   ([`Mlp`]), so the two engines are one specification.

use initlab::nn::activation::{ALL_ACTIVATIONS, INPUT_DERIVATIVE_ACTIVATIONS};
use initlab::nn::dense::Dense;
use initlab::nn::gradcheck::{compare, numeric_gradient};
use initlab::nn::loss::ALL_LOSSES;
use initlab::nn::{
    Activation, Alpha, BatchNorm, Gradients, Init, Layer, LayerNorm, Loss, Mlp, Mode, Network,
    NetworkWorkspace, ParamList, ParamSet, Parameters, Residual, TargetsView, Workspace,
};
use ndarray::{Array1, Array2};

fn every_activation() -> Vec<Activation> {
    ALL_ACTIVATIONS
        .iter()
        .chain(&INPUT_DERIVATIVE_ACTIVATIONS)
        .copied()
        .collect()
}

fn inputs(rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        (1.3 * i as f64 + 0.7 * j as f64 + 0.2).sin() * 1.5
    })
}

/// Targets for `loss` with `outputs` logits.
fn targets(loss: Loss, rows: usize, outputs: usize) -> (Vec<usize>, Array2<f64>) {
    let classes = if outputs == 1 { 2 } else { outputs };
    let labels = (0..rows).map(|i| (i * 2 + 1) % classes).collect();
    let values = Array2::from_shape_fn((rows, outputs), |(i, j)| {
        if loss == Loss::Mse {
            (i + j) as f64 / 4.0 - 0.5
        } else {
            ((i + j) % 2) as f64
        }
    });
    (labels, values)
}

/// One network per layer kind, each with `a` as its activation.
fn networks(a: Activation, outputs: usize) -> Vec<(&'static str, Vec<Layer<f64>>)> {
    let dense = |i, o| Layer::Dense(Dense::zeros(i, o));
    let alpha = Alpha::Learnable(Array1::from_elem(1, 0.7));
    vec![
        (
            "dense",
            vec![dense(3, 4), Layer::Activation(a), dense(4, outputs)],
        ),
        (
            "layernorm",
            vec![
                dense(3, 4),
                Layer::LayerNorm(LayerNorm::new(4)),
                Layer::Activation(a),
                dense(4, outputs),
            ],
        ),
        (
            "batchnorm",
            vec![
                dense(3, 4),
                Layer::BatchNorm(BatchNorm::new(4)),
                Layer::Activation(a),
                dense(4, outputs),
            ],
        ),
        (
            "residual",
            vec![
                dense(3, 4),
                Layer::Residual(Residual {
                    body: vec![Layer::Activation(a), dense(4, 4)],
                    projection: None,
                    alpha,
                }),
                dense(4, outputs),
            ],
        ),
        (
            "residual-projection",
            vec![
                dense(3, 4),
                Layer::Residual(Residual {
                    body: vec![
                        Layer::LayerNorm(LayerNorm::new(4)),
                        dense(4, 5),
                        Layer::Activation(a),
                    ],
                    projection: Some(Dense::zeros(4, 5)),
                    alpha: Alpha::Fixed(1.0),
                }),
                dense(5, outputs),
            ],
        ),
    ]
}

/// Random-looking parameters (norm gains away from 1, running statistics away from 0/1).
fn fill(network: &mut Network<f64>, seed: usize) {
    for k in 0..network.tensor_count() {
        for (e, v) in network.tensor_mut(k).iter_mut().enumerate() {
            // Irrational values: no pre-activation lands exactly on a kink (ReLU, SELU at 0).
            *v = 0.8 * (1.7 * k as f64 + 0.9 * e as f64 + seed as f64).sin();
        }
    }
    for layer in &mut network.layers {
        if let Layer::BatchNorm(n) = layer {
            n.running_mean.fill(0.2);
            n.running_var.fill(1.7);
        }
    }
}

fn loss_at(network: &Network<f64>, x: &Array2<f64>, t: TargetsView<f64>, mode: Mode) -> f64 {
    network.reference_gradients(x.view(), t, mode).0
}

#[test]
fn every_layer_activation_and_loss_passes_finite_differences() {
    let mut checked = 0;
    for loss in ALL_LOSSES {
        let outputs = if loss == Loss::SoftmaxCrossEntropy {
            3
        } else {
            1
        };
        for a in every_activation() {
            for (name, layers) in networks(a, outputs) {
                for mode in [Mode::Train, Mode::Eval] {
                    let mut network = Network::new(3, layers.clone(), loss).unwrap();
                    fill(&mut network, checked);
                    let x = inputs(6, 3);
                    let (labels, values) = targets(loss, 6, outputs);
                    let t = match loss {
                        Loss::SoftmaxCrossEntropy | Loss::BinaryCrossEntropy => {
                            TargetsView::Classes(&labels)
                        }
                        _ => TargetsView::Values(values.view()),
                    };
                    let (_, grads) = network.reference_gradients(x.view(), t, mode);
                    for k in 0..network.tensor_count() {
                        let mut values: Vec<f64> = network.tensor(k).to_vec();
                        let numeric = numeric_gradient(&mut values, |p| {
                            let mut probe = network.clone();
                            probe.tensor_mut(k).copy_from_slice(p);
                            loss_at(&probe, &x, t, mode)
                        });
                        let e = compare(network.info(k).label(), grads.tensor(k), &numeric);
                        assert!(
                            e.relative < 1e-6 || e.max_abs < 1e-8,
                            "{name} {a} {loss} {mode:?}: {e:?}"
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 4 * 10 * 5 * 2);
}

/// dL/dx through every layer kind (the input gradient the layer below receives).
#[test]
fn input_gradients_pass_finite_differences() {
    for a in every_activation() {
        for (name, layers) in networks(a, 3) {
            let mut network = Network::new(3, layers.clone(), Loss::SoftmaxCrossEntropy).unwrap();
            fill(&mut network, 5);
            let labels = vec![0, 2, 1, 1, 0];
            let x = inputs(5, 3);
            let (logits, caches) = network.reference_forward(x.view(), Mode::Train);
            // Back-propagate the loss gradient through every layer by hand.
            let mut delta = Array2::zeros(logits.raw_dim());
            network.loss.evaluate(
                logits.view(),
                TargetsView::Classes(&labels),
                Some(delta.view_mut()),
                1.0 / 5.0,
            );
            for (layer, cache) in network.layers.iter().zip(&caches).rev() {
                delta = layer.backward(delta.view(), cache).0;
            }
            let mut flat: Vec<f64> = x.iter().copied().collect();
            let numeric = numeric_gradient(&mut flat, |v| {
                let xv = Array2::from_shape_vec((5, 3), v.to_vec()).unwrap();
                loss_at(&network, &xv, TargetsView::Classes(&labels), Mode::Train)
            });
            let dx: Vec<f64> = delta.iter().copied().collect();
            let e = compare("input", &dx, &numeric);
            assert!(e.relative < 1e-6, "{name} {a}: {e:?}");
        }
    }
}

/// The workspace path (what training runs) gives the reference loop's loss and gradients
/// exactly, in both modes, for every layer kind and activation, f32 and f64.
#[test]
fn workspace_path_equals_the_reference_exactly() {
    for a in every_activation() {
        for (name, layers) in networks(a, 3) {
            let mut network = Network::new(3, layers.clone(), Loss::SoftmaxCrossEntropy).unwrap();
            fill(&mut network, 2);
            let labels = vec![0, 2, 1, 1, 0, 2, 2];
            let x = inputs(7, 3);
            for mode in [Mode::Train, Mode::Eval] {
                let (loss, expected) =
                    network.reference_gradients(x.view(), TargetsView::Classes(&labels), mode);
                let mut ws = NetworkWorkspace::new(&network, 9);
                ws.mode = mode;
                let mut grads = ParamList::zeros_like(&network);
                let fast = network.loss_and_gradients(
                    x.view(),
                    TargetsView::Classes(&labels),
                    &mut ws,
                    &mut grads,
                );
                assert_eq!(fast, loss, "{name} {a} {mode:?}");
                assert_eq!(grads, expected, "{name} {a} {mode:?}");
            }
        }
    }
}

/// On a plain chain the layer engine computes exactly what the fused fast path computes:
/// the same loss and gradient bits, every activation of the fast path, every loss, f32 and
/// f64; and both engines start the same from the same seed.
#[test]
fn plain_chains_match_the_fast_path_bit_for_bit() {
    fn check<T: initlab::nn::Float>(a: Activation, loss: Loss) {
        let outputs = if loss == Loss::SoftmaxCrossEntropy {
            3
        } else {
            1
        };
        let mut mlp = Mlp::<T>::new(&[4, 9, 7, outputs], &[a, a], loss);
        mlp.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 11);
        let mut network = Network::from_mlp(&Mlp::<T>::new(&[4, 9, 7, outputs], &[a, a], loss));
        network.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 11);
        assert_eq!(network, Network::from_mlp(&mlp), "{a}: the same start");
        let x = inputs(13, 4).mapv(T::of);
        let (labels, values) = targets(loss, 13, outputs);
        let values = values.mapv(T::of);
        let t = match loss {
            Loss::SoftmaxCrossEntropy | Loss::BinaryCrossEntropy => TargetsView::Classes(&labels),
            _ => TargetsView::Values(values.view()),
        };
        let mut ws = Workspace::new(&mlp, 13);
        let mut fast = Gradients::zeros_like(&mlp);
        let fast_loss = mlp.loss_and_gradients(x.view(), t, &mut ws, &mut fast);
        let mut nws = NetworkWorkspace::new(&network, 13);
        let mut grads = ParamList::zeros_like(&network);
        let loss_value = network.loss_and_gradients(x.view(), t, &mut nws, &mut grads);
        assert_eq!(loss_value, fast_loss, "{a} {loss}");
        assert_eq!(grads, ParamList::copy_of(&fast), "{a} {loss}");
    }
    for a in ALL_ACTIVATIONS {
        for loss in ALL_LOSSES {
            check::<f32>(a, loss);
            check::<f64>(a, loss);
        }
    }
}

/// BatchNorm's running statistics follow PyTorch's rule: after one training step from
/// (0, 1) they are 0.1 × the batch mean and 0.9 + 0.1 × the unbiased batch variance.
#[test]
fn batch_norm_running_statistics_by_hand() {
    let layers = vec![
        Layer::BatchNorm(BatchNorm::new(2)),
        Layer::Dense(Dense::zeros(2, 2)),
    ];
    let mut network = Network::new(2, layers, Loss::SoftmaxCrossEntropy).unwrap();
    let x = ndarray::array![[1.0, 10.0], [3.0, 10.0], [8.0, 13.0]];
    let mut ws = NetworkWorkspace::new(&network, 3);
    let mut grads = ParamList::zeros_like(&network);
    network.loss_and_gradients(
        x.view(),
        TargetsView::Classes(&[0, 1, 0]),
        &mut ws,
        &mut grads,
    );
    network.update_running_statistics(&ws);
    let Layer::BatchNorm(n) = &network.layers[0] else {
        unreachable!()
    };
    // Column 0: mean 4, unbiased variance (9 + 1 + 16)/2 = 13; column 1: mean 11, 3.
    assert!((n.running_mean[0] - 0.4_f64).abs() < 1e-15);
    assert!((n.running_mean[1] - 1.1_f64).abs() < 1e-15);
    assert!((n.running_var[0] - (0.9_f64 + 1.3)).abs() < 1e-14);
    assert!((n.running_var[1] - (0.9_f64 + 0.3)).abs() < 1e-14);
    // An evaluation pass leaves them alone.
    ws.mode = Mode::Eval;
    network.loss_and_gradients(
        x.view(),
        TargetsView::Classes(&[0, 1, 0]),
        &mut ws,
        &mut grads,
    );
    let before = network.clone();
    network.update_running_statistics(&ws);
    assert_eq!(network, before);
}

#[test]
fn widths_that_do_not_chain_are_refused() {
    let bad = Network::<f64>::new(
        3,
        vec![
            Layer::Dense(Dense::zeros(3, 4)),
            Layer::Residual(Residual {
                body: vec![Layer::Dense(Dense::zeros(4, 5))],
                projection: None,
                alpha: Alpha::Fixed(1.0),
            }),
        ],
        Loss::Mse,
    )
    .unwrap_err();
    assert!(bad.contains("projection"), "{bad}");
    let bad =
        Network::<f64>::new(3, vec![Layer::LayerNorm(LayerNorm::new(4))], Loss::Mse).unwrap_err();
    assert!(bad.contains("expects 4 inputs but gets 3"), "{bad}");
}

/// Parameter names follow PyTorch's (a LayerNorm's gain is its `weight`), and residual
/// tensors are numbered body, projection, α.
#[test]
fn parameters_are_one_named_list() {
    let (_, layers) = networks(Activation::Relu, 3).remove(4);
    let network = Network::new(3, layers, Loss::SoftmaxCrossEntropy).unwrap();
    let labels: Vec<String> = network.infos().iter().map(|i| i.label()).collect();
    assert_eq!(
        labels,
        [
            "0.weight",
            "0.bias",
            "1.body.0.gain",
            "1.body.0.shift",
            "1.body.1.weight",
            "1.body.1.bias",
            "1.projection.weight",
            "1.projection.bias",
            "2.weight",
            "2.bias"
        ]
    );
    assert_eq!(network.info(2).kind.torch_name(), "weight");
    assert_eq!(
        network.parameter_count(),
        (12 + 4) + (4 + 4) + (20 + 5) + (20 + 5) + (15 + 3)
    );
}

/// LSUV on the layer engine: on a plain chain it rescales as [`Mlp::lsuv`] does (to
/// rounding: the two compute the variance in different orders); on every other network
/// each dense layer's output, in order, ends with unit variance on the batch, measured
/// independently here by walking the layers with the reference forward pass.
#[test]
fn lsuv_gives_every_dense_layer_unit_variance_on_any_network() {
    let lsuv: Init = "lsuv".parse().unwrap();
    let x = inputs(64, 3);
    // A plain chain: the same weights as the fast path's LSUV.
    let mut mlp = Mlp::<f64>::new(&[3, 8, 8, 2], &[Activation::Tanh; 2], Loss::Mse);
    mlp.initialize(&lsuv, None, 5);
    let mut network = Network::from_mlp(&mlp);
    assert_eq!(mlp.lsuv(x.view(), 1e-9, 20), Vec::<usize>::new());
    assert_eq!(network.lsuv(x.view(), 1e-9, 20), Vec::<usize>::new());
    for (l, layer) in network.layers.iter().enumerate() {
        if let Layer::Dense(d) = layer {
            let fast = &mlp.layers[l / 2].weight;
            let diff = (&d.weight - fast)
                .mapv(f64::abs)
                .fold(0.0_f64, |m, v| m.max(*v));
            assert!(diff < 1e-12, "dense layer {l}: {diff}");
        }
    }
    // Every other shape: the variance of each dense output, in dense_places order.
    fn dense_variances(
        layers: &[Layer<f64>],
        mut h: Array2<f64>,
        out: &mut Vec<f64>,
    ) -> Array2<f64> {
        for layer in layers {
            h = match layer {
                Layer::Dense(d) => {
                    let z = d.forward(h.view()).0;
                    let mean = z.mean().unwrap();
                    out.push(z.mapv(|v| (v - mean) * (v - mean)).mean().unwrap());
                    z
                }
                Layer::Residual(r) => {
                    dense_variances(&r.body, h.clone(), out);
                    if let Some(p) = &r.projection {
                        let z = p.forward(h.view()).0;
                        let mean = z.mean().unwrap();
                        out.push(z.mapv(|v| (v - mean) * (v - mean)).mean().unwrap());
                    }
                    r.forward(h.view(), Mode::Train).0
                }
                other => other.forward(h.view(), Mode::Train).0,
            };
        }
        h
    }
    for a in [Activation::Relu, Activation::Gelu, Activation::Tanh] {
        for (name, layers) in networks(a, 2) {
            let mut network = Network::new(3, layers, Loss::Mse).unwrap();
            fill(&mut network, 3);
            let places = network.dense_places().len();
            assert_eq!(
                network.lsuv(x.view(), 1e-6, 50),
                Vec::<usize>::new(),
                "{name}"
            );
            let mut variances = Vec::new();
            dense_variances(&network.layers, x.clone(), &mut variances);
            assert_eq!(variances.len(), places, "{name}");
            for (k, v) in variances.iter().enumerate() {
                assert!(
                    (v - 1.0).abs() < 1e-6,
                    "{a} {name}: dense {k} has variance {v}"
                );
            }
        }
    }
    // A layer whose input is all zeros cannot be rescaled: its place is reported.
    let mut zeros = Network::new(3, networks(Activation::Relu, 2).remove(0).1, Loss::Mse).unwrap();
    assert_eq!(zeros.lsuv(x.view(), 1e-6, 50), vec![0, 1]);
}
