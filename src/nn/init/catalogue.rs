//! The start catalogue: one row per built-in start (and the few formulas rows share). A row
//! says everything
//! about its start — name, parameters with defaults, formula, source, how it draws (its
//! element-wise rule as a small function of the layer's fans and activation, a whole-matrix
//! draw, or a rule by the layer's place), the bias it sets, and what it does to norm gains,
//! shifts and residual α (by default γ = 1, β = 0, α as configured). Adding an element-wise
//! start is adding a row here.
//!
//! Every element-wise rule returns `offset + scale · base draw` ([`Affine`]) of a family, so
//! starts of one family scale the same random numbers (the module docs: common random
//! numbers).

use super::parsing::{Kind, Param, Params, Rule};
use super::placed;
use super::sampling::{TRUNCATED_NORMAL_STD, orthogonal_matrix, zero_hadamard};
use super::schemes::{
    Affine, AfterDraw, AlphaStart, AsBias, DefaultBias, Distribution, Family, Fan, FanMode, GAIN,
    Gain, MODE, Needs, OtherParams, SLOPE, SchemeInfo, Weights,
};
use crate::nn::activation::Activation;

/// std = gain · √(2/(fan_in + fan_out)) (Glorot & Bengio 2010).
fn xavier_std(gain: Gain, activation: Activation, fan: Fan) -> f64 {
    let (fan_in, fan_out) = (fan.fan_in as f64, fan.fan_out as f64);
    gain.resolve(activation) * (2.0 / (fan_in + fan_out)).sqrt()
}

/// std = √(2/((1 + a²)·fan)) (He et al. 2015).
fn he_std(mode: FanMode, slope: f64, fan: Fan) -> f64 {
    (2.0 / ((1.0 + slope * slope) * mode.fan(fan))).sqrt()
}

/// Zero-mean weights of standard deviation `std` in `distribution`: a uniform's bound is
/// √3·std; a truncated normal draws with std/0.8796 so that after truncation its std is
/// `std` (Keras' convention).
fn with_std(distribution: Distribution, std: f64) -> Affine {
    match distribution {
        Distribution::Uniform => Affine::centred(Family::Uniform, 3f64.sqrt() * std),
        Distribution::Normal => Affine::centred(Family::Normal, std),
        Distribution::TruncatedNormal => {
            Affine::centred(Family::Truncated, std / TRUNCATED_NORMAL_STD)
        }
    }
}

/// U(±bound).
fn symmetric_uniform(bound: f64) -> Affine {
    Affine::centred(Family::Uniform, bound)
}

const MEAN: Param = Param::new("mean", "0", Kind::Number(Rule::Finite));
const DISTRIBUTION_NORMAL: Param = Param::new("distribution", "normal", Kind::Distribution);
const SIGMA_B2: Param = Param::new("sigma_b2", "0", Kind::Number(Rule::NonNegative));
const BASE: Param = Param::new("base", "he-normal", Kind::Base);

