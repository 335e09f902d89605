//! The edge of chaos for any activation and bias variance: the σ_w² at which χ₁ = 1 at the
//! fixed point q* of the length map — what the `critical` start draws with.
//!
//! Two equations in (σ_w², q*), writing M(q) = E_z φ(√q z)² and D(q) = E_z φ′(√q z)²:
//! q* = σ_w² M(q*) + σ_b² (q* is a fixed point) and σ_w² D(q*) = 1 (χ₁ = 1 there). The
//! second gives σ_w² = 1/D(q*); put in the first, q* is a root of
//!
//! ```text
//! h(q) = M(q) / D(q) + σ_b² − q.
//! ```
//!
//! - With σ_b² = 0 and φ(0) = 0, q* = 0 (h(0) = 0, and h < 0 after it for the activations
//!   here): σ_w² = 1/D(q) as q → 0⁺ = 1/φ′(0)², the two sides of a kink averaged. That
//!   is 2 for ReLU (He), 2/(1 + a²) for leaky ReLU (He with its slope), 1 for tanh and
//!   softsign (LeCun: Xavier on a square layer), 4 for GELU and SiLU (φ′(0) = 1/2), and
//!   2/(λ²(1 + α²)) ≈ 0.4768 for SELU. One rule, and He and Xavier are two of its cases.
//!   A caveat the numbers hide: for GELU and SiLU that q* = 0 is not stable (E φ²/q grows
//!   from 1/4 towards ReLU's 1/2, so at σ_w² = 4 the length map grows away from 0, towards
//!   where their χ₁ is near 2): σ_w² = 4 is the edge of chaos only for small signals, and a
//!   bias (σ_b² > 0) gives them a q* > 0 to sit at (`initlab list` shows both).
//! - Otherwise h(0⁺) = σ_b² + φ(0)²/φ′(0)² > 0, and q* is the smallest root of h, found by
//!   a geometric scan and bisection. ReLU and leaky ReLU have none (h ≡ σ_b²): their only
//!   edge of chaos is σ_b² = 0, and that is an error naming the activation.
//! - The identity has χ₁ = σ_w² at every q: σ_w² = 1 (q* is infinite when σ_b² > 0).
//!
//! As everywhere in [`super::maps`], the maps use the second moment E φ², not the variance:
//! for an activation with a non-zero mean (sigmoid) the number is the theory's, not a
//! recommendation.

use super::maps::{MAX_LAYERS, MeanField};
use super::phi::{dphi, phi};
use crate::nn::Activation;

/// The critical point found for one activation and σ_b².
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Critical {
    /// σ_w² = Var(w) · fan_in at which χ₁ = 1.
    pub sigma_w2: f64,
    /// The fixed point q* there (`None` for the identity, whose χ₁ does not depend on q).
    pub q_star: Option<f64>,
}

/// Where the scan for a root of h starts: just above q = 0, far below any scale that matters
/// and far above underflow.
const Q_TINY: f64 = 1e-200;
/// A pre-activation just off 0, on either side of a kink.
const U_TINY: f64 = 1e-150;
/// The largest q the scan for a root of h looks at.
const Q_MAX: f64 = 1e8;

/// σ_w² on the edge of chaos for `activation` and bias variance `sigma_b2` (see the module
/// docs), or why there is none.
pub fn critical_sigma_w2(activation: Activation, sigma_b2: f64) -> Result<Critical, String> {
    if !(sigma_b2.is_finite() && sigma_b2 >= 0.0) {
        return Err(format!(
            "sigma_b2 must be a finite number ≥ 0, got {sigma_b2}"
        ));
    }
    if activation == Activation::Identity {
        return Ok(Critical {
            sigma_w2: 1.0,
            q_star: None,
        });
    }
    // σ_w² only scales the maps; the moments below do not depend on it.
    let field = MeanField {
        activation,
        sigma_w2: 1.0,
        sigma_b2,
    };
    let at = |q: f64| Critical {
        sigma_w2: 1.0 / field.derivative_second_moment(q),
        q_star: Some(q),
    };
    let phi0 = phi(activation, 0.0);
    if sigma_b2 == 0.0 && phi0 == 0.0 {
        // 1/φ′(0)², the two one-sided derivatives averaged in square: in closed form, so that
        // ReLU gives exactly 2 and tanh exactly 1.
        let slope = |u: f64| dphi(activation, u).powi(2);
        let mean_square = (slope(U_TINY) + slope(-U_TINY)) / 2.0;
        return Ok(Critical {
            sigma_w2: 1.0 / mean_square,
            q_star: Some(0.0),
        });
    }
    let h = |q: f64| field.second_moment(q) / field.derivative_second_moment(q) + sigma_b2 - q;
    // Scan up geometrically for the first q where h turns negative; h > 0 just above 0.
    let mut low = Q_TINY;
    let mut high = 1e-6;
    while h(high) > 0.0 {
        low = high;
        high *= 2.0;
        if high > Q_MAX {
            return Err(format!(
                "{activation} has no edge of chaos with sigma_b2 = {sigma_b2}: χ₁ = 1 at no \
                 fixed point of the length map (for the ReLU family only sigma_b2 = 0 has \
                 one); use sigma_b2 = 0 or another start"
            ));
        }
    }
    for _ in 0..MAX_LAYERS.min(200) {
        let mid = 0.5 * (low + high);
        if h(mid) > 0.0 {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-15 * high {
            break;
        }
    }
    Ok(at(0.5 * (low + high)))
}
