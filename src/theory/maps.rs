//! The mean-field maps of a deep network at initialization (Poole et al. 2016; Schoenholz
//! et al. 2017), for one activation φ and one weight and bias scale (σ_w², σ_b²).
//!
//! In a wide network with weights N(0, σ_w²/fan_in) and biases N(0, σ_b²), every
//! pre-activation h of layer l is Gaussian over the draws, with variance q^l:
//!
//! - **length map** q^l = σ_w² E_z[φ(√q^{l−1} z)²] + σ_b², z ~ N(0, 1); its fixed point is q*;
//! - **χ₁** = σ_w² E_z[φ′(√q* z)²], the factor by which the squared gradient grows per
//!   layer going backwards (and the slope of the correlation map at c = 1);
//! - **correlation map** for two inputs whose pre-activations have correlation c:
//!   c^l = (σ_w² E[φ(u₁)φ(u₂)] + σ_b²) / q*, (u₁, u₂) centred Gaussian with variances q* and
//!   correlation c^{l−1}; c = 1 is always a fixed point, stable when χ₁ ≤ 1 (ordered: inputs
//!   become alike), unstable when χ₁ > 1 (chaotic: they decorrelate towards a c* < 1);
//! - **χ_c** = σ_w² E[φ′(u₁)φ′(u₂)] at c*, the slope there (χ_c = χ₁ at c* = 1);
//! - **depth scales** ξ_c = −1/ln χ_c (how many layers a correlation signal survives) and
//!   ξ_q = −1/ln χ_q, χ_q = dq^l/dq^{l−1} at q* (how fast the length settles), both infinite
//!   at criticality.
//!
//! Expectations are computed by the rules of [`super::quadrature`].

use super::phi::{dphi, phi};
use super::quadrature::{expect_pair, expect_scaled};
use crate::nn::Activation;

/// |χ₁ − 1| at most this counts as critical (ξ_c ≳ 1,000 layers).
pub const CRITICAL_TOLERANCE: f64 = 1e-3;
/// The length map is iterated at most this many layers looking for q*.
pub const MAX_LAYERS: usize = 5_000;
/// A q above this is reported as diverging (it would overflow within a few more layers).
pub const Q_LIMIT: f64 = 1e150;

/// An invalid mean-field setting: which setting, its value and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingError(pub String);

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingError {}

/// Checks σ_w² > 0, σ_b² ≥ 0, both finite; `what` names them for the message (e.g. the
/// flag or key they came from, `"sigma_w2"`).
pub fn check_scales(sigma_w2: f64, sigma_b2: f64) -> Result<(), SettingError> {
    if !(sigma_w2.is_finite() && sigma_w2 > 0.0) {
        return Err(SettingError(format!(
            "sigma_w2 (σ_w², the weight variance × fan_in) must be a finite number > 0, got \
             {sigma_w2}"
        )));
    }
    if !(sigma_b2.is_finite() && sigma_b2 >= 0.0) {
        return Err(SettingError(format!(
            "sigma_b2 (σ_b², the bias variance) must be a finite number ≥ 0, got {sigma_b2}"
        )));
    }
    Ok(())
}

/// Where the signal of a deep network goes, by χ₁.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// χ₁ < 1: gradients vanish, inputs become alike.
    Ordered,
    /// |χ₁ − 1| ≤ [`CRITICAL_TOLERANCE`]: the edge of chaos.
    Critical,
    /// χ₁ > 1: gradients explode, inputs decorrelate.
    Chaotic,
}

impl Phase {
    /// The phase of a χ₁.
    pub fn of(chi1: f64) -> Phase {
        if (chi1 - 1.0).abs() <= CRITICAL_TOLERANCE {
            Phase::Critical
        } else if chi1 < 1.0 {
            Phase::Ordered
        } else {
            Phase::Chaotic
        }
    }

    /// `ordered`, `critical` or `chaotic`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Ordered => "ordered",
            Phase::Critical => "critical",
            Phase::Chaotic => "chaotic",
        }
    }
}

