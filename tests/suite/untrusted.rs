//! Grading untrusted experiment files (`--untrusted --data-root DIR`) and budgets
//! (`--max-seconds`, `--max-runs`), end to end at the command line: a student's file may
//! read data only inside the data root, no message quotes a file it should not, pathological
//! input gets one clear error (never an abort), and a budget stops the experiment with its
//! finished runs written and marked partial (exit code 5).

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// What the grader keeps out of the students' reach.
const SECRET: &str = "# Hidden expectations of the assignment: train_loss at_most 0.05\n";

/// A small experiment over `path`.
fn csv_experiment(path: &str) -> String {
    format!(
        r#"name = "t"
seeds = 1
inits = ["xavier-normal"]

[data]
source = "csv"
path = "{path}"

[network]
hidden = [3]
activations = ["tanh"]
loss = "cross-entropy"

[training]
epochs = 2
learning_rate = 0.1
"#
    )
}

const CSV: &str = "x1,x2,label\n0,0,0\n1,1,0\n0,1,1\n1,0,1\n";

/// `tmp/root/d.csv` (allowed), `tmp/secret/hidden.toml` (not), `tmp/sub/` for the
/// student's file.
fn layout() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["root", "secret", "sub"] {
        fs::create_dir(tmp.path().join(d)).unwrap();
    }
    fs::write(tmp.path().join("root/d.csv"), CSV).unwrap();
    fs::write(tmp.path().join("secret/hidden.toml"), SECRET).unwrap();
    tmp
}

