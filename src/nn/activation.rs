//! Hidden-layer non-linearities: forward, derivative and the recommended init gain.
//!
//! For the first seven the derivative is computed from the layer's *output* `a = f(z)`, so
//! the fused fast path of [`crate::nn::Mlp`] stores only activations, never pre-activations:
//!
//! | activation | f(z) | f'(z) written with a = f(z) | gain |
//! |---|---|---|---|
//! | identity | z | 1 | 1 |
//! | sigmoid | 1/(1+e^-z) | a(1-a) | 1 |
//! | tanh | tanh z | 1-a² | 5/3 |
//! | relu | max(0, z) | 1 if a > 0 else 0 | √2 |
//! | leaky-relu (slope s) | z if z > 0 else s·z | 1 if a > 0 else s | √(2/(1+s²)) |
//! | selu | λz if z > 0 else λα(e^z - 1) | λ if a > 0 else a + λα | 1 |
//! | softsign | z/(1+\|z\|) | (1-\|a\|)² | 1 |
//!
//! GELU and SiLU are not invertible (two pre-activations give the same output), so their
//! derivative needs the pre-activation `z` itself: they run in the layer engine
//! ([`crate::nn::Network`]), whose activation layer keeps its input for the backward pass
//! ([`Activation::backward_from_input`]). [`Activation::derivative_from_output`] tells which.
//! In `f64` they are computed with PyTorch's formulas and libm's `erf` (trajectories agree
//! with PyTorch's to 1e-12); in `f32` with vectorized `erf`, `exp` and `tanh` approximations
//! ([`crate::nn::float::fast`]), as PyTorch's and JAX's `f32` kernels are.
//!
//! | activation | f(z) | f'(z) | gain |
//! |---|---|---|---|
//! | gelu | z·Φ(z), Φ the standard normal CDF (erf) | Φ(z) + z·φ(z) | 1/√(1/3 + 1/(2√3·π)) ≈ 1.5335 |
//! | gelu-tanh | z/2·(1 + tanh(√(2/π)(z + 0.044715 z³))) | by the chain rule | ≈ 1.5336 |
//! | silu | z·σ(z) | σ(z)(1 + z(1 − σ(z))) | ≈ 1.6765 |
//!
//! **GELU's and SiLU's gains.** No framework defines one (PyTorch's `calculate_gain` has no
//! entry for them). initlab uses the rule that gives ReLU its √2 exactly: with weights of
//! variance gain²/fan_in and unit-variance pre-activations, the next layer's pre-activations
//! keep variance 1 when gain² = 1 / E[f(z)²], z ~ N(0, 1) (the mean-field length map's fixed
//! point q* = 1, see [`crate::theory`]). For ReLU E[f(z)²] = 1/2 at every scale. For GELU the
//! integral has a closed form, E[(zΦ(z))²] = 1/3 + 1/(2√3·π) (expand Φ² and integrate
//! z²·φ(z)·Φ(z)² by parts), so its gain is 1.533530…; for gelu-tanh and SiLU it is the
//! Gaussian integral evaluated numerically (tests/suite/theory.rs checks all three against
//! Gauss–Hermite quadrature). Unlike ReLU's, these gains hold the variance at 1 only: GELU
//! and SiLU are not homogeneous, so at other scales the map drifts (towards q* = 1 or away;
//! `initlab inspect` shows it).
//!
//! **ReLU'(0) = 0.** At exactly z = 0 the derivative is taken as 0 (as in PyTorch). That is
//! what makes an all-zero start freeze *exactly*: with zero weights every hidden
//! pre-activation is 0, so no gradient reaches the hidden weights and they stay 0 forever.
//!
//! **SELU's gain.** With weights of variance 1/fan_in (LeCun normal), SELU keeps a unit
//! Gaussian input at mean 0 and variance 1 (Klambauer et al. 2017): the self-normalizing
//! fixed point, so its gain is 1. PyTorch's `calculate_gain("selu")` returns 3/4 instead, a
//! value picked empirically to keep gradients well-behaved in some networks rather than to
//! preserve the forward variance; initlab follows the paper.

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI, SQRT_2};
use std::fmt;
use std::str::FromStr;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::float::Float;

/// SELU's λ (Klambauer et al. 2017).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
/// SELU's α (Klambauer et al. 2017).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// The default negative slope of leaky ReLU (as in PyTorch and Keras' `LeakyReLU`).
pub const DEFAULT_LEAKY_SLOPE: f64 = 0.01;

