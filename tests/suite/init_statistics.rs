//! Statistical and structural tests of every initializer, in `f64`.
//!
//! Moment tests compare the sample mean and variance of one weight matrix with the values
//! the formulas give, within 5 standard errors. The standard error of the sample variance
//! comes from the distribution's fourth moment: Var(s²) ≈ (μ₄ − σ⁴)/n, i.e. 2σ⁴/n for a
//! normal, 0.8σ⁴/n for a uniform (μ₄ = 9σ⁴/5), and (κ − 1)σ⁴/n for the truncated normal
//! with its kurtosis κ computed here by numerical integration. The expected values are
//! written out from the papers' formulas in this file, not taken from the library.

use initlab::nn::init::{
    Distribution, Fan, FanMode, Gain, Init, SCHEMES, TRUNCATED_NORMAL_STD, layer_rng, parse_init,
};
use initlab::nn::{Activation, Loss, Mlp};
use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};

/// (fan_out, fan_in): square, wide, tall; every fan ≥ 100.
const SHAPES: [(usize, usize); 3] = [(256, 256), (100, 400), (400, 100)];

fn fan(rows: usize, cols: usize) -> Fan {
    Fan {
        fan_in: cols,
        fan_out: rows,
    }
}

fn draw(init: &Init, rows: usize, cols: usize, act: Activation, seed: u64) -> Array2<f64> {
    init.sample_f64(fan(rows, cols), act, &mut layer_rng(seed, 0, false))
}

/// ∫ f over [a, b] by composite Simpson's rule.
fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        let x = a + i as f64 * h;
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    s * h / 3.0
}

/// (variance, kurtosis μ₄/σ⁴) of a standard normal truncated to [-2, 2].
fn truncated_moments() -> (f64, f64) {
    let phi = |x: f64| (-x * x / 2.0).exp();
    let z = simpson(phi, -2.0, 2.0, 20_000);
    let m2 = simpson(|x| x * x * phi(x), -2.0, 2.0, 20_000) / z;
    let m4 = simpson(|x| x.powi(4) * phi(x), -2.0, 2.0, 20_000) / z;
    (m2, m4 / (m2 * m2))
}

/// What a scheme should produce.
#[derive(Debug)]
enum Expect {
    /// Every weight equals this.
    Exact(f64),
    /// N(mean, std²).
    Normal { mean: f64, std: f64 },
    /// U(low, high).
    Uniform { low: f64, high: f64 },
    /// mean + s·Z, Z standard normal truncated to ±2; `s` is the untruncated std.
    Truncated { mean: f64, s: f64 },
    /// Haar (semi-)orthogonal times gain.
    Orthogonal { gain: f64 },
    /// Exactly this matrix (a deterministic start).
    Matrix(Array2<f64>),
}

fn xavier_var(rows: usize, cols: usize) -> f64 {
    2.0 / (rows + cols) as f64
}

fn fan_of(mode: FanMode, rows: usize, cols: usize) -> f64 {
    match mode {
        FanMode::FanIn => cols as f64,
        FanMode::FanOut => rows as f64,
        FanMode::FanAvg => (rows + cols) as f64 / 2.0,
    }
}

fn gain_of(g: Gain, act: Activation) -> f64 {
    match g {
        Gain::Value(v) => v,
        Gain::Auto => act.gain(),
    }
}

/// A parameter of a built-in start, as its resolved spec records it.
fn param(init: &Init, key: &str) -> String {
    init.params()
        .into_iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("{init} has no parameter {key}"))
        .1
}

fn num(init: &Init, key: &str) -> f64 {
    param(init, key).parse().unwrap()
}

fn gain(init: &Init, act: Activation) -> f64 {
    match param(init, "gain").as_str() {
        "auto" => gain_of(Gain::Auto, act),
        g => gain_of(Gain::Value(g.parse().unwrap()), act),
    }
}

fn mode(init: &Init) -> FanMode {
    match param(init, "mode").as_str() {
        "fan_in" => FanMode::FanIn,
        "fan_out" => FanMode::FanOut,
        "fan_avg" => FanMode::FanAvg,
        m => panic!("mode {m}"),
    }
}

fn distribution(init: &Init) -> Distribution {
    match param(init, "distribution").as_str() {
        "normal" => Distribution::Normal,
        "uniform" => Distribution::Uniform,
        "truncated-normal" => Distribution::TruncatedNormal,
        d => panic!("distribution {d}"),
    }
}

/// The edge-of-chaos σ_w² without bias in closed form, 1/φ′(0)² (He: 2 for ReLU; tanh 1).
fn critical_closed_form(act: Activation) -> f64 {
    match act {
        Activation::Relu => 2.0,
        Activation::Tanh | Activation::Identity => 1.0,
        a => panic!("no closed form here for {a}"),
    }
}

