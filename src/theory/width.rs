//! Width exponents: how the size of a layer's coordinates (mean |x| of its pre-activations,
//! its activations, the logits) scales with the width n, at the start and after training
//! steps at a fixed learning rate, per parametrization and optimizer. `initlab coord-check`
//! prints these beside the slopes it measures.
//!
//! # The table (exponent e: mean |x| ∝ n^e)
//!
//! At the start every parametrization keeps pre-activations of order 1 (e = 0); μP's
//! readout starts with variance ∝ 1/fan_in², so its logits start at n^(−½).
//!
//! After one step, a layer's pre-activation is its start plus the change its own update
//! makes, ΔW·x (Tensor Programs V, §5 and Table 3, "desiderata": μP is the scaling that makes
//! this change Θ(1) in *every* layer). Taking the first update from the start, with δ the
//! back-propagated gradient (coordinates ∝ the readout's scale, n^(−½) in SP and NTK) and
//! x·x ∝ n for a width-n input:
//!
//! | parametrization | optimizer | input ΔW·x | hidden ΔW·x | output ΔW·x |
//! |---|---|---|---|---|
//! | SP | SGD | n^(−½) | n^(½) | n^1 |
//! | SP | Adam | n^0 | n^1 | n^1 |
//! | NTK | SGD | n^(−½) | n^(−½) | n^0 |
//! | NTK | Adam | n^0 | n^(½) | n^(½) |
//! | μP | SGD | n^0 | n^0 | n^0 |
//! | μP | Adam | n^0 | n^0 | n^0 |
//!
//! (SP SGD: hidden ΔW·x = η·δ·(x·x) ∝ n^(−½)·n; output η·(x·x) ∝ n. Adam's first step is
//! η·sign(g) per entry, so ΔW·x ∝ η·Σ|x| ∝ n for any width-n input, × the forward
//! multiplier: n^(−½) for NTK after the first layer. NTK SGD: the effective learning rate of
//! W = w/√n is η/n.) The coordinate's exponent after the step is the larger of the start's
//! and the change's: [`coordinate_exponent`]. An activation's is the same for an unbounded
//! activation (ReLU, GELU, …) and at most 0 for a bounded one (tanh, sigmoid saturate).
//!
//! These are the leading orders of one step from the start, for each layer's own update.
//! Later steps under SP compound (a grown hidden layer feeds a bigger x to the next update;
//! the readout's change correlates with the last hidden layer's under Adam, up to n^(3/2)
//! for the logits), so SP's measured slopes after several steps can exceed the table; the
//! table's claim for μP is that nothing grows, at every step.

use crate::nn::Activation;
use crate::nn::parametrization::{Family, Parametrization, Role};

/// The exponent of a layer's own first update's contribution ΔW·x (the table's).
pub fn update_exponent(p: Parametrization, family: Family, role: Role) -> f64 {
    use Family::*;
    use Parametrization::*;
    use Role::*;
    match (p, family, role) {
        (Mup, _, _) => 0.0,
        (Standard, Sgd, Input) => -0.5,
        (Standard, Sgd, Hidden) => 0.5,
        (Standard, Sgd, Output) => 1.0,
        (Standard, Adam, Input) => 0.0,
        (Standard, Adam, Hidden | Output) => 1.0,
        (Ntk, Sgd, Input | Hidden) => -0.5,
        (Ntk, Sgd, Output) => 0.0,
        (Ntk, Adam, Input) => 0.0,
        (Ntk, Adam, Hidden | Output) => 0.5,
    }
}

/// The exponent of a layer's pre-activations (the logits for the output layer) at the start.
pub fn start_exponent(p: Parametrization, role: Role) -> f64 {
    match (p, role) {
        (Parametrization::Mup, Role::Output) => -0.5,
        _ => 0.0,
    }
}

/// The exponent of a layer's pre-activations (logits) at `step` (0 = the start): the
/// start's, then the larger of the start's and the first update's.
pub fn coordinate_exponent(p: Parametrization, family: Family, role: Role, step: usize) -> f64 {
    let start = start_exponent(p, role);
    if step == 0 {
        start
    } else {
        start.max(update_exponent(p, family, role))
    }
}

/// The exponent of the activations after a layer whose pre-activations scale as
/// `pre_exponent`: the same, capped at 0 for a bounded activation.
pub fn activation_exponent(activation: Activation, pre_exponent: f64) -> f64 {
    if is_bounded(activation) {
        pre_exponent.min(0.0)
    } else {
        pre_exponent
    }
}

/// Whether the activation's output stays bounded for large inputs of either sign (tanh,
/// sigmoid, …), found by evaluating it at ±10⁶.
pub fn is_bounded(activation: Activation) -> bool {
    let mut v = [1e6_f64, -1e6];
    activation.forward(&mut v);
    v.iter().all(|y| y.abs() <= 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mup_keeps_every_coordinate_after_the_first_step() {
        for family in [Family::Sgd, Family::Adam] {
            for role in [Role::Input, Role::Hidden, Role::Output] {
                assert_eq!(
                    coordinate_exponent(Parametrization::Mup, family, role, 3),
                    0.0
                );
            }
        }
        assert!(is_bounded(Activation::Tanh));
        assert!(!is_bounded(Activation::Relu));
        assert_eq!(activation_exponent(Activation::Tanh, 0.5), 0.0);
    }
}
