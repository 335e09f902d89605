//! Signal propagation at initialization (`initlab::inspect`).

use std::path::{Path, PathBuf};

use initlab::inspect::{InspectConfig, InspectRow, format_table, inspect, read_csv, write_csv};
use initlab::nn::{Activation, Init};

fn run(inits: &str, activation: Activation, depth: usize, width: usize) -> Vec<InspectRow> {
    let inits = inits.split(',').map(|s| s.parse().unwrap()).collect();
    inspect::<f64>(&InspectConfig::new(inits, activation, depth, width))
}

fn of<'a>(rows: &'a [InspectRow], init: &str) -> Vec<&'a InspectRow> {
    rows.iter().filter(|r| r.init == init).collect()
}

/// Least-squares slope of ln(activation std) against the layer index.
fn log_slope(rows: &[&InspectRow]) -> f64 {
    let pts: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.stats.layer as f64, r.stats.activation_std.ln()))
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}

#[test]
fn xavier_shrinks_relu_by_one_over_root_two_and_he_keeps_it() {
    let rows = run("xavier-normal,he-normal", Activation::Relu, 30, 256);
    println!("{}", format_table(&rows));
    assert_eq!(rows.len(), 60);
    let xavier = of(&rows, "xavier-normal");
    let he = of(&rows, "he-normal");
    assert_eq!(xavier.len(), 30);
    assert_eq!(
        xavier.iter().map(|r| r.stats.layer).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    let ratio = log_slope(&xavier).exp();
    assert!(
        (0.6..=0.8).contains(&ratio),
        "xavier/relu: std ratio per layer {ratio} (1/√2 = 0.707)"
    );
    let first = he[0].stats.activation_std;
    for r in &he {
        assert!(
            r.stats.activation_std < 3.0 * first && r.stats.activation_std > first / 3.0,
            "he/relu layer {}: std {} vs layer 1 {first}",
            r.stats.layer,
            r.stats.activation_std
        );
        assert!(r.stats.saturated_fraction.is_none());
        // Zero biases and common random numbers: the dead units are the same under both
        // inits (the draws differ only in scale, and ReLU is scale-invariant).
        let x = xavier[r.stats.layer - 1];
        assert_eq!(r.stats.dead_fraction, x.stats.dead_fraction);
        assert!(r.stats.dead_fraction.expect("relu reports dead units") < 0.5);
        assert!(r.stats.gradient_std > 0.0 && r.weight_gradient_std > 0.0);
    }
    // The back-propagated gradient of He stays of the same order too; Xavier's shrinks
    // towards the input.
    assert!(he[0].stats.gradient_std > he[29].stats.gradient_std / 3.0);
    assert!(xavier[0].stats.gradient_std < xavier[29].stats.gradient_std / 100.0);
}

#[test]
fn tiny_vanishes() {
    let rows = run("tiny", Activation::Tanh, 10, 128);
    assert!(rows[0].stats.activation_std < 0.2, "{:?}", rows[0]);
    assert!(rows[9].stats.activation_std < 1e-6, "{:?}", rows[9]);
    for w in rows.windows(2) {
        assert!(w[1].stats.activation_std < w[0].stats.activation_std);
    }
    assert!(
        rows[0].stats.gradient_std < 1e-6,
        "gradients vanish too: {:?}",
        rows[0]
    );
}

#[test]
fn huge_saturates_tanh() {
    let rows = run("huge", Activation::Tanh, 10, 128);
    for r in &rows {
        let sat = r.stats.saturated_fraction.expect("tanh is bounded");
        assert!(sat > 0.9, "layer {}: saturated {sat}", r.stats.layer);
        assert!(r.stats.dead_fraction.is_none());
    }
    println!("{}", format_table(&rows));
}

#[test]
fn sigmoid_saturation_is_near_zero_or_one() {
    let rows = run("huge", Activation::Sigmoid, 3, 64);
    assert!(
        rows.iter()
            .all(|r| r.stats.saturated_fraction.unwrap() > 0.8)
    );
    let rows = run("xavier-normal", Activation::Sigmoid, 3, 64);
    assert!(
        rows.iter()
            .all(|r| r.stats.saturated_fraction.unwrap() < 0.05)
    );
}

#[test]
fn zeros_give_zero_activations_and_dead_relus() {
    let rows = run("zeros", Activation::Relu, 8, 64);
    assert_eq!(rows.len(), 8);
    for r in &rows {
        assert_eq!(r.stats.activation_std, 0.0, "layer {}", r.stats.layer);
        assert_eq!(r.stats.activation_mean, 0.0);
        assert_eq!(r.stats.dead_fraction, Some(1.0));
        assert_eq!(r.stats.gradient_std, 0.0, "ReLU'(0) = 0");
    }
}

#[test]
fn lsuv_is_fitted_on_the_batch() {
    let rows = run("lsuv,orthogonal", Activation::Tanh, 12, 64);
    let lsuv = of(&rows, "lsuv");
    assert_eq!(lsuv.len(), 12);
    for r in &lsuv {
        assert!(
            r.stats.activation_std.is_finite() && r.stats.activation_std > 0.3,
            "{r:?}"
        );
    }
}

#[test]
fn same_seed_same_rows_and_f32_agrees() {
    let inits: Vec<Init> = vec!["he-normal".parse().unwrap()];
    let mut config = InspectConfig::new(inits, Activation::Relu, 5, 32);
    config.inputs = 10;
    config.batch = 50;
    let a = inspect::<f64>(&config);
    assert_eq!(a, inspect::<f64>(&config));
    let b = inspect::<f32>(&config);
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x.stats.activation_std - y.stats.activation_std).abs() < 1e-4 * x.stats.activation_std
        );
    }
    config.seed = 1;
    assert_ne!(a, inspect::<f64>(&config));
}

