//! The data-parallel step (rows split among threads, sums over rows split by output element)
//! gives the one-thread step's loss, gradients, outputs and deltas bit for bit, for every
//! thread count, on shapes that take every path of the matrix product (blocked, skinny in
//! each side, the small loop), with every loss, in f32 and f64.

use initlab::nn::{Activation, Float, Gradients, Init, Loss, Mlp, TargetsView, Workspace};
use ndarray::Array2;

struct Case {
    sizes: &'static [usize],
    activation: Activation,
    loss: Loss,
    rows: usize,
}

const CASES: &[Case] = &[
    // W3's shape at a batch that is not a multiple of the row alignment.
    Case {
        sizes: &[784, 256, 256, 10],
        activation: Activation::Relu,
        loss: Loss::SoftmaxCrossEntropy,
        rows: 131,
    },
    // Two inputs and three outputs: skinny products in k, n and m.
    Case {
        sizes: &[2, 100, 100, 3],
        activation: Activation::Tanh,
        loss: Loss::SoftmaxCrossEntropy,
        rows: 300,
    },
    Case {
        sizes: &[5, 64, 48, 64, 1],
        activation: Activation::Sigmoid,
        loss: Loss::BinaryCrossEntropy,
        rows: 257,
    },
    Case {
        sizes: &[40, 96, 7],
        activation: Activation::Selu,
        loss: Loss::Mse,
        rows: 1000,
    },
    Case {
        sizes: &[16, 128, 128, 4],
        activation: Activation::LeakyRelu { slope: 0.01 },
        loss: Loss::SigmoidMse,
        rows: 64,
    },
];

/// Loss, gradients, every layer's output and delta, on `threads` threads.
fn pass<T: Float>(
    mlp: &Mlp<T>,
    x: &Array2<T>,
    labels: &[usize],
    values: &Array2<T>,
    threads: usize,
) -> (f64, Gradients<T>, Vec<Array2<T>>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let targets = match mlp.loss {
        Loss::Mse | Loss::SigmoidMse => TargetsView::Values(values.view()),
        _ => TargetsView::Classes(labels),
    };
    pool.install(|| {
        let mut ws = Workspace::new(mlp, x.nrows());
        ws.threads = threads;
        let mut grads = Gradients::zeros_like(mlp);
        // Twice: the second pass runs on buffers that hold the first's values.
        mlp.loss_and_gradients(x.view(), targets, &mut ws, &mut grads);
        let loss = mlp.loss_and_gradients(x.view(), targets, &mut ws, &mut grads);
        let mut buffers = Vec::new();
        for l in 0..mlp.layers.len() {
            buffers.push(ws.output(l).to_owned());
            buffers.push(ws.delta(l).to_owned());
        }
        (loss, grads, buffers)
    })
}

