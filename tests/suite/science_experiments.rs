//! The published outcomes of the science experiments (issue 6), at reduced size, asserted
//! from each run's own CSV files (metrics.csv, layers.csv) and saved weights.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use initlab::experiment::{ExecOptions, Experiment, Overrides, execute};

/// One CSV as rows of column → text.
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?}", row[col]))
}

/// Runs a built-in experiment with overrides into a temporary directory.
fn run(
    name: &str,
    overrides: Overrides,
    max_rows: Option<usize>,
    weights: bool,
) -> tempfile::TempDir {
    let mut exp = Experiment::load(name)
        .unwrap()
        .with_overrides(&overrides)
        .unwrap();
    if max_rows.is_some() {
        exp.spec.data.max_rows = max_rows;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = ExecOptions {
        out: dir.path().join("out"),
        threads: 2,
        save_weights: weights,
        shard: None,
    };
    execute(&exp, &options, &AtomicBool::new(false), &|_, _| {}).unwrap();
    dir
}

fn rows<'a>(
    all: &'a [BTreeMap<String, String>],
    filter: &[(&str, &str)],
) -> Vec<&'a BTreeMap<String, String>> {
    all.iter()
        .filter(|r| filter.iter().all(|(k, v)| r[*k] == *v))
        .collect()
}

fn final_rows<'a>(
    metrics: &'a [BTreeMap<String, String>],
    init: &'a str,
    activation: &'a str,
) -> Vec<&'a BTreeMap<String, String>> {
    let last = metrics
        .iter()
        .map(|r| num(r, "epoch") as usize)
        .max()
        .unwrap()
        .to_string();
    rows(
        metrics,
        &[("init", init), ("activation", activation), ("epoch", &last)],
    )
}

#[test]
fn xor_constant_starts_keep_clones_and_random_starts_solve_it() {
    let dir = run("xor", Overrides::default(), None, true);
    let out = dir.path().join("out");
    let metrics = read_csv(&out.join("metrics.csv"));
    let ln2 = std::f64::consts::LN_2;
    for act in ["sigmoid", "tanh", "relu"] {
        let zeros: Vec<_> = rows(&metrics, &[("init", "zeros"), ("activation", act)]);
        assert!(zeros.len() > 100);
        for r in &zeros {
            assert!((num(r, "train_loss") - ln2).abs() < 1e-6, "{r:?}");
        }
        for r in final_rows(&metrics, "constant", act) {
            assert!(num(r, "train_accuracy") <= 0.75, "{r:?}");
        }
    }
    for act in ["sigmoid", "tanh"] {
        for init in ["xavier-normal", "he-normal"] {
            let fin = final_rows(&metrics, init, act);
            assert_eq!(fin.len(), 5);
            for r in fin {
                assert_eq!(num(r, "train_accuracy"), 1.0, "{r:?}");
            }
        }
    }
    // The saved weights: every hidden unit of a constant start is the same row.
    for init in ["zeros", "constant"] {
        for act in ["sigmoid", "tanh", "relu"] {
            let w: ndarray::Array2<f32> = ndarray_npy::read_npy(out.join(format!(
                "weights/{init}_{act}_seed0_layer1_final_weight.npy"
            )))
            .unwrap();
            for r in 1..w.nrows() {
                assert_eq!(w.row(r), w.row(0), "{init} {act}: unit {r}");
            }
        }
    }
}

#[test]
fn circles_zeros_stay_at_ln2_huge_starts_high_he_learns() {
    let overrides = Overrides {
        // 3,000 steps at lr 0.05: the published 15,000 steps at lr 0.01, five times shorter.
        epochs: Some(3000),
        learning_rate: Some(0.05),
        seeds: Some(2),
        inits: Some(vec!["zeros".into(), "huge".into(), "he-normal".into()]),
        ..Overrides::default()
    };
    let dir = run("circles", overrides, None, false);
    let metrics = read_csv(&dir.path().join("out/metrics.csv"));
    for r in rows(&metrics, &[("init", "zeros")]) {
        assert!(
            (num(r, "train_loss") - std::f64::consts::LN_2).abs() < 1e-6,
            "{r:?}"
        );
        assert_eq!(num(r, "train_accuracy"), 0.5, "{r:?}");
    }
    let first_huge: Vec<f64> = rows(&metrics, &[("init", "huge"), ("epoch", "0")])
        .into_iter()
        .map(|r| num(r, "train_loss"))
        .collect();
    assert!(first_huge.iter().all(|&l| l > 5.0), "{first_huge:?}");
    let he = final_rows(&metrics, "he-normal", "relu");
    let huge = final_rows(&metrics, "huge", "relu");
    for (h, x) in he.iter().zip(&huge) {
        assert!(num(h, "train_loss") < 0.3, "{h:?}");
        assert!(num(h, "train_accuracy") > 0.9, "{h:?}");
        assert!(num(h, "train_loss") < num(x, "train_loss"), "{h:?} {x:?}");
    }
}

