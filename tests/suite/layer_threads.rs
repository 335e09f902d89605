//! The layer engine's element-wise layers (activation, LayerNorm, BatchNorm, scale, the
//! residual adds) cut their work into pieces on the workspace's threads: row pieces, or column
//! pieces where a sum runs over the rows (LayerNorm's dγ and dβ, BatchNorm's statistics), so
//! that no sum changes order. Training therefore gives the same bits on 1, 2 and 3 threads,
//! and the same as the single-thread step outside any pool.
//!
//! The sizes are above the thresholds under which a layer keeps its work on the calling
//! thread ([`MIN_LIGHT_PIECE_VALUES`] per piece for the cheap element-wise work, fewer for
//! norms and GELU), with rows and columns that do not divide evenly by the thread count, so
//! the pieces really run.

use initlab::nn::dense::Dense;
use initlab::nn::float::DenormalMode;
use initlab::nn::pieces::{MIN_LIGHT_PIECE_VALUES, MIN_PIECE_VALUES};
use initlab::nn::{
    Activation, Adam, Alpha, BatchNorm, Float, Init, Layer, LayerNorm, Loss, Mode, Network,
    NetworkWorkspace, Optimizer, ParamList, ParamSet, Residual, Sgd, TargetsView,
};
use ndarray::{Array1, Array2};

/// Rows of a batch: 3100 = 1033 + 1033 + 1034 on three threads, 1550 + 1550 on two.
const ROWS: usize = 3100;
/// Width of the hidden layers: 128 = 42 + 43 + 43 columns on three threads.
const WIDTH: usize = 128;
const INPUTS: usize = 24;
const CLASSES: usize = 5;
const STEPS: usize = 3;

// Three pieces of the least size each, for the narrowest layer, cut unevenly.
const _: () = {
    assert!(MIN_LIGHT_PIECE_VALUES >= MIN_PIECE_VALUES);
    assert!(ROWS * WIDTH >= 3 * MIN_LIGHT_PIECE_VALUES);
    assert!(ROWS % 3 != 0 && WIDTH % 3 != 0);
};

fn data<T: Float>() -> (Array2<T>, Vec<usize>) {
    let x = Array2::from_shape_fn((ROWS, INPUTS), |(i, j)| {
        T::of((0.37 * i as f64 + 1.9 * j as f64 + 0.3).sin() * 1.7)
    });
    let y = (0..ROWS).map(|i| (i * 7 + 3) % CLASSES).collect();
    (x, y)
}

/// W6's kind, smaller: dense, two pre-LayerNorm residual blocks with GELU (the second with a
/// learnable α and a dense projection to another width), SiLU, a fixed scale, dense.
fn w6_like<T: Float>() -> Network<T> {
    let dense = |i, o| Layer::Dense(Dense::zeros(i, o));
    let layers = vec![
        dense(INPUTS, WIDTH),
        Layer::Residual(Residual {
            body: vec![
                Layer::LayerNorm(LayerNorm::new(WIDTH)),
                dense(WIDTH, WIDTH),
                Layer::Activation(Activation::Gelu),
                dense(WIDTH, WIDTH),
            ],
            projection: None,
            alpha: Alpha::Fixed(1.0),
        }),
        Layer::Residual(Residual {
            body: vec![
                Layer::LayerNorm(LayerNorm::new(WIDTH)),
                dense(WIDTH, WIDTH + 6),
                Layer::Activation(Activation::Gelu),
                dense(WIDTH + 6, WIDTH + 6),
            ],
            projection: Some(Dense::zeros(WIDTH, WIDTH + 6)),
            alpha: Alpha::Learnable(Array1::from_elem(1, T::of(0.5))),
        }),
        Layer::LayerNorm(LayerNorm::new(WIDTH + 6)),
        Layer::Activation(Activation::Silu),
        Layer::Scale(0.25),
        dense(WIDTH + 6, CLASSES),
    ];
    let mut network = Network::new(INPUTS, layers, Loss::SoftmaxCrossEntropy).unwrap();
    network.initialize(&"he-normal".parse::<Init>().unwrap(), None, 4);
    network
}

/// W7's kind, smaller: BatchNorm between each hidden dense layer and its activation (ReLU,
/// then tanh), a residual block with α fixed at 0.5 around BatchNorm and GELU.
fn w7_like<T: Float>() -> Network<T> {
    let dense = |i, o| Layer::Dense(Dense::zeros(i, o));
    let layers = vec![
        dense(INPUTS, WIDTH),
        Layer::BatchNorm(BatchNorm::new(WIDTH)),
        Layer::Activation(Activation::Relu),
        dense(WIDTH, WIDTH),
        Layer::BatchNorm(BatchNorm::new(WIDTH)),
        Layer::Activation(Activation::Tanh),
        Layer::Residual(Residual {
            body: vec![
                Layer::BatchNorm(BatchNorm::new(WIDTH)),
                Layer::Activation(Activation::Gelu),
                dense(WIDTH, WIDTH),
            ],
            projection: None,
            alpha: Alpha::Fixed(0.5),
        }),
        dense(WIDTH, CLASSES),
    ];
    let mut network = Network::new(INPUTS, layers, Loss::SoftmaxCrossEntropy).unwrap();
    network.initialize(&"he-normal".parse::<Init>().unwrap(), None, 5);
    network
}

