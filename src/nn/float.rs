//! The one trait that makes the engine generic over `f32` and `f64`.
//!
//! Experiments default to `f32`; gradient checks run in `f64`. Besides the arithmetic that
//! ndarray and num-traits need, the trait carries the element-wise kernels that dominate a
//! training step at small sizes (`tanh`, `sigmoid`), so each precision can pick its own:
//! `f32` uses a vectorizable approximation with a tested error bound, `f64` the standard
//! library's functions.

use std::fmt::{Debug, Display};

use ndarray::{LinalgScalar, ScalarOperand};

use super::activation::Activation;

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

    /// Replaces every element `z` by `f(z)`, for the activations whose derivative needs
    /// their input (GELU, gelu-tanh, SiLU; the others never come here).
    fn input_activation_in_place(activation: Activation, values: &mut [Self]);

    /// Multiplies every `grad[i]` by `f'(z[i])`: an activation's backward pass from its
    /// input.
    fn input_activation_backward(activation: Activation, z: &[Self], grad: &mut [Self]);
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

    /// libm's `erf` and the standard library's `exp`, as PyTorch's f64 kernels compute them.
    fn input_activation_in_place(activation: Activation, values: &mut [Self]) {
        for v in values {
            *v = activation.value_and_derivative(*v).0;
        }
    }

    fn input_activation_backward(activation: Activation, z: &[Self], grad: &mut [Self]) {
        derivative_from_input_f64(activation, z, grad);
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

    /// The vectorized kernels of [`fast`] (`erf` and `exp` approximations).
    fn input_activation_in_place(activation: Activation, values: &mut [Self]) {
        match activation {
            Activation::Gelu => {
                fast::dispatch(values, fast::gelu_slice_generic, fast::gelu_slice_avx2)
            }
            Activation::GeluTanh => fast::dispatch(
                values,
                fast::gelu_tanh_slice_generic,
                fast::gelu_tanh_slice_avx2,
            ),
            Activation::Silu => {
                fast::dispatch(values, fast::silu_slice_generic, fast::silu_slice_avx2)
            }
            other => activation_in_place_f64(other, values),
        }
    }

    fn input_activation_backward(activation: Activation, z: &[Self], grad: &mut [Self]) {
        match activation {
            Activation::Gelu => fast::dispatch_scale(
                z,
                grad,
                fast::gelu_backward_generic,
                fast::gelu_backward_avx2,
            ),
            Activation::GeluTanh => fast::dispatch_scale(
                z,
                grad,
                fast::gelu_tanh_backward_generic,
                fast::gelu_tanh_backward_avx2,
            ),
            Activation::Silu => fast::dispatch_scale(
                z,
                grad,
                fast::silu_backward_generic,
                fast::silu_backward_avx2,
            ),
            other => derivative_from_input_f64(other, z, grad),
        }
    }
}

/// f(z) element by element through [`Activation::value_and_derivative`] in `f64`.
fn activation_in_place_f64<T: Float>(activation: Activation, values: &mut [T]) {
    for v in values {
        *v = T::of(activation.value_and_derivative(v.f64()).0);
    }
}

/// `grad[i] *= f'(z[i])` element by element through [`Activation::value_and_derivative`] in
/// `f64` (PyTorch's formulas; the specification the `f32` kernels are tested against).
fn derivative_from_input_f64<T: Float>(activation: Activation, z: &[T], grad: &mut [T]) {
    assert_eq!(z.len(), grad.len(), "input and gradient lengths differ");
    for (g, &z) in grad.iter_mut().zip(z) {
        *g = *g * T::of(activation.value_and_derivative(z.f64()).1);
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

/// `e^x` in `f64`, written as straight-line code (a select for NaN, no branch, no table) so
/// that a loop of it becomes SIMD: Cody–Waite reduction x = n·ln 2 + r, |r| ≤ ½ ln 2 (ln 2 in
/// two parts, fdlibm's, so n·LN2_HI is exact), the Taylor polynomial of e^r to degree 13
/// (truncation below 5e-18), and 2^n from its exponent bits. `x` is clamped to [−708, 709]:
/// below it the result is e^−708 ≈ 3.3e-307 rather than a subnormal or 0, above it e^709
/// rather than ∞. Relative error against the standard library's `exp` below 5e-16 (tested in
/// `tests/suite/kernels.rs`); no fused multiply-add, so the same bits on every CPU.
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    const LOG2_E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 0.693_147_180_369_123_8; // 0x3FE62E42FEE00000
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1.5 · 2^52: adding it rounds a float of magnitude < 2^51 to the nearest integer.
    const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;
    let nan = x.is_nan();
    let x = x.clamp(-708.0, 709.0);
    let t = x * LOG2_E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for k in (1..=12).rev() {
        p = p * r + INV_FACTORIAL[k];
    }
    let p = p * r + 1.0;
    let bits = (t.to_bits() as i64).wrapping_sub(ROUND_MAGIC.to_bits() as i64);
    let scale = f64::from_bits(((bits + 1023) as u64) << 52);
    let e = p * scale;
    if nan { x } else { e }
}

/// 1/k! for k = 0 … 12, the Taylor coefficients of [`exp_f64`].
const INV_FACTORIAL: [f64; 13] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
];

