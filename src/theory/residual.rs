//! Mean-field signal propagation through a residual stream (Yang & Schoenholz 2017, "Mean
//! Field Residual Networks: On the Edge of Chaos"): what a deep residual MLP's blocks do to
//! the size of the signal at initialization, beside what the residual-depth experiment
//! measures.
//!
//! A block adds a branch to its input, x_{l+1} = x_l + α·F(x_l), F a short chain of dense
//! layers with the activation φ between them (as `network.residual = true` builds it:
//! dense, φ, dense, … with no activation after the last). With q_l = E(x²) the stream's
//! second moment per unit, and weights independent of x with mean 0, the cross term
//! E(x·F(x)) vanishes, so
//!
//! ```text
//! q_{l+1} = q_l + α² · v(q_l)
//! v: the branch's output second moment, v₁ = σ_w₁² q + σ_b₁²,
//!    v_{k+1} = σ_w,k+1² E_z[φ(√v_k z)²] + σ_b,k+1²   (the length map of each later layer)
//! ```
//!
//! and a normalization before the branch (pre-LayerNorm, gain 1) feeds it a second moment of
//! 1 whatever q is. The consequences the experiment shows:
//!
//! - He on ReLU (σ_w² = 2, no bias): v(q) = 2q, so q triples every block and the std grows
//!   by √3 per block: exponential in depth;
//! - pre-LayerNorm: v = 2 for every block, so q grows by 2 per block: linear in depth,
//!   std ∝ √depth;
//! - α = 0 (SkipInit, ReZero) or a zero last layer (Fixup): v = 0, q stays where it is.
//!
//! The std over units and rows is √(q − μ²) with μ the stream's mean, which the branches
//! leave unchanged in expectation (their weights have mean 0).

use crate::nn::init::AlphaStart;
use crate::nn::{Activation, Float, Init, Layer, Network};

use super::maps::MeanField;

/// One dense layer of a residual branch, in the conventions of [`super`]: σ_w² = Var(w) ·
/// fan_in and σ_b² = Var(b).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BranchLayer {
    /// Var(w) · fan_in (He: 2; Fixup's last layer: 0).
    pub sigma_w2: f64,
    /// Var(b).
    pub sigma_b2: f64,
}

/// The blocks of a residual stream, all alike.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidualStream {
    /// The activation between a branch's dense layers.
    pub activation: Activation,
    /// The branch's dense layers, input side first (at least one).
    pub branch: Vec<BranchLayer>,
    /// The branch's scale α at initialization.
    pub alpha: f64,
    /// Whether a normalization (LayerNorm with gain 1) starts each branch.
    pub pre_norm: bool,
}

impl ResidualStream {
    /// The second moment per unit of a branch's output when the stream's is `q`.
    pub fn branch_second_moment(&self, q: f64) -> f64 {
        let mut v = if self.pre_norm { 1.0 } else { q };
        for (k, layer) in self.branch.iter().enumerate() {
            v = if k == 0 {
                layer.sigma_w2 * v + layer.sigma_b2
            } else {
                // The length map of this layer: its input is φ of the previous output.
                MeanField {
                    activation: self.activation,
                    sigma_w2: layer.sigma_w2,
                    sigma_b2: layer.sigma_b2,
                }
                .length_map(v)
            };
        }
        v
    }

    /// The stream's second moment after one more block: q + α² · v(q).
    pub fn next(&self, q: f64) -> f64 {
        q + self.alpha * self.alpha * self.branch_second_moment(q)
    }

    /// The second moments q₀, q₁, …, q_blocks: the stream entering the first block, then
    /// after each block.
    pub fn second_moments(&self, q0: f64, blocks: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(blocks + 1);
        let mut q = q0;
        out.push(q);
        for _ in 0..blocks {
            q = self.next(q);
            out.push(q);
        }
        out
    }

    /// The predicted std over units and rows after each block (as [`second_moments`]
    /// without q₀), for a stream of mean `mean`: √(q − mean²).
    ///
    /// [`second_moments`]: ResidualStream::second_moments
    pub fn block_stds(&self, q0: f64, mean: f64, blocks: usize) -> Vec<f64> {
        self.second_moments(q0, blocks)[1..]
            .iter()
            .map(|q| (q - mean * mean).max(0.0).sqrt())
            .collect()
    }
}

