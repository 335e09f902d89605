//! The AVX2+FMA routines (x86-64 only, chosen at run time by [`super::Kernels`]): the
//! panel packers, the skinny `f32` kernels and the microkernels.

use core::arch::x86_64::*;

use super::kernels::{store_one, store_tile};
use super::skinny::{DotsArgs, RowsArgs, dots_sub, rows_sub};

/// Transposes 8 rows of 8 floats: output `j` holds element `j` of every input row.
#[target_feature(enable = "avx2")]
#[inline]
fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(s0, s4),
        _mm256_permute2f128_ps::<0x20>(s1, s5),
        _mm256_permute2f128_ps::<0x20>(s2, s6),
        _mm256_permute2f128_ps::<0x20>(s3, s7),
        _mm256_permute2f128_ps::<0x31>(s0, s4),
        _mm256_permute2f128_ps::<0x31>(s1, s5),
        _mm256_permute2f128_ps::<0x31>(s2, s6),
        _mm256_permute2f128_ps::<0x31>(s3, s7),
    ]
}

/// Packs one full 6-row A panel from rows that are contiguous along k (row stride `rsa`):
/// `dst[p*6 + i] = a[i*rsa + p]`, with 8×8 transposes. A transposed column holds 8 floats
/// of which 6 belong to the step; the full 8-float stores spill 2 floats into the next
/// step, which the next store overwrites, so only the block's last step is stored as 4 + 2
/// floats (two narrow stores; a masked store is several times slower on some CPUs): the
/// packer writes exactly its panel and nothing past it (it does not rely on the next panel
/// being packed afterwards).
///
/// # Safety
/// CPU must support AVX2; `a` valid for 6 rows of `kc` floats; `dst` for `kc*6` writes.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn pack_a6_rows_f32(dst: *mut f32, a: *const f32, rsa: isize, kc: usize) {
    // SAFETY: reads are a[i*rsa + p] for i < 6, p < kc; writes are below dst + kc*6 (the
    // 8-float stores end at (p+7)*6 + 2 ≤ (p+8)*6, the last step's 4 + 2 at (p+8)*6 ≤ kc*6).
    unsafe {
        let mut p = 0;
        let zero = _mm256_setzero_ps();
        while p + 8 <= kc {
            let mut r = [zero; 8];
            for (i, ri) in r.iter_mut().enumerate().take(6) {
                *ri = _mm256_loadu_ps(a.offset(i as isize * rsa).add(p));
            }
            let o = transpose8(r);
            for (q, oq) in o.iter().enumerate().take(7) {
                _mm256_storeu_ps(dst.add((p + q) * 6), *oq);
            }
            let last = dst.add((p + 7) * 6);
            _mm_storeu_ps(last, _mm256_castps256_ps128(o[7]));
            // The high half's first 2 floats, as one 8-byte store.
            _mm_storel_epi64(
                last.add(4).cast(),
                _mm_castps_si128(_mm256_extractf128_ps::<1>(o[7])),
            );
            p += 8;
        }
        while p < kc {
            for i in 0..6 {
                *dst.add(p * 6 + i) = *a.offset(i as isize * rsa).add(p);
            }
            p += 1;
        }
    }
}

/// Packs one full 16-column B panel from columns that are contiguous along k (column
/// stride `csb`): `dst[p*16 + j] = b[j*csb + p]`, with 8×8 transposes.
///
/// # Safety
/// CPU must support AVX2; `b` valid for 16 columns of `kc` floats; `dst` for `kc*16` writes.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn pack_b16_cols_f32(dst: *mut f32, b: *const f32, csb: isize, kc: usize) {
    // SAFETY: reads are b[j*csb + p] for j < 16, p < kc; writes are below dst + kc*16.
    unsafe {
        let mut p = 0;
        while p + 8 <= kc {
            for h in 0..2 {
                let mut r = [_mm256_setzero_ps(); 8];
                for (j, rj) in r.iter_mut().enumerate() {
                    *rj = _mm256_loadu_ps(b.offset((8 * h + j) as isize * csb).add(p));
                }
                let o = transpose8(r);
                for (q, oq) in o.iter().enumerate() {
                    _mm256_storeu_ps(dst.add((p + q) * 16 + 8 * h), *oq);
                }
            }
            p += 8;
        }
        while p < kc {
            for j in 0..16 {
                *dst.add(p * 16 + j) = *b.offset(j as isize * csb).add(p);
            }
            p += 1;
        }
    }
}

