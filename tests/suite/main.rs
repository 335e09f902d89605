//! The integration tests, as one test binary: each file beside this one is a module (a
//! former `tests/NAME.rs`), so the crate is linked once instead of once per file. Run one
//! module with a filter: `cargo test --release --test suite -- theory::` (several filters
//! may follow `--`; a test's name is `module::test`).
//!
//! To add a test file: put it here as `tests/suite/NAME.rs` and add `mod NAME;` below.
//! A test that needs a process of its own stays a file directly under `tests/`, its own
//! binary: one with a `#[global_allocator]` or other process-wide state (environment
//! variables, signal handlers), or one whose timing must not compete with the suite's other
//! tests. `tests/alloc.rs` and `tests/gemm_alloc.rs` count allocations; `tests/interrupt.rs`
//! gives its child processes 60 s to stop after a signal, which they overran beside the
//! suite's heavy tests on a loaded 2-core machine (they take seconds to stop, as their memory
//! grows with the epoch count).

mod assignments;
mod autograder;
mod browser_report;
mod check;
mod claims;
mod classes;
mod cli_divergence;
mod cli_errors;
mod cli_layers;
mod coord_check;
mod data_csv_names;
mod data_dataset;
mod data_fuzz;
mod data_loaders;
mod data_parallel;
mod determinism;
mod drift;
mod float_mode;
mod fuzz_experiment;
mod gemm_correctness;
mod gradient_check;
mod grid_axes;
mod grid_threads;
mod histograms;
mod init_learned;
mod init_modern;
mod init_parse;
mod init_statistics;
mod inspect;
mod kernels;
mod layer_threads;
mod losses;
mod lr_transfer;
mod memory_estimate;
mod modern_experiments;
mod network;
mod optim_threads;
mod parametrization;
mod phase;
mod portable_identity;
mod progress;
mod pytorch_reference;
mod quantiles;
mod reference_backprop;
mod report_classes;
mod report_draw;
mod science_experiments;
mod sgd;
mod shard_merge;
mod streaming;
mod theory;
mod theory_start;
mod untrusted;
mod update_ratio;
mod weights;
mod xor;

/// Fails the test with the command's standard error unless it exited successfully.
pub(crate) fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
