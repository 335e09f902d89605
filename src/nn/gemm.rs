//! Allocation-free general matrix product: `c = alpha * a · b + beta * c`.
//!
//! BLIS-style blocking: B is packed into `KC × NC` blocks of `NR`-wide column panels, A into
//! `MC × KC` blocks of `MR`-tall row panels, both into a caller-owned [`GemmScratch`]; a
//! register-blocked `MR × NR` microkernel does the arithmetic. For `f32` (6×16) and `f64`
//! (6×8) on x86_64 with AVX2+FMA the microkernel uses `core::arch` intrinsics (detected at run
//! time, cached); elsewhere a portable kernel over fixed-size arrays is used.
//!
//! Determinism: every element of C is accumulated over k in the same order (k blocks of `KC`,
//! then sequentially inside a block) whatever its tile position and whatever the thread count;
//! threads only split C into column (or row) blocks, never k. So results are bit-identical for
//! every `threads` value on a given machine.

use std::fmt::Debug;
use std::ops::{Add, Mul};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{ArrayView2, ArrayViewMut2, Axis, Slice};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Signature of a microkernel: computes an `MR × NR` tile over `kc` packed steps and writes the
/// top-left `mr × nr` part of it into C (see [`GemmScalar::microkernel`]).
///
/// Arguments: `(kc, alpha, a_panel, b_panel, beta, first, c, rsc, csc, mr, nr)`.
/// When `first` is false the tile is added: `c = c + alpha*acc`; when `first` is true,
/// `c = alpha*acc` if `beta == 0`, else `c = alpha*acc + beta*c`.
pub type MicroKernel<T> =
    unsafe fn(usize, T, *const T, *const T, T, bool, *mut T, isize, isize, usize, usize);

/// Element types the kernel supports (implemented for `f32` and `f64`).
pub trait GemmScalar:
    Copy
    + Send
    + Sync
    + 'static
    + PartialEq
    + Debug
    + Default
    + Add<Output = Self>
    + Mul<Output = Self>
    + sealed::Sealed
{
    /// Additive identity.
    const ZERO: Self;
    /// Rows of the microkernel tile.
    const MR: usize;
    /// Columns of the microkernel tile.
    const NR: usize;
    /// Rows of C per packed A block (a multiple of `MR`).
    const MC: usize;
    /// Depth of a packed block.
    const KC: usize;
    /// Columns of C per packed B block (a multiple of `NR`).
    const NC: usize;
    /// The microkernel for this machine (selected once, cached).
    fn microkernel() -> MicroKernel<Self>;
}

/// Packing areas for one thread.
#[derive(Default, Debug)]
struct PackBufs<T> {
    a: Vec<T>,
    b: Vec<T>,
}

impl<T: GemmScalar> PackBufs<T> {
    /// Grows the buffers to what an `m × k · k × n` product needs (no-op once large enough).
    fn reserve(&mut self, m: usize, n: usize, k: usize) {
        let kc_max = k.div_ceil(k.div_ceil(T::KC).max(1));
        let mc_max = T::MC.min(m).next_multiple_of(T::MR);
        let nc_max = T::NC.min(n).next_multiple_of(T::NR);
        // +PACK_SLACK: the SIMD packers may write a few junk values past a panel's end.
        let need_a = mc_max * kc_max + PACK_SLACK;
        let need_b = nc_max * kc_max;
        if self.a.len() < need_a {
            self.a.resize(need_a, T::ZERO);
        }
        if self.b.len() < need_b {
            self.b.resize(need_b, T::ZERO);
        }
    }
}

/// Caller-owned packing buffers; grows on first use for a shape, then reused: no allocation
/// afterwards.
///
/// One scratch per call site (or per layer) is typical; a scratch may be reused for any shape,
/// it only grows. With `threads > 1` it holds one packing area per part.
#[derive(Debug)]
pub struct GemmScratch<T> {
    parts: Vec<PackBufs<T>>,
}

impl<T> Default for GemmScratch<T> {
    fn default() -> Self {
        GemmScratch { parts: Vec::new() }
    }
}

