//! # initlab
//!
//! A from-scratch multilayer-perceptron framework whose job is to *compare weight
//! initializations*: the same network, data and mini-batch order trained under zero, tiny,
//! huge, Xavier, He (and more) starts, with every loss curve and per-layer statistic logged.
//!
//! Modules:
//! - [`nn`] — the engine: activations, initializers, layers (dense, LayerNorm, BatchNorm,
//!   residual blocks) with hand-written backprop, the network as a sequence of layers and the
//!   fused fast path for plain chains, losses, optimizers (SGD, Adam, AdamW, RMSprop) over
//!   one parameter list, and the training loop. It knows nothing of files.
//! - [`data`] — data sets: generators, CSV and IDX loaders, splitting and standardization.
//! - [`experiment`] — experiment specs (TOML), the runner over the grid, CSV records.
//! - [`csvfile`] — every CSV file written and read back by one serde definition per row.
//! - [`report`] — SVG plots and the self-contained HTML report.
//! - [`check`] — expectations (TOML) checked against a results directory, for grading.
//! - [`autograder`] — an assignment turned into Gradescope's autograder bundle or a GitHub
//!   Classroom template.
//! - [`theory`] — mean-field signal propagation: length and correlation maps, χ₁, depth
//!   scales, per-layer predictions and Jacobian spectra.
//! - [`claims`] — the guide's claims measured, with computed verdicts (`initlab claims`).
//! - [`coord_check`] — the coordinate check: mean |x| per layer against width under SP, NTK,
//!   μP (`initlab coord-check`).

#![warn(missing_docs)]

pub mod autograder;
pub mod check;
pub mod claims;
#[cfg(feature = "cli")]
pub mod cli;
pub mod coord_check;
pub mod csvfile;
pub mod data;
pub mod experiment;
pub mod fsutil;
pub mod inspect;
pub mod memory;
pub mod nn;
pub mod phase;
pub mod report;
pub mod theory;

/// The README's code examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
