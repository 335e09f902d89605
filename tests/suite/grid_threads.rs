//! A grid of one run is the only case where `--threads` reaches inside the matrix products
//! (the runner gives a lone run all the threads; several runs get one thread each). Its
//! outputs must not depend on the thread count either.

use std::path::Path;
use std::process::Command;

const FILES: [&str; 5] = [
    "metrics.csv",
    "layers.csv",
    "summary.csv",
    "classes.csv",
    "quantiles.csv",
];

/// One start, one seed, one activation; a full batch of 600 rows through 128-wide layers:
/// 600 × 128 × 128 multiply-adds per product, past the threaded product's threshold.
fn spec(init: &str, activation: &str) -> String {
    format!(
        r#"name = "one-run"
seeds = 1
inits = [{init}]

[data]
source = "spiral"
points_per_class = 200
classes = 3

[network]
hidden = [128, 128, 128]
activations = ["{activation}"]
loss = "cross-entropy"

[training]
epochs = 4
learning_rate = 0.5
log_every = 1
quantiles = true
"#
    )
}

fn run(toml: &Path, precision: &str, threads: &str, out: &Path) -> Vec<Vec<u8>> {
    let output = Command::new(env!("CARGO_BIN_EXE_initlab"))
        .arg("experiment")
        .arg(toml)
        .args(["--precision", precision, "--threads", threads])
        .args(["--quiet", "--no-plots", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{precision} threads {threads}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    FILES
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect()
}

#[test]
fn one_run_grid_is_byte_identical_across_threads() {
    let tmp = tempfile::tempdir().unwrap();
    // A good start, and a huge sigmoid start whose saturated units make tiny gradients.
    let cases = [
        ("\"he-normal\"", "relu"),
        ("{ name = \"huge\", std = 10.0 }", "sigmoid"),
    ];
    for (i, (init, activation)) in cases.iter().enumerate() {
        let toml = tmp.path().join(format!("one-run-{i}.toml"));
        std::fs::write(&toml, spec(init, activation)).unwrap();
        for precision in ["f32", "f64"] {
            let one = run(
                &toml,
                precision,
                "1",
                &tmp.path().join(format!("{i}-{precision}-1")),
            );
            let two = run(
                &toml,
                precision,
                "2",
                &tmp.path().join(format!("{i}-{precision}-2")),
            );
            assert!(one[0].len() > 100, "{init}: metrics.csv too short");
            for (f, (a, b)) in FILES.iter().zip(one.iter().zip(&two)) {
                assert!(
                    a == b,
                    "{init} {activation} {precision}: {f} differs between --threads 1 and 2"
                );
            }
        }
    }
}
