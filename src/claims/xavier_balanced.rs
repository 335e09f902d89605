//! §4 and rows 1/3/5 of the guide: Xavier keeps the signal balanced both ways.

use super::measure::{propagate, push_propagation};
use super::{Check, Claim, ClaimReport, ClaimsOptions, balanced, cite_into, fx, init};
use crate::nn::Activation;

/// The claim, where the guide makes it, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "xavier-balanced",
    source: "§4, rows 1/3/5",
    statement: "Xavier keeps the signal's strength the same forward and backward (sigmoid, tanh).",
    measure,
};

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    xavier_balanced(
        &[Activation::Tanh, Activation::Sigmoid, Activation::Relu],
        o.depth,
        o.width,
        o.seed,
    )
}

/// §4, rows 1, 3, 5: Xavier keeps the signal balanced forward and backward (for the given
/// activations; the guide says sigmoid and tanh).
pub fn xavier_balanced(
    activations: &[Activation],
    depth: usize,
    width: usize,
    seed: u64,
) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for &a in activations {
        let p = propagate(&init("xavier-normal"), a, depth, width, seed);
        let cond = format!("xavier-normal, {}, depth {depth}", a.name());
        push_propagation(&mut evidence, &cond, &p);
        let (f, b) = (
            balanced(p.forward_per_layer),
            balanced(p.backward_per_layer),
        );
        let word = |ok: bool| if ok { "balanced" } else { "not balanced" };
        let theory = cite_into(&mut evidence, &cond, &init("xavier-normal"), a, &p, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "forward ×{}/layer ({}), backward ×{}/layer ({}); mean activation {}",
                fx(p.forward_per_layer),
                word(f),
                fx(p.backward_per_layer),
                word(b),
                fx(p.rows[0].stats.activation_mean)
            ),
            passed: f && b,
            theory,
        });
    }
    CLAIM.report(checks, evidence)
}
