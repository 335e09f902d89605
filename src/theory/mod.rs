//! Mean-field signal propagation: what theory predicts for a deep network at initialization,
//! beside what `inspect` measures. Engine-level, no I/O; used by `inspect --theory`,
//! `initlab phase` and `initlab claims`.
//!
//! - [`quadrature`]: Gaussian expectations (Gauss–Hermite, documented accuracy);
//! - [`phi`]: each activation and its derivative as exact `f64` functions;
//! - [`maps`]: the length and correlation maps, q*, χ₁, c*, χ_c, the depth scales ξ_q and
//!   ξ_c, and the phase (ordered / critical / chaotic);
//! - [`layers`]: per-layer predictions of activation and gradient std for a given input;
//! - [`scales`]: σ_w² and σ_b² of a named start;
//! - [`critical`]: the σ_w² on the edge of chaos (χ₁ = 1 at q*) for any activation and σ_b²,
//!   what the `critical` start draws with;
//! - [`residual`]: the residual stream's second moment block after block (Yang & Schoenholz
//!   2017): exponential growth under He, linear with pre-LayerNorm, none with α = 0 or Fixup;
//! - [`jacobian`]: the input–output Jacobian and its singular values (dynamical isometry);
//! - [`width`]: how coordinates scale with width after training steps, per
//!   parametrization (SP, NTK, μP) and optimizer — what `initlab coord-check` compares with;
//! - [`linalg`]: the one-sided Jacobi SVD and the symmetric Jacobi eigen-solver they use.
//!
//! Conventions (as in Poole et al. 2016 and Schoenholz et al. 2017): σ_w² = Var(w) · fan_in
//! (He: 2, LeCun: 1, Xavier on a square layer: 1), σ_b² = Var(b).
//!
//! ```
//! use initlab::nn::Activation;
//! use initlab::theory::{MeanField, Phase};
//! // He's factor 2 is exactly the critical point of ReLU: χ₁ = σ_w²/2 = 1.
//! let he = MeanField::new(Activation::Relu, 2.0, 0.0).unwrap().analyze();
//! assert!((he.chi1 - 1.0).abs() < 1e-12);
//! assert_eq!(he.phase, Phase::Critical);
//! ```

pub mod critical;
pub mod jacobian;
pub mod layers;
pub mod linalg;
pub mod maps;
pub mod phi;
pub mod quadrature;
pub mod residual;
pub mod scales;
pub mod width;

pub use critical::{Critical, critical_sigma_w2};
pub use layers::{LayerPrediction, LayerScale, predict_layers};
pub use maps::{
    Analysis, CRITICAL_TOLERANCE, Length, MeanField, Phase, SettingError, check_scales,
};
pub use scales::{StartScales, start_scales};
