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

/// `batch` rounded to `f32`.
fn batch32(x: &Array2<f64>, labels: &[usize]) -> Batch<f32> {
    Batch {
        x: x.mapv(|v| v as f32),
        labels: labels.to_vec(),
        values: Array2::zeros((0, 0)),
    }
}

/// `from`'s values converted into a list shaped like `like`.
fn convert<A: Copy, B: initlab::nn::Float>(
    from: &ParamList<A>,
    like: &impl ParamSet<B>,
    f: impl Fn(A) -> B,
) -> ParamList<B> {
    let mut to = ParamList::zeros_like(like);
    for i in 0..to.tensor_count() {
        for (a, &b) in to.tensor_mut(i).iter_mut().zip(from.tensor(i)) {
            *a = f(b);
        }
    }
    to
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
    let v32 = convert(&v, &model32, |b| b as f32);
    let mut oracle32 = Oracle::new(&model32, n);
    let mut product32 = ParamList::zeros_like(&model32);
    oracle32.hessian_vector_product(&mut model32, &batch32(&x, &labels), &v32, &mut product32);
    let widened = convert(&product32, &model, f64::from);
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
    let v32 = convert(&v, &model32, |b| b as f32);
    let mut oracle32 = Oracle::new(&model32, 64);
    let mut product32 = ParamList::zeros_like(&model32);
    oracle32.hessian_vector_product(&mut model32, &batch32(&x, &labels), &v32, &mut product32);
    let widened = convert(&product32, &model, f64::from);
    let error = relative_error(&widened, &reference);
    assert!(error < 2e-3, "f32: relative error {error:e}");
}

/// The tensors of a model multiplied by `scales` (one per tensor) from `base`.
fn scaled(base: &Mlp<f64>, scales: &[f64]) -> Mlp<f64> {
    let mut m = base.clone();
    for (i, &s) in scales.iter().enumerate() {
        for w in m.tensor_mut(i) {
            *w *= s;
        }
    }
    m
}

/// The 4-8-8-3 He-started f64 network (seed 8) the GradInit and MetaInit checks work on.
fn small_net(activation: Activation) -> Mlp<f64> {
    mlp::<f64>(
        &[4, 8, 8, 3],
        activation,
        Loss::SoftmaxCrossEntropy,
        "he-normal",
        8,
    )
}

/// GradInit's settings for the small checks: a half-batch larger than the data, so that
/// S and S̃ are the whole data set every time and the objective is deterministic.
fn small_gradinit(first_step: FirstStep, gamma: f64) -> GradInit {
    GradInit {
        eta: 0.1,
        gamma,
        learning_rate: 0.01,
        min_scale: 0.01,
        iterations: 400,
        batch: 200,
        first_step,
    }
}

/// The learned scales of every tensor (1 for the ones not learned), from the outcome.
fn scale_vector(model: &Mlp<f64>, outcome: &[initlab::nn::init::TensorScale]) -> Vec<f64> {
    use initlab::nn::Parameters;
    (0..model.tensor_count())
        .map(|i| {
            let label = model.info(i).label();
            outcome
                .iter()
                .find(|t| t.tensor == label)
                .map_or(1.0, |t| t.scale)
        })
        .collect()
}

