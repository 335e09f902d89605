//! Skinny products: a side (`m`, `n` or `k`) of at most 8, where packing costs more than it
//! saves. Portable kernels here; the AVX2 ones for `f32` are in `x86`.
//!
//! For `f32` the portable kernels are written to do exactly what the AVX2 ones do (fused
//! multiply-adds, the dot kernel's tail in its 8 lanes, the short-k kernel's first product
//! unfused), so that the result does not depend on the CPU (see [`super::Kernels`]). For
//! `f64`, which has no AVX2 skinny kernel, every CPU runs the same unfused loops.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::kernels::store_one;
use super::pack::PackBufs;
use super::{GemmScalar, Kernels};

/// Products whose smallest side (`m`, `n` or `k`) is at most this go to the skinny path.
const SKINNY: usize = 8;
/// Rows of C per register block in the skinny kernels.
const SK_MB: usize = 4;
/// Columns of C per register block in the skinny row kernel (two AVX2 vectors of `f32`).
const SK_NB: usize = 16;
/// Lanes of the partial sums in the skinny dot kernel.
const SK_L: usize = 8;

/// How a skinny product is computed (see [`skinny_plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Skinny {
    /// Rows kernel: each `SK_MB × SK_NB` block of C accumulates `a[i, p] · b[p, j..j+SK_NB]`
    /// over `p`, reading rows of B that are contiguous (`pack`: copied into scratch first).
    Rows { transpose: bool, pack: bool },
    /// Dot kernel: `c[i, j]` = dot product of row `i` of A and column `j` of B, both
    /// contiguous along `k` (`pack`: A copied into scratch first).
    Dots { transpose: bool, pack: bool },
}

/// Chooses a skinny kernel for an `m × k · k × n` product with the given strides, or `None`
/// (general packed path). `transpose` means computing `Cᵀ = Bᵀ · Aᵀ` instead, after which the
/// other fields refer to the transposed operands. Depends on shapes and strides only.
pub(super) fn skinny_plan(
    m: usize,
    n: usize,
    k: usize,
    (rsa, csa): (isize, isize),
    (rsb, csb): (isize, isize),
    (rsc, csc): (isize, isize),
) -> Option<Skinny> {
    let s = m.min(n).min(k);
    if s > SKINNY {
        return None;
    }
    if k == s {
        // Short k: rank-k update, vectorized along the contiguous side of C; the (short)
        // B panel is packed when its rows are not contiguous.
        let transpose = csc != 1 && rsc == 1;
        let row_b = if transpose { rsa } else { csb };
        return Some(Skinny::Rows {
            transpose,
            pack: row_b != 1,
        });
    }
    // Short m or n: make it the row count m' of the product computed.
    let transpose = n < m;
    let (csa, (rsb, csb)) = if transpose {
        (rsb, (csa, rsa))
    } else {
        (csa, (rsb, csb))
    };
    if csb == 1 {
        Some(Skinny::Rows {
            transpose,
            pack: false,
        })
    } else if rsb == 1 {
        Some(Skinny::Dots {
            transpose,
            pack: csa != 1,
        })
    } else {
        None
    }
}