/// ZerO's matrix built independently of the library: Sylvester's recursion
/// H_{k+1} = [[H_k, H_k], [H_k, −H_k]], scaled by 2^(−(k−1)/2), its top-left block.
fn zero_expected(rows: usize, cols: usize) -> Array2<f64> {
    if rows <= cols {
        return Array2::from_shape_fn((rows, cols), |(i, j)| if i == j { 1.0 } else { 0.0 });
    }
    let mut h = Array2::from_elem((1, 1), 1.0);
    let mut k = 0;
    while h.nrows() < rows {
        let n = h.nrows();
        let mut next = Array2::zeros((2 * n, 2 * n));
        for ((i, j), &v) in h.indexed_iter() {
            next[[i, j]] = v;
            next[[i, j + n]] = v;
            next[[i + n, j]] = v;
            next[[i + n, j + n]] = -v;
        }
        h = next;
        k += 1;
    }
    let c = 2f64.powf(-(k as f64 - 1.0) / 2.0);
    Array2::from_shape_fn((rows, cols), |(i, j)| c * h[[i, j]])
}

/// The distribution a scheme should draw from, from the papers' formulas (for a start that
/// depends on the layer's place: a hidden layer of a plain network).
fn expected(init: &Init, rows: usize, cols: usize, act: Activation) -> Expect {
    let sym = |bound: f64| Expect::Uniform {
        low: -bound,
        high: bound,
    };
    let fan_in = cols as f64;
    let tstd = truncated_moments().0.sqrt();
    let by_distribution = |d: Distribution, std: f64| match d {
        Distribution::Uniform => sym(3f64.sqrt() * std),
        Distribution::Normal => Expect::Normal { mean: 0.0, std },
        Distribution::TruncatedNormal => Expect::Truncated {
            mean: 0.0,
            s: std / tstd,
        },
    };
    let he = |slope: f64, fan: f64| (2.0 / ((1.0 + slope * slope) * fan)).sqrt();
    match init.name().as_str() {
        "zeros" => Expect::Exact(0.0),
        "constant" => Expect::Exact(num(init, "value")),
        "tiny" | "huge" => Expect::Normal {
            mean: 0.0,
            std: num(init, "std"),
        },
        "normal" => Expect::Normal {
            mean: num(init, "mean"),
            std: num(init, "std"),
        },
        "uniform" => Expect::Uniform {
            low: num(init, "low"),
            high: num(init, "high"),
        },
        "truncated-normal" => Expect::Truncated {
            mean: num(init, "mean"),
            s: num(init, "std"),
        },
        "xavier-uniform" => sym(gain(init, act) * (6.0 / (rows + cols) as f64).sqrt()),
        "xavier-normal" => Expect::Normal {
            mean: 0.0,
            std: gain(init, act) * xavier_var(rows, cols).sqrt(),
        },
        "he-uniform" => sym(3f64.sqrt() * he(num(init, "slope"), fan_of(mode(init), rows, cols))),
        "he-normal" => Expect::Normal {
            mean: 0.0,
            std: he(num(init, "slope"), fan_of(mode(init), rows, cols)),
        },
        "lecun-uniform" => sym((3.0 / fan_in).sqrt()),
        "lecun-normal" => Expect::Normal {
            mean: 0.0,
            std: (1.0 / fan_in).sqrt(),
        },
        "variance-scaling" => by_distribution(
            distribution(init),
            (num(init, "scale") / fan_of(mode(init), rows, cols)).sqrt(),
        ),
        "orthogonal" => Expect::Orthogonal {
            gain: gain(init, act),
        },
        "glorot-standard" | "pytorch-default" => sym(1.0 / fan_in.sqrt()),
        "keras-default" => sym((6.0 / (rows + cols) as f64).sqrt()),
        "lsuv" => Expect::Orthogonal { gain: 1.0 },
        "mean-field" => {
            by_distribution(distribution(init), (num(init, "sigma_w2") / fan_in).sqrt())
        }
        "critical" => by_distribution(
            distribution(init),
            (critical_closed_form(act) / fan_in).sqrt(),
        ),
        // A hidden layer outside any residual branch: He normal.
        "fixup" => Expect::Normal {
            mean: 0.0,
            std: he(0.0, fan_in),
        },
        // GradInit and MetaInit draw their base before learning its scales (not here).
        "rezero" | "skipinit" | "gradinit" | "metainit" => {
            assert_eq!(param(init, "base"), "he-normal", "the default base");
            Expect::Normal {
                mean: 0.0,
                std: he(0.0, fan_in),
            }
        }
        "zero-hadamard" => Expect::Matrix(zero_expected(rows, cols)),
        other => unreachable!("no expectation written for `{other}`"),
    }
}

