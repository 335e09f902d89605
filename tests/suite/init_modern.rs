//! The starts made for residual networks (Fixup, ReZero, SkipInit), ZerO and the
//! edge-of-chaos start `critical`, checked on the networks they are for.
//!
//! Fixup, ReZero and SkipInit draw He's standard normals (common random numbers), so each is
//! checked against the same network under `he-normal` with the same seed: equal bits where the
//! start keeps He, exact zeros where it zeroes, He times L^(−1/(2m−2)) where it scales.
//! `critical`'s σ_w² is checked against closed forms (σ_b² = 0: 1/φ′(0)²) and, with a bias,
//! against the two equations it solves (q* a fixed point of the length map, χ₁ = 1 there).

use initlab::nn::activation::{SELU_ALPHA, SELU_LAMBDA};
use initlab::nn::dense::Dense;
use initlab::nn::init::{AlphaStart, Fan, Needs, layer_rng};
use initlab::nn::{Activation, Alpha, Init, Layer, LayerNorm, Loss, Network, ParamSet, Residual};
use initlab::theory::{MeanField, Phase, critical_sigma_w2};

fn init(spec: &str) -> Init {
    spec.parse().unwrap()
}

fn dense(i: usize, o: usize) -> Layer<f64> {
    Layer::Dense(Dense::zeros(i, o))
}

/// A stem 5→64, `blocks` residual blocks of `m` dense 64→64 layers with ReLU between them
/// (a LayerNorm first in each branch when `norm`), and a 64→3 classifier.
fn residual_net(blocks: usize, m: usize, norm: bool) -> Network<f64> {
    let mut layers = vec![dense(5, 64), Layer::Activation(Activation::Relu)];
    for _ in 0..blocks {
        let mut body = Vec::new();
        if norm {
            let mut n = LayerNorm::new(64);
            // Away from γ = 1, β = 0, so that the start's own values are seen.
            n.gain.fill(3.0);
            n.shift.fill(-2.0);
            body.push(Layer::LayerNorm(n));
        }
        for j in 0..m {
            body.push(dense(64, 64));
            if j + 1 < m {
                body.push(Layer::Activation(Activation::Relu));
            }
        }
        layers.push(Layer::Residual(Residual {
            body,
            projection: None,
            alpha: Alpha::Fixed(1.0),
        }));
    }
    layers.push(dense(64, 3));
    Network::new(5, layers, Loss::SoftmaxCrossEntropy).unwrap()
}

