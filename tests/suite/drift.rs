//! `layers.csv`'s `weight_change` and `feature_change` (lazy versus feature learning): the
//! weight change against an independent computation from the saved weights, on both
//! engines; and the direction the kernel-regime theory gives across width.

use std::path::Path;
use std::process::Command;

use ndarray::Array2;
use ndarray_npy::read_npy;

/// Runs `initlab experiment` with `args` into `dir/out`.
fn run(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_initlab"))
        .args(["experiment", "--quiet", "--no-plots", "--out"])
        .arg(dir.join("out"))
        .args(args)
        .output()
        .unwrap();
    crate::assert_success(&out);
}

/// One `layers.csv` row: (width axis or "", epoch, layer, weight_change, feature_change).
type Row = (String, usize, usize, Option<f64>, Option<f64>);

/// `layers.csv`'s rows.
fn changes(dir: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(dir.join("out/layers.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name);
    let (epoch, layer) = (at("epoch").unwrap(), at("layer").unwrap());
    let (w, f, width) = (
        at("weight_change").unwrap(),
        at("feature_change").unwrap(),
        at("width"),
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                width.map(|i| r[i].to_string()).unwrap_or_default(),
                r[epoch].parse().unwrap(),
                r[layer].parse().unwrap(),
                r[w].parse().ok(),
                r[f].parse().ok(),
            )
        })
        .collect()
}

/// ‖W_final − W_initial‖_F / ‖W_initial‖_F of every saved dense weight, in file order.
fn saved_changes(dir: &Path) -> Vec<f64> {
    let weights = dir.join("out/weights");
    let mut initial: Vec<_> = std::fs::read_dir(&weights)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_initial_weight.npy"))
        .collect();
    initial.sort();
    initial
        .iter()
        .map(|p| {
            let w0: Array2<f32> = read_npy(p).unwrap();
            let final_path = p.to_string_lossy().replace("_initial_", "_final_");
            let w1: Array2<f32> = read_npy(final_path).unwrap();
            let moved: f64 = w1
                .iter()
                .zip(&w0)
                .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                .sum();
            let size: f64 = w0.iter().map(|b| f64::from(*b).powi(2)).sum();
            (moved / size).sqrt()
        })
        .collect()
}

#[test]
fn weight_change_is_the_distance_of_the_saved_weights_on_both_engines() {
    // tanh runs on the fused fast path, GELU on the layer engine.
    for activation in ["tanh", "gelu"] {
        let dir = tempfile::tempdir().unwrap();
        run(
            dir.path(),
            &[
                "xor",
                "--seeds",
                "1",
                "--epochs",
                "20",
                "--inits",
                "he-normal",
                "--activations",
                activation,
                "--save-weights",
            ],
        );
        let rows = changes(dir.path());
        let last = rows.iter().map(|r| r.1).max().unwrap();
        for r in rows.iter().filter(|r| r.1 == 0) {
            assert_eq!((r.3, r.4), (Some(0.0), Some(0.0)), "{activation}: {r:?}");
        }
        let measured: Vec<f64> = rows
            .iter()
            .filter(|r| r.1 == last)
            .map(|r| r.3.unwrap())
            .collect();
        let saved = saved_changes(dir.path());
        assert_eq!(measured.len(), saved.len(), "{activation}");
        for (m, s) in measured.iter().zip(&saved) {
            // f32 weights: the two sums differ only by rounding.
            assert!(
                *s > 1e-3 && (m / s - 1.0).abs() < 1e-5,
                "{activation}: {m} vs {s}"
            );
        }
        assert!(
            rows.iter()
                .filter(|r| r.1 == last)
                .all(|r| r.4.unwrap() > 0.0)
        );
    }
}

/// Under the standard parametrization with one learning rate, a wider hidden layer moves
/// less: the kernel regime's ‖ΔW‖/‖W₀‖ ∝ width^(−1/2) predicts a factor 1/4 from 32 to 512
/// units (measured 0.26 over 3 epochs, 2 seeds); the test asks for 0.15–0.5 after one epoch.
#[test]
fn wider_hidden_layers_move_less_under_the_standard_parametrization() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            "digits",
            "--seeds",
            "1",
            "--epochs",
            "1",
            "--inits",
            "he-normal",
            "--activations",
            "relu",
            "--learning-rate",
            "0.05",
            "--grid",
            "network.width=32,512",
        ],
    );
    let rows = changes(dir.path());
    let hidden = |width: &str| {
        rows.iter()
            .find(|r| r.0 == width && r.1 == 1 && r.2 == 2)
            .and_then(|r| r.3)
            .unwrap()
    };
    let ratio = hidden("512") / hidden("32");
    assert!((0.15..0.5).contains(&ratio), "ratio {ratio}");
    // drift.svg draws both quantities against the width.
    let results = initlab::report::Results::load(&dir.path().join("out")).unwrap();
    let svg = initlab::report::drift::drift(&results)
        .unwrap()
        .expect("a width axis")
        .svg;
    assert!(svg.contains("feature change") && svg.contains("weight change"));
}