/// Lanes `j` with `off + j < len` set (for masked loads and stores).
#[target_feature(enable = "avx2")]
#[inline]
fn lane_mask(len: usize, off: usize) -> __m256i {
    let left = (len as i64 - off as i64).clamp(0, 8) as i32;
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(left),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// Skinny rows product for `f32`: see `rows_all` (in `skinny`) (with fused multiply-adds).
///
/// # Safety
/// CPU must support AVX2 and FMA; as `rows_all` (in `skinny`).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn rows_f32(m: usize, args: &RowsArgs<f32>) {
    if args.k <= 8 && args.csc == 1 {
        // SAFETY: forwarded caller contract; k ≤ 8 and C rows contiguous checked.
        unsafe { short_k_f32(m, args) };
        return;
    }
    let mut i0 = 0;
    while i0 < m {
        let mb = 4.min(m - i0);
        let mut j0 = 0;
        while j0 < args.nb {
            let blk = rows_sub(args, i0, j0);
            // SAFETY: the block lies inside the product (caller contract).
            unsafe {
                match mb {
                    4 => rows_f32_mb::<4>(&blk),
                    3 => rows_f32_mb::<3>(&blk),
                    2 => rows_f32_mb::<2>(&blk),
                    _ => rows_f32_mb::<1>(&blk),
                }
            }
            j0 += 16;
        }
        i0 += mb;
    }
}

/// `alpha * acc (+ beta * c)` for 8 contiguous C values at `cp`.
///
/// # Safety
/// CPU must support AVX; `cp` valid for 8 reads and writes.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store8(cp: *mut f32, acc: __m256, alpha: f32, beta: f32) {
    // SAFETY: caller contract.
    unsafe {
        let t = _mm256_mul_ps(_mm256_set1_ps(alpha), acc);
        let v = if beta == 0.0 {
            t
        } else {
            _mm256_add_ps(t, _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(cp)))
        };
        _mm256_storeu_ps(cp, v);
    }
}

