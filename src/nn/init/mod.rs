//! Weight initializers ("starts"): every start a PyTorch or Keras user can pick for a dense
//! layer, the ones the papers argue about, the defaults frameworks apply silently, and the
//! starts made for residual networks.
//!
//! Conventions: a weight matrix is `(out, in)`, so `fan_in = W.ncols()` and
//! `fan_out = W.nrows()`. Every draw comes from an explicit, seeded RNG: layer `l` of a run
//! with init seed `s` draws its weights from ChaCha8 stream `2l` and its bias from stream
//! `2l + 1` of seed `s` ([`layer_rng`]), so a layer's numbers do not depend on what other
//! layers drew.
//!
//! **Common random numbers.** For one seed, every scheme of the normal family (tiny, huge,
//! normal, xavier-normal, he-normal, lecun-normal, variance-scaling normal, mean-field,
//! critical, fixup's non-zero layers) scales the *same* standard normals, every scheme of
//! the uniform family the same uniforms on [-1, 1), and the truncated schemes the same
//! truncated normals. Their weights for one replicate are exact multiples of each other: a
//! comparison between them is about variance, not luck.
//!
//! The module has these parts:
//! - `catalogue.rs`: the start table [`SCHEMES`], one row per start: name, parameters and
//!   defaults, formula, source, how it draws (an element-wise rule, a whole matrix, or a rule
//!   by the layer's place), its default bias, and what it does to norm gains, shifts and
//!   residual α.
//! - `schemes.rs`: what a start is — [`Init`] (a row with its values, a formula, or a user's
//!   own initializer), the shape of a row, and what the rest of initlab asks a start.
//! - `sampling.rs`: how they draw. One RNG stream per layer, the element-wise rule
//!   `offset + scale · base draw` behind the common random numbers, orthogonal matrices,
//!   ZerO's matrices, truncated normals.
//! - `placed.rs`: where a layer sits ([`LayerPlace`]) and the rules of the starts that
//!   depend on it (critical, Fixup, ReZero, SkipInit).
//! - `formula.rs`: formula starts, `{ name = "formula", std = "sqrt(2 / fan_in)" }`: a
//!   small expression parser and the per-layer rule ([`Init::at_layer`]).
//! - `parsing.rs`: reading them from TOML tables and the `name:key=value` command-line form,
//!   checked against the catalogue row.
//! - `learned.rs`, `gradinit.rs`, `metainit.rs`: the starts that learn per-tensor scales of
//!   their base draw before training, on any model ([`GradInit`] on training batches,
//!   [`MetaInit`] on random ones): batches, the Hessian-vector product by a central
//!   difference of gradients ([`Oracle`]) and the scales they report ([`TensorScale`]).
//!
//! Adding a start: one row in `catalogue.rs` — for an element-wise start its rule is a
//! closure in the row — and, outside the engine, its fixed line style in
//! `src/report/palette.rs` (a test names any start without one). A start that draws a whole
//! matrix also adds its draw function (beside the others in `sampling.rs`), one that depends
//! on the layer's place its rule in `placed.rs`; a start that learns after drawing (LSUV,
//! GradInit, MetaInit) also needs its step where the runner calls [`Init::learning`].

mod catalogue;
mod formula;
mod gradinit;
mod learned;
mod metainit;
mod parsing;
mod placed;
mod sampling;
mod schemes;

pub use catalogue::SCHEMES;
pub use formula::{FORMULA_VARIABLES, Formula, FormulaInit, Spread};
pub use gradinit::{FirstStep, GradInit, GradInitOutcome, Objective};
pub use learned::{Batch, InitData, Oracle, Sampler, TensorScale};
pub use metainit::{MetaInit, MetaInitOutcome, QuotientWork, gradient_quotient};
pub use parsing::{
    ParamValue, Params, SCHEME_ALIASES, canonical_scheme_name, check_bias_init, parse_bias_init,
    parse_init, split_init_spec,
};
pub use placed::{Branch, LayerPlace};
pub use sampling::{TRUNCATED_NORMAL_STD, layer_rng, orthogonal_matrix, zero_hadamard};
pub use schemes::{
    Affine, AlphaStart, CustomInit, Distribution, Family, Fan, FanMode, Gain, Init, Initializer,
    Learning, Needs, OtherParams, Scheme, SchemeInfo, scheme_keys, scheme_names,
};