/// Activation std of `layer` / of layer 1 at epoch 0, per run (init, seed).
fn std_ratio(
    layers: &[BTreeMap<String, String>],
    init: &str,
    act: &str,
    layer: usize,
    column: &str,
) -> Vec<f64> {
    let mut out = Vec::new();
    for seed in ["0", "1"] {
        let get = |l: usize| {
            let l = l.to_string();
            let r = rows(
                layers,
                &[
                    ("init", init),
                    ("activation", act),
                    ("seed", seed),
                    ("epoch", "0"),
                    ("layer", &l),
                ],
            );
            num(r[0], column)
        };
        out.push(get(layer) / get(1));
    }
    out
}

#[test]
fn deep_relu_xavier_shrinks_and_stalls_he_holds_and_learns() {
    let overrides = Overrides {
        epochs: Some(4),
        seeds: Some(2),
        ..Overrides::default()
    };
    let dir = run("deep-relu", overrides, None, false);
    let out = dir.path().join("out");
    let layers = read_csv(&out.join("layers.csv"));
    // (1/√2)^29 ≈ 4e-5.
    for r in std_ratio(&layers, "xavier-normal", "relu", 30, "activation_std") {
        assert!(r < 1e-3, "xavier ratio {r}");
    }
    for r in std_ratio(&layers, "he-normal", "relu", 30, "activation_std") {
        assert!(r > 0.2, "he ratio {r}");
    }
    let metrics = read_csv(&out.join("metrics.csv"));
    let he = final_rows(&metrics, "he-normal", "relu");
    let xa = final_rows(&metrics, "xavier-normal", "relu");
    for (h, x) in he.iter().zip(&xa) {
        let (h, x) = (num(h, "train_loss"), num(x, "train_loss"));
        assert!((x - 10f64.ln()).abs() < 0.01, "xavier should stall: {x}");
        assert!(h < 0.8 * x, "he {h} vs xavier {x}");
    }
}

#[test]
fn deep_tanh_standard_shrinks_xavier_flat_sigmoid_top_saturates() {
    let overrides = Overrides {
        epochs: Some(10),
        seeds: Some(2),
        inits: Some(vec!["glorot-standard".into(), "xavier-normal".into()]),
        ..Overrides::default()
    };
    let dir = run("deep-tanh", overrides, None, false);
    let layers = read_csv(&dir.path().join("out/layers.csv"));
    for column in ["activation_std", "gradient_std"] {
        let standard = std_ratio(&layers, "glorot-standard", "tanh", 5, column);
        let xavier = std_ratio(&layers, "xavier-normal", "tanh", 5, column);
        for (s, x) in standard.iter().zip(&xavier) {
            // Forward: layer 5 / layer 1 shrinks; backward: layer 1 / layer 5 shrinks.
            let (s, x) = if column == "gradient_std" {
                (1.0 / s, 1.0 / x)
            } else {
                (*s, *x)
            };
            assert!(s < 0.2, "{column}: standard {s}");
            assert!(x > 0.3, "{column}: xavier {x}");
        }
    }
    for init in ["glorot-standard", "xavier-normal"] {
        for r in rows(
            &layers,
            &[
                ("init", init),
                ("activation", "sigmoid"),
                ("epoch", "10"),
                ("layer", "5"),
            ],
        ) {
            assert!(num(r, "saturated_fraction") > 0.9, "{r:?}");
        }
    }
}
