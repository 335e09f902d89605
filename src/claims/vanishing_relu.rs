//! Row 6 of the guide: He prevents vanishing gradients with ReLU, Xavier mostly.

use super::measure::{propagate, push_propagation};
use super::{BALANCED, Check, Claim, ClaimReport, ClaimsOptions, cite_into, fx, init};
use crate::nn::Activation;

/// The claim, where the guide makes it, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "vanishing-relu",
    source: "row 6",
    statement: "He is very effective against vanishing gradients with ReLU; Xavier mostly, not perfectly.",
    measure,
};

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    vanishing_relu(&[5, 3 * o.depth], o.width, o.seed)
}

/// Row 6: He prevents vanishing gradients for ReLU; Xavier "mostly, not perfect".
pub fn vanishing_relu(depths: &[usize], width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for &depth in depths {
        let he = propagate(&init("he-normal"), Activation::Relu, depth, width, seed);
        let xa = propagate(&init("xavier-normal"), Activation::Relu, depth, width, seed);
        let c_he = format!("he-normal, relu, depth {depth}");
        let c_xa = format!("xavier-normal, relu, depth {depth}");
        push_propagation(&mut evidence, &c_he, &he);
        push_propagation(&mut evidence, &c_xa, &xa);
        let t_he = cite_into(
            &mut evidence,
            &c_he,
            &init("he-normal"),
            Activation::Relu,
            &he,
            width,
        );
        let t_xa = cite_into(
            &mut evidence,
            &c_xa,
            &init("xavier-normal"),
            Activation::Relu,
            &xa,
            width,
        );
        checks.push(Check {
            condition: c_he,
            finding: format!(
                "gradient at layer 1 = {}× the top's",
                fx(he.backward_overall)
            ),
            passed: he.backward_overall > 0.1,
            theory: t_he,
        });
        // "Mostly, not perfect": the gradient shrinks, but keeps ≥ 1/10 of its size.
        let mostly = xa.backward_overall < 1.0 / BALANCED.1 && xa.backward_overall >= 0.1;
        checks.push(Check {
            condition: c_xa,
            finding: format!(
                "gradient at layer 1 = {}× the top's (×{}/layer){}",
                fx(xa.backward_overall),
                fx(xa.backward_per_layer),
                if mostly {
                    ": shrinks, not vanished"
                } else {
                    ": vanished (< 1/10)"
                }
            ),
            passed: mostly,
            theory: t_xa,
        });
    }
    CLAIM.report(checks, evidence)
}