/// Runs a skinny product (see [`Skinny`]); single-threaded, the same operations in the same
/// order on every call.
#[allow(clippy::too_many_arguments)] // gemm's arguments, plus the plan and the kernels
pub(super) fn gemm_skinny<T: GemmScalar>(
    kernels: Kernels,
    plan: Skinny,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: ArrayViewMut2<T>,
    bufs: &mut PackBufs<T>,
) {
    let transpose = match plan {
        Skinny::Rows { transpose, .. } | Skinny::Dots { transpose, .. } => transpose,
    };
    let (a, b, mut c) = if transpose {
        (b.reversed_axes(), a.reversed_axes(), c.reversed_axes())
    } else {
        (a, b, c)
    };
    let (m, k) = a.dim();
    let n = b.ncols();
    let (mut rsa, mut csa) = (a.strides()[0], a.strides()[1]);
    let (mut rsb, csb) = (b.strides()[0], b.strides()[1]);
    let (rsc, csc) = (c.strides()[0], c.strides()[1]);
    let mut ap = a.as_ptr();
    let mut bp = b.as_ptr();
    let cp = c.as_mut_ptr();
    match plan {
        Skinny::Rows { pack, .. } => {
            if pack {
                // B is k × n with short k: copy it into contiguous rows.
                if bufs.b.len() < k * n {
                    bufs.b.resize(k * n, T::ZERO);
                }
                for (p, row) in bufs.b[..k * n].chunks_exact_mut(n).enumerate() {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = b[[p, j]];
                    }
                }
                bp = bufs.b.as_ptr();
                rsb = n as isize;
            } else {
                debug_assert!(csb == 1 || n == 1);
            }
            // SAFETY: A is m × k, B is k × n with contiguous rows (csb == 1 or packed),
            // C is m × n, all at these pointers and strides.
            unsafe {
                rows_all(
                    kernels,
                    m,
                    &RowsArgs {
                        k,
                        a: ap,
                        rsa,
                        csa,
                        b: bp,
                        rsb,
                        c: cp,
                        rsc,
                        csc,
                        nb: n,
                        alpha,
                        beta,
                    },
                )
            };
        }
        Skinny::Dots { pack, .. } => {
            if pack {
                // A is m × k with short m: copy it into contiguous rows.
                if bufs.a.len() < m * k {
                    bufs.a.resize(m * k, T::ZERO);
                }
                for (i, row) in bufs.a[..m * k].chunks_exact_mut(k).enumerate() {
                    for (p, v) in row.iter_mut().enumerate() {
                        *v = a[[i, p]];
                    }
                }
                ap = bufs.a.as_ptr();
                rsa = k as isize;
                csa = 1;
            }
            debug_assert!(csa == 1 && (rsb == 1 || k == 1));
            let _ = csa;
            // SAFETY: A is m × k with contiguous rows, B is k × n with contiguous columns,
            // C is m × n, all at these pointers and strides.
            unsafe {
                dots_all(
                    kernels,
                    m,
                    n,
                    &DotsArgs {
                        k,
                        a: ap,
                        rsa,
                        b: bp,
                        csb,
                        c: cp,
                        rsc,
                        csc,
                        alpha,
                        beta,
                    },
                )
            };
        }
    }
}

/// Arguments of [`rows_block`]: pointers at the block's top-left corner.
#[derive(Clone, Copy)]
pub(super) struct RowsArgs<T> {
    pub(super) k: usize,
    pub(super) a: *const T,
    pub(super) rsa: isize,
    pub(super) csa: isize,
    /// Row `p` of the B block is `b[p*rsb .. p*rsb + nb]` (contiguous).
    pub(super) b: *const T,
    pub(super) rsb: isize,
    pub(super) c: *mut T,
    pub(super) rsc: isize,
    pub(super) csc: isize,
    pub(super) nb: usize,
    pub(super) alpha: T,
    pub(super) beta: T,
}

/// An `MB × nb` block of C (`nb ≤ SK_NB`): `c[i, j] = alpha Σ_p a[i, p] b[p, j] (+ beta c)`,
/// summed over `p` in order.
///
/// # Safety
/// The pointers in `args` must cover the `MB × k` A block, the `k × nb` B block and the
/// `MB × nb` C block.
#[inline(always)]
unsafe fn rows_block<T: GemmScalar, R: MulAddRule<T>, const MB: usize>(args: &RowsArgs<T>) {
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
    let mut acc = [[T::ZERO; SK_NB]; MB];
    // SAFETY: every offset stays inside the blocks (caller contract).
    unsafe {
        if nb == SK_NB {
            for p in 0..k {
                let brow = &*(b.offset(p as isize * rsb) as *const [T; SK_NB]);
                for (i, acc_i) in acc.iter_mut().enumerate() {
                    let av = *a.offset(i as isize * rsa + p as isize * csa);
                    for (x, &bv) in acc_i.iter_mut().zip(brow) {
                        *x = R::madd(av, bv, *x);
                    }
                }
            }
        } else {
            for p in 0..k {
                let brow = std::slice::from_raw_parts(b.offset(p as isize * rsb), nb);
                for (i, acc_i) in acc.iter_mut().enumerate() {
                    let av = *a.offset(i as isize * rsa + p as isize * csa);
                    for (x, &bv) in acc_i.iter_mut().zip(brow) {
                        *x = R::madd(av, bv, *x);
                    }
                }
            }
        }
        for (i, acc_i) in acc.iter().enumerate() {
            let row = c.offset(i as isize * rsc);
            for (j, &v) in acc_i.iter().enumerate().take(nb) {
                store_one(row.offset(j as isize * csc), v, alpha, beta);
            }
        }
    }
}

