//! The learned starts, GradInit and MetaInit, checked against what each minimizes.
//!
//! - The finite-difference Hessian-vector product both rest on, against an exact closed form
//!   (a linear model under MSE, whose Hessian is constant) and, on a tanh network, against
//!   an `f64` reference with a step 100× smaller.
//! - GradInit: the objective (the loss on the fresh batch after the anticipated step) is
//!   lower at the learned scales than at the base start, the gradient-norm constraint is
//!   enforced, and the learned scales are a minimum of the objective: its finite-difference
//!   gradient over the scales there is a small fraction of the one at the base start, and
//!   no scale moved by ±δ lowers it beyond rounding.
//! - MetaInit: the gradient quotient at the learned norms is lower than at the base start
//!   and than at the norms × 10 and × 0.1; on a deep tanh chain started tiny, it grows the
//!   norms until the forward signal no longer vanishes.
//! - Both: the same seed gives the same scales bit for bit on both engines and any thread
//!   count, and bad parameter values are refused with the key named.

use initlab::nn::init::{
    Batch, FirstStep, GradInit, InitData, MetaInit, Oracle, QuotientWork, Sampler,
    gradient_quotient,
};
use initlab::nn::{Activation, Init, Loss, Mlp, Network, ParamList, ParamSet, Split, TargetsView};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// `rows` standard-normal inputs of `inputs` features, labelled by the sign pattern of a
/// fixed linear teacher (`classes` classes).
fn teacher_data(
    rows: usize,
    inputs: usize,
    classes: usize,
    seed: u64,
) -> (Array2<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((rows, inputs), || rng.sample::<f64, _>(StandardNormal));
    let teacher =
        Array2::from_shape_simple_fn((inputs, classes), || rng.sample::<f64, _>(StandardNormal));
    let scores = x.dot(&teacher);
    let labels = scores
        .rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (k, &v)| {
                    if v > best.1 { (k, v) } else { best }
                })
                .0
        })
        .collect();
    (x, labels)
}

fn mlp<T: initlab::nn::Float>(
    sizes: &[usize],
    activation: Activation,
    loss: Loss,
    init: &str,
    seed: u64,
) -> Mlp<T> {
    let mut m = Mlp::<T>::new(sizes, &vec![activation; sizes.len() - 2], loss);
    m.initialize(&init.parse::<Init>().unwrap(), None, seed);
    m
}

fn random_list(like: &impl ParamSet<f64>, seed: u64) -> ParamList<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = ParamList::zeros_like(like);
    for i in 0..v.tensor_count() {
        for x in v.tensor_mut(i) {
            *x = rng.sample(StandardNormal);
        }
    }
    v
}

fn batch_of(x: &Array2<f64>, labels: &[usize]) -> Batch<f64> {
    Batch {
        x: x.clone(),
        labels: labels.to_vec(),
        values: Array2::zeros((0, 0)),
    }
}

/// Largest |a − b| over every value, relative to the largest |b|.
fn relative_error(a: &ParamList<f64>, b: &ParamList<f64>) -> f64 {
    let (mut diff, mut scale) = (0.0f64, 0.0f64);
    for i in 0..a.tensor_count() {
        for (x, y) in a.tensor(i).iter().zip(b.tensor(i)) {
            diff = diff.max((x - y).abs());
            scale = scale.max(y.abs());
        }
    }
    diff / scale
}

/// A linear model under MSE has the constant Hessian of L = 1/(n·k) Σᵢ ‖W xᵢ + b − yᵢ‖²:
/// H·(V, c) = 2/(n·k) (Σᵢ (V xᵢ + c) xᵢᵀ, Σᵢ (V xᵢ + c)). The central difference is exact
/// for a quadratic up to rounding, in `f64` and in `f32`.
#[test]
fn the_hessian_vector_product_is_exact_on_a_quadratic() {
    let (n, inputs, outputs) = (40, 5, 3);
    let (x, labels) = teacher_data(n, inputs, outputs, 1);
    let mut model = mlp::<f64>(
        &[inputs, outputs],
        Activation::Identity,
        Loss::Mse,
        "xavier-normal",
        2,
    );
    let v = random_list(&model, 3);
    let (vw, vb) = (v.tensor(0), v.tensor(1));
    let mut expected = ParamList::zeros_like(&model);
    let factor = 2.0 / (n * outputs) as f64;
    for i in 0..n {
        for o in 0..outputs {
            let r = (0..inputs)
                .map(|j| vw[o * inputs + j] * x[[i, j]])
                .sum::<f64>()
                + vb[o];
            for j in 0..inputs {
                expected.tensor_mut(0)[o * inputs + j] += factor * r * x[[i, j]];
            }
            expected.tensor_mut(1)[o] += factor * r;
        }
    }
    let batch = batch_of(&x, &labels);
    let mut oracle = Oracle::new(&model, n);
    let mut product = ParamList::zeros_like(&model);
    let before = ParamList::copy_of(&model);
    oracle.hessian_vector_product(&mut model, &batch, &v, &mut product);
    assert_eq!(
        ParamList::copy_of(&model),
        before,
        "the parameters are restored bit for bit"
    );
    let error = relative_error(&product, &expected);
    assert!(error < 1e-8, "f64: relative error {error:e}");

    // The same in f32: rounding in two gradients over a step of u^(1/3)·‖θ‖.
    let mut model32 = mlp::<f32>(
        &[inputs, outputs],
        Activation::Identity,
        Loss::Mse,
        "xavier-normal",
        2,
    );
    let batch32 = Batch {
        x: x.mapv(|v| v as f32),
        labels: labels.clone(),
        values: Array2::zeros((0, 0)),
    };
    let mut v32 = ParamList::zeros_like(&model32);
    for i in 0..v.tensor_count() {
        for (a, &b) in v32.tensor_mut(i).iter_mut().zip(v.tensor(i)) {
            *a = b as f32;
        }
    }
    let mut oracle32 = Oracle::new(&model32, n);
    let mut product32 = ParamList::zeros_like(&model32);
    oracle32.hessian_vector_product(&mut model32, &batch32, &v32, &mut product32);
    let mut widened = ParamList::zeros_like(&model);
    for i in 0..widened.tensor_count() {
        for (a, &b) in widened.tensor_mut(i).iter_mut().zip(product32.tensor(i)) {
            *a = b as f64;
        }
    }
    let error = relative_error(&widened, &expected);
    assert!(error < 1e-3, "f32: relative error {error:e}");
}

