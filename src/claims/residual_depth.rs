//! Zhang et al. 2019 (Fixup), De & Smith 2020 (SkipInit), Bachlechner et al. 2020 (ReZero),
//! Yang & Schoenholz 2017 (residual mean field): a deep residual network without
//! normalization needs a depth-aware start or normalization. The per-block output std of
//! fresh residual ReLU networks at two depths, plain He against the remedies, beside the
//! mean-field prediction of how the residual stream's second moment grows.

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{BALANCED, Check, Claim, ClaimReport, ClaimsOptions, ev, fx, init};
use crate::experiment::build::{NormSpec, network_layers};
use crate::experiment::spec::NetworkSpec;
use crate::nn::{Activation, Layer, Loss, Mode};
use crate::theory::residual::{BranchLayer, ResidualStream};

/// The claim, where it is made, and how `initlab claims` measures it.
pub const CLAIM: Claim = Claim {
    id: "residual-depth",
    source: "Fixup, SkipInit, ReZero",
    statement: "Deep residual networks need a depth-aware start or normalization: with plain \
                He the signal grows block after block; Fixup (Zhang et al. 2019), SkipInit \
                (De & Smith 2020), ReZero (Bachlechner et al. 2020) and pre-LayerNorm hold \
                it (residual mean field: Yang & Schoenholz 2017).",
    measure,
};

/// How the residual stream's second moment q moves per block in the mean-field theory
/// (Yang & Schoenholz 2017): q ← q + (the branch's output second moment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The branch sees the stream: q ← q + B(q), a constant factor per block.
    Plain,
    /// The branch sees the stream normalized to unit second moment: q ← q + B(1).
    PreNorm,
    /// The branch's output is zero at the start (its last layer, or α, is 0): q ← q.
    Identity,
}

/// The starts compared: label, start, norm, and how the theory sees the stream.
const STARTS: [(&str, &str, NormSpec, Stream); 5] = [
    ("he-normal", "he-normal", NormSpec::None, Stream::Plain),
    ("fixup", "fixup", NormSpec::None, Stream::Identity),
    ("skipinit", "skipinit", NormSpec::None, Stream::Identity),
    ("rezero", "rezero", NormSpec::None, Stream::Identity),
    (
        "he-normal + pre-layernorm",
        "he-normal",
        NormSpec::Layernorm,
        Stream::PreNorm,
    ),
];

/// Dense layers per residual branch.
const BLOCK: usize = 2;

/// The claim measured with `initlab claims`' options: depths 8 and 32 blocks.
fn measure(o: &ClaimsOptions) -> ClaimReport {
    residual_depth(&[8, 32], o.width, o.seed)
}

/// The verdict rule: the signal *grows block after block* when its per-block factor
/// exceeds the upper end of [`BALANCED`] (×1.25), and is *held* otherwise.
pub fn grows(per_block: f64) -> bool {
    per_block > BALANCED.1
}

/// The per-block outputs of one fresh residual network at initialization.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSignal {
    /// The std (over batch and units) of the stem's output, the stream entering block 1.
    pub stem_std: f64,
    /// The std of each block's output, block 1 first.
    pub block_std: Vec<f64>,
    /// The stem output's second moment (mean of squares), the theory's q₀.
    pub stem_second_moment: f64,
    /// The last block's output second moment / the first block's.
    pub second_moment_growth: f64,
}

impl BlockSignal {
    /// Geometric-mean change of the block output std per block, from block 1 to the last
    /// (as the plain networks' factor per layer).
    pub fn per_block(&self) -> f64 {
        let (first, last) = (self.block_std[0], self.block_std[self.block_std.len() - 1]);
        let steps = (self.block_std.len().max(2) - 1) as f64;
        (last / first).powf(1.0 / steps)
    }
}