/// Vectorizable `f32` kernels for `exp`, `tanh`, `sigmoid`, `erf`, and GELU's, gelu-tanh's and
/// SiLU's values and derivatives.
///
/// Written as straight-line code on each element (selects instead of branches) so that the
/// compiler turns the slice loops into SIMD. At run time an AVX2 copy of the loop is used
/// when the CPU has it. No fused multiply-add is used (the compiler never fuses on its own),
/// so every element's result is the same whichever copy runs and on every CPU (x86-64 or
/// aarch64): outputs do not depend on the vector width.
///
/// Error bounds (tested in `tests/suite/kernels.rs` against `f64` references over the whole
/// range): `exp` relative error below 4e-7; `tanh` absolute and relative error below 4e-7;
/// `sigmoid` relative error below 5e-7 for inputs in [-87, 87] (outputs below that saturate to
/// the smallest normal range and above it to 1); `erf` absolute error below 5e-7; GELU,
/// gelu-tanh and SiLU within 1e-6 · max(1, |z|) of PyTorch's `f64` formulas, their
/// derivatives within 2e-6 · max(1, |z|).
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

    /// `tanh(x)` as an odd rational function x·P(x²)/Q(x²) of degrees 13/6 on x clamped to
    /// ±7.9053 (where tanh rounds to ±1 in f32), and x itself for |x| < 4e-4 (where the
    /// rational form loses relative accuracy). The coefficients are the minimax fit that
    /// Eigen uses for its float tanh. One division and two short polynomials: about 3× faster
    /// than an `exp`-based form, with absolute and relative error below 4e-7.
    #[inline(always)]
    pub fn tanh(x: f32) -> f32 {
        const CLAMP: f32 = 7.905_311;
        let xc = if x.abs() < CLAMP {
            x
        } else {
            CLAMP.copysign(x)
        };
        // NaN compares false above and would become ±CLAMP: keep it NaN.
        let xc = if x.is_nan() { x } else { xc };
        let x2 = xc * xc;
        let p = -2.760_768_5e-16_f32;
        let p = p * x2 + 2.000_188e-13;
        let p = p * x2 - 8.604_672e-11;
        let p = p * x2 + 5.122_297e-8;
        let p = p * x2 + 1.485_722_4e-5;
        let p = p * x2 + 6.372_619e-4;
        let p = p * x2 + 4.893_524_6e-3;
        let q = 1.198_258_4e-6_f32;
        let q = q * x2 + 1.185_347e-4;
        let q = q * x2 + 2.268_434_6e-3;
        let q = q * x2 + 4.893_525e-3;
        let r = xc * p / q;
        // Past the clamp the rational form gives 1 − 6e-8; tanh there rounds to ±1 (error
        // < 2.7e-7), and an exact ±1 gives saturated units an exact zero derivative (tiny
        // non-zero ones would make denormal numbers downstream, which are very slow).
        let r = if x.abs() >= CLAMP {
            1.0_f32.copysign(x)
        } else {
            r
        };
        if x.abs() < 4e-4 { x } else { r }
    }

    /// The logistic sigmoid `1 / (1 + e^-x)`.
    #[inline(always)]
    pub fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + exp(-x))
    }

    // erf(x) = x·P(x²)/Q(x²) on |x| ≤ ERF_CLAMP: a rational fit of degrees 5/5 in x²
    // computed for initlab by tests/fixtures/kernels/fit_erf.py (iteratively reweighted least
    // squares on the relative error against f64 `erf`, 24,000 points in [0, 3.92]; the f64
    // fit's worst relative error is 1.9e-8, below half an f32 ulp, and the coefficients
    // rounded to f32 keep it below 4.4e-8). Evaluated in f32 the worst absolute error is
    // 4.2e-7 (7 ulps near 1): the rounding of the arithmetic, not the fit.
    // P's constant term is the fit's, one f32 ulp below 2/√π.
    #[allow(clippy::approx_constant)]
    const ERF_P: [f32; 6] = [
        1.128_379_1,
        0.190_402_97,
        0.052_748_013,
        0.003_765_407_5,
        2.848_679e-4,
        2.049_977_9e-6,
    ];
    const ERF_Q: [f32; 6] = [
        1.0,
        0.502_073,
        0.114_107_445,
        0.014_968_794,
        0.001_162_466_5,
        3.808_981_3e-5,
    ];
    // erf(3.92) = 1 − 2.4e-8, which rounds to 1 in f32: past it the fit is not needed.
    const ERF_CLAMP: f32 = 3.92;
    // 1/√2 and 1/√(2π), rounded to f32.
    const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
    const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
    // GELU's tanh form: √(2/π) and the cubic coefficient.
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    const GELU_TANH_CUBIC: f32 = 0.044_715;

    /// The error function, `x` clamped to ±3.92 (where erf rounds to ±1 in f32), as the
    /// rational function x·P(x²)/Q(x²) of the constants above: absolute error below 5e-7,
    /// and relative error below 3e-7 for normal |x| < ½ (near 0 erf(x) ≈ 2x/√π, and the
    /// quotient keeps its leading digits).
    #[inline(always)]
    pub fn erf(x: f32) -> f32 {
        let xc = x.clamp(-ERF_CLAMP, ERF_CLAMP);
        let t = xc * xc;
        xc * horner(t, &ERF_P) / horner(t, &ERF_Q)
    }

    /// c₀ + c₁t + … + c₅t⁵ in Horner's form (the first step, 0·t + c₅, is exact).
    #[inline(always)]
    fn horner(t: f32, c: &[f32; 6]) -> f32 {
        c.iter().rev().fold(0.0, |sum, &k| sum * t + k)
    }

    /// GELU, z·Φ(z) with Φ(z) = ½(1 + erf(z/√2)), written as PyTorch writes it
    /// (`z * 0.5 * (1 + erf(z * 1/√2))`).
    #[inline(always)]
    pub fn gelu(z: f32) -> f32 {
        z * 0.5 * (1.0 + erf(z * FRAC_1_SQRT_2))
    }

    /// GELU's derivative Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π). Where z²/2 passes 87
    /// (|z| > 13.2) the density term is exactly 0 (as it is in f32 arithmetic without the
    /// clamp of [`exp`]), so that ±∞ give 1 and 0, not NaN.
    #[inline(always)]
    pub fn gelu_derivative(z: f32) -> f32 {
        let cdf = 0.5 * (1.0 + erf(z * FRAC_1_SQRT_2));
        let half_square = z * z * 0.5;
        let density = exp(-half_square) * FRAC_1_SQRT_2PI;
        let tail = if half_square > 87.0 { 0.0 } else { z * density };
        cdf + tail
    }

    /// GELU's tanh approximation, ½z(1 + tanh(√(2/π)(z + 0.044715 z³))).
    #[inline(always)]
    pub fn gelu_tanh(z: f32) -> f32 {
        let inner = SQRT_2_OVER_PI * (z + GELU_TANH_CUBIC * (z * z * z));
        0.5 * z * (1.0 + tanh(inner))
    }

    /// The derivative of [`gelu_tanh`]: with t = tanh(u), u = √(2/π)(z + 0.044715 z³),
    /// ½(1 + t) + ½z(1 − t²)·√(2/π)(1 + 3·0.044715 z²). Where tanh saturates (t = ±1
    /// exactly) the second term is exactly 0, also for |z| so large that z² overflows.
    #[inline(always)]
    pub fn gelu_tanh_derivative(z: f32) -> f32 {
        let inner = SQRT_2_OVER_PI * (z + GELU_TANH_CUBIC * (z * z * z));
        let t = tanh(inner);
        let slope = 1.0 - t * t;
        let inner_derivative = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_CUBIC * (z * z));
        let second = if slope == 0.0 {
            0.0
        } else {
            0.5 * z * slope * inner_derivative
        };
        0.5 * (1.0 + t) + second
    }

    /// SiLU, z·σ(z). Below z = −87, where [`sigmoid`] stops at the smallest normal
    /// numbers, it is 0·z (−0, as in f32 arithmetic), not z times that floor.
    #[inline(always)]
    pub fn silu(z: f32) -> f32 {
        let v = z * sigmoid(z);
        if z < -87.0 { 0.0 * z } else { v }
    }

    /// SiLU's derivative σ(z)(1 + z(1 − σ(z))), and 0 below z = −87 (as [`silu`]).
    #[inline(always)]
    pub fn silu_derivative(z: f32) -> f32 {
        let s = sigmoid(z);
        let d = s * (1.0 + z * (1.0 - s));
        if z < -87.0 { 0.0 } else { d }
    }

    /// Defines a kernel over a slice twice: a portable copy (`$generic`) and, on x86-64, a
    /// copy compiled for AVX2 (`$avx2`) that [`dispatch`] picks. Both run the same
    /// per-element function, so they give the same bits. `in_place` kernels replace each
    /// value `v` by `f(v)`; `scale` kernels multiply each `grad[i]` by `f(z[i])` (an
    /// activation's backward pass from its input).
    macro_rules! slice_kernels {
        (in_place $what:literal, $f:ident, $generic:ident, $avx2:ident) => {
            #[doc = concat!("Applies `", stringify!($f), "` to ", $what, " (portable build).")]
            pub fn $generic(values: &mut [f32]) {
                for v in values {
                    *v = $f(*v);
                }
            }

            #[doc = concat!("Applies `", stringify!($f), "` to ", $what, ", compiled for AVX2.")]
            ///
            /// # Safety
            /// The CPU must support AVX2 (checked by [`dispatch`]).
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            pub unsafe fn $avx2(values: &mut [f32]) {
                for v in values {
                    *v = $f(*v);
                }
            }

            /// Stand-in on other architectures: the portable kernel ([`dispatch`] never
            /// calls it).
            ///
            /// # Safety
            /// None needed; `unsafe` only to match the x86-64 signature.
            #[cfg(not(target_arch = "x86_64"))]
            pub unsafe fn $avx2(values: &mut [f32]) {
                $generic(values)
            }
        };
        (scale $what:literal, $f:ident, $generic:ident, $avx2:ident) => {
            #[doc = concat!("Multiplies each `grad[i]` by `", stringify!($f), "(z[i])`: ", $what, " (portable build).")]
            pub fn $generic(z: &[f32], grad: &mut [f32]) {
                for (g, &z) in grad.iter_mut().zip(z) {
                    *g *= $f(z);
                }
            }

            #[doc = concat!("Multiplies each `grad[i]` by `", stringify!($f), "(z[i])`: ", $what, ", compiled for AVX2.")]
            ///
            /// # Safety
            /// The CPU must support AVX2 (checked by [`dispatch_scale`]).
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            pub unsafe fn $avx2(z: &[f32], grad: &mut [f32]) {
                for (g, &z) in grad.iter_mut().zip(z) {
                    *g *= $f(z);
                }
            }

            /// Stand-in on other architectures: the portable kernel ([`dispatch_scale`]
            /// never calls it).
            ///
            /// # Safety
            /// None needed; `unsafe` only to match the x86-64 signature.
            #[cfg(not(target_arch = "x86_64"))]
            pub unsafe fn $avx2(z: &[f32], grad: &mut [f32]) {
                $generic(z, grad)
            }
        };
    }

    slice_kernels!(in_place "a slice", tanh, tanh_slice_generic, tanh_slice_avx2);
    slice_kernels!(in_place "a slice", sigmoid, sigmoid_slice_generic, sigmoid_slice_avx2);
    slice_kernels!(in_place "a slice", gelu, gelu_slice_generic, gelu_slice_avx2);
    slice_kernels!(in_place "a slice", gelu_tanh, gelu_tanh_slice_generic, gelu_tanh_slice_avx2);
    slice_kernels!(in_place "a slice", silu, silu_slice_generic, silu_slice_avx2);
    slice_kernels!(scale "GELU's backward pass", gelu_derivative, gelu_backward_generic, gelu_backward_avx2);
    slice_kernels!(scale "gelu-tanh's backward pass", gelu_tanh_derivative, gelu_tanh_backward_generic, gelu_tanh_backward_avx2);
    slice_kernels!(scale "SiLU's backward pass", silu_derivative, silu_backward_generic, silu_backward_avx2);

    /// Runs the AVX2 copy of a kernel when the CPU has AVX2 and FMA (unless
    /// `INITLAB_PORTABLE_KERNELS=1`, see [`crate::nn::gemm::Kernels`]), the portable one
    /// otherwise.
    #[inline]
    pub fn dispatch(values: &mut [f32], generic: fn(&mut [f32]), avx2: unsafe fn(&mut [f32])) {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::nn::gemm::Kernels::Best.avx2() {
                // SAFETY: the CPU supports AVX2 (and FMA), checked by `avx2`.
                unsafe { avx2(values) };
                return;
            }
        }
        let _ = avx2;
        generic(values)
    }

    /// [`dispatch`] for the `scale` kernels (an activation's backward pass from its input
    /// `z`): the AVX2 copy when the CPU has it, the portable one otherwise.
    ///
    /// Panics if the slices' lengths differ.
    #[inline]
    pub fn dispatch_scale(
        z: &[f32],
        grad: &mut [f32],
        generic: fn(&[f32], &mut [f32]),
        avx2: unsafe fn(&[f32], &mut [f32]),
    ) {
        assert_eq!(z.len(), grad.len(), "input and gradient lengths differ");
        #[cfg(target_arch = "x86_64")]
        {
            if crate::nn::gemm::Kernels::Best.avx2() {
                // SAFETY: the CPU supports AVX2 (and FMA), checked by `avx2`.
                unsafe { avx2(z, grad) };
                return;
            }
        }
        let _ = avx2;
        generic(z, grad)
    }
}