/// (mean, std, kurtosis) of an expectation (orthogonal entries are treated as normal).
fn moments(e: &Expect, rows: usize, cols: usize) -> (f64, f64, f64) {
    match *e {
        Expect::Exact(v) => (v, 0.0, 3.0),
        Expect::Normal { mean, std } => (mean, std, 3.0),
        Expect::Uniform { low, high } => ((low + high) / 2.0, (high - low) / 12f64.sqrt(), 1.8),
        Expect::Truncated { mean, s } => {
            let (var, kurt) = truncated_moments();
            (mean, s * var.sqrt(), kurt)
        }
        Expect::Orthogonal { gain } => (0.0, gain / (rows.max(cols) as f64).sqrt(), 3.0),
        Expect::Matrix(_) => (0.0, 0.0, 3.0),
    }
}

/// Asserts the sample mean and variance are within 5 standard errors of the theory, and the
/// support constraints (uniform bound, truncation at 2 std, orthogonality).
fn check(spec: &str, init: &Init, rows: usize, cols: usize, act: Activation, seed: u64) {
    let w = draw(init, rows, cols, act, seed);
    assert_eq!(w.dim(), (rows, cols), "{spec}: shape");
    let e = expected(init, rows, cols, act);
    let n = w.len() as f64;
    if let Expect::Matrix(m) = &e {
        assert_eq!(&w, m, "{spec} {rows}×{cols}: not ZerO's matrix");
        return;
    }
    let (mu, sigma, kurt) = moments(&e, rows, cols);
    let mean = w.mean().unwrap();
    let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let ctx = format!("{spec} {rows}×{cols} {act} seed {seed} (expect {e:?})");
    if let Expect::Exact(v) = e {
        assert!(w.iter().all(|&x| x == v), "{ctx}: not all {v}");
        return;
    }
    let se_mean = sigma / n.sqrt();
    assert!(
        (mean - mu).abs() <= 5.0 * se_mean,
        "{ctx}: mean {mean} vs {mu} (5 SE = {})",
        5.0 * se_mean
    );
    let se_var = ((kurt - 1.0) * sigma.powi(4) / n).sqrt();
    assert!(
        (var - sigma * sigma).abs() <= 5.0 * se_var,
        "{ctx}: variance {var} vs {} (5 SE = {})",
        sigma * sigma,
        5.0 * se_var
    );
    match e {
        Expect::Uniform { low, high } => {
            let (lo, hi) = w
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            assert!(lo >= low && hi <= high, "{ctx}: range [{lo}, {hi}]");
            let slack = 1e-3 * (high - low);
            assert!(
                lo < low + slack && hi > high - slack,
                "{ctx}: range [{lo}, {hi}] too narrow"
            );
        }
        Expect::Truncated { mean, s } => {
            let worst = w.iter().map(|x| (x - mean).abs()).fold(0.0, f64::max);
            assert!(
                worst <= 2.0 * s * (1.0 + 1e-12),
                "{ctx}: |w - mean| reaches {worst} > 2·{s}"
            );
            assert!(worst > 1.9 * s, "{ctx}: the tails are missing ({worst})");
        }
        Expect::Orthogonal { gain } => assert_orthogonal(&w, gain, &ctx),
        _ => {}
    }
}

/// W·Wᵀ (wide or square) or Wᵀ·W (tall) equals gain²·I to 1e-5.
fn assert_orthogonal(w: &Array2<f64>, gain: f64, ctx: &str) {
    let gram = if w.nrows() <= w.ncols() {
        w.dot(&w.t())
    } else {
        w.t().dot(w)
    };
    let g2 = gain * gain;
    for ((i, j), &v) in gram.indexed_iter() {
        let want = if i == j { g2 } else { 0.0 };
        assert!(
            (v - want).abs() <= 1e-5 * g2.max(1.0),
            "{ctx}: Gram matrix [{i},{j}] = {v}, want {want}"
        );
    }
}

/// Every catalogue scheme at its defaults, plus non-default parameters.
fn specs() -> Vec<String> {
    let mut specs: Vec<String> = SCHEMES.iter().map(|s| s.name.to_string()).collect();
    specs.extend(
        [
            "constant:value=0.3",
            "tiny:std=0.02",
            "huge:std=5",
            "normal:mean=0.5:std=2",
            "uniform:low=-0.5:high=2",
            "truncated-normal:mean=1:std=0.5",
            "xavier-uniform:gain=auto",
            "xavier-normal:gain=auto",
            "xavier-normal:gain=2.5",
            "he-uniform:mode=fan_out:slope=0.2",
            "he-normal:mode=fan_out:slope=0.1",
            "he-normal:mode=fan_avg",
            "variance-scaling:scale=2:mode=fan_avg:distribution=normal",
            "variance-scaling:scale=3:mode=fan_out:distribution=uniform",
            "variance-scaling:scale=0.5:mode=fan_avg",
            "orthogonal:gain=auto",
            "orthogonal:gain=2",
        ]
        .map(String::from),
    );
    specs
}

