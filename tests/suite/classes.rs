//! Per-class quantities: `classes.csv` agrees with an independent forward pass from the
//! final weights, its counts add up to each split's size, its per-class accuracies and
//! losses average (weighted by count) to `metrics.csv`'s, on both engines; the `class`
//! selector of expectations passes and fails as it should, and a bad one is a clear error.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use assert_cmd::Command;
use initlab::experiment::record::{ClassStats, DataSplit, Metrics, read_keyed};
use initlab::experiment::runner::{self, RunOptions, derive_seed};
use initlab::experiment::{Experiment, prepare};
use initlab::nn::ParamSet;
use rand::SeedableRng;

const SPECIES: [&str; 3] = ["setosa", "versicolor", "virginica"];

/// iris with its species named, tanh (the fused engine) and GELU (the layer engine), in
/// f64, so that an independent f64 forward pass reproduces the engine's predictions.
fn experiment(path: &Path) -> String {
    format!(
        r#"
name = "species"
seeds = 2
inits = ["tiny", "he-normal"]
[data]
source = "csv"
path = "{}"
label = "species"
test_fraction = 0.2
standardize = true
[network]
hidden = [8]
activations = ["tanh", "gelu"]
loss = "cross-entropy"
[training]
epochs = 30
batch_size = 16
learning_rate = 0.05
log_every = 10
precision = "f64"
"#,
        path.display()
    )
}

/// Writes `data/iris.csv` with species names for labels into `dir`; returns its path.
fn named_iris(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string("data/iris.csv").unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let (features, label) = line.rsplit_once(',').unwrap();
        let label = if i == 0 {
            "species"
        } else {
            SPECIES[label.parse::<usize>().unwrap()]
        };
        out.push_str(&format!("{features},{label}\n"));
    }
    let path = dir.join("species.csv");
    std::fs::write(&path, out).unwrap();
    path
}

/// The experiment run once by the CLI (`--threads 2`), shared by the tests.
fn results() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let csv = named_iris(dir.path());
        let file = dir.path().join("species.toml");
        std::fs::write(&file, experiment(&csv)).unwrap();
        let out = dir.path().join("results");
        let output = Command::cargo_bin("initlab")
            .unwrap()
            .arg("experiment")
            .arg(&file)
            .args(["--no-plots", "--threads", "2", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        // The summary names the classes and gives each its final test accuracy.
        assert!(
            stdout.contains("final test accuracy per class")
                && stdout.contains("setosa")
                && stdout.contains("virginica"),
            "{stdout}"
        );
        (dir, out)
    })
    .1
}

/// Every logged epoch of every run: the class rows of each split have counts adding up to
/// the split's size (120 and 30 rows), and their count-weighted accuracy is the split's
/// accuracy in `metrics.csv` (to 1e-12), their weighted loss its loss (to 1e-12 relative).
#[test]
fn classes_add_up_to_the_metrics_of_each_split() {
    let dir = results();
    let metrics = read_keyed::<Metrics>(&dir.join("metrics.csv")).unwrap();
    let classes = read_keyed::<ClassStats>(&dir.join("classes.csv")).unwrap();
    assert_eq!(classes.len(), metrics.len() * 2 * 3);
    for m in &metrics {
        for (split, rows, accuracy, loss) in [
            (
                DataSplit::Train,
                120,
                m.row.train_accuracy,
                Some(m.row.train_loss),
            ),
            (DataSplit::Test, 30, m.row.test_accuracy, m.row.test_loss),
        ] {
            let of: Vec<&ClassStats> = classes
                .iter()
                .filter(|c| c.run == m.run && c.row.epoch == m.row.epoch && c.row.split == split)
                .map(|c| &c.row)
                .collect();
            let names: Vec<&str> = of.iter().map(|c| c.class.as_str()).collect();
            assert_eq!(names, SPECIES, "{:?} epoch {}", m.run, m.row.epoch);
            let count: usize = of.iter().map(|c| c.count).sum();
            assert_eq!(count, rows, "{split:?} of {:?}", m.run);
            let weighted = |v: fn(&ClassStats) -> Option<f64>| {
                of.iter()
                    .map(|c| c.count as f64 * v(c).unwrap())
                    .sum::<f64>()
                    / count as f64
            };
            let (accuracy, loss) = (accuracy.unwrap(), loss.unwrap());
            assert!(
                (weighted(|c| c.accuracy) - accuracy).abs() <= 1e-12,
                "{split:?} accuracy of {:?} at {}",
                m.run,
                m.row.epoch
            );
            assert!(
                (weighted(|c| c.loss) - loss).abs() <= 1e-12 * loss.abs().max(1.0),
                "{split:?} loss of {:?} at {}: {} vs {loss}",
                m.run,
                m.row.epoch,
                weighted(|c| c.loss)
            );
        }
    }
    // Both engines measured something that moved: GELU rows exist and training helped.
    let last = |activation: &str| {
        classes
            .iter()
            .filter(|c| c.run.activation == activation && c.row.epoch == 30)
            .filter_map(|c| c.row.accuracy)
            .sum::<f64>()
    };
    assert!(last("tanh") > 3.0 && last("gelu") > 3.0);
}