/// How the calling thread's floating-point arithmetic treats subnormal (denormal) numbers: the
/// FTZ ("flush to zero") and DAZ ("denormals are zero") bits of x86-64's MXCSR register, or
/// the FZ bit of aarch64's FPCR register, which does both (subnormal inputs are read as zero,
/// subnormal results written as zero): the same arithmetic on both, so that flushed results
/// are the same on an x86 and an ARM machine.
///
/// # Why flush
/// Numbers below 1.2e-38 (f32) or 2.2e-308 (f64) carry no information a learning curve can
/// show, but arithmetic on them is about a hundred times slower on x86: a tiny or huge start
/// that produces them (saturated sigmoid units, vanishing gradients) would otherwise run
/// several times slower than a good one (the W5 grid: 67 s unflushed, 24 s flushed). PyTorch
/// offers the same switch as `torch.set_flush_denormal(True)`. Every entry point of the crate
/// that computes (`train`, `inspect`, `claims`, each run of the experiment runner) runs in
/// [`DenormalMode::Flush`], and the matrix product runs its worker tasks in its caller's mode,
/// so a result does not depend on which thread computed it.
///
/// # What is guaranteed, and what is assumed
/// [`DenormalMode::enter`] reads and writes MXCSR with inline assembly (`stmxcsr`/`ldmxcsr`;
/// on aarch64 FPCR with `mrs`/`msr`), touches only the FTZ and DAZ bits (FZ), and returns a guard that puts the previous bits back when
/// dropped, also when the work panics and unwinds: the mode never leaks out of the scope to
/// other code on the thread, and there is no global or lifetime-of-thread state.
///
/// This is not fully inside what Rust defines. Rust (with LLVM) assumes that Rust code runs in
/// the default floating-point environment; the documentation of the deprecated
/// `core::arch::x86_64::_mm_setcsr` calls changing these bits "immediate Undefined Behavior"
/// and asks for the whole computation to sit inside one `asm!` block that restores MXCSR
/// before it ends, which a training loop in Rust cannot do. The residual assumption is what
/// the optimizer does with its default-environment belief: it may evaluate a floating-point
/// operation at compile time, or move one across the mode switch (the `asm!` blocks order
/// memory accesses, not arithmetic on values in registers), and such an operation then does
/// not flush. Work that reads its inputs from memory after the switch and leaves its results
/// in memory before the restore, as every entry point here does (weights, records, matrices),
/// cannot be moved out; a value returned in registers can, which is why
/// [`with_flushed_denormals`] passes its result through `black_box`. What a misplaced
/// operation can change is whether one tiny value becomes zero, not memory safety: nothing in
/// this crate derives an index, a length or a pointer from a float without a check
/// (float-to-integer casts saturate, indexing is bounds-checked). The byte-identity tests of
/// the experiments and the determinism tests across threads and modes would show such a
/// change. One difference between the two architectures remains, in principle: x86 decides
/// that a result is subnormal after rounding it, ARM before, so a product whose exact value
/// lies within half an ulp below the smallest normal number (1.2e-38 in `f32`) rounds up to
/// it on x86 and flushes to zero on ARM. On other architectures the mode is not changed
/// (`current` reports `Keep`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenormalMode {
    /// IEEE 754 gradual underflow: subnormal numbers are computed exactly (slow on x86).
    Keep,
    /// Subnormal inputs are read as zero and subnormal results written as zero.
    Flush,
}

