//! Real-world CSV files: string class labels become classes in sorted order (recorded in
//! config.toml and shown by name), a `delimiter` setting with tab the default for `.tsv`,
//! and an experiment may omit `inits` and `seeds`.

use std::path::Path;

use assert_cmd::Command;
use initlab::data::{CsvOptions, DataError, LabelColumn, Target, TaskKind, load_csv_with};
use initlab::experiment::Experiment;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn options(label: &str, delimiter: u8) -> CsvOptions {
    CsvOptions {
        label: LabelColumn::Name(label.into()),
        task: TaskKind::Classification,
        delimiter,
    }
}

#[test]
fn names_become_sorted_classes() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "f.csv",
        "a,b,species\n1,2,virginica\n3,4,setosa\n5,6, versicolor \n7,8,setosa\n",
    );
    let data = load_csv_with(&p, &options("species", b',')).unwrap();
    assert_eq!(
        data.class_names.as_deref().unwrap(),
        ["setosa", "versicolor", "virginica"]
    );
    match &data.dataset.target {
        Target::Classes { labels, n_classes } => {
            assert_eq!(labels, &[2, 0, 1, 0]);
            assert_eq!(*n_classes, 3);
        }
        other => panic!("{other:?}"),
    }
    // Numeric labels keep their meaning and have no names.
    let p = write(dir.path(), "n.csv", "a,label\n1,2\n3,0\n");
    let data = load_csv_with(&p, &options("label", b',')).unwrap();
    assert!(data.class_names.is_none());
}

#[test]
fn a_column_mixing_numbers_and_names_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "m.csv", "a,label\n1,0\n2,1\n3,cat\n");
    let e = load_csv_with(&p, &options("label", b',')).unwrap_err();
    assert!(matches!(e, DataError::BadValue { line: 4, .. }), "{e:?}");
    let msg = e.to_string();
    for part in [
        "m.csv",
        "line 4",
        "\"cat\"",
        "class index like line 2's `0`",
        "not both",
    ] {
        assert!(msg.contains(part), "{part} not in {msg}");
    }
    let p = write(dir.path(), "m2.csv", "a,label\n1,dog\n2,7\n");
    let msg = load_csv_with(&p, &options("label", b','))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line 3") && msg.contains("a class name like line 2's `dog`"),
        "{msg}"
    );
}

#[test]
fn delimiters_semicolon_and_tab() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.csv", "a;b;label\n1,5;2;0\n3;4;1\n");
    // With `;` the decimal comma stays in the cell and is reported as not a number.
    let e = load_csv_with(&p, &options("label", b';'))
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"1,5\""), "{e}");
    let p = write(dir.path(), "s2.csv", "a;b;label\n1.5;2;0\n3;4;1\n");
    let d = load_csv_with(&p, &options("label", b';')).unwrap();
    assert_eq!(d.dataset.features[[0, 0]], 1.5);
    assert_eq!(CsvOptions::delimiter_for(Path::new("x.tsv")), b'\t');
    assert_eq!(CsvOptions::delimiter_for(Path::new("x.TSV.gz")), b'\t');
    assert_eq!(CsvOptions::delimiter_for(Path::new("x.csv")), b',');
}

const EXPERIMENT: &str = r#"
name = "named"
[data]
source = "csv"
path = "flowers.tsv"
label = "species"
[network]
hidden = [3]
activations = ["tanh"]
loss = "cross-entropy"
[training]
epochs = 2
learning_rate = 0.1
"#;

#[test]
fn an_experiment_on_a_tsv_with_names_records_and_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut tsv = String::from("x\ty\tspecies\n");
    for i in 0..12 {
        let name = ["setosa", "virginica", "versicolor"][i % 3];
        tsv.push_str(&format!("{}\t{}\t{name}\n", i as f64 * 0.1, (i % 3) as f64));
    }
    write(dir.path(), "flowers.tsv", &tsv);
    let file = write(dir.path(), "named.toml", EXPERIMENT);

    // Defaults: five seeds, the guide's five starts.
    let exp = Experiment::load(file.to_str().unwrap()).unwrap();
    assert_eq!(exp.spec.seeds, 5);
    assert_eq!(
        exp.init_labels(),
        ["zeros", "tiny", "huge", "xavier-normal", "he-normal"]
    );

    let out = dir.path().join("results");
    let output = Command::cargo_bin("initlab")
        .unwrap()
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
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("classes: 0 = setosa, 1 = versicolor, 2 = virginica"),
        "{stdout}"
    );
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        config.contains("classes = [\"setosa\", \"versicolor\", \"virginica\"]"),
        "{config}"
    );
    // 25 runs = 5 starts × 5 seeds.
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let epoch0 = metrics
        .lines()
        .filter(|l| l.split(',').nth(4) == Some("0"))
        .count();
    assert_eq!(epoch0, 25);
    // The config runs again (its classes are ignored on reading).
    Experiment::load(out.join("config.toml").to_str().unwrap()).unwrap();

    // A bad delimiter is a configuration error naming the key.
    let bad = write(
        dir.path(),
        "bad.toml",
        &EXPERIMENT.replace(
            "label = \"species\"",
            "label = \"species\"\ndelimiter = \";;\"",
        ),
    );
    let e = Experiment::load(bad.to_str().unwrap()).unwrap_err().0;
    assert!(e.contains("`data.delimiter` = \";;\" is not valid"), "{e}");
}
