//! §5 and rows 3/4 of the guide: He keeps ReLU's forward signal and starts stronger than
//! Xavier.

use super::measure::{propagate, push_propagation};
use super::{
    Check, Claim, ClaimReport, ClaimsOptions, act, balanced, cite, cite_into, ev, fx, init,
};
use crate::nn::Activation;

/// The claim, where the guide makes it, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "he-relu-forward",
    source: "§5, rows 3/4",
    statement: "He keeps ReLU's signal (leaky ReLU with the slope-aware form) and starts stronger.",
    measure,
};

/// The claim measured with `initlab claims`' options.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    he_keeps_relu(3 * o.depth, o.width, o.seed)
}

/// §5, rows 3/4: He keeps ReLU's (and, slope-aware, leaky ReLU's) forward signal, and
/// starts stronger than Xavier.
pub fn he_keeps_relu(depth: usize, width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    // Slope-unaware He on a leaky ReLU, for contrast: its signal grows by √(1+a²) per layer.
    let unaware = propagate(
        &init("he-normal"),
        act("leaky-relu:0.5"),
        depth,
        width,
        seed,
    );
    push_propagation(
        &mut evidence,
        &format!("contrast: he-normal (slope 0), leaky-relu:0.5, depth {depth}"),
        &unaware,
    );
    for (i, a) in [
        ("he-normal", "relu"),
        ("he-normal:slope=0.5", "leaky-relu:0.5"),
    ] {
        let p = propagate(&init(i), act(a), depth, width, seed);
        let cond = format!("{i}, {a}, depth {depth}");
        push_propagation(&mut evidence, &cond, &p);
        let contrast = if a == "relu" {
            String::new()
        } else {
            format!(
                " (slope-unaware he-normal: ×{} over the depth)",
                fx(unaware.forward_overall)
            )
        };
        let theory = cite_into(&mut evidence, &cond, &init(i), act(a), &p, width);
        checks.push(Check {
            condition: cond,
            finding: format!(
                "forward ×{}/layer, ×{} over the depth{contrast}",
                fx(p.forward_per_layer),
                fx(p.forward_overall)
            ),
            passed: balanced(p.forward_per_layer),
            theory,
        });
    }
    let he = propagate(&init("he-normal"), Activation::Relu, depth, width, seed);
    let xa = propagate(&init("xavier-normal"), Activation::Relu, depth, width, seed);
    let ratio_first = he.rows[0].stats.activation_std / xa.rows[0].stats.activation_std;
    let ratio_top =
        he.rows[depth - 1].stats.activation_std / xa.rows[depth - 1].stats.activation_std;
    let cond = format!("he-normal vs xavier-normal, relu, depth {depth}");
    ev(
        &mut evidence,
        &cond,
        "std ratio he/xavier, first layer",
        ratio_first,
    );
    ev(
        &mut evidence,
        &cond,
        "std ratio he/xavier, top layer",
        ratio_top,
    );
    // The theory's ratios: √2 at layer 1 (σ_w² 2 vs 1), then √2 more per layer (χ₁ 1 vs 1/2).
    let predicted = cite(&init("he-normal"), Activation::Relu, &he, width)
        .zip(cite(&init("xavier-normal"), Activation::Relu, &xa, width))
        .and_then(|(h, x)| {
            let first = h.first_std? / x.first_std?;
            let top = h.top_std? / x.top_std?;
            ev(
                &mut evidence,
                &cond,
                "theory: std ratio he/xavier, first layer",
                first,
            );
            ev(
                &mut evidence,
                &cond,
                "theory: std ratio he/xavier, top layer",
                top,
            );
            Some(format!(" (theory: {}× and {}×)", fx(first), fx(top)))
        })
        .unwrap_or_default();
    checks.push(Check {
        condition: cond,
        finding: format!(
            "He's activations {}× Xavier's at layer 1, {}× at layer {depth}{predicted}",
            fx(ratio_first),
            fx(ratio_top)
        ),
        passed: ratio_first > 1.0 && ratio_top > ratio_first,
        theory: None,
    });
    CLAIM.report(checks, evidence)
}
