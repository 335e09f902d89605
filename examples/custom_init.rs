//! Write your own weight initializer and race it against the built-ins.
//!
//! Run with `cargo run --release --example custom_init`.
//!
//! A custom scheme is any function `(Fan, &mut dyn RngCore) -> Array2<f64>` that returns the
//! layer's weight matrix, shaped `(fan_out, fan_in)` (as PyTorch's `nn.Linear.weight`).
//! Wrap it in a `CustomInit` with a name and a formula and it works everywhere a built-in
//! scheme does: `Mlp::initialize`, and the experiment runner with its CSV files, statistics,
//! plots and report — this example races two hand-written schemes against Xavier and He.

use std::sync::atomic::AtomicBool;

use initlab::experiment::{self, ExecOptions, Experiment, ResolvedInit};
use initlab::nn::Init;
use initlab::nn::init::{CustomInit, Fan};
use ndarray::Array2;
use rand::{Rng, RngCore};
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

/// The experiment the schemes race in: the built-in spiral data on a deeper tanh network.
const EXPERIMENT: &str = r#"
name = "custom-init"
description = "A student's own schemes against Xavier and He: spiral, 2-64-64-3 tanh, SGD with momentum."
seeds = 3
seed = 1
inits = ["xavier-normal", "he-normal"]

[data]
source = "spiral"
points_per_class = 100
classes = 3

[network]
hidden = [64, 64]
activations = ["tanh"]
loss = "cross-entropy"

[training]
epochs = 300
batch_size = 32
learning_rate = 0.05
momentum = 0.9
log_every = 10
target_loss = 0.1
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let custom = [
        // Same draws as xavier-normal (both scale the same standard normals): expect
        // identical results, a check that the hand-written formula is right.
        CustomInit::new("my-xavier", "N(0, 1/fan_avg), by hand", my_xavier),
        CustomInit::new("sparse", "4 inputs per unit, N(0, 1/4)", sparse),
    ];
    // A broken custom scheme (wrong shape, NaN) is better caught before training starts.
    let fans = [(2, 64), (64, 64), (64, 3)].map(|(fan_in, fan_out)| Fan { fan_in, fan_out });
    for c in &custom {
        c.validate(&fans)?;
    }
    // Load the experiment, then put the custom schemes in front of the built-in ones: from
    // here on they go through the same runner, statistics, CSV files and plots.
    let mut experiment = Experiment::from_text(EXPERIMENT, "examples/custom_init.rs", None)?;
    for (i, c) in custom.into_iter().enumerate() {
        experiment.inits.insert(
            i,
            ResolvedInit {
                label: c.name.clone(),
                init: Init::Custom(c),
                bias: None,
            },
        );
    }
    let options = ExecOptions {
        out: "results/custom-init".into(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        save_weights: false,
        shard: None,
    };
    let outcome = experiment::execute(&experiment, &options, &AtomicBool::new(false), &|_, _| {})?;
    initlab::report::draw_all(&outcome.out, &experiment.formulas())?;
    println!("{} runs → {}", outcome.runs_done, outcome.out.display());
    print!(
        "{}",
        initlab::cli::format_summary(&outcome.summary, Some(0.1))
    );
    println!(
        "Open {}/report.html to see them side by side.",
        outcome.out.display()
    );
    Ok(())
}
