//! The progress callback of `execute`: it counts epochs across the runs of the grid, so a
//! grid of a few long runs moves at every logged epoch, and it ends at runs × epochs.

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use initlab::experiment::{ExecOptions, Experiment, execute};

/// 2 starts × 2 activations × 3 seeds = 12 runs of 7 epochs, logged every 3 epochs (0, 3,
/// 6 and the last, 7); the huge start at a large learning rate diverges early.
const SPEC: &str = r#"
name = "progress"
seeds = 3
inits = ["xavier-normal", { name = "huge", std = 1000.0 }]
[data]
source = "xor"
[network]
hidden = [8]
activations = ["tanh", "relu"]
loss = "mse"
[training]
epochs = 7
learning_rate = 1000.0
log_every = 3
"#;

#[test]
fn progress_counts_every_epoch_of_every_run() {
    let exp = Experiment::from_text(SPEC, "progress test", None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = ExecOptions {
        out: dir.path().join("out"),
        threads: 2,
        save_weights: false,
        shard: None,
    };
    let calls = Mutex::new(Vec::new());
    let outcome = execute(&exp, &options, &AtomicBool::new(false), &|done, total| {
        calls.lock().unwrap().push((done, total));
    })
    .unwrap();
    let calls = calls.into_inner().unwrap();
    let (runs, epochs) = (12, 7);
    assert_eq!(outcome.runs_done, runs);
    assert!(
        outcome.diverged > 0,
        "the test needs a run that stops early"
    );
    assert!(
        calls.iter().all(|&(_, total)| total == runs * epochs),
        "{calls:?}"
    );
    // Each call reports a larger count (the counts are handed out by one counter).
    let mut done: Vec<usize> = calls.iter().map(|&(d, _)| d).collect();
    done.sort_unstable();
    done.dedup();
    assert_eq!(done.len(), calls.len(), "{calls:?}");
    assert_eq!(done.last(), Some(&(runs * epochs)), "{calls:?}");
    // Moving at logged epochs, not only once per run: a run that trains to the end
    // reports at epochs 3, 6 and 7.
    assert!(calls.len() >= 2 * runs, "{calls:?}");
}
