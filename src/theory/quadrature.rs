//! Gaussian expectations E_z[g(z)], z ~ N(0, 1), by quadrature.
//!
//! **The rule used: composite Gauss–Legendre, split at the kinks.** Every activation
//! initlab has is smooth except at u = 0 (ReLU, leaky ReLU and SELU have a kink or a jump
//! in φ′ there). One-dimensional expectations E_z[g(√q z)] integrate g(u) times the N(0, q)
//! density with 8-point Gauss–Legendre panels that have a boundary at u = 0: panels of
//! width ≤ 1/4 where |u| ≤ 40 (where the activations bend) and of width ≤ √q/4 beyond, out
//! to ±9√q (the mass beyond is below 1e-18). Two-dimensional expectations (the correlation
//! map) integrate over z₁ with panels split at z₁ = 0 and, for each z₁, over z₂ with panels
//! split where the second pre-activation crosses 0.
//!
//! **Gauss–Hermite** ([`gauss_hermite`], Golub–Welsch with the Jacobi eigen-solver of
//! [`super::linalg`]) is here as the textbook rule and a cross-check. It is exact for polynomials of degree
//! ≤ 2n − 1, but measured against the reference it converges slowly for the activations:
//! 96 nodes leave an error of 6e-6 in E[tanh(2z)²] (tanh's poles at ±iπ/2 sit close to the
//! real axis once scaled by √q), and a jump of φ′ at 0 (SELU) costs about 1e-2 in χ₁. So
//! the theory does not use it.
//!
//! **Accuracy** (checked in `tests/suite/theory.rs`): one-dimensional expectations to ≤ 1e-9
//! relative against a 20,000-panel reference for every activation and q from 1e-4 to 1e4
//! (1e-7 at q = 1e6, where the reference itself is coarse);
//! ReLU's E[φ(√q z)²] = q/2 and χ₁ = σ_w²/2 to ≤ 1e-12; the two-dimensional rule within
//! 1e-6 of the arc-cosine kernel for ReLU (panels of width 1.5 in z, for speed); Monte Carlo agreement (5 standard errors of
//! 400,000 draws) for every activation.

use std::sync::OnceLock;

/// Panel width, in the pre-activation u, of the one-dimensional rule where |u| ≤ 40.
const INNER_WIDTH: f64 = 0.25;
/// The one-dimensional rule's fine region, |u| ≤ this.
const INNER: f64 = 40.0;
/// Expectations integrate over ±this many standard deviations.
const TAILS: f64 = 9.0;
/// Panel width, in z, of the two-dimensional rule.
const PAIR_WIDTH: f64 = 1.5;

/// A quadrature rule for the standard normal: `E[g(z)] ≈ Σ weights[i] · g(nodes[i])`.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The nodes zᵢ, ascending.
    pub nodes: Vec<f64>,
    /// The weights wᵢ (they sum to 1).
    pub weights: Vec<f64>,
}

impl Rule {
    /// E[g(z)] by this rule.
    pub fn expect(&self, mut g: impl FnMut(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(&z, &w)| w * g(z))
            .sum()
    }
}

/// The n-point Gauss–Hermite rule for N(0, 1) (Golub–Welsch; see the module docs).
///
/// # Panics
/// If `n` is 0.
pub fn gauss_hermite(n: usize) -> Rule {
    assert!(n > 0, "a quadrature rule needs at least one node");
    let jacobi = ndarray::Array2::from_shape_fn((n, n), |(i, j)| {
        if i.abs_diff(j) == 1 {
            (i.max(j) as f64).sqrt()
        } else {
            0.0
        }
    });
    let (values, vectors) = super::linalg::symmetric_eigen(&jacobi);
    let mut pairs: Vec<(f64, f64)> = (0..n)
        .map(|i| (values[i], vectors[(0, i)] * vectors[(0, i)]))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Symmetrize: the exact rule is symmetric about 0, and exact symmetry is what makes
    // the ReLU family exact.
    for i in 0..n / 2 {
        let j = n - 1 - i;
        let z = (pairs[j].0 - pairs[i].0) / 2.0;
        let w = (pairs[j].1 + pairs[i].1) / 2.0;
        pairs[i] = (-z, w);
        pairs[j] = (z, w);
    }
    if n % 2 == 1 {
        pairs[n / 2].0 = 0.0;
    }
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    Rule {
        nodes: pairs.iter().map(|p| p.0).collect(),
        weights: pairs.iter().map(|p| p.1 / total).collect(),
    }
}

