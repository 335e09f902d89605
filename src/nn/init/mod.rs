//! Weight initializers: every start a PyTorch or Keras user can pick for a dense layer, the
//! ones the papers argue about, and the defaults frameworks apply silently.
//!
//! Conventions: a weight matrix is `(out, in)`, so `fan_in = W.ncols()` and
//! `fan_out = W.nrows()`. Every draw comes from an explicit, seeded RNG: layer `l` of a run
//! with init seed `s` draws its weights from ChaCha8 stream `2l` and its bias from stream
//! `2l + 1` of seed `s` ([`layer_rng`]), so a layer's numbers do not depend on what other
//! layers drew.
//!
//! **Common random numbers.** For one seed, every scheme of the normal family (tiny, huge,
//! normal, xavier-normal, he-normal, lecun-normal, variance-scaling normal) scales the *same*
//! standard normals, every scheme of the uniform family the same uniforms on [-1, 1), and the
//! truncated schemes the same truncated normals. Their weights for one replicate are exact
//! multiples of each other: a comparison between them is about variance, not luck.
//!
//! The module has four parts:
//! - `schemes.rs`: what the schemes are. [`Init`] (each variant's comment gives its rule and
//!   source) and the catalogue [`SCHEMES`], one row per scheme with its parameters,
//!   defaults, formulas and constructor; the bias a scheme sets by default; gains.
//! - `sampling.rs`: how they draw. One RNG stream per layer, the element-wise rule
//!   `offset + scale · base draw` behind the common random numbers, orthogonal matrices,
//!   truncated normals.
//! - `formula.rs`: formula starts, `{ name = "formula", std = "sqrt(2 / fan_in)" }`: a
//!   small expression parser and the per-layer rule ([`Init::at_layer`]).
//! - `parsing.rs`: reading them from TOML tables and the `name:key=value` command-line form,
//!   checked against the catalogue row.
//!
//! Adding a scheme: a variant of [`Init`], its row in [`SCHEMES`], its arm in
//! `Init::values` (next to the table) and its arm of the element-wise rule in `sampling.rs`
//! (or its own draw, if it is not element-wise).

mod formula;
mod parsing;
mod sampling;
mod schemes;

pub use formula::{FORMULA_VARIABLES, Formula, FormulaInit, LayerPlace, Spread};
pub use parsing::{
    ParamValue, Params, SCHEME_ALIASES, canonical_scheme_name, check_bias_init, parse_bias_init,
    parse_init, split_init_spec,
};
pub use sampling::{TRUNCATED_NORMAL_STD, layer_rng, orthogonal_matrix};
pub use schemes::{
    CustomInit, Distribution, Family, Fan, FanMode, Gain, Init, Initializer, SCHEMES, SchemeInfo,
    scheme_keys, scheme_names,
};
