//! `initlab::nn::gemm` against `ndarray::linalg::general_mat_mul` on the workload shapes.
//!
//! Throughput is reported in "elements/s" = FLOP/s (2·m·n·k per call). ndarray's product
//! (matrixmultiply) runs on one thread: the crate does not enable its threading feature.
//!
//! With `GEMM_INTERLEAVED=<rounds>` the criterion run is replaced by an interleaved one: each
//! round times every (shape, variant) once in a batch of about 4 ms, and the medians over the
//! rounds are printed in GFLOP/s. On a shared, noisy machine this compares variants fairly.
//! `GEMM_SHAPES=PREFIX` keeps the shapes whose label starts with PREFIX (e.g. `256x256x256`,
//! W4's products), and each median is also printed as a `RESULT {json}` line for
//! `benches/peers.sh`.

use criterion::{Criterion, Throughput, criterion_group};
use initlab::nn::gemm::{GemmScratch, gemm};
use ndarray::Array2;
use ndarray::linalg::general_mat_mul;
use std::hint::black_box;
use std::time::Duration;

/// (label, m, k, n, a transposed, b transposed)
const SHAPES: &[(&str, usize, usize, usize, bool, bool)] = &[
    // W4's three products per layer: forward x·Wᵀ, weight gradient dyᵀ·x, input gradient dy·W.
    ("256x256x256_NT", 256, 256, 256, false, true),
    ("256x256x256_TN", 256, 256, 256, true, false),
    ("256x256x256_NN", 256, 256, 256, false, false),
    ("128x784x256_NT", 128, 784, 256, false, true),
    ("256x128x784_TN", 256, 128, 784, true, false),
    ("300x100x100_NT", 300, 100, 100, false, true),
    ("4x2x4_NT", 4, 2, 4, false, true),
];

fn bench(cr: &mut Criterion) {
    for shape in SHAPES {
        let (label, m, k, n, a, b, ta, tb) = make_case(shape);
        let av = if ta { a.t() } else { a.view() };
        let bv = if tb { b.t() } else { b.view() };
        let mut c = Array2::<f32>::zeros((m, n));
        let mut scratch = GemmScratch::default();
        let mut g = cr.benchmark_group(&label);
        g.throughput(Throughput::Elements((2 * m * n * k) as u64));
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(2));
        g.sample_size(30);
        for threads in [1, 2] {
            g.bench_function(format!("initlab_t{threads}"), |bch| {
                bch.iter(|| {
                    gemm(
                        1.0,
                        black_box(av),
                        black_box(bv),
                        0.0,
                        c.view_mut(),
                        &mut scratch,
                        threads,
                    )
                })
            });
        }
        g.bench_function("ndarray_t1", |bch| {
            bch.iter(|| general_mat_mul(1.0, &black_box(av), &black_box(bv), 0.0, &mut c))
        });
        g.finish();
    }
}

type Case = (
    String,
    usize,
    usize,
    usize,
    Array2<f32>,
    Array2<f32>,
    bool,
    bool,
);

fn make_case(&(label, m, k, n, ta, tb): &(&str, usize, usize, usize, bool, bool)) -> Case {
    let a = if ta {
        Array2::from_shape_fn((k, m), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.1)
    } else {
        Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.1)
    };
    let b = if tb {
        Array2::from_shape_fn((n, k), |(i, j)| ((i * 5 + j) % 13) as f32 * 0.1)
    } else {
        Array2::from_shape_fn((k, n), |(i, j)| ((i * 5 + j) % 13) as f32 * 0.1)
    };
    (label.to_string(), m, k, n, a, b, ta, tb)
}

/// Seconds per call of `f`, timed over a batch of about 4 ms.
fn time_batch(reps: usize, mut f: impl FnMut()) -> f64 {
    let t = std::time::Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / reps as f64
}

fn interleaved(rounds: usize) {
    let only = std::env::var("GEMM_SHAPES").unwrap_or_default();
    let cases: Vec<Case> = SHAPES
        .iter()
        .filter(|shape| shape.0.starts_with(&only))
        .map(make_case)
        .collect();
    let variants = ["initlab_t1", "initlab_t2", "ndarray", "t2_in_pool"];
    // The same 2-thread product, called from inside a rayon pool worker (the training loop
    // running under `pool.install`): the caller runs one half itself.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut times = vec![vec![Vec::new(); variants.len()]; cases.len()];
    let mut scratch = GemmScratch::default();
    for round in 0..=rounds {
        for (ci, (_, m, k, n, a, b, ta, tb)) in cases.iter().enumerate() {
            let av = if *ta { a.t() } else { a.view() };
            let bv = if *tb { b.t() } else { b.view() };
            let mut c = Array2::<f32>::zeros((*m, *n));
            let reps = (4e-3 / (2.0 * (m * n * k) as f64 / 50e9)).clamp(1.0, 1e5) as usize;
            // Rotate the variant order each round so no variant always runs first.
            for vi in (0..variants.len()).map(|v| (v + round) % variants.len()) {
                let t = match vi {
                    0 | 1 => time_batch(reps, || {
                        gemm(
                            1.0,
                            black_box(av),
                            black_box(bv),
                            0.0,
                            c.view_mut(),
                            &mut scratch,
                            vi + 1,
                        )
                    }),
                    3 => pool.install(|| {
                        time_batch(reps, || {
                            gemm(
                                1.0,
                                black_box(av),
                                black_box(bv),
                                0.0,
                                c.view_mut(),
                                &mut scratch,
                                2,
                            )
                        })
                    }),
                    _ => time_batch(reps, || {
                        general_mat_mul(1.0, &black_box(av), &black_box(bv), 0.0, &mut c)
                    }),
                };
                if round > 0 {
                    times[ci][vi].push(t);
                }
            }
        }
    }
    println!("median GFLOP/s over {rounds} interleaved rounds (ndarray: one thread)");
    print!("{:<16}", "shape");
    for v in variants {
        print!(" {v:>11}");
    }
    println!();
    for (ci, (label, m, k, n, ..)) in cases.iter().enumerate() {
        let flop = 2.0 * (m * n * k) as f64;
        let cells: Vec<String> = times[ci]
            .iter_mut()
            .map(|ts| {
                ts.sort_by(f64::total_cmp);
                format!("{:>11.2}", flop / ts[ts.len() / 2] / 1e9)
            })
            .collect();
        println!("{label:<16} {}", cells.join(" "));
    }
    for (ci, (label, m, k, n, ..)) in cases.iter().enumerate() {
        let flop = 2.0 * (m * n * k) as f64;
        for (vi, variant) in variants.iter().enumerate() {
            // Sorted by the table above.
            let ts = &times[ci][vi];
            println!(
                "RESULT {{\"framework\": \"initlab\", \"workload\": \"GEMM\", \"shape\": \"{label}\", \
                 \"variant\": \"{variant}\", \"gflops\": {:.3}}}",
                flop / ts[ts.len() / 2] / 1e9
            );
        }
    }
}

fn main() {
    if let Some(rounds) = std::env::var("GEMM_INTERLEAVED")
        .ok()
        .and_then(|r| r.parse().ok())
    {
        interleaved(rounds);
        return;
    }
    criterion_group!(benches, bench);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
