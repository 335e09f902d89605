//! Ctrl-C (SIGINT) and SIGTERM during `experiment`: finished runs are written whole and
//! marked partial, the process exits with 130 within two seconds, an interrupted rerun
//! leaves the previous results intact (the partial ones go to `<out>.partial`), and a stop
//! before any run finished writes nothing.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn initlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_initlab"))
}

/// Epochs for which one xor run takes about `seconds` on this machine.
fn calibrate(seconds: f64) -> u64 {
    let epochs = 100_000u64;
    let start = Instant::now();
    let status = initlab()
        .args([
            "experiment",
            "xor",
            "--seeds",
            "1",
            "--inits",
            "xavier-normal",
        ])
        .args([
            "--activations",
            "tanh",
            "--threads",
            "1",
            "--quiet",
            "--no-plots",
        ])
        .args(["--log-every", "1000", "--epochs", &epochs.to_string()])
        .arg("--out")
        .arg(std::env::temp_dir().join(format!("initlab-calibrate-{}", std::process::id())))
        .status()
        .unwrap();
    assert!(status.success());
    let _ = fs::remove_dir_all(
        std::env::temp_dir().join(format!("initlab-calibrate-{}", std::process::id())),
    );
    let per_epoch = start.elapsed().as_secs_f64() / epochs as f64;
    ((seconds / per_epoch) as u64).max(1_000)
}

/// Starts a long xor experiment (75 runs on one thread) into `out`.
fn spawn(out: &Path, epochs: u64) -> Child {
    initlab()
        .args([
            "experiment",
            "xor",
            "--threads",
            "1",
            "--no-plots",
            "--quiet",
        ])
        .args(["--log-every", "1000", "--epochs", &epochs.to_string()])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` after `after`, then waits at most two seconds for the exit; returns the
/// exit code and stderr.
fn interrupt(mut child: Child, signal: &str, after: Duration) -> (Option<i32>, String) {
    std::thread::sleep(after);
    assert!(
        child.try_wait().unwrap().is_none(),
        "finished before the signal"
    );
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
        if sent.elapsed() > Duration::from_secs(2) {
            let _ = child.kill();
            panic!("still running 2 s after {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (code, stderr)
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
    summary
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
fn sigint_writes_finished_runs_marked_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("xor");
    let epochs = calibrate(0.2);
    let (code, stderr) = interrupt(spawn(&out, epochs), "-INT", Duration::from_secs(1));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.starts_with("error: interrupted"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let summary = check_whole(&out);
    assert!(!summary.is_empty(), "{stderr}");
    let partial = summary[0].len() - 1;
    assert!(summary.iter().all(|r| &r[partial] == "true"));
    let runs: usize = summary.iter().map(|r| r[3].parse::<usize>().unwrap()).sum();
    // The grid's size: starts × activations × seeds of the built-in xor experiment.
    let exp = initlab::experiment::Experiment::load("xor").unwrap();
    let total = exp.inits.len() * exp.spec.network.activations.len() * exp.spec.seeds;
    assert!((1..total).contains(&runs), "{runs} runs of {total}");
    assert!(
        stderr.contains(&format!("{runs} of {total} runs")),
        "{stderr}"
    );
    assert!(leftovers(tmp.path()).is_empty());
}

#[test]
fn sigterm_during_a_rerun_keeps_previous_results() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("xor");
    let status = initlab()
        .args([
            "experiment",
            "xor",
            "--epochs",
            "20",
            "--quiet",
            "--no-plots",
        ])
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let before = snapshot(&out);
    let epochs = calibrate(0.2);
    let (code, stderr) = interrupt(spawn(&out, epochs), "-TERM", Duration::from_secs(1));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(snapshot(&out), before, "previous results changed");
    let partial_dir = tmp.path().join("xor.partial");
    assert!(stderr.contains("xor.partial"), "{stderr}");
    let summary = check_whole(&partial_dir);
    let partial = summary[0].len() - 1;
    assert!(summary.iter().all(|r| &r[partial] == "true"));
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );
}

#[test]
fn stop_before_any_run_finished_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("xor");
    // Fresh: nothing is created.
    let (code, stderr) = interrupt(spawn(&out, 1 << 40), "-INT", Duration::from_millis(500));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("nothing written"), "{stderr}");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    // Rerun: the previous results stay as they were, and no partial directory appears.
    fs::create_dir(&out).unwrap();
    fs::write(out.join("metrics.csv"), b"old\n").unwrap();
    let (code, stderr) = interrupt(spawn(&out, 1 << 40), "-TERM", Duration::from_millis(500));
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(fs::read(out.join("metrics.csv")).unwrap(), b"old\n");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}