#[test]
fn every_scheme_matches_its_moments_and_support_on_three_shapes() {
    let mut checked = 0;
    for spec in specs() {
        let init: Init = spec.parse().unwrap();
        for (rows, cols) in SHAPES {
            for (seed, act) in [(1, Activation::Tanh), (2, Activation::Relu)] {
                check(&spec, &init, rows, cols, act, seed);
                checked += 1;
            }
        }
    }
    assert!(checked >= SCHEMES.len() * 6);
}

#[test]
fn the_moment_test_can_fail() {
    // A scheme drawing with 3% too much standard deviation must be caught on 256×256.
    let init = "xavier-normal:gain=1.03".parse::<Init>().unwrap();
    let w = draw(&init, 256, 256, Activation::Identity, 1);
    let sigma2 = xavier_var(256, 256);
    let var = w.var(1.0);
    let se = (2.0 * sigma2 * sigma2 / w.len() as f64).sqrt();
    assert!((var - sigma2).abs() > 5.0 * se, "a 3% error went unnoticed");
}

#[test]
fn truncated_normal_std_constant_is_the_std_of_a_normal_truncated_at_two() {
    let (var, kurt) = truncated_moments();
    assert!(
        (var.sqrt() - TRUNCATED_NORMAL_STD).abs() < 1e-12,
        "integrated {} vs constant {TRUNCATED_NORMAL_STD}",
        var.sqrt()
    );
    assert!((TRUNCATED_NORMAL_STD - 0.87962566).abs() < 1e-8);
    // Lighter tails than a normal.
    assert!(kurt > 1.8 && kurt < 3.0, "kurtosis {kurt}");
}

#[test]
fn orthogonal_gram_matrix_is_gain_squared_identity() {
    for (rows, cols) in SHAPES.into_iter().chain([(3, 7), (7, 3), (1, 5), (64, 64)]) {
        for gain in [1.0, 0.5, 2.0] {
            let w = draw(
                &format!("orthogonal:gain={gain}").parse::<Init>().unwrap(),
                rows,
                cols,
                Activation::Relu,
                5,
            );
            assert_orthogonal(&w, gain, &format!("orthogonal gain {gain} {rows}×{cols}"));
        }
        let auto = draw(
            &"orthogonal:gain=auto".parse::<Init>().unwrap(),
            rows,
            cols,
            Activation::Tanh,
            5,
        );
        assert_orthogonal(
            &auto,
            5.0 / 3.0,
            &format!("orthogonal auto/tanh {rows}×{cols}"),
        );
    }
}

#[test]
fn pytorch_default_bound_is_one_over_sqrt_fan_in_for_weight_and_bias() {
    let mut mlp = Mlp::<f64>::new(
        &[400, 256, 100, 3],
        &[Activation::Relu, Activation::Relu],
        Loss::SoftmaxCrossEntropy,
    );
    mlp.initialize(&"pytorch-default".parse::<Init>().unwrap(), None, 11);
    for (l, layer) in mlp.layers.iter().enumerate() {
        let bound = 1.0 / (layer.inputs() as f64).sqrt();
        let max_w = layer.weight.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(max_w <= bound, "layer {l}: max |w| {max_w} > {bound}");
        if layer.weight.len() > 10_000 {
            assert!(
                max_w > bound * (1.0 - 1e-3),
                "layer {l}: max |w| {max_w} ≪ {bound}"
            );
        }
        let max_b = layer.bias.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(max_b <= bound, "layer {l}: max |b| {max_b} > {bound}");
        assert!(
            layer.bias.iter().any(|&b| b != 0.0),
            "layer {l}: bias all zero"
        );
        if layer.bias.len() >= 100 {
            assert!(
                max_b > 0.9 * bound,
                "layer {l}: max |b| {max_b} far from {bound}"
            );
        }
        // Different numbers from the weights (separate RNG streams).
        assert_ne!(layer.bias[0], layer.weight[[0, 0]]);
    }
}

#[test]
fn keras_default_bias_is_zero_and_weights_are_glorot_uniform() {
    let mut mlp = Mlp::<f64>::new(
        &[100, 300, 2],
        &[Activation::Tanh],
        Loss::SoftmaxCrossEntropy,
    );
    mlp.initialize(&"keras-default".parse::<Init>().unwrap(), None, 3);
    for layer in &mlp.layers {
        assert!(layer.bias.iter().all(|&b| b == 0.0));
    }
    let mut xavier = mlp.clone();
    xavier.initialize(&"xavier-uniform:gain=1".parse::<Init>().unwrap(), None, 3);
    assert_eq!(
        mlp, xavier,
        "keras-default = xavier-uniform weights + zero bias"
    );
}

