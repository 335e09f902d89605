//! Times the skinny GEMM shapes of the W2 step (scratch tool).
use initlab::nn::gemm::{GemmScratch, gemm};
use ndarray::Array2;
fn main() {
    // (m, k, n, a transposed, b transposed)
    let shapes = [
        (300, 2, 100, false, true),
        (300, 100, 3, false, true),
        (100, 300, 2, true, false),
        (3, 300, 100, true, false),
        (300, 3, 100, false, false),
        (300, 100, 100, false, true),
    ];
    for &(m, k, n, ta, tb) in &shapes {
        let a = if ta {
            Array2::<f32>::from_shape_fn((k, m), |(i, j)| (i * 7 + j) as f32 * 1e-3)
        } else {
            Array2::<f32>::from_shape_fn((m, k), |(i, j)| (i * 7 + j) as f32 * 1e-3)
        };
        let b = if tb {
            Array2::<f32>::from_shape_fn((n, k), |(i, j)| (i + j * 3) as f32 * 1e-3)
        } else {
            Array2::<f32>::from_shape_fn((k, n), |(i, j)| (i + j * 3) as f32 * 1e-3)
        };
        let mut c = Array2::<f32>::zeros((m, n));
        let mut s = GemmScratch::new();
        let av = if ta { a.t() } else { a.view() };
        let bv = if tb { b.t() } else { b.view() };
        // best of 15 batches of 200 calls: robust to other load on the machine
        let mut us = f64::INFINITY;
        for _ in 0..15 {
            let t = std::time::Instant::now();
            for _ in 0..200 {
                gemm(1.0, av, bv, 0.0, c.view_mut(), &mut s, 1);
            }
            us = us.min(t.elapsed().as_secs_f64() * 1e6 / 200.0);
        }
        println!(
            "{m}x{k}x{n} ta={ta} tb={tb}: {us:.2} us  {:.1} GFLOP/s",
            2.0 * (m * n * k) as f64 / us / 1e3
        );
    }
}
