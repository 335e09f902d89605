//! The `mean-field` start: parsed from TOML and the command line, weights N(0, σ_w²/fan_in)
//! as a scale of the same standard normals as the other normal-family starts (common random
//! numbers), biases N(0, σ_b²), and its scales read back by the theory.

use initlab::nn::init::Family;
use initlab::nn::{Activation, Fan, Init, Loss, Mlp};
use initlab::theory::start_scales;

fn net(init: &str, seed: u64) -> Mlp<f64> {
    let init: Init = init.parse().unwrap();
    let mut mlp = Mlp::<f64>::new(&[30, 40, 40, 5], &[Activation::Tanh; 2], Loss::Mse);
    mlp.initialize(&init, None, seed);
    mlp
}

#[test]
fn mean_field_two_is_he_normal_bit_for_bit() {
    for seed in [0, 7] {
        let (a, b) = (net("mean-field:sigma_w2=2", seed), net("he-normal", seed));
        for (x, y) in a.layers.iter().zip(&b.layers) {
            assert_eq!(x.weight, y.weight);
            assert_eq!(x.bias, y.bias);
        }
        let (a, b) = (
            net("mean-field:sigma_w2=1", seed),
            net("lecun-normal", seed),
        );
        assert!(
            a.layers
                .iter()
                .zip(&b.layers)
                .all(|(x, y)| x.weight == y.weight)
        );
    }
}

#[test]
fn mean_field_weights_are_multiples_of_the_common_normals() {
    let (a, b) = (
        net("mean-field:sigma_w2=0.5", 3),
        net("mean-field:sigma_w2=4.5", 3),
    );
    for (x, y) in a.layers.iter().zip(&b.layers) {
        for (u, v) in x.weight.iter().zip(&y.weight) {
            assert!((v - 3.0 * u).abs() <= 1e-12 * v.abs().max(1e-300));
        }
    }
    let init: Init = "mean-field".parse().unwrap();
    assert_eq!(init.family(), Family::Normal);
    let uniform: Init = "mean-field:distribution=uniform".parse().unwrap();
    assert_eq!(uniform.family(), Family::Uniform);
}

#[test]
fn mean_field_bias_has_variance_sigma_b2_and_weights_sigma_w2() {
    let init: Init = "mean-field:sigma_w2=1.5:sigma_b2=0.05".parse().unwrap();
    let mut mlp = Mlp::<f64>::new(&[400, 400, 400], &[Activation::Tanh], Loss::Mse);
    mlp.initialize(&init, None, 11);
    let w = &mlp.layers[0].weight;
    let var_w = w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
    // 160,000 draws: relative standard error √(2/160000) ≈ 0.0035.
    assert!((var_w * 400.0 / 1.5 - 1.0).abs() < 0.02, "{var_w}");
    let b: Vec<f64> = mlp.layers.iter().flat_map(|l| l.bias.to_vec()).collect();
    let var_b = b.iter().map(|v| v * v).sum::<f64>() / b.len() as f64;
    // 800 draws: relative standard error 0.05.
    assert!((var_b / 0.05 - 1.0).abs() < 0.2, "{var_b}");
    // Zero σ_b² gives exactly zero biases.
    assert!(
        net("mean-field:sigma_w2=3", 0)
            .layers
            .iter()
            .all(|l| l.bias.iter().all(|&v| v == 0.0))
    );
    let fan = Fan {
        fan_in: 400,
        fan_out: 400,
    };
    let s = start_scales(&init, fan, Activation::Tanh).unwrap();
    assert!((s.sigma_w2 - 1.5).abs() < 1e-12 && (s.sigma_b2 - 0.05).abs() < 1e-15);
}

#[test]
fn named_starts_have_the_textbook_scales() {
    let fan = Fan {
        fan_in: 64,
        fan_out: 64,
    };
    for (init, activation, w) in [
        ("he-normal", Activation::Relu, 2.0),
        ("he-uniform", Activation::Relu, 2.0),
        ("lecun-normal", Activation::Tanh, 1.0),
        ("xavier-normal", Activation::Tanh, 1.0),
        ("xavier-uniform", Activation::Tanh, 1.0),
        ("xavier-normal:gain=auto", Activation::Tanh, 25.0 / 9.0),
        ("orthogonal", Activation::Tanh, 1.0),
        ("tiny", Activation::Tanh, 64.0 * 1e-4),
        ("huge", Activation::Tanh, 6400.0),
        ("variance-scaling", Activation::Tanh, 1.0),
    ] {
        let s = start_scales(&init.parse().unwrap(), fan, activation).unwrap();
        assert!((s.sigma_w2 - w).abs() < 1e-9 * w, "{init}: {}", s.sigma_w2);
        assert_eq!(s.sigma_b2, 0.0);
    }
    let pt = start_scales(&"pytorch-default".parse().unwrap(), fan, Activation::Relu).unwrap();
    assert!((pt.sigma_w2 - 1.0 / 3.0).abs() < 1e-12 && (pt.sigma_b2 - 1.0 / 192.0).abs() < 1e-12);
    for init in ["zeros", "constant:value=0.1", "normal:mean=0.5", "lsuv"] {
        assert!(
            start_scales(&init.parse().unwrap(), fan, Activation::Tanh).is_err(),
            "{init}"
        );
    }
}

#[test]
fn bad_mean_field_parameters_name_the_key() {
    for (spec, key) in [
        ("mean-field:sigma_w2=0", "sigma_w2"),
        ("mean-field:sigma_w2=-1", "sigma_w2"),
        ("mean-field:sigma_b2=-0.1", "sigma_b2"),
        ("mean-field:sigma_w2=inf", "sigma_w2"),
        ("mean-field:sigma_w2=nan", "sigma_w2"),
    ] {
        let e = spec.parse::<Init>().unwrap_err();
        assert!(e.contains(key), "{spec}: {e}");
    }
}