/// The stream of each residual block of a built `network` as the start `init` begins it, in
/// order: each branch's dense layers with σ_w² = Var(w)·fan_in and σ_b² of the start's
/// default bias at their place in the network (so Fixup's zero last layer and its
/// depth-scaled others are what [`Network::initialize`] draws), the activation between them,
/// whether a norm opens the branch, and α (a learnable start value for ReZero and SkipInit,
/// else the block's own).
///
/// An error says why the mean-field theory does not apply: a start without a variance formula
/// (data-dependent, matrix or custom starts) or with non-zero-mean weights, a skip path with a
/// projection, or a norm elsewhere than at the start of a branch.
pub fn block_streams<T: Float>(
    network: &Network<T>,
    init: &Init,
) -> Result<Vec<ResidualStream>, String> {
    let places = network.dense_places();
    let mut next = 0; // index into `places`
    let mut streams = Vec::new();
    for layer in &network.layers {
        match layer {
            Layer::Dense(_) => next += 1,
            Layer::Residual(r) => {
                if r.projection.is_some() {
                    return Err(
                        "a residual block whose skip path has a projection (the widths change)"
                            .into(),
                    );
                }
                let mut branch = Vec::new();
                let mut activation = Activation::Identity;
                let mut pre_norm = false;
                for (i, inner) in r.body.iter().enumerate() {
                    match inner {
                        Layer::Dense(_) => {
                            let place = places[next];
                            next += 1;
                            let at = init.at_layer(place)?;
                            let (mean, variance) =
                                at.weight_moments(place.fan, place.activation).ok_or_else(
                                    || format!("`{}` has no variance formula", init.label()),
                                )?;
                            if mean != 0.0 {
                                return Err(format!(
                                    "`{}` has weights of mean {mean} ≠ 0",
                                    init.label()
                                ));
                            }
                            branch.push(BranchLayer {
                                sigma_w2: variance * place.fan.fan_in as f64,
                                sigma_b2: at.default_bias_variance(place.fan),
                            });
                        }
                        Layer::Activation(a) => {
                            if activation == Activation::Identity {
                                activation = *a;
                            }
                        }
                        Layer::LayerNorm(_) | Layer::BatchNorm(_) if i == 0 => pre_norm = true,
                        _ => {
                            return Err(
                                "a norm inside a residual branch (only a norm opening it)".into()
                            );
                        }
                    }
                }
                let alpha = match init.other_params().alpha {
                    AlphaStart::Learnable(a) => a,
                    AlphaStart::AsConfigured => r.alpha_value().f64(),
                };
                streams.push(ResidualStream {
                    activation,
                    branch,
                    alpha,
                    pre_norm,
                });
            }
            _ => {}
        }
    }
    Ok(streams)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn he(layers: usize) -> Vec<BranchLayer> {
        vec![
            BranchLayer {
                sigma_w2: 2.0,
                sigma_b2: 0.0,
            };
            layers
        ]
    }

    #[test]
    fn closed_forms() {
        let plain = ResidualStream {
            activation: Activation::Relu,
            branch: he(2),
            alpha: 1.0,
            pre_norm: false,
        };
        // He on ReLU: v(q) = 2q, q triples per block.
        let q = plain.second_moments(0.5, 4);
        for (l, q) in q.iter().enumerate() {
            let want = 0.5 * 3f64.powi(l as i32);
            assert!((q - want).abs() < 1e-9 * want, "block {l}: {q} vs {want}");
        }
        // Pre-LayerNorm: +2 per block.
        let pre = ResidualStream {
            pre_norm: true,
            ..plain.clone()
        };
        for (l, q) in pre.second_moments(0.5, 5).iter().enumerate() {
            assert!((q - (0.5 + 2.0 * l as f64)).abs() < 1e-9, "block {l}: {q}");
        }
        // α = 0 and Fixup's zero last layer: nothing added.
        let zero_alpha = ResidualStream {
            alpha: 0.0,
            ..plain.clone()
        };
        let mut fixup = plain.clone();
        fixup.branch[1].sigma_w2 = 0.0;
        for stream in [zero_alpha, fixup] {
            assert_eq!(stream.second_moments(0.7, 6), vec![0.7; 7]);
        }
        // One linear layer with σ_w² = 1: q doubles; a learnable α = 0.5 adds a quarter.
        let linear = ResidualStream {
            activation: Activation::Identity,
            branch: vec![BranchLayer {
                sigma_w2: 1.0,
                sigma_b2: 0.0,
            }],
            alpha: 0.5,
            pre_norm: false,
        };
        assert!((linear.next(2.0) - 2.5).abs() < 1e-12);
        // The std removes the mean: q = 3, μ = 1 → √2.
        assert!((plain.block_stds(1.0, 1.0, 1)[0] - 2f64.sqrt()).abs() < 1e-9);
    }

    /// The streams read off a built network agree with the closed forms: He gives σ_w² = 2
    /// on both branch layers; Fixup's last branch layer is 0 and its first He scaled by
    /// L^(−1/(2m−2)) (L = 4 blocks, m = 2: σ_w² = 2/4); ReZero's α is 0; a pre-norm is seen.
    #[test]
    fn streams_of_built_networks() {
        use crate::experiment::build::{NormSpec, network_layers};
        use crate::experiment::spec::NetworkSpec;
        use crate::nn::Loss;
        let build = |norm| {
            let spec = NetworkSpec {
                norm,
                residual: true,
                block: 2,
                ..NetworkSpec::new(
                    vec![16; 9],
                    vec![Activation::Relu],
                    Loss::SoftmaxCrossEntropy,
                )
            };
            network_layers::<f64>(
                &spec.shape(),
                5,
                3,
                Activation::Relu,
                Loss::SoftmaxCrossEntropy,
            )
            .unwrap()
        };
        let plain = build(NormSpec::None);
        let init = |name: &str| name.parse::<Init>().unwrap();
        let he = block_streams(&plain, &init("he-normal")).unwrap();
        assert_eq!(he.len(), 4);
        for s in &he {
            assert_eq!(s.activation, Activation::Relu);
            assert_eq!(s.alpha, 1.0);
            assert!(!s.pre_norm);
            for layer in &s.branch {
                assert!((layer.sigma_w2 - 2.0).abs() < 1e-12, "{layer:?}");
                assert_eq!(layer.sigma_b2, 0.0);
            }
        }
        let fixup = block_streams(&plain, &init("fixup")).unwrap();
        assert!(
            (fixup[0].branch[0].sigma_w2 - 0.5).abs() < 1e-12,
            "{fixup:?}"
        );
        assert_eq!(fixup[0].branch[1].sigma_w2, 0.0);
        let rezero = block_streams(&plain, &init("rezero")).unwrap();
        assert_eq!(rezero[2].alpha, 0.0);
        let pre = block_streams(&build(NormSpec::Layernorm), &init("he-normal")).unwrap();
        assert!(pre.iter().all(|s| s.pre_norm));
        assert!(block_streams(&plain, &init("lsuv")).is_err());
    }
}