/// GradInit lowers what it minimizes, and stops at a minimum of it within its bounds: at
/// the learned scales the objective (the loss on S̃ after the anticipated step) is below the
/// base start's; over the scales inside the bounds its central-difference gradient is under
/// a tenth of the base start's (Adam on the scales with a constant learning rate hovers
/// around the minimum rather than landing on it, so ±5 % moves can still gain a few 10⁻³);
/// a scale held at `min_scale` has a positive derivative (the objective would go on falling
/// below the bound: the KKT condition). For SGD's normalized step and Adam's sign.
#[test]
fn gradinit_reaches_a_minimum_of_its_objective() {
    let (x, labels) = teacher_data(48, 4, 3, 7);
    let data = batch_of(&x, &labels);
    let s = data.concat(&data);
    for first_step in [FirstStep::Sgd, FirstStep::Sign] {
        let settings = small_gradinit(first_step, 1e9);
        let base = small_net(Activation::Tanh);
        let mut model = base.clone();
        let split = Split {
            x: x.view(),
            targets: TargetsView::Classes(&labels),
        };
        let outcome = settings.learn(&mut model, InitData::Train(split), 9);
        assert_eq!(outcome.constraint_steps, 0);
        let scales = scale_vector(&base, &outcome.scales);
        assert_eq!(
            ParamList::copy_of(&scaled(&base, &scales)),
            ParamList::copy_of(&model)
        );
        let objective = |scales: &[f64]| {
            settings
                .objective(&mut scaled(&base, scales), &s, &s)
                .loss_after_step
        };
        let derivative = |at: &[f64], i: usize| {
            let h = 1e-5;
            let (mut plus, mut minus) = (at.to_vec(), at.to_vec());
            plus[i] += h;
            minus[i] -= h;
            (objective(&plus) - objective(&minus)) / (2.0 * h)
        };
        let weights: Vec<usize> = (0..scales.len()).step_by(2).collect();
        let at_floor = |i: usize| scales[i] <= settings.min_scale * 1.001;
        let ones = vec![1.0; scales.len()];
        let (start, end) = (objective(&ones), objective(&scales));
        assert!(
            end < start,
            "{first_step:?}: objective {end} at the learned scales, {start} at the base start"
        );
        let norm = |at: &[f64], inside: bool| {
            weights
                .iter()
                .filter(|&&i| !inside || !at_floor(i))
                .map(|&i| derivative(at, i).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let (g_start, g_end) = (norm(&ones, false), norm(&scales, true));
        assert!(
            g_end < 0.1 * g_start,
            "{first_step:?}: |∇J| {g_end:e} at the learned scales, {g_start:e} at the base start"
        );
        for &i in &weights {
            if at_floor(i) {
                let d = derivative(&scales, i);
                assert!(
                    d > 0.0,
                    "{first_step:?}: scale {i} at the floor with ∂J/∂s = {d}"
                );
                continue;
            }
        }
    }
}

/// The derivative GradInit steps on (through the finite-difference Hessian-vector
/// product) is the derivative of its objective: against a central difference of the
/// objective over each scale, for SGD's and Adam's first steps, at the base start and at
/// scales away from 1; and of ‖g‖_p for the constraint steps.
#[test]
fn gradinit_steps_on_the_derivative_of_its_objective() {
    let (x, labels) = teacher_data(48, 4, 3, 7);
    let data = batch_of(&x, &labels);
    let (x2, labels2) = teacher_data(48, 4, 3, 17);
    let fresh = batch_of(&x2, &labels2);
    for first_step in [FirstStep::Sgd, FirstStep::Sign] {
        let settings = small_gradinit(first_step, 1e9);
        let base = small_net(Activation::Tanh);
        for at in [[1.0, 1.0, 1.0], [0.7, 1.3, 0.5]] {
            let scales: Vec<f64> = (0..6)
                .map(|i| if i % 2 == 0 { at[i / 2] } else { 1.0 })
                .collect();
            let point = scaled(&base, &scales);
            for constraint in [false, true] {
                let analytic = settings
                    .scale_gradient(&mut point.clone(), &data, &fresh, constraint)
                    .unwrap();
                let value = |f: f64, i: usize| {
                    let mut s = vec![1.0; 6];
                    s[i] = f;
                    let o = settings.objective(&mut scaled(&point, &s), &data, &fresh);
                    if constraint {
                        o.gradient_norm
                    } else {
                        o.loss_after_step / settings.eta
                    }
                };
                for i in (0..6).step_by(2) {
                    let h = 1e-5;
                    let numeric = (value(1.0 + h, i) - value(1.0 - h, i)) / (2.0 * h);
                    let error = (analytic[i] - numeric).abs() / numeric.abs().max(1e-3);
                    assert!(
                        error < 1e-3,
                        "{first_step:?} at {at:?} constraint {constraint}: tensor {i}: {} vs {numeric}",
                        analytic[i]
                    );
                }
            }
        }
    }
}

/// With γ below the base start's gradient norm, GradInit steps on the constraint until it
/// holds: the learned start's ‖g‖ is within 10 % of γ or under it, down from 4γ.
#[test]
fn gradinit_enforces_the_gradient_norm_constraint() {
    let (x, labels) = teacher_data(48, 4, 3, 7);
    let data = batch_of(&x, &labels);
    let s = data.concat(&data);
    for first_step in [FirstStep::Sgd, FirstStep::Sign] {
        let base = small_net(Activation::Tanh);
        let probe = small_gradinit(first_step, 1.0);
        let start = probe.objective(&mut base.clone(), &s, &s).gradient_norm;
        let settings = small_gradinit(first_step, start / 4.0);
        let mut model = base.clone();
        let split = Split {
            x: x.view(),
            targets: TargetsView::Classes(&labels),
        };
        let outcome = settings.learn(&mut model, InitData::Train(split), 9);
        assert!(outcome.constraint_steps > 0);
        let end = settings.objective(&mut model, &s, &s).gradient_norm;
        assert!(
            end <= 1.1 * settings.gamma,
            "{first_step:?}: ‖g‖ = {end} after, γ = {}, {start} before",
            settings.gamma
        );
    }
}

/// The mean gradient quotient over a fixed set of random batches.
fn mean_quotient(model: &Mlp<f64>, inputs: usize, classes: usize) -> f64 {
    let mut model = model.clone();
    let mut sampler = Sampler::new(InitData::Gaussian { inputs, classes }, 11);
    let mut oracle = Oracle::new(&model, 64);
    let mut work = QuotientWork::new(&model);
    (0..8)
        .map(|_| {
            let batch = sampler.draw(64);
            gradient_quotient(&mut model, &batch, 1e-5, &mut oracle, &mut work)
        })
        .sum::<f64>()
        / 8.0
}

fn metainit(iterations: usize) -> MetaInit {
    MetaInit {
        learning_rate: 0.1,
        momentum: 0.9,
        iterations,
        epsilon: 1e-5,
        batch: 64,
    }
}

/// A tanh chain of `sizes` (16 inputs, 4 classes) started by `init`, and the same after 200
/// steps of MetaInit on random data.
fn metainit_tanh(
    sizes: &[usize],
    init: &str,
) -> (Mlp<f64>, Mlp<f64>, initlab::nn::init::MetaInitOutcome) {
    let base = mlp::<f64>(sizes, Activation::Tanh, Loss::SoftmaxCrossEntropy, init, 3);
    let mut model = base.clone();
    let data = InitData::Gaussian {
        inputs: 16,
        classes: 4,
    };
    let outcome = metainit(200).learn(&mut model, data, 5);
    (base, model, outcome)
}

/// MetaInit lowers the gradient quotient: at the learned norms it is below the base
/// start's (He) and below the learned norms × 10 and × 0.1.
#[test]
fn metainit_lowers_the_gradient_quotient() {
    let sizes = [16, 32, 32, 32, 4];
    let (base, model, outcome) = metainit_tanh(&sizes, "he-normal");
    assert_eq!(outcome.scales.len(), 4, "one norm per weight matrix");
    let learned = mean_quotient(&model, 16, 4);
    let at_base = mean_quotient(&base, 16, 4);
    let scales = scale_vector(&base, &outcome.scales);
    let times = |f: f64| {
        let s: Vec<f64> = scales
            .iter()
            .enumerate()
            .map(|(i, &s)| if i % 2 == 0 { s * f } else { s })
            .collect();
        mean_quotient(&scaled(&base, &s), 16, 4)
    };
    let (up, down) = (times(10.0), times(0.1));
    assert!(
        learned < at_base,
        "GQ {learned} learned, {at_base} at the base start"
    );
    assert!(learned < up, "GQ {learned} learned, {up} at × 10");
    assert!(learned < down, "GQ {learned} learned, {down} at × 0.1");
}

/// The standard deviation of the logits on a fixed standard-normal batch.
fn output_std(model: &Mlp<f64>, inputs: usize) -> f64 {
    let x = standard_normal_batch(256, inputs, 13);
    let out = model.predict(x.view());
    let n = out.len() as f64;
    let mean = out.sum() / n;
    (out.mapv(|v| (v - mean) * (v - mean)).sum() / n).sqrt()
}

fn standard_normal_batch(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.sample::<f64, _>(StandardNormal))
}

/// A deep tanh chain started tiny (N(0, 0.01²), 8 hidden layers of 32: the signal shrinks
/// by 0.01·√32 ≈ 0.06 per layer) loses its forward signal; MetaInit grows every norm and
/// the signal comes back.
#[test]
fn metainit_rescues_a_vanishing_deep_chain() {
    let mut sizes = vec![16];
    sizes.extend([32; 8]);
    sizes.push(4);
    let (base, model, outcome) = metainit_tanh(&sizes, "tiny");
    let (before, after) = (output_std(&base, 16), output_std(&model, 16));
    assert!(
        outcome.scales.iter().all(|t| t.scale > 1.0),
        "every norm grows"
    );
    assert!(
        before < 1e-10 && after > 1e6 * before && after > 1e-3,
        "output std {before:e} before, {after:e} after"
    );
}

/// The same seed gives the same scales bit for bit, twice and on the layer engine.
#[test]
fn learned_scales_are_reproducible() {
    let (x, labels) = teacher_data(100, 4, 3, 7);
    let split = Split {
        x: x.view(),
        targets: TargetsView::Classes(&labels),
    };
    let settings = GradInit {
        iterations: 60,
        batch: 32,
        ..small_gradinit(FirstStep::Sgd, 1.0)
    };
    let base = small_net(Activation::Relu);
    let runs: Vec<_> = (0..2)
        .map(|_| {
            settings
                .learn(&mut base.clone(), InitData::Train(split), 9)
                .scales
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    let other = settings
        .learn(&mut base.clone(), InitData::Train(split), 10)
        .scales;
    assert_ne!(runs[0], other, "another seed, other batches");
    let on_network = settings
        .learn(&mut Network::from_mlp(&base), InitData::Train(split), 9)
        .scales;
    for (a, b) in runs[0].iter().zip(&on_network) {
        assert!(
            (a.scale - b.scale).abs() < 1e-9,
            "{} {} vs {}",
            a.tensor,
            a.scale,
            b.scale
        );
    }
    let data = InitData::Gaussian {
        inputs: 4,
        classes: 3,
    };
    let meta: Vec<_> = (0..2)
        .map(|_| metainit(20).learn(&mut base.clone(), data, 9).scales)
        .collect();
    assert_eq!(meta[0], meta[1]);
}

/// Bad parameter values are refused, naming the start, the key and the value.
#[test]
fn bad_parameters_are_refused() {
    for (spec, says) in [
        ("gradinit:batch=1", "`batch` must be ≥ 2"),
        ("gradinit:eta=0", "`eta` must be a finite number > 0"),
        ("gradinit:gamma=-1", "`gamma` must be a finite number > 0"),
        (
            "gradinit:min_scale=-0.5",
            "`min_scale` must be a finite number ≥ 0",
        ),
        (
            "gradinit:iterations=0",
            "`iterations` must be a whole number ≥ 1",
        ),
        ("gradinit:base=lsuv", "`base` must be one of"),
        ("metainit:momentum=1", "`momentum` must be in [0, 1)"),
        (
            "metainit:epsilon=0",
            "`epsilon` must be a finite number > 0",
        ),
        ("metainit:batch=2.5", "`batch` must be a whole number ≥ 1"),
        ("metainit:steps=3", "has no parameter `steps`"),
    ] {
        let e = spec.parse::<Init>().unwrap_err();
        assert!(e.contains(says), "{spec}: {e}");
        assert!(e.contains(spec.split(':').next().unwrap()), "{spec}: {e}");
    }
}
