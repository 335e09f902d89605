//! Allocation-free general matrix product: `c = alpha * a · b + beta * c`.
//!
//! BLIS-style blocking: B is packed into `KC × NC` blocks of `NR`-wide column panels, A into
//! `MC × KC` blocks of `MR`-tall row panels, both into a caller-owned [`GemmScratch`]; a
//! register-blocked `MR × NR` microkernel does the arithmetic. For `f32` (6×16) and `f64`
//! (6×8) on x86_64 with AVX2+FMA the microkernel uses `core::arch` intrinsics (detected at run
//! time, cached); elsewhere a portable kernel over fixed-size arrays is used (see [`Kernels`]
//! for forcing it).
//!
//! Layout of the module: this file is the public API and the plan (which path a product
//! takes: tiny loop, skinny kernels, blocked serial or blocked threaded); `pack` copies
//! operands into panels; `kernels` holds the portable microkernel and the kernel choice;
//! `skinny` the products with a side of at most 8; `x86` every AVX2 routine.
//!
//! Determinism: every element of C is accumulated over k in the same order (k blocks of `KC`,
//! then sequentially inside a block) whatever its tile position and whatever the thread count;
//! threads only split C into column (or row) blocks, never k, and run in the caller's
//! floating-point mode (see [`crate::nn::float::DenormalMode`]). So results are bit-identical
//! for every `threads` value on a given machine. The same holds for parts of a product computed
//! separately with [`gemm_part`] under the whole product's [`Plan`] (the training step's
//! threads compute rows of a batch, or blocks of a weight gradient, that way).

use std::fmt::Debug;
use std::ops::{Add, Mul};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{ArrayBase, ArrayView2, ArrayViewMut2, Axis, Ix2, RawData, Slice};

use crate::nn::float::DenormalMode;
use crate::nn::pieces::join_pieces;

mod kernels;
mod pack;
mod skinny;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use kernels::Kernels;
use kernels::kernel_portable;
use pack::{PackBufs, pack_panels};
use skinny::{gemm_skinny, skinny_plan};

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
    /// The microkernel `kernels` selects on this machine.
    fn microkernel(kernels: Kernels) -> MicroKernel<Self>;
}

/// Caller-owned packing buffers; grows on first use for a shape, then reused: no allocation
/// afterwards.
///
/// One scratch per call site (or per layer) is typical; a scratch may be reused for any shape,
/// it only grows. With `threads > 1` it holds one packing area per part. It also carries the
/// kernels its products use ([`Kernels::Best`] unless made with [`GemmScratch::with_kernels`]).
#[derive(Debug)]
pub struct GemmScratch<T> {
    parts: Vec<PackBufs<T>>,
    kernels: Kernels,
}

impl<T> Default for GemmScratch<T> {
    fn default() -> Self {
        GemmScratch {
            parts: Vec::new(),
            kernels: Kernels::Best,
        }
    }
}

impl<T: GemmScalar> GemmScratch<T> {
    /// An empty scratch (no memory until the first call).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty scratch whose products use `kernels` (e.g. [`Kernels::Portable`] to test the
    /// portable code on a CPU that has AVX2).
    pub fn with_kernels(kernels: Kernels) -> Self {
        GemmScratch {
            parts: Vec::new(),
            kernels,
        }
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
    let plan = Plan::of(&a, &b, &c);
    let threads = threads.max(1);
    if plan.path != Path::Blocked
        || threads == 1
        || m.saturating_mul(n).saturating_mul(k) < PAR_MIN_MNK
    {
        gemm_part(plan, alpha, a, b, beta, c, scratch);
        return;
    }
    // Split along the wider side of C, in whole tiles.
    let by_cols = n >= m;
    let (len, unit) = if by_cols { (n, T::NR) } else { (m, T::MR) };
    let parts = threads.min(len.div_ceil(unit));
    if scratch.parts.len() < parts {
        scratch.parts.resize_with(parts, PackBufs::default);
    }
    let kernels = scratch.kernels;
    let bufs = &mut scratch.parts[..parts];
    if parts == 1 {
        gemm_serial(alpha, &a, &b, beta, c, &mut bufs[0], kernels);
    } else {
        gemm_threaded(alpha, a, b, beta, c, bufs, kernels, by_cols, unit, len);
    }
}

/// Which of [`gemm`]'s paths a product takes. It depends on the shapes and strides only, so
/// that a part of a product (some rows of A and C, or some columns of B and C) can be
/// computed by the plan of the whole: [`gemm_part`] then gives every element of the part
/// exactly the operations the whole product gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    path: Path,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// `m == 0` or `n == 0`: nothing to do.
    Empty,
    /// `k == 0`: `c = beta * c`.
    Scale,
    /// At most `SMALL_MNK` multiply-adds: the plain loop.
    Small,
    /// A side of at most 8: the unpacked kernels of `skinny`.
    Skinny(skinny::Skinny),
    /// The packed, blocked product.
    Blocked,
}