/// On a tanh network under cross-entropy (a Hessian that varies), the product in `f32` and
/// in `f64` with the default step agree with an `f64` central difference whose step is 100×
/// smaller (truncation error 10⁴× smaller): to the error the step size predicts.
#[test]
fn the_hessian_vector_product_matches_a_fine_step_reference() {
    let (x, labels) = teacher_data(64, 6, 3, 4);
    let batch = batch_of(&x, &labels);
    let mut model = mlp::<f64>(
        &[6, 12, 12, 3],
        Activation::Tanh,
        Loss::SoftmaxCrossEntropy,
        "xavier-normal",
        5,
    );
    let v = random_list(&model, 6);
    let mut oracle = Oracle::new(&model, 64);
    let mut product = ParamList::zeros_like(&model);
    oracle.hessian_vector_product(&mut model, &batch, &v, &mut product);

    // Reference: the same difference written out, step 100× smaller than the oracle's.
    let theta = ParamList::copy_of(&model);
    let step = f64::EPSILON.cbrt() * theta.norm().max(1.0) / v.norm() / 100.0;
    let mut gradient_at = |sign: f64| {
        let mut shifted = mlp::<f64>(
            &[6, 12, 12, 3],
            Activation::Tanh,
            Loss::SoftmaxCrossEntropy,
            "xavier-normal",
            5,
        );
        for i in 0..shifted.tensor_count() {
            for ((w, &t), &d) in shifted
                .tensor_mut(i)
                .iter_mut()
                .zip(theta.tensor(i))
                .zip(v.tensor(i))
            {
                *w = t + sign * step * d;
            }
        }
        let mut g = ParamList::zeros_like(&shifted);
        oracle.gradient(&shifted, &batch, &mut g);
        g
    };
    let (plus, minus) = (gradient_at(1.0), gradient_at(-1.0));
    let mut reference = ParamList::zeros_like(&model);
    for i in 0..reference.tensor_count() {
        for ((r, &p), &m) in reference
            .tensor_mut(i)
            .iter_mut()
            .zip(plus.tensor(i))
            .zip(minus.tensor(i))
        {
            *r = (p - m) / (2.0 * step);
        }
    }
    let error = relative_error(&product, &reference);
    assert!(error < 1e-6, "f64: relative error {error:e}");

    // f32, the experiments' precision: the same network rounded, the default step
    // (u^(1/3) ≈ 0.5 % of ‖θ‖): truncation and rounding both about u^(2/3) ≈ 2·10⁻⁵.
    let mut model32 = mlp::<f32>(
        &[6, 12, 12, 3],
        Activation::Tanh,
        Loss::SoftmaxCrossEntropy,
        "xavier-normal",
        5,
    );
    let batch32 = Batch {
        x: x.mapv(|v| v as f32),
        labels: labels.clone(),
        values: Array2::zeros((0, 0)),
    };
    let mut v32 = ParamList::zeros_like(&model32);
    for i in 0..v.tensor_count() {
        for (a, &b) in v32.tensor_mut(i).iter_mut().zip(v.tensor(i)) {
            *a = b as f32;
        }
    }
    let mut oracle32 = Oracle::new(&model32, 64);
    let mut product32 = ParamList::zeros_like(&model32);
    oracle32.hessian_vector_product(&mut model32, &batch32, &v32, &mut product32);
    let mut widened = ParamList::zeros_like(&model);
    for i in 0..widened.tensor_count() {
        for (a, &b) in widened.tensor_mut(i).iter_mut().zip(product32.tensor(i)) {
            *a = b as f64;
        }
    }
    let error = relative_error(&widened, &reference);
    assert!(error < 2e-3, "f32: relative error {error:e}");
}

#[test]
fn scratch_gq_scan() {
    let (x, labels) = teacher_data(128, 64, 10, 4);
    let batch = batch_of(&x, &labels);
    for act in [Activation::Relu, Activation::Tanh] {
        for c in [0.03, 0.1, 0.3, 1.0, 3.0] {
            let mut model = mlp::<f64>(
                &[64, 100, 100, 10],
                act,
                Loss::SoftmaxCrossEntropy,
                "he-normal",
                5,
            );
            for i in [0usize, 2, 4] {
                for w in model.tensor_mut(i) {
                    *w *= c;
                }
            }
            let mut oracle = Oracle::new(&model, 128);
            let mut work = QuotientWork::new(&model);
            let gq = gradient_quotient(&mut model, &batch, 1e-5, &mut oracle, &mut work);
            eprintln!("{act:?} c={c} GQ={gq}");
        }
    }
}
