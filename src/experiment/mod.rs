//! The experiment layer: experiments as TOML data, the grid runner, per-layer statistics,
//! the results schema and the results directory. It knows nothing of terminals or
//! pictures: progress goes through a callback, the summary comes back as data, and the
//! caller draws the report from the files written.
//!
//! - [`load`]: the built-in registry, TOML files and overrides → an [`Experiment`];
//! - [`execute()`]: data, grid, results directory (with [`runner`], [`prepare`],
//!   [`output`], [`reorder`]);
//! - [`axes`]: `[grid]` axes over any setting, expanded into the experiment of each point;
//! - [`record`]: the rows of every CSV file (written and read by [`crate::csvfile`]);
//! - [`merge`]: shard results directories → one;
//! - [`untrusted`]: the data files an untrusted experiment file may read.

pub mod axes;
pub mod build;
pub mod execute;
pub mod footprint;
pub mod load;
pub mod merge;
pub mod output;
pub mod prepare;
pub mod record;
pub mod reorder;
pub mod runner;
pub mod spec;
pub mod stats;
pub mod untrusted;

pub use execute::{
    ExecError, ExecOptions, Outcome, execute, execute_limited, execute_within, partial_path,
};
pub use load::{BUILTINS, Experiment, Overrides, builtin_names};
pub use spec::{ConfigError, ExperimentSpec, Precision, ResolvedInit};
