//! `--save-weights`: every run's initial and final weights and biases as .npy, `(out, in)`.

use std::path::Path;

use assert_cmd::Command;
use ndarray::{Array1, Array2};
use ndarray_npy::read_npy;

#[test]
fn weights_are_saved_per_run_layer_and_moment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("xor");
    Command::cargo_bin("initlab")
        .unwrap()
        .args([
            "experiment",
            "xor",
            "--seeds",
            "2",
            "--epochs",
            "50",
            "--no-plots",
            "--quiet",
            "--save-weights",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let w = |name: &str| -> Array2<f32> { read_npy(out.join("weights").join(name)).unwrap() };
    let b = |name: &str| -> Array1<f32> { read_npy(out.join("weights").join(name)).unwrap() };
    // starts × 3 activations × 2 seeds × 2 layers × (initial, final) × (weight, bias).
    let starts = initlab::experiment::Experiment::load("xor")
        .unwrap()
        .inits
        .len();
    let count = std::fs::read_dir(out.join("weights")).unwrap().count();
    assert_eq!(count, starts * 3 * 2 * 2 * 2 * 2);
    // Layout (out, in), as torch.nn.Linear(in, out).weight.
    let first = w("he-normal_tanh_seed0_layer1_initial_weight.npy");
    assert_eq!(first.dim(), (4, 2));
    assert_eq!(
        w("he-normal_tanh_seed0_layer2_final_weight.npy").dim(),
        (1, 4)
    );
    assert_eq!(b("he-normal_tanh_seed1_layer1_final_bias.npy").len(), 4);
    // Zeros start: initial all zero; training changed the output bias only.
    assert!(
        w("zeros_relu_seed0_layer1_initial_weight.npy")
            .iter()
            .all(|v| *v == 0.0)
    );
    // A random start moves: final differs from initial.
    assert_ne!(first, w("he-normal_tanh_seed0_layer1_final_weight.npy"));
    // Common random numbers: huge = 1000 × tiny, element for element (up to f32 rounding).
    let tiny = w("tiny_sigmoid_seed1_layer1_initial_weight.npy");
    let huge = w("huge_sigmoid_seed1_layer1_initial_weight.npy");
    for (t, h) in tiny.iter().zip(&huge) {
        assert!((h / t - 1000.0).abs() < 1e-3, "{h} / {t}");
    }
    assert!(Path::new(&out.join("metrics.csv")).exists());
}
