//! Row 7 of the guide: both Xavier and He prevent exploding gradients.

use super::measure::{propagate, push_propagation};
use super::{BALANCED, Check, Claim, ClaimReport, ClaimsOptions, act, cite_into, fx, init};
use crate::nn::Activation;

/// The claim, where the guide makes it, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "no-exploding",
    source: "row 7",
    statement: "Both Xavier and He prevent exploding gradients.",
    measure,
};

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    no_exploding(3 * o.depth, o.width, o.seed)
}

/// Row 7: both prevent exploding gradients (on their own activations, and swapped).
pub fn no_exploding(depth: usize, width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for (i, a) in [
        ("xavier-normal", "tanh"),
        ("he-normal", "relu"),
        ("xavier-normal", "relu"),
        ("he-normal", "tanh"),
    ] {
        let p = propagate(&init(i), act(a), depth, width, seed);
        let cond = format!("{i}, {a}, depth {depth}");
        push_propagation(&mut evidence, &cond, &p);
        let theory = cite_into(&mut evidence, &cond, &init(i), act(a), &p, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "gradient ×{}/layer going down, ×{} at layer 1",
                fx(p.backward_per_layer),
                fx(p.backward_overall)
            ),
            passed: p.backward_per_layer <= BALANCED.1 && p.backward_overall < 2.0,
            theory,
        });
    }
    let huge = propagate(&init("huge"), Activation::Tanh, depth, width, seed);
    let cond = format!("contrast: huge σ=10, tanh, depth {depth}");
    push_propagation(&mut evidence, &cond, &huge);
    CLAIM.report(checks, evidence)
}