/// Arguments of [`dots_block`]: pointers at the block's first element.
#[derive(Clone, Copy)]
pub(super) struct DotsArgs<T> {
    pub(super) k: usize,
    /// Row `i` of the A block is `a[i*rsa .. i*rsa + k]` (contiguous).
    pub(super) a: *const T,
    pub(super) rsa: isize,
    /// Column `j` of the B block is `b[j*csb .. j*csb + k]` (contiguous).
    pub(super) b: *const T,
    pub(super) csb: isize,
    pub(super) c: *mut T,
    pub(super) rsc: isize,
    pub(super) csc: isize,
    pub(super) alpha: T,
    pub(super) beta: T,
}

/// The block of at most `SK_NB` columns of C at `(i0, j0)` of a rows-kernel product.
#[inline(always)]
pub(super) fn rows_sub<T: Copy>(args: &RowsArgs<T>, i0: usize, j0: usize) -> RowsArgs<T> {
    RowsArgs {
        a: args.a.wrapping_offset(i0 as isize * args.rsa),
        b: args.b.wrapping_add(j0),
        c: args
            .c
            .wrapping_offset(i0 as isize * args.rsc + j0 as isize * args.csc),
        nb: SK_NB.min(args.nb - j0),
        ..*args
    }
}

/// How the skinny kernels form `acc + a·b`: rounded twice (`Unfused`, the `f64` kernels) or
/// once (`Fused`, the `f32` kernels, as the AVX2 ones do).
trait MulAddRule<T> {
    /// True when the dot kernel runs its last `k % 8` values in the 8 partial sums (as the
    /// AVX2 kernel's masked loads do) rather than after the reduction.
    const TAIL_IN_LANES: bool;
    /// `acc + a * b` under this rule.
    fn madd(a: T, b: T, acc: T) -> T;
}

/// `acc + a * b` with two roundings.
struct Unfused;

impl<T: GemmScalar> MulAddRule<T> for Unfused {
    const TAIL_IN_LANES: bool = false;
    #[inline(always)]
    fn madd(a: T, b: T, acc: T) -> T {
        acc + a * b
    }
}

/// `a * b + acc` with one rounding (`f32::mul_add`: one instruction on aarch64 and on
/// x86-64 with FMA; a library call on x86-64 code compiled without it).
struct Fused;

impl MulAddRule<f32> for Fused {
    const TAIL_IN_LANES: bool = true;
    #[inline(always)]
    fn madd(a: f32, b: f32, acc: f32) -> f32 {
        a.mul_add(b, acc)
    }
}

/// Reads `*p` as `&RowsArgs<f32>` (or another `f32` instance of a generic struct).
///
/// # Safety
/// `T` must be `f32` (checked by the caller with `is_f32`).
#[inline(always)]
unsafe fn as_f32<S, T>(p: &S) -> &T {
    // SAFETY: caller contract: the two types are the same struct over the same element type.
    unsafe { &*(p as *const S as *const T) }
}

/// The whole `m × args.nb` product: for `f32` the AVX2 kernel when available, else its
/// portable twin; for `f64` [`rows_block`] block by block.
///
/// # Safety
/// `args` must describe an `m × k` A, a `k × nb` B with contiguous rows and an `m × nb` C.
unsafe fn rows_all<T: GemmScalar>(kernels: Kernels, m: usize, args: &RowsArgs<T>) {
    if super::is_f32::<T>() {
        // SAFETY: T is f32, so the cast is the identity.
        let args = unsafe { as_f32::<RowsArgs<T>, RowsArgs<f32>>(args) };
        #[cfg(target_arch = "x86_64")]
        if kernels.avx2() {
            // SAFETY: AVX2+FMA checked by `avx2`; caller contract.
            unsafe { super::x86::rows_f32(m, args) };
            return;
        }
        // SAFETY: caller contract.
        unsafe { rows_f32_portable(m, args) };
        return;
    }
    let _ = kernels;
    // SAFETY: caller contract.
    unsafe { rows_blocks::<T, Unfused>(m, args) };
}