#[test]
fn variance_scaling_reproduces_xavier_he_and_lecun_element_for_element() {
    let vs = |scale: f64, mode: FanMode, distribution: Distribution| {
        format!(
            "variance-scaling:scale={scale}:mode={}:distribution={}",
            mode.name(),
            distribution.name()
        )
        .parse::<Init>()
        .unwrap()
    };
    let one = "gain=1";
    let pairs = [
        (
            vs(1.0, FanMode::FanAvg, Distribution::Normal),
            format!("xavier-normal:{one}").parse::<Init>().unwrap(),
        ),
        (
            vs(1.0, FanMode::FanAvg, Distribution::Uniform),
            format!("xavier-uniform:{one}").parse::<Init>().unwrap(),
        ),
        (
            vs(2.0, FanMode::FanIn, Distribution::Normal),
            "he-normal:mode=fan_in:slope=0".parse::<Init>().unwrap(),
        ),
        (
            vs(2.0, FanMode::FanIn, Distribution::Uniform),
            "he-uniform:mode=fan_in:slope=0".parse::<Init>().unwrap(),
        ),
        (
            vs(2.0, FanMode::FanOut, Distribution::Normal),
            "he-normal:mode=fan_out:slope=0".parse::<Init>().unwrap(),
        ),
        (
            vs(1.0, FanMode::FanIn, Distribution::Normal),
            "lecun-normal".parse::<Init>().unwrap(),
        ),
        (
            vs(1.0, FanMode::FanIn, Distribution::Uniform),
            "lecun-uniform".parse::<Init>().unwrap(),
        ),
        (
            vs(1.0, FanMode::FanAvg, Distribution::Uniform),
            "keras-default".parse::<Init>().unwrap(),
        ),
    ];
    for (a, b) in &pairs {
        for (rows, cols) in SHAPES {
            for seed in [0, 9] {
                let wa = draw(a, rows, cols, Activation::Relu, seed);
                let wb = draw(b, rows, cols, Activation::Relu, seed);
                assert_eq!(wa, wb, "{a} vs {b} at {rows}×{cols}, seed {seed}");
            }
        }
    }
}

/// Asserts every matrix is an exact multiple of the first, to 1e-12 relative.
fn assert_common_random_numbers(specs: &[&str], act: Activation) {
    for (rows, cols) in SHAPES {
        let ws: Vec<Array2<f64>> = specs
            .iter()
            .map(|s| draw(&s.parse().unwrap(), rows, cols, act, 21))
            .collect();
        let base = &ws[0];
        for (w, spec) in ws.iter().zip(specs).skip(1) {
            let ratio = w[[0, 0]] / base[[0, 0]];
            for (a, b) in w.iter().zip(base) {
                let r = a / b;
                assert!(
                    (r - ratio).abs() <= 1e-12 * ratio.abs(),
                    "{spec} vs {}: ratio {r} vs {ratio} at {rows}×{cols}",
                    specs[0]
                );
            }
        }
    }
}

#[test]
fn normal_family_shares_its_random_numbers() {
    assert_common_random_numbers(
        &[
            "normal",
            "tiny",
            "huge",
            "xavier-normal",
            "xavier-normal:gain=auto",
            "he-normal",
            "he-normal:mode=fan_out:slope=0.3",
            "lecun-normal",
            "variance-scaling:distribution=normal:scale=3",
            "normal:std=0.2",
        ],
        Activation::Tanh,
    );
}

#[test]
fn uniform_family_shares_its_random_numbers() {
    assert_common_random_numbers(
        &[
            "uniform",
            "uniform:low=-3:high=3",
            "xavier-uniform",
            "he-uniform",
            "lecun-uniform",
            "glorot-standard",
            "pytorch-default",
            "keras-default",
            "variance-scaling:distribution=uniform:mode=fan_avg",
        ],
        Activation::Relu,
    );
    // An asymmetric U(low, high) is the same uniforms, shifted and scaled.
    let base = draw(
        &"uniform:low=-1:high=1".parse::<Init>().unwrap(),
        100,
        400,
        Activation::Relu,
        21,
    );
    let shifted = draw(
        &"uniform:low=0:high=4".parse::<Init>().unwrap(),
        100,
        400,
        Activation::Relu,
        21,
    );
    for (a, b) in shifted.iter().zip(&base) {
        assert!((a - (2.0 + 2.0 * b)).abs() < 1e-14);
    }
}

#[test]
fn truncated_family_shares_its_random_numbers() {
    assert_common_random_numbers(
        &[
            "truncated-normal",
            "truncated-normal:std=3",
            "variance-scaling",
            "variance-scaling:scale=2:mode=fan_out",
        ],
        Activation::Relu,
    );
}