impl Plan {
    /// The plan of `a · b → c` (a: (m, k), b: (k, n), c: (m, n)).
    pub fn of<T, S: RawData<Elem = T>>(
        a: &ArrayView2<T>,
        b: &ArrayView2<T>,
        c: &ArrayBase<S, Ix2>,
    ) -> Plan {
        Plan::with_rows(a.nrows(), a, b, c)
    }

    /// The plan of the product whose A and C have `m` rows, of which `a` and `c` are a row
    /// block (so they have its strides): the plan the rows of a batch share.
    pub fn with_rows<T, S: RawData<Elem = T>>(
        m: usize,
        a: &ArrayView2<T>,
        b: &ArrayView2<T>,
        c: &ArrayBase<S, Ix2>,
    ) -> Plan {
        let (k, n) = b.dim();
        let path = if m == 0 || n == 0 {
            Path::Empty
        } else if k == 0 {
            Path::Scale
        } else if m.saturating_mul(n).saturating_mul(k) <= SMALL_MNK {
            Path::Small
        } else {
            match skinny_plan(
                m,
                n,
                k,
                (a.strides()[0], a.strides()[1]),
                (b.strides()[0], b.strides()[1]),
                (c.strides()[0], c.strides()[1]),
            ) {
                Some(s) => Path::Skinny(s),
                None => Path::Blocked,
            }
        };
        Plan { path }
    }

    /// Whether the product is packed and blocked (so that cutting C into blocks of whole
    /// tiles leaves every element's operations unchanged).
    pub fn is_blocked(&self) -> bool {
        self.path == Path::Blocked
    }
}