/// The portable twin of `x86::rows_f32`: the short-k kernel for `k ≤ 8` and contiguous C
/// rows, else fused blocks of `SK_MB × SK_NB`.
///
/// # Safety
/// As [`rows_all`].
unsafe fn rows_f32_portable(m: usize, args: &RowsArgs<f32>) {
    if args.k <= 8 && args.csc == 1 {
        // SAFETY: caller contract; k ≤ 8 and contiguous C rows checked.
        unsafe { short_k_portable(m, args) };
    } else {
        // SAFETY: caller contract.
        unsafe { rows_blocks::<f32, Fused>(m, args) };
    }
}

/// The rows product for `k ≤ 8`, element by element as `x86::short_k_f32` computes it:
/// `a0·b0` (rounded), then one fused multiply-add per further `p`, in order.
///
/// # Safety
/// As [`rows_all`], with `args.k ≤ 8` and `args.csc == 1`.
unsafe fn short_k_portable(m: usize, args: &RowsArgs<f32>) {
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
    // SAFETY: reads stay inside A's m rows of k values and B's k rows of n values; writes
    // inside C's m rows of n values (caller contract).
    unsafe {
        let mut ak = [0f32; 8];
        for i in 0..m {
            let arow = a.offset(i as isize * rsa);
            for (p, x) in ak.iter_mut().enumerate().take(k) {
                *x = *arow.offset(p as isize * csa);
            }
            let crow = c.offset(i as isize * rsc);
            for j in 0..n {
                let mut x = ak[0] * *b.add(j);
                for (p, &ap) in ak.iter().enumerate().take(k).skip(1) {
                    x = ap.mul_add(*b.offset(p as isize * rsb).add(j), x);
                }
                store_one(crow.add(j), x, alpha, beta);
            }
        }
    }
}

/// The whole `m × args.nb` product with [`rows_block`] under rule `R`, block by block.
///
/// # Safety
/// As [`rows_all`].
unsafe fn rows_blocks<T: GemmScalar, R: MulAddRule<T>>(m: usize, args: &RowsArgs<T>) {
    let mut i0 = 0;
    while i0 < m {
        let mb = SK_MB.min(m - i0);
        let mut j0 = 0;
        while j0 < args.nb {
            let blk = rows_sub(args, i0, j0);
            // SAFETY: the block lies inside the product (caller contract).
            unsafe {
                match mb {
                    4 => rows_block::<T, R, 4>(&blk),
                    3 => rows_block::<T, R, 3>(&blk),
                    2 => rows_block::<T, R, 2>(&blk),
                    _ => rows_block::<T, R, 1>(&blk),
                }
            }
            j0 += SK_NB;
        }
        i0 += mb;
    }
}

/// The block of the dot kernel whose first entry is C's `(i0, j)`.
#[inline(always)]
pub(super) fn dots_sub<T: Copy>(args: &DotsArgs<T>, i0: usize, j: usize) -> DotsArgs<T> {
    DotsArgs {
        a: args.a.wrapping_offset(i0 as isize * args.rsa),
        b: args.b.wrapping_offset(j as isize * args.csb),
        c: args
            .c
            .wrapping_offset(i0 as isize * args.rsc + j as isize * args.csc),
        ..*args
    }
}

/// The whole `m × n` product with [`dots_block`]: for `f32` the AVX2 kernel when available,
/// else the fused portable blocks (the same operations); for `f64` the unfused ones.
///
/// # Safety
/// `args` must describe an `m × k` A with contiguous rows, a `k × n` B with contiguous
/// columns and an `m × n` C.
unsafe fn dots_all<T: GemmScalar>(kernels: Kernels, m: usize, n: usize, args: &DotsArgs<T>) {
    if super::is_f32::<T>() {
        // SAFETY: T is f32, so the cast is the identity.
        let args = unsafe { as_f32::<DotsArgs<T>, DotsArgs<f32>>(args) };
        #[cfg(target_arch = "x86_64")]
        if kernels.avx2() {
            // SAFETY: AVX2+FMA checked by `avx2`; caller contract.
            unsafe { super::x86::dots_f32(m, n, args) };
            return;
        }
        // SAFETY: caller contract.
        unsafe { dots_blocks::<f32, Fused>(m, n, args) };
        return;
    }
    let _ = kernels;
    // SAFETY: caller contract.
    unsafe { dots_blocks::<T, Unfused>(m, n, args) };
}

