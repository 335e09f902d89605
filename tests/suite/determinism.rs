//! Byte-exact determinism: `metrics.csv`, `layers.csv`, `summary.csv` and `classes.csv`
//! are identical across `--threads 1`, `--threads 2` and a rerun, for every built-in
//! experiment at reduced size, in f32 and f64.

use std::path::Path;
use std::process::Command;

const FILES: [&str; 4] = ["metrics.csv", "layers.csv", "summary.csv", "classes.csv"];

fn run(name: &str, precision: &str, threads: &str, out: &Path) {
    // The digits experiments (1,797 rows) are the slow ones: fewer starts or axis points,
    // one epoch of 23–45 steps.
    let size: &[&str] = match name {
        "digits" | "adam" => &["--epochs", "1", "--inits", "tiny,he-normal"],
        "weight-scale" => &["--epochs", "1", "--grid", "inits.normal.std=0.001,0.1"],
        "residual-depth" => &["--epochs", "1", "--grid", "network.depth=9"],
        "batchnorm" => &["--epochs", "1"],
        "lr-transfer" => &[
            "--epochs",
            "1",
            "--grid",
            "network.width=64,256",
            "--grid",
            "training.learning_rate=0.25,1",
        ],
        _ => &["--epochs", "3"],
    };
    let output = Command::new(env!("CARGO_BIN_EXE_initlab"))
        .args(["experiment", name, "--seeds", "2", "--log-every", "1"])
        .args(size)
        .args([
            "--precision",
            precision,
            "--threads",
            threads,
            "--quiet",
            "--no-plots",
        ])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name} {precision} threads {threads}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read(dir: &Path) -> Vec<Vec<u8>> {
    FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect()
}

#[test]
fn every_builtin_is_byte_identical_across_threads_and_reruns() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, _) in initlab::experiment::BUILTINS {
        for precision in ["f32", "f64"] {
            let one = tmp.path().join(format!("{name}-{precision}-1"));
            let two = tmp.path().join(format!("{name}-{precision}-2"));
            run(name, precision, "1", &one);
            run(name, precision, "2", &two);
            let first = read(&one);
            assert!(first[0].len() > 100, "{name}: metrics.csv too short");
            for (f, (a, b)) in FILES.iter().zip(first.iter().zip(read(&two))) {
                assert!(
                    *a == b,
                    "{name} {precision}: {f} differs between --threads 1 and 2"
                );
            }
            // A rerun into the same directory replaces it with the same bytes.
            run(name, precision, "2", &one);
            for (f, (a, b)) in FILES.iter().zip(first.iter().zip(read(&one))) {
                assert!(*a == b, "{name} {precision}: {f} differs on a rerun");
            }
        }
    }
}