/// MXCSR's flush-to-zero bit (results) and denormals-are-zero bit (inputs).
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

/// FPCR's flush-to-zero bit (inputs and results, single and double precision).
#[cfg(target_arch = "aarch64")]
const FTZ_DAZ: u32 = 1 << 24;

impl DenormalMode {
    /// The calling thread's current mode.
    pub fn current() -> Self {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if mxcsr::read() & FTZ_DAZ == FTZ_DAZ {
            return DenormalMode::Flush;
        }
        DenormalMode::Keep
    }

    /// Switches the calling thread to this mode until the returned guard is dropped, which
    /// restores the previous one (on normal exit and on unwinding). Scopes nest.
    #[must_use = "the mode is restored when the guard is dropped"]
    pub fn enter(self) -> DenormalGuard {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            let csr = mxcsr::read();
            let want = match self {
                DenormalMode::Keep => 0,
                DenormalMode::Flush => FTZ_DAZ,
            };
            if csr & FTZ_DAZ != want {
                mxcsr::write((csr & !FTZ_DAZ) | want);
            }
            DenormalGuard {
                previous: csr & FTZ_DAZ,
                _same_thread: std::marker::PhantomData,
            }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        DenormalGuard {
            _same_thread: std::marker::PhantomData,
        }
    }
}

