//! The portable kernels compute the same bits as the AVX2 ones (see `initlab::nn::gemm::Kernels`):
//! every path of the matrix product (tiny loop, skinny short-k, skinny rows, skinny dots with
//! every tail length, packed blocks with edge tiles, threaded), for `f32` and `f64`, with
//! `alpha`/`beta`, transposed operands and cancelling sums (where a missing or extra fused
//! multiply-add would show), and the `f32` `tanh`/`sigmoid` slice kernels. On a CPU without
//! AVX2 (or with `INITLAB_PORTABLE_KERNELS=1`) both sides are the portable kernels and the
//! test only checks determinism; the cross-architecture comparison is `.ci/cross-aarch64.sh`.

use initlab::nn::float::fast;
use initlab::nn::gemm::{GemmScalar, GemmScratch, Kernels, gemm};
use ndarray::{Array2, ShapeBuilder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Values of one magnitude and mixed signs: the partial sums cancel and stay as small as
/// the products, so the rounding of every product shows in the sum (with mixed magnitudes a
/// large early term would absorb it).
fn values(rng: &mut ChaCha8Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// `alpha · a · b + beta · c` with the given kernels; `trans_a`/`trans_b` store the operand
/// column-major (so the product reads a transposed view, as `x · Wᵀ` does).
#[allow(clippy::too_many_arguments)]
fn product<T: GemmScalar + From<f32>>(
    kernels: Kernels,
    (m, k, n): (usize, usize, usize),
    trans_a: bool,
    trans_b: bool,
    alpha: f32,
    beta: f32,
    threads: usize,
    seed: u64,
) -> Vec<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let conv = |v: Vec<f64>| v.into_iter().map(|x| T::from(x as f32)).collect::<Vec<T>>();
    let a = Array2::from_shape_vec((m, k).set_f(trans_a), conv(values(&mut rng, m * k))).unwrap();
    let b = Array2::from_shape_vec((k, n).set_f(trans_b), conv(values(&mut rng, k * n))).unwrap();
    let mut c = Array2::from_shape_vec((m, n), conv(values(&mut rng, m * n))).unwrap();
    let mut scratch = GemmScratch::with_kernels(kernels);
    gemm(
        T::from(alpha),
        a.view(),
        b.view(),
        T::from(beta),
        c.view_mut(),
        &mut scratch,
        threads,
    );
    c.into_raw_vec_and_offset().0
}

/// Shapes that reach every path of the plan: tiny, short k (1..8), short m or n with k of
/// every remainder mod 8 (dots tails), and blocked with edge tiles in every direction.
fn shapes() -> Vec<(usize, usize, usize)> {
    let mut s = vec![(3, 4, 5), (10, 10, 10)];
    for k in 1..=8 {
        s.push((37, k, 45));
        s.push((1, k, 300));
    }
    for k in [9, 15, 16, 17, 63, 64, 100, 257] {
        s.push((3, k, 50));
        s.push((50, k, 2));
        s.push((7, k, 1));
    }
    s.extend([
        (13, 30, 29),
        (64, 64, 64),
        (100, 300, 70),
        (6, 256, 16),
        (97, 513, 33),
    ]);
    s
}

fn same_bits<T: GemmScalar + From<f32>>() {
    for (i, &shape) in shapes().iter().enumerate() {
        for (trans_a, trans_b) in [(false, false), (false, true), (true, false), (true, true)] {
            for (alpha, beta) in [(1.0, 0.0), (0.5, 1.0), (-1.5, 0.25)] {
                let seed = i as u64;
                let args = (shape, trans_a, trans_b, alpha, beta, 1, seed);
                let best = product::<T>(
                    Kernels::Best,
                    args.0,
                    args.1,
                    args.2,
                    args.3,
                    args.4,
                    1,
                    seed,
                );
                let portable = product::<T>(
                    Kernels::Portable,
                    args.0,
                    args.1,
                    args.2,
                    args.3,
                    args.4,
                    1,
                    seed,
                );
                let differ = best.iter().zip(&portable).filter(|(x, y)| x != y).count();
                assert_eq!(
                    differ,
                    0,
                    "{shape:?} a^T {trans_a} b^T {trans_b} alpha {alpha} beta {beta}: \
                     {differ} of {} values differ between the AVX2 and portable kernels",
                    best.len()
                );
            }
        }
    }
}

#[test]
fn f32_products_are_bit_identical() {
    same_bits::<f32>();
}

#[test]
fn f64_products_are_bit_identical() {
    same_bits::<f64>();
}

#[test]
fn threaded_products_are_bit_identical() {
    for shape in [(256, 256, 256), (90, 200, 300)] {
        let best = product::<f32>(Kernels::Best, shape, false, true, 1.0, 0.0, 2, 3);
        let portable = product::<f32>(Kernels::Portable, shape, false, true, 1.0, 0.0, 2, 3);
        assert!(best == portable, "{shape:?}");
    }
}

/// The products really are sensitive to fusing: the same sum with separately rounded
/// multiply-adds differs, so the tests above would catch a kernel that does not fuse.
#[test]
fn fused_and_unfused_sums_differ_on_these_values() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let a: Vec<f32> = values(&mut rng, 64).into_iter().map(|x| x as f32).collect();
    let b: Vec<f32> = values(&mut rng, 64).into_iter().map(|x| x as f32).collect();
    let mut differ = 0;
    for len in 1..=64 {
        let fused = (0..len).fold(0f32, |s, p| a[p].mul_add(b[p], s));
        let plain = (0..len).fold(0f32, |s, p| s + a[p] * b[p]);
        differ += usize::from(fused != plain);
    }
    assert!(differ > 16, "only {differ} of 64 sums differ");
}

