//! Stopping an experiment part-way (Ctrl-C / SIGTERM): finished runs are written whole and
//! marked partial, an interrupted rerun leaves the previous results intact (the partial ones
//! go to `<out>.partial`), a stop before any run finished writes nothing, and the command
//! line exits with 130.
//!
//! No test waits for wall-clock time. The library tests raise the stop flag from the
//! progress callback, i.e. exactly when the first run has finished (progress counts epochs
//! across runs; on one thread, a whole run's epochs). The command-line tests
//! send the signal once the staging directory `.<out>.tmp-<pid>` exists (the signal handler
//! is installed before it is created), with so many epochs that no run can finish first.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use initlab::experiment::{ExecOptions, Experiment, Outcome, execute};

/// The built-in xor experiment, on one thread (so runs finish one at a time, in order).
fn xor() -> Experiment {
    Experiment::load("xor").unwrap()
}

fn options(out: &Path) -> ExecOptions {
    ExecOptions {
        out: out.to_path_buf(),
        threads: 1,
        save_weights: false,
        shard: None,
    }
}

/// Runs `exp` into `out` and raises the stop flag as soon as the first run has finished,
/// as the signal handler would.
fn execute_stopping_after_first_run(exp: &Experiment, out: &Path) -> Outcome {
    let stop = AtomicBool::new(false);
    // Progress counts epochs across runs; on one thread the runs go one after another, so
    // the first run has finished once a whole run's epochs are counted.
    let epochs_per_run = exp.spec.training.epochs;
    let progress = |epochs_done: usize, _total: usize| {
        if epochs_done >= epochs_per_run {
            stop.store(true, Ordering::SeqCst);
        }
    };
    execute(exp, &options(out), &stop, &progress).unwrap()
}

/// Checks every CSV in `dir` is whole: ends in a newline and every row has the header's
/// field count; returns summary.csv's rows.
fn check_whole(dir: &Path) -> Vec<csv::StringRecord> {
    let mut summary = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv") {
            let bytes = fs::read(&path).unwrap();
            assert!(bytes.ends_with(b"\n"), "{} not whole", path.display());
            let mut reader = csv::Reader::from_reader(bytes.as_slice());
            let width = reader.headers().unwrap().len();
            let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
            assert!(rows.iter().all(|r| r.len() == width), "{}", path.display());
            if path.ends_with("summary.csv") {
                summary = rows;
            }
        }
    }
    assert!(!summary.is_empty(), "no summary rows in {}", dir.display());
    summary
}

/// Checks summary.csv marks every row partial and counts `runs` runs in all.
fn check_partial(summary: &[csv::StringRecord], runs: usize) {
    let partial = summary[0].len() - 1;
    assert!(summary.iter().all(|r| &r[partial] == "true"));
    let counted: usize = summary.iter().map(|r| r[3].parse::<usize>().unwrap()).sum();
    assert_eq!(counted, runs);
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), fs::read(&p).unwrap_or_default())
        })
        .collect()
}

/// Names in `dir` that are initlab's temporary files or directories.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect()
}

#[test]
fn a_stop_after_the_first_run_writes_it_marked_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("xor");
    let exp = xor();
    let total = exp.inits.len() * exp.spec.network.activations.len() * exp.spec.seeds;
    let outcome = execute_stopping_after_first_run(&exp, &out);
    // One thread: the run after the first sees the flag before it starts.
    assert!(outcome.interrupted && outcome.written);
    assert_eq!((outcome.runs_done, outcome.runs_total), (1, total));
    assert_eq!(outcome.out, out);
    check_partial(&check_whole(&out), 1);
    assert!(leftovers(tmp.path()).is_empty());
}

#[test]
fn a_stopped_rerun_keeps_the_previous_results_and_writes_beside_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("xor");
    let mut quick = xor();
    quick.spec.training.epochs = 20;
    let never = AtomicBool::new(false);
    let full = execute(&quick, &options(&out), &never, &|_, _| {}).unwrap();
    assert!(!full.interrupted && full.written);
    let before = snapshot(&out);

    let outcome = execute_stopping_after_first_run(&xor(), &out);
    assert!(outcome.interrupted && outcome.written);
    assert_eq!(snapshot(&out), before, "previous results changed");
    let partial_dir = tmp.path().join("xor.partial");
    assert_eq!(outcome.out, partial_dir);
    check_partial(&check_whole(&partial_dir), 1);
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );
}

#[test]
fn a_stop_before_any_run_finished_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("xor");
    let stop = AtomicBool::new(true);
    let outcome = execute(&xor(), &options(&out), &stop, &|_, _| {}).unwrap();
    assert!(outcome.interrupted && !outcome.written);
    assert_eq!(outcome.runs_done, 0);
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------
// The command line: a signal stops the grid, the exit code is 130, stderr says why.
// ---------------------------------------------------------------------------------------

/// Starts the xor experiment into `out` with more epochs than any run can finish.
fn spawn_endless(out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_initlab"))
        .args([
            "experiment",
            "xor",
            "--threads",
            "1",
            "--no-plots",
            "--quiet",
        ])
        // Logged at epoch 0 and the last only: the rows a run keeps until it is written
        // must fit in memory (the memory guard refuses a run that would log 10⁹ epochs).
        .args(["--log-every", &(1u64 << 40).to_string()])
        .args(["--epochs", &(1u64 << 40).to_string()])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The staging directory initlab works in while it runs the grid into `out`.
fn staging_dir(out: &Path, child: &Child) -> PathBuf {
    let name = out.file_name().unwrap().to_string_lossy();
    out.with_file_name(format!(".{name}.tmp-{}", child.id()))
}

/// Waits until `child` has created its staging directory (so its signal handler is
/// installed and the grid has started), sends `signal`, and returns the exit code and
/// stderr.
fn interrupt(out: &Path, mut child: Child, signal: &str) -> (Option<i32>, String) {
    let staging = staging_dir(out, &child);
    // A generous bound that only keeps a broken build from hanging the test suite.
    let hang = Duration::from_secs(60);
    let started = Instant::now();
    while !staging.is_dir() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("exited ({status}) before creating {}", staging.display());
        }
        assert!(
            started.elapsed() < hang,
            "no {} after 60 s",
            staging.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let sent = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if sent.elapsed() > hang {
            let _ = child.kill();
            panic!("still running 60 s after {signal}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (code, stderr)
}

#[test]
fn sigint_and_sigterm_exit_130_and_keep_what_was_there() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("xor");
    // Fresh: nothing is created.
    let (code, stderr) = interrupt(&out, spawn_endless(&out), "-INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.starts_with("error: interrupted"), "{stderr}");
    assert!(stderr.contains("nothing written"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    // Rerun: the previous results stay as they were, and no partial directory appears.
    fs::create_dir(&out).unwrap();
    fs::write(out.join("metrics.csv"), b"old\n").unwrap();
    let (code, stderr) = interrupt(&out, spawn_endless(&out), "-TERM");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(fs::read(out.join("metrics.csv")).unwrap(), b"old\n");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}