/// A hidden-layer activation function.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Activation {
    /// f(z) = z.
    Identity,
    /// The logistic sigmoid, bounded in (0, 1).
    Sigmoid,
    /// Hyperbolic tangent, bounded in (-1, 1).
    Tanh,
    /// Rectified linear unit, max(0, z); derivative 0 at z = 0.
    Relu,
    /// Leaky ReLU with the given negative slope (`leaky-relu` or `leaky-relu:0.2`).
    LeakyRelu {
        /// Slope for z ≤ 0; must be finite and ≥ 0.
        slope: f64,
    },
    /// Scaled exponential linear unit (Klambauer et al. 2017).
    Selu,
    /// Softsign, z / (1 + |z|), bounded in (-1, 1).
    Softsign,
    /// Gaussian error linear unit, z·Φ(z) with the exact normal CDF (Hendrycks & Gimpel
    /// 2016; PyTorch's `GELU(approximate='none')`).
    Gelu,
    /// GELU's tanh approximation (PyTorch's `GELU(approximate='tanh')`, GPT-2's).
    GeluTanh,
    /// Sigmoid linear unit z·σ(z), also called swish (Elfwing et al. 2017; Ramachandran et
    /// al. 2017).
    Silu,
}

/// The activations whose derivative needs the pre-activation (not invertible from the
/// output): they run in the layer engine, [`crate::nn::Network`].
pub const INPUT_DERIVATIVE_ACTIVATIONS: [Activation; 3] =
    [Activation::Gelu, Activation::GeluTanh, Activation::Silu];

/// GELU's gain, 1/√E[gelu(z)²] with E[gelu(z)²] = 1/3 + 1/(2√3·π) (module docs).
pub fn gelu_gain() -> f64 {
    1.0 / (1.0 / 3.0 + 1.0 / (2.0 * 3f64.sqrt() * std::f64::consts::PI)).sqrt()
}

/// gelu-tanh's gain, 1/√E[f(z)²] for z ~ N(0, 1) (Simpson's rule on [−14, 14], 200,000
/// intervals; checked against Gauss–Hermite quadrature in tests/suite/theory.rs).
pub const GELU_TANH_GAIN: f64 = 1.533_580_521_666_189_3;

/// SiLU's gain, 1/√E[(z·σ(z))²] for z ~ N(0, 1) (computed as [`GELU_TANH_GAIN`]).
pub const SILU_GAIN: f64 = 1.676_532_470_331_138_2;

/// √(2/π), the constant of GELU's tanh approximation, computed as PyTorch does
/// (√2 · 2/√π · ½).
const GELU_TANH_SCALE: f64 = SQRT_2 * FRAC_2_SQRT_PI * 0.5;
/// 1/√(2π), the normal density's constant, computed as PyTorch does (2/√π · 1/√2 · ½).
const GELU_PDF_SCALE: f64 = FRAC_2_SQRT_PI * FRAC_1_SQRT_2 * 0.5;
/// The cubic coefficient of GELU's tanh approximation.
const GELU_TANH_CUBIC: f64 = 0.044_715;

/// The activations whose derivative is computed from their output (the fused fast path's
/// seven), in the order `list` shows them; [`INPUT_DERIVATIVE_ACTIVATIONS`] follow.
pub const ALL_ACTIVATIONS: [Activation; 7] = [
    Activation::Identity,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
    Activation::LeakyRelu {
        slope: DEFAULT_LEAKY_SLOPE,
    },
    Activation::Selu,
    Activation::Softsign,
];

impl Activation {
    /// The name as users type it; leaky ReLU with a non-default slope is `leaky-relu:S`.
    pub fn name(&self) -> String {
        match self {
            Activation::Identity => "identity".into(),
            Activation::Sigmoid => "sigmoid".into(),
            Activation::Tanh => "tanh".into(),
            Activation::Relu => "relu".into(),
            Activation::LeakyRelu { slope } if *slope == DEFAULT_LEAKY_SLOPE => "leaky-relu".into(),
            Activation::LeakyRelu { slope } => format!("leaky-relu:{slope}"),
            Activation::Selu => "selu".into(),
            Activation::Softsign => "softsign".into(),
            Activation::Gelu => "gelu".into(),
            Activation::GeluTanh => "gelu-tanh".into(),
            Activation::Silu => "silu".into(),
        }
    }

