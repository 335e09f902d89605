//! Correctness of `initlab::nn::gemm` against a naive f64 triple loop.

use initlab::nn::gemm::{GemmScalar, GemmScratch, Kernels, gemm};
use ndarray::{Array2, ArrayView2, ShapeBuilder, s};
use proptest::prelude::*;

/// Deterministic pseudo-random values in [-1, 1).
fn fill(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    Array2::from_shape_fn((rows, cols), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

fn naive(
    alpha: f64,
    a: ArrayView2<f64>,
    b: ArrayView2<f64>,
    beta: f64,
    c: &Array2<f64>,
) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| {
        let mut acc = 0.0;
        for p in 0..k {
            acc += a[[i, p]] * b[[p, j]];
        }
        let base = if beta == 0.0 { 0.0 } else { beta * c[[i, j]] };
        alpha * acc + base
    })
}

/// Layout of an operand: plain, transposed view, or every-other-column slice.
#[derive(Clone, Copy, Debug)]
enum Lay {
    N,
    T,
    Strided,
    Neg,
}

/// Builds storage for a `rows × cols` logical operand in layout `lay`, holding `vals`.
fn store<T: Copy + Default>(vals: &Array2<T>, lay: Lay) -> Array2<T> {
    let (r, c) = vals.dim();
    match lay {
        Lay::N => vals.clone(),
        Lay::T => {
            let mut st = Array2::default((c, r));
            st.assign(&vals.t());
            st
        }
        Lay::Strided => {
            let mut st = Array2::default((r, 2 * c));
            st.slice_mut(s![.., ..;2]).assign(vals);
            st
        }
        Lay::Neg => {
            let mut st = Array2::default((r, c).f());
            st.slice_mut(s![..;-1, ..]).assign(vals);
            st
        }
    }
}

fn view<T>(st: &Array2<T>, lay: Lay) -> ArrayView2<'_, T> {
    match lay {
        Lay::N => st.view(),
        Lay::T => st.t(),
        Lay::Strided => st.slice(s![.., ..;2]),
        Lay::Neg => st.slice(s![..;-1, ..]),
    }
}

/// An element type under test, with its conversions and its error bound per unit of k.
trait Elem: GemmScalar {
    fn of(x: f64) -> Self;
    fn back(self) -> f64;
    const TOL_PER_K: f64;
}

impl Elem for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn back(self) -> f64 {
        self as f64
    }
    const TOL_PER_K: f64 = 1e-6;
}

impl Elem for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn back(self) -> f64 {
        self
    }
    const TOL_PER_K: f64 = 1e-14;
}

/// One product to check against the naive loop: `c = alpha · a·b + beta · c`, `a`: m×k in
/// layout `la`, `b`: k×n in layout `lb`, on `threads` threads with `kernels`.
#[derive(Clone, Copy, Debug)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    la: Lay,
    lb: Lay,
    alpha: f64,
    beta: f64,
    threads: usize,
    kernels: Kernels,
}

impl Case {
    /// `a·b` with plain layouts, one thread, the best kernels.
    fn new(m: usize, k: usize, n: usize) -> Case {
        Case {
            m,
            k,
            n,
            la: Lay::N,
            lb: Lay::N,
            alpha: 1.0,
            beta: 0.0,
            threads: 1,
            kernels: Kernels::Best,
        }
    }

    fn lay(self, la: Lay, lb: Lay) -> Case {
        Case { la, lb, ..self }
    }

    fn scalars(self, alpha: f64, beta: f64) -> Case {
        Case {
            alpha,
            beta,
            ..self
        }
    }

    fn on(self, threads: usize, kernels: Kernels) -> Case {
        Case {
            threads,
            kernels,
            ..self
        }
    }