/// Every bit of a network's state: its parameters in order, then every BatchNorm's running
/// statistics.
fn bits<T: Float>(network: &Network<T>) -> Vec<u64> {
    fn running<T: Float>(layers: &[Layer<T>], out: &mut Vec<u64>) {
        for layer in layers {
            match layer {
                Layer::BatchNorm(n) => out.extend(
                    n.running_mean
                        .iter()
                        .chain(&n.running_var)
                        .map(|v| v.f64().to_bits()),
                ),
                Layer::Residual(r) => running(&r.body, out),
                _ => {}
            }
        }
    }
    let mut out: Vec<u64> = (0..network.tensor_count())
        .flat_map(|i| network.tensor(i).iter().map(|v| v.f64().to_bits()))
        .collect();
    running(&network.layers, &mut out);
    out
}

/// What a run gives: the losses, the first step's gradients, the state after the steps and
/// the evaluation-mode logits after them, all as bits.
struct Run {
    losses: Vec<u64>,
    first_gradients: Vec<u64>,
    state: Vec<u64>,
    eval_logits: Vec<u64>,
}

/// `STEPS` training steps of `network` (as `initlab::nn::train` takes them: gradients,
/// running statistics, optimizer), with `threads` in the workspace and the optimizer, in
/// the denormal mode training uses.
fn train<T: Float>(mut network: Network<T>, mut optimizer: Optimizer<T>, threads: usize) -> Run {
    let _mode = DenormalMode::Flush.enter();
    let (x, y) = data::<T>();
    let mut ws = NetworkWorkspace::new(&network, ROWS);
    ws.threads = threads;
    let mut grads = ParamList::zeros_like(&network);
    optimizer.prepare(&network);
    let mut run = Run {
        losses: Vec::new(),
        first_gradients: Vec::new(),
        state: Vec::new(),
        eval_logits: Vec::new(),
    };
    for step in 0..STEPS {
        ws.mode = Mode::Train;
        let loss =
            network.loss_and_gradients(x.view(), TargetsView::Classes(&y), &mut ws, &mut grads);
        assert!(loss.is_finite(), "a finite loss");
        run.losses.push(loss.to_bits());
        if step == 0 {
            run.first_gradients = (0..grads.tensor_count())
                .flat_map(|i| grads.tensor(i).iter().map(|v| v.f64().to_bits()))
                .collect();
        }
        network.update_running_statistics(&ws);
        optimizer.step(&mut network, &grads, threads);
    }
    run.state = bits(&network);
    ws.mode = Mode::Eval;
    let logits = network.forward(x.view(), &mut ws);
    run.eval_logits = logits.iter().map(|v| v.f64().to_bits()).collect();
    run
}

/// The same run on the calling thread alone (no pool) and with 1, 2 and 3 threads inside a
/// rayon pool of that many.
fn same_bits_on_every_thread_count<T: Float>(
    name: &str,
    network: fn() -> Network<T>,
    optimizer: fn() -> Optimizer<T>,
) {
    let alone = train(network(), optimizer(), 1);
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let run = pool.install(|| train(network(), optimizer(), threads));
        let parts = [
            ("losses", &run.losses, &alone.losses),
            ("gradients", &run.first_gradients, &alone.first_gradients),
            ("parameters or running statistics", &run.state, &alone.state),
            ("evaluation logits", &run.eval_logits, &alone.eval_logits),
        ];
        for (what, threaded, expected) in parts {
            assert!(
                threaded == expected,
                "{name} {}: {what} differ on {threads} threads",
                T::NAME
            );
        }
    }
}

#[test]
fn pre_layernorm_residual_network_trains_the_same_on_every_thread_count() {
    same_bits_on_every_thread_count::<f32>("W6-like", w6_like, || Optimizer::Adam(Adam::new(1e-3)));
    same_bits_on_every_thread_count::<f64>("W6-like", w6_like, || {
        Optimizer::Adam(Adam::adamw(1e-3))
    });
}

#[test]
fn batchnorm_network_trains_the_same_on_every_thread_count() {
    same_bits_on_every_thread_count::<f32>("W7-like", w7_like, || {
        Optimizer::Sgd(Sgd::with(0.05, 0.9, 0.0))
    });
    same_bits_on_every_thread_count::<f64>("W7-like", w7_like, || {
        Optimizer::Sgd(Sgd::with(0.05, 0.9, 1e-4))
    });
}

/// The workspace path on threads still equals the allocating reference loop (which runs
/// every layer on the calling thread), gradients and loss, in both modes.
#[test]
fn threaded_workspace_path_equals_the_reference() {
    fn check<T: Float>(name: &str, network: Network<T>) {
        let (x, y) = data::<T>();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for mode in [Mode::Train, Mode::Eval] {
            let (loss, expected) =
                network.reference_gradients(x.view(), TargetsView::Classes(&y), mode);
            let mut ws = NetworkWorkspace::new(&network, ROWS);
            ws.threads = 2;
            ws.mode = mode;
            let mut grads = ParamList::zeros_like(&network);
            let threaded = pool.install(|| {
                network.loss_and_gradients(x.view(), TargetsView::Classes(&y), &mut ws, &mut grads)
            });
            assert_eq!(threaded.to_bits(), loss.to_bits(), "{name} {mode:?}");
            assert!(grads == expected, "{name} {mode:?}: gradients differ");
        }
    }
    check::<f32>("W6-like", w6_like());
    check::<f32>("W7-like", w7_like());
    check::<f64>("W7-like", w7_like());
}
