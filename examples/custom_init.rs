//! Write your own weight initializer and race it against the built-ins.
//!
//! Run with `cargo run --release --example custom_init`.
//!
//! A custom scheme is any function `(Fan, &mut dyn RngCore) -> Array2<f64>` that returns the
//! layer's weight matrix, shaped `(fan_out, fan_in)` (as PyTorch's `nn.Linear.weight`).
//! Wrap it in a `CustomInit` with a name and a formula and it works everywhere a built-in
//! scheme does: `Mlp::initialize`, tables, CSV files.

use std::ops::ControlFlow;

use initlab::data::{Target, generators};
use initlab::nn::init::{CustomInit, Fan};
use initlab::nn::{Activation, Init, Loss, Mlp, Sgd, Split, TargetsView, TrainConfig, train};
use ndarray::Array2;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// "my-xavier", written by hand: N(0, σ²) with σ² = 1 / fan_avg = 2 / (fan_in + fan_out).
fn my_xavier(fan: Fan, rng: &mut dyn RngCore) -> Array2<f64> {
    let fan_avg = (fan.fan_in + fan.fan_out) as f64 / 2.0;
    let normal = Normal::new(0.0, (1.0 / fan_avg).sqrt()).expect("std > 0");
    // Always draw from the RNG you are given: that is what makes runs reproducible.
    Array2::from_shape_simple_fn((fan.fan_out, fan.fan_in), || normal.sample(rng))
}

/// "sparse": each weight is N(0, 1/k) with probability k/fan_in and 0 otherwise, so each
/// unit sees about k non-zero inputs (Martens 2010 fixes exactly k; this is the lazy version).
fn sparse(fan: Fan, rng: &mut dyn RngCore) -> Array2<f64> {
    let k = 4.0_f64.min(fan.fan_in as f64);
    let keep = k / fan.fan_in as f64;
    let normal = Normal::new(0.0, (1.0 / k).sqrt()).expect("std > 0");
    Array2::from_shape_simple_fn((fan.fan_out, fan.fan_in), || {
        if rng.random::<f64>() < keep {
            normal.sample(rng)
        } else {
            0.0
        }
    })
}

/// Trains a 2-64-64-3 tanh network on the spiral under `init`; returns the final
/// (loss, accuracy) on the training set.
fn run(init: &Init, seed: u64) -> (f64, f64) {
    // The same data for every init and seed.
    let data = generators::spiral(100, 3, &mut ChaCha8Rng::seed_from_u64(0));
    let x = data.features.mapv(|v| v as f32);
    let Target::Classes { labels, n_classes } = &data.target else {
        unreachable!("spiral is a classification problem")
    };
    let mut mlp = Mlp::<f32>::new(
        &[2, 64, 64, *n_classes],
        &[Activation::Tanh, Activation::Tanh],
        Loss::SoftmaxCrossEntropy,
    );
    mlp.initialize(init, None, seed);
    let config = TrainConfig {
        epochs: 300,
        batch_size: 32,
        log_every: 300,
        threads: 1,
    };
    let history = train(
        &mut mlp,
        &mut Sgd::with(0.05, 0.9, 0.0),
        Split {
            x: x.view(),
            targets: TargetsView::Classes(labels),
        },
        None,
        &config,
        // The mini-batch order depends on the seed only, not on the init.
        &mut ChaCha8Rng::seed_from_u64(seed),
        None,
        |_| ControlFlow::Continue(()),
    );
    let last = history.records.last().expect("epoch 0 is always recorded");
    (last.train_loss, last.train_accuracy.unwrap_or(f64::NAN))
}

fn main() {
    let inits = [
        // Same draws as xavier-normal (rand_distr scales the same standard normals): expect
        // identical results, a check that the hand-written formula is right.
        Init::Custom(CustomInit::new("my-xavier", "N(0, 1/fan_avg)", my_xavier)),
        Init::Custom(CustomInit::new(
            "sparse",
            "4 inputs per unit, N(0, 1/4)",
            sparse,
        )),
        "xavier-normal".parse().expect("a built-in name"),
        "he-normal".parse().expect("a built-in name"),
    ];
    // A broken custom scheme (wrong shape, NaN) is better caught before training starts.
    let fans = [(2, 64), (64, 64), (64, 3)].map(|(fan_in, fan_out)| Fan { fan_in, fan_out });
    for init in &inits {
        if let Init::Custom(c) = init {
            c.validate(&fans).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let seeds = [1, 2, 3];
    println!(
        "spiral (3 classes × 100 points), 2-64-64-3 tanh, SGD 0.05 + momentum 0.9, 300 epochs"
    );
    println!(
        "{:<15} {:<32} {:>12} {:>12}",
        "init", "rule", "final loss", "accuracy"
    );
    for init in &inits {
        let results: Vec<(f64, f64)> = seeds.iter().map(|&s| run(init, s)).collect();
        let loss = results.iter().map(|r| r.0).sum::<f64>() / seeds.len() as f64;
        let acc = results.iter().map(|r| r.1).sum::<f64>() / seeds.len() as f64;
        println!(
            "{:<15} {:<32} {loss:>12.4} {:>11.1}%",
            init.name(),
            init.formula(),
            100.0 * acc
        );
    }
    println!(
        "(mean over seeds {seeds:?}; the same seeds give the same data order under every init)"
    );
}
