//! Property tests: the loaders return `Ok` or `Err` for any input, never panic.
//!
//! 2,000 cases per property by default; set `PROPTEST_CASES` to change that.

use std::path::PathBuf;

use initlab::data::{LabelColumn, TaskKind, load_csv, load_idx};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads PROPTEST_CASES; only replace its built-in default.
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 2_000;
    }
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

proptest! {
    #![proptest_config(config())]

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