    /// Whether f'(z) can be computed from the output a = f(z) (true for the seven of
    /// [`ALL_ACTIVATIONS`]); GELU and SiLU need z ([`Activation::backward_from_input`]).
    pub fn derivative_from_output(&self) -> bool {
        !matches!(
            self,
            Activation::Gelu | Activation::GeluTanh | Activation::Silu
        )
    }

    /// The recommended gain for initializers (PyTorch's `calculate_gain`, except SELU: see
    /// the module docs).
    pub fn gain(&self) -> f64 {
        match self {
            Activation::Identity | Activation::Sigmoid | Activation::Softsign => 1.0,
            Activation::Tanh => 5.0 / 3.0,
            Activation::Relu => std::f64::consts::SQRT_2,
            Activation::LeakyRelu { slope } => (2.0 / (1.0 + slope * slope)).sqrt(),
            Activation::Selu => 1.0,
            Activation::Gelu => gelu_gain(),
            Activation::GeluTanh => GELU_TANH_GAIN,
            Activation::Silu => SILU_GAIN,
        }
    }

    /// The open range of outputs for bounded activations, `None` for unbounded ones.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        match self {
            Activation::Sigmoid => Some((0.0, 1.0)),
            Activation::Tanh | Activation::Softsign => Some((-1.0, 1.0)),
            _ => None,
        }
    }

    /// Whether units can be "dead" (output exactly 0 over a whole batch): ReLU, and leaky
    /// ReLU with slope 0 (which is ReLU).
    pub fn can_die(&self) -> bool {
        matches!(self, Activation::Relu)
            || matches!(self, Activation::LeakyRelu { slope } if *slope == 0.0)
    }

    /// Replaces pre-activations `z` by `f(z)`, in place.
    pub fn forward<T: Float>(&self, z: &mut [T]) {
        match *self {
            Activation::Identity => {}
            Activation::Sigmoid => T::sigmoid_in_place(z),
            Activation::Tanh => T::tanh_in_place(z),
            Activation::Relu => {
                for v in z {
                    *v = if *v > T::zero() { *v } else { T::zero() };
                }
            }
            Activation::LeakyRelu { slope } => {
                let s = T::of(slope);
                for v in z {
                    *v = if *v > T::zero() { *v } else { s * *v };
                }
            }
            Activation::Selu => {
                let lambda = T::of(SELU_LAMBDA);
                let la = T::of(SELU_LAMBDA * SELU_ALPHA);
                for v in z {
                    *v = if *v > T::zero() {
                        lambda * *v
                    } else {
                        la * v.exp_m1()
                    };
                }
            }
            Activation::Softsign => {
                for v in z {
                    *v = *v / (T::one() + v.abs());
                }
            }
            Activation::Gelu | Activation::GeluTanh | Activation::Silu => {
                T::input_activation_in_place(*self, z)
            }
        }
    }

    /// f(z) and f'(z) in `f64`, for the activations whose derivative needs z (GELU, SiLU),
    /// written as PyTorch's CPU kernels write them so that f64 trajectories agree:
    ///
    /// - gelu: f = z · ½(1 + erf(z/√2)), f' = Φ(z) + z·φ(z) = ½(1 + erf(z/√2)) + z · e^(−z²/2)/√(2π)
    /// - gelu-tanh: with u = √(2/π)(z + 0.044715 z³), t = tanh u:
    ///   f = ½z(1 + t), f' = ½(1 + t) + ½z(1 − t²)·√(2/π)(1 + 3·0.044715 z²)
    /// - silu: with s = σ(z): f = z·s, f' = s(1 + z(1 − s))
    ///
    /// The others go through [`Activation::value`] and a derivative from the output.
    pub fn value_and_derivative(&self, z: f64) -> (f64, f64) {
        match *self {
            Activation::Gelu => {
                let cdf = 0.5 * (1.0 + libm::erf(z * FRAC_1_SQRT_2));
                let pdf = GELU_PDF_SCALE * (z * z * -0.5).exp();
                (
                    z * 0.5 * (1.0 + libm::erf(z * FRAC_1_SQRT_2)),
                    cdf + z * pdf,
                )
            }
            Activation::GeluTanh => {
                let inner = GELU_TANH_SCALE * (z + GELU_TANH_CUBIC * (z * z * z));
                let t = inner.tanh();
                let left = 0.5 * z;
                let right = 1.0 + t;
                let tanh_derivative = 1.0 - t * t;
                let inner_derivative = GELU_TANH_SCALE * (1.0 + 3.0 * GELU_TANH_CUBIC * (z * z));
                (
                    left * right,
                    0.5 * right + left * tanh_derivative * inner_derivative,
                )
            }
            Activation::Silu => {
                let s = 1.0 / (1.0 + (-z).exp());
                (z / (1.0 + (-z).exp()), s * (1.0 + z * (1.0 - s)))
            }
            _ => {
                let a = self.value(z);
                let mut g = [1.0];
                self.backward(&[a], &mut g);
                (a, g[0])
            }
        }
    }

    /// Multiplies `grad` (dL/da) element-wise by f'(z), computed from the inputs `z`, so
    /// that `grad` becomes dL/dz: the backward pass of an activation layer that keeps its
    /// input. For the activations whose derivative comes from the output, pass their output
    /// to [`Activation::backward`] instead (the same bits as the fast path); this works for
    /// them too, through [`Activation::value_and_derivative`] in `f64`.
    ///
    /// In `f64` GELU, gelu-tanh and SiLU are computed by [`Activation::value_and_derivative`]
    /// (PyTorch's formulas, libm's `erf`); in `f32` by the vectorized kernels of
    /// [`crate::nn::float::fast`], tested against it (values within 1e-6 · max(1, |z|), derivatives within 2e-6 · max(1, |z|)).
    pub fn backward_from_input<T: Float>(&self, z: &[T], grad: &mut [T]) {
        assert_eq!(z.len(), grad.len(), "input and gradient lengths differ");
        T::input_activation_backward(*self, z, grad);
    }

    /// An activation layer's forward pass: writes `f(z)` into `out` (same length), leaving
    /// `z` as it is for the backward pass. Element-wise, so any split of the slices into
    /// pieces gives the same bits.
    pub fn forward_into<T: Float>(&self, z: &[T], out: &mut [T]) {
        assert_eq!(z.len(), out.len(), "input and output lengths differ");
        out.copy_from_slice(z);
        self.forward(out);
    }

    /// An activation layer's backward pass: turns `grad` (dL/da) into dL/dz, from the
    /// layer's input `z` or its output `a = f(z)`, whichever the derivative is written with
    /// ([`Activation::derivative_from_output`]). Element-wise, like
    /// [`Activation::forward_into`].
    pub fn backward_layer<T: Float>(&self, z: &[T], a: &[T], grad: &mut [T]) {
        if self.derivative_from_output() {
            self.backward(a, grad);
        } else {
            self.backward_from_input(z, grad);
        }
    }

    /// Replaces `z` (rows of `bias.len()` values, row-major) by `f(z + bias)`, in place:
    /// the bias added to each row, then the activation, in one pass over the rows.
    ///
    /// Panics if `z.len()` is not a multiple of `bias.len()` (a non-empty bias).
    pub fn forward_with_bias<T: Float>(&self, z: &mut [T], bias: &[T]) {
        assert!(
            !bias.is_empty() && z.len() % bias.len() == 0,
            "rows of {} values expected, got {} values",
            bias.len(),
            z.len()
        );
        if *self == Activation::Relu {
            for row in z.chunks_exact_mut(bias.len()) {
                for (v, &b) in row.iter_mut().zip(bias) {
                    let s = *v + b;
                    *v = if s > T::zero() { s } else { T::zero() };
                }
            }
            return;
        }
        // Other activations: the bias pass, then one kernel call over the whole slice (one
        // call per row costs more than it saves on small layers).
        for row in z.chunks_exact_mut(bias.len()) {
            for (v, &b) in row.iter_mut().zip(bias) {
                *v = *v + b;
            }
        }
        self.forward(z);
    }

    /// Multiplies `grad` (dL/da) element-wise by f'(z), computed from the outputs `a`, so
    /// that `grad` becomes dL/dz.
    pub fn backward<T: Float>(&self, a: &[T], grad: &mut [T]) {
        assert_eq!(
            a.len(),
            grad.len(),
            "activation and gradient lengths differ"
        );
        let one = T::one();
        let zero = T::zero();
        match *self {
            Activation::Identity => {}
            Activation::Sigmoid => {
                for (g, &a) in grad.iter_mut().zip(a) {
                    *g = *g * (a * (one - a));
                }
            }
            Activation::Tanh => {
                for (g, &a) in grad.iter_mut().zip(a) {
                    *g = *g * (one - a * a);
                }
            }
            Activation::Relu => {
                for (g, &a) in grad.iter_mut().zip(a) {
                    *g = if a > zero { *g } else { zero };
                }
            }
            Activation::LeakyRelu { slope } => {
                let s = T::of(slope);
                for (g, &a) in grad.iter_mut().zip(a) {
                    *g = if a > zero { *g } else { *g * s };
                }
            }
            Activation::Selu => {
                let lambda = T::of(SELU_LAMBDA);
                let la = T::of(SELU_LAMBDA * SELU_ALPHA);
                for (g, &a) in grad.iter_mut().zip(a) {
                    *g = *g * if a > zero { lambda } else { a + la };
                }
            }
            Activation::Softsign => {
                for (g, &a) in grad.iter_mut().zip(a) {
                    let d = one - a.abs();
                    *g = *g * (d * d);
                }
            }
            Activation::Gelu | Activation::GeluTanh | Activation::Silu => {
                panic!("{self}'s derivative needs its input z (backward_from_input)")
            }
        }
    }

    /// [`Activation::backward`] on rows of `sums.len()` values, and writes the sum of the
    /// resulting rows of dL/dz (added in row order) into `sums`: the layer's bias gradient,
    /// in the same pass.
    ///
    /// Panics if the lengths differ or are not a multiple of `sums.len()` (non-empty).
    pub fn backward_sum_rows<T: Float>(&self, a: &[T], grad: &mut [T], sums: &mut [T]) {
        let width = sums.len();
        assert!(
            width > 0 && a.len() == grad.len() && grad.len() % width == 0,
            "rows of {width} values expected"
        );
        sums.fill(T::zero());
        if *self == Activation::Relu {
            for (a_row, g_row) in a.chunks_exact(width).zip(grad.chunks_exact_mut(width)) {
                for ((g, &a), s) in g_row.iter_mut().zip(a_row).zip(sums.iter_mut()) {
                    *g = if a > T::zero() { *g } else { T::zero() };
                    *s = *s + *g;
                }
            }
            return;
        }
        // Other activations: one derivative pass over the whole slice, then the sums.
        self.backward(a, grad);
        for g_row in grad.chunks_exact(width) {
            for (s, &g) in sums.iter_mut().zip(g_row) {
                *s = *s + g;
            }
        }
    }

    /// Reference forward pass: `a = f(z)`, element by element (CS231n's `relu_forward`).
    ///
    /// z: (batch, units) → a: (batch, units).
    pub fn forward_array<T: Float>(&self, mut z: Array2<T>) -> Array2<T> {
        self.forward(z.as_slice_mut().expect("a standard-layout array"));
        z
    }

    /// Reference backward pass: `dz = da ⊙ f'(z)`, with f'(z) computed from the outputs
    /// `a = f(z)` (CS231n's `relu_backward`).
    ///
    /// a, da: (batch, units) → dz: (batch, units).
    pub fn backward_array<T: Float>(&self, a: ArrayView2<T>, mut da: Array2<T>) -> Array2<T> {
        let a = a.as_standard_layout();
        self.backward(
            a.as_slice().expect("a standard-layout array"),
            da.as_slice_mut().expect("a standard-layout array"),
        );
        da
    }

    /// The activation value at one point, in `f64` (for tests and tables).
    pub fn value(&self, z: f64) -> f64 {
        let mut v = [z];
        self.forward(&mut v);
        v[0]
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The valid activation names, for error messages.
pub fn activation_names() -> String {
    "identity, sigmoid, tanh, relu, leaky-relu (or leaky-relu:SLOPE), selu, softsign, gelu, \
     gelu-tanh, silu"
        .into()
}

impl FromStr for Activation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let (name, arg) = match lower.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (lower.as_str(), None),
        };
        let act = match name {
            "identity" | "linear" => Activation::Identity,
            "sigmoid" | "logistic" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "leaky-relu" | "leaky_relu" | "leakyrelu" => {
                let slope = match arg {
                    None => DEFAULT_LEAKY_SLOPE,
                    Some(a) => a.parse::<f64>().map_err(|_| {
                        format!("leaky-relu slope `{a}` is not a number (e.g. leaky-relu:0.1)")
                    })?,
                };
                if !slope.is_finite() || slope < 0.0 {
                    return Err(format!(
                        "leaky-relu slope must be a finite number ≥ 0, got {slope}"
                    ));
                }
                return Ok(Activation::LeakyRelu { slope });
            }
            "selu" => Activation::Selu,
            "softsign" => Activation::Softsign,
            "gelu" => Activation::Gelu,
            "gelu-tanh" | "gelu_tanh" => Activation::GeluTanh,
            "silu" | "swish" => Activation::Silu,
            _ => {
                return Err(format!(
                    "unknown activation `{s}`; expected one of: {}",
                    activation_names()
                ));
            }
        };
        if arg.is_some() {
            return Err(format!(
                "activation `{name}` takes no parameter (got `{s}`)"
            ));
        }
        Ok(act)
    }
}