/// `c = alpha * a · b + beta * c` on the calling thread, by `plan`, the plan of a product of
/// which this is a part: rows of its A and C, or (for a blocked plan) columns of its B and C,
/// cut off in whole tiles. Each element of `c` is computed by the same operations, in the
/// same order, as in the whole product. Allocation: none once `scratch` has grown (see
/// [`GemmScratch::reserve`]).
///
/// # Panics
/// On shape mismatch (programmer error).
pub fn gemm_part<T: GemmScalar>(
    plan: Plan,
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: ArrayViewMut2<T>,
    scratch: &mut GemmScratch<T>,
) {
    let (m, k) = a.dim();
    let (kb, n) = b.dim();
    assert!(
        k == kb && c.dim() == (m, n),
        "gemm_part: shape mismatch: a is {m}x{k}, b is {kb}x{n}, c is {:?}",
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if scratch.parts.is_empty() {
        scratch.parts.push(PackBufs::default());
    }
    let kernels = scratch.kernels;
    match plan.path {
        Path::Empty => {}
        Path::Scale => scale_c(beta, c),
        Path::Small => gemm_small(alpha, &a, &b, beta, c),
        Path::Skinny(s) => gemm_skinny(kernels, s, alpha, a, b, beta, c, &mut scratch.parts[0]),
        Path::Blocked => gemm_serial(alpha, &a, &b, beta, c, &mut scratch.parts[0], kernels),
    }
}

impl<T: GemmScalar> GemmScratch<T> {
    /// Grows the first packing area to what any part of an `m × k · k × n` product needs on
    /// one thread ([`gemm_part`]), whatever its plan, so that later calls allocate nothing.
    pub fn reserve(&mut self, m: usize, n: usize, k: usize) {
        if self.parts.is_empty() {
            self.parts.push(PackBufs::default());
        }
        let bufs = &mut self.parts[0];
        bufs.reserve(m, n, k);
        // The skinny kernels copy one short operand whole.
        let skinny = m.max(n) * k;
        if bufs.a.len() < skinny {
            bufs.a.resize(skinny, T::ZERO);
        }
        if bufs.b.len() < skinny {
            bufs.b.resize(skinny, T::ZERO);
        }
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
/// by exactly the same operations as on one thread, and in the caller's [`DenormalMode`]
/// (another thread may steal a task while it runs in another mode, or in none set by us).
#[allow(clippy::too_many_arguments)]
fn gemm_threaded<T: GemmScalar>(
    alpha: T,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: T,
    c: ArrayViewMut2<T>,
    bufs: &mut [PackBufs<T>],
    kernels: Kernels,
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
    let mode = DenormalMode::current();
    let work = |buf: &mut PackBufs<T>| {
        let _mode = mode.enter();
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
                gemm_serial(alpha, &a, &b.slice_axis(Axis(1), r), beta, cv, buf, kernels);
            } else {
                gemm_serial(alpha, &a.slice_axis(Axis(0), r), &b, beta, cv, buf, kernels);
            }
        }
    };
    run_tasks(bufs, &work);
}

/// Runs `work` once per packing area, in parallel (a piece of one area per task).
fn run_tasks<T: Send, F: Fn(&mut PackBufs<T>) + Sync>(bufs: &mut [PackBufs<T>], work: &F) {
    let tasks = bufs.len();
    join_pieces(tasks, Axis(0), bufs, &|piece: &mut [PackBufs<T>]| {
        piece.iter_mut().for_each(work)
    });
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
    debug_assert!(b.nrows() == k && c.dim() == (m, n));
    // Raw strided reads: indexing with `[[i, p]]` checks bounds on every read, which for the
    // tiny products of W1 (4×2·2×4) costs more than the arithmetic.
    let (rsa, csa) = (a.strides()[0], a.strides()[1]);
    let (rsb, csb) = (b.strides()[0], b.strides()[1]);
    let (rsc, csc) = (c.strides()[0], c.strides()[1]);
    let (ap, bp, cp) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    for i in 0..m as isize {
        for j in 0..n as isize {
            let mut acc = T::ZERO;
            for p in 0..k as isize {
                // SAFETY: i < m, p < k, j < n: inside a (m×k) and b (k×n) by their strides.
                acc =
                    acc + unsafe { *ap.offset(i * rsa + p * csa) * *bp.offset(p * rsb + j * csb) };
            }
            let t = alpha * acc;
            // SAFETY: inside c (m×n), which is borrowed mutably.
            let cij = unsafe { &mut *cp.offset(i * rsc + j * csc) };
            *cij = if beta == T::ZERO { t } else { t + beta * *cij };
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
    kernels: Kernels,
) {
    let kernel = T::microkernel(kernels);
    let pack_a = pack::simd_packer::<T>(kernels, true);
    let pack_b = pack::simd_packer::<T>(kernels, false);
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
                    pack_b,
                )
            };
            let mut ic = 0;
            while ic < m {
                let mc = T::MC.min(m - ic);
                // SAFETY: (ic, pc) is inside a; `pa` holds
                // at least `mc.next_multiple_of(mr) * kc` elements (`PackBufs::reserve`).
                unsafe {
                    pack_panels::<T>(
                        pa,
                        ap.offset(ic as isize * rsa + pc as isize * csa),
                        rsa,
                        csa,
                        mc,
                        kc,
                        T::MR,
                        pack_a,
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

/// True when `T` is `f32` (folded at compile time).
#[inline(always)]
fn is_f32<T: 'static>() -> bool {
    std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
}
/// `GemmScalar` for a float type whose microkernel tile is 6 × `nr` (two AVX2 vectors).
macro_rules! gemm_scalar {
    ($t:ty, $nr:literal) => {
        impl GemmScalar for $t {
            const ZERO: Self = 0.0;
            const MR: usize = 6;
            const NR: usize = $nr;
            const MC: usize = 72;
            const KC: usize = 256;
            const NC: usize = 1024;

            fn microkernel(kernels: Kernels) -> MicroKernel<Self> {
                #[cfg(target_arch = "x86_64")]
                if kernels.avx2() {
                    return x86::kernel::<$t, $nr>;
                }
                let _ = kernels;
                kernel_portable::<$t, 6, $nr>
            }
        }
    };
}

gemm_scalar!(f32, 16);
gemm_scalar!(f64, 8);
