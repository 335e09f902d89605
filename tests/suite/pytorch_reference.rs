//! The layer engine against PyTorch: 14 full-batch f64 runs of 200 steps (LayerNorm,
//! BatchNorm with its running statistics, residual blocks with learnable α and with a
//! projection, pre-LayerNorm residual blocks, GELU, gelu-tanh, SiLU, Adam, AdamW, RMSprop,
//! SGD with Nesterov momentum and with dampening), every logged loss within 1e-12 of
//! PyTorch's.
//!
//! The expected numbers come from `tests/pytorch/reference.py` (torch 2.15.0, f64), which
//! writes `tests/fixtures/pytorch/<case>.json`; `tests/pytorch/README.md` gives the
//! conventions both sides follow (data, initial parameters and their order by exact rational
//! formulas, no random numbers). This test needs no Python.

use std::path::Path;

use initlab::nn::{
    Activation, Adam, Alpha, BatchNorm, Layer, LayerNorm, Loss, Mode, Network, NetworkWorkspace,
    Optimizer, ParamKind, ParamList, ParamSet, Parameters, Residual, RmsProp, Sgd, TargetsView,
    dense::Dense,
};
use ndarray::{Array1, Array2};
use serde_json::Value;

const TOLERANCE: f64 = 1e-12;

/// The README's data (also `parametrization.rs`'s).
pub(crate) fn data() -> (Array2<f64>, Vec<usize>) {
    let x = Array2::from_shape_fn((24, 5), |(i, j)| {
        (((i * 7 + j * 13 + 3) % 23) as f64 - 11.0) / 8.0
    });
    let y = (0..24).map(|i| (i * 5 + 2) % 3).collect();
    (x, y)
}

/// Fills every parameter tensor k by the README's formula for its kind.
pub(crate) fn fill(network: &mut Network<f64>) {
    let infos = network.infos();
    for (k, info) in infos.iter().enumerate() {
        let values = network.tensor_mut(k);
        for (e, v) in values.iter_mut().enumerate() {
            *v = match info.kind {
                ParamKind::Weight => {
                    let fan_in = info.shape[1] as f64;
                    (((k * 31 + e * 17 + 5) % 29) as f64 - 14.0) / (14.0 * fan_in.sqrt())
                }
                ParamKind::Bias => (((k * 11 + e * 7 + 1) % 13) as f64 - 6.0) / 20.0,
                ParamKind::Gain => 1.0 + (((e * 3 + k) % 5) as f64 - 2.0) / 10.0,
                ParamKind::Shift => (((e * 5 + k) % 7) as f64 - 3.0) / 20.0,
                ParamKind::Alpha => 0.25,
            };
        }
    }
}

fn dense(inputs: usize, outputs: usize) -> Layer<f64> {
    Layer::Dense(Dense::zeros(inputs, outputs))
}
fn act(a: Activation) -> Layer<f64> {
    Layer::Activation(a)
}
fn residual(
    body: Vec<Layer<f64>>,
    projection: Option<(usize, usize)>,
    learnable: bool,
) -> Layer<f64> {
    Layer::Residual(Residual {
        body,
        projection: projection.map(|(i, o)| Dense::zeros(i, o)),
        alpha: if learnable {
            Alpha::Learnable(Array1::from_elem(1, 0.25))
        } else {
            Alpha::Fixed(1.0)
        },
    })
}

fn small(a: Activation) -> Vec<Layer<f64>> {
    vec![dense(5, 8), act(a), dense(8, 3)]
}