impl TryFrom<String> for Activation {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Activation> for String {
    fn from(a: Activation) -> String {
        a.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for act in ALL_ACTIVATIONS {
            assert_eq!(act.name().parse::<Activation>().unwrap(), act);
        }
        let leaky: Activation = "leaky-relu:0.2".parse().unwrap();
        assert_eq!(leaky, Activation::LeakyRelu { slope: 0.2 });
        assert_eq!(leaky.name(), "leaky-relu:0.2");
        let err = "relux".parse::<Activation>().unwrap_err();
        assert!(err.contains("relux") && err.contains("tanh"), "{err}");
    }

    #[test]
    fn relu_derivative_at_zero_is_zero() {
        let a = [0.0_f64, 1e-300, 2.0];
        let mut g = [1.0, 1.0, 1.0];
        Activation::Relu.backward(&a, &mut g);
        assert_eq!(g, [0.0, 1.0, 1.0]);
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let h = 1e-6;
        for act in ALL_ACTIVATIONS {
            for &z in &[-2.3, -0.7, -0.1, 0.3, 0.9, 2.7] {
                let numeric = (act.value(z + h) - act.value(z - h)) / (2.0 * h);
                let mut g = [1.0];
                act.backward(&[act.value(z)], &mut g);
                assert!(
                    (numeric - g[0]).abs() < 1e-7,
                    "{act} at {z}: numeric {numeric} vs analytic {}",
                    g[0]
                );
            }
        }
    }