/// The fused engine's per-class test accuracy at the last epoch equals the one an
/// independent f64 forward pass through the run's final weights gives, on the test split
/// rebuilt from the run's seed (the same split and standardization).
#[test]
fn per_class_accuracy_agrees_with_a_forward_pass_from_the_final_weights() {
    let dir = tempfile::tempdir().unwrap();
    let csv = named_iris(dir.path());
    let exp = Experiment::from_text(&experiment(&csv), "species test", None).unwrap();
    let (dataset, names) = exp.load_data().unwrap();
    let names = names.unwrap();
    assert_eq!(names, SPECIES);
    let outputs = prepare::output_width(&dataset, exp.spec.network.loss).unwrap();
    let shared = runner::RunContext {
        spec: &exp.spec,
        inits: &exp.inits,
        points: &exp.sweep.points,
        dataset: &dataset,
        outputs,
        class_names: &names,
    };
    let runs: Vec<_> = runner::grid(&exp, None)
        .into_iter()
        .filter(|r| r.activation == 0) // tanh: the fused engine
        .collect();
    let options = RunOptions {
        threads: 1,
        save_weights: true,
    };
    let results =
        runner::run_grid::<f64>(shared, &runs, &options, &AtomicBool::new(false), &|_, _| {});
    assert_eq!(results.len(), 4);
    for result in &results {
        let mut split_rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(derive_seed(result.spec.seed, 1));
        let data = prepare::prepare::<f64>(&dataset, &exp.spec.data, &mut split_rng);
        let test = data.test.unwrap();
        let prepare::OwnedTargets::Classes(labels) = &test.targets else {
            panic!("class labels")
        };
        let weights = &result.snapshot.as_ref().unwrap().final_;
        let (w1, b1, w2, b2) = (
            weights.tensor(0),
            weights.tensor(1),
            weights.tensor(2),
            weights.tensor(3),
        );
        let (inputs, hidden) = (4, 8);
        let mut rows = [0usize; 3];
        let mut correct = [0usize; 3];
        for (r, &label) in labels.iter().enumerate() {
            let x = test.x.row(r);
            let h: Vec<f64> = (0..hidden)
                .map(|j| {
                    let z: f64 = (0..inputs).map(|i| w1[j * inputs + i] * x[i]).sum();
                    (z + b1[j]).tanh()
                })
                .collect();
            let logits: Vec<f64> = (0..3)
                .map(|k| (0..hidden).map(|j| w2[k * hidden + j] * h[j]).sum::<f64>() + b2[k])
                .collect();
            let predicted =
                (0..3).fold(0, |best, k| if logits[k] > logits[best] { k } else { best });
            rows[label] += 1;
            correct[label] += usize::from(predicted == label);
        }
        let last: Vec<&ClassStats> = result
            .classes
            .iter()
            .filter(|c| c.split == DataSplit::Test && c.epoch == 30)
            .collect();
        for (k, class) in last.iter().enumerate() {
            assert_eq!(class.class, SPECIES[k]);
            assert_eq!(class.count, rows[k], "{:?}", result.spec);
            assert_eq!(
                class.accuracy,
                Some(correct[k] as f64 / rows[k] as f64),
                "{:?} class {}",
                result.spec,
                class.class
            );
        }
    }
}