impl<T: GemmScalar> GemmScratch<T> {
    /// An empty scratch (no memory until the first call).
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes currently held by the packing buffers.
    pub fn capacity_bytes(&self) -> usize {
        self.parts
            .iter()
            .map(|p| (p.a.capacity() + p.b.capacity()) * std::mem::size_of::<T>())
            .sum()
    }
}

/// Below this many multiply-adds (`m*n*k`) a plain loop beats packing.
const SMALL_MNK: usize = 2048;
/// Spare elements at the end of the packed-A buffer (see `x86::pack_a6_rows_f32`).
const PACK_SLACK: usize = 8;
/// Below this many multiply-adds a product runs on the calling thread whatever `threads` says.
const PAR_MIN_MNK: usize = 1 << 19;

/// `c = alpha * a · b + beta * c`, for any strides (`a` or `b` may be transposed views like
/// `w.t()`, or non-contiguous slices).
///
/// `a`: (m, k), `b`: (k, n), `c`: (m, n). `beta == 0` means `c` is overwritten (its old
/// contents, even NaN, are ignored). `threads`: 1 (or 0) runs on the calling thread; 2+ cuts
/// C into whole-tile column (or row) blocks, never k, shared out to `threads` tasks run with
/// `rayon::join`, each with its own packing area in `scratch`. Small products, and skinny ones (a side of at
/// most 8: unpacked row or dot-product kernels), ignore `threads`. The result is bit-identical for every
/// `threads` value.
///
/// Allocation: none once `scratch` has grown for the shape (and thread count). With
/// `threads > 1` that holds when the caller is itself a rayon worker (e.g. the training loop
/// runs inside `ThreadPool::install`), which is also the faster way to call it: the caller runs
/// one share itself instead of sleeping. Called from a non-rayon thread, rayon injects the job
/// into its global queue, which allocates one queue block about every 63 calls.
///
/// # Panics
/// On shape mismatch (programmer error).
pub fn gemm<T: GemmScalar>(
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: ArrayViewMut2<T>,
    scratch: &mut GemmScratch<T>,
    threads: usize,
) {
    let (m, k) = a.dim();
    let (kb, n) = b.dim();
    let (cm, cn) = c.dim();
    assert!(
        k == kb && m == cm && n == cn,
        "gemm: shape mismatch: a is {m}x{k}, b is {kb}x{n}, c is {cm}x{cn} \
         (need a: m×k, b: k×n, c: m×n)"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        scale_c(beta, c);
        return;
    }
    let mnk = m.saturating_mul(n).saturating_mul(k);
    if mnk <= SMALL_MNK {
        gemm_small(alpha, &a, &b, beta, c);
        return;
    }
    let plan = skinny_plan(
        m,
        n,
        k,
        (a.strides()[0], a.strides()[1]),
        (b.strides()[0], b.strides()[1]),
        (c.strides()[0], c.strides()[1]),
    );
    if let Some(plan) = plan {
        if scratch.parts.is_empty() {
            scratch.parts.push(PackBufs::default());
        }
        gemm_skinny(plan, alpha, a, b, beta, c, &mut scratch.parts[0]);
        return;
    }
    let kernel = T::microkernel();
    let threads = threads.max(1);
    // Split along the wider side of C, in whole tiles.
    let by_cols = n >= m;
    let (len, unit) = if by_cols { (n, T::NR) } else { (m, T::MR) };
    let parts = if threads > 1 && mnk >= PAR_MIN_MNK {
        threads.min(len.div_ceil(unit))
    } else {
        1
    };
    if scratch.parts.len() < parts {
        scratch.parts.resize_with(parts, PackBufs::default);
    }
    let bufs = &mut scratch.parts[..parts];
    if parts == 1 {
        gemm_serial(alpha, &a, &b, beta, c, &mut bufs[0], kernel);
    } else {
        gemm_threaded(alpha, a, b, beta, c, bufs, kernel, by_cols, unit, len);
    }
}