/// Every dense layer's (weight, bias), depth first (the order of `Network::dense_places`).
fn dense_layers(net: &Network<f64>) -> Vec<(Vec<f64>, Vec<f64>)> {
    fn walk(layers: &[Layer<f64>], out: &mut Vec<(Vec<f64>, Vec<f64>)>) {
        for l in layers {
            match l {
                Layer::Dense(d) => out.push((d.weight.iter().copied().collect(), d.bias.to_vec())),
                Layer::Residual(r) => walk(&r.body, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&net.layers, &mut out);
    out
}

fn initialized(start: &str, blocks: usize, m: usize, norm: bool, seed: u64) -> Network<f64> {
    let mut net = residual_net(blocks, m, norm);
    net.initialize(&init(start), None, seed);
    net
}

fn alphas(net: &Network<f64>) -> Vec<Alpha<f64>> {
    net.layers
        .iter()
        .filter_map(|l| match l {
            Layer::Residual(r) => Some(r.alpha.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn fixup_zeroes_the_classifier_and_each_branch_end_and_scales_the_rest_of_the_branch() {
    for (blocks, m) in [(3, 2), (8, 3), (4, 1)] {
        let fixup = dense_layers(&initialized("fixup", blocks, m, false, 7));
        let he = dense_layers(&initialized("he-normal", blocks, m, false, 7));
        assert_eq!(fixup.len(), 2 + blocks * m);
        // Zhang et al. 2019: the branch's other layers by L^(−1/(2m−2)), L = blocks.
        let factor = if m > 1 {
            (blocks as f64).powf(-1.0 / (2.0 * m as f64 - 2.0))
        } else {
            f64::NAN
        };
        for (k, ((w, b), (w_he, _))) in fixup.iter().zip(&he).enumerate() {
            assert!(
                b.iter().all(|&v| v == 0.0),
                "L={blocks} m={m} layer {k}: bias"
            );
            let last = k == fixup.len() - 1;
            let position = if k == 0 || last {
                None
            } else {
                Some((k - 1) % m + 1)
            };
            match position {
                // The stem: He itself, bit for bit.
                None if !last => assert_eq!(w, w_he, "stem"),
                // The classifier and each branch's last layer start at 0.
                None => assert!(w.iter().all(|&v| v == 0.0), "classifier"),
                Some(p) if p == m => {
                    assert!(
                        w.iter().all(|&v| v == 0.0),
                        "L={blocks} m={m}: branch end {k}"
                    )
                }
                Some(_) => {
                    for (a, h) in w.iter().zip(w_he) {
                        assert!(
                            (a - h * factor).abs() <= 1e-14 * h.abs().max(1e-300),
                            "L={blocks} m={m} layer {k}: {a} vs He {h} × {factor}"
                        );
                    }
                    // And the std is He's scaled: 4096 draws, within 5 standard errors.
                    let n = w.len() as f64;
                    let var = w.iter().map(|v| v * v).sum::<f64>() / n;
                    let want = 2.0 / 64.0 * factor * factor;
                    assert!(
                        (var - want).abs() <= 5.0 * want * (2.0 / n).sqrt(),
                        "L={blocks} m={m} layer {k}: variance {var} vs {want}"
                    );
                }
            }
        }
        // Fixup keeps α as configured (its scalar multipliers are not implemented).
        assert!(
            alphas(&initialized("fixup", blocks, m, false, 7))
                .iter()
                .all(|a| *a == Alpha::Fixed(1.0))
        );
    }
}

#[test]
fn fixup_makes_the_network_output_zero_and_every_block_the_identity() {
    let net = initialized("fixup", 4, 2, false, 3);
    let x = ndarray::Array2::from_shape_fn((6, 5), |(i, j)| (i as f64 - 2.5) * 0.3 + j as f64);
    let (logits, _) = net.reference_forward(x.view(), initlab::nn::Mode::Train);
    assert!(logits.iter().all(|&v| v == 0.0), "{logits:?}");
}

#[test]
fn rezero_and_skipinit_start_a_learnable_alpha_at_zero_and_keep_the_base_start() {
    for start in ["rezero", "skipinit"] {
        let net = initialized(start, 3, 2, false, 11);
        let he = initialized("he-normal", 3, 2, false, 11);
        assert_eq!(
            dense_layers(&net),
            dense_layers(&he),
            "{start}: He's weights"
        );
        let alphas = alphas(&net);
        assert_eq!(alphas.len(), 3);
        for a in alphas {
            assert_eq!(
                a,
                Alpha::Learnable(ndarray::Array1::from_elem(1, 0.0)),
                "{start}"
            );
        }
        // α is a parameter now: one more tensor per block.
        assert_eq!(net.tensor_count(), he.tensor_count() + 3, "{start}");
        // Every block starts as the identity, so the output is the plain stem+classifier's.
        let other = init(start).other_params();
        assert_eq!(other.alpha, AlphaStart::Learnable(0.0));
    }
    assert_eq!(init("rezero").other_params().needs, Needs::Residual);
    assert_eq!(
        init("skipinit").other_params().needs,
        Needs::ResidualWithoutNorm
    );
    assert_eq!(init("fixup").other_params().needs, Needs::Residual);
    assert_eq!(init("he-normal").other_params().needs, Needs::Nothing);
    // Another base start.
    let xavier = initialized("rezero:base=xavier-normal", 2, 2, false, 5);
    let plain = initialized("xavier-normal", 2, 2, false, 5);
    assert_eq!(dense_layers(&xavier), dense_layers(&plain));
    let e = "rezero:base=fixup".parse::<Init>().unwrap_err();
    assert!(
        e.contains("`base` must be one of") && e.contains("he-normal"),
        "{e}"
    );
}

#[test]
fn every_start_sets_norm_gains_to_one_and_shifts_to_zero() {
    for start in ["he-normal", "rezero", "fixup", "zero-hadamard", "critical"] {
        let net = initialized(start, 2, 2, true, 1);
        for layer in &net.layers {
            if let Layer::Residual(r) = layer {
                let Layer::LayerNorm(n) = &r.body[0] else {
                    panic!("a norm first")
                };
                assert!(n.gain.iter().all(|&g| g == 1.0), "{start}: gain");
                assert!(n.shift.iter().all(|&s| s == 0.0), "{start}: shift");
            }
        }
    }
}

#[test]
fn zero_hadamard_is_deterministic_identity_or_hadamard() {
    let z = init("zero-hadamard");
    let draw = |fan_in, fan_out, seed| {
        z.sample_f64(
            Fan { fan_in, fan_out },
            Activation::Relu,
            &mut layer_rng(seed, 0, false),
        )
    };
    // No randomness: every seed gives the same matrix.
    assert_eq!(draw(3, 8, 1), draw(3, 8, 2));
    // Square: the identity; shrinking: [I 0].
    let square = draw(4, 4, 0);
    assert_eq!(square, ndarray::Array2::<f64>::eye(4));
    let shrink = draw(5, 2, 0);
    assert_eq!(
        shrink,
        ndarray::array![[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0]]
    );
    // Expanding 2 → 3: k = ⌈log₂ 3⌉ = 2, c = 2^(−1/2); H₂'s top-left 3×2 block is
    // [[1, 1], [1, −1], [1, 1]].
    let c = 0.5f64.sqrt();
    let expand = draw(2, 3, 0);
    let want = ndarray::array![[c, c], [c, -c], [c, c]];
    for (a, b) in expand.iter().zip(&want) {
        assert!((a - b).abs() < 1e-15, "{expand:?}");
    }
    // Expanding 4 → 8: the columns are orthogonal with equal norms (2^k c² = 2 each),
    // so distinct inputs stay distinct.
    let w = draw(4, 8, 0);
    let gram = w.t().dot(&w);
    for ((i, j), &v) in gram.indexed_iter() {
        let want = if i == j { 2.0 } else { 0.0 };
        assert!((v - want).abs() < 1e-12, "Gram[{i},{j}] = {v}");
    }
    // ZerO's biases are zero, and it cannot initialize a bias itself.
    assert!(initlab::nn::init::check_bias_init(&z).is_err());
}

#[test]
fn critical_sigma_w2_without_bias_is_one_over_phi_prime_at_zero_squared() {
    let closed_forms = [
        (Activation::Relu, 2.0),
        (Activation::LeakyRelu { slope: 0.1 }, 2.0 / 1.01),
        (Activation::Tanh, 1.0),
        (Activation::Softsign, 1.0),
        (Activation::Identity, 1.0),
        // GELU: φ′(0) = Φ(0) = 1/2; SiLU: φ′(0) = σ(0) = 1/2.
        (Activation::Gelu, 4.0),
        (Activation::GeluTanh, 4.0),
        (Activation::Silu, 4.0),
        // SELU: φ′(0±) = λ and λα, averaged in square.
        (
            Activation::Selu,
            2.0 / (SELU_LAMBDA * SELU_LAMBDA * (1.0 + SELU_ALPHA * SELU_ALPHA)),
        ),
    ];
    for (a, want) in closed_forms {
        let got = critical_sigma_w2(a, 0.0).unwrap().sigma_w2;
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "{a}: σ_w² = {got}, want {want}"
        );
    }
    // He and LeCun (Xavier on a square layer) are two cases of the one rule, exactly.
    assert_eq!(
        critical_sigma_w2(Activation::Relu, 0.0).unwrap().sigma_w2,
        2.0
    );
    assert_eq!(
        critical_sigma_w2(Activation::Tanh, 0.0).unwrap().sigma_w2,
        1.0
    );
    // So `critical` draws he-normal's numbers for ReLU, bit for bit.
    let fan = Fan {
        fan_in: 30,
        fan_out: 20,
    };
    assert_eq!(
        init("critical").sample_f64(fan, Activation::Relu, &mut layer_rng(9, 2, false)),
        init("he-normal").sample_f64(fan, Activation::Relu, &mut layer_rng(9, 2, false))
    );
}

#[test]
fn critical_sigma_w2_with_bias_solves_both_equations() {
    for a in [
        Activation::Tanh,
        Activation::Gelu,
        Activation::Silu,
        Activation::Selu,
        Activation::Softsign,
    ] {
        for sigma_b2 in [0.01, 0.1, 0.5] {
            let c = critical_sigma_w2(a, sigma_b2).unwrap();
            let q = c.q_star.unwrap();
            let field = MeanField::new(a, c.sigma_w2, sigma_b2).unwrap();
            assert!(q > 0.0, "{a} σ_b² = {sigma_b2}: q* = {q}");
            let fixed = field.length_map(q);
            assert!(
                (fixed - q).abs() <= 1e-9 * q,
                "{a} {sigma_b2}: q* {q} maps to {fixed}"
            );
            let chi1 = field.chi1(q);
            assert!((chi1 - 1.0).abs() <= 1e-9, "{a} {sigma_b2}: χ₁ = {chi1}");
        }
    }
    // tanh's fixed point is stable: the theory's own analysis calls the start critical.
    let c = critical_sigma_w2(Activation::Tanh, 0.1).unwrap();
    let analysis = MeanField::new(Activation::Tanh, c.sigma_w2, 0.1)
        .unwrap()
        .analyze();
    assert_eq!(analysis.phase, Phase::Critical, "{analysis:?}");
    // The ReLU family has no edge of chaos with a bias.
    let e = critical_sigma_w2(Activation::Relu, 0.1).unwrap_err();
    assert!(e.contains("relu") && e.contains("sigma_b2 = 0.1"), "{e}");
}

#[test]
fn critical_draws_mean_field_numbers_with_its_sigma_w2() {
    let fan = Fan {
        fan_in: 50,
        fan_out: 40,
    };
    for (a, sigma_b2) in [
        (Activation::Relu, 0.0),
        (Activation::Tanh, 0.1),
        (Activation::Gelu, 0.0),
    ] {
        let sw2 = critical_sigma_w2(a, sigma_b2).unwrap().sigma_w2;
        let critical = init(&format!("critical:sigma_b2={sigma_b2}"));
        let mean_field = init(&format!("mean-field:sigma_w2={sw2}:sigma_b2={sigma_b2}"));
        let mut r1 = layer_rng(3, 1, false);
        let mut r2 = layer_rng(3, 1, false);
        assert_eq!(
            critical.sample_f64(fan, a, &mut r1),
            mean_field.sample_f64(fan, a, &mut r2),
            "{a}"
        );
        // The theory reads the same scales off the start.
        let scales = initlab::theory::start_scales(&critical, fan, a).unwrap();
        assert!((scales.sigma_w2 - sw2).abs() <= 1e-12 * sw2);
    }
    // Where the activation has no edge of chaos the network check says so, naming the layer.
    let e = init("critical:sigma_b2=0.1")
        .check_layers(&[4, 8, 2], Activation::Relu)
        .unwrap_err();
    assert!(
        e.contains("critical") && e.contains("layer 1") && e.contains("relu"),
        "{e}"
    );
}

#[test]
fn a_run_records_the_sigma_w2_critical_picked_and_reruns_from_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let toml = r#"name = "c"
seeds = 1
inits = ["critical", { name = "critical", sigma_b2 = 0.1, label = "critical-b" }, "fixup", "rezero"]

[data]
source = "moons"
samples = 60

[network]
hidden = [6, 6, 6]
residual = true
activations = ["tanh"]
loss = "cross-entropy"

[training]
epochs = 2
learning_rate = 0.05
"#;
    std::fs::write(dir.path().join("e.toml"), toml).unwrap();
    let run = |file: &str, out: &str| {
        assert_cmd::Command::cargo_bin("initlab")
            .unwrap()
            .current_dir(dir.path())
            .args(["experiment", file, "--out", out, "--quiet", "--no-plots"])
            .assert()
            .success();
    };
    run("e.toml", "out");
    let config = std::fs::read_to_string(dir.path().join("out/config.toml")).unwrap();
    let picked = |label: &str| -> f64 {
        let line = config
            .lines()
            .find(|l| l.starts_with(&format!("# `{label}` picked σ_w²")))
            .unwrap_or_else(|| panic!("no note for {label}:\n{config}"));
        let after = line.split("tanh ").nth(1).unwrap();
        after.split(';').next().unwrap().parse().unwrap()
    };
    assert_eq!(picked("critical"), 1.0);
    let biased = critical_sigma_w2(Activation::Tanh, 0.1).unwrap().sigma_w2;
    assert_eq!(picked("critical-b"), biased);
    // The recorded config reruns to the same numbers.
    run("out/config.toml", "again");
    let metrics = |d: &str| std::fs::read(dir.path().join(d).join("metrics.csv")).unwrap();
    assert_eq!(metrics("out"), metrics("again"));
}
