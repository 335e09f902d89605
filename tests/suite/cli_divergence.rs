//! Divergence is a result (exit 0, `diverged=true` rows) unless `--fail-on-divergence`
//! asks for exit code 3.

use std::fs;

use assert_cmd::Command;

/// A learning rate that overflows the weights of an f32 network within a few steps.
const DIVERGE: [&str; 10] = [
    "experiment",
    "xor",
    "--epochs",
    "20",
    "--seeds",
    "1",
    "--learning-rate",
    "1e30",
    "--quiet",
    "--no-plots",
];

#[test]
fn divergence_is_a_result_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .args(DIVERGE)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metrics = fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(
        metrics.lines().any(|l| l.ends_with(",true")),
        "no diverged row"
    );
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let diverged: usize = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().parse::<usize>().unwrap())
        .sum();
    assert!(diverged > 0, "{summary}");
}

#[test]
fn fail_on_divergence_exits_3_after_writing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .args(DIVERGE)
        .arg("--fail-on-divergence")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("diverged (--fail-on-divergence)"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(out.join("metrics.csv").exists());
    // A run that does not diverge passes with the flag.
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .args([
            "experiment",
            "xor",
            "--epochs",
            "5",
            "--seeds",
            "1",
            "--quiet",
        ])
        .args([
            "--no-plots",
            "--fail-on-divergence",
            "--inits",
            "xavier-normal",
            "--out",
        ])
        .arg(dir.path().join("ok"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}