/// Restores the thread's previous [`DenormalMode`] when dropped (see [`DenormalMode::enter`]).
///
/// Not `Send`: the mode belongs to the thread that entered it.
#[derive(Debug)]
pub struct DenormalGuard {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    previous: u32,
    _same_thread: std::marker::PhantomData<*const ()>,
}

impl Drop for DenormalGuard {
    fn drop(&mut self) {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            let csr = mxcsr::read();
            if csr & FTZ_DAZ != self.previous {
                mxcsr::write((csr & !FTZ_DAZ) | self.previous);
            }
        }
    }
}

/// Runs `work` in [`DenormalMode::Flush`] and restores the caller's mode afterwards.
///
/// The result passes through [`std::hint::black_box`] before the mode is restored: the
/// optimizer, believing the mode cannot matter, would otherwise be free to compute a result
/// held in registers (say, a quotient of two floats) after the restore, where it does not
/// flush (`tests/suite/float_mode.rs` caught exactly that for an `f64` division).
pub fn with_flushed_denormals<R>(work: impl FnOnce() -> R) -> R {
    let _mode = DenormalMode::Flush.enter();
    std::hint::black_box(work())
}

/// MXCSR access by inline assembly (the `_mm_getcsr`/`_mm_setcsr` intrinsics are deprecated).
#[cfg(target_arch = "x86_64")]
mod mxcsr {
    use std::arch::asm;