/// Writes `rows` with `write_csv` into `dir/name`; returns the path and the text.
fn write(rows: &[InspectRow], dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let mut buf = Vec::new();
    write_csv(rows, &mut buf).unwrap();
    std::fs::write(&path, &buf).unwrap();
    (path, String::from_utf8(buf).unwrap())
}

#[test]
fn csv_is_long_format_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let rows = run(
        "xavier-normal,he-normal:mode=fan_out",
        Activation::Relu,
        4,
        32,
    );
    let (path, text) = write(&rows, dir.path(), "relu.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "init,weight_gradient_std,epoch,layer,activation_mean,activation_std,saturated_fraction,dead_fraction,gradient_std,weight_std,update_ratio,weight_change,feature_change"
    );
    assert_eq!(lines.count(), 8);
    assert!(text.contains("\nhe-normal:mode=fan_out,"), "{text}");
    assert_eq!(read_csv(&path).unwrap(), rows);

    let tanh = run("xavier-normal", Activation::Tanh, 2, 16);
    let (path, text) = write(&tanh, dir.path(), "tanh.csv");
    // No dead fraction for tanh and no update ratio before a step: empty cells.
    let fields: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    assert_eq!((fields[7], fields[10]), ("", ""), "{text}");
    assert_eq!(read_csv(&path).unwrap(), tanh);
}

#[test]
fn csv_numbers_are_exact_and_a_bad_cell_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let rows = run("he-normal", Activation::Relu, 2, 8);
    let (_, text) = write(&rows, dir.path(), "a.csv");
    let first: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let r = &rows[0];
    assert_eq!(first[1], r.weight_gradient_std.to_string());
    assert_eq!(first[5], r.stats.activation_std.to_string());
    // A cell that is not a number: the error names the line and the column.
    let mut cells = first.clone();
    cells[5] = "oops";
    let header = text.lines().next().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, format!("{header}\n{}\n", cells.join(","))).unwrap();
    let err = read_csv(&path).unwrap_err().to_string();
    assert!(
        err.contains("line 2") && err.contains("activation_std"),
        "{err}"
    );
}

