//! Starts that depend on where a layer sits in the network: its [`LayerPlace`] (position,
//! fans, the activation after it, and its residual branch if it is in one), and the rules of
//! the catalogue rows that resolve to another start layer by layer.
//!
//! - `critical`: σ_w² of the activation after the layer, from [`crate::theory`] — the
//!   edge of chaos — drawn as `mean-field` with that σ_w².
//! - `fixup`: zero for the classifier and each branch's last layer, He scaled down by the
//!   number of branches inside them, He elsewhere — drawn as `zeros`, `normal` or `he-normal`,
//!   so its draws are He's standard normals (common random numbers).
//! - `rezero`, `skipinit`, `gradinit`, `metainit`: the base start everywhere (their part is
//!   α, or the scales they learn after drawing; see the catalogue).
//!
//! A start resolved for one layer is a plain start: it draws that plain start's numbers from
//! the layer's own RNG stream, bit for bit.

use super::catalogue::SCHEMES;
use super::parsing::{ParamValue, Values, parse_init};
use super::schemes::{Fan, Init, builtin};
use crate::nn::activation::Activation;

/// Where a layer sits in the network, and its shape: what a formula's variables stand for
/// and what place-dependent starts (Fixup) read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerPlace {
    /// 1-based position among the dense layers, depth first (1 = first hidden layer;
    /// `depth` = the output layer).
    pub layer: usize,
    /// Number of weight layers.
    pub depth: usize,
    /// The layer's fans.
    pub fan: Fan,
    /// The activation after the layer (identity for the output layer).
    pub activation: Activation,
    /// The residual branch the layer is in, if any (a skip path's projection is not).
    pub branch: Option<Branch>,
}

/// A dense layer's place inside a residual branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Branch {
    /// 1-based position among the branch's dense layers.
    pub position: usize,
    /// Number of dense layers in this branch (Fixup's m).
    pub layers: usize,
    /// Number of residual branches in the network (Fixup's L).
    pub branches: usize,
}

impl LayerPlace {
    /// Layer `layer` of `depth` dense layers of a plain chain (no residual branch).
    pub fn plain(layer: usize, depth: usize, fan: Fan, activation: Activation) -> LayerPlace {
        LayerPlace {
            layer,
            depth,
            fan,
            activation,
            branch: None,
        }
    }

    /// A hidden layer of a plain network (the first of two): where a start is drawn when only
    /// the fans and the activation are known ([`Init::sample_f64`], the theory's scales).
    pub fn hidden(fan: Fan, activation: Activation) -> LayerPlace {
        LayerPlace::plain(1, 2, fan, activation)
    }

    /// Whether this is the output layer (the classifier).
    pub fn is_output(&self) -> bool {
        self.layer == self.depth
    }
}

/// `critical`: `mean-field` with σ_w² solved by [`crate::theory::critical_sigma_w2`] for the
/// activation after the layer and `sigma_b2`, so that χ₁ = 1 at the fixed point q*.
pub(super) fn critical(v: &Values, place: &LayerPlace) -> Result<Init, String> {
    let sigma_b2 = v.number("sigma_b2");
    let critical = crate::theory::critical_sigma_w2(place.activation, sigma_b2)?;
    let number = |x: f64| ParamValue::Number(x);
    parse_init(
        "mean-field",
        &[
            ("sigma_w2".into(), number(critical.sigma_w2)),
            ("sigma_b2".into(), number(sigma_b2)),
            (
                "distribution".into(),
                ParamValue::Text(v.distribution().name().into()),
            ),
        ],
    )
}

/// `fixup` (Zhang et al. 2019, §3): the classifier and the last layer of every residual
/// branch start at 0, so that every block starts as the identity and the network as a
/// constant; the other layers of a branch are He-normal scaled by L^(−1/(2m−2)) (L branches
/// of m layers), so that a step of SGD changes the output by Θ(lr) whatever the depth; the
/// stem and skip projections are He-normal.
pub(super) fn fixup(_: &Values, place: &LayerPlace) -> Result<Init, String> {
    let he_std = (2.0 / place.fan.fan_in as f64).sqrt();
    Ok(match place.branch {
        _ if place.is_output() => builtin("zeros", &[]),
        Some(b) if b.position == b.layers => builtin("zeros", &[]),
        Some(b) => {
            // m ≥ 2 here: with one layer per branch that layer is the branch's last.
            let exponent = -1.0 / (2.0 * b.layers as f64 - 2.0);
            let std = he_std * (b.branches as f64).powf(exponent);
            builtin("normal", &[("mean", 0.0), ("std", std)])
        }
        None => builtin("he-normal", &[]),
    })
}

/// `rezero`, `skipinit`, `gradinit`, `metainit`: every dense layer as the base start (its
/// default parameters).
pub(super) fn base(v: &Values, _: &LayerPlace) -> Result<Init, String> {
    let row = v.base();
    debug_assert!(SCHEMES.iter().any(|r| r == row));
    Ok(builtin(row.name, &[]))
}