#[test]
fn families_do_not_share_numbers_across_families() {
    let n = draw(
        &"xavier-normal".parse().unwrap(),
        100,
        400,
        Activation::Relu,
        4,
    );
    let u = draw(
        &"xavier-uniform".parse().unwrap(),
        100,
        400,
        Activation::Relu,
        4,
    );
    let ratio = n[[0, 0]] / u[[0, 0]];
    assert!(n.iter().zip(&u).any(|(a, b)| (a / b - ratio).abs() > 1e-3));
}

// ------------------------------------------------------------------------------------------
// Seeding
// ------------------------------------------------------------------------------------------

fn square_net(init: &Init, seed: u64) -> Mlp<f64> {
    let mut mlp = Mlp::<f64>::new(
        &[64, 64, 64, 64, 64],
        &[Activation::Tanh; 3],
        Loss::SoftmaxCrossEntropy,
    );
    mlp.initialize(
        init,
        Some(&"normal:mean=0:std=1".parse::<Init>().unwrap()),
        seed,
    );
    mlp
}

#[test]
fn same_seed_same_weights_different_seed_different_weights() {
    for spec in [
        "xavier-normal",
        "he-uniform",
        "orthogonal",
        "variance-scaling",
        "lsuv",
    ] {
        let init: Init = spec.parse().unwrap();
        assert_eq!(square_net(&init, 7), square_net(&init, 7), "{spec}");
        let (a, b) = (square_net(&init, 7), square_net(&init, 8));
        for (la, lb) in a.layers.iter().zip(&b.layers) {
            assert!(
                la.weight.iter().zip(&lb.weight).all(|(x, y)| x != y),
                "{spec}: a weight repeats across seeds"
            );
            assert_ne!(la.bias, lb.bias, "{spec}");
        }
    }
}

#[test]
fn layers_of_one_net_draw_different_numbers() {
    let mlp = square_net(&"he-normal:mode=fan_in:slope=0".parse::<Init>().unwrap(), 3);
    for i in 0..mlp.layers.len() {
        for j in 0..i {
            let (a, b) = (&mlp.layers[i], &mlp.layers[j]);
            assert!(
                a.weight.iter().zip(&b.weight).all(|(x, y)| x != y),
                "layers {i} and {j} share draws"
            );
            assert_ne!(a.bias, b.bias, "layers {i} and {j} share bias draws");
        }
        // A layer's bias stream differs from its weight stream.
        let l = &mlp.layers[i];
        let first_row = l.weight.row(0).to_owned();
        assert!(first_row.iter().zip(&l.bias).all(|(w, b)| w != b));
    }
}

#[test]
fn a_layers_draws_do_not_depend_on_the_other_layers() {
    // Layer 1 (64→64) of a net with a different first layer gets the same numbers.
    let init = "xavier-normal:gain=1".parse::<Init>().unwrap();
    let mut a = Mlp::<f64>::new(&[64, 64, 64, 2], &[Activation::Tanh; 2], Loss::Mse);
    let mut b = Mlp::<f64>::new(&[5, 64, 64, 2], &[Activation::Tanh; 2], Loss::Mse);
    a.initialize(&init, None, 1);
    b.initialize(&init, None, 1);
    assert_eq!(a.layers[1], b.layers[1]);
}

// ------------------------------------------------------------------------------------------
// Gains
// ------------------------------------------------------------------------------------------

#[test]
fn activation_gains() {
    assert_eq!(Activation::Identity.gain(), 1.0);
    assert_eq!(Activation::Sigmoid.gain(), 1.0);
    assert_eq!(Activation::Tanh.gain(), 5.0 / 3.0);
    assert_eq!(Activation::Relu.gain(), 2f64.sqrt());
    for a in [0.0, 0.01, 0.2, 1.0] {
        let g = Activation::LeakyRelu { slope: a }.gain();
        assert!(
            (g - (2.0 / (1.0 + a * a)).sqrt()).abs() < 1e-15,
            "leaky {a}: {g}"
        );
    }
    assert_eq!(Activation::Selu.gain(), 1.0);
}

#[test]
fn gain_auto_resolves_to_the_layers_activation() {
    let acts = [
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.2 },
    ];
    let mut mlp = Mlp::<f64>::new(&[30, 40, 50, 60, 5], &acts, Loss::SoftmaxCrossEntropy);
    for scheme in ["xavier-normal", "xavier-uniform", "orthogonal"] {
        let auto: Init = format!("{scheme}:gain=auto").parse().unwrap();
        mlp.initialize(&auto, None, 2);
        for (l, layer) in mlp.layers.iter().enumerate() {
            // The output layer is followed by no hidden activation: gain 1.
            let g = acts.get(l).map_or(1.0, |a| a.gain());
            let fixed: Init = format!("{scheme}:gain={g}").parse().unwrap();
            let f = Fan {
                fan_in: layer.inputs(),
                fan_out: layer.outputs(),
            };
            let want = fixed.sample_f64(f, Activation::Identity, &mut layer_rng(2, l, false));
            assert_eq!(layer.weight, want, "{scheme} layer {l}: gain auto ≠ {g}");
        }
    }
}

