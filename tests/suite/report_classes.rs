//! The report names the classes of data whose CSV label column names them (`setosa`):
//! report.html lists them under its title and the decision-boundary legend shows them,
//! read from `classes = [...]` in the results' config.toml, so `initlab plot` redraws
//! them from the results directory alone. Numeric labels keep the plain `class 0` legend.

use std::path::Path;

use assert_cmd::Command;

const EXPERIMENT: &str = r#"
name = "flowers"
seeds = 1
inits = ["xavier-normal"]
[data]
source = "csv"
path = "flowers.csv"
label = "species"
[network]
hidden = [4]
activations = ["tanh"]
loss = "cross-entropy"
[training]
epochs = 2
learning_rate = 0.1
"#;

/// Writes a 2-feature CSV of 12 rows whose labels are `labels[i % 3]` and the experiment
/// on it into `dir`, runs it (with pictures) into `dir/results`, and returns that path.
fn run(dir: &Path, labels: [&str; 3]) -> std::path::PathBuf {
    let mut csv = String::from("x,y,species\n");
    for i in 0..12 {
        let c = i % 3;
        csv.push_str(&format!("{},{},{}\n", i as f64 * 0.1, c as f64, labels[c]));
    }
    std::fs::write(dir.join("flowers.csv"), csv).unwrap();
    let file = dir.join("flowers.toml");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let out = dir.join("results");
    let output = Command::cargo_bin("initlab")
        .unwrap()
        .args([
            "experiment",
            file.to_str().unwrap(),
            "--threads",
            "1",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn named_classes_are_shown_in_the_report_and_the_boundary_legend() {
    let dir = tempfile::tempdir().unwrap();
    // Written out of order: the classes are the names sorted.
    let out = run(dir.path(), ["virginica", "setosa", "versicolor"]);
    let html = read(&out, "report.html");
    assert!(
        html.contains(
            "<p class=\"classes\">classes: 0 = setosa, 1 = versicolor, 2 = virginica</p>"
        ),
        "no classes line in report.html"
    );
    let svg = read(&out, "boundary.svg");
    for name in ["0 = setosa", "1 = versicolor", "2 = virginica"] {
        assert!(svg.contains(name), "{name} not in boundary.svg");
        assert!(html.contains(name), "{name} not in report.html");
    }
    assert!(
        !svg.contains("class 0: point"),
        "numbered legend for named classes"
    );

    // `initlab plot` redraws the same pages from the directory's files alone.
    std::fs::remove_file(out.join("report.html")).unwrap();
    std::fs::remove_file(out.join("boundary.svg")).unwrap();
    Command::cargo_bin("initlab")
        .unwrap()
        .arg("plot")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(read(&out, "report.html"), html);
    assert_eq!(read(&out, "boundary.svg"), svg);

    // Without `classes` in config.toml (an older results directory) the report numbers them.
    let config = read(&out, "config.toml");
    let stripped: String = config
        .lines()
        .filter(|l| !l.starts_with("classes ="))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(stripped, config, "config.toml had no classes line");
    std::fs::write(out.join("config.toml"), stripped).unwrap();
    initlab::report::draw_all(&out, &[]).unwrap();
    assert!(!read(&out, "report.html").contains("class=\"classes\""));
    assert!(read(&out, "boundary.svg").contains("class 2: point"));
}

#[test]
fn numeric_labels_keep_numbered_classes_and_no_classes_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), ["0", "1", "2"]);
    assert!(!read(&out, "config.toml").contains("classes ="));
    let html = read(&out, "report.html");
    assert!(
        !html.contains("class=\"classes\""),
        "classes line for numeric labels"
    );
    let svg = read(&out, "boundary.svg");
    for k in 0..3 {
        assert!(svg.contains(&format!("class {k}: point")), "class {k}");
        assert!(svg.contains(&format!("class {k}: region")), "class {k}");
    }
}