/// The rows product for `k ≤ 8` and contiguous C rows: one row of C at a time, the `k`
/// values of A's row broadcast once, then 32, 8 and finally 1 column(s) at a time; each
/// element is `a0·b0`, then fused multiply-adds in order of `p` (the same operations in
/// the vector and scalar parts).
///
/// # Safety
/// CPU must support AVX2 and FMA; as `rows_all` (in `skinny`), with `args.k ≤ 8` and
/// `args.csc == 1`.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // index loops: iterator adapters were not inlined here
unsafe fn short_k_f32(m: usize, args: &RowsArgs<f32>) {
    let &RowsArgs {
        k,
        a,
        rsa,
        csa,
        b,
        rsb,
        c,
        rsc,
        nb: n,
        alpha,
        beta,
        ..
    } = args;
    debug_assert!((1..=8).contains(&k));
    // SAFETY: reads stay inside A's rows (k values), B's k rows (n values) and C's rows
    // (n values); writes stay inside C (caller contract).
    unsafe {
        let mut ak = [0f32; 8];
        for i in 0..m {
            let arow = a.offset(i as isize * rsa);
            for p in 0..k {
                ak[p] = *arow.offset(p as isize * csa);
            }
            let mut av = [_mm256_setzero_ps(); 8];
            for p in 0..k {
                av[p] = _mm256_set1_ps(ak[p]);
            }
            let crow = c.offset(i as isize * rsc);
            let mut j = 0;
            while j + 32 <= n {
                let mut acc = [_mm256_setzero_ps(); 4];
                for (q, x) in acc.iter_mut().enumerate() {
                    *x = _mm256_mul_ps(av[0], _mm256_loadu_ps(b.add(j + 8 * q)));
                }
                for p in 1..k {
                    let bp = b.offset(p as isize * rsb).add(j);
                    for (q, x) in acc.iter_mut().enumerate() {
                        *x = _mm256_fmadd_ps(av[p], _mm256_loadu_ps(bp.add(8 * q)), *x);
                    }
                }
                for (q, &x) in acc.iter().enumerate() {
                    store8(crow.add(j + 8 * q), x, alpha, beta);
                }
                j += 32;
            }
            while j + 8 <= n {
                let mut x = _mm256_mul_ps(av[0], _mm256_loadu_ps(b.add(j)));
                for p in 1..k {
                    let bp = b.offset(p as isize * rsb).add(j);
                    x = _mm256_fmadd_ps(av[p], _mm256_loadu_ps(bp), x);
                }
                store8(crow.add(j), x, alpha, beta);
                j += 8;
            }
            while j < n {
                let mut x = ak[0] * *b.add(j);
                for p in 1..k {
                    x = ak[p].mul_add(*b.offset(p as isize * rsb).add(j), x);
                }
                store_one(crow.add(j), x, alpha, beta);
                j += 1;
            }
        }
    }
}

#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn rows_f32_mb<const MB: usize>(args: &RowsArgs<f32>) {
    let &RowsArgs {
        k,
        a,
        rsa,
        csa,
        b,
        rsb,
        c,
        rsc,
        csc,
        nb,
        alpha,
        beta,
    } = args;
    let full = nb == 16;
    let m0 = lane_mask(nb, 0);
    let m1 = lane_mask(nb, 8);
    let mut acc = [[_mm256_setzero_ps(); 2]; MB];
    // SAFETY: reads stay inside the A rows, the B rows' first `nb` values (masked loads
    // touch no masked-out lane) and the C block (caller contract).
    unsafe {
        for p in 0..k {
            let bp = b.offset(p as isize * rsb);
            let (b0, b1) = if full {
                (_mm256_loadu_ps(bp), _mm256_loadu_ps(bp.add(8)))
            } else {
                (
                    _mm256_maskload_ps(bp, m0),
                    _mm256_maskload_ps(bp.add(8), m1),
                )
            };
            for (i, acc_i) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*a.offset(i as isize * rsa + p as isize * csa));
                acc_i[0] = _mm256_fmadd_ps(av, b0, acc_i[0]);
                acc_i[1] = _mm256_fmadd_ps(av, b1, acc_i[1]);
            }
        }
        let va = _mm256_set1_ps(alpha);
        let vb = _mm256_set1_ps(beta);
        for (i, acc_i) in acc.iter().enumerate() {
            let row = c.offset(i as isize * rsc);
            if csc == 1 && full {
                for (h, &acc_h) in acc_i.iter().enumerate() {
                    let cp = row.add(8 * h);
                    let t = _mm256_mul_ps(va, acc_h);
                    let v = if beta == 0.0 {
                        t
                    } else {
                        _mm256_add_ps(t, _mm256_mul_ps(vb, _mm256_loadu_ps(cp)))
                    };
                    _mm256_storeu_ps(cp, v);
                }
            } else {
                let mut tile = [0f32; 16];
                _mm256_storeu_ps(tile.as_mut_ptr(), acc_i[0]);
                _mm256_storeu_ps(tile.as_mut_ptr().add(8), acc_i[1]);
                for (j, &v) in tile.iter().enumerate().take(nb) {
                    store_one(row.offset(j as isize * csc), v, alpha, beta);
                }
            }
        }
    }
}