    fn check<T: Elem>(self) {
        let Case {
            m,
            k,
            n,
            la,
            lb,
            alpha,
            beta,
            threads,
            kernels,
        } = self;
        let a64 = fill(m, k, (m * 31 + k * 7 + n) as u64);
        let b64 = fill(k, n, (m + k * 13 + n * 5 + 1) as u64);
        let c64 = fill(m, n, 99);
        // Round the inputs to T first so the reference sees exactly what the kernel sees.
        let a_t = a64.mapv(T::of);
        let b_t = b64.mapv(T::of);
        let c_t = c64.mapv(T::of);
        let expect = naive(
            alpha,
            a_t.mapv(T::back).view(),
            b_t.mapv(T::back).view(),
            beta,
            &c_t.mapv(T::back),
        );
        let sa = store(&a_t, la);
        let sb = store(&b_t, lb);
        let mut c = c_t.clone();
        if beta == 0.0 {
            c.fill(T::of(f64::NAN));
        }
        let mut scratch = GemmScratch::with_kernels(kernels);
        gemm(
            T::of(alpha),
            view(&sa, la),
            view(&sb, lb),
            T::of(beta),
            c.view_mut(),
            &mut scratch,
            threads,
        );
        let tol = T::TOL_PER_K * (k as f64 + 1.0) * (1.0 + alpha.abs() + beta.abs());
        for ((i, j), &got) in c.indexed_iter() {
            let got = got.back();
            let want = expect[[i, j]];
            assert!(
                (got - want).abs() <= tol,
                "{self:?}: c[{i},{j}] = {got}, want {want} (tol {tol})"
            );
        }
    }

    fn check_both(self) {
        self.check::<f32>();
        self.check::<f64>();
    }
}

const LAYS: [Lay; 4] = [Lay::N, Lay::T, Lay::Strided, Lay::Neg];

const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (4, 2, 4),
    (7, 13, 5),
    (5, 1, 17),
    (6, 16, 16),
    (6, 300, 16),
    (7, 17, 17),
    (5, 15, 15),
    (12, 32, 32),
    (13, 33, 31),
    (71, 257, 73),
    (73, 255, 71),
    (1, 600, 1),
    (1, 64, 200),
    (200, 64, 1),
    (37, 520, 19),
    (145, 70, 1030),
    // skinny shapes of the W2/W5 steps (k, n or m ≤ 8)
    (300, 2, 100),
    (300, 100, 3),
    (100, 300, 2),
    (3, 300, 100),
    (300, 3, 100),
    (9, 40, 8),
    (8, 40, 9),
    (33, 8, 8),
    // edges of the k ≤ 8 rows kernel (32-, 8- and 1-column steps) and thin/skinny extremes
    (5, 8, 47),
    (3, 1, 300),
    (300, 7, 1),
    (2, 1000, 3),
    (1, 9, 1),
    (70, 9, 70),
];

/// Every shape of `SHAPES` in every pair of layouts.
fn sweep<T: Elem>(kernels: Kernels) {
    for &(m, k, n) in SHAPES {
        for la in LAYS {
            for lb in LAYS {
                Case::new(m, k, n).lay(la, lb).on(1, kernels).check::<T>();
            }
        }
    }
}

#[test]
fn shapes_layouts_f32() {
    sweep::<f32>(Kernels::Best);
}

#[test]
fn shapes_layouts_f64() {
    sweep::<f64>(Kernels::Best);
}

// The portable kernels, which the CPU check skips on x86 machines with AVX2.
#[test]
fn shapes_layouts_portable_f32() {
    sweep::<f32>(Kernels::Portable);
}

#[test]
fn shapes_layouts_portable_f64() {
    sweep::<f64>(Kernels::Portable);
}

#[test]
fn portable_means_no_avx2() {
    assert!(!Kernels::Portable.avx2());
}

#[test]
fn alpha_beta() {
    for kernels in [Kernels::Best, Kernels::Portable] {
        for &(alpha, beta) in &[
            (1.0, 1.0),
            (0.5, -2.0),
            (-1.5, 0.0),
            (0.0, 0.75),
            (2.0, 1.0),
        ] {
            for &(m, k, n) in &[(3, 3, 3), (7, 13, 5), (50, 300, 70), (130, 520, 40)] {
                let case = Case::new(m, k, n).scalars(alpha, beta);
                case.lay(Lay::N, Lay::T).on(1, kernels).check::<f32>();
                case.lay(Lay::T, Lay::N).on(1, kernels).check::<f64>();
                case.lay(Lay::Strided, Lay::N).on(2, kernels).check::<f32>();
            }
        }
    }
}