    pub(super) fn read() -> u32 {
        let mut csr = 0u32;
        // SAFETY: `stmxcsr` stores the 32-bit MXCSR into the local `csr` and changes nothing
        // else; SSE (and so MXCSR) is part of the x86-64 baseline.
        unsafe {
            asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
        }
        csr
    }

    pub(super) fn write(csr: u32) {
        // SAFETY: `ldmxcsr` loads MXCSR from the local `csr` (read only). The callers change
        // only the FTZ and DAZ bits, which decide how subnormal numbers are rounded; no memory
        // or control flow depends on them (see `DenormalMode` for the assumption this rests
        // on). Reserved bits are never set, so the instruction cannot fault.
        unsafe {
            asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
        }
    }
}

/// FPCR access by inline assembly (named `mxcsr` like its x86 twin so that the callers are
/// the same on both architectures).
#[cfg(target_arch = "aarch64")]
mod mxcsr {
    use std::arch::asm;

    pub(super) fn read() -> u32 {
        let fpcr: u64;
        // SAFETY: `mrs` copies FPCR into a register and changes nothing else.
        unsafe {
            asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags));
        }
        fpcr as u32
    }

    pub(super) fn write(fpcr: u32) {
        // SAFETY: `msr` loads FPCR; the callers change only the FZ bit, which decides how
        // subnormal numbers are rounded (see `DenormalMode` for the assumption this rests
        // on). The other bits are written back as read.
        unsafe {
            asm!("msr fpcr, {}", in(reg) fpcr as u64, options(nostack, preserves_flags));
        }
    }
}