/// Runs `initlab check` on the shared results with `text`; returns (code, stdout, stderr).
fn check(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("expect.toml");
    std::fs::write(&file, text).unwrap();
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .arg("check")
        .arg(results())
        .arg(&file)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The final test accuracy of one class and seed, read from `classes.csv`.
fn final_accuracy(class: &str, split: DataSplit, seed: u64) -> f64 {
    read_keyed::<ClassStats>(&results().join("classes.csv"))
        .unwrap()
        .into_iter()
        .find(|c| {
            c.run.init == "he-normal"
                && c.run.activation == "tanh"
                && c.run.seed == seed
                && c.row.epoch == 30
                && c.row.split == split
                && c.row.class == class
        })
        .unwrap()
        .row
        .accuracy
        .unwrap()
}

/// `class` selects one class's accuracy: an interval around the value measured passes, one
/// just above it fails (exit code 4), for both splits and a loss; the table names the class.
#[test]
fn the_class_selector_passes_and_fails_as_it_should() {
    let train = final_accuracy("virginica", DataSplit::Train, 0);
    let test = final_accuracy("setosa", DataSplit::Test, 1);
    let passing = format!(
        r#"
[[expect]]
start = "he-normal"
activation = "tanh"
quantity = "train_accuracy"
class = "virginica"
seeds = "any"
at_least = {train}

[[expect]]
start = "he-normal"
activation = "tanh"
quantity = "test_accuracy"
class = "setosa"
seeds = "any"
approx = {test}
abs = 1e-12

[[expect]]
start = "he-normal"
activation = "gelu"
quantity = "test_loss"
class = "versicolor"
at_most = 1e6
"#
    );
    let (code, stdout, stderr) = check(&passing);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("of class virginica"), "{stdout}");
    let failing = format!(
        r#"
[[expect]]
name = "virginica above what it reached"
start = "he-normal"
activation = "tanh"
quantity = "train_accuracy"
class = "virginica"
seeds = "all"
at_least = {}
"#,
        train + 1e-9
    );
    let (code, stdout, stderr) = check(&failing);
    assert_eq!(code, 4, "{stdout}{stderr}");
}

/// A class the data do not have names the valid ones; `class` on a quantity it does not
/// apply to, or of the wrong type, says so in the file's words (exit code 2).
#[test]
fn bad_class_selectors_are_clear_errors() {
    let expect = |extra: &str| {
        format!(
            "[[expect]]\nname = \"e\"\nstart = \"tiny\"\nactivation = \"tanh\"\n{extra}\nat_least = 0\n"
        )
    };
    let cases = [
        (
            "quantity = \"test_accuracy\"\nclass = \"setosaa\"",
            "expectation `e`: `class` = \"setosaa\" matches no class; the data's classes are: setosa, versicolor, virginica",
        ),
        (
            "quantity = \"gradient_norm\"\nclass = \"setosa\"",
            "expect[0] (`e`): `class` does not apply to quantity `gradient_norm`; it selects one class of train_accuracy, test_accuracy, train_loss or test_loss",
        ),
        (
            "quantity = \"train_accuracy\"\nclass = 1.5",
            "expect[0] (`e`): `class` must be a class name such as \"setosa\" or, for data whose classes have no names, a class number ≥ 0, got 1.5",
        ),
    ];
    for (extra, message) in cases {
        let (code, stdout, stderr) = check(&expect(extra));
        assert_eq!(code, 2, "{extra}: {stdout}{stderr}");
        assert!(stderr.contains(message), "{extra}: {stderr}");
        assert!(
            !stderr.contains("Option<") && !stderr.contains("toml::"),
            "{stderr}"
        );
    }
}

/// Data without class names call their classes by index, and `class = 0` selects one.
#[test]
fn unnamed_classes_are_called_by_index() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], out: &Path| {
        let output = Command::cargo_bin("initlab")
            .unwrap()
            .args(args)
            .args([
                "--seeds",
                "1",
                "--epochs",
                "20",
                "--no-plots",
                "--quiet",
                "--out",
            ])
            .arg(out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let xor = dir.path().join("xor");
    run(
        &[
            "experiment",
            "xor",
            "--inits",
            "he-normal",
            "--activations",
            "tanh",
        ],
        &xor,
    );
    let rows = read_keyed::<ClassStats>(&xor.join("classes.csv")).unwrap();
    assert_eq!(rows[0].row.class, "0");
    assert_eq!(rows[1].row.class, "1");
    let file = dir.path().join("e.toml");
    std::fs::write(
        &file,
        "[[expect]]\nquantity = \"train_accuracy\"\nclass = 0\nbetween = [0, 1]\n",
    )
    .unwrap();
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .arg("check")
        .arg(&xor)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
