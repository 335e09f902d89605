//! Experiments on the layer engine, end to end through the command line: BatchNorm with
//! Adam, a ReZero residual network with GELU, an explicit layer list with LayerNorm and a
//! projected residual block. Each trains (the loss falls), gives the same bytes on one and
//! two threads and when rerun from its own `config.toml`, and writes one `layers.csv` row
//! per stage and PyTorch-named weight files.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

const HEAD: &str = r#"name = "t"
seeds = 1
inits = ["xavier-normal", "he-normal"]

[data]
source = "moons"
samples = 120
noise = 0.1
test_fraction = 0.25
"#;

fn experiment(network: &str, training: &str) -> String {
    format!("{HEAD}\n[network]\nloss = \"cross-entropy\"\n{network}\n[training]\n{training}\n")
}

fn run(dir: &Path, toml: &str, out: &str, extra: &[&str]) {
    fs::write(dir.join("e.toml"), toml).unwrap();
    let mut args = vec![
        "experiment",
        "e.toml",
        "--out",
        out,
        "--quiet",
        "--no-plots",
    ];
    args.extend_from_slice(extra);
    Command::cargo_bin("initlab")
        .unwrap()
        .current_dir(dir)
        .args(&args)
        .assert()
        .success();
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file)).unwrap()
}

/// Train losses of the first start at the first and last logged epoch.
fn first_and_last_loss(metrics: &str) -> (f64, f64) {
    let rows: Vec<Vec<&str>> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .filter(|r: &Vec<&str>| r[1] == "xavier-normal")
        .collect();
    let loss = |r: &Vec<&str>| r[5].parse::<f64>().unwrap();
    (loss(&rows[0]), loss(rows.last().unwrap()))
}

fn check(network: &str, training: &str, stages: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let toml = experiment(network, training);
    run(dir, &toml, "one", &["--threads", "1", "--save-weights"]);
    run(dir, &toml, "two", &["--threads", "2"]);
    for file in ["metrics.csv", "layers.csv", "summary.csv"] {
        assert_eq!(
            read(dir, &format!("one/{file}")),
            read(dir, &format!("two/{file}")),
            "{file} differs between 1 and 2 threads"
        );
    }
    let (first, last) = first_and_last_loss(&read(dir, "one/metrics.csv"));
    assert!(
        last < 0.8 * first,
        "the loss falls: {first} → {last}\n{network}"
    );
    // layers.csv: one row per stage, run and logged epoch.
    let layers = read(dir, "one/layers.csv");
    let first_activation = layers.lines().nth(1).unwrap().split(',').nth(2).unwrap();
    let rows_epoch0 = layers
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[1] == "xavier-normal" && r[2] == first_activation && r[4] == "0")
        .count();
    assert_eq!(rows_epoch0, stages, "{layers}");
    // histograms.csv: every stage has all five quantities, and the per-row quantities
    // count the same number of values (rows × units).
    let histograms = read(dir, "one/histograms.csv");
    let mut sums: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for line in histograms.lines().skip(1) {
        let r: Vec<&str> = line.split(',').collect();
        if r[1] == "xavier-normal" && r[2] == first_activation && r[4] == "0" {
            *sums
                .entry((r[5].to_string(), r[6].to_string()))
                .or_default() += r[9].parse::<u64>().unwrap();
        }
    }
    assert_eq!(sums.len(), 5 * stages, "{sums:?}");
    for stage in 1..=stages {
        let of = |q: &str| sums[&(stage.to_string(), q.to_string())];
        assert_eq!(of("activation"), of("gradient"), "stage {stage}");
        assert_eq!(of("activation"), of("pre_activation"), "stage {stage}");
        assert_eq!(of("weight"), of("weight_gradient"), "stage {stage}");
    }
    // The resolved experiment reruns to the same bytes.
    fs::copy(dir.join("one/config.toml"), dir.join("again.toml")).unwrap();
    Command::cargo_bin("initlab")
        .unwrap()
        .current_dir(dir)
        .args([
            "experiment",
            "again.toml",
            "--out",
            "again",
            "--quiet",
            "--no-plots",
        ])
        .assert()
        .success();
    assert_eq!(read(dir, "one/metrics.csv"), read(dir, "again/metrics.csv"));
    let weights: Vec<String> = fs::read_dir(dir.join("one/weights"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        weights.iter().any(|w| w.ends_with("_final_weight.npy")),
        "{weights:?}"
    );
}

#[test]
fn batchnorm_with_adam() {
    check(
        "hidden = [16, 16]\nactivations = [\"relu\"]\nnorm = \"batchnorm\"",
        "epochs = 30\nbatch_size = 16\nlearning_rate = 0.01\noptimizer = \"adam\"\nlog_every = 10",
        3,
    );
}

#[test]
fn rezero_residual_gelu() {
    check(
        "hidden = [16, 16, 16, 16, 16]\nactivations = [\"gelu\"]\nresidual = true\n\
         alpha = 0.0\nalpha_learnable = true",
        "epochs = 30\nbatch_size = 16\nlearning_rate = 0.05\nmomentum = 0.9\nlog_every = 10",
        // the stem, two residual blocks, the output layer
        4,
    );
}

#[test]
fn explicit_layers_with_layernorm_and_a_projection() {
    check(
        "activations = [\"silu\", \"tanh\"]\nlayers = [{ dense = 16 }, \"layernorm\", \
         \"activation\", { residual = [{ dense = 8 }, \"activation\", { dense = 8 }], \
         projection = true }, \"tanh\"]",
        "epochs = 30\nbatch_size = 16\nlearning_rate = 0.01\nlog_every = 10\n\
         [training.optimizer]\nname = \"adamw\"\nweight_decay = 0.01",
        3,
    );
}

/// A norm layer's gain is saved under PyTorch's name for it (`weight`), so
/// `torch.nn.LayerNorm.weight` loads it; a residual branch's layers are `<L>-body<i>`.
#[test]
fn weight_files_use_pytorch_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let toml = experiment(
        "activations = [\"relu\"]\nlayers = [{ dense = 4 }, \"layernorm\", \
         { residual = [\"activation\", { dense = 4 }], alpha = 0.5, alpha_learnable = true }]",
        "epochs = 1\nlearning_rate = 0.1",
    )
    .replace("[\"xavier-normal\", \"he-normal\"]", "[\"he-normal\"]");
    run(dir, &toml, "out", &["--save-weights"]);
    let mut names: Vec<String> = fs::read_dir(dir.join("out/weights"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("_initial_"))
        .collect();
    names.sort();
    let stem = "he-normal_relu_seed0_layer";
    let expected: Vec<String> = [
        "1_initial_bias",
        "1_initial_weight",
        "2_initial_bias",
        "2_initial_weight",
        "3-body2_initial_bias",
        "3-body2_initial_weight",
        "3_initial_alpha",
        "4_initial_bias",
        "4_initial_weight",
    ]
    .iter()
    .map(|n| format!("{stem}{n}.npy"))
    .collect();
    assert_eq!(names, expected);
}
