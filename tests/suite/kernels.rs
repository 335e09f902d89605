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
