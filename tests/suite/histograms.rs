//! `histograms.csv`: every histogram whole, bins from the fixed layouts, the weight
//! histogram of a Xavier start matching the normal distribution, the zero start one spike,
//! the settings obeyed, and `initlab plot` drawing `distributions.svg` from the files alone.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use initlab::experiment::record::{HistogramRow, read_keyed};
use initlab::nn::Activation;
use initlab::nn::histogram::{Bins, Quantity};

fn run(dir: &Path, args: &[&str]) {
    Command::cargo_bin("initlab")
        .unwrap()
        .args(["experiment"])
        .args(args)
        .args(["--quiet", "--no-plots", "--out"])
        .arg(dir)
        .assert()
        .success();
}

type Key = (String, String, u64, usize, usize, Quantity);

/// Total count per histogram.
fn totals(rows: &[HistogramRow]) -> BTreeMap<Key, u64> {
    let mut out = BTreeMap::new();
    for r in rows {
        let key = (
            r.run.init.clone(),
            r.run.activation.clone(),
            r.run.seed,
            r.row.epoch,
            r.row.layer,
            r.row.quantity,
        );
        *out.entry(key).or_insert(0) += r.row.count;
    }
    out
}

/// The bins each row may have: those of its quantity's layout.
fn check_bins(rows: &[HistogramRow], output_layer: usize) {
    for r in rows {
        let act: Activation = r.run.activation.parse().unwrap();
        let layout = if r.row.layer == output_layer {
            r.row.quantity.bins(Some(Activation::Identity))
        } else {
            r.row.quantity.bins(Some(act))
        };
        let same = |x: f64, y: f64| x.total_cmp(&y).is_eq();
        assert!(
            (0..layout.len()).any(|i| {
                let (lo, hi) = layout.range(i);
                same(lo, r.row.bin_low) && same(hi, r.row.bin_high)
            }),
            "{:?}: bin [{}, {}) is not one of the layout's",
            r.row.quantity,
            r.row.bin_low,
            r.row.bin_high
        );
        assert!(r.row.count > 0, "empty bins are not written");
    }
}

/// deep-tanh, 1 epoch, 1 seed: rows × units for the per-row quantities (the same number of
/// probe rows in every layer), fan_out × fan_in for the weights; every bin a layout's.
#[test]
fn every_histogram_is_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    run(
        &dir,
        &[
            "deep-tanh",
            "--epochs",
            "1",
            "--seeds",
            "1",
            "--inits",
            "xavier-normal,glorot-standard",
        ],
    );
    let rows: Vec<HistogramRow> = read_keyed(&dir.join("histograms.csv")).unwrap();
    check_bins(&rows, 6);
    let widths = [64usize, 64, 64, 64, 64, 64, 10]; // 64 inputs, 5 × 64 hidden, 10 outputs
    let t = totals(&rows);
    // 2 starts × 2 activations × 2 epochs (0 and 1) × 6 layers × 5 quantities
    assert_eq!(t.len(), 2 * 2 * 2 * 6 * 5);
    let probe_rows = t[&(
        "xavier-normal".into(),
        "tanh".into(),
        0,
        0,
        1,
        Quantity::Activation,
    )] / 64;
    assert!(probe_rows > 1000 && probe_rows <= 2048, "{probe_rows}");
    for ((_, _, _, _, layer, q), total) in &t {
        let (fan_in, fan_out) = (widths[layer - 1] as u64, widths[*layer] as u64);
        let expected = match q {
            Quantity::Weight | Quantity::WeightGradient => fan_in * fan_out,
            _ => probe_rows * fan_out,
        };
        assert_eq!(*total, expected, "layer {layer} {q:?}");
    }

    // Monte Carlo: xavier-normal's 64 × 64 weights are N(0, 2/128), std 0.125; the share
    // with |w| < 0.1 (an edge of the signed-log bins) is P(|Z| < 0.8) = 0.5763.
    // 4096 values: standard error 0.0077; allow 4 of them.
    for layer in 2..=5 {
        let share: u64 = rows
            .iter()
            .filter(|r| {
                r.run.init == "xavier-normal"
                    && r.run.activation == "tanh"
                    && r.row.epoch == 0
                    && r.row.layer == layer
                    && r.row.quantity == Quantity::Weight
                    && r.row.bin_low >= -0.1
                    && r.row.bin_high <= 0.1
            })
            .map(|r| r.row.count)
            .sum();
        let p = share as f64 / 4096.0;
        assert!((p - 0.5763).abs() < 4.0 * 0.0077, "layer {layer}: {p}");
    }
}