/// The n-point Gauss–Legendre rule on [-1, 1] (Newton's method on the Legendre
/// recurrence), as (nodes, weights) with weights summing to 2.
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n {
        // Start from the Chebyshev-like guess cos(π(i + 3/4)/(n + 1/2)).
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let k = k as f64;
                let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            // p1 = P_n(x), p0 = P_{n−1}(x).
            derivative = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let step = p1 / derivative;
            x -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        nodes[i] = x;
        weights[i] = 2.0 / ((1.0 - x * x) * derivative * derivative);
    }
    (nodes, weights)
}

fn legendre_8() -> &'static (Vec<f64>, Vec<f64>) {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    RULE.get_or_init(|| gauss_legendre(8))
}

/// ∫ f(u) du over [a, b] by `panels` equal 8-point Gauss–Legendre panels.
pub fn integrate(mut f: impl FnMut(f64) -> f64, a: f64, b: f64, panels: usize) -> f64 {
    let (x, w) = legendre_8();
    let h = (b - a) / panels as f64;
    let mut sum = 0.0;
    for p in 0..panels {
        let mid = a + (p as f64 + 0.5) * h;
        for (xi, wi) in x.iter().zip(w) {
            sum += wi * f(mid + 0.5 * h * xi);
        }
    }
    sum * 0.5 * h
}

/// ∫ f over [a, b] with panels no wider than `width` (at least one).
fn integrate_width(f: impl FnMut(f64) -> f64, a: f64, b: f64, width: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let panels = ((b - a) / width).ceil().max(1.0) as usize;
    integrate(f, a, b, panels)
}

/// The standard normal density.
fn density(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// E_z[g(√q · z)] for z ~ N(0, 1) and q ≥ 0 (see the module docs for the rule).
pub fn expect_scaled(q: f64, mut g: impl FnMut(f64) -> f64) -> f64 {
    let q = q.max(0.0);
    if q == 0.0 {
        return g(0.0);
    }
    let s = q.sqrt();
    // In u = √q z: ∫ g(u) N(u; 0, q) du.
    let mut h = |u: f64| g(u) * density(u / s) / s;
    let outer = TAILS * s;
    let inner = INNER.min(outer);
    let mut total = integrate_width(&mut h, -inner, 0.0, INNER_WIDTH.min(s / 4.0))
        + integrate_width(&mut h, 0.0, inner, INNER_WIDTH.min(s / 4.0));
    if outer > inner {
        total += integrate_width(&mut h, inner, outer, s / 4.0)
            + integrate_width(&mut h, -outer, -inner, s / 4.0);
    }
    total
}

/// E[g(u₁, u₂)] for a centred Gaussian pair with variances q₁, q₂ and correlation c
/// (|c| ≤ 1): u₁ = √q₁ z₁, u₂ = √q₂ (c z₁ + √(1 − c²) z₂), nested composite Gauss–Legendre
/// split where u₁ or u₂ crosses 0 (see the module docs).
pub fn expect_pair(q1: f64, q2: f64, c: f64, mut g: impl FnMut(f64, f64) -> f64) -> f64 {
    let (s1, s2) = (q1.max(0.0).sqrt(), q2.max(0.0).sqrt());
    let c = c.clamp(-1.0, 1.0);
    let orth = (1.0 - c * c).max(0.0).sqrt();
    let mut outer = |z1: f64| {
        let u1 = s1 * z1;
        let mut inner = |z2: f64| g(u1, s2 * (c * z1 + orth * z2)) * density(z2);
        let value = if orth < 1e-12 {
            g(u1, s2 * c * z1)
        } else {
            // u₂ = 0 at z₂ = −c z₁ / √(1 − c²): a panel boundary there.
            let kink = (-c * z1 / orth).clamp(-TAILS, TAILS);
            integrate_width(&mut inner, -TAILS, kink, PAIR_WIDTH)
                + integrate_width(&mut inner, kink, TAILS, PAIR_WIDTH)
        };
        value * density(z1)
    };
    integrate_width(&mut outer, -TAILS, 0.0, PAIR_WIDTH)
        + integrate_width(&mut outer, 0.0, TAILS, PAIR_WIDTH)
}
