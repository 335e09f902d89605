//! Property tests: the loaders return `Ok` or `Err` for any input, never panic, abort or
//! hang; and an error with the file's contents hidden (`--untrusted`) quotes nothing of it.
//!
//! 2,000 cases per property by default; the long run (10⁵ cases each) is
//! `PROPTEST_CASES=100000 cargo test --release --test suite -- data_fuzz::`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use initlab::data::{CsvOptions, LabelColumn, TaskKind, load_csv, load_csv_with, load_idx};
use proptest::prelude::*;

/// Longest a case may take: far beyond any load of these small files, so only a hang
/// trips it.
const HANG: Duration = Duration::from_secs(5);

/// A marker that no message of initlab's own contains: where it appears in an error with
/// the contents hidden, a cell, a header or a byte of the file was quoted.
const MARK: &str = "QZXJW";

fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads PROPTEST_CASES; only replace its built-in default.
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 2_000;
    }
    config.failure_persistence = None;
    config
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// CSV-ish text: a few columns of numbers, words, blanks and special values.
fn csvish() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        "-?[0-9]{1,3}(\\.[0-9]{0,2})?",
        Just(String::new()),
        Just("label".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("\"1\"".to_string()),
        "[a-z ]{0,4}",
        "[\\x00-\\x7f]{0,3}",
    ];
    let row = prop::collection::vec(cell, 0..5).prop_map(|cells| cells.join(","));
    let eol = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    (prop::bool::ANY, prop::collection::vec((row, eol), 0..6)).prop_map(|(bom, rows)| {
        let mut s = if bom {
            "\u{feff}".to_string()
        } else {
            String::new()
        };
        for (r, e) in rows {
            s.push_str(&r);
            s.push_str(e);
        }
        s
    })
}

/// IDX-ish bytes: a plausible header (right or wrong magic, small dims) then random bytes.
fn idxish(magic: u32) -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(magic), Just(0x0803u32), Just(0x0801u32), any::<u32>()],
        prop::collection::vec(0u32..5, 0..4),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(m, dims, body)| {
            let mut out = m.to_be_bytes().to_vec();
            for d in dims {
                out.extend_from_slice(&d.to_be_bytes());
            }
            out.extend_from_slice(&body);
            out
        })
}

fn label_column() -> impl Strategy<Value = LabelColumn> {
    prop_oneof![
        Just(LabelColumn::default()),
        (0usize..5).prop_map(LabelColumn::Index),
    ]
}

fn task() -> impl Strategy<Value = TaskKind> {
    prop_oneof![Just(TaskKind::Classification), Just(TaskKind::Regression)]
}

/// CSV text whose header names, cells and would-be header carry [`MARK`], with every kind
/// of error: ragged rows, bad and empty cells, labels mixing names and indices, a missing
/// label column, only a label column.
fn marked_csv() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        "-?[0-9]{1,2}",
        Just(String::new()),
        Just("label".to_string()),
        Just(MARK.to_string()),
        Just(format!("1{MARK}")),
        Just(format!("\"{MARK},{MARK}\"")),
        Just("nan".to_string()),
        "[a-z]{0,3}",
    ];
    let row = prop::collection::vec(cell, 0..5).prop_map(|cells| cells.join(","));
    prop::collection::vec(row, 0..6).prop_map(|rows| rows.join("\n"))
}

fn delimiter() -> impl Strategy<Value = u8> {
    prop_oneof![Just(b','), Just(b';'), Just(b'\t'), Just(b' '), any::<u8>()]
}

proptest! {
    #![proptest_config(config())]

    /// Every option of the CSV loader: delimiters, label by name or index, regression.
    #[test]
    fn csv_with_any_options_never_panics(
        text in csvish(),
        delimiter in delimiter(),
        label in prop_oneof![
            label_column(),
            "[a-z0-9]{0,6}".prop_map(LabelColumn::Name),
            any::<usize>().prop_map(LabelColumn::Index),
        ],
        task in task(),
        gzip in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = if gzip {
            use std::io::Write;
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(text.as_bytes()).unwrap();
            z.finish().unwrap()
        } else {
            text.into_bytes()
        };
        let path = write(&dir, "fuzz.csv", &bytes);
        let started = Instant::now();
        let options = CsvOptions { label, task, delimiter };
        if let Ok(data) = load_csv_with(&path, &options) {
            prop_assert!(!data.dataset.is_empty());
            if let Some(names) = data.class_names {
                prop_assert_eq!(names.len(), data.dataset.n_outputs());
            }
        }
        prop_assert!(started.elapsed() < HANG);
    }

    /// With the contents hidden, no error quotes the file (its cells, header, names).
    #[test]
    fn hidden_errors_quote_nothing_of_the_file(
        text in marked_csv(),
        label in prop_oneof![label_column(), Just(LabelColumn::Name(MARK.into()))],
        task in task(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "fuzz.csv", text.as_bytes());
        if let Err(e) = load_csv(&path, &label, task) {
            // The path (a random temporary name) and the label column's name come from
            // the experiment file, not the data file.
            let hidden = e
                .without_contents()
                .to_string()
                .replace(&path.display().to_string(), "")
                .replace(&format!("{MARK:?}"), "");
            prop_assert!(!hidden.contains(MARK), "{}", hidden);
        }
    }

    #[test]
    fn idx_errors_hide_the_header(images in idxish(0x0803), labels in idxish(0x0801)) {
        let dir = tempfile::tempdir().unwrap();
        let ip = write(&dir, "images", &images);
        let lp = write(&dir, "labels", &labels);
        if let Err(e) = load_idx(&ip, &lp) {
            let hidden = e.without_contents().to_string();
            prop_assert!(!hidden.contains("magic number 0x"), "{}", hidden);
            prop_assert!(!hidden.contains("dimensions"), "{}", hidden);
        }
    }

    #[test]
    fn csv_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        label in label_column(),
        task in task(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "fuzz.csv", &bytes);
        let _ = load_csv(&path, &label, task);
    }

    #[test]
    fn csv_structured_text_never_panics(
        text in csvish(),
        label in label_column(),
        task in task(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "fuzz.csv", text.as_bytes());
        if let Ok(ds) = load_csv(&path, &label, task) {
            prop_assert!(!ds.is_empty());
            prop_assert!(ds.features.iter().all(|v| v.is_finite()));
            prop_assert_eq!(ds.feature_names.len(), ds.n_features());
        }
    }

    #[test]
    fn idx_arbitrary_bytes_never_panic(
        images in prop::collection::vec(any::<u8>(), 0..64),
        labels in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let ip = write(&dir, "images", &images);
        let lp = write(&dir, "labels", &labels);
        let _ = load_idx(&ip, &lp);
    }

    #[test]
    fn idx_structured_bytes_never_panic(images in idxish(0x0803), labels in idxish(0x0801)) {
        let dir = tempfile::tempdir().unwrap();
        let ip = write(&dir, "images", &images);
        let lp = write(&dir, "labels", &labels);
        if let Ok(ds) = load_idx(&ip, &lp) {
            prop_assert!(!ds.is_empty());
        }
    }
}
