//! Splitting, standardization and the synthetic generators.

use initlab::data::{Dataset, Standardizer, Target, generators};
use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn class_labels(ds: &Dataset) -> &[usize] {
    match &ds.target {
        Target::Classes { labels, .. } => labels,
        Target::Values(_) => panic!("expected classes"),
    }
}

fn count(labels: &[usize], class: usize) -> usize {
    labels.iter().filter(|&&l| l == class).count()
}

/// 100 samples: 60 of class 0, 30 of class 1, 10 of class 2; feature 0 is the row index.
fn imbalanced() -> Dataset {
    let labels: Vec<usize> = (0..100)
        .map(|i| match i {
            0..60 => 0,
            60..90 => 1,
            _ => 2,
        })
        .collect();
    Dataset {
        features: Array2::from_shape_fn((100, 2), |(i, j)| (i * 10 + j) as f64),
        target: Target::Classes {
            labels,
            n_classes: 3,
        },
        feature_names: vec!["a".into(), "b".into()],
    }
}

// ---------------------------------------------------------------- split

#[test]
fn split_is_deterministic_and_seed_dependent() {
    let ds = imbalanced();
    let (a_train, a_test) = ds.split(0.2, &mut rng(5));
    let (b_train, b_test) = ds.split(0.2, &mut rng(5));
    assert_eq!(a_train, b_train);
    assert_eq!(a_test, b_test);
    let (c_train, _) = ds.split(0.2, &mut rng(6));
    assert_ne!(a_train, c_train);
}

#[test]
fn split_is_stratified_and_a_partition() {
    let ds = imbalanced();
    let (train, test) = ds.split(0.2, &mut rng(1));
    let test = test.unwrap();
    assert_eq!((train.len(), test.len()), (80, 20));
    let tl = class_labels(&test);
    assert_eq!((count(tl, 0), count(tl, 1), count(tl, 2)), (12, 6, 2));
    // Every row appears exactly once, with its own label.
    let mut rows: Vec<usize> = train
        .features
        .column(0)
        .iter()
        .chain(test.features.column(0).iter())
        .map(|&v| (v / 10.0) as usize)
        .collect();
    let all_labels = [class_labels(&train), tl].concat();
    for (&row, &label) in rows.iter().zip(&all_labels) {
        assert_eq!(class_labels(&ds)[row], label);
    }
    rows.sort_unstable();
    assert_eq!(rows, (0..100).collect::<Vec<_>>());
    // Shuffled: the training rows are not in their original order.
    let train_rows: Vec<f64> = train.features.column(0).to_vec();
    assert!(train_rows.windows(2).any(|w| w[0] > w[1]));
}

#[test]
fn split_keeps_a_rare_class_on_both_sides() {
    let ds = imbalanced();
    for seed in 0..20 {
        let (train, test) = ds.split(0.1, &mut rng(seed));
        let test = test.unwrap();
        assert_eq!(count(class_labels(&test), 2), 1);
        assert_eq!(count(class_labels(&train), 2), 9);
        assert_eq!(train.n_outputs(), 3);
        assert_eq!(test.n_outputs(), 3);
    }
}

#[test]
fn split_zero_fraction_has_no_test_set() {
    let ds = imbalanced();
    let (train, test) = ds.split(0.0, &mut rng(1));
    assert!(test.is_none());
    assert_eq!(train.len(), 100);
}

#[test]
fn split_regression_targets_follow_their_rows() {
    let features = Array2::from_shape_fn((30, 1), |(i, _)| i as f64);
    let values = features.mapv(|x| 2.0 * x + 1.0);
    let ds = Dataset {
        features,
        target: Target::Values(values),
        feature_names: vec!["x".into()],
    };
    let (train, test) = ds.split(0.3, &mut rng(3));
    let test = test.unwrap();
    assert_eq!((train.len(), test.len()), (21, 9));
    for part in [&train, &test] {
        let Target::Values(v) = &part.target else {
            panic!("expected values")
        };
        assert_eq!(*v, part.features.mapv(|x| 2.0 * x + 1.0));
    }
}

// ---------------------------------------------------------------- standardizer

#[test]
fn standardizer_uses_train_statistics_only() {
    let ds = generators::blobs(200, 3, 2.0, &mut rng(9));
    let (mut train, test) = ds.split(0.25, &mut rng(10));
    let mut test = test.unwrap();
    let raw_test = test.features.clone();
    let s = Standardizer::fit(&train);
    assert_eq!(s.mean, train.features.mean_axis(Axis(0)).unwrap());
    s.apply(&mut train);
    s.apply(&mut test);
    for j in 0..2 {
        let col = train.features.column(j);
        assert!(col.mean().unwrap().abs() < 1e-12);
        assert!((col.std(0.0) - 1.0).abs() < 1e-12);
    }
    // The test set is transformed with the train statistics, not its own.
    let expected = (&raw_test - &s.mean) / &s.std;
    assert_eq!(test.features, expected);
    assert!(test.features.column(0).mean().unwrap().abs() > 1e-9);
}

// ---------------------------------------------------------------- generators

