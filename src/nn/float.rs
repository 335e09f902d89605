//! The one trait that makes the engine generic over `f32` and `f64`.
//!
//! Experiments default to `f32`; gradient checks run in `f64`. Besides the arithmetic that
//! ndarray and num-traits need, the trait carries the element-wise kernels that dominate a
//! training step at small sizes (`tanh`, `sigmoid`), so each precision can pick its own:
//! `f32` uses a vectorizable approximation with a tested error bound, `f64` the standard
//! library's functions.

use std::fmt::{Debug, Display};

use ndarray::{LinalgScalar, ScalarOperand};

/// A floating-point element type the engine can train in (`f32` or `f64`).
pub trait Float:
    num_traits::Float
    + LinalgScalar
    + ScalarOperand
    + crate::nn::gemm::GemmScalar
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + std::iter::Sum
    + 'static
{
    /// The type's name as users type it (`"f32"` or `"f64"`).
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn of(value: f64) -> Self;

    /// Widens (or copies) to `f64`.
    fn f64(self) -> f64;

    /// Replaces every element by its hyperbolic tangent.
    fn tanh_in_place(values: &mut [Self]);

    /// Replaces every element by its logistic sigmoid `1 / (1 + e^-x)`.
    fn sigmoid_in_place(values: &mut [Self]);
}

impl Float for f64 {
    const NAME: &'static str = "f64";

    #[inline]
    fn of(value: f64) -> Self {
        value
    }

    #[inline]
    fn f64(self) -> f64 {
        self
    }

    fn tanh_in_place(values: &mut [Self]) {
        for v in values {
            *v = v.tanh();
        }
    }

    fn sigmoid_in_place(values: &mut [Self]) {
        for v in values {
            *v = sigmoid_f64(*v);
        }
    }
}

impl Float for f32 {
    const NAME: &'static str = "f32";

    #[inline]
    fn of(value: f64) -> Self {
        value as f32
    }

    #[inline]
    fn f64(self) -> f64 {
        self as f64
    }

    fn tanh_in_place(values: &mut [Self]) {
        fast::dispatch(values, fast::tanh_slice_generic, fast::tanh_slice_avx2);
    }

    fn sigmoid_in_place(values: &mut [Self]) {
        fast::dispatch(
            values,
            fast::sigmoid_slice_generic,
            fast::sigmoid_slice_avx2,
        );
    }
}

/// A logistic sigmoid that never overflows: `e^x / (1 + e^x)` for negative `x`.
#[inline]
pub fn sigmoid_f64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Vectorizable `f32` kernels for `exp`, `tanh` and `sigmoid`.
///
/// Written as straight-line code on each element (selects instead of branches) so that the
/// compiler turns the slice loops into SIMD. At run time an AVX2 copy of the loop is used
/// when the CPU has it. No fused multiply-add is used, so every element's result is the same
/// whichever copy runs: outputs do not depend on the vector width.
///
/// Error bounds (tested in `tests/kernels.rs` against `f64` references over the whole
/// range): `exp` relative error below 4e-7; `tanh` absolute error below 3e-7 and relative
/// error below 5e-7; `sigmoid` relative error below 5e-7 for inputs in [-87, 87] (outputs
/// below that saturate to the smallest normal range and above it to 1).
pub mod fast {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in a high part with trailing zero bits and a low correction, so that
    // n · LN2_HI is exact for |n| < 2^9 (Cody–Waite range reduction).
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2^23: adding it rounds a float of magnitude < 2^22 to the nearest integer.
    const ROUND_MAGIC: f32 = 12_582_912.0;

    /// `e^x` for `x` clamped to [-87, 88], relative error below 4e-7.
    #[inline(always)]
    pub fn exp(x: f32) -> f32 {
        let x = x.clamp(-87.0, 88.0);
        let t = x * LOG2_E + ROUND_MAGIC;
        let n = t - ROUND_MAGIC;
        let r = (x - n * LN2_HI) - n * LN2_LO;
        // Taylor polynomial of e^r on |r| ≤ ln2/2, Horner form, degree 7.
        let p = 1.0 / 5040.0;
        let p = p * r + 1.0 / 720.0;
        let p = p * r + 1.0 / 120.0;
        let p = p * r + 1.0 / 24.0;
        let p = p * r + 1.0 / 6.0;
        let p = p * r + 0.5;
        let p = p * r + 1.0;
        let p = p * r + 1.0;
        // 2^n built from its exponent bits; n is in [-126, 127] after the clamp.
        let bits = (t.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
        let scale = f32::from_bits(((bits + 127) as u32) << 23);
        p * scale
    }

    /// `tanh(x)`: an odd Taylor polynomial for |x| < 0.5, `(1 - e)/(1 + e)` with
    /// `e = e^(-2|x|)` elsewhere (no cancellation there since e ≤ 0.37).
    #[inline(always)]
    pub fn tanh(x: f32) -> f32 {
        let a = x.abs();
        let x2 = x * x;
        // Taylor coefficients of tanh up to x^15 (terms beyond are < 1e-8 at |x| = 0.5).
        let p = -929_569.0 / 638_512_875.0_f32;
        let p = p * x2 + 21_844.0 / 6_081_075.0;
        let p = p * x2 - 1_382.0 / 155_925.0;
        let p = p * x2 + 62.0 / 2_835.0;
        let p = p * x2 - 17.0 / 315.0;
        let p = p * x2 + 2.0 / 15.0;
        let p = p * x2 - 1.0 / 3.0;
        let small = x + x * x2 * p;
        let e = exp(-2.0 * a.clamp(0.0, 9.0)); // clamp keeps NaN (min would drop it)
        let large = (1.0 - e) / (1.0 + e);
        let large = large.copysign(x);
        if a < 0.5 { small } else { large }
    }

    /// The logistic sigmoid `1 / (1 + e^-x)`.
    #[inline(always)]
    pub fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + exp(-x))
    }

    /// Applies `tanh` to a slice (portable build).
    pub fn tanh_slice_generic(values: &mut [f32]) {
        for v in values {
            *v = tanh(*v);
        }
    }

    /// Applies `sigmoid` to a slice (portable build).
    pub fn sigmoid_slice_generic(values: &mut [f32]) {
        for v in values {
            *v = sigmoid(*v);
        }
    }

    /// Applies `tanh` to a slice, compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2 (checked by [`dispatch`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub unsafe fn tanh_slice_avx2(values: &mut [f32]) {
        for v in values {
            *v = tanh(*v);
        }
    }

    /// Applies `sigmoid` to a slice, compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2 (checked by [`dispatch`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub unsafe fn sigmoid_slice_avx2(values: &mut [f32]) {
        for v in values {
            *v = sigmoid(*v);
        }
    }

    /// Stand-ins on other architectures, never called.
    #[cfg(not(target_arch = "x86_64"))]
    pub unsafe fn tanh_slice_avx2(values: &mut [f32]) {
        tanh_slice_generic(values)
    }

    /// Stand-ins on other architectures, never called.
    #[cfg(not(target_arch = "x86_64"))]
    pub unsafe fn sigmoid_slice_avx2(values: &mut [f32]) {
        sigmoid_slice_generic(values)
    }

    /// Runs the AVX2 copy of a kernel when the CPU has AVX2, the portable one otherwise.
    #[inline]
    pub fn dispatch(values: &mut [f32], generic: fn(&mut [f32]), avx2: unsafe fn(&mut [f32])) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { avx2(values) };
                return;
            }
        }
        let _ = avx2;
        generic(values)
    }
}
