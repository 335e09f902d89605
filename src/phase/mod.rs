//! `initlab phase`: the diagrams of mean-field theory beside measurement.
//!
//! - [`order_chaos`]: ξ_c over a (σ_w², σ_b²) grid, the critical line χ₁ = 1 and the named
//!   starts placed on it — pure theory, seconds;
//! - [`trainability`]: training accuracy over (σ_w², depth) with the theory's 6·ξ_c over it —
//!   short training runs through the experiment runner (threads, shards, merge);
//! - [`spectra`]: Jacobian singular values at initialization against depth, per start
//!   (dynamical isometry);
//! - [`heatmap`], [`grid`]: the SVG heat map and the checked command-line ranges.

pub mod grid;
pub mod heatmap;
pub mod order_chaos;
pub mod spectra;
pub mod trainability;