// ------------------------------------------------------------------------------------------
// LSUV
// ------------------------------------------------------------------------------------------

fn pre_activation_variances(mlp: &Mlp<f64>, x: &Array2<f64>) -> Vec<f64> {
    let mut a = x.clone();
    let mut out = Vec::new();
    for (l, layer) in mlp.layers.iter().enumerate() {
        let z = a.dot(&layer.weight.t()) + &layer.bias;
        out.push(z.var(0.0));
        let act = mlp.activation_after(l);
        a = z.mapv(|v| act.value(v));
    }
    out
}

fn gaussian_batch(rows: usize, cols: usize, scale: f64, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || {
        let z: f64 = StandardNormal.sample(&mut rng);
        scale * z
    })
}

#[test]
fn lsuv_gives_unit_pre_activation_variance_on_its_batch() {
    for act in [Activation::Tanh, Activation::Relu] {
        for scale in [1.0, 100.0] {
            let sizes = [20, 64, 64, 64, 64, 64, 64, 10];
            let mut mlp = Mlp::<f64>::new(&sizes, &[act; 6], Loss::SoftmaxCrossEntropy);
            let tolerance = 0.05;
            mlp.initialize(
                &format!("lsuv:tolerance={tolerance}:max_iterations=10")
                    .parse::<Init>()
                    .unwrap(),
                None,
                4,
            );
            let x = gaussian_batch(500, 20, scale, 1);
            let before = pre_activation_variances(&mlp, &x);
            let stuck = mlp.lsuv(x.view(), tolerance, 10);
            assert!(stuck.is_empty(), "{act} ×{scale}: stuck layers {stuck:?}");
            let after = pre_activation_variances(&mlp, &x);
            for (l, v) in after.iter().enumerate() {
                assert!(
                    (v - 1.0).abs() < tolerance,
                    "{act} ×{scale}: layer {l} variance {v} (before: {before:?})"
                );
            }
            if scale == 100.0 {
                assert!(
                    before[0] > 100.0,
                    "the scaled data should start far from 1: {before:?}"
                );
            }
        }
    }
}

#[test]
fn lsuv_reports_dead_layers_instead_of_panicking_or_nan() {
    let sizes = [10, 32, 32, 32, 32, 3];
    let mut mlp = Mlp::<f64>::new(&sizes, &[Activation::Relu; 4], Loss::SoftmaxCrossEntropy);
    mlp.initialize(
        &"lsuv:tolerance=0.1:max_iterations=10"
            .parse::<Init>()
            .unwrap(),
        None,
        1,
    );
    // Kill every unit of the first hidden layer: its outputs are 0 for any input.
    mlp.layers[0].bias.fill(-1e6);
    let x = gaussian_batch(64, 10, 1.0, 2);
    let stuck = mlp.lsuv(x.view(), 0.1, 10);
    assert_eq!(
        stuck,
        vec![1, 2, 3, 4],
        "every layer above the dead one has zero variance"
    );
    assert!(mlp.is_finite(), "LSUV produced a non-finite weight");

    // An all-zero batch (zero biases) has zero variance from the first layer on. (A batch of
    // one repeated row does not: LSUV's variance is over units and rows together.)
    let mut mlp = Mlp::<f64>::new(&sizes, &[Activation::Tanh; 4], Loss::SoftmaxCrossEntropy);
    mlp.initialize(
        &"lsuv:tolerance=0.1:max_iterations=10"
            .parse::<Init>()
            .unwrap(),
        None,
        1,
    );
    let same = Array2::<f64>::zeros((16, 10));
    let stuck = mlp.lsuv(same.view(), 0.1, 10);
    assert_eq!(stuck, vec![0, 1, 2, 3, 4]);
    assert!(mlp.is_finite());
}

// ------------------------------------------------------------------------------------------
// Custom initializers
// ------------------------------------------------------------------------------------------