fn check_two_d(ds: &Dataset, n: usize, n_classes: usize) {
    assert_eq!(ds.features.shape(), &[n, 2]);
    assert_eq!(ds.feature_names, vec!["x1", "x2"]);
    assert_eq!(ds.n_outputs(), n_classes);
    assert!(ds.features.iter().all(|v| v.is_finite()));
    let labels = class_labels(ds);
    assert_eq!(labels.len(), n);
    assert!(labels.iter().all(|&l| l < n_classes));
}

#[test]
fn generators_are_deterministic() {
    assert_eq!(
        generators::circles(50, 0.1, 0.5, &mut rng(1)),
        generators::circles(50, 0.1, 0.5, &mut rng(1))
    );
    assert_eq!(
        generators::moons(50, 0.1, &mut rng(1)),
        generators::moons(50, 0.1, &mut rng(1))
    );
    assert_eq!(
        generators::spiral(20, 3, &mut rng(1)),
        generators::spiral(20, 3, &mut rng(1))
    );
    assert_eq!(
        generators::blobs(50, 4, 1.0, &mut rng(1)),
        generators::blobs(50, 4, 1.0, &mut rng(1))
    );
    assert_ne!(
        generators::moons(50, 0.1, &mut rng(1)),
        generators::moons(50, 0.1, &mut rng(2))
    );
}

#[test]
fn circles_radii_and_labels() {
    let ds = generators::circles(101, 0.0, 0.3, &mut rng(1));
    check_two_d(&ds, 101, 2);
    let labels = class_labels(&ds);
    assert_eq!((count(labels, 0), count(labels, 1)), (50, 51));
    for (row, &l) in ds.features.rows().into_iter().zip(labels) {
        let r = row[0].hypot(row[1]);
        let want = if l == 0 { 1.0 } else { 0.3 };
        assert!((r - want).abs() < 1e-12, "radius {r} for label {l}");
    }
    let noisy = generators::circles(101, 0.1, 0.3, &mut rng(1));
    assert_ne!(noisy.features, ds.features);
}

#[test]
fn moons_shape_without_noise() {
    let ds = generators::moons(10, 0.0, &mut rng(1));
    check_two_d(&ds, 10, 2);
    let f = &ds.features;
    // Upper moon from (1, 0) to (-1, 0); lower moon from (0, 0.5) to (2, 0.5).
    assert!((f[[0, 0]] - 1.0).abs() < 1e-12 && f[[0, 1]].abs() < 1e-12);
    assert!((f[[4, 0]] + 1.0).abs() < 1e-12 && f[[4, 1]].abs() < 1e-12);
    assert!(f[[5, 0]].abs() < 1e-12 && (f[[5, 1]] - 0.5).abs() < 1e-12);
    assert!((f[[9, 0]] - 2.0).abs() < 1e-12 && (f[[9, 1]] - 0.5).abs() < 1e-12);
    assert_eq!(class_labels(&ds), &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
}

#[test]
fn spiral_radii_and_classes() {
    let ds = generators::spiral(50, 4, &mut rng(2));
    check_two_d(&ds, 200, 4);
    for j in 0..4 {
        assert_eq!(count(class_labels(&ds), j), 50);
        let last = ds.features.row(j * 50 + 49);
        assert!((last[0].hypot(last[1]) - 1.0).abs() < 1e-12);
        let first = ds.features.row(j * 50);
        assert!(first[0].hypot(first[1]) < 1e-12);
    }
}

#[test]
fn blobs_counts_and_spread() {
    let ds = generators::blobs(1003, 4, 0.5, &mut rng(3));
    check_two_d(&ds, 1003, 4);
    let labels = class_labels(&ds);
    assert_eq!(
        (0..4).map(|c| count(labels, c)).collect::<Vec<_>>(),
        vec![251, 251, 251, 250]
    );
    // Each blob's points sit within a few std of their own mean, inside the centre box.
    for c in 0..4 {
        let rows: Vec<usize> = (0..1003).filter(|&i| labels[i] == c).collect();
        let blob = ds.select(&rows);
        let mean = blob.features.mean_axis(Axis(0)).unwrap();
        assert!(mean.iter().all(|m| m.abs() <= 10.2));
        let std = blob.features.std_axis(Axis(0), 0.0);
        assert!(std.iter().all(|s| (s - 0.5).abs() < 0.1), "std {std}");
    }
}

#[test]
fn xor_generator() {
    let ds = generators::xor();
    check_two_d(&ds, 4, 2);
    for (row, &l) in ds.features.rows().into_iter().zip(class_labels(&ds)) {
        assert_eq!(l, ((row[0] as usize) ^ (row[1] as usize)));
    }
}

#[test]
fn empty_generators_are_empty() {
    assert!(generators::moons(0, 0.1, &mut rng(1)).is_empty());
    assert!(generators::circles(0, 0.1, 0.5, &mut rng(1)).is_empty());
    assert_eq!(generators::spiral(0, 3, &mut rng(1)).len(), 0);
    assert_eq!(generators::moons(1, 0.0, &mut rng(1)).len(), 1);
}
