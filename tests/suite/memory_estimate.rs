//! The memory guard's estimate against what a run really uses: the estimate counts the big
//! buffers by hand (how many copies of the parameters a run keeps, the batch's activations,
//! the rows it holds), so a test must catch a count that drifts from the engine. A run whose
//! parameters dominate, on both engines and under Adam (two state buffers), must peak within
//! a factor of two of its estimate, the accuracy the guard promises.

use std::fs;
use std::process::Command;

/// Two hidden layers of 1,500: 2.26 million parameters, so the parameter buffers dominate.
const EXPERIMENT: &str = r#"
name = "big"
seeds = 1
inits = ["he-normal"]

[data]
source = "moons"
samples = 400

[network]
NETWORK
activations = ["relu"]
loss = "cross-entropy"

[training]
epochs = 3
batch_size = 32
learning_rate = 0.01
optimizer = "adam"
"#;

/// The estimate's total in bytes, read from the guard's refusal under a tiny `--max-memory`.
fn estimated_bytes(file: &std::path::Path, out: &std::path::Path) -> f64 {
    let output = Command::new(env!("CARGO_BIN_EXE_initlab"))
        .arg("experiment")
        .arg(file)
        .args(["--threads", "1", "--max-memory", "9M", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    // "... ~102 MB in all; --max-memory is 9.0 MB"
    let total = err
        .split(", ~")
        .last()
        .and_then(|t| t.strip_suffix(" in all; --max-memory is 9.0 MB\n"))
        .unwrap_or_else(|| panic!("no total in {err:?}"));
    let (number, unit) = total.split_once(' ').unwrap();
    let scale = match unit {
        "MB" => 1e6,
        "GB" => 1e9,
        _ => panic!("unit {unit} in {err:?}"),
    };
    number.parse::<f64>().unwrap() * scale
}

#[cfg(target_os = "linux")]
#[test]
fn a_runs_peak_memory_is_within_twice_its_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, network) in [
        ("plain", "hidden = [1500, 1500]"),
        (
            "layers",
            r#"layers = [{ dense = 1500 }, "relu", "layernorm", { dense = 1500 }, "relu"]"#,
        ),
    ] {
        let file = tmp.path().join(format!("{name}.toml"));
        fs::write(&file, EXPERIMENT.replace("NETWORK", network)).unwrap();
        let estimate = estimated_bytes(&file, &tmp.path().join(format!("{name}-refused")));
        let child = Command::new(env!("CARGO_BIN_EXE_initlab"))
            .arg("experiment")
            .arg(&file)
            .args(["--threads", "1", "--quiet", "--no-plots", "--out"])
            .arg(tmp.path().join(name))
            .spawn()
            .unwrap();
        let peak = super::streaming::peak_rss_kib(child) as f64 * 1024.0;
        let ratio = peak / estimate;
        assert!(
            (0.5..=2.0).contains(&ratio),
            "{name}: peak {peak:.0} bytes, estimate {estimate:.0} bytes (ratio {ratio:.2})"
        );
    }
}
