//! The mean-field theory against closed forms and Monte Carlo: the identity and ReLU length
//! maps, χ₁ = σ_w²/2 for ReLU, the arc-cosine kernel, Gauss–Hermite's polynomial exactness
//! and its accuracy on smooth activations; q*, χ₁ and c* of the other activations against
//! sampled estimates; the phase boundary of tanh; bad settings.

use initlab::nn::Activation;
use initlab::theory::quadrature::{expect_pair, expect_scaled, gauss_hermite, integrate};
use initlab::theory::{Length, MeanField, Phase, check_scales};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const ALL: [Activation; 7] = initlab::nn::activation::ALL_ACTIVATIONS;

fn mf(a: Activation, w: f64, b: f64) -> MeanField {
    MeanField::new(a, w, b).unwrap()
}

#[test]
fn gauss_hermite_is_exact_for_polynomial_moments() {
    for n in [4, 17, 48, 96] {
        let rule = gauss_hermite(n);
        let mut double_factorial = 1.0; // (2k − 1)!!
        for k in 0..n {
            if 2 * k > (2 * n - 1).min(24) {
                break;
            }
            let m = rule.expect(|z| z.powi(2 * k as i32));
            assert!(
                (m - double_factorial).abs() <= 1e-10 * double_factorial,
                "n = {n}: E[z^{}] = {m}, expected {double_factorial}",
                2 * k
            );
            let odd = rule.expect(|z| z.powi(2 * k as i32 + 1));
            assert!(
                odd.abs() < 1e-12 * double_factorial.max(1.0),
                "odd moment {odd}"
            );
            double_factorial *= (2 * k + 1) as f64;
            if double_factorial > 1e150 {
                break;
            }
        }
    }
}

/// E_z[g(√q z)] by brute force: 20,000 Gauss–Legendre panels over ±12.
fn reference(q: f64, g: impl Fn(f64) -> f64) -> f64 {
    let s = q.sqrt();
    integrate(
        |z| g(s * z) * (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt(),
        -12.0,
        12.0,
        20_000,
    )
}

#[test]
fn one_dimensional_expectations_are_accurate_at_every_scale() {
    for a in [
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Softsign,
        Activation::Selu,
    ] {
        for q in [1e-4, 0.3, 1.0, 4.0, 64.0, 200.0, 1e4, 1e6] {
            let m = mf(a, 1.0, 0.0);
            let want = reference(q, |u| initlab::theory::phi::phi(a, u).powi(2));
            let got = m.second_moment(q);
            // The reference itself loses digits at q = 1e6 (φ bends within 1e-3 of z = 0).
            let tol = if q > 1e4 { 1e-7 } else { 1e-9 };
            assert!(
                (got - want).abs() <= tol * want.max(1e-3),
                "{}: E[φ²] at q = {q}: {got} vs {want}",
                a.name()
            );
            let want = reference(q, |u| initlab::theory::phi::dphi(a, u).powi(2));
            let got = m.derivative_second_moment(q);
            assert!(
                (got - want).abs() <= tol * want.max(1e-3),
                "{}: E[φ′²] at q = {q}: {got} vs {want}",
                a.name()
            );
        }
    }
}

#[test]
fn identity_length_map_is_linear() {
    for (w, b) in [(0.5, 0.0), (1.0, 0.1), (2.5, 0.3)] {
        let m = mf(Activation::Identity, w, b);
        for q in [0.0, 0.7, 3.0, 1000.0] {
            let want = w * q + b;
            assert!((m.length_map(q) - want).abs() <= 1e-12 * want.max(1.0));
        }
        assert!((m.chi1(1.0) - w).abs() < 1e-12);
    }
    // Below 1 the fixed point is σ_b²/(1 − σ_w²); above it diverges.
    let m = mf(Activation::Identity, 0.5, 0.1);
    let q = m.fixed_point(1.0).value().unwrap();
    assert!((q - 0.2).abs() < 1e-9, "{q}");
    assert_eq!(
        mf(Activation::Identity, 1.5, 0.1).fixed_point(1.0),
        Length::Diverges
    );
}

#[test]
fn relu_length_map_halves_and_chi1_is_half_sigma_w2() {
    for w in [0.5, 1.0, 2.0, 3.0] {
        let m = mf(Activation::Relu, w, 0.05);
        for q in [1e-3, 0.5, 2.0, 30.0, 500.0, 1e5] {
            let e = m.second_moment(q);
            assert!((e - q / 2.0).abs() <= 1e-12 * q, "E[relu²] at {q}: {e}");
            assert!((m.chi1(q) - w / 2.0).abs() < 1e-12, "χ₁ at {q}");
        }
    }
    let he = mf(Activation::Relu, 2.0, 0.0).analyze();
    assert_eq!(he.phase, Phase::Critical);
    assert!(he.xi_c.is_infinite());
    // He with a bias: q grows by σ_b² every layer, no fixed point.
    assert_eq!(
        mf(Activation::Relu, 2.0, 0.1).analyze().q_star,
        Length::Diverges
    );
    // Below 2: q* = σ_b²/(1 − σ_w²/2).
    let q = mf(Activation::Relu, 1.0, 0.1)
        .fixed_point(1.0)
        .value()
        .unwrap();
    assert!((q - 0.2).abs() < 1e-9, "{q}");
}

/// E[relu(u₁) relu(u₂)] for variances q and correlation c (Cho & Saul's arc-cosine kernel).
fn arc_cosine(q: f64, c: f64) -> f64 {
    q / (2.0 * std::f64::consts::PI)
        * ((1.0 - c * c).sqrt() + (std::f64::consts::PI - c.acos()) * c)
}

#[test]
fn relu_correlation_map_is_the_arc_cosine_kernel() {
    for (w, b) in [(1.0, 0.1), (2.0, 0.0), (1.5, 0.05)] {
        let m = mf(Activation::Relu, w, b);
        for q in [0.5, 1.0, 4.0] {
            for c in [-0.9, -0.3, 0.0, 0.4, 0.8, 0.99] {
                let want = (w * arc_cosine(q, c) + b) / (w * q / 2.0 + b);
                let got = m.correlation_map(q, c);
                assert!(
                    (got - want).abs() < 1e-6,
                    "c map at q {q}, c {c}: {got} vs {want}"
                );
            }
            assert!((m.correlation_map(q, 1.0) - 1.0).abs() < 1e-12);
        }
    }
}

/// Monte-Carlo E over z (n draws, seeded): mean and standard error.
fn monte_carlo(n: usize, seed: u64, g: impl Fn(f64, f64) -> f64) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut s, mut s2) = (0.0, 0.0);
    for _ in 0..n {
        let z1: f64 = StandardNormal.sample(&mut rng);
        let z2: f64 = StandardNormal.sample(&mut rng);
        let v = g(z1, z2);
        s += v;
        s2 += v * v;
    }
    let mean = s / n as f64;
    (mean, ((s2 / n as f64 - mean * mean) / n as f64).sqrt())
}

