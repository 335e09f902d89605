//! Error bounds of the vectorizable f32 kernels (`initlab::nn::float::fast`), measured
//! against f64 references at every 401st f32 bit pattern in [0, 90] and its negation.

use initlab::nn::Float;
use initlab::nn::float::{fast, sigmoid_f64};

fn sweep(limit: f32) -> impl Iterator<Item = f32> {
    let top = limit.to_bits();
    (0..=top)
        .step_by(401)
        .map(f32::from_bits)
        .flat_map(|x| [x, -x])
}

#[test]
fn exp_relative_error_below_4e_7() {
    let mut worst = 0.0_f64;
    for x in sweep(87.0) {
        let want = (x as f64).exp();
        let got = fast::exp(x) as f64;
        worst = worst.max(((got - want) / want).abs());
    }
    assert!(worst < 4e-7, "worst relative error {worst:e}");
}

#[test]
fn tanh_error_bounds() {
    let (mut abs, mut rel) = (0.0_f64, 0.0_f64);
    for x in sweep(20.0) {
        let want = (x as f64).tanh();
        let got = fast::tanh(x) as f64;
        abs = abs.max((got - want).abs());
        if want != 0.0 {
            rel = rel.max(((got - want) / want).abs());
        }
    }
    assert!(abs < 4e-7, "worst absolute error {abs:e}");
    assert!(rel < 4e-7, "worst relative error {rel:e}");
    assert_eq!(fast::tanh(0.0), 0.0);
    assert_eq!(fast::tanh(1e-30), 1e-30);
    // Saturated: exactly ±1, so the derivative 1 − a² is exactly 0.
    for x in [8.0_f32, 100.0, 1e30, f32::INFINITY] {
        assert_eq!(fast::tanh(x), 1.0, "tanh({x})");
        assert_eq!(fast::tanh(-x), -1.0, "tanh(-{x})");
    }
}

#[test]
fn sigmoid_relative_error_below_5e_7() {
    let mut rel = 0.0_f64;
    for x in sweep(87.0) {
        let want = sigmoid_f64(x as f64);
        let got = fast::sigmoid(x) as f64;
        rel = rel.max(((got - want) / want).abs());
    }
    assert!(rel < 5e-7, "worst relative error {rel:e}");
    assert_eq!(fast::sigmoid(1e4), 1.0);
    assert!(fast::sigmoid(-1e4) >= 0.0 && fast::sigmoid(-1e4) < 1e-37);
}

#[test]
fn slice_kernels_match_scalar_ones_bit_for_bit() {
    // Whichever copy (AVX2 or portable) runs, every element equals the scalar result.
    let xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.037).collect();
    let mut t = xs.clone();
    f32::tanh_in_place(&mut t);
    let mut s = xs.clone();
    f32::sigmoid_in_place(&mut s);
    for ((x, t), s) in xs.iter().zip(&t).zip(&s) {
        assert_eq!(t.to_bits(), fast::tanh(*x).to_bits());
        assert_eq!(s.to_bits(), fast::sigmoid(*x).to_bits());
    }
}

#[test]
fn nan_propagates() {
    assert!(fast::tanh(f32::NAN).is_nan());
    assert!(fast::sigmoid(f32::NAN).is_nan());
}

#[test]
fn erf_error_bounds() {
    let mut abs = 0.0_f64;
    let mut rel_near_zero = 0.0_f64;
    for x in sweep(10.0) {
        let want = libm::erf(x as f64);
        let got = fast::erf(x) as f64;
        abs = abs.max((got - want).abs());
        if x.is_normal() && x.abs() < 0.5 {
            rel_near_zero = rel_near_zero.max(((got - want) / want).abs());
        }
    }
    assert!(abs < 5e-7, "worst absolute error {abs:e}");
    assert!(
        rel_near_zero < 3e-7,
        "worst relative error near 0 {rel_near_zero:e}"
    );
    assert_eq!(fast::erf(0.0), 0.0);
    for x in [4.0_f32, 1e10, f32::INFINITY] {
        assert_eq!(fast::erf(x), 1.0, "erf({x})");
        assert_eq!(fast::erf(-x), -1.0, "erf(-{x})");
    }
    assert!(fast::erf(f32::NAN).is_nan());
}

/// GELU's, gelu-tanh's and SiLU's f32 kernels against the f64 formulas they approximate
/// (`Activation::value_and_derivative`, PyTorch's): values within 1e-6 · max(1, |z|) and
/// derivatives within 2e-6 · max(1, |z|), through the public slice calls the layer engine makes.
#[test]
fn input_activation_kernels_match_the_f64_formulas() {
    use initlab::nn::Activation;
    let zs: Vec<f32> = sweep(100.0).collect();
    for act in [Activation::Gelu, Activation::GeluTanh, Activation::Silu] {
        let mut values = zs.clone();
        act.forward(&mut values);
        let mut grads = vec![1.0_f32; zs.len()];
        act.backward_from_input(&zs, &mut grads);
        let (mut worst_value, mut worst_derivative) = (0.0_f64, 0.0_f64);
        for ((&z, &v), &d) in zs.iter().zip(&values).zip(&grads) {
            let (want_v, want_d) = act.value_and_derivative(z as f64);
            let scale = (z.abs() as f64).max(1.0);
            worst_value = worst_value.max((v as f64 - want_v).abs() / scale);
            worst_derivative = worst_derivative.max((d as f64 - want_d).abs() / scale);
        }
        eprintln!("{act}: value {worst_value:e}, derivative {worst_derivative:e}");
        assert!(
            worst_value < 1e-6,
            "{act}: worst value error {worst_value:e}"
        );
        assert!(
            worst_derivative < 2e-6,
            "{act}: worst derivative error {worst_derivative:e}"
        );
        // Far out: f(1e30) = 1e30 with f'(1e30) = 1, f(−1e30) = −0 with f'(−1e30) = 0, as
        // in PyTorch (whose f32 gelu-tanh derivative is NaN there: z² overflows); f(∞) = ∞;
        // NaN stays NaN.
        let mut v = [1e30_f32, -1e30, f32::INFINITY, f32::NAN, 0.0];
        let z = v;
        act.forward(&mut v);
        let mut g = [1.0_f32; 5];
        act.backward_from_input(&z, &mut g);
        assert_eq!(v[0], 1e30, "{act}(1e30)");
        assert_eq!(v[1], 0.0, "{act}(−1e30) = {}", v[1]);
        assert_eq!(v[2], f32::INFINITY, "{act}(∞)");
        assert_eq!(&g[..2], &[1.0, 0.0], "{act}'s derivative at ±1e30");
        assert_eq!((v[4], g[4]), (0.0, 0.5), "{act} at 0");
        assert!(v[3].is_nan() && g[3].is_nan(), "{act} at NaN");
    }
}

#[test]
fn exp_f64_relative_error_below_5e_16() {
    use initlab::nn::float::exp_f64;
    let mut worst = 0.0_f64;
    let top = 708.0_f64.to_bits();
    for bits in (0..=top).step_by(1 << 40).chain([top]) {
        let x = f64::from_bits(bits);
        for x in [x, -x] {
            let want = x.exp();
            let got = exp_f64(x);
            worst = worst.max(((got - want) / want).abs());
        }
    }
    assert!(worst < 5e-16, "worst relative error {worst:e}");
    assert_eq!(exp_f64(0.0), 1.0);
    assert!(exp_f64(f64::NAN).is_nan());
    assert_eq!(exp_f64(-1e300), exp_f64(-708.0));
    assert!(exp_f64(-1e300) > 0.0 && exp_f64(-1e300) < 1e-306);
}