/// Skinny dot-product GEMM for `f32`: see `dots_all` (in `skinny`); each dot product as 8
/// partial sums (fused multiply-adds, the last `k % 8` values by masked loads), reduced
/// in a fixed order; blocks of up to 4 rows × 2 columns.
///
/// # Safety
/// CPU must support AVX2 and FMA; as `dots_all` (in `skinny`).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn dots_f32(m: usize, n: usize, args: &DotsArgs<f32>) {
    let mut j = 0;
    while j < n {
        let nj = 2.min(n - j);
        let mut i0 = 0;
        while i0 < m {
            let mb = 4.min(m - i0);
            let blk = dots_sub(args, i0, j);
            // SAFETY: the block lies inside the product (caller contract).
            unsafe {
                match (mb, nj) {
                    (4, 2) => dots_f32_mb::<4, 2>(&blk),
                    (3, 2) => dots_f32_mb::<3, 2>(&blk),
                    (2, 2) => dots_f32_mb::<2, 2>(&blk),
                    (1, 2) => dots_f32_mb::<1, 2>(&blk),
                    (4, _) => dots_f32_mb::<4, 1>(&blk),
                    (3, _) => dots_f32_mb::<3, 1>(&blk),
                    (2, _) => dots_f32_mb::<2, 1>(&blk),
                    _ => dots_f32_mb::<1, 1>(&blk),
                }
            }
            i0 += mb;
        }
        j += nj;
    }
}

#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn dots_f32_mb<const MB: usize, const NJ: usize>(args: &DotsArgs<f32>) {
    let &DotsArgs {
        k,
        a,
        rsa,
        b,
        csb,
        c,
        rsc,
        csc,
        alpha,
        beta,
    } = args;
    let mut acc = [[_mm256_setzero_ps(); MB]; NJ];
    // SAFETY: reads stay inside the MB rows of A and NJ columns of B (k values each;
    // masked loads touch no masked-out lane); writes hit the MB × NJ C entries.
    unsafe {
        let mut p = 0;
        while p + 8 <= k {
            let mut av = [_mm256_setzero_ps(); MB];
            for (i, v) in av.iter_mut().enumerate() {
                *v = _mm256_loadu_ps(a.offset(i as isize * rsa).add(p));
            }
            for (jj, acc_j) in acc.iter_mut().enumerate() {
                let bv = _mm256_loadu_ps(b.offset(jj as isize * csb).add(p));
                for (x, &v) in acc_j.iter_mut().zip(&av) {
                    *x = _mm256_fmadd_ps(v, bv, *x);
                }
            }
            p += 8;
        }
        if p < k {
            let mk = lane_mask(k, p);
            let mut av = [_mm256_setzero_ps(); MB];
            for (i, v) in av.iter_mut().enumerate() {
                *v = _mm256_maskload_ps(a.offset(i as isize * rsa).add(p), mk);
            }
            for (jj, acc_j) in acc.iter_mut().enumerate() {
                let bv = _mm256_maskload_ps(b.offset(jj as isize * csb).add(p), mk);
                for (x, &v) in acc_j.iter_mut().zip(&av) {
                    *x = _mm256_fmadd_ps(v, bv, *x);
                }
            }
        }
        for (jj, acc_j) in acc.iter().enumerate() {
            for (i, &x) in acc_j.iter().enumerate() {
                let q = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
                let q = _mm_add_ps(q, _mm_movehl_ps(q, q));
                let q = _mm_add_ss(q, _mm_movehdup_ps(q));
                store_one(
                    c.offset(i as isize * rsc + jj as isize * csc),
                    _mm_cvtss_f32(q),
                    alpha,
                    beta,
                );
            }
        }
    }
}