/// A sampled quantity of two standard normals.
type Sampler = Box<dyn Fn(f64, f64) -> f64>;

#[test]
fn every_activation_agrees_with_monte_carlo() {
    use initlab::theory::phi::{dphi, phi};
    for a in ALL {
        let m = mf(a, 1.7, 0.08);
        let q: f64 = 0.9;
        let (s, c) = (q.sqrt(), 0.6);
        let orth = (1.0f64 - c * c).sqrt();
        let checks: [(&str, f64, Sampler); 3] = [
            (
                "length map",
                m.length_map(q),
                Box::new(move |z, _| 1.7 * phi(a, s * z).powi(2) + 0.08),
            ),
            (
                "χ₁",
                m.chi1(q),
                Box::new(move |z, _| 1.7 * dphi(a, s * z).powi(2)),
            ),
            (
                "E[φφ]",
                expect_pair(q, q, c, |x, y| phi(a, x) * phi(a, y)),
                Box::new(move |z1, z2| phi(a, s * z1) * phi(a, s * (c * z1 + orth * z2))),
            ),
        ];
        for (what, theory, sample) in checks {
            let (mean, se) = monte_carlo(400_000, 7, sample);
            assert!(
                (theory - mean).abs() <= 5.0 * se + 1e-9,
                "{} {what}: quadrature {theory}, Monte Carlo {mean} ± {se}",
                a.name()
            );
        }
    }
}

#[test]
fn sampled_deep_network_settles_at_q_star() {
    // A wide tanh layer iterated by sampling: after 30 layers its mean square matches q*.
    use initlab::theory::phi::phi;
    let (w, b) = (2.0, 0.1);
    let m = mf(Activation::Tanh, w, b);
    let q_star = m.fixed_point(1.0).value().unwrap();
    let mut q: f64 = 1.0;
    for l in 0..30 {
        let (mean, _) = monte_carlo(200_000, l, |z, _| {
            phi(Activation::Tanh, q.sqrt() * z).powi(2)
        });
        q = w * mean + b;
    }
    assert!((q - q_star).abs() < 5e-3, "sampled {q}, q* {q_star}");
    // The fixed point is a fixed point.
    assert!((m.length_map(q_star) - q_star).abs() < 1e-10);
}

