//! `initlab check`: verdicts, the three machine formats (Gradescope's required fields
//! validated), exit codes, `[[expect]]` tables in an experiment file, and the errors for a
//! selector that matches nothing, a quantity the experiment lacks and a malformed
//! predicate.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;

fn bin() -> Command {
    Command::cargo_bin("initlab").unwrap()
}

/// One XOR results directory (2 seeds, with weights) shared by the tests.
fn xor_results() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("xor");
        let status = bin()
            .args([
                "experiment",
                "xor",
                "--seeds",
                "2",
                "--epochs",
                "400",
                "--quiet",
                "--no-plots",
            ])
            .args(["--threads", "1", "--save-weights", "--out"])
            .arg(&out)
            .output()
            .unwrap()
            .status;
        assert!(status.success());
        (dir, out)
    })
    .1
}

/// Runs `check` on the XOR results with the expectations `text`; returns (code, stdout,
/// stderr).
fn check(text: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("expect.toml");
    std::fs::write(&file, text).unwrap();
    let output = bin()
        .arg("check")
        .arg(xor_results())
        .arg(&file)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

const MIXED: &str = r#"
[[expect]]
name = "zeros stays at ln 2"
start = "zeros"
activation = "sigmoid"
quantity = "train_loss"
approx = 0.6931
abs = 0.001
points = 2
message = "zeros should stay at ln 2: did you break symmetry?"

[[expect]]
name = "zeros keeps one distinct unit"
start = "zeros"
activation = "tanh"
quantity = "distinct_units"
at_most = 1

[[expect]]
name = "tiny starts big (wrong on purpose)"
start = "tiny"
activation = "tanh"
quantity = "activation_std"
layer = 1
epoch = 0
at_least = 0.5
visibility = "hidden"
message = "tiny starts have tiny activations"

[[expect]]
name = "xavier beats tiny on tanh"
start = "xavier-normal"
versus = "tiny"
activation = "tanh"
quantity = "train_loss"
seeds = "mean"
at_most = -0.1
visibility = "after_due_date"
"#;

#[test]
fn the_table_gives_verdicts_points_and_teaching_messages() {
    let (code, out, err) = check(MIXED, &[]);
    assert_eq!(code, 4, "{out}{err}");
    assert!(err.contains("1 of 4 expectations do not hold"), "{err}");
    let line = |name: &str| out.lines().find(|l| l.contains(name)).unwrap().to_string();
    assert!(
        line("zeros stays at ln 2").starts_with("PASS        2/2"),
        "{out}"
    );
    assert!(line("zeros keeps one").starts_with("PASS"));
    assert!(line("tiny starts big").starts_with("FAIL        0/1"));
    assert!(line("xavier beats tiny").contains("(mean of 2 seeds)"));
    assert!(out.contains("score 4/5: 3 of 4 expectations hold"), "{out}");
    assert!(out.contains("  tiny starts have tiny activations"));
    assert!(
        !out.contains("did you break symmetry"),
        "messages only on failure"
    );
}

#[test]
fn gradescope_results_json_has_the_specifications_fields() {
    let (code, out, _) = check(MIXED, &["--format", "gradescope"]);
    assert_eq!(code, 4);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Gradescope's autograder specification: a top-level score (required when the tests
    // do not all carry one; we give both), and tests with name, score, max_score, output
    // and a visibility among visible / hidden / after_due_date / after_published.
    assert_eq!(json["score"].as_f64(), Some(4.0));
    let tests = json["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 4);
    let mut total = 0.0;
    for t in tests {
        for key in ["name", "output", "visibility", "status"] {
            assert!(t[key].is_string(), "{key} in {t}");
        }
        let (score, max) = (
            t["score"].as_f64().unwrap(),
            t["max_score"].as_f64().unwrap(),
        );
        assert!(score >= 0.0 && score <= max);
        total += score;
        assert!(
            ["visible", "hidden", "after_due_date", "after_published"]
                .contains(&t["visibility"].as_str().unwrap())
        );
        assert!(["passed", "failed"].contains(&t["status"].as_str().unwrap()));
    }
    assert_eq!(total, 4.0);
    assert_eq!(tests[2]["visibility"], "hidden");
    assert_eq!(tests[2]["status"], "failed");
    assert!(
        tests[2]["output"]
            .as_str()
            .unwrap()
            .contains("tiny starts have tiny activations")
    );
    assert_eq!(tests[3]["visibility"], "after_due_date");
}

#[test]
fn json_and_junit_and_an_output_file() {
    let (_, out, _) = check(MIXED, &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["max_score"].as_f64(), Some(5.0));
    assert_eq!(json["expectations"][0]["passed"], true);

    let (_, xml, _) = check(MIXED, &["--format", "junit"]);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert!(xml.contains("<testsuite name=\"expect\" tests=\"4\" failures=\"1\""));
    assert_eq!(xml.matches("<testcase ").count(), 4);
    assert_eq!(
        xml.matches("<failure message=\"tiny starts have tiny activations\">")
            .count(),
        1
    );
    assert!(xml.trim_end().ends_with("</testsuites>"));
    // Every tag that opens closes.
    for tag in ["testsuites", "testsuite", "failure"] {
        assert_eq!(
            xml.matches(&format!("<{tag} ")).count(),
            xml.matches(&format!("</{tag}>")).count()
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let (code, out, _) = check(
        MIXED,
        &[
            "--format",
            "gradescope",
            "--output",
            results.to_str().unwrap(),
        ],
    );
    assert_eq!((code, out.as_str()), (4, ""));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results).unwrap()).unwrap();
    assert_eq!(written["score"].as_f64(), Some(4.0));
}

#[test]
fn all_passing_exits_zero() {
    let (code, out, _) = check(
        "[[expect]]\nstart = \"zeros\"\nactivation = \"relu\"\nquantity = \"diverged\"\nat_most = 0\n",
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("score 1/1"));
}

#[test]
fn bad_expectations_are_errors_naming_the_expectation_and_key() {
    let base = "[[expect]]\nname = \"e\"\nactivation = \"tanh\"\n";
    for (extra, wanted) in [
        // A selector that matches nothing.
        (
            "start = \"hee-normal\"\nquantity = \"train_loss\"\nat_most = 1",
            "`start` = \"hee-normal\" matches no start; the experiment's starts are: zeros, constant, tiny, huge, xavier-normal, he-normal",
        ),
        (
            "start = \"zeros\"\nquantity = \"train_loss\"\nat_most = 1\nepoch = 7",
            "`epoch` = 7 was not logged; logged epochs: 0, 20, 40",
        ),
        (
            "start = \"zeros\"\nquantity = \"activation_std\"\nlayer = 9\nat_most = 1",
            "`layer` 9 does not exist: the network has layers 1..=2",
        ),
        // A quantity the experiment lacks.
        (
            "start = \"zeros\"\nquantity = \"test_accuracy\"\nat_least = 0.5",
            "quantity `test_accuracy` does not exist for experiment `xor`: it has no test set (data.test_fraction = 0)",
        ),
        (
            "start = \"zeros\"\nquantity = \"dead_fraction\"\nlayer = 1\nat_most = 1",
            "quantity `dead_fraction` has no value for layer 1 with tanh at epoch 400: it is measured for hidden ReLU layers",
        ),
        // Malformed predicates and keys.
        (
            "start = \"zeros\"\nquantity = \"train_loss\"\nbetween = [1, 0]",
            "expect[0] (`e`): `between` must be two finite numbers [a, b] with a ≤ b",
        ),
        (
            "start = \"zeros\"\nquantity = \"train_loss\"\napprox = 0.7",
            "expect[0] (`e`): `approx` needs exactly one tolerance: `rel` (a fraction of the value) or `abs`",
        ),
        (
            "start = \"zeros\"\nquantity = \"train_loss\"\nat_most = 1\nat_least = 0",
            "give exactly one predicate",
        ),
        (
            "start = \"zeros\"\nquantity = \"train_loss\"",
            "give exactly one predicate",
        ),
        (
            "start = \"zeros\"\nquantity = \"train_los\"\nat_most = 1",
            "unknown `quantity` = \"train_los\"; one of: train_loss, train_accuracy",
        ),
        (
            "start = \"zeros\"\nquantity = \"train_loss\"\nat_mots = 1",
            "expect[0] (`e`): unknown field `at_mots`",
        ),
        (
            "start = \"zeros\"\nquantity = \"train_loss\"\nat_most = 1\nseeds = \"most\"",
            "`seeds` = \"most\" is not a quantifier",
        ),
        (
            "start = \"zeros\"\nquantity = \"activation_std\"\nat_most = 1",
            "quantity `activation_std` is measured per layer: set `layer`",
        ),
    ] {
        let (code, out, err) = check(&format!("{base}{extra}\n"), &[]);
        assert_eq!(code, 2, "{extra}: {out}{err}");
        assert!(err.contains(wanted), "{extra}:\n{err}");
        assert!(err.contains("expect.toml"), "{err}");
        assert!(out.is_empty(), "no table on an error: {out}");
    }
    // Ambiguous selectors must say so rather than pick one.
    let (code, _, err) = check(
        "[[expect]]\nstart = \"zeros\"\nquantity = \"train_loss\"\nat_most = 1\n",
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("set `activation`: the experiment compares several (sigmoid, tanh, relu)"),
        "{err}"
    );
}

#[test]
fn an_experiments_own_expectations_are_checked_when_it_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.toml");
    let text = r#"
name = "own"
seeds = 2
inits = ["zeros", "xavier-normal"]
[data]
source = "xor"
[network]
hidden = [4]
activations = ["tanh"]
loss = "bce"
[training]
epochs = 300
learning_rate = 0.5
log_every = 100
[[expect]]
name = "zeros clones"
start = "zeros"
quantity = "distinct_units"
at_most = 1
"#;
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("r");
    let run = |file: &Path| {
        bin()
            .args([
                "experiment",
                file.to_str().unwrap(),
                "--no-plots",
                "--threads",
                "1",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap()
    };
    // distinct_units needs the weights: they are saved without --save-weights.
    let o = run(&file);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("PASS        1/1  zeros clones"), "{stdout}");
    // Hidden expectations never leak into config.toml.
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(!config.contains("expect"), "{config}");
    // A failing one: exit code 4, results still written.
    let failing = dir.path().join("f.toml");
    std::fs::write(&failing, text.replace("at_most = 1", "at_least = 2")).unwrap();
    let o = run(&failing);
    assert_eq!(o.status.code(), Some(4));
    assert!(out.join("metrics.csv").exists());
    // A malformed one: exit code 2 before anything runs.
    let bad = dir.path().join("b.toml");
    std::fs::write(&bad, text.replace("at_most = 1", "at_most = \"one\"")).unwrap();
    let o = run(&bad);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expect[0] (`zeros clones`)"));
    // `check` also reads an experiment file's [[expect]] tables.
    let o = bin().arg("check").arg(&out).arg(&file).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A per-layer expectation counts the layers of `layers.csv` (stages), not
/// `network.hidden`: an explicit `network.layers` list has no `hidden` at all.
#[test]
fn layer_quantities_of_an_explicit_layer_list() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.toml");
    let text = r#"
name = "listed"
seeds = 1
inits = ["xavier-normal"]
[data]
source = "xor"
[network]
activations = ["tanh"]
loss = "bce"
layers = [{ dense = 4 }, "batchnorm", "activation", { dense = 4 }, "activation"]
[training]
epochs = 2
learning_rate = 0.5
[[expect]]
name = "layer 2 is measured"
quantity = "activation_std"
layer = 2
epoch = 0
at_least = 0.0
[[expect]]
name = "the output layer is layer 3"
quantity = "weight_std"
layer = 3
epoch = 0
at_least = 0.0
"#;
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("r");
    let o = bin()
        .args([
            "experiment",
            file.to_str().unwrap(),
            "--no-plots",
            "--quiet",
        ])
        .args(["--threads", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let beyond = file.with_file_name("beyond.toml");
    std::fs::write(
        &beyond,
        "[[expect]]\nname = \"e\"\nquantity = \"activation_std\"\nlayer = 4\nat_least = 0\n",
    )
    .unwrap();
    bin()
        .arg("check")
        .arg(&out)
        .arg(&beyond)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "`layer` 4 does not exist: the network has layers 1..=3",
        ));
}