/// The 256-bit vector operations the microkernel needs, for `f32` (8 lanes) and `f64` (4).
///
/// # Safety
/// Every method needs a CPU with AVX (the callers are AVX2+FMA functions); the pointer ones
/// need `LANES` valid values.
pub(super) trait Avx: Copy {
    /// A vector of `LANES` values.
    type V: Copy;
    /// Values per vector.
    const LANES: usize;
    unsafe fn zero() -> Self::V;
    unsafe fn splat(x: Self) -> Self::V;
    unsafe fn load(p: *const Self) -> Self::V;
    unsafe fn store(p: *mut Self, v: Self::V);
    unsafe fn vadd(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn vmul(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c` with one rounding.
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
}

// The methods are `inline(always)` so that they compile inside the AVX2+FMA kernel that
// calls them (the intrinsics inline there, where the target features are enabled).
impl Avx for f32 {
    type V = __m256;
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn vadd(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn vmul(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
}

impl Avx for f64 {
    type V = __m256d;
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn zero() -> __m256d {
        unsafe { _mm256_setzero_pd() }
    }
    #[inline(always)]
    unsafe fn splat(x: f64) -> __m256d {
        unsafe { _mm256_set1_pd(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> __m256d {
        unsafe { _mm256_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: __m256d) {
        unsafe { _mm256_storeu_pd(p, v) }
    }
    #[inline(always)]
    unsafe fn vadd(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_add_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn vmul(a: __m256d, b: __m256d) -> __m256d {
        unsafe { _mm256_mul_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        unsafe { _mm256_fmadd_pd(a, b, c) }
    }
}

/// The 6×`NR` AVX2+FMA microkernel, `NR` = two vectors (f32: 6×16, f64: 6×8): 12 ymm
/// accumulators, one fused multiply-add per accumulator and step.
///
/// # Safety
/// CPU must support AVX2 and FMA; `NR == 2 * T::LANES`; `a` holds `kc*6` and `b` `kc*NR`
/// values; the `mr × nr` C tile is valid.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)] // the `MicroKernel` signature
pub(super) unsafe fn kernel<T: Avx + super::GemmScalar, const NR: usize>(
    kc: usize,
    alpha: T,
    a: *const T,
    b: *const T,
    beta: T,
    first: bool,
    c: *mut T,
    rsc: isize,
    csc: isize,
    mr: usize,
    nr: usize,
) {
    debug_assert_eq!(NR, 2 * T::LANES);
    let l = T::LANES;
    // SAFETY: reads stay inside the packed panels (kc steps of 6 and NR values); writes
    // stay inside the C tile (caller contract).
    unsafe {
        let mut acc = [[T::zero(); 2]; 6];
        let mut ap = a;
        let mut bp = b;
        for _ in 0..kc {
            let b0 = T::load(bp);
            let b1 = T::load(bp.add(l));
            for (i, acc_i) in acc.iter_mut().enumerate() {
                let ai = T::splat(*ap.add(i));
                acc_i[0] = T::fmadd(ai, b0, acc_i[0]);
                acc_i[1] = T::fmadd(ai, b1, acc_i[1]);
            }
            ap = ap.add(6);
            bp = bp.add(NR);
        }
        if mr == 6 && nr == NR && csc == 1 {
            let va = T::splat(alpha);
            let vb = T::splat(beta);
            for (i, acc_i) in acc.iter().enumerate() {
                let row = c.offset(i as isize * rsc);
                for (h, &acc_h) in acc_i.iter().enumerate() {
                    let cp = row.add(l * h);
                    let t = T::vmul(va, acc_h);
                    let v = if !first {
                        T::vadd(T::load(cp), t)
                    } else if beta == T::ZERO {
                        t
                    } else {
                        T::vadd(t, T::vmul(vb, T::load(cp)))
                    };
                    T::store(cp, v);
                }
            }
        } else {
            let mut tile = [[T::ZERO; NR]; 6];
            for (row, acc_i) in tile.iter_mut().zip(&acc) {
                T::store(row.as_mut_ptr(), acc_i[0]);
                T::store(row.as_mut_ptr().add(l), acc_i[1]);
            }
            store_tile::<T, NR>(tile.as_flattened(), alpha, beta, first, c, rsc, csc, mr, nr);
        }
    }
}