/// Most column (or row) blocks a threaded product is cut into.
const MAX_BLOCKS: usize = 32;

/// Blocks per thread in a threaded product (more balances load, but each block re-packs the
/// operand that is not split).
const BLOCKS_PER_THREAD: usize = 2;

/// Threaded product: C is cut into whole-tile blocks along `by_cols ? columns : rows`; one task
/// per packing area (run with `rayon::join`) takes blocks from a shared counter until none is
/// left, so a thread slowed by other load does less of the work. Each element is still computed
/// by exactly the same operations as on one thread.
#[allow(clippy::too_many_arguments)]
fn gemm_threaded<T: GemmScalar>(
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: ArrayViewMut2<T>,
    bufs: &mut [PackBufs<T>],
    kernel: MicroKernel<T>,
    by_cols: bool,
    unit: usize,
    len: usize,
) {
    let tiles = len.div_ceil(unit);
    let nblk = (bufs.len() * BLOCKS_PER_THREAD).min(tiles).min(MAX_BLOCKS);
    let axis = if by_cols { Axis(1) } else { Axis(0) };
    let bound = |i: usize| ((i * tiles / nblk) * unit).min(len);
    let slots: [Mutex<Option<ArrayViewMut2<T>>>; MAX_BLOCKS] =
        std::array::from_fn(|_| Mutex::new(None));
    let mut rest = c;
    for (i, slot) in slots.iter().enumerate().take(nblk) {
        let (head, tail) = rest.split_at(axis, bound(i + 1) - bound(i));
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(head);
        rest = tail;
    }
    // Any task may take any block: size every packing area for the widest block up front, so
    // that no allocation happens later whatever the schedule.
    let widest = (0..nblk)
        .map(|i| bound(i + 1) - bound(i))
        .max()
        .unwrap_or(0);
    let (m, k) = a.dim();
    let n = b.ncols();
    for buf in bufs.iter_mut() {
        if by_cols {
            buf.reserve(m, widest, k);
        } else {
            buf.reserve(widest, n, k);
        }
    }
    let next = AtomicUsize::new(0);
    let work = |buf: &mut PackBufs<T>| {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= nblk {
                break;
            }
            let Some(cv) = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take() else {
                continue;
            };
            let r = Slice::from(bound(i)..bound(i + 1));
            if by_cols {
                gemm_serial(alpha, &a, &b.slice_axis(Axis(1), r), beta, cv, buf, kernel);
            } else {
                gemm_serial(alpha, &a.slice_axis(Axis(0), r), &b, beta, cv, buf, kernel);
            }
        }
    };
    run_tasks(bufs, &work);
}

/// Runs `work` once per packing area, in parallel, with nested `rayon::join`.
fn run_tasks<T: Send, F: Fn(&mut PackBufs<T>) + Sync>(bufs: &mut [PackBufs<T>], work: &F) {
    match bufs {
        [] => {}
        [one] => work(one),
        _ => {
            let (l, r) = bufs.split_at_mut(bufs.len() / 2);
            rayon::join(|| run_tasks(l, work), || run_tasks(r, work));
        }
    }
}

/// `c = beta * c` (`beta == 0` writes zeros, ignoring NaN in `c`).
fn scale_c<T: GemmScalar>(beta: T, mut c: ArrayViewMut2<T>) {
    if beta == T::ZERO {
        c.fill(T::ZERO);
    } else {
        c.map_inplace(|x| *x = beta * *x);
    }
}