/// Forwards 256 standard-normal rows through a fresh residual ReLU network (a `width`-unit
/// stem, `blocks` branches of two dense layers of `width`, `norm` opening each branch, no
/// normalization when `NormSpec::None`) started by `start`, and measures every block.
pub fn block_signal(
    start: &str,
    norm: NormSpec,
    blocks: usize,
    width: usize,
    seed: u64,
) -> BlockSignal {
    let spec = NetworkSpec {
        norm,
        residual: true,
        block: BLOCK,
        ..NetworkSpec::new(
            vec![width; 1 + BLOCK * blocks],
            vec![Activation::Relu],
            Loss::SoftmaxCrossEntropy,
        )
    };
    let mut network = network_layers::<f64>(
        &spec.shape(),
        width,
        2,
        Activation::Relu,
        Loss::SoftmaxCrossEntropy,
    )
    .expect("the claim's residual network is valid");
    network.initialize(&init(start), None, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut h = Array2::from_shape_simple_fn((256, width), || {
        let z: f64 = StandardNormal.sample(&mut rng);
        z
    });
    let moments = |a: &Array2<f64>| {
        let n = a.len() as f64;
        let mean = a.sum() / n;
        let square = a.iter().map(|v| v * v).sum::<f64>() / n;
        ((square - mean * mean).max(0.0).sqrt(), square)
    };
    let (mut stem, mut block) = (None, Vec::new());
    let mut squares = Vec::new();
    for layer in &network.layers {
        let (next, _) = layer.forward(h.view(), Mode::Train);
        h = next;
        match layer {
            Layer::Activation(_) if stem.is_none() => stem = Some(moments(&h)),
            Layer::Residual(_) => {
                let (std, square) = moments(&h);
                block.push(std);
                squares.push(square);
            }
            _ => {}
        }
    }
    let (stem_std, stem_second_moment) = stem.expect("the stem's activation");
    BlockSignal {
        stem_std,
        block_std: block,
        stem_second_moment,
        second_moment_growth: squares[squares.len() - 1] / squares[0],
    }
}

/// The mean-field prediction of the per-block factor of the output's root mean square,
/// from block 1 to block `blocks`, for ReLU branches of two He dense layers (σ_w² = 2, no
/// bias) on a stream entering with second moment `q0`, from [`crate::theory::residual`].
pub fn predicted_per_block(stream: Stream, q0: f64, blocks: usize) -> f64 {
    let he = BranchLayer {
        sigma_w2: 2.0,
        sigma_b2: 0.0,
    };
    let theory = ResidualStream {
        activation: Activation::Relu,
        branch: vec![he, he],
        alpha: if stream == Stream::Identity { 0.0 } else { 1.0 },
        pre_norm: stream == Stream::PreNorm,
    };
    let after = &theory.second_moments(q0, blocks)[1..];
    let steps = (blocks.max(2) - 1) as f64;
    (after[after.len() - 1] / after[0]).sqrt().powf(1.0 / steps)
}

/// Each start of the comparison at each of `depths` (residual blocks), `width` units: the
/// per-block factor of the block outputs' std; plain He should grow, the others hold.
pub fn residual_depth(depths: &[usize], width: usize, seed: u64) -> ClaimReport {
    let mut evidence = Vec::new();
    let mut checks = Vec::new();
    for &blocks in depths {
        for (label, start, norm, stream) in STARTS {
            let signal = block_signal(start, norm, blocks, width, seed);
            let per_block = signal.per_block();
            let predicted = predicted_per_block(stream, signal.stem_second_moment, blocks);
            let measured_rms = signal
                .second_moment_growth
                .sqrt()
                .powf(1.0 / (blocks.max(2) - 1) as f64);
            let cond = format!("{label}, relu, {blocks} blocks of {BLOCK}, width {width}");
            let last = signal.block_std[signal.block_std.len() - 1];
            ev(&mut evidence, &cond, "stem output std", signal.stem_std);
            ev(
                &mut evidence,
                &cond,
                "block 1 output std",
                signal.block_std[0],
            );
            ev(&mut evidence, &cond, "last block output std", last);
            ev(&mut evidence, &cond, "std factor per block", per_block);
            ev(&mut evidence, &cond, "rms factor per block", measured_rms);
            ev(
                &mut evidence,
                &cond,
                "theory: rms factor per block",
                predicted,
            );
            let expect_growth = stream == Stream::Plain;
            let grew = grows(per_block);
            checks.push(Check {
                condition: cond,
                finding: format!(
                    "block output std {} → {} (×{}/block: {}); mean field predicts ×{}/block \
                     for the rms (measured ×{})",
                    fx(signal.block_std[0]),
                    fx(last),
                    fx(per_block),
                    if grew { "grows" } else { "held" },
                    fx(predicted),
                    fx(measured_rms)
                ),
                passed: grew == expect_growth,
                theory: None,
            });
        }
    }
    CLAIM.report(checks, evidence)
}