/// The network and optimizer of each case (tests/pytorch/README.md, "Cases").
fn case(name: &str) -> (Vec<Layer<f64>>, Optimizer<f64>) {
    use Activation::*;
    let sgd = |lr| Optimizer::Sgd(Sgd::new(lr));
    let pre_ln = || {
        residual(
            vec![
                Layer::LayerNorm(LayerNorm::new(8)),
                dense(8, 8),
                act(Gelu),
                dense(8, 8),
            ],
            None,
            false,
        )
    };
    match name {
        "layernorm" => (
            vec![
                dense(5, 8),
                Layer::LayerNorm(LayerNorm::new(8)),
                act(Tanh),
                dense(8, 3),
            ],
            sgd(0.05),
        ),
        "batchnorm" => (
            vec![
                dense(5, 8),
                Layer::BatchNorm(BatchNorm::new(8)),
                act(Relu),
                dense(8, 3),
            ],
            Optimizer::Sgd(Sgd::with(0.1, 0.9, 0.0)),
        ),
        "residual" => (
            vec![
                dense(5, 8),
                act(Tanh),
                residual(vec![dense(8, 8), act(Tanh), dense(8, 8)], None, true),
                dense(8, 3),
            ],
            sgd(0.1),
        ),
        "residual-projection" => (
            vec![
                dense(5, 8),
                act(Relu),
                residual(
                    vec![dense(8, 6), act(Relu), dense(6, 6)],
                    Some((8, 6)),
                    false,
                ),
                dense(6, 3),
            ],
            sgd(0.05),
        ),
        "pre-layernorm-residual" => {
            let mut adam = Adam::new(0.0005);
            adam.betas = (0.9, 0.999);
            adam.eps = 1e-8;
            (
                vec![
                    dense(5, 8),
                    pre_ln(),
                    pre_ln(),
                    Layer::LayerNorm(LayerNorm::new(8)),
                    dense(8, 3),
                ],
                Optimizer::Adam(adam),
            )
        }
        "gelu" | "gelu-tanh" | "silu" => {
            let a: Activation = name.parse().unwrap();
            (
                vec![dense(5, 8), act(a), dense(8, 8), act(a), dense(8, 3)],
                sgd(0.1),
            )
        }
        "adam" => {
            let mut adam = Adam::new(0.01);
            adam.weight_decay = 0.01;
            (small(Tanh), Optimizer::Adam(adam))
        }
        "adamw" => {
            let mut adamw = Adam::adamw(0.01);
            adamw.weight_decay = 0.1;
            (small(Tanh), Optimizer::Adam(adamw))
        }
        "rmsprop" => (small(Tanh), Optimizer::RmsProp(RmsProp::new(0.01))),
        "sgd-nesterov" => {
            let mut sgd = Sgd::with(0.1, 0.9, 0.01);
            sgd.nesterov = true;
            (small(Tanh), Optimizer::Sgd(sgd))
        }
        "sgd-dampening" => {
            let mut sgd = Sgd::with(0.1, 0.9, 0.0);
            sgd.dampening = 0.5;
            (small(Tanh), Optimizer::Sgd(sgd))
        }
        "batchnorm-adamw" => {
            let mut adamw = Adam::adamw(0.0005);
            adamw.eps = 1e-3;
            adamw.weight_decay = 0.05;
            (
                vec![
                    dense(5, 8),
                    Layer::BatchNorm(BatchNorm::new(8)),
                    act(Tanh),
                    dense(8, 8),
                    Layer::BatchNorm(BatchNorm::new(8)),
                    act(Tanh),
                    dense(8, 3),
                ],
                Optimizer::Adam(adamw),
            )
        }
        other => panic!("unknown case {other}"),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn batch_norms(layers: &[Layer<f64>]) -> Vec<&BatchNorm<f64>> {
    layers
        .iter()
        .filter_map(|l| match l {
            Layer::BatchNorm(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn max_gap(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Trains one case as the script does and returns the largest loss gap.
fn run(name: &str) -> f64 {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pytorch")
        .join(format!("{name}.json"));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let (layers, mut optimizer) = case(name);
    let mut network = Network::new(5, layers, Loss::SoftmaxCrossEntropy).unwrap();
    fill(&mut network);
    let (x, y) = data();
    let targets = TargetsView::Classes(&y);
    let mut ws = NetworkWorkspace::new(&network, 24);
    let mut grads = ParamList::zeros_like(&network);
    optimizer.prepare(&network);
    let steps = expected["steps"].as_u64().unwrap() as usize;
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        losses.push(network.loss_and_gradients(x.view(), targets, &mut ws, &mut grads));
        network.update_running_statistics(&ws);
        optimizer.step(&mut network, &grads, 1);
    }
    let gap = max_gap(&losses, &floats(&expected["losses"]));
    assert!(
        gap <= TOLERANCE,
        "{name}: losses differ from PyTorch's by {gap:e}"
    );

    let final_params = expected["final_params"].as_array().unwrap();
    assert_eq!(
        final_params.len(),
        network.tensor_count(),
        "{name}: tensor count"
    );
    for (k, p) in final_params.iter().enumerate() {
        let g = max_gap(network.tensor(k), &floats(p));
        assert!(
            g <= 1e-10,
            "{name}: parameter {} differs by {g:e}",
            network.info(k).label()
        );
    }
    if let Some(means) = expected.get("running_mean") {
        let norms = batch_norms(&network.layers);
        let vars = expected["running_var"].as_array().unwrap();
        for ((n, mean), var) in norms.iter().zip(means.as_array().unwrap()).zip(vars) {
            let gm = max_gap(n.running_mean.as_slice().unwrap(), &floats(mean));
            let gv = max_gap(n.running_var.as_slice().unwrap(), &floats(var));
            assert!(
                gm <= 1e-12 && gv <= 1e-12,
                "{name}: running statistics {gm:e} {gv:e}"
            );
        }
        let mut eval = NetworkWorkspace::new(&network, 24);
        eval.mode = Mode::Eval;
        let (eval_loss, _) = network.evaluate(x.view(), targets, &mut eval);
        let g = (eval_loss - expected["eval_loss"].as_f64().unwrap()).abs();
        assert!(
            g <= TOLERANCE,
            "{name}: evaluation-mode loss differs by {g:e}"
        );
    }
    gap
}

macro_rules! cases {
    ($($test:ident => $name:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let gap = run($name);
            eprintln!("{}: 200 steps, max |Δloss| = {gap:e}", $name);
        }
    )*};
}

cases! {
    layernorm => "layernorm",
    batchnorm => "batchnorm",
    residual_learnable_alpha => "residual",
    residual_projection => "residual-projection",
    pre_layernorm_residual_adam => "pre-layernorm-residual",
    gelu => "gelu",
    gelu_tanh => "gelu-tanh",
    silu => "silu",
    adam => "adam",
    adamw => "adamw",
    rmsprop => "rmsprop",
    sgd_nesterov => "sgd-nesterov",
    sgd_dampening => "sgd-dampening",
    batchnorm_adamw => "batchnorm-adamw",
}