/// The fixed point of the length map reached from an input q.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Length {
    /// The length map settles at q* (within 1e-12 relative, or after [`MAX_LAYERS`]
    /// layers of ever smaller steps).
    Settles(f64),
    /// q grows without bound (overflows, or still growing after [`MAX_LAYERS`] layers).
    Diverges,
}

impl Length {
    /// q*, or `None` when it diverges.
    pub fn value(self) -> Option<f64> {
        match self {
            Length::Settles(q) => Some(q),
            Length::Diverges => None,
        }
    }
}

/// One activation under one weight and bias scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanField {
    /// The activation φ.
    pub activation: Activation,
    /// σ_w² = Var(w) · fan_in.
    pub sigma_w2: f64,
    /// σ_b² = Var(b).
    pub sigma_b2: f64,
}

/// Everything the theory says about one (φ, σ_w², σ_b²), from unit input variance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Analysis {
    /// The fixed point of the length map, or diverging.
    pub q_star: Length,
    /// χ₁ at q* (at the last finite q when q diverges; exact for the scale-free ReLU family).
    pub chi1: f64,
    /// The stable fixed point of the correlation map.
    pub c_star: f64,
    /// The slope of the correlation map at c*.
    pub chi_c: f64,
    /// ξ_c = −1/ln χ_c, infinite at criticality.
    pub xi_c: f64,
    /// ξ_q = −1/ln χ_q, infinite when the length map does not settle geometrically.
    pub xi_q: f64,
    /// Ordered, critical or chaotic, by χ₁.
    pub phase: Phase,
}

