//! `[grid]` axes over any setting: expansion and order, logspace/linspace values, one
//! run-key column per axis in every CSV (and none without a `[grid]`), paired seeds across
//! an axis, the same bytes whatever `--threads`, shard + merge equal to one run, `--grid`
//! equal to the file's `[grid]`, and `check`'s `where` selector.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use initlab::experiment::axes::{linspace, logspace};
use initlab::experiment::{Experiment, runner};

/// A small sweep on moons: two starts, two norms × three learning rates, two seeds.
const SWEEP: &str = r#"name = "sweep"
seeds = 2
inits = ["xavier-normal", { name = "normal", std = 0.5 }]

[data]
source = "moons"
samples = 120
test_fraction = 0.25

[network]
hidden = [6]
activations = ["tanh"]
loss = "bce"

[training]
epochs = 6
learning_rate = 0.1
log_every = 3

[grid]
"training.learning_rate" = { logspace = [-2, 0, 3] }
"network.norm" = ["none", "batchnorm"]
"#;

fn initlab(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_initlab"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = initlab(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CSVS: [&str; 6] = [
    "metrics.csv",
    "layers.csv",
    "summary.csv",
    "boundary.csv",
    "histograms.csv",
    "classes.csv",
];

#[test]
fn logspace_and_linspace_are_numpys() {
    // numpy.logspace(-4, 0, 5), numpy.linspace(0, 1, 5), numpy.logspace(-4, 0, 20)[1:3]
    // (numpy 2, `.tolist()`).
    assert_eq!(logspace(-4.0, 0.0, 5), [1e-4, 1e-3, 1e-2, 0.1, 1.0]);
    assert_eq!(linspace(0.0, 1.0, 5), [0.0, 0.25, 0.5, 0.75, 1.0]);
    let twenty = logspace(-4.0, 0.0, 20);
    assert_eq!(twenty.len(), 20);
    assert_eq!(twenty[1], 0.000_162_377_673_918_872_1);
    assert_eq!(twenty[2], 0.000_263_665_089_873_035_83);
    assert_eq!(linspace(2.0, 5.0, 1), [2.0]);
}

#[test]
fn axes_expand_sorted_by_key_the_last_fastest_in_grid_order() {
    let exp = Experiment::from_text(SWEEP, "sweep", None).unwrap();
    let sweep = &exp.sweep;
    let keys: Vec<&str> = sweep.axes.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["network.norm", "training.learning_rate"]);
    assert_eq!(sweep.columns(), ["norm", "learning_rate"]);
    assert_eq!(sweep.axes[1].texts, ["0.01", "0.1", "1"]);
    assert!(sweep.axes[1].log_scale);
    assert_eq!(sweep.points.len(), 6);
    let settings: Vec<(String, f64)> = sweep
        .points
        .iter()
        .map(|p| {
            let norm = toml::Value::try_from(p.spec.network.norm).unwrap();
            (
                norm.as_str().unwrap().to_string(),
                p.spec.training.learning_rate,
            )
        })
        .collect();
    assert_eq!(
        settings,
        [
            ("none".to_string(), 0.01),
            ("none".to_string(), 0.1),
            ("none".to_string(), 1.0),
            ("batchnorm".to_string(), 0.01),
            ("batchnorm".to_string(), 0.1),
            ("batchnorm".to_string(), 1.0),
        ]
    );
    // Start-major, then activation, then axis point, then replicate; the seed is the
    // replicate's whatever the point (paired comparisons along an axis).
    let runs = runner::grid(&exp, None);
    assert_eq!(runs.len(), 2 * 6 * 2);
    let order: Vec<(usize, usize, usize)> = runs
        .iter()
        .map(|r| (r.init, r.point, r.replicate))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert!(runs.iter().all(|r| r.seed == r.replicate as u64));
}

#[test]
fn width_depth_and_a_starts_parameter_are_axes() {
    let text = SWEEP.replace(
        "[grid]\n\"training.learning_rate\" = { logspace = [-2, 0, 3] }\n\"network.norm\" = [\"none\", \"batchnorm\"]\n",
        "[grid]\n\"network.width\" = [4, 8]\n\"network.depth\" = [1, 3]\n\"inits.normal.std\" = { linspace = [0.5, 2, 4] }\n",
    );
    let exp = Experiment::from_text(&text, "sweep", None).unwrap();
    assert_eq!(exp.sweep.columns(), ["std", "depth", "width"]);
    assert_eq!(exp.sweep.axes[0].texts, ["0.5", "1", "1.5", "2"]);
    let last = exp.sweep.points.last().unwrap();
    assert_eq!(last.spec.network.hidden, [8, 8, 8]);
    let params = last.inits[1].init.params();
    assert!(
        params.iter().any(|(k, v)| k == "std" && v == "2"),
        "{params:?}"
    );
    // The start the axis does not name keeps its own parameters.
    assert_eq!(last.inits[0].label, "xavier-normal");
}