#[test]
fn activation_slices_are_bit_identical() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let xs: Vec<f32> = (0..100_003)
        .map(|_| rng.random_range(-12.0..12.0) * 10f32.powi(rng.random_range(-5..1)))
        .collect();
    for (generic, avx2) in [
        (
            fast::tanh_slice_generic as fn(&mut [f32]),
            fast::tanh_slice_avx2 as unsafe fn(&mut [f32]),
        ),
        (fast::sigmoid_slice_generic, fast::sigmoid_slice_avx2),
        (fast::gelu_slice_generic, fast::gelu_slice_avx2),
        (fast::gelu_tanh_slice_generic, fast::gelu_tanh_slice_avx2),
        (fast::silu_slice_generic, fast::silu_slice_avx2),
    ] {
        let mut one = xs.clone();
        generic(&mut one);
        let mut two = xs.clone();
        // `dispatch` runs the AVX2 copy only on CPUs that have it.
        fast::dispatch(&mut two, generic, avx2);
        assert!(
            one.iter()
                .zip(&two)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "a slice kernel depends on the CPU"
        );
    }
}

#[test]
fn activation_backward_slices_are_bit_identical() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let zs: Vec<f32> = (0..100_003)
        .map(|_| rng.random_range(-12.0..12.0) * 10f32.powi(rng.random_range(-5..1)))
        .collect();
    let grads: Vec<f32> = (0..zs.len()).map(|_| rng.random_range(-2.0..2.0)).collect();
    for (generic, avx2) in [
        (
            fast::gelu_backward_generic as fn(&[f32], &mut [f32]),
            fast::gelu_backward_avx2 as unsafe fn(&[f32], &mut [f32]),
        ),
        (
            fast::gelu_tanh_backward_generic,
            fast::gelu_tanh_backward_avx2,
        ),
        (fast::silu_backward_generic, fast::silu_backward_avx2),
    ] {
        let mut one = grads.clone();
        generic(&zs, &mut one);
        let mut two = grads.clone();
        fast::dispatch_scale(&zs, &mut two, generic, avx2);
        assert!(
            one.iter()
                .zip(&two)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "a backward kernel depends on the CPU"
        );
        assert!(one != grads, "the kernel changed nothing");
    }
}
