//! Two-thread scaling of the training step, measured so that a noisy host shows least.
//!
//! `cargo run --release --example step_scaling -- [w3|w4] [PAIRS]` (default `w4 60`)
//!
//! The forward and backward pass of W3 (784-256-256-10, batch 128, ReLU) or W4 (20 tanh
//! layers of 256, batch 256) runs on one thread and on two, alternately, `PAIRS` times; each
//! turn times 2 steps after a warm-up step, inside a rayon pool of that many threads. It
//! prints the fastest turn of each (what an unloaded machine gives) and the medians, with
//! their ratios. Beside them, as the machine's own limit for the same minutes: one 256³
//! product on one thread, and two independent ones on two threads at once.
//!
//! The criterion benchmarks (`cargo bench --bench workloads`) give the figures the targets
//! are about; this probe tells the step's scaling apart from the host's.

use std::time::Instant;

use initlab::nn::gemm::{GemmScratch, gemm};
use initlab::nn::{Activation, Gradients, Init, Loss, Mlp, TargetsView, Workspace};
use ndarray::Array2;

/// GFLOP/s of `iters` products `a · bᵀ` of `n × n` matrices on the calling thread.
fn product_rate(n: usize, iters: usize) -> f64 {
    let a = Array2::<f32>::from_shape_fn((n, n), |(i, j)| ((i * 7 + j) % 13) as f32 * 0.01);
    let b = Array2::<f32>::from_shape_fn((n, n), |(i, j)| ((i * 3 + j) % 11) as f32 * 0.01);
    let mut c = Array2::<f32>::zeros((n, n));
    let mut scratch = GemmScratch::default();
    gemm(1.0, a.view(), b.t(), 0.0, c.view_mut(), &mut scratch, 1);
    let start = Instant::now();
    for _ in 0..iters {
        gemm(1.0, a.view(), b.t(), 0.0, c.view_mut(), &mut scratch, 1);
    }
    2.0 * (n * n * n * iters) as f64 / start.elapsed().as_secs_f64() / 1e9
}

/// The workload's network (initialized), one batch of inputs and its labels.
fn workload(name: &str) -> (Mlp<f32>, Array2<f32>, Vec<usize>) {
    let (sizes, activation, init, rows) = match name {
        "w3" => (vec![784, 256, 256, 10], Activation::Relu, "he-normal", 128),
        _ => {
            let mut sizes = vec![256; 21];
            sizes.push(10);
            (sizes, Activation::Tanh, "xavier-normal", 256)
        }
    };
    let hidden = vec![activation; sizes.len() - 2];
    let mut mlp = Mlp::<f32>::new(&sizes, &hidden, Loss::SoftmaxCrossEntropy);
    let init: Init = init.parse().expect("a built-in start");
    mlp.initialize(&init, None, 0);
    let x = Array2::from_shape_fn((rows, sizes[0]), |(i, j)| {
        ((i * 31 + j * 17) % 101) as f32 / 101.0 - 0.5
    });
    let labels = (0..rows).map(|i| i % 10).collect();
    (mlp, x, labels)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "w4".into());
    if name != "w3" && name != "w4" {
        eprintln!("error: expected `w3` or `w4`, got `{name}`");
        std::process::exit(2);
    }
    let pairs: usize = match args.next().map(|p| p.parse()) {
        None => 60,
        Some(Ok(p)) if p > 0 => p,
        Some(_) => {
            eprintln!("error: PAIRS must be a positive whole number");
            std::process::exit(2);
        }
    };

    let one = product_rate(256, 300);
    let two: f64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| product_rate(256, 300))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("product thread"))
            .sum()
    });
    println!(
        "256^3 product: 1 thread {one:.1} GFLOP/s; two independent at once {two:.1} ({:.2}x)",
        two / one
    );

    let (mlp, x, labels) = workload(&name);
    let targets = TargetsView::Classes(&labels);
    let mut grads = Gradients::zeros_like(&mlp);
    let pools: Vec<_> = [1, 2]
        .iter()
        .map(|&t| rayon::ThreadPoolBuilder::new().num_threads(t).build())
        .collect::<Result<_, _>>()
        .expect("thread pools");
    let mut workspaces: Vec<_> = [1, 2]
        .iter()
        .map(|&t| {
            let mut ws = Workspace::new(&mlp, x.nrows());
            ws.threads = t;
            ws
        })
        .collect();
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..pairs {
        for (t, (pool, ws)) in pools.iter().zip(workspaces.iter_mut()).enumerate() {
            pool.install(|| {
                mlp.loss_and_gradients(x.view(), targets, ws, &mut grads);
                let start = Instant::now();
                for _ in 0..2 {
                    mlp.loss_and_gradients(x.view(), targets, ws, &mut grads);
                }
                times[t].push(start.elapsed().as_secs_f64() * 1e3 / 2.0);
            });
        }
    }
    let best: Vec<f64> = times
        .iter()
        .map(|v| v.iter().copied().fold(f64::INFINITY, f64::min))
        .collect();
    let [one_t, two_t] = &mut times;
    let (m1, m2) = (median(one_t), median(two_t));
    println!(
        "{name} forward+backward, ms/step: fastest 1 thread {:.2}, 2 threads {:.2} ({:.2}x); \
         median {m1:.2}, {m2:.2} ({:.2}x)",
        best[0],
        best[1],
        best[0] / best[1],
        m1 / m2
    );
}