#[test]
fn threads_correct() {
    for kernels in [Kernels::Best, Kernels::Portable] {
        for &(m, k, n) in &[
            (256, 256, 256),
            (128, 784, 256),
            (300, 100, 100),
            (97, 300, 31),
        ] {
            for threads in [2, 3, 4] {
                let case = Case::new(m, k, n).lay(Lay::N, Lay::T);
                case.on(threads, kernels).check::<f32>();
            }
            let case = Case::new(m, k, n).lay(Lay::T, Lay::N).scalars(0.5, 1.0);
            case.on(3, kernels).check::<f64>();
        }
    }
}

#[test]
fn k_zero_scales_c() {
    let a = Array2::<f32>::zeros((5, 0));
    let b = Array2::<f32>::zeros((0, 7));
    let mut c = Array2::<f32>::from_elem((5, 7), 3.0);
    let mut scratch = GemmScratch::default();
    gemm(1.0, a.view(), b.view(), 0.5, c.view_mut(), &mut scratch, 1);
    assert!(c.iter().all(|&x| x == 1.5));
    c.fill(f32::NAN);
    gemm(1.0, a.view(), b.view(), 0.0, c.view_mut(), &mut scratch, 1);
    assert!(c.iter().all(|&x| x == 0.0));
}

#[test]
fn empty_dims_are_noops() {
    let mut scratch = GemmScratch::<f64>::default();
    let a = Array2::<f64>::zeros((0, 4));
    let b = Array2::<f64>::zeros((4, 3));
    let mut c = Array2::<f64>::zeros((0, 3));
    gemm(1.0, a.view(), b.view(), 0.0, c.view_mut(), &mut scratch, 2);
}

#[test]
#[should_panic(expected = "shape mismatch")]
fn shape_mismatch_panics() {
    let a = Array2::<f32>::zeros((3, 4));
    let b = Array2::<f32>::zeros((5, 6));
    let mut c = Array2::<f32>::zeros((3, 6));
    gemm(
        1.0,
        a.view(),
        b.view(),
        0.0,
        c.view_mut(),
        &mut GemmScratch::default(),
        1,
    );
}

#[test]
fn bit_identical_across_threads_and_calls() {
    for &(m, k, n, ta, tb) in &[
        (256, 256, 256, false, true),
        (128, 784, 256, false, true),
        (256, 128, 784, true, false),
        (300, 100, 100, false, true),
        (97, 530, 43, true, true),
        (43, 530, 97, false, false),
    ] {
        let a = fill(m, k, 1).mapv(|x| x as f32);
        let b = fill(k, n, 2).mapv(|x| x as f32);
        let at = a.t().to_owned();
        let bt = b.t().to_owned();
        let av = if ta { at.t() } else { a.view() };
        let bv = if tb { bt.t() } else { b.view() };
        let c0 = fill(m, n, 3).mapv(|x| x as f32);
        for kernels in [Kernels::Best, Kernels::Portable] {
            let mut reference: Option<Array2<f32>> = None;
            let mut scratch = GemmScratch::with_kernels(kernels);
            for threads in [1, 2, 3, 1, 4, 2] {
                let mut c = c0.clone();
                gemm(0.7, av, bv, 0.3, c.view_mut(), &mut scratch, threads);
                match &reference {
                    None => reference = Some(c),
                    Some(r) => assert!(
                        r.iter()
                            .zip(c.iter())
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{m}x{k}x{n} {kernels:?}: threads={threads} differs from threads=1"
                    ),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_shapes(
        m in 1usize..40, k in 0usize..300, n in 1usize..70,
        la in 0usize..4, lb in 0usize..4,
        ab in 0usize..3, threads in 1usize..4, portable in proptest::bool::ANY,
    ) {
        let (alpha, beta) = [(1.0, 0.0), (0.5, 1.0), (-2.0, 0.25)][ab];
        let kernels = if portable { Kernels::Portable } else { Kernels::Best };
        Case::new(m, k, n)
            .lay(LAYS[la], LAYS[lb])
            .scalars(alpha, beta)
            .on(threads, kernels)
            .check_both();
    }
}
