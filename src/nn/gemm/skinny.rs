//! Skinny products: a side (`m`, `n` or `k`) of at most 8, where packing costs more than it
//! saves. Portable kernels here; the AVX2 ones for `f32` are in `x86`.

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
unsafe fn rows_block<T: GemmScalar, const MB: usize>(args: &RowsArgs<T>) {
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
                        *x = *x + av * bv;
                    }
                }
            }
        } else {
            for p in 0..k {
                let brow = std::slice::from_raw_parts(b.offset(p as isize * rsb), nb);
                for (i, acc_i) in acc.iter_mut().enumerate() {
                    let av = *a.offset(i as isize * rsa + p as isize * csa);
                    for (x, &bv) in acc_i.iter_mut().zip(brow) {
                        *x = *x + av * bv;
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

/// The whole `m × args.nb` product with [`rows_block`], block by block (the AVX2 kernel for
/// `f32` when available).
///
/// # Safety
/// `args` must describe an `m × k` A, a `k × nb` B with contiguous rows and an `m × nb` C.
unsafe fn rows_all<T: GemmScalar>(kernels: Kernels, m: usize, args: &RowsArgs<T>) {
    #[cfg(target_arch = "x86_64")]
    if super::is_f32::<T>() && kernels.avx2() {
        // SAFETY: T is f32 (so the cast is the identity); AVX2+FMA checked by `avx2`; caller contract.
        unsafe { super::x86::rows_f32(m, &*(args as *const RowsArgs<T> as *const RowsArgs<f32>)) };
        return;
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = kernels;
    let mut i0 = 0;
    while i0 < m {
        let mb = SK_MB.min(m - i0);
        let mut j0 = 0;
        while j0 < args.nb {
            let blk = rows_sub(args, i0, j0);
            // SAFETY: the block lies inside the product (caller contract).
            unsafe {
                match mb {
                    4 => rows_block::<T, 4>(&blk),
                    3 => rows_block::<T, 3>(&blk),
                    2 => rows_block::<T, 2>(&blk),
                    _ => rows_block::<T, 1>(&blk),
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

/// The whole `m × n` product with [`dots_block`] (the AVX2 kernel for `f32` when available).
///
/// # Safety
/// `args` must describe an `m × k` A with contiguous rows, a `k × n` B with contiguous
/// columns and an `m × n` C.
unsafe fn dots_all<T: GemmScalar>(kernels: Kernels, m: usize, n: usize, args: &DotsArgs<T>) {
    #[cfg(target_arch = "x86_64")]
    if super::is_f32::<T>() && kernels.avx2() {
        // SAFETY: T is f32 (so the cast is the identity); AVX2+FMA checked by `avx2`; caller contract.
        unsafe {
            super::x86::dots_f32(m, n, &*(args as *const DotsArgs<T> as *const DotsArgs<f32>))
        };
        return;
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = kernels;
    for j in 0..n {
        let mut i0 = 0;
        while i0 < m {
            let mb = SK_MB.min(m - i0);
            let blk = dots_sub(args, i0, j);
            // SAFETY: the block lies inside the product (caller contract).
            unsafe {
                match mb {
                    4 => dots_block::<T, 4>(&blk),
                    3 => dots_block::<T, 3>(&blk),
                    2 => dots_block::<T, 2>(&blk),
                    _ => dots_block::<T, 1>(&blk),
                }
            }
            i0 += mb;
        }
    }
}

/// `MB` entries of one column of C: `c[i] = alpha · dot(a_i, b) (+ beta c[i])`, each dot
/// product as `SK_L` interleaved partial sums reduced pairwise, then the tail in order.
///
/// # Safety
/// The pointers in `args` must cover `MB` rows of `k` values of A, `k` values of B and the
/// `MB` C entries.
#[inline(always)]
unsafe fn dots_block<T: GemmScalar, const MB: usize>(args: &DotsArgs<T>) {
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
                    acc_i[l] = acc_i[l] + av[l] * bv[l];
                }
            }
            p += SK_L;
        }
        for (i, acc_i) in acc.iter_mut().enumerate() {
            let mut w = SK_L / 2;
            while w > 0 {
                for l in 0..w {
                    acc_i[l] = acc_i[l] + acc_i[l + w];
                }
                w /= 2;
            }
            let ai = a.offset(i as isize * rsa);
            let mut s = acc_i[0];
            for q in full..k {
                s = s + *ai.add(q) * *b.add(q);
            }
            store_one(c.offset(i as isize * rsc), s, alpha, beta);
        }
    }
}
