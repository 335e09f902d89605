//! The engine: activations, initializers, layers with hand-written backprop, the network
//! as a sequence of layers, the fused fast path for plain chains, losses, optimizers, the
//! training loop and per-layer measurements.
//!
//! | concept | file |
//! |---|---|
//! | a layer kind and its forward beside its backward | `dense.rs`, `activation.rs`, `layer_norm.rs`, `batch_norm.rs`, `residual.rs` |
//! | the closed set of layers ([`Layer`]) | `layer.rs` |
//! | a network as a sequence of layers, its reference loop and workspace path ([`Network`]) | `network.rs` |
//! | the fused, data-parallel fast path for dense + activation chains ([`Mlp`]) | `mlp.rs`, `mlp/data_parallel.rs`, `gemm/` |
//! | parameters as one ordered list of named tensors ([`ParamSet`]) | `param.rs` |
//! | optimizers: state plus an update over that list | `optim/` (`sgd.rs`, `adam.rs`, `rmsprop.rs`) |
//! | work cut into pieces on several threads (nested `rayon::join`) | `pieces.rs` |
//! | losses fused with the output non-linearity | `loss.rs` |
//! | the training loop over any [`Model`] | `train.rs` |
//! | starts | `init/` |
//! | parametrizations (SP, NTK, μP): per-layer variance, forward and learning-rate multipliers | `parametrization.rs` |
//!
//! It knows nothing of files, terminals or the command line. Shapes follow PyTorch: a
//! weight is `(out, in)`, a batch `x` is `(batch, in)`, and `z = x · Wᵀ + b`.
//!
//! To learn backprop from it, read [`Dense::forward`] and [`Dense::backward`] (one layer,
//! the chain rule in the doc comments), then [`LayerNorm`] and [`BatchNorm`] (the same with
//! statistics), then [`Network::reference_gradients`] (the loop over layers), then
//! [`Mlp::backward_from_output`], the fused version plain chains train with.
//!
//! For courses: [`gradcheck`] checks any `Mlp`'s (or a student's own layer's) gradient by
//! finite differences, and [`moments`] tests any start's mean, variance and bound.

pub mod activation;
pub mod batch_norm;
pub mod classes;
pub mod dense;
pub mod drift;
pub mod float;
pub mod gemm;
pub mod gradcheck;
pub mod histogram;
pub mod init;
pub mod layer;
pub mod layer_norm;
pub mod loss;
pub mod mlp;
pub mod moments;
pub mod network;
pub mod optim;
pub mod param;
pub mod parametrization;
pub mod pieces;
pub mod quantiles;
pub mod residual;
pub mod stats;
pub mod train;

pub use activation::Activation;
pub use batch_norm::{BatchNorm, Mode};
pub use classes::{ClassCount, ClassTally};
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
pub use parametrization::{Parametrization, Role};
pub use residual::{Alpha, Residual};
pub use stats::LayerStats;
pub use train::{Checkpoint, EpochRecord, History, Model, Split, TrainConfig, train};
