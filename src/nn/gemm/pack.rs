//! Packing: copying a block of A or B into the contiguous panels the microkernel reads.

use super::{GemmScalar, Kernels};

/// Packing areas for one thread.
#[derive(Default, Debug)]
pub(super) struct PackBufs<T> {
    pub(super) a: Vec<T>,
    pub(super) b: Vec<T>,
}

impl<T: GemmScalar> PackBufs<T> {
    /// Grows the buffers to what an `m × k · k × n` product needs (no-op once large enough).
    pub(super) fn reserve(&mut self, m: usize, n: usize, k: usize) {
        let kc_max = k.div_ceil(k.div_ceil(T::KC).max(1));
        let mc_max = T::MC.min(m).next_multiple_of(T::MR);
        let nc_max = T::NC.min(n).next_multiple_of(T::NR);
        let need_a = mc_max * kc_max;
        let need_b = nc_max * kc_max;
        if self.a.len() < need_a {
            self.a.resize(need_a, T::ZERO);
        }
        if self.b.len() < need_b {
            self.b.resize(need_b, T::ZERO);
        }
    }
}

/// An AVX2 packer of one full `f32` panel: `(dst, src, lane stride, kc)`; it reads lanes that
/// are contiguous along k and writes exactly the panel's `width * kc` values.
pub(super) type PanelPacker = unsafe fn(*mut f32, *const f32, isize, usize);

/// The AVX2 packer for A's panels (`for_a`) or B's, when `T` is `f32` and `kernels` runs
/// AVX2 and the tile has the packer's width; `None` otherwise (the portable loops pack).
pub(super) fn simd_packer<T: GemmScalar>(kernels: Kernels, for_a: bool) -> Option<PanelPacker> {
    #[cfg(target_arch = "x86_64")]
    if super::is_f32::<T>() && kernels.avx2() {
        return match (for_a, T::MR, T::NR) {
            (true, 6, _) => Some(super::x86::pack_a6_rows_f32),
            (false, _, 16) => Some(super::x86::pack_b16_cols_f32),
            _ => None,
        };
    }
    // No SIMD packer on other architectures, whatever T.
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (kernels, for_a, super::is_f32::<T>());
    None
}

/// Packs `len` lanes × `kc` steps of an operand into panels of `width` lanes: panel `r`
/// holds, for each step `p`, the `width` values `src[(r*width + i)·lane + p·step]` (zero
/// past `len`). A is packed with lanes = rows (`width = MR`, lane = rsa, step = csa), B with
/// lanes = columns (`width = NR`, lane = csb, step = rsb): one routine for both operands.
/// `simd` (from [`simd_packer`]) packs the full panels whose lanes are contiguous along k.
///
/// # Safety
/// `src` must be valid for the whole block and `dst` for `len.next_multiple_of(width) * kc`
/// writes.
#[allow(clippy::too_many_arguments)] // internal; the two call sites name every argument
pub(super) unsafe fn pack_panels<T: GemmScalar>(
    dst: *mut T,
    src: *const T,
    lane: isize,
    step: isize,
    len: usize,
    kc: usize,
    width: usize,
    simd: Option<PanelPacker>,
) {
    let mut r = 0;
    while r < len {
        let lanes = width.min(len - r);
        // SAFETY: all reads are inside the block, all writes inside the panel
        // `[r*kc, (r+width)*kc)` of `dst` (caller contract).
        unsafe {
            let panel = dst.add(r * kc);
            let base = src.offset(r as isize * lane);
            if let Some(pack) = simd
                && step == 1
                && lanes == width
            {
                pack(panel as *mut f32, base as *const f32, lane, kc);
                r += width;
                continue;
            }
            if lane == 1 && lanes == width {
                // Lanes contiguous: one fixed-size copy per step. The width is matched to a
                // constant so each copy compiles to a few vector moves; a `copy_nonoverlapping`
                // of a run-time length would call `memcpy` for every 6 or 16 values (17 % of
                // a W4 step before this).
                match width {
                    16 => copy_rows::<T, 16>(panel, base, step, kc),
                    8 => copy_rows::<T, 8>(panel, base, step, kc),
                    6 => copy_rows::<T, 6>(panel, base, step, kc),
                    _ => {
                        for p in 0..kc {
                            std::ptr::copy_nonoverlapping(
                                base.offset(p as isize * step),
                                panel.add(p * width),
                                width,
                            );
                        }
                    }
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

/// Copies `kc` runs of `W` contiguous values, run `p` from `src + p·step`, to `dst + p·W`.
///
/// # Safety
/// Every run must be readable and `dst` writable for `kc · W` values.
#[inline(always)]
unsafe fn copy_rows<T: Copy, const W: usize>(dst: *mut T, src: *const T, step: isize, kc: usize) {
    for p in 0..kc {
        // SAFETY: caller contract; unaligned reads and writes of a `[T; W]`.
        unsafe {
            let run = (src.offset(p as isize * step) as *const [T; W]).read_unaligned();
            (dst.add(p * W) as *mut [T; W]).write_unaligned(run);
        }
    }
}