#[test]
fn tanh_critical_line_starts_at_one_and_rises_with_the_bias() {
    // Xavier/LeCun on a square layer: σ_w² = 1, σ_b² = 0 is critical.
    assert_eq!(
        mf(Activation::Tanh, 1.0, 0.0).analyze().phase,
        Phase::Critical
    );
    assert_eq!(
        mf(Activation::Tanh, 0.8, 0.0).analyze().phase,
        Phase::Ordered
    );
    assert_eq!(
        mf(Activation::Tanh, 1.3, 0.0).analyze().phase,
        Phase::Chaotic
    );
    // The critical σ_w² by bisection on χ₁ = 1 grows with σ_b².
    let critical = |b: f64| {
        let (mut lo, mut hi) = (0.9, 4.0);
        for _ in 0..25 {
            let mid = 0.5 * (lo + hi);
            let m = mf(Activation::Tanh, mid, b);
            if m.chi1(m.fixed_point(1.0).value().unwrap()) < 1.0 {
                lo = mid
            } else {
                hi = mid
            }
        }
        lo
    };
    let line: Vec<f64> = [0.0, 0.05, 0.1, 0.2].iter().map(|&b| critical(b)).collect();
    assert!((line[0] - 1.0).abs() < 5e-3, "{line:?}");
    assert!(line.windows(2).all(|p| p[1] > p[0] + 0.05), "{line:?}");
    // In the chaotic phase the correlation map has a stable c* < 1 with slope < 1.
    let chaos = mf(Activation::Tanh, 3.0, 0.05).analyze();
    assert!(chaos.c_star < 0.9 && chaos.chi_c < 1.0 && chaos.xi_c.is_finite());
    let q = chaos.q_star.value().unwrap();
    let m = mf(Activation::Tanh, 3.0, 0.05);
    assert!((m.correlation_map(q, chaos.c_star) - chaos.c_star).abs() < 1e-9);
    // ξ_c = −1/ln χ₁ in the ordered phase.
    let order = mf(Activation::Tanh, 0.7, 0.0).analyze();
    assert!((order.xi_c + 1.0 / 0.7f64.ln()).abs() < 1e-6, "{order:?}");
}

#[test]
fn chi_q_matches_a_finite_difference() {
    for a in ALL {
        let m = mf(a, 1.4, 0.1);
        let q = 0.8;
        let h = 1e-5;
        let fd = (m.length_map(q + h) - m.length_map(q - h)) / (2.0 * h);
        assert!(
            (m.chi_q(q) - fd).abs() < 1e-5,
            "{}: {} vs {fd}",
            a.name(),
            m.chi_q(q)
        );
    }
}

#[test]
fn bad_scales_are_refused_by_name() {
    for (w, b, key) in [
        (0.0, 0.0, "sigma_w2"),
        (-1.0, 0.0, "sigma_w2"),
        (f64::NAN, 0.0, "sigma_w2"),
        (f64::INFINITY, 0.0, "sigma_w2"),
        (1.0, -0.1, "sigma_b2"),
        (1.0, f64::NAN, "sigma_b2"),
    ] {
        let e = check_scales(w, b).unwrap_err().0;
        assert!(e.starts_with(key), "{e}");
    }
    // Overflow is "diverges", never NaN.
    let huge = mf(Activation::Identity, 1e6, 0.0).analyze();
    assert_eq!(huge.q_star, Length::Diverges);
    assert!(!huge.chi1.is_nan() && !huge.xi_c.is_nan() && !huge.c_star.is_nan());
    for a in ALL {
        let an = mf(a, 1e4, 1.0).analyze();
        assert!(
            !an.chi1.is_nan() && !an.xi_c.is_nan() && !an.chi_c.is_nan(),
            "{an:?}"
        );
    }
    assert_eq!(expect_scaled(0.0, |u| u + 1.0), 1.0);
}