/// xor's zero start: every quantity of every layer is one bin (tanh: the zero bin).
#[test]
fn the_zero_start_is_a_single_spike() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    run(
        &dir,
        &[
            "xor",
            "--seeds",
            "1",
            "--inits",
            "zeros",
            "--activations",
            "tanh",
            "--histogram-epochs",
            "1",
        ],
    );
    let rows: Vec<HistogramRow> = read_keyed(&dir.join("histograms.csv")).unwrap();
    // One epoch (0), 2 layers, 5 quantities, one bin each: [0, 0] (tanh(0) = 0, and the
    // hidden gradients are 0 since the output weights are 0) — except the output layer's
    // dL/dz = σ(0) − y = ±0.5: two bins of 2 rows.
    assert_eq!(rows.len(), 11);
    for r in &rows {
        assert_eq!(r.row.epoch, 0);
        if r.row.layer == 2 && r.row.quantity == Quantity::Gradient {
            assert_eq!(r.row.count, 2);
            assert!(r.row.bin_low.abs().max(r.row.bin_high.abs()) > 0.5);
            assert!(r.row.bin_low.abs().min(r.row.bin_high.abs()) < 0.5);
        } else {
            assert_eq!((r.row.bin_low, r.row.bin_high), (0.0, 0.0), "{:?}", r.row);
        }
    }
}

/// `--no-histograms` writes no file; `--histogram-epochs` picks evenly spaced epochs.
#[test]
fn settings_are_obeyed() {
    let tmp = tempfile::tempdir().unwrap();
    let none = tmp.path().join("none");
    run(&none, &["xor", "--seeds", "1", "--no-histograms"]);
    assert!(!none.join("histograms.csv").exists());
    assert!(none.join("layers.csv").exists());

    let three = tmp.path().join("three");
    run(&three, &["xor", "--seeds", "1", "--histogram-epochs", "3"]);
    let rows: Vec<HistogramRow> = read_keyed(&three.join("histograms.csv")).unwrap();
    let mut epochs: Vec<usize> = rows.iter().map(|r| r.row.epoch).collect();
    epochs.dedup();
    epochs.sort_unstable();
    epochs.dedup();
    assert_eq!(epochs, vec![0, 1000, 2000]);

    // The report redraws distributions.svg and the explorer from the CSV files alone.
    Command::cargo_bin("initlab")
        .unwrap()
        .arg("plot")
        .arg(&three)
        .assert()
        .success();
    let svg = std::fs::read_to_string(three.join("distributions.svg")).unwrap();
    assert!(svg.contains("epoch 0") && svg.contains("epoch 2000"));
    let html = std::fs::read_to_string(three.join("report.html")).unwrap();
    assert!(html.contains("id=\"initlab-data\"") && html.contains("distributions.svg"));
}

/// The layouts themselves: tanh outputs on 40 linear bins, the rest signed log.
#[test]
fn layouts() {
    assert_eq!(
        Quantity::Activation.bins(Some(Activation::Tanh)),
        Bins::linear(-1.0, 1.0, 40)
    );
    assert_eq!(
        Quantity::Weight.bins(Some(Activation::Tanh)),
        Bins::signed_log()
    );
}
