//! Streaming results: runs are handed on (and written) in grid order through a bounded
//! reorder window, so the files do not depend on the thread count and memory does not
//! grow with the grid.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use initlab::experiment::runner::{self, Grid, RunOptions, WINDOW_PER_THREAD};
use initlab::experiment::{ExecOptions, Experiment, execute, prepare};

/// 2 starts × 2 activations × `seeds` seeds of 6 epochs, logged every 2; the huge start at
/// a large learning rate diverges early, so runs take very different times.
fn spec(seeds: usize) -> String {
    format!(
        r#"
name = "stream"
seeds = {seeds}
inits = ["xavier-normal", {{ name = "huge", std = 1000.0 }}]
[data]
source = "xor"
[network]
hidden = [8]
activations = ["tanh", "relu"]
loss = "mse"
[training]
epochs = 6
learning_rate = 1000.0
log_every = 2
"#
    )
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// 80 runs, more than the window of 3 threads holds (12): the files are the same on 1
/// and 3 threads, and the runs reach the writer in grid order.
#[test]
fn files_are_the_same_whatever_the_thread_count() {
    let exp = Experiment::from_text(&spec(20), "stream test", None).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for threads in [1, 3] {
        let out = tmp.path().join(format!("t{threads}"));
        let options = ExecOptions {
            out: out.clone(),
            threads,
            save_weights: false,
            shard: None,
        };
        let outcome = execute(&exp, &options, &AtomicBool::new(false), &|_, _| {}).unwrap();
        assert_eq!(outcome.runs_done, 80);
        assert!(outcome.diverged > 0, "the test needs runs that stop early");
        written.push(files(&out));
    }
    assert_eq!(written[0], written[1]);
    // The rows are in grid order: init-major, then activation, then seed.
    let (_, metrics) = written[0].iter().find(|(n, _)| n == "metrics.csv").unwrap();
    let metrics = String::from_utf8(metrics.clone()).unwrap();
    let keys: Vec<String> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
        .collect();
    let mut runs = keys.clone();
    runs.dedup();
    let expected: Vec<String> = ["xavier-normal", "huge"]
        .iter()
        .flat_map(|i| {
            ["tanh", "relu"]
                .iter()
                .flat_map(move |a| (0..20).map(move |s| format!("stream,{i},{a},{s}")))
        })
        .collect();
    assert_eq!(runs, expected);
}

/// While the consumer is stuck on the first run, the workers run ahead by at most the
/// window: of 100 runs, only the `WINDOW_PER_THREAD × threads` after the first one (and
/// it) are computed; then, as the consumer takes them, all of them, in order.
#[test]
fn the_window_bounds_the_runs_held_for_a_slow_consumer() {
    let exp = Experiment::from_text(&spec(25), "stream test", None).unwrap();
    let dataset = prepare::load(&exp.spec.data, None).unwrap();
    let outputs = prepare::output_width(&dataset, exp.spec.network.loss).unwrap();
    let shared = runner::RunContext {
        spec: &exp.spec,
        inits: &exp.inits,
        points: &exp.sweep.points,
        dataset: &dataset,
        outputs,
        class_names: &[],
    };
    let grid = Grid::new(&exp, None);
    let threads = 2;
    let options = RunOptions {
        threads,
        save_weights: false,
    };
    let epochs = exp.spec.training.epochs;
    let done = AtomicUsize::new(0);
    let progress = |d: usize, _: usize| {
        done.fetch_max(d, Ordering::SeqCst);
    };
    let mut seen = Vec::new();
    let mut done_while_stuck = 0;
    runner::run_grid_in_order::<f32, ()>(
        shared,
        &grid,
        &options,
        &AtomicBool::new(false),
        &progress,
        &mut |run| {
            if seen.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(400));
                done_while_stuck = done.load(Ordering::SeqCst);
            }
            seen.push(run.spec.index);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen, (0..100).collect::<Vec<_>>());
    let window = WINDOW_PER_THREAD * threads;
    assert!(
        done_while_stuck <= (window + 1) * epochs,
        "{done_while_stuck} epochs done while the first run waited; the window holds {window} runs"
    );
    assert!(
        done_while_stuck >= window * epochs / 2,
        "the workers did not run ahead ({done_while_stuck} epochs)"
    );
}

/// Peak resident memory of a child process, polled from `/proc/PID/status` (`VmHWM`, the
/// high-water mark) until it exits.
#[cfg(target_os = "linux")]
pub(crate) fn peak_rss_kib(mut child: std::process::Child) -> u64 {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = fs::read_to_string(&status) {
            if let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:")) {
                let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
                peak = peak.max(kib);
            }
        }
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success());
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// xor with every epoch logged, at 10 and 400 seeds (180 and 7,200 runs; 46 MB of rows had
/// they been held until the end, as before streaming): the peak stays within 2×.
#[cfg(target_os = "linux")]
#[test]
fn peak_memory_does_not_grow_with_the_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let peak = |seeds: usize| {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_initlab"))
            .args(["experiment", "xor", "--epochs", "20", "--log-every", "1"])
            .args(["--seeds", &seeds.to_string(), "--threads", "2"])
            .args(["--no-plots", "--quiet", "--out"])
            .arg(tmp.path().join(format!("s{seeds}")))
            .spawn()
            .unwrap();
        peak_rss_kib(child)
    };
    let (small, large) = (peak(10), peak(400));
    let rows = fs::read_to_string(tmp.path().join("s400/layers.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, 1 + 7200 * 21 * 2);
    assert!(
        large <= 2 * small,
        "peak RSS {small} KiB at 10 seeds, {large} KiB at 400"
    );
}