/// GELU's, gelu-tanh's and SiLU's gains are 1/√E[f(z)²], z ~ N(0, 1) (src/nn/activation.rs):
/// checked by Gauss–Hermite quadrature and by the adaptive rule of `expect_scaled`, two
/// independent integrations; and the mean-field length map with σ_w² = gain² keeps q = 1.
#[test]
fn gelu_and_silu_gains_hold_unit_variance() {
    let rule = gauss_hermite(120);
    for a in initlab::nn::activation::INPUT_DERIVATIVE_ACTIVATIONS {
        let f = |z: f64| a.value(z);
        let second_moment = rule.expect(|z| f(z) * f(z));
        let adaptive = expect_scaled(1.0, |z| f(z) * f(z));
        assert!(
            (second_moment - adaptive).abs() < 1e-10,
            "{a}: {second_moment} {adaptive}"
        );
        let gain = 1.0 / second_moment.sqrt();
        assert!(
            (a.gain() - gain).abs() < 1e-10,
            "{a}: gain {} vs {gain}",
            a.gain()
        );
        // One layer of the length map at q = 1 with σ_w² = gain², σ_b² = 0.
        let q_next = a.gain() * a.gain() * expect_scaled(1.0, |z| f(z) * f(z));
        assert!((q_next - 1.0).abs() < 1e-9, "{a}: q → {q_next}");
    }
    // GELU's closed form, E[(zΦ(z))²] = 1/3 + 1/(2√3·π).
    let closed = 1.0 / 3.0 + 1.0 / (2.0 * 3f64.sqrt() * std::f64::consts::PI);
    let gelu = Activation::Gelu;
    assert!((rule.expect(|z| gelu.value(z).powi(2)) - closed).abs() < 1e-12);
}

/// The residual stream's prediction against a real network: residual MLPs of width 256 with
/// two-layer ReLU branches, started with He (the stream triples its second moment per
/// block), with pre-LayerNorm (+2 per block), and with ReZero (α = 0: flat), forwarded on
/// 256 standard-normal rows. One network's growth is a product of random factors (seeds
/// differ by ±10 % after six He blocks), so the ratio of measured to predicted std of each
/// block's output is averaged over 8 starts: within 5 % of 1, the prediction taken from each
/// network's measured stem (second moment and mean).
#[test]
fn residual_stream_prediction_matches_a_real_network() {
    use initlab::nn::dense::Dense;
    use initlab::nn::{Alpha, Init, Layer, LayerNorm, Loss, Network, NetworkWorkspace, Residual};
    use initlab::theory::residual::{BranchLayer, ResidualStream};
    use ndarray::Array2;

    let (width, blocks, rows, seeds) = (256, 6, 256, 8);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = Array2::from_shape_simple_fn((rows, width), || StandardNormal.sample(&mut rng));
    let he = BranchLayer {
        sigma_w2: 2.0,
        sigma_b2: 0.0,
    };
    for (name, pre_norm, start) in [
        ("he", false, "he-normal"),
        ("pre-layernorm", true, "he-normal"),
        ("rezero", false, "rezero"),
    ] {
        let mut layers = vec![
            Layer::Dense(Dense::zeros(width, width)),
            Layer::Activation(Activation::Relu),
        ];
        for _ in 0..blocks {
            let mut body = Vec::new();
            if pre_norm {
                body.push(Layer::LayerNorm(LayerNorm::new(width)));
            }
            body.extend([
                Layer::Dense(Dense::zeros(width, width)),
                Layer::Activation(Activation::Relu),
                Layer::Dense(Dense::zeros(width, width)),
            ]);
            layers.push(Layer::Residual(Residual {
                body,
                projection: None,
                alpha: Alpha::Fixed(1.0),
            }));
        }
        layers.push(Layer::Dense(Dense::zeros(width, 2)));
        let mut network = Network::new(width, layers, Loss::Mse).unwrap();
        let init: Init = start.parse().unwrap();
        let stream = ResidualStream {
            activation: Activation::Relu,
            branch: vec![he, he],
            alpha: if start == "rezero" { 0.0 } else { 1.0 },
            pre_norm,
        };
        let mut ratio = vec![0.0; blocks];
        let mut ws = NetworkWorkspace::new(&network, rows);
        for seed in 0..seeds {
            network.initialize(&init, Some(&"zeros".parse().unwrap()), seed);
            network.forward(x.view(), &mut ws);
            let stem = ws.output(1);
            let q0 = stem.iter().map(|v| v * v).sum::<f64>() / stem.len() as f64;
            let predicted = stream.block_stds(q0, stem.mean().unwrap(), blocks);
            for (b, want) in predicted.iter().enumerate() {
                let out = ws.output(2 + b);
                let m = out.mean().unwrap();
                let got = (out.mapv(|v| (v - m) * (v - m)).mean().unwrap()).sqrt();
                ratio[b] += got / want / seeds as f64;
            }
        }
        for (b, r) in ratio.iter().enumerate() {
            assert!(
                (r - 1.0).abs() < 0.05,
                "{name} block {}: measured / predicted std = {r} (mean of {seeds} starts)",
                b + 1
            );
        }
    }
}
