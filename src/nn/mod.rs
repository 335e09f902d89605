//! The engine: activations, initializers, dense layers, the MLP with hand-written
//! backprop (a reference path and the fused fast one), losses, the SGD optimizer, the
//! training loop and per-layer measurements.
//!
//! It knows nothing of files, terminals or the command line. Shapes follow PyTorch: a
//! weight is `(out, in)`, a batch `x` is `(batch, in)`, and `z = x · Wᵀ + b`.
//!
//! To learn backprop from it, read [`Dense::forward`] and [`Dense::backward`] (one layer,
//! the chain rule in the doc comments), then [`Mlp::reference_gradients`] (the loop over
//! layers), then [`Mlp::backward_from_output`], the fused version training uses.
//!
//! For courses: [`gradcheck`] checks any `Mlp`'s (or a student's own layer's) gradient by
//! finite differences, and [`moments`] tests any start's mean, variance and bound.

pub mod activation;
pub mod batch_norm;
pub mod dense;
pub mod float;
pub mod gemm;
pub mod gradcheck;
pub mod histogram;
pub mod init;
pub mod layer;
pub mod layer_norm;
pub mod loss;
pub mod math;
pub mod mlp;
pub mod moments;
pub mod network;
pub mod optim;
pub mod param;
pub mod residual;
pub mod stats;
pub mod train;

pub use activation::Activation;
pub use batch_norm::{BatchNorm, Mode};
pub use dense::{Dense, DenseCache};
pub use float::Float;
pub use init::{Fan, Init};
pub use layer::{Layer, LayerCache};
pub use layer_norm::LayerNorm;
pub use loss::{Loss, TargetsView};
pub use mlp::{Gradients, Mlp, Workspace};
pub use network::{Network, NetworkWorkspace};
pub use optim::{Adam, Optimizer, RmsProp, Sgd, Step};
pub use param::{ParamInfo, ParamKind, ParamList, ParamSet, Parameters};
pub use residual::{Alpha, Residual};
pub use stats::LayerStats;
pub use train::{Checkpoint, EpochRecord, History, Model, Split, TrainConfig, train};
