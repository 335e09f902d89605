//! The kernel choice and the portable microkernel, with the store helpers every kernel
//! shares (the AVX2 kernels are in `x86`).

use super::GemmScalar;

/// Which kernels a product uses; carried by its [`super::GemmScratch`].
///
/// The AVX2 and the portable kernels perform the same floating-point operations in the same
/// order with the same rounding: every multiply-add of a dot product is fused (one rounding,
/// `mul_add` in the portable code, `vfmadd` in the AVX2 code), each element of C is summed
/// over k in the same order, and the skinny dot kernel reduces its 8 partial sums with the
/// same tree. So a result does not depend on which kernels ran, nor on the CPU: x86-64 with
/// AVX2, x86-64 without it and aarch64 (whose `mul_add` is one `fmadd` instruction) give the
/// same bits (`tests/suite/portable_identity.rs`, and `.ci/cross-aarch64.sh` for aarch64).
///
/// Setting the environment variable `INITLAB_PORTABLE_KERNELS=1` (read once, at the first
/// product) makes [`Kernels::Best`] mean the portable kernels for the whole process, so that
/// CI can run the test suite through them on a machine that has AVX2; it also covers the
/// `f32` `tanh` and `sigmoid` slice kernels. On x86-64 the portable kernels are slow (the
/// CPU's fused multiply-add is only reachable from code compiled for it, so `mul_add` is a
/// library call there): they are the reference and test path, not a fast path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kernels {
    /// AVX2+FMA on x86-64 CPUs that have both (unless `INITLAB_PORTABLE_KERNELS=1`), the
    /// portable kernels elsewhere.
    #[default]
    Best,
    /// The portable kernels, whatever the CPU.
    Portable,
}

impl Kernels {
    /// True when this choice runs the AVX2+FMA kernels on this machine (the CPU check and
    /// the environment variable are read once and cached).
    pub fn avx2(self) -> bool {
        match self {
            Kernels::Portable => false,
            Kernels::Best => best_is_avx2(),
        }
    }
}

/// The environment variable that forces the portable kernels.
const PORTABLE_SWITCH: &str = "INITLAB_PORTABLE_KERNELS";

/// True when the switch's value asks for the portable kernels: set, not empty and not `0`.
fn switch_on(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

#[cfg(target_arch = "x86_64")]
fn best_is_avx2() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    // 0: not decided yet, 1: portable, 2: AVX2. Two threads deciding at once agree.
    static BEST: AtomicU8 = AtomicU8::new(0);
    match BEST.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let yes = !switch_on(std::env::var_os(PORTABLE_SWITCH).as_deref())
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma");
            BEST.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn best_is_avx2() -> bool {
    let _ = (PORTABLE_SWITCH, switch_on);
    false
}

/// Writes `alpha * acc` into `*c` with the update rule of [`super::gemm`] (`beta == 0`: overwrite).
///
/// # Safety
/// `c` must be valid for reads and writes.
#[inline(always)]
pub(super) unsafe fn store_one<T: GemmScalar>(c: *mut T, acc: T, alpha: T, beta: T) {
    let t = alpha * acc;
    // SAFETY: caller contract.
    unsafe { *c = if beta == T::ZERO { t } else { t + beta * *c } };
}

/// Writes an accumulator tile (row-major, `NR` per row) into C with the update rule of
/// [`super::MicroKernel`]. Scalar; used for edge tiles and non-unit column strides.
///
/// # Safety
/// The `mr × nr` tile at `c` (strides `rsc`, `csc`) must be valid for reads and writes.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn store_tile<T: GemmScalar, const NR: usize>(
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

/// A fused multiply-add for the portable kernels: `a * b + c` with one rounding.
pub(super) trait FusedMulAdd: GemmScalar {
    /// `a * b + c`, rounded once (IEEE 754 `fusedMultiplyAdd`).
    fn fma(a: Self, b: Self, c: Self) -> Self;
}

impl FusedMulAdd for f32 {
    #[inline(always)]
    fn fma(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

impl FusedMulAdd for f64 {
    #[inline(always)]
    fn fma(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}

/// Portable microkernel over fixed-size arrays: the AVX2 kernel's operations (each
/// accumulator starts at zero and takes one fused multiply-add per step, in order of k).
///
/// # Safety
/// See [`super::MicroKernel`]: `a` holds `kc*MR`, `b` holds `kc*NR` values; the C tile is valid.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn kernel_portable<T: FusedMulAdd, const MR: usize, const NR: usize>(
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
                acc[i][j] = T::fma(av[i], bv[j], acc[i][j]);
            }
        }
    }
    let flat = acc.as_flattened();
    // SAFETY: forwarded caller contract.
    unsafe { store_tile::<T, NR>(flat, alpha, beta, first, c, rsc, csc, mr, nr) };
}

#[cfg(test)]
mod tests {
    use super::switch_on;
    use std::ffi::OsStr;

    #[test]
    fn portable_switch_values() {
        assert!(switch_on(Some(OsStr::new("1"))));
        assert!(switch_on(Some(OsStr::new("yes"))));
        assert!(!switch_on(Some(OsStr::new("0"))));
        assert!(!switch_on(Some(OsStr::new(""))));
        assert!(!switch_on(None));
    }
}