#[test]
fn a_custom_closure_gives_exactly_what_it_returns() {
    use initlab::nn::init::CustomInit;
    let custom = Init::Custom(CustomInit::new(
        "index",
        "w[i,j] = i + j/1000",
        |fan: Fan, _rng: &mut dyn rand::RngCore| {
            Array2::from_shape_fn((fan.fan_out, fan.fan_in), |(i, j)| {
                i as f64 + j as f64 / 1000.0
            })
        },
    ));
    let mut mlp = Mlp::<f64>::new(&[3, 4, 2], &[Activation::Relu], Loss::Mse);
    mlp.initialize(&custom, None, 0);
    for layer in &mlp.layers {
        for ((i, j), &w) in layer.weight.indexed_iter() {
            assert_eq!(w, i as f64 + j as f64 / 1000.0);
        }
        assert!(layer.bias.iter().all(|&b| b == 0.0));
    }
    // Using the RNG it is given makes it seeded like the built-ins.
    let noisy = Init::Custom(CustomInit::new(
        "noise",
        "N(0,1)",
        |fan: Fan, rng: &mut dyn rand::RngCore| {
            Array2::from_shape_simple_fn((fan.fan_out, fan.fan_in), || StandardNormal.sample(rng))
        },
    ));
    let normal = "normal:mean=0:std=1".parse::<Init>().unwrap();
    let mut a = mlp.clone();
    a.initialize(&noisy, None, 5);
    mlp.initialize(&normal, None, 5);
    assert_eq!(a, mlp, "a custom N(0,1) draws the same numbers as `normal`");
    assert_eq!(format!("{noisy}"), "noise");
}

fn transposed() -> Init {
    Init::Custom(initlab::nn::init::CustomInit::new(
        "transposed",
        "wrong shape",
        |fan: Fan, _rng: &mut dyn rand::RngCore| Array2::zeros((fan.fan_in, fan.fan_out)),
    ))
}

#[test]
#[should_panic(
    expected = "custom initializer `transposed` returned a (3, 4) matrix for a layer with fan_in = 3 and fan_out = 4; it must return (fan_out, fan_in) = (4, 3)"
)]
fn a_custom_initializer_of_the_wrong_shape_panics_with_a_clear_message() {
    let mut mlp = Mlp::<f64>::new(&[3, 4, 2], &[Activation::Relu], Loss::Mse);
    mlp.initialize(&transposed(), None, 0);
}

#[test]
fn a_broken_custom_initializer_is_an_error_before_training() {
    let Init::Custom(c) = transposed() else {
        unreachable!()
    };
    let fans = [fan(4, 3), fan(2, 4)];
    let err = c.validate(&fans).unwrap_err();
    assert!(
        err.contains("transposed") && err.contains("(fan_out, fan_in) = (4, 3)"),
        "{err}"
    );
    let err = transposed()
        .try_sample_f64(fan(4, 3), Activation::Relu, &mut layer_rng(0, 0, false))
        .unwrap_err();
    assert!(err.contains("(4, 3)"), "{err}");

    let nan =
        initlab::nn::init::CustomInit::new("nan", "", |fan: Fan, _: &mut dyn rand::RngCore| {
            Array2::from_elem((fan.fan_out, fan.fan_in), f64::NAN)
        });
    let err = nan.validate(&fans).unwrap_err();
    assert!(err.contains("non-finite") && err.contains("nan"), "{err}");
}

// ------------------------------------------------------------------------------------------
// Bias initializers
// ------------------------------------------------------------------------------------------

#[test]
fn bias_initializers_draw_fan_out_values_with_the_layers_scale() {
    let init = parse_init("he-normal", &[]).unwrap();
    let f = fan(4000, 100);
    let b = init.sample_bias::<f64>(f, Activation::Relu, &mut layer_rng(1, 0, true));
    assert_eq!(b.len(), 4000);
    let want = (2.0 / 100.0_f64).sqrt();
    let std = b.std(1.0);
    assert!(
        (std - want).abs() < 5.0 * want / (2.0 * 4000.0_f64).sqrt(),
        "{std} vs {want}"
    );
    let zero = "keras-default".parse::<Init>().unwrap().sample_bias::<f64>(
        f,
        Activation::Relu,
        &mut layer_rng(1, 0, true),
    );
    assert!(zero.iter().all(|&v| v == 0.0));
    let torch = "pytorch-default"
        .parse::<Init>()
        .unwrap()
        .sample_bias::<f64>(f, Activation::Relu, &mut layer_rng(1, 0, true));
    assert!(torch.iter().all(|v| v.abs() <= 0.1) && torch.iter().any(|&v| v != 0.0));
    // Mean of a per-column statistic is what a Mlp stores: check through the Mlp too.
    let mut mlp = Mlp::<f64>::new(&[100, 4000, 2], &[Activation::Relu], Loss::Mse);
    mlp.initialize(
        &"zeros".parse::<Init>().unwrap(),
        Some(&"constant:value=0.25".parse::<Init>().unwrap()),
        0,
    );
    assert!(mlp.layers.iter().all(|l| l.bias.iter().all(|&v| v == 0.25)));
    assert!(
        mlp.layers[0]
            .weight
            .sum_axis(Axis(0))
            .iter()
            .all(|&v| v == 0.0)
    );
}