#[test]
fn every_csv_gets_the_axis_columns_and_seeds_are_paired() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("sweep.toml"), SWEEP).unwrap();
    let stdout = ok(
        dir,
        &["experiment", "sweep.toml", "--out", "out", "--no-plots"],
    );
    assert!(stdout.contains("norm"), "{stdout}");
    for file in CSVS {
        let text = fs::read_to_string(dir.join("out").join(file)).unwrap();
        let header = text.lines().next().unwrap();
        let expected = if file == "summary.csv" {
            "experiment,init,activation,norm,learning_rate,runs,"
        } else {
            "experiment,init,activation,seed,norm,learning_rate,"
        };
        assert!(header.starts_with(expected), "{file}: {header}");
    }
    let summary = fs::read_to_string(dir.join("out/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 2 * 6);
    // Epoch 0 is the untrained network: the same for every learning rate of a start, norm
    // and seed (same data split, same start draws).
    let metrics = fs::read_to_string(dir.join("out/metrics.csv")).unwrap();
    let mut at_zero: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in metrics.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[6] == "0" {
            let key = format!("{},{},{}", cells[1], cells[3], cells[4]);
            at_zero.entry(key).or_default().push(cells[7..].join(","));
        }
    }
    assert_eq!(at_zero.len(), 2 * 2 * 2);
    for (key, values) in at_zero {
        assert_eq!(values.len(), 3, "{key}");
        assert!(values.iter().all(|v| *v == values[0]), "{key}: {values:?}");
    }
    let config = fs::read_to_string(dir.join("out/config.toml")).unwrap();
    assert!(config.contains("[grid]"), "{config}");
}

#[test]
fn without_a_grid_the_files_keep_their_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plain = SWEEP.split("[grid]").next().unwrap();
    fs::write(dir.join("plain.toml"), plain).unwrap();
    ok(
        dir,
        &["experiment", "plain.toml", "--out", "out", "--no-plots"],
    );
    let header = |f: &str| {
        fs::read_to_string(dir.join("out").join(f))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert!(header("metrics.csv").starts_with("experiment,init,activation,seed,epoch,"));
    assert!(header("summary.csv").starts_with("experiment,init,activation,runs,"));
    let config = fs::read_to_string(dir.join("out/config.toml")).unwrap();
    assert!(!config.contains("grid"), "{config}");
}

#[test]
fn threads_shards_and_the_command_line_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("sweep.toml"), SWEEP).unwrap();
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec!["experiment", "sweep.toml", "--out", out, "--no-plots"];
        args.extend_from_slice(extra);
        ok(dir, &args);
    };
    run("one", &["--threads", "1"]);
    run("two", &["--threads", "2"]);
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let out = format!("shard{k}");
        run(&out, &["--shard", &shard, "--threads", "2"]);
    }
    ok(dir, &["merge", "merged", "shard1", "shard2", "shard3"]);
    // The same axes from the command line, the learning rates as their numbers.
    let plain = SWEEP.split("[grid]").next().unwrap();
    fs::write(dir.join("plain.toml"), plain).unwrap();
    ok(
        dir,
        &[
            "experiment",
            "plain.toml",
            "--out",
            "flags",
            "--no-plots",
            "--grid",
            "network.norm=none,batchnorm",
            "--grid",
            "training.learning_rate=0.01,0.1,1.0",
        ],
    );
    for file in CSVS {
        let one = fs::read(dir.join("one").join(file)).unwrap();
        for other in ["two", "merged", "flags"] {
            let bytes = fs::read(dir.join(other).join(file)).unwrap();
            assert!(one == bytes, "{other}/{file} differs from one/{file}");
        }
    }
}

#[test]
fn check_selects_a_point_with_where() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("sweep.toml"), SWEEP).unwrap();
    ok(
        dir,
        &["experiment", "sweep.toml", "--out", "out", "--no-plots"],
    );
    let expect = |table: &str| {
        fs::write(
            dir.join("e.toml"),
            format!("[[expect]]\nstart = \"xavier-normal\"\nquantity = \"train_loss\"\nepoch = 0\nat_least = 0.0\n{table}"),
        )
        .unwrap();
        initlab(dir, &["check", "out", "e.toml"])
    };
    let good = expect("where = { \"network.norm\" = \"batchnorm\", learning_rate = 0.1 }\n");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    for (table, says) in [
        (
            "where = { \"network.norm\" = \"batchnorm\" }\n",
            "set `where`",
        ),
        (
            "where = { \"network.depth\" = 2, learning_rate = 0.1, norm = \"none\" }\n",
            "does not sweep",
        ),
        (
            "where = { norm = \"layernorm\", learning_rate = 0.1 }\n",
            "its values are: none, batchnorm",
        ),
    ] {
        let out = expect(table);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{table}: {text}");
        assert!(text.contains(says), "{table}: {text}");
    }
}

#[test]
fn bad_grids_are_errors_in_the_files_words_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plain = SWEEP.split("[grid]").next().unwrap();
    for (grid, says) in [
        ("\"network.widht\" = [1, 2]", "unknown field `widht`"),
        ("\"network.norm\" = []", "is an empty list"),
        (
            "\"training.learning_rate\" = { logspace = [-4, 0, 0] }",
            "count is 0; it must be at least 1",
        ),
        ("\"data.noise\" = [0.1]", "cannot be swept"),
        ("\"inits.he.std\" = [1.0]", "no start is labelled `he`"),
        (
            "\"network.width\" = { linspace = [1, 100, 20000] }",
            "makes 20000 settings",
        ),
        ("\"training.learning_rate\" = [0.1, 0.1]", "twice"),
    ] {
        fs::write(dir.join("bad.toml"), format!("{plain}[grid]\n{grid}\n")).unwrap();
        let out = initlab(dir, &["experiment", "bad.toml", "--out", "out"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{grid}: {stderr}");
        assert!(stderr.contains(says), "{grid}: {stderr}");
        assert!(!dir.join("out").exists(), "{grid}: wrote results");
    }
    fs::write(dir.join("sweep.toml"), SWEEP).unwrap();
    let out = initlab(
        dir,
        &[
            "experiment",
            "sweep.toml",
            "--out",
            "out",
            "--max-runs",
            "5",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("makes 24 runs"), "{stderr}");
    assert!(!dir.join("out").exists());
}
