//! The engine: activations, initializers, dense layers, the MLP with hand-written
//! backprop, losses, the SGD optimizer and the training loop.
//!
//! It knows nothing of files, terminals or the command line. Shapes follow PyTorch: a
//! weight is `(out, in)`, a batch `x` is `(batch, in)`, and `z = x · Wᵀ + b`.

pub mod activation;
pub mod dense;
pub mod float;
pub mod gemm;
pub mod init;
pub mod loss;
pub mod mlp;
pub mod optim;
pub mod train;

pub use activation::Activation;
pub use dense::Dense;
pub use float::Float;
pub use init::{Fan, Init};
pub use loss::{Loss, TargetsView};
pub use mlp::{Gradients, Mlp, Workspace};
pub use optim::Sgd;
pub use train::{Checkpoint, EpochRecord, History, Split, TrainConfig, train};
