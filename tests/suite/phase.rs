//! `initlab phase`: ranges refused by flag name, the order–chaos cells and starts, the
//! trainability diagram sharded and merged byte-identical to unsharded, and Jacobian spectra
//! against known singular values.

use std::sync::atomic::AtomicBool;

use initlab::csvfile::write_rows;
use initlab::nn::{Activation, Init, Loss, Mlp};
use initlab::phase::grid::{Range, check_cells};
use initlab::phase::{order_chaos, trainability};
use initlab::theory::jacobian::{hidden_jacobian, singular_values, summarize};

#[test]
fn bad_ranges_name_the_flag() {
    for (text, positive) in [
        ("1:0.5:4", true),
        ("0:4:10", true),
        ("-1:4:10", false),
        ("1:4:0", true),
        ("1:1:3", true),
        ("1:nan:3", true),
        ("1:inf:3", true),
        ("1:4", true),
        ("a:4:3", true),
    ] {
        let e = Range::parse("--sigma-w2", text, positive).unwrap_err();
        assert!(e.starts_with("--sigma-w2"), "{e}");
    }
    assert_eq!(
        Range::parse("--x", "0:1:3", false).unwrap().values(),
        vec![0.0, 0.5, 1.0]
    );
    assert!(
        check_cells(1_000_000, "--a × --b")
            .unwrap_err()
            .contains("--a × --b")
    );
}

#[test]
fn order_chaos_cells_and_starts() {
    let cells = order_chaos::cells(Activation::Tanh, &[0.8, 1.0, 3.0], &[0.0]);
    let phases: Vec<&str> = cells.iter().map(|c| c.phase.as_str()).collect();
    assert_eq!(phases, ["ordered", "critical", "chaotic"]);
    assert!(cells[1].xi_c.is_none() && cells[0].xi_c.unwrap() > 0.0);
    let starts = order_chaos::starts(Activation::Relu);
    let he = starts.iter().find(|s| s.init == "he-normal").unwrap();
    assert_eq!(he.phase, "critical");
    let line = order_chaos::critical_line(Activation::Tanh, &[0.0, 0.1], 0.5, 4.0);
    assert!(
        (line[0].0 - 1.0).abs() < 5e-3 && line[1].0 > 1.5,
        "{line:?}"
    );
}

#[test]
fn trainability_sharded_and_merged_equals_unsharded() {
    let preset = trainability::Preset {
        name: "test",
        activation: Activation::Tanh,
        width: 8,
        depths: vec![2, 4],
        sigma_w2: vec![1.0, 2.0, 3.0],
        sigma_b2: 0.05,
        epochs: 1,
        learning_rate: 0.01,
        seeds: 1,
    };
    let tmp = tempfile::tempdir().unwrap();
    let stop = AtomicBool::new(false);
    let whole = tmp.path().join("whole");
    trainability::run(&preset, &whole, 2, None, &stop).unwrap();
    let shards: Vec<_> = (0..2).map(|k| tmp.path().join(format!("s{k}"))).collect();
    for (k, dir) in shards.iter().enumerate() {
        trainability::run(&preset, dir, 1, Some((k, 2)), &stop).unwrap();
    }
    let merged = tmp.path().join("merged");
    trainability::merge(&preset, &merged, &shards).unwrap();
    let csv = |dir: &std::path::Path| {
        let mut out = Vec::new();
        write_rows(&mut out, trainability::assemble(&preset, dir).unwrap()).unwrap();
        String::from_utf8(out).unwrap()
    };
    let (a, b) = (csv(&whole), csv(&merged));
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 1 + 6);
    assert!(!a.contains("NaN"));
    // Too many shards for the grid is refused by flag.
    let e = trainability::run(&preset, &tmp.path().join("x"), 1, Some((0, 9)), &stop).unwrap_err();
    assert!(format!("{e}").contains("--shard"), "{e}");
}

#[test]
fn orthogonal_linear_network_has_every_singular_value_g_to_the_l() {
    let (g, depth, width) = (1.1f64, 6, 20);
    let init: Init = format!("orthogonal:gain={g}").parse().unwrap();
    let mut mlp = Mlp::<f64>::new(
        &vec![width; depth + 2],
        &vec![Activation::Identity; depth],
        Loss::Mse,
    );
    mlp.initialize(&init, None, 3);
    let x = ndarray::Array1::from_elem(width, 0.3);
    let s = singular_values(&hidden_jacobian(&mlp, x.view()));
    let want = g.powi(depth as i32);
    assert_eq!(s.len(), width);
    assert!(s.iter().all(|v| (v - want).abs() < 1e-10 * want), "{s:?}");
    let m = summarize(&s);
    assert!(m.var_s2 < 1e-18 && (m.condition() - 1.0).abs() < 1e-10);
    // A diagonal matrix's singular values are its |entries|, sorted.
    let d = ndarray::Array2::from_diag(&ndarray::arr1(&[3.0, -0.5, 2.0]));
    let s = singular_values(&d);
    assert!((s[0] - 3.0).abs() < 1e-14 && (s[1] - 2.0).abs() < 1e-14 && (s[2] - 0.5).abs() < 1e-14);
}

#[test]
fn jacobian_matches_finite_differences() {
    let init: Init = "xavier-normal".parse().unwrap();
    let mut mlp = Mlp::<f64>::new(
        &[5, 7, 6, 3],
        &[Activation::Tanh, Activation::Tanh],
        Loss::Mse,
    );
    mlp.initialize(&init, None, 1);
    let x = ndarray::arr1(&[0.3, -0.2, 0.5, 1.0, -0.7]);
    let j = hidden_jacobian(&mlp, x.view());
    let hidden = |x: &ndarray::Array1<f64>| {
        let mut a = x.clone();
        for l in 0..2 {
            a = (mlp.layers[l].weight.dot(&a) + &mlp.layers[l].bias).mapv(f64::tanh);
        }
        a
    };
    for k in 0..5 {
        let (mut up, mut down) = (x.clone(), x.clone());
        up[k] += 1e-6;
        down[k] -= 1e-6;
        let fd = (hidden(&up) - hidden(&down)) / 2e-6;
        for i in 0..6 {
            assert!((fd[i] - j[(i, k)]).abs() < 1e-8);
        }
    }
}