/// Plain triple loop for tiny products; same update rule as the packed path.
fn gemm_small<T: GemmScalar>(
    alpha: T,
    a: &ArrayView2<T>,
    b: &ArrayView2<T>,
    beta: T,
    mut c: ArrayViewMut2<T>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::ZERO;
            for p in 0..k {
                acc = acc + a[[i, p]] * b[[p, j]];
            }
            let t = alpha * acc;
            let cij = &mut c[[i, j]];
            *cij = if beta == T::ZERO { t } else { t + beta * *cij };
        }
    }
}

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
enum Skinny {
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
#[allow(clippy::too_many_arguments)]
fn skinny_plan(
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
fn gemm_skinny<T: GemmScalar>(
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
    let (a, b, c) = if transpose {
        (b.reversed_axes(), a.reversed_axes(), c.reversed_axes())
    } else {
        (a, b, c)
    };
    skinny_run(plan, alpha, a, b, beta, c, bufs);
}

/// The skinny product on already oriented operands.
fn skinny_run<T: GemmScalar>(
    plan: Skinny,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    mut c: ArrayViewMut2<T>,
    bufs: &mut PackBufs<T>,
) {
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

/// Writes `alpha * acc` into `*c` with the update rule of [`gemm`] (`beta == 0`: overwrite).
///
/// # Safety
/// `c` must be valid for reads and writes.
#[inline(always)]
unsafe fn store_one<T: GemmScalar>(c: *mut T, acc: T, alpha: T, beta: T) {
    let t = alpha * acc;
    // SAFETY: caller contract.
    unsafe { *c = if beta == T::ZERO { t } else { t + beta * *c } };
}

/// Arguments of [`rows_block`]: pointers at the block's top-left corner.
#[derive(Clone, Copy)]
struct RowsArgs<T> {
    k: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    /// Row `p` of the B block is `b[p*rsb .. p*rsb + nb]` (contiguous).
    b: *const T,
    rsb: isize,
    c: *mut T,
    rsc: isize,
    csc: isize,
    nb: usize,
    alpha: T,
    beta: T,
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
struct DotsArgs<T> {
    k: usize,
    /// Row `i` of the A block is `a[i*rsa .. i*rsa + k]` (contiguous).
    a: *const T,
    rsa: isize,
    /// Column `j` of the B block is `b[j*csb .. j*csb + k]` (contiguous).
    b: *const T,
    csb: isize,
    c: *mut T,
    rsc: isize,
    csc: isize,
    alpha: T,
    beta: T,
}

/// The block of at most `SK_NB` columns of C at `(i0, j0)` of a rows-kernel product.
#[inline(always)]
fn rows_sub<T: Copy>(args: &RowsArgs<T>, i0: usize, j0: usize) -> RowsArgs<T> {
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
unsafe fn rows_all<T: GemmScalar>(m: usize, args: &RowsArgs<T>) {
    #[cfg(target_arch = "x86_64")]
    if is_f32::<T>() && x86::has_avx2_fma() {
        // SAFETY: T is f32 (so the cast is the identity); AVX2+FMA checked; caller contract.
        unsafe { x86::rows_f32(m, &*(args as *const RowsArgs<T> as *const RowsArgs<f32>)) };
        return;
    }
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
fn dots_sub<T: Copy>(args: &DotsArgs<T>, i0: usize, j: usize) -> DotsArgs<T> {
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
unsafe fn dots_all<T: GemmScalar>(m: usize, n: usize, args: &DotsArgs<T>) {
    #[cfg(target_arch = "x86_64")]
    if is_f32::<T>() && x86::has_avx2_fma() {
        // SAFETY: T is f32 (so the cast is the identity); AVX2+FMA checked; caller contract.
        unsafe { x86::dots_f32(m, n, &*(args as *const DotsArgs<T> as *const DotsArgs<f32>)) };
        return;
    }
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

/// The blocked product on the calling thread.
fn gemm_serial<T: GemmScalar>(
    alpha: T,
    a: &ArrayView2<T>,
    b: &ArrayView2<T>,
    beta: T,
    mut c: ArrayViewMut2<T>,
    bufs: &mut PackBufs<T>,
    kernel: MicroKernel<T>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (mr, nr) = (T::MR, T::NR);
    // Even k blocks (784 -> 4 x 196 rather than 3 x 256 + 16); depends on k only.
    let kc_blk = k.div_ceil(k.div_ceil(T::KC));
    bufs.reserve(m, n, k);
    let (rsa, csa) = (a.strides()[0], a.strides()[1]);
    let (rsb, csb) = (b.strides()[0], b.strides()[1]);
    let (rsc, csc) = (c.strides()[0], c.strides()[1]);
    let ap = a.as_ptr();
    let bp = b.as_ptr();
    let cp = c.as_mut_ptr();
    let pa = bufs.a.as_mut_ptr();
    let pb = bufs.b.as_mut_ptr();

    let mut jc = 0;
    while jc < n {
        let nc = T::NC.min(n - jc);
        let mut pc = 0;
        while pc < k {
            let kc = kc_blk.min(k - pc);
            let first = pc == 0;
            // SAFETY: (pc, jc) is inside b and the kc×nc block fits; `pb` holds
            // at least `nc.next_multiple_of(nr) * kc` elements (`PackBufs::reserve`).
            unsafe {
                pack_panels::<T>(
                    pb,
                    bp.offset(pc as isize * rsb + jc as isize * csb),
                    csb,
                    rsb,
                    nc,
                    kc,
                    T::NR,
                    #[cfg(target_arch = "x86_64")]
                    (T::NR == 16).then_some(x86::pack_b16_cols_f32 as PanelPacker),
                )
            };
            let mut ic = 0;
            while ic < m {
                let mc = T::MC.min(m - ic);
                // SAFETY: (ic, pc) is inside a; `pa` holds
                // at least `mc.next_multiple_of(mr) * kc + PACK_SLACK` elements (`PackBufs::reserve`).
                unsafe {
                    pack_panels::<T>(
                        pa,
                        ap.offset(ic as isize * rsa + pc as isize * csa),
                        rsa,
                        csa,
                        mc,
                        kc,
                        T::MR,
                        #[cfg(target_arch = "x86_64")]
                        (T::MR == 6).then_some(x86::pack_a6_rows_f32 as PanelPacker),
                    )
                };
                let mut jr = 0;
                while jr < nc {
                    let nr_eff = nr.min(nc - jr);
                    let mut ir = 0;
                    while ir < mc {
                        let mr_eff = mr.min(mc - ir);
                        // SAFETY: the packed panels hold kc*mr and kc*nr elements at these
                        // offsets; the C tile (ic+ir.., jc+jr..) of size mr_eff×nr_eff lies
                        // inside c, which we borrow mutably.
                        unsafe {
                            kernel(
                                kc,
                                alpha,
                                pa.add(ir * kc),
                                pb.add(jr * kc),
                                beta,
                                first,
                                cp.offset((ic + ir) as isize * rsc + (jc + jr) as isize * csc),
                                rsc,
                                csc,
                                mr_eff,
                                nr_eff,
                            )
                        };
                        ir += mr;
                    }
                    jr += nr;
                }
                ic += mc;
            }
            pc += kc;
        }
        jc += nc;
    }
}

/// An AVX2 packer of one full panel: `(dst, src, lane stride, kc)`.
#[cfg(target_arch = "x86_64")]
type PanelPacker = unsafe fn(*mut f32, *const f32, isize, usize);

/// Packs `len` lanes × `kc` steps of an operand into panels of `width` lanes: panel `r`
/// holds, for each step `p`, the `width` values `src[(r*width + i)·lane + p·step]` (zero
/// past `len`). A is packed with lanes = rows (`width = MR`, lane = rsa, step = csa), B with
/// lanes = columns (`width = NR`, lane = csb, step = rsb): one routine for both operands.
///
/// # Safety
/// `src` must be valid for the whole block and `dst` for `len.next_multiple_of(width) * kc`
/// writes (plus `PACK_SLACK` when the AVX2 row packer is used).
#[allow(clippy::too_many_arguments)] // internal; the two call sites name every argument
unsafe fn pack_panels<T: GemmScalar>(
    dst: *mut T,
    src: *const T,
    lane: isize,
    step: isize,
    len: usize,
    kc: usize,
    width: usize,
    #[cfg(target_arch = "x86_64")] simd: Option<PanelPacker>,
) {
    let mut r = 0;
    while r < len {
        let lanes = width.min(len - r);
        // SAFETY: all reads are inside the block, all writes inside the panel
        // `[r*kc, (r+width)*kc)` of `dst` (caller contract).
        unsafe {
            let panel = dst.add(r * kc);
            let base = src.offset(r as isize * lane);
            #[cfg(target_arch = "x86_64")]
            if let Some(pack) = simd
                && is_f32::<T>()
                && step == 1
                && lanes == width
                && x86::has_avx2_fma()
            {
                pack(panel as *mut f32, base as *const f32, lane, kc);
                r += width;
                continue;
            }
            if lane == 1 && lanes == width {
                for p in 0..kc {
                    std::ptr::copy_nonoverlapping(
                        base.offset(p as isize * step),
                        panel.add(p * width),
                        width,
                    );
                }
            } else if lane.unsigned_abs() <= step.unsigned_abs() {
                // Lanes are the short stride: read `width` values per step.
                for p in 0..kc {
                    let from = base.offset(p as isize * step);
                    let out = panel.add(p * width);
                    for i in 0..lanes {
                        *out.add(i) = *from.offset(i as isize * lane);
                    }
                    for i in lanes..width {
                        *out.add(i) = T::ZERO;
                    }
                }
            } else {
                for i in 0..lanes {
                    let from = base.offset(i as isize * lane);
                    let out = panel.add(i);
                    for p in 0..kc {
                        *out.add(p * width) = *from.offset(p as isize * step);
                    }
                }
                for i in lanes..width {
                    for p in 0..kc {
                        *panel.add(p * width + i) = T::ZERO;
                    }
                }
            }
        }
        r += width;
    }
}

/// True when `T` is `f32` (folded at compile time).
#[inline(always)]
fn is_f32<T: 'static>() -> bool {
    std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
}

/// Writes an accumulator tile (row-major, `NR` per row) into C with the update rule of
/// [`MicroKernel`]. Scalar; used for edge tiles and non-unit column strides.
///
/// # Safety
/// The `mr × nr` tile at `c` (strides `rsc`, `csc`) must be valid for reads and writes.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn store_tile<T: GemmScalar, const NR: usize>(
    acc: &[T],
    alpha: T,
    beta: T,
    first: bool,
    c: *mut T,
    rsc: isize,
    csc: isize,
    mr: usize,
    nr: usize,
) {
    for i in 0..mr {
        for j in 0..nr {
            let t = alpha * acc[i * NR + j];
            // SAFETY: (i, j) is inside the tile (caller contract).
            unsafe {
                let cij = c.offset(i as isize * rsc + j as isize * csc);
                *cij = if !first {
                    *cij + t
                } else if beta == T::ZERO {
                    t
                } else {
                    t + beta * *cij
                };
            }
        }
    }
}

/// Portable microkernel over fixed-size arrays (autovectorized).
///
/// # Safety
/// See [`MicroKernel`]: `a` holds `kc*MR`, `b` holds `kc*NR` values; the C tile is valid.
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_portable<T: GemmScalar, const MR: usize, const NR: usize>(
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
    let mut acc = [[T::ZERO; NR]; MR];
    for p in 0..kc {
        // SAFETY: p < kc, so the panels hold these MR and NR values.
        let (av, bv) = unsafe {
            (
                &*(a.add(p * MR) as *const [T; MR]),
                &*(b.add(p * NR) as *const [T; NR]),
            )
        };
        for i in 0..MR {
            for j in 0..NR {
                acc[i][j] = acc[i][j] + av[i] * bv[j];
            }
        }
    }
    let flat = acc.as_flattened();
    // SAFETY: forwarded caller contract.
    unsafe { store_tile::<T, NR>(flat, alpha, beta, first, c, rsc, csc, mr, nr) };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{DotsArgs, RowsArgs, dots_sub, rows_sub, store_one, store_tile};
    use core::arch::x86_64::*;
    use std::sync::atomic::{AtomicU8, Ordering};

    static HAS_AVX2_FMA: AtomicU8 = AtomicU8::new(0);

    /// Cached run-time check for AVX2 and FMA.
    pub(super) fn has_avx2_fma() -> bool {
        match HAS_AVX2_FMA.load(Ordering::Relaxed) {
            1 => false,
            2 => true,
            _ => {
                let yes = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
                HAS_AVX2_FMA.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
                yes
            }
        }
    }

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
    /// `dst[p*6 + i] = a[i*rsa + p]`. Uses 8×8 transposes; each store writes 8 floats, so up
    /// to 2 junk floats land past `dst[kc*6]` (the buffer has `PACK_SLACK` spare elements, and
    /// the next panel is packed afterwards).
    ///
    /// # Safety
    /// CPU must support AVX2; `a` valid for 6 rows of `kc` floats; `dst` for `kc*6 + 2` writes.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn pack_a6_rows_f32(dst: *mut f32, a: *const f32, rsa: isize, kc: usize) {
        // SAFETY: reads are a[i*rsa + p] for i < 6, p < kc; writes are below dst + kc*6 + 2.
        unsafe {
            let mut p = 0;
            let zero = _mm256_setzero_ps();
            while p + 8 <= kc {
                let mut r = [zero; 8];
                for (i, ri) in r.iter_mut().enumerate().take(6) {
                    *ri = _mm256_loadu_ps(a.offset(i as isize * rsa).add(p));
                }
                let o = transpose8(r);
                for (q, oq) in o.iter().enumerate() {
                    _mm256_storeu_ps(dst.add((p + q) * 6), *oq);
                }
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

    /// Skinny rows product for `f32`: see [`super::rows_all`] (with fused multiply-adds).
    ///
    /// # Safety
    /// CPU must support AVX2 and FMA; as [`super::rows_all`].
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
    /// CPU must support AVX2 and FMA; as [`super::rows_all`], with `args.k ≤ 8` and
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

    /// Skinny dot-product GEMM for `f32`: see [`super::dots_all`]; each dot product as 8
    /// partial sums (fused multiply-adds, the last `k % 8` values by masked loads), reduced
    /// in a fixed order; blocks of up to 4 rows × 2 columns.
    ///
    /// # Safety
    /// CPU must support AVX2 and FMA; as [`super::dots_all`].
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

    /// f32 6×16 AVX2+FMA microkernel (12 ymm accumulators).
    ///
    /// # Safety
    /// CPU must support AVX2 and FMA; `a` holds `kc*6`, `b` holds `kc*16` floats; the
    /// `mr × nr` C tile is valid.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn kernel_f32(
        kc: usize,
        alpha: f32,
        a: *const f32,
        b: *const f32,
        beta: f32,
        first: bool,
        c: *mut f32,
        rsc: isize,
        csc: isize,
        mr: usize,
        nr: usize,
    ) {
        let mut acc = [_mm256_setzero_ps(); 12];
        // SAFETY: reads stay inside the packed panels (kc steps of 6 and 16 floats); writes
        // stay inside the C tile (caller contract).
        unsafe {
            let mut ap = a;
            let mut bp = b;
            for _ in 0..kc {
                let b0 = _mm256_loadu_ps(bp);
                let b1 = _mm256_loadu_ps(bp.add(8));
                for i in 0..6 {
                    let ai = _mm256_set1_ps(*ap.add(i));
                    acc[2 * i] = _mm256_fmadd_ps(ai, b0, acc[2 * i]);
                    acc[2 * i + 1] = _mm256_fmadd_ps(ai, b1, acc[2 * i + 1]);
                }
                ap = ap.add(6);
                bp = bp.add(16);
            }
            if mr == 6 && nr == 16 && csc == 1 {
                let va = _mm256_set1_ps(alpha);
                let vb = _mm256_set1_ps(beta);
                for i in 0..6 {
                    let row = c.offset(i as isize * rsc);
                    for h in 0..2 {
                        let cp = row.add(8 * h);
                        let t = _mm256_mul_ps(va, acc[2 * i + h]);
                        let v = if !first {
                            _mm256_add_ps(_mm256_loadu_ps(cp), t)
                        } else if beta == 0.0 {
                            t
                        } else {
                            _mm256_add_ps(t, _mm256_mul_ps(vb, _mm256_loadu_ps(cp)))
                        };
                        _mm256_storeu_ps(cp, v);
                    }
                }
            } else {
                let mut tile = [0f32; 96];
                for (i, v) in acc.iter().enumerate() {
                    _mm256_storeu_ps(tile.as_mut_ptr().add(8 * i), *v);
                }
                store_tile::<f32, 16>(&tile, alpha, beta, first, c, rsc, csc, mr, nr);
            }
        }
    }

    /// f64 6×8 AVX2+FMA microkernel (12 ymm accumulators).
    ///
    /// # Safety
    /// CPU must support AVX2 and FMA; `a` holds `kc*6`, `b` holds `kc*8` doubles; the
    /// `mr × nr` C tile is valid.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn kernel_f64(
        kc: usize,
        alpha: f64,
        a: *const f64,
        b: *const f64,
        beta: f64,
        first: bool,
        c: *mut f64,
        rsc: isize,
        csc: isize,
        mr: usize,
        nr: usize,
    ) {
        let mut acc = [_mm256_setzero_pd(); 12];
        // SAFETY: reads stay inside the packed panels (kc steps of 6 and 8 doubles); writes
        // stay inside the C tile (caller contract).
        unsafe {
            let mut ap = a;
            let mut bp = b;
            for _ in 0..kc {
                let b0 = _mm256_loadu_pd(bp);
                let b1 = _mm256_loadu_pd(bp.add(4));
                for i in 0..6 {
                    let ai = _mm256_set1_pd(*ap.add(i));
                    acc[2 * i] = _mm256_fmadd_pd(ai, b0, acc[2 * i]);
                    acc[2 * i + 1] = _mm256_fmadd_pd(ai, b1, acc[2 * i + 1]);
                }
                ap = ap.add(6);
                bp = bp.add(8);
            }
            if mr == 6 && nr == 8 && csc == 1 {
                let va = _mm256_set1_pd(alpha);
                let vb = _mm256_set1_pd(beta);
                for i in 0..6 {
                    let row = c.offset(i as isize * rsc);
                    for h in 0..2 {
                        let cp = row.add(4 * h);
                        let t = _mm256_mul_pd(va, acc[2 * i + h]);
                        let v = if !first {
                            _mm256_add_pd(_mm256_loadu_pd(cp), t)
                        } else if beta == 0.0 {
                            t
                        } else {
                            _mm256_add_pd(t, _mm256_mul_pd(vb, _mm256_loadu_pd(cp)))
                        };
                        _mm256_storeu_pd(cp, v);
                    }
                }
            } else {
                let mut tile = [0f64; 48];
                for (i, v) in acc.iter().enumerate() {
                    _mm256_storeu_pd(tile.as_mut_ptr().add(4 * i), *v);
                }
                store_tile::<f64, 8>(&tile, alpha, beta, first, c, rsc, csc, mr, nr);
            }
        }
    }
}

impl GemmScalar for f32 {
    const ZERO: Self = 0.0;
    const MR: usize = 6;
    const NR: usize = 16;
    const MC: usize = 72;
    const KC: usize = 256;
    const NC: usize = 1024;

    fn microkernel() -> MicroKernel<Self> {
        #[cfg(target_arch = "x86_64")]
        if x86::has_avx2_fma() {
            return x86::kernel_f32;
        }
        kernel_portable::<f32, 6, 16>
    }
}

impl GemmScalar for f64 {
    const ZERO: Self = 0.0;
    const MR: usize = 6;
    const NR: usize = 8;
    const MC: usize = 72;
    const KC: usize = 256;
    const NC: usize = 1024;

    fn microkernel() -> MicroKernel<Self> {
        #[cfg(target_arch = "x86_64")]
        if x86::has_avx2_fma() {
            return x86::kernel_f64;
        }
        kernel_portable::<f64, 6, 8>
    }
}
