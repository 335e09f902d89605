//! Signal propagation at initialization (`initlab::inspect`).

use initlab::inspect::{InspectConfig, LayerRow, format_table, inspect, read_csv, write_csv};
use initlab::nn::{Activation, Init};

fn run(inits: &str, activation: Activation, depth: usize, width: usize) -> Vec<LayerRow> {
    let inits = inits.split(',').map(|s| s.parse().unwrap()).collect();
    inspect::<f64>(&InspectConfig::new(inits, activation, depth, width))
}

fn of<'a>(rows: &'a [LayerRow], init: &str) -> Vec<&'a LayerRow> {
    rows.iter().filter(|r| r.init == init).collect()
}

/// Least-squares slope of ln(activation std) against the layer index.
fn log_slope(rows: &[&LayerRow]) -> f64 {
    let pts: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.layer as f64, r.activation_std.ln()))
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
        xavier.iter().map(|r| r.layer).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    let ratio = log_slope(&xavier).exp();
    assert!(
        (0.6..=0.8).contains(&ratio),
        "xavier/relu: std ratio per layer {ratio} (1/√2 = 0.707)"
    );
    let first = he[0].activation_std;
    for r in &he {
        assert!(
            r.activation_std < 3.0 * first && r.activation_std > first / 3.0,
            "he/relu layer {}: std {} vs layer 1 {first}",
            r.layer,
            r.activation_std
        );
        assert!(r.saturated_fraction.is_none());
        // Zero biases and common random numbers: the dead units are the same under both
        // inits (the draws differ only in scale, and ReLU is scale-invariant).
        let x = xavier[r.layer - 1];
        assert_eq!(r.dead_fraction, x.dead_fraction);
        assert!(r.dead_fraction.expect("relu reports dead units") < 0.5);
        assert!(r.gradient_std > 0.0 && r.weight_gradient_std > 0.0);
    }
    // The back-propagated gradient of He stays of the same order too; Xavier's shrinks
    // towards the input.
    assert!(he[0].gradient_std > he[29].gradient_std / 3.0);
    assert!(xavier[0].gradient_std < xavier[29].gradient_std / 100.0);
}

#[test]
fn tiny_vanishes() {
    let rows = run("tiny", Activation::Tanh, 10, 128);
    assert!(rows[0].activation_std < 0.2, "{:?}", rows[0]);
    assert!(rows[9].activation_std < 1e-6, "{:?}", rows[9]);
    for w in rows.windows(2) {
        assert!(w[1].activation_std < w[0].activation_std);
    }
    assert!(
        rows[0].gradient_std < 1e-6,
        "gradients vanish too: {:?}",
        rows[0]
    );
}

#[test]
fn huge_saturates_tanh() {
    let rows = run("huge", Activation::Tanh, 10, 128);
    for r in &rows {
        let sat = r.saturated_fraction.expect("tanh is bounded");
        assert!(sat > 0.9, "layer {}: saturated {sat}", r.layer);
        assert!(r.dead_fraction.is_none());
    }
    println!("{}", format_table(&rows));
}

#[test]
fn sigmoid_saturation_is_near_zero_or_one() {
    let rows = run("huge", Activation::Sigmoid, 3, 64);
    assert!(rows.iter().all(|r| r.saturated_fraction.unwrap() > 0.8));
    let rows = run("xavier-normal", Activation::Sigmoid, 3, 64);
    assert!(rows.iter().all(|r| r.saturated_fraction.unwrap() < 0.05));
}

#[test]
fn zeros_give_zero_activations_and_dead_relus() {
    let rows = run("zeros", Activation::Relu, 8, 64);
    assert_eq!(rows.len(), 8);
    for r in &rows {
        assert_eq!(r.activation_std, 0.0, "layer {}", r.layer);
        assert_eq!(r.activation_mean, 0.0);
        assert_eq!(r.dead_fraction, Some(1.0));
        assert_eq!(r.gradient_std, 0.0, "ReLU'(0) = 0");
    }
}

#[test]
fn lsuv_is_fitted_on_the_batch() {
    let rows = run("lsuv,orthogonal", Activation::Tanh, 12, 64);
    let lsuv = of(&rows, "lsuv");
    assert_eq!(lsuv.len(), 12);
    for r in &lsuv {
        assert!(
            r.activation_std.is_finite() && r.activation_std > 0.3,
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
        assert!((x.activation_std - y.activation_std).abs() < 1e-4 * x.activation_std);
    }
    config.seed = 1;
    assert_ne!(a, inspect::<f64>(&config));
}

#[test]
fn csv_is_long_format_and_round_trips() {
    let rows = run(
        "xavier-normal,he-normal:mode=fan_out",
        Activation::Relu,
        4,
        32,
    );
    let mut buf = Vec::new();
    write_csv(&rows, &mut buf).unwrap();
    let text = String::from_utf8(buf.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "init,layer,activation_mean,activation_std,saturated_fraction,dead_fraction,gradient_std,weight_gradient_std"
    );
    assert_eq!(lines.count(), 8);
    assert!(text.contains("\nhe-normal:mode=fan_out,1,"), "{text}");
    assert_eq!(read_csv(&buf[..]).unwrap(), rows);

    let tanh = run("xavier-normal", Activation::Tanh, 2, 16);
    let mut buf = Vec::new();
    write_csv(&tanh, &mut buf).unwrap();
    // No dead fraction for tanh: an empty cell.
    let second = String::from_utf8(buf.clone()).unwrap();
    let fields: Vec<&str> = second.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(fields[5], "");
    assert_eq!(read_csv(&buf[..]).unwrap(), tanh);
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