fn check<T: Float>() {
    for case in CASES {
        let hidden = vec![case.activation; case.sizes.len() - 2];
        let mut mlp = Mlp::<T>::new(case.sizes, &hidden, case.loss);
        mlp.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 7);
        let inputs = case.sizes[0];
        let outputs = *case.sizes.last().unwrap();
        let x = Array2::from_shape_fn((case.rows, inputs), |(i, j)| {
            T::of(((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.4)
        });
        let classes = outputs.max(2);
        let labels: Vec<usize> = (0..case.rows).map(|i| (i * 7) % classes).collect();
        let values = Array2::from_shape_fn((case.rows, outputs), |(i, j)| {
            T::of(((i + 3 * j) % 5) as f64 / 5.0)
        });
        let one = pass(&mlp, &x, &labels, &values, 1);
        assert!(one.0.is_finite() && one.1.norm() > 0.0, "{:?}", case.sizes);
        for threads in [2, 3, 4] {
            let many = pass(&mlp, &x, &labels, &values, threads);
            let what = format!("{} {:?} {} threads", T::NAME, case.sizes, threads);
            assert_eq!(one.0.to_bits(), many.0.to_bits(), "loss, {what}");
            for (l, (g1, g2)) in one.1.layers.iter().zip(&many.1.layers).enumerate() {
                let bits = |a: &Array2<T>| a.iter().map(|v| v.f64().to_bits()).collect::<Vec<_>>();
                assert!(bits(&g1.weight) == bits(&g2.weight), "dW_{l}, {what}");
                let (b1, b2) = (g1.bias.to_vec(), g2.bias.to_vec());
                assert!(
                    b1.iter()
                        .zip(&b2)
                        .all(|(a, b)| a.f64().to_bits() == b.f64().to_bits()),
                    "db_{l}, {what}"
                );
            }
            for (i, (a, b)) in one.2.iter().zip(&many.2).enumerate() {
                assert!(
                    a.iter()
                        .zip(b)
                        .all(|(u, v)| u.f64().to_bits() == v.f64().to_bits()),
                    "{} of layer {}, {what}",
                    if i % 2 == 0 { "output" } else { "delta" },
                    i / 2
                );
            }
        }
    }
}

#[test]
fn threaded_pass_is_bit_identical_to_one_thread_f32() {
    check::<f32>();
}

#[test]
fn threaded_pass_is_bit_identical_to_one_thread_f64() {
    check::<f64>();
}

/// The one-thread pass is the plain fused backprop, checked against the reference elsewhere;
/// here: the threaded pass also agrees with the reference within rounding.
#[test]
fn threaded_pass_agrees_with_the_reference() {
    let case = &CASES[1];
    let mut mlp = Mlp::<f64>::new(case.sizes, &[case.activation; 2], case.loss);
    mlp.initialize(&"he-normal".parse::<Init>().unwrap(), None, 3);
    let x = Array2::from_shape_fn((case.rows, 2), |(i, j)| {
        ((i * 5 + j) % 13) as f64 / 6.5 - 1.0
    });
    let labels: Vec<usize> = (0..case.rows).map(|i| i % 3).collect();
    let (loss, grads, _) = pass(&mlp, &x, &labels, &Array2::zeros((0, 0)), 2);
    let (ref_loss, ref_grads) = mlp.reference_gradients(x.view(), TargetsView::Classes(&labels));
    assert!((loss - ref_loss).abs() < 1e-12, "{loss} vs {ref_loss}");
    for (g, r) in grads.layers.iter().zip(&ref_grads.layers) {
        let diff = (&g.weight - &r.weight)
            .mapv(f64::abs)
            .fold(0.0_f64, |m, &v| m.max(v));
        assert!(diff < 1e-12, "dW differs from the reference by {diff}");
    }
}

/// `Sgd::step_threaded` (blocks of parameters shared out to the threads) gives `Sgd::step`'s
/// weights and velocities bit for bit, plain and with momentum and weight decay.
#[test]
fn threaded_sgd_step_equals_the_one_thread_step() {
    use initlab::nn::Sgd;
    let sizes = [300, 200, 130, 10]; // 88,140 parameters: two blocks in the first layer
    let mut start = Mlp::<f32>::new(&sizes, &[Activation::Tanh; 2], Loss::SoftmaxCrossEntropy);
    start.initialize(&"xavier-normal".parse::<Init>().unwrap(), None, 5);
    let x = Array2::from_shape_fn((64, 300), |(i, j)| ((i * 13 + j * 7) % 19) as f32 / 19.0);
    let labels: Vec<usize> = (0..64).map(|i| i % 10).collect();
    let mut grads = Gradients::zeros_like(&start);
    let mut ws = Workspace::new(&start, 64);
    start.loss_and_gradients(x.view(), TargetsView::Classes(&labels), &mut ws, &mut grads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for (momentum, decay) in [(0.0, 0.0), (0.0, 1e-3), (0.9, 1e-4)] {
        let (mut one, mut two) = (start.clone(), start.clone());
        let mut sgd_one = Sgd::with(0.1, momentum, decay);
        let mut sgd_two = Sgd::with(0.1, momentum, decay);
        for _ in 0..3 {
            sgd_one.step(&mut one, &grads);
            pool.install(|| sgd_two.step_threaded(&mut two, &grads, 2));
        }
        assert_ne!(one, start, "the step changed the weights");
        assert_eq!(one, two, "momentum {momentum} weight decay {decay}");
    }
}
