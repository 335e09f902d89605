//! `initlab::nn::math`, the platform-independent elementary functions: each within a stated
//! number of ulps of the standard library's (the platform libm, itself within about half an
//! ulp of the exact value) over its whole useful range, exact at the special points, and
//! right at the edges (overflow, underflow, NaN, infinities).

use initlab::nn::math;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Distance in units in the last place between two finite doubles of the same sign (or
/// both zero).
fn ulps(a: f64, b: f64) -> u64 {
    if a == b {
        return 0;
    }
    assert!(
        a.is_finite() && b.is_finite() && (a.signum() == b.signum()),
        "{a:e} vs {b:e}"
    );
    a.abs().to_bits().abs_diff(b.abs().to_bits())
}

/// Checks `ours` against `std` at 200,000 points `x = sample(rng)`, allowing `max_ulps`, and
/// returns the worst distance seen.
fn check(
    name: &str,
    ours: fn(f64) -> f64,
    reference: fn(f64) -> f64,
    sample: impl Fn(&mut ChaCha8Rng) -> f64,
    max_ulps: u64,
) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut worst = 0;
    for _ in 0..200_000 {
        let x = sample(&mut rng);
        let (a, b) = (ours(x), reference(x));
        let d = ulps(a, b);
        assert!(
            d <= max_ulps,
            "{name}({x:e}) = {a:e}, std gives {b:e}: {d} ulps"
        );
        worst = worst.max(d);
    }
    worst
}

#[test]
fn exp_within_one_ulp() {
    check(
        "exp",
        math::exp,
        f64::exp,
        |r| r.random_range(-745.0..709.7),
        1,
    );
    check("exp", math::exp, f64::exp, |r| r.random_range(-1.0..1.0), 1);
    check(
        "exp",
        math::exp,
        f64::exp,
        |r| r.random_range(-1e-8..1e-8),
        1,
    );
    assert_eq!(math::exp(0.0), 1.0);
    assert_eq!(math::exp(1.0), std::f64::consts::E);
    assert_eq!(math::exp(710.0), f64::INFINITY);
    assert_eq!(math::exp(-746.0), 0.0);
    assert_eq!(math::exp(f64::NEG_INFINITY), 0.0);
    assert!(math::exp(f64::NAN).is_nan());
    // Subnormal results: 2^-1074 is the smallest.
    assert_eq!(
        math::exp(-1074.0 * std::f64::consts::LN_2),
        f64::from_bits(1)
    );
}

#[test]
fn ln_within_one_ulp() {
    check("ln", math::ln, f64::ln, |r| r.random_range(0.5..2.0), 1);
    check(
        "ln",
        math::ln,
        f64::ln,
        |r| 10f64.powf(r.random_range(-307.0..308.0)),
        1,
    );
    assert_eq!(math::ln(1.0), 0.0);
    assert_eq!(math::ln(std::f64::consts::E), 1.0);
    assert_eq!(math::ln(2.0), std::f64::consts::LN_2);
    assert_eq!(math::ln(0.0), f64::NEG_INFINITY);
    assert_eq!(math::ln(f64::INFINITY), f64::INFINITY);
    assert!(math::ln(-1.0).is_nan());
    assert!((math::ln(f64::from_bits(1)) - (-744.4400719213812)).abs() < 1e-12);
}

#[test]
fn ln_1p_and_exp_m1_within_two_ulps_also_near_zero() {
    check(
        "ln_1p",
        math::ln_1p,
        f64::ln_1p,
        |r| r.random_range(0.0..1.0),
        2,
    );
    check(
        "ln_1p",
        math::ln_1p,
        f64::ln_1p,
        |r| 10f64.powf(r.random_range(-20.0..5.0)),
        2,
    );
    check(
        "ln_1p",
        math::ln_1p,
        f64::ln_1p,
        |r| r.random_range(-0.999..0.0),
        2,
    );
    check(
        "exp_m1",
        math::exp_m1,
        f64::exp_m1,
        |r| r.random_range(-40.0..700.0),
        2,
    );
    check(
        "exp_m1",
        math::exp_m1,
        f64::exp_m1,
        |r| r.random_range(-1.0..1.0) * 10f64.powf(r.random_range(-20.0..0.0)),
        2,
    );
    assert_eq!(math::exp_m1(-50.0), -1.0);
    assert_eq!(math::ln_1p(-1.0), f64::NEG_INFINITY);
    assert_eq!(math::ln_1p(1e-30), 1e-30);
}

#[test]
fn tanh_within_three_ulps_and_odd() {
    check(
        "tanh",
        math::tanh,
        f64::tanh,
        |r| r.random_range(-25.0..25.0),
        3,
    );
    check(
        "tanh",
        math::tanh,
        f64::tanh,
        |r| r.random_range(-1.0..1.0) * 10f64.powf(r.random_range(-20.0..0.0)),
        3,
    );
    for x in [0.1, 0.5, 1.0, 3.0, 10.0] {
        assert_eq!(math::tanh(-x), -math::tanh(x));
    }
    assert_eq!(math::tanh(30.0), 1.0);
    assert_eq!(math::tanh(0.0), 0.0);
}

#[test]
fn sin_cos_within_one_ulp_and_exact_where_known() {
    let turns = |r: &mut ChaCha8Rng| r.random_range(-20.0..20.0);
    check("sin", math::sin, f64::sin, turns, 1);
    check("cos", math::cos, f64::cos, turns, 1);
    let big = |r: &mut ChaCha8Rng| r.random_range(-1e6..1e6);
    check("sin", math::sin, f64::sin, big, 1);
    check("cos", math::cos, f64::cos, big, 1);
    // Near multiples of π/2, where the reduction cancels: relative accuracy still holds.
    for n in 1..2000 {
        let x = n as f64 * std::f64::consts::FRAC_PI_2;
        for x in [x, x.next_up(), x.next_down()] {
            for (name, ours, std) in [
                (
                    "sin",
                    math::sin as fn(f64) -> f64,
                    f64::sin as fn(f64) -> f64,
                ),
                ("cos", math::cos, f64::cos),
            ] {
                let (a, b) = (ours(x), std(x));
                assert!(ulps(a, b) <= 1, "{name}({x:e}) = {a:e}, std gives {b:e}");
            }
        }
    }
    assert_eq!(math::sin(0.0), 0.0);
    assert_eq!(math::cos(0.0), 1.0);
    assert_eq!(math::sin(std::f64::consts::FRAC_PI_2), 1.0);
    assert_eq!(math::sin(std::f64::consts::PI), 1.2246467991473532e-16);
    assert_eq!(math::cos(std::f64::consts::PI), -1.0);
    assert!(math::sin(f64::INFINITY).is_nan() && math::cos(f64::NAN).is_nan());
}