#[test]
fn table_fits_the_terminal() {
    let rows = run(
        "zeros,tiny,xavier-normal,he-normal,orthogonal",
        Activation::Relu,
        3,
        32,
    );
    let table = format_table(&rows);
    println!("{table}");
    assert_eq!(table.lines().count(), 3 + 3);
    for line in table.lines() {
        assert!(
            line.chars().count() <= 160,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    assert!(table.contains("dead %") && table.contains("he-normal"));
}

/// `inspect --theory`: at width 1,000 and depth 30 the measured activation std tracks the
/// mean-field prediction for tanh and ReLU, each at an ordered, a critical and a chaotic
/// scale, within a tolerance derived from the finite-width fluctuation.
///
/// The tolerance: a layer's pooled second moment averages N units × B rows; given the layer
/// below, N units make one row's mean square fluctuate by a relative variance 2/N, and B
/// rows whose pre-activations have correlation c average that down to
/// 2(1 + (B − 1)c²)/(N B) (c from the theory's correlation map, started at 0 for
/// independent inputs). The error carried from layer l − 1 is scaled by the length map's
/// slope in log space, s = χ_q(q^{l−1}) q^{l−1}/q^l, so e_l = s² e_{l−1} + δ_l². The std's
/// relative error is half that of q: the test allows 4 · ½ √e_l, plus 0.5 % for f32 and
/// the O(1/N) corrections to mean-field theory.
#[test]
fn theory_tracks_measurement_at_width_1000_depth_30() {
    use initlab::inspect::theory;
    use initlab::theory::MeanField;
    let (width, depth, batch) = (1000, 30, 64);
    for (activation, scales) in [
        (Activation::Tanh, [(0.5, 0.0), (1.0, 0.0), (2.5, 0.05)]),
        (Activation::Relu, [(1.5, 0.0), (2.0, 0.0), (2.5, 0.0)]),
    ] {
        let inits: Vec<Init> = scales
            .iter()
            .map(|(w, b)| {
                format!("mean-field:sigma_w2={w}:sigma_b2={b}")
                    .parse()
                    .unwrap()
            })
            .collect();
        let mut config = InspectConfig::new(inits, activation, depth, width);
        config.batch = batch;
        let rows = inspect::<f32>(&config);
        let theories = theory(&config);
        let mut phases = Vec::new();
        for (t, &(w, b)) in theories.iter().zip(&scales) {
            phases.push(t.summary.as_ref().unwrap().1.phase);
            let mf = MeanField::new(activation, w, b).unwrap();
            let (mut e, mut c, mut q_prev) = (0.0f64, 0.0f64, 1.0f64);
            for p in &t.layers {
                let q = p.q.unwrap();
                c = if p.layer == 1 {
                    b / q
                } else {
                    mf.correlation_map(q_prev, c)
                };
                let slope = if p.layer == 1 {
                    0.0
                } else {
                    mf.chi_q(q_prev) * q_prev / q
                };
                let n = width as f64;
                let rows_b = batch as f64;
                e = slope * slope * e + 2.0 * (1.0 + (rows_b - 1.0) * c * c) / (n * rows_b);
                let tolerance = 4.0 * 0.5 * e.sqrt() + 0.005;
                let measured = rows
                    .iter()
                    .find(|r| r.init == t.init && r.stats.layer == p.layer)
                    .unwrap()
                    .stats
                    .activation_std;
                let predicted = p.activation_std.unwrap();
                assert!(
                    (measured / predicted - 1.0).abs() <= tolerance,
                    "{} {}, layer {}: measured {measured}, predicted {predicted}, \
                     tolerance {tolerance}",
                    activation.name(),
                    t.init,
                    p.layer
                );
                q_prev = q;
            }
        }
        use initlab::theory::Phase::*;
        assert_eq!(
            phases,
            vec![Ordered, Critical, Chaotic],
            "{}",
            activation.name()
        );
    }
}