    #[test]
    fn input_derivatives_match_finite_differences() {
        let h = 1e-6;
        for act in ALL_ACTIVATIONS.iter().chain(&INPUT_DERIVATIVE_ACTIVATIONS) {
            assert_eq!(act.name().parse::<Activation>().unwrap(), *act);
            for &z in &[-4.1, -2.3, -0.7, -0.1, 0.3, 0.9, 2.7, 5.2] {
                let (value, derivative) = act.value_and_derivative(z);
                assert!((value - act.value(z)).abs() <= 1e-15 * value.abs().max(1.0));
                let numeric = (act.value(z + h) - act.value(z - h)) / (2.0 * h);
                let mut g = [1.0];
                act.backward_from_input(&[z], &mut g);
                assert_eq!(g[0], derivative);
                assert!(
                    (numeric - derivative).abs() < 1e-7,
                    "{act} at {z}: numeric {numeric} vs analytic {derivative}"
                );
            }
        }
        // GELU(z) = z Φ(z): Φ(1) = 0.8413447460685429 (tables of the normal CDF).
        assert!((Activation::Gelu.value(1.0) - 0.841_344_746_068_542_9).abs() < 1e-15);
        assert!(!Activation::Silu.derivative_from_output());
        assert!(Activation::Tanh.derivative_from_output());
    }

    #[test]
    fn gains_match_pytorch_table() {
        assert_eq!(Activation::Tanh.gain(), 5.0 / 3.0);
        assert_eq!(Activation::Relu.gain(), 2f64.sqrt());
        let leaky = Activation::LeakyRelu { slope: 0.2 };
        assert!((leaky.gain() - (2.0 / 1.04f64).sqrt()).abs() < 1e-15);
        assert_eq!(Activation::Sigmoid.gain(), 1.0);
        assert_eq!(Activation::Selu.gain(), 1.0);
    }
}