/// −1/ln χ for χ < 1, infinite otherwise.
fn depth_scale(chi: f64) -> f64 {
    if chi < 1.0 && chi > 0.0 {
        -1.0 / chi.ln()
    } else if chi <= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

impl MeanField {
    /// A checked setting ([`check_scales`]).
    pub fn new(activation: Activation, sigma_w2: f64, sigma_b2: f64) -> Result<Self, SettingError> {
        check_scales(sigma_w2, sigma_b2)?;
        Ok(MeanField {
            activation,
            sigma_w2,
            sigma_b2,
        })
    }

    /// E_z[φ(√q z)²], the second moment of a unit's output when its input has variance q.
    pub fn second_moment(&self, q: f64) -> f64 {
        let f = self.activation;
        expect_scaled(q, |u| {
            let a = phi(f, u);
            a * a
        })
    }

    /// E_z[φ(√q z)], the mean of a unit's output.
    pub fn mean(&self, q: f64) -> f64 {
        let f = self.activation;
        expect_scaled(q, |u| phi(f, u))
    }

    /// E_z[φ′(√q z)²].
    pub fn derivative_second_moment(&self, q: f64) -> f64 {
        let f = self.activation;
        expect_scaled(q, |u| {
            let d = dphi(f, u);
            d * d
        })
    }

    /// The length map: q ↦ σ_w² E_z[φ(√q z)²] + σ_b².
    pub fn length_map(&self, q: f64) -> f64 {
        self.sigma_w2 * self.second_moment(q) + self.sigma_b2
    }

    /// χ₁ at variance q: σ_w² E_z[φ′(√q z)²].
    pub fn chi1(&self, q: f64) -> f64 {
        self.sigma_w2 * self.derivative_second_moment(q)
    }

    /// χ_q = d(length map)/dq at q: σ_w² E[φ(√q z) φ′(√q z) z]/√q (differentiating under
    /// the integral; no φ″ needed). At q → 0 it tends to σ_w² φ′(0)² for φ(0) = 0.
    pub fn chi_q(&self, q: f64) -> f64 {
        let q = q.max(1e-12);
        let s = q.sqrt();
        let f = self.activation;
        self.sigma_w2 * expect_scaled(q, |u| phi(f, u) * dphi(f, u) * (u / s)) / s
    }

    /// The correlation map at variance q: c ↦ (σ_w² E[φ(u₁)φ(u₂)] + σ_b²)/q′, where the
    /// pair has variances q and correlation c and q′ is the length map at q (= q* at the
    /// fixed point, and this keeps c = 1 a fixed point at any q).
    pub fn correlation_map(&self, q: f64, c: f64) -> f64 {
        let f = self.activation;
        let next = self.length_map(q);
        if next <= 0.0 {
            return 1.0;
        }
        let cov = expect_pair(q, q, c, |a, b| phi(f, a) * phi(f, b));
        ((self.sigma_w2 * cov + self.sigma_b2) / next).clamp(-1.0, 1.0)
    }

    /// χ_c at (q, c): the slope of the correlation map, σ_w² q E[φ′(u₁)φ′(u₂)] / q′ (Price's
    /// theorem; = σ_w² E[φ′φ′] at q*).
    pub fn chi_c(&self, q: f64, c: f64) -> f64 {
        let f = self.activation;
        let next = self.length_map(q);
        if next <= 0.0 {
            return 0.0;
        }
        let e = if c >= 1.0 {
            self.derivative_second_moment(q)
        } else {
            expect_pair(q, q, c, |a, b| dphi(f, a) * dphi(f, b))
        };
        self.sigma_w2 * q * e / next
    }

    /// The fixed point of the length map reached from input variance `q0`.
    pub fn fixed_point(&self, q0: f64) -> Length {
        let mut q = q0;
        for _ in 0..MAX_LAYERS {
            let next = self.length_map(q);
            if !next.is_finite() || next > Q_LIMIT {
                return Length::Diverges;
            }
            if next < 1e-300 {
                return Length::Settles(0.0);
            }
            if (next - q).abs() <= 1e-12 * q.max(next) {
                return Length::Settles(next);
            }
            q = next;
        }
        // Still moving after MAX_LAYERS layers: growing means no finite fixed point (e.g.
        // ReLU at σ_w² = 2 with σ_b² > 0 grows by σ_b² a layer); shrinking means a slow,
        // algebraic approach (e.g. tanh at σ_w² = 1, σ_b² = 0 towards 0).
        if self.length_map(q) > q * (1.0 + 1e-9) {
            Length::Diverges
        } else {
            Length::Settles(q)
        }
    }

    /// The stable fixed point of the correlation map at variance q: 1 when χ₁ ≤ 1 + the
    /// critical tolerance, otherwise the limit of iterating from c = 1/2.
    pub fn correlation_fixed_point(&self, q: f64) -> f64 {
        if self.chi_c(q, 1.0) <= 1.0 + CRITICAL_TOLERANCE {
            return 1.0;
        }
        let mut c = 0.5;
        for _ in 0..300 {
            let next = self.correlation_map(q, c);
            if (next - c).abs() < 1e-9 {
                return next;
            }
            c = next;
        }
        c
    }

    /// q*, χ₁, c*, χ_c, ξ_c, ξ_q and the phase, from unit input variance.
    pub fn analyze(&self) -> Analysis {
        let q_star = self.fixed_point(1.0);
        // Where q diverges, the scale-free activations (the ReLU family, identity) have the
        // same χ₁ at every large q; take q = 1e6 as "large".
        let q = q_star.value().unwrap_or(1e6);
        // At q* = 0 (the ordered ReLU family) φ′(0) alone is ambiguous (ReLU's derivative
        // jumps there): χ₁ is the limit q → 0⁺, σ_w² (φ′(0⁺)² + φ′(0⁻)²)/2 for ReLU.
        let chi1 = self.chi1(q.max(1e-200));
        let phase = Phase::of(chi1);
        let c_star = self.correlation_fixed_point(q);
        let chi_c = if c_star >= 1.0 {
            chi1
        } else {
            self.chi_c(q, c_star)
        };
        let xi_c = if phase == Phase::Critical {
            f64::INFINITY
        } else {
            depth_scale(chi_c)
        };
        let xi_q = match q_star {
            Length::Settles(q) => depth_scale(self.chi_q(q)),
            Length::Diverges => f64::INFINITY,
        };
        Analysis {
            q_star,
            chi1,
            c_star,
            chi_c,
            xi_c,
            xi_q,
            phase,
        }
    }
}