/// Runs `initlab ARGS` in `dir`; returns the exit code, stdout and stderr.
fn initlab(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("initlab")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("overflow"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// Runs the student's file `sub/e.toml` (with `toml`) under `--untrusted --data-root root`.
fn graded(tmp: &Path, toml: &str, extra: &[&str]) -> (i32, String, String) {
    fs::write(tmp.join("sub/e.toml"), toml).unwrap();
    let mut args = vec![
        "experiment",
        "sub/e.toml",
        "--untrusted",
        "--data-root",
        "root",
        "--out",
        "out",
        "--quiet",
        "--no-plots",
    ];
    args.extend_from_slice(extra);
    initlab(tmp, &args)
}

/// Checks a refusal: exit code 2, one line naming the key, nothing of the secret, no
/// output directory.
fn refused(tmp: &Path, (code, _, stderr): (i32, String, String), says: &str) {
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    assert!(!stderr.contains("Hidden"), "quoted the secret: {stderr}");
    assert!(!stderr.contains("at_most"), "quoted the secret: {stderr}");
    assert!(!tmp.join("out").exists());
}

#[test]
fn a_data_path_outside_the_root_is_refused_without_quoting_it() {
    let tmp = layout();
    let t = tmp.path();
    // Trusted, the file's first line is quoted back (it helps a user fix a data file).
    fs::write(
        t.join("sub/e.toml"),
        csv_experiment("../secret/hidden.toml"),
    )
    .unwrap();
    let (code, _, stderr) = initlab(
        t,
        &[
            "experiment",
            "sub/e.toml",
            "--out",
            "out",
            "--quiet",
            "--no-plots",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("Hidden expectations"), "{stderr}");
    // Untrusted: refused before it is opened, the same for a relative, an absolute and a
    // missing path.
    let said = "`data.path` = \"../secret/hidden.toml\": no such data file inside the data root (allowed: --data-root root)";
    refused(
        t,
        graded(t, &csv_experiment("../secret/hidden.toml"), &[]),
        said,
    );
    let absolute = t.join("secret/hidden.toml").display().to_string();
    refused(
        t,
        graded(t, &csv_experiment(&absolute), &[]),
        "no such data file inside the data root",
    );
    refused(
        t,
        graded(t, &csv_experiment("../secret/nothing.toml"), &[]),
        "no such data file inside the data root",
    );
    // An IDX pair is checked file by file.
    let idx = csv_experiment("x").replace(
        "source = \"csv\"\npath = \"x\"",
        "source = \"idx\"\nimages = \"../root/d.csv\"\nlabels = \"../secret/hidden.toml\"",
    );
    refused(
        t,
        graded(t, &idx, &[]),
        "`data.labels` = \"../secret/hidden.toml\"",
    );
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_inside_the_root_pointing_out_is_refused() {
    let tmp = layout();
    let t = tmp.path();
    std::os::unix::fs::symlink(t.join("secret/hidden.toml"), t.join("root/link.csv")).unwrap();
    // Relative to the data root's file, through the student's directory.
    refused(
        t,
        graded(t, &csv_experiment("../root/link.csv"), &[]),
        "`data.path` = \"../root/link.csv\": no such data file inside the data root",
    );
    // A link to the whole secret directory.
    std::os::unix::fs::symlink(t.join("secret"), t.join("root/dir")).unwrap();
    refused(
        t,
        graded(t, &csv_experiment("../root/dir/hidden.toml"), &[]),
        "no such data file inside the data root",
    );
    // Special files are not data files.
    refused(
        t,
        graded(t, &csv_experiment("/dev/zero"), &[]),
        "no such data file inside the data root",
    );
}

#[test]
fn a_file_inside_the_root_runs_and_its_errors_quote_nothing() {
    let tmp = layout();
    let t = tmp.path();
    let (code, _, stderr) = graded(t, &csv_experiment("../root/d.csv"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(t.join("out/summary.csv").is_file());
    // A bad data file inside the root: where and what, not the content.
    fs::write(t.join("root/bad.csv"), SECRET).unwrap();
    fs::write(t.join("root/only.csv"), "label\n0\n1\n").unwrap();
    fs::write(t.join("root/cells.csv"), "x1,x2,label\n0,0,0\n1,Hidden,0\n").unwrap();
    for (file, says) in [
        (
            "bad.csv",
            "line 1: no column named \"label\" in the header, expected a label column (`data.label`) (the file's contents are not shown in --untrusted mode)",
        ),
        ("only.csv", "line 1: the only column is the label column"),
        (
            "cells.csv",
            "line 3: a cell does not hold what its column needs",
        ),
    ] {
        let _ = fs::remove_dir_all(t.join("out"));
        refused(
            t,
            graded(t, &csv_experiment(&format!("../root/{file}")), &[]),
            says,
        );
    }
    // Generated data and the built-in data sets need no data root.
    let (code, _, stderr) = initlab(
        t,
        &[
            "experiment",
            "xor",
            "--untrusted",
            "--epochs",
            "2",
            "--out",
            "xor",
            "--quiet",
            "--no-plots",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn data_root_needs_untrusted_and_must_be_a_directory() {
    let tmp = layout();
    let t = tmp.path();
    fs::write(t.join("sub/e.toml"), csv_experiment("../root/d.csv")).unwrap();
    let (code, _, stderr) = initlab(t, &["experiment", "sub/e.toml", "--data-root", "root"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--untrusted"), "{stderr}");
    let (code, _, stderr) = initlab(
        t,
        &[
            "experiment",
            "sub/e.toml",
            "--untrusted",
            "--data-root",
            "root/d.csv",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--data-root root/d.csv: is not a directory"),
        "{stderr}"
    );
}

#[test]
fn pathological_formulas_are_refused_not_a_stack_overflow() {
    let tmp = layout();
    let t = tmp.path();
    let start = |formula: &str| {
        csv_experiment("../root/d.csv").replace(
            "inits = [\"xavier-normal\"]",
            &format!("inits = [{{ name = \"formula\", std = \"{formula}\" }}]"),
        )
    };
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    refused(
        t,
        graded(t, &start(&deep), &[]),
        "inits[0]: formula `((((((((((((((((((((((((((((((...` is 200001 characters long; at most 1000 are accepted",
    );
    let nested = format!("{}1{}", "(".repeat(70), ")".repeat(70));
    refused(
        t,
        graded(t, &start(&nested), &[]),
        "nested more than 64 levels deep",
    );
    // The same from the command line.
    let inits = format!("--inits=formula:std={}", "-".repeat(100_000) + "1");
    let (code, _, stderr) = graded(t, &csv_experiment("../root/d.csv"), &[&inits]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("100001 characters long"), "{stderr}");
}

#[test]
fn deeply_nested_toml_is_an_error() {
    let tmp = layout();
    let t = tmp.path();
    for nested in [
        format!("x = {}1{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("x = {}1{}", "{a=".repeat(100_000), "}".repeat(100_000)),
        format!("{} = 1", vec!["a"; 100_000].join(".")),
        format!(
            "[[expect]]\nx = {}1{}",
            "{a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z=".repeat(79),
            "}".repeat(79)
        ),
    ] {
        let (code, _, stderr) = graded(t, &nested, &[]);
        assert_eq!(code, 2, "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.len() < 1000, "{}", &stderr[..1000]);
    }
}

#[test]
fn max_runs_writes_the_first_runs_marked_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (code, _, stderr) = initlab(
        t,
        &[
            "experiment",
            "xor",
            "--untrusted",
            "--epochs",
            "5",
            "--max-runs",
            "3",
            "--out",
            "out",
            "--quiet",
            "--no-plots",
        ],
    );
    assert_eq!(code, 5, "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!(
            "error: stopped by --max-runs 3: 3 of 90 runs finished and were written to out (marked partial in summary.csv)"
        )
    );
    let summary = fs::read_to_string(t.join("out/summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().skip(1).collect();
    assert!(rows.iter().all(|r| r.ends_with(",true")), "{summary}");
    let metrics = fs::read_to_string(t.join("out/metrics.csv")).unwrap();
    // 3 runs × 2 logged epochs (0 and the last: xor logs every 20).
    assert_eq!(metrics.lines().count(), 1 + 3 * 2, "{metrics}");
    // A budget as large as the grid changes nothing.
    let (code, _, stderr) = initlab(
        t,
        &[
            "experiment",
            "xor",
            "--epochs",
            "5",
            "--max-runs",
            "90",
            "--out",
            "all",
            "--quiet",
            "--no-plots",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = initlab(t, &["experiment", "xor", "--max-runs", "0"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--max-runs must be at least 1, got 0"),
        "{stderr}"
    );
}

#[test]
fn max_seconds_stops_the_experiment() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // Runs that cannot finish: nothing is written.
    let started = std::time::Instant::now();
    let (code, _, stderr) = initlab(
        t,
        &[
            "experiment",
            "xor",
            "--untrusted",
            "--threads",
            "1",
            "--epochs",
            "1099511627776",
            "--log-every",
            "1099511627776",
            "--max-seconds",
            "0.5",
            "--out",
            "endless",
            "--quiet",
        ],
    );
    assert_eq!(code, 5, "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: stopped by --max-seconds 0.5 before any of the 90 runs finished: nothing written, endless left as it was"
    );
    assert!(!t.join("endless").exists());
    assert!(started.elapsed().as_secs() < 30);
    // Runs of a fraction of a second each: those that finished are written, partial.
    let (code, _, stderr) = initlab(
        t,
        &[
            "experiment",
            "xor",
            "--threads",
            "1",
            "--epochs",
            "2000000",
            "--log-every",
            "2000000",
            "--max-seconds",
            "3",
            "--out",
            "some",
            "--quiet",
            "--no-plots",
        ],
    );
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.starts_with("error: stopped by --max-seconds 3"),
        "{stderr}"
    );
    if t.join("some").exists() {
        assert!(
            stderr.contains("runs finished and were written to some"),
            "{stderr}"
        );
        let summary = fs::read_to_string(t.join("some/summary.csv")).unwrap();
        assert!(
            summary.lines().skip(1).all(|r| r.ends_with(",true")),
            "{summary}"
        );
    }
    for bad in ["0", "-1", "nan", "inf"] {
        let (code, _, stderr) = initlab(t, &["experiment", "xor", &format!("--max-seconds={bad}")]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("--max-seconds must be a number of seconds > 0"),
            "{stderr}"
        );
    }
}

#[test]
fn runs_too_long_to_hold_are_refused_before_they_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = initlab(
        tmp.path(),
        &[
            "experiment",
            "xor",
            "--epochs",
            "1099511627776",
            "--out",
            "out",
            "--no-plots",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("training.epochs = 1099511627776 with training.log_every = 20 needs"),
        "{stderr}"
    );
    assert!(stderr.contains("logged epochs a run holds"), "{stderr}");
    assert!(!tmp.path().join("out").exists());
}