/// The whole `m × n` product with [`dots_block`] under rule `R`, column by column.
///
/// # Safety
/// As [`dots_all`].
unsafe fn dots_blocks<T: GemmScalar, R: MulAddRule<T>>(m: usize, n: usize, args: &DotsArgs<T>) {
    for j in 0..n {
        let mut i0 = 0;
        while i0 < m {
            let mb = SK_MB.min(m - i0);
            let blk = dots_sub(args, i0, j);
            // SAFETY: the block lies inside the product (caller contract).
            unsafe {
                match mb {
                    4 => dots_block::<T, R, 4>(&blk),
                    3 => dots_block::<T, R, 3>(&blk),
                    2 => dots_block::<T, R, 2>(&blk),
                    _ => dots_block::<T, R, 1>(&blk),
                }
            }
            i0 += mb;
        }
    }
}

/// `MB` entries of one column of C: `c[i] = alpha · dot(a_i, b) (+ beta c[i])`, each dot
/// product as `SK_L` interleaved partial sums, reduced pairwise (lane `l` + lane `l + 4`,
/// then `+2`, then `+1`: the AVX2 kernel's horizontal sum). The last `k % SK_L` values go
/// into the lanes before the reduction when `R::TAIL_IN_LANES` (lanes past k take `0·0`, as
/// the AVX2 kernel's masked loads do), else are added in order after it.
///
/// # Safety
/// The pointers in `args` must cover `MB` rows of `k` values of A, `k` values of B and the
/// `MB` C entries.
#[inline(always)]
unsafe fn dots_block<T: GemmScalar, R: MulAddRule<T>, const MB: usize>(args: &DotsArgs<T>) {
    let &DotsArgs {
        k,
        a,
        rsa,
        b,
        c,
        rsc,
        alpha,
        beta,
        ..
    } = args;
    let mut acc = [[T::ZERO; SK_L]; MB];
    let full = k - k % SK_L;
    // SAFETY: every offset stays inside the blocks (caller contract).
    unsafe {
        let mut p = 0;
        while p < full {
            let bv = &*(b.add(p) as *const [T; SK_L]);
            for (i, acc_i) in acc.iter_mut().enumerate() {
                let av = &*(a.offset(i as isize * rsa).add(p) as *const [T; SK_L]);
                for l in 0..SK_L {
                    acc_i[l] = R::madd(av[l], bv[l], acc_i[l]);
                }
            }
            p += SK_L;
        }
        if R::TAIL_IN_LANES && full < k {
            let mut bv = [T::ZERO; SK_L];
            for (l, x) in bv.iter_mut().enumerate().take(k - full) {
                *x = *b.add(full + l);
            }
            for (i, acc_i) in acc.iter_mut().enumerate() {
                let ai = a.offset(i as isize * rsa);
                for l in 0..SK_L {
                    let av = if full + l < k {
                        *ai.add(full + l)
                    } else {
                        T::ZERO
                    };
                    acc_i[l] = R::madd(av, bv[l], acc_i[l]);
                }
            }
        }
        for (i, acc_i) in acc.iter_mut().enumerate() {
            let mut w = SK_L / 2;
            while w > 0 {
                for l in 0..w {
                    acc_i[l] = acc_i[l] + acc_i[l + w];
                }
                w /= 2;
            }
            let mut s = acc_i[0];
            if !R::TAIL_IN_LANES {
                let ai = a.offset(i as isize * rsa);
                for q in full..k {
                    s = R::madd(*ai.add(q), *b.add(q), s);
                }
            }
            store_one(c.offset(i as isize * rsc), s, alpha, beta);
        }
    }
}