/// Every built-in start, one row each.
pub const SCHEMES: &[SchemeInfo] = &[
    SchemeInfo {
        name: "zeros",
        formula: "W = 0",
        filled: "W = 0, b = 0",
        source: "every hidden unit a clone of the others (the symmetry problem)",
        weights: Weights::Elementwise(|_, _, _| Affine::constant(0.0)),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "constant",
        params: Params(&[Param::new("value", "0", Kind::Number(Rule::Finite))]),
        formula: "W = value",
        filled: "W = {value}",
        source: "torch.nn.init.constant_",
        weights: Weights::Elementwise(|v, _, _| Affine::constant(v.number("value"))),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "tiny",
        params: Params(&[Param::new("std", "0.01", Kind::Number(Rule::Positive))]),
        formula: "N(0, std²)",
        filled: "W ~ N(0, {std}²)",
        source: "deeplearning.ai's Initialization exercise (weights × 0.01): the signal shrinks",
        weights: Weights::Elementwise(|v, _, _| Affine::centred(Family::Normal, v.number("std"))),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "huge",
        params: Params(&[Param::new("std", "10", Kind::Number(Rule::Positive))]),
        formula: "N(0, std²)",
        filled: "W ~ N(0, {std}²)",
        source: "deeplearning.ai's Initialization exercise (weights × 10): the signal explodes or saturates",
        weights: Weights::Elementwise(|v, _, _| Affine::centred(Family::Normal, v.number("std"))),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "normal",
        params: Params(&[MEAN, Param::new("std", "1", Kind::Number(Rule::Positive))]),
        formula: "N(mean, std²)",
        filled: "W ~ N({mean}, {std}²)",
        source: "torch.nn.init.normal_",
        weights: Weights::Elementwise(|v, _, _| Affine {
            family: Family::Normal,
            offset: v.number("mean"),
            scale: v.number("std"),
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "uniform",
        params: Params(&[
            Param::new("low", "-1", Kind::Number(Rule::Finite)),
            Param::new("high", "1", Kind::Number(Rule::Finite)),
        ]),
        formula: "U(low, high)",
        filled: "W ~ U({low}, {high})",
        source: "torch.nn.init.uniform_",
        check: |v| {
            let (low, high) = (v.number("low"), v.number("high"));
            if low >= high {
                return Err(format!(
                    "init `uniform`: `low` must be < `high`, got low = {low}, high = {high}"
                ));
            }
            Ok(())
        },
        // Halved before adding, so that no bound near f64::MAX overflows.
        weights: Weights::Elementwise(|v, _, _| {
            let (low, high) = (v.number("low"), v.number("high"));
            Affine {
                family: Family::Uniform,
                offset: low / 2.0 + high / 2.0,
                scale: high / 2.0 - low / 2.0,
            }
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "truncated-normal",
        params: Params(&[
            MEAN,
            Param::new("std", "0.05", Kind::Number(Rule::Positive)),
        ]),
        formula: "N(mean, std²), redrawn outside mean ± 2·std",
        filled: "W ~ N({mean}, {std}²) truncated at ±2·{std}",
        source: "Keras TruncatedNormal",
        weights: Weights::Elementwise(|v, _, _| Affine {
            family: Family::Truncated,
            offset: v.number("mean"),
            scale: v.number("std"),
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "xavier-uniform",
        params: Params(&[GAIN]),
        formula: "U(±gain·√(6/(fan_in+fan_out)))",
        filled: "W ~ U(±{gain}·√(6/(fan_in+fan_out)))",
        source: "Glorot & Bengio 2010",
        weights: Weights::Elementwise(|v, fan, a| {
            symmetric_uniform(3f64.sqrt() * xavier_std(v.gain(), a, fan))
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "xavier-normal",
        params: Params(&[GAIN]),
        formula: "N(0, gain²·2/(fan_in+fan_out))",
        filled: "W ~ N(0, {gain}²·2/(fan_in+fan_out))",
        source: "Glorot & Bengio 2010",
        weights: Weights::Elementwise(|v, fan, a| {
            Affine::centred(Family::Normal, xavier_std(v.gain(), a, fan))
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "he-uniform",
        params: Params(&[MODE, SLOPE]),
        formula: "U(±√(6/((1+a²)·fan)))",
        filled: "W ~ U(±√(6/((1+{slope}²)·{mode})))",
        source: "He et al. 2015",
        weights: Weights::Elementwise(|v, fan, _| {
            symmetric_uniform(3f64.sqrt() * he_std(v.mode(), v.number("slope"), fan))
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "he-normal",
        params: Params(&[MODE, SLOPE]),
        formula: "N(0, 2/((1+a²)·fan))",
        filled: "W ~ N(0, 2/((1+{slope}²)·{mode}))",
        source: "He et al. 2015",
        weights: Weights::Elementwise(|v, fan, _| {
            Affine::centred(Family::Normal, he_std(v.mode(), v.number("slope"), fan))
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "lecun-uniform",
        formula: "U(±√(3/fan_in))",
        filled: "W ~ U(±√(3/fan_in))",
        source: "LeCun et al. 1998",
        weights: Weights::Elementwise(|_, fan, _| {
            symmetric_uniform(3f64.sqrt() * (1.0 / fan.fan_in as f64).sqrt())
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "lecun-normal",
        formula: "N(0, 1/fan_in)",
        filled: "W ~ N(0, 1/fan_in)",
        source: "LeCun et al. 1998",
        weights: Weights::Elementwise(|_, fan, _| {
            Affine::centred(Family::Normal, (1.0 / fan.fan_in as f64).sqrt())
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "variance-scaling",
        params: Params(&[
            Param::new("scale", "1", Kind::Number(Rule::Positive)),
            MODE,
            Param::new("distribution", "truncated-normal", Kind::Distribution),
        ]),
        formula: "Var = scale/fan (uniform, normal or truncated normal with std/0.8796)",
        filled: "Var(W) = {scale}/{mode}, {distribution} distribution",
        source: "Keras VarianceScaling",
        weights: Weights::Elementwise(|v, fan, _| {
            with_std(
                v.distribution(),
                (v.number("scale") / v.mode().fan(fan)).sqrt(),
            )
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "orthogonal",
        params: Params(&[GAIN]),
        formula: "gain · Q, Q from the QR of a Gaussian matrix (signs of diag R fixed)",
        filled: "W = {gain}·Q, Q orthogonal",
        source: "Saxe et al. 2014",
        weights: Weights::Matrix {
            family: Family::Orthogonal,
            draw: |v, fan, a, rng| orthogonal_matrix(fan, rng) * v.gain().resolve(a),
            // Q (fan_out, fan_in) has orthonormal rows or columns: every entry has
            // variance 1/max(fan_in, fan_out).
            moments: |v, fan, a| {
                let g = v.gain().resolve(a);
                Some((0.0, g * g / fan.fan_in.max(fan.fan_out) as f64))
            },
        },
        as_bias: AsBias::Refused,
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "glorot-standard",
        formula: "U(±1/√fan_in)",
        filled: "W ~ U(±1/√fan_in)",
        source: "the \"standard\" start of Glorot & Bengio 2010",
        weights: Weights::Elementwise(|_, fan, _| {
            symmetric_uniform(1.0 / (fan.fan_in as f64).sqrt())
        }),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "pytorch-default",
        formula: "W, b ~ U(±1/√fan_in) (nn.Linear)",
        filled: "W, b ~ U(±1/√fan_in)",
        source: "torch.nn.Linear: kaiming_uniform with a = √5 (PyTorch issue #57109)",
        weights: Weights::Elementwise(|_, fan, _| {
            symmetric_uniform(1.0 / (fan.fan_in as f64).sqrt())
        }),
        bias: DefaultBias::LikeWeights(|_, fan| 1.0 / (3.0 * fan.fan_in as f64)),
        as_bias: AsBias::Default,
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "keras-default",
        formula: "U(±√(6/(fan_in+fan_out))), b = 0 (Dense)",
        filled: "W ~ U(±√(6/(fan_in+fan_out))), b = 0",
        source: "keras.layers.Dense: glorot_uniform, zeros",
        weights: Weights::Elementwise(|_, fan, a| {
            symmetric_uniform(3f64.sqrt() * xavier_std(Gain::Value(1.0), a, fan))
        }),
        as_bias: AsBias::Default,
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "lsuv",
        params: Params(&[
            Param::new("tolerance", "0.1", Kind::Number(Rule::Positive)),
            Param::new("max_iterations", "10", Kind::Count),
        ]),
        formula: "orthogonal, then W /= std(layer output on data) until Var ≈ 1",
        filled: "orthogonal, then W /= std(output) per layer until |Var − 1| < {tolerance} \
                 (≤ {max_iterations} steps)",
        source: "Mishkin & Matas 2015 (rescaled by Mlp::lsuv after drawing)",
        weights: Weights::Matrix {
            family: Family::Orthogonal,
            draw: |_, fan, _, rng| orthogonal_matrix(fan, rng),
            moments: |_, _, _| None,
        },
        as_bias: AsBias::Refused,
        after_draw: AfterDraw::Lsuv,
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "gradinit",
        params: Params(&[
            BASE,
            Param::new("eta", "0.1", Kind::Number(Rule::Positive)),
            Param::new("gamma", "1", Kind::Number(Rule::Positive)),
            Param::new("learning_rate", "0.01", Kind::Number(Rule::Positive)),
            Param::new("min_scale", "0.01", Kind::Number(Rule::NonNegative)),
            Param::new("iterations", "390", Kind::Count),
            Param::new("batch", "128", Kind::Count),
        ]),
        formula: "base × one scale per tensor, learned (Adam on the scales) so that the loss \
                  on a fresh batch after the optimizer's first step (SGD θ − η·g/‖g‖₂, Adam \
                  θ − η·sign g) is least, subject to ‖g‖ ≤ γ (ℓ2 SGD, ℓ1 Adam); \
                  scales ≥ min_scale; on training data",
        filled: "W by {base}, each tensor × a learned scale: min L(θ − {eta}·d(g); S̃) s.t. \
                 ‖g‖ ≤ {gamma}, scales ≥ {min_scale}, Adam lr {learning_rate}, \
                 {iterations} iterations of {batch} rows",
        source: "Zhu et al. 2021, GradInit (defaults of its CIFAR-10 scripts: η 0.1, γ 1, \
                 min_scale 0.01, derivative clip 1, 390 iterations of 128 rows, normalized \
                 SGD step; lr 0.01 as for its networks without BatchNorm)",
        check: |v| {
            if v.count("batch") < 2 {
                return Err(format!(
                    "init `gradinit`: `batch` must be ≥ 2 (two half-batches), got {}",
                    v.count("batch")
                ));
            }
            Ok(())
        },
        weights: Weights::Placed(placed::base),
        as_bias: AsBias::Refused,
        after_draw: AfterDraw::GradInit,
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "metainit",
        params: Params(&[
            BASE,
            Param::new("learning_rate", "0.1", Kind::Number(Rule::Positive)),
            Param::new("momentum", "0.9", Kind::Number(Rule::NonNegative)),
            Param::new("iterations", "500", Kind::Count),
            Param::new("epsilon", "0.00001", Kind::Number(Rule::Positive)),
            Param::new("batch", "128", Kind::Count),
        ]),
        formula: "base with each weight matrix's norm learned (signSGD with momentum) to \
                  minimize the gradient quotient GQ = mean |(g − Hg)/(g + ε·sgn g) − 1| on \
                  random data, Hg by a finite difference of gradients",
        filled: "W by {base}, each matrix's norm learned: min GQ (ε = {epsilon}) on random \
                 data, signSGD lr {learning_rate}, momentum {momentum}, {iterations} steps of \
                 {batch} rows",
        source: "Dauphin & Schoenholz 2019, MetaInit (its Figure 2's defaults: lr 0.1, momentum \
                 0.9, 500 steps, ε 10⁻⁵; random batches of 128 rows, ours; ∂GQ/∂‖W‖ by a \
                 central difference over the norm, ±1 %)",
        check: |v| {
            let momentum = v.number("momentum");
            if momentum >= 1.0 {
                return Err(format!(
                    "init `metainit`: `momentum` must be in [0, 1), got {momentum}"
                ));
            }
            Ok(())
        },
        weights: Weights::Placed(placed::base),
        as_bias: AsBias::Refused,
        after_draw: AfterDraw::MetaInit,
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "mean-field",
        params: Params(&[
            Param::new("sigma_w2", "1", Kind::Number(Rule::Positive)),
            SIGMA_B2,
            DISTRIBUTION_NORMAL,
        ]),
        formula: "Var(W) = sigma_w2/fan_in, b ~ N(0, sigma_b2) (mean-field theory's scales)",
        filled: "W with Var = {sigma_w2}/fan_in ({distribution}), b ~ N(0, {sigma_b2})",
        source: "Poole et al. 2016; Schoenholz et al. 2017",
        weights: Weights::Elementwise(|v, fan, _| {
            with_std(
                v.distribution(),
                (v.number("sigma_w2") / fan.fan_in as f64).sqrt(),
            )
        }),
        bias: DefaultBias::Normal(|v| v.number("sigma_b2")),
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "critical",
        params: Params(&[SIGMA_B2, DISTRIBUTION_NORMAL]),
        formula: "mean-field with σ_w² solved so that χ₁ = 1 at the length map's fixed point q* \
                  for the activation and sigma_b2 (ReLU 2 = He, tanh 1 = LeCun)",
        filled: "W with Var = σ_w²(activation, {sigma_b2})/fan_in, χ₁ = 1 ({distribution}), \
                 b ~ N(0, {sigma_b2})",
        source: "the edge of chaos: Poole et al. 2016; Schoenholz et al. 2017",
        weights: Weights::Placed(placed::critical),
        bias: DefaultBias::Normal(|v| v.number("sigma_b2")),
        as_bias: AsBias::Refused,
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "fixup",
        formula: "classifier and last layer of each residual branch 0; the branch's other \
                  layers He × L^(−1/(2m−2)) (L branches of m layers); the rest He",
        filled: "W = 0 for the output and each branch's last layer, N(0, 2/fan_in)·L^(−1/(2m−2)) \
                 in branches, N(0, 2/fan_in) elsewhere; b = 0",
        source: "Zhang, Dauphin & Ma 2019, Fixup Initialization (scalar biases and multipliers \
                 not included)",
        weights: Weights::Placed(placed::fixup),
        as_bias: AsBias::Refused,
        other: OtherParams {
            needs: Needs::Residual,
            ..OtherParams::DEFAULT
        },
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "rezero",
        params: Params(&[BASE]),
        formula: "residual α = 0, learned; weights by the base start",
        filled: "α = 0 (learnable) in every residual block, W by {base}",
        source: "Bachlechner et al. 2020, ReZero is All You Need",
        weights: Weights::Placed(placed::base),
        as_bias: AsBias::Refused,
        other: OtherParams {
            alpha: AlphaStart::Learnable(0.0),
            needs: Needs::Residual,
            ..OtherParams::DEFAULT
        },
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "skipinit",
        params: Params(&[BASE]),
        formula: "residual α = 0, learned, in place of normalization (no norm layers); weights \
                  by the base start",
        filled: "α = 0 (learnable) in every residual block, no norm layers, W by {base}",
        source: "De & Smith 2020, Batch Normalization Biases Residual Blocks Towards the \
                 Identity Function in Deep Networks",
        weights: Weights::Placed(placed::base),
        as_bias: AsBias::Refused,
        other: OtherParams {
            alpha: AlphaStart::Learnable(0.0),
            needs: Needs::ResidualWithoutNorm,
            ..OtherParams::DEFAULT
        },
        ..SchemeInfo::ROW
    },
    SchemeInfo {
        name: "zero-hadamard",
        formula: "ZerO: I if fan_in = fan_out, partial identity if shrinking, \
                  2^(−(k−1)/2)·(Hadamard of size 2^k, k = ⌈log₂ fan_out⌉) cut to shape if \
                  expanding; b = 0; nothing drawn",
        filled: "W = I, partial I or scaled Hadamard (ZerO), b = 0",
        source: "Zhao et al. 2022, ZerO Initialization, Algorithm 1",
        weights: Weights::Matrix {
            family: Family::Deterministic,
            draw: |_, fan, _, _| zero_hadamard(fan),
            moments: |_, _, _| None,
        },
        as_bias: AsBias::Refused,
        ..SchemeInfo::ROW
    },
];
