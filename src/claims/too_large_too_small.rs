//! §3 of the guide: too-large starts blow up or saturate, too-small ones shrink to ~0.

use super::measure::{propagate, push_propagation};
use super::{BALANCED, Check, Claim, ClaimReport, ClaimsOptions, SHRUNK, act, cite_into, fx, init};

/// The claim, where the guide makes it, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "too-large-too-small",
    source: "§3",
    statement: "Too-large weights make outputs blow up; too-small ones make everything shrink to ~0.",
    measure,
};

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    too_large_or_small(o.depth, o.width, o.seed)
}

/// §3: too-large starts blow up (ReLU) or saturate (tanh); too-small ones shrink to ~0.
pub fn too_large_or_small(depth: usize, width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for a in ["tanh", "relu"] {
        let huge = propagate(&init("huge"), act(a), depth, width, seed);
        let cond = format!("huge σ=10, {a}, depth {depth}, width {width}");
        push_propagation(&mut evidence, &cond, &huge);
        let (passed, finding) = match huge.saturated {
            Some(s) => (s > 0.5, format!("{:.0} % of outputs saturated", 100.0 * s)),
            None => (
                huge.forward_per_layer > BALANCED.1,
                format!("activation std ×{} per layer", fx(huge.forward_per_layer)),
            ),
        };
        let theory = cite_into(&mut evidence, &cond, &init("huge"), act(a), &huge, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "{finding} (σ·√fan_in = {})",
                fx(10.0 * (width as f64).sqrt())
            ),
            passed,
            theory,
        });
        let tiny = propagate(&init("tiny"), act(a), depth, width, seed);
        let cond = format!("tiny σ=0.01, {a}, depth {depth}, width {width}");
        push_propagation(&mut evidence, &cond, &tiny);
        let theory = cite_into(&mut evidence, &cond, &init("tiny"), act(a), &tiny, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "activation std ×{} per layer, ×{} over the depth (σ·√fan_in = {})",
                fx(tiny.forward_per_layer),
                fx(tiny.forward_overall),
                fx(0.01 * (width as f64).sqrt())
            ),
            passed: tiny.forward_overall < SHRUNK,
            theory,
        });
    }
    CLAIM.report(checks, evidence)
}
