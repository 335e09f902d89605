//! CSV and IDX loaders: the shipped data sets load, and every kind of bad input gives an
//! error naming the file, line, column and value rather than a panic.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use initlab::data::{
    DataError, Dataset, LabelColumn, Target, TaskKind, generators, load_csv, load_idx,
};
use tempfile::TempDir;

/// Writes `contents` to `name` in a fresh temporary directory.
fn temp_file(name: &str, contents: &[u8]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    (dir, path)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn load_class(path: &Path) -> Result<Dataset, DataError> {
    load_csv(path, &LabelColumn::default(), TaskKind::Classification)
}

/// Loads `contents` as a classification CSV named `name` and returns the error message.
fn csv_error(name: &str, contents: &str) -> String {
    let (_dir, path) = temp_file(name, contents.as_bytes());
    match load_class(&path) {
        Ok(ds) => panic!("{name}: expected an error, loaded {} rows", ds.len()),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(msg: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            msg.contains(part),
            "message {msg:?} should mention {part:?}"
        );
    }
}

fn labels(ds: &Dataset) -> (&[usize], usize) {
    match &ds.target {
        Target::Classes { labels, n_classes } => (labels, *n_classes),
        Target::Values(_) => panic!("expected classes"),
    }
}

fn data_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

// ---------------------------------------------------------------- shipped data sets

#[test]
fn iris_loads() {
    let ds = load_class(&data_path("iris.csv")).unwrap();
    assert_eq!(ds.features.shape(), &[150, 4]);
    assert_eq!(ds.n_outputs(), 3);
    assert_eq!(ds.feature_names[0], "sepal_length");
    let (l, k) = labels(&ds);
    assert_eq!(k, 3);
    for c in 0..3 {
        assert_eq!(l.iter().filter(|&&x| x == c).count(), 50);
    }
}

#[test]
fn digits_loads() {
    let ds = load_class(&data_path("digits.csv")).unwrap();
    assert_eq!(ds.features.shape(), &[1797, 64]);
    assert_eq!(ds.n_features(), 64);
    assert_eq!(labels(&ds).1, 10);
    assert!(ds.features.iter().all(|&v| (0.0..=16.0).contains(&v)));
}

#[test]
fn xor_csv_matches_generator() {
    let ds = load_class(&data_path("xor.csv")).unwrap();
    assert_eq!(ds, generators::xor());
}

// ---------------------------------------------------------------- accepted variants

#[test]
fn bom_and_crlf_load() {
    let bytes = b"\xef\xbb\xbfx1,x2,label\r\n0.5,1,0\r\n2,3e-1,1\r\n";
    let (_dir, path) = temp_file("bom.csv", bytes);
    let ds = load_class(&path).unwrap();
    assert_eq!(ds.feature_names, vec!["x1", "x2"]);
    assert_eq!(ds.features, ndarray::array![[0.5, 1.0], [2.0, 0.3]]);
    assert_eq!(labels(&ds), (&[0, 1][..], 2));
}

#[test]
fn crlf_error_line_numbers_are_right() {
    let msg = csv_error("crlf.csv", "a,label\r\n1,0\r\n2,0\r\nx,1\r\n");
    assert_mentions(&msg, &["crlf.csv", "line 4", "\"a\"", "\"x\""]);
}

#[test]
fn label_first_by_index_like_kaggle_mnist() {
    let (_dir, path) = temp_file("mnist_train.csv", b"label,1x1,1x2\n7,0,255\n2,12,0\n");
    let by_index = load_csv(&path, &LabelColumn::Index(0), TaskKind::Classification).unwrap();
    let by_name = load_class(&path).unwrap();
    assert_eq!(by_index, by_name);
    assert_eq!(by_name.feature_names, vec!["1x1", "1x2"]);
    assert_eq!(labels(&by_name), (&[7, 2][..], 8));
    assert_eq!(by_name.features, ndarray::array![[0.0, 255.0], [12.0, 0.0]]);
}

#[test]
fn label_by_other_name_in_the_middle() {
    let (_dir, path) = temp_file("mid.csv", b"a,species,b\n1,2,3\n4,0,6\n");
    let ds = load_csv(
        &path,
        &LabelColumn::Name("species".into()),
        TaskKind::Classification,
    )
    .unwrap();
    assert_eq!(ds.feature_names, vec!["a", "b"]);
    assert_eq!(ds.features, ndarray::array![[1.0, 3.0], [4.0, 6.0]]);
    assert_eq!(labels(&ds), (&[2, 0][..], 3));
}

#[test]
fn whole_number_labels_written_as_floats_are_accepted() {
    let (_dir, path) = temp_file("floats.csv", b"x,label\n1,1.0\n2,0\n3,2e0\n");
    assert_eq!(labels(&load_class(&path).unwrap()), (&[1, 0, 2][..], 3));
}

#[test]
fn regression_accepts_any_finite_number() {
    let (_dir, path) = temp_file("reg.csv", b"x,y\n1,1.5\n2,-3\n3,1e3\n");
    let ds = load_csv(&path, &LabelColumn::Name("y".into()), TaskKind::Regression).unwrap();
    assert_eq!(ds.n_outputs(), 1);
    assert_eq!(
        ds.target,
        Target::Values(ndarray::array![[1.5], [-3.0], [1000.0]])
    );
}

#[test]
fn regression_rejects_nan_target() {
    let (_dir, path) = temp_file("regnan.csv", b"x,y\n1,1.5\n2,NaN\n");
    let msg = load_csv(&path, &LabelColumn::Name("y".into()), TaskKind::Regression)
        .unwrap_err()
        .to_string();
    assert_mentions(&msg, &["regnan.csv", "line 3", "\"y\"", "NaN", "finite"]);
}

#[test]
fn quotes_spaces_and_blank_lines() {
    let (_dir, path) = temp_file(
        "loose.csv",
        b"\"x 1\", x2 ,label\n\" 1\", 2 , 0\n\n   \n3,4,1\n",
    );
    let ds = load_class(&path).unwrap();
    assert_eq!(ds.feature_names, vec!["x 1", "x2"]);
    assert_eq!(ds.features, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
}

#[test]
fn line_numbers_count_blank_lines() {
    let msg = csv_error("gaps.csv", "x,label\n1,0\n\n\n2,zz\n");
    assert_mentions(&msg, &["gaps.csv", "line 5", "\"zz\""]);
}

#[test]
fn gzipped_csv_loads() {
    let (_dir, path) = temp_file("x.csv.gz", &gzip(b"x1,x2,label\n1,2,0\n3,4,1\n"));
    assert_eq!(load_class(&path).unwrap().len(), 2);
}

// ---------------------------------------------------------------- CSV errors

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.csv");
    let err = load_class(&path).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert_mentions(&err.to_string(), &["nope.csv", "cannot read"]);
}

#[test]
fn directory_instead_of_file() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("folder.csv");
    std::fs::create_dir(&sub).unwrap();
    let err = load_class(&sub).unwrap_err();
    assert!(matches!(err, DataError::IsDirectory { .. }));
    assert_mentions(
        &err.to_string(),
        &["folder.csv", "directory", "expected a data file"],
    );
}

#[test]
fn ragged_rows() {
    let short = csv_error("short.csv", "a,b,label\n1,2,0\n1,2\n");
    assert_mentions(
        &short,
        &["short.csv", "line 3", "found 2 fields", "expected 3"],
    );
    let long = csv_error("long.csv", "a,b,label\n1,2,0,9\n");
    assert_mentions(
        &long,
        &["long.csv", "line 2", "found 4 fields", "expected 3"],
    );
}

#[test]
fn non_numeric_cell() {
    let msg = csv_error("words.csv", "height,label\n1.7,0\ntall,1\n");
    assert_mentions(
        &msg,
        &[
            "words.csv",
            "line 3",
            "\"height\"",
            "\"tall\"",
            "expected a finite number",
        ],
    );
}

#[test]
fn missing_label_column_lists_columns() {
    let msg = csv_error("nolabel.csv", "a,b,class\n1,2,0\n");
    assert_mentions(
        &msg,
        &[
            "nolabel.csv",
            "line 1",
            "\"label\"",
            "\"a\", \"b\", \"class\"",
        ],
    );
}

#[test]
fn label_index_out_of_range() {
    let (_dir, path) = temp_file("idx.csv", b"a,b\n1,0\n");
    let msg = load_csv(&path, &LabelColumn::Index(2), TaskKind::Classification)
        .unwrap_err()
        .to_string();
    assert_mentions(&msg, &["idx.csv", "index 2", "0..2"]);
}

#[test]
fn non_finite_values_are_rejected() {
    for bad in ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"] {
        let msg = csv_error("nonfinite.csv", &format!("a,label\n1,0\n{bad},1\n"));
        assert_mentions(&msg, &["nonfinite.csv", "line 3", "\"a\"", bad, "finite"]);
    }
}

#[test]
fn bad_class_labels() {
    for bad in ["1.5", "-1", "abc", "nan", "1e9"] {
        let msg = csv_error("labels.csv", &format!("a,label\n1,0\n2,{bad}\n"));
        assert_mentions(
            &msg,
            &[
                "labels.csv",
                "line 3",
                "\"label\"",
                &format!("\"{bad}\""),
                "class index",
                "task = \"regression\"",
            ],
        );
        assert!(!msg.contains("::"), "a Rust path in {msg:?}");
    }
}

#[test]
fn empty_file() {
    let msg = csv_error("empty.csv", "");
    assert_mentions(&msg, &["empty.csv", "empty", "expected a header"]);
}

#[test]
fn header_only() {
    let msg = csv_error("header.csv", "a,b,label\n");
    assert_mentions(&msg, &["header.csv", "no data rows", "line 1"]);
}

#[test]
fn bom_only_is_empty() {
    let (_dir, path) = temp_file("bomonly.csv", b"\xef\xbb\xbf");
    assert!(matches!(
        load_class(&path).unwrap_err(),
        DataError::EmptyFile { .. }
    ));
}

#[test]
fn empty_cell() {
    let msg = csv_error("holes.csv", "a,b,label\n1,,0\n");
    assert_mentions(&msg, &["holes.csv", "line 2", "\"b\"", "empty cell"]);
    let msg = csv_error("holes2.csv", "a,b,label\n1,2,\n");
    assert_mentions(
        &msg,
        &[
            "holes2.csv",
            "line 2",
            "\"label\"",
            "empty cell",
            "class index",
        ],
    );
}

#[test]
fn headerless_file_is_reported() {
    let msg = csv_error("noheader.csv", "1,2,0\n3,4,1\n");
    assert_mentions(
        &msg,
        &["noheader.csv", "line 1", "`1,2,0`", "expected a header"],
    );
}

#[test]
fn label_only_file_has_no_features() {
    let msg = csv_error("only.csv", "label\n0\n1\n");
    assert_mentions(&msg, &["only.csv", "feature column"]);
}

#[test]
fn invalid_utf8_cell() {
    let (_dir, path) = temp_file("latin1.csv", b"a,label\n\xe9,0\n");
    let msg = load_class(&path).unwrap_err().to_string();
    assert_mentions(&msg, &["latin1.csv", "line 2", "\"a\""]);
}

// ---------------------------------------------------------------- IDX

fn idx_images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0x0803, n, rows, cols] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0x0801u32.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

/// Three 2x3 images with labels 4, 0, 9.
fn sample_idx() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..18).map(|i| (i * 15) as u8).collect();
    (idx_images(3, 2, 3, &pixels), idx_labels(&[4, 0, 9]))
}

/// Writes an image/label pair and loads it; returns the result and keeps the directory.
fn load_pair(images: &[u8], labels: &[u8]) -> (TempDir, Result<Dataset, DataError>) {
    let dir = tempfile::tempdir().unwrap();
    let ip = dir.path().join("imgs-idx3-ubyte");
    let lp = dir.path().join("lbls-idx1-ubyte");
    std::fs::write(&ip, images).unwrap();
    std::fs::write(&lp, labels).unwrap();
    let result = load_idx(&ip, &lp);
    (dir, result)
}

fn check_sample(ds: &Dataset) {
    assert_eq!(ds.features.shape(), &[3, 6]);
    assert_eq!(ds.features[[0, 1]], 15.0);
    assert_eq!(ds.features[[2, 5]], 255.0);
    assert_eq!(ds.feature_names[5], "pixel5");
    assert_eq!(labels(ds), (&[4, 0, 9][..], 10));
}

#[test]
fn raw_idx_loads() {
    let (i, l) = sample_idx();
    let (_dir, ds) = load_pair(&i, &l);
    check_sample(&ds.unwrap());
}

#[test]
fn gzip_idx_loads() {
    let (i, l) = sample_idx();
    let (_dir, ds) = load_pair(&gzip(&i), &gzip(&l));
    check_sample(&ds.unwrap());
    // Mixed: compressed images, raw labels.
    let (_dir, ds) = load_pair(&gzip(&i), &l);
    check_sample(&ds.unwrap());
}

fn idx_error(images: &[u8], labels: &[u8]) -> String {
    let (_dir, result) = load_pair(images, labels);
    result.unwrap_err().to_string()
}

#[test]
fn idx_swapped_files() {
    let (i, l) = sample_idx();
    let msg = idx_error(&l, &i);
    assert_mentions(
        &msg,
        &["imgs-idx3-ubyte", "0x00000801", "0x00000803", "swapped"],
    );
}

#[test]
fn idx_bad_label_magic() {
    let (i, mut l) = sample_idx();
    l[3] = 0x08;
    let msg = idx_error(&i, &l);
    assert_mentions(
        &msg,
        &["lbls-idx1-ubyte", "0x00000808", "expected 0x00000801"],
    );
}

#[test]
fn idx_not_idx_at_all() {
    let (_i, l) = sample_idx();
    let msg = idx_error(b"P5\n28 28\n255\n\0\0\0\0", &l);
    assert_mentions(&msg, &["imgs-idx3-ubyte", "not an IDX file"]);
}

#[test]
fn idx_truncated_body() {
    let (i, l) = sample_idx();
    let msg = idx_error(&i[..i.len() - 5], &l);
    assert_mentions(
        &msg,
        &["imgs-idx3-ubyte", "29 bytes", "expected 34", "truncated"],
    );
    let msg = idx_error(&i, &l[..l.len() - 1]);
    assert_mentions(&msg, &["lbls-idx1-ubyte", "10 bytes", "expected 11"]);
}

#[test]
fn idx_truncated_gzip_is_an_error() {
    let (i, l) = sample_idx();
    let gz = gzip(&i);
    let msg = idx_error(&gz[..gz.len() / 2], &l);
    assert_mentions(&msg, &["imgs-idx3-ubyte"]);
}

#[test]
fn idx_truncated_header() {
    let (i, l) = sample_idx();
    let msg = idx_error(&i[..10], &l);
    assert_mentions(
        &msg,
        &["imgs-idx3-ubyte", "header", "10 bytes", "expected 16"],
    );
}

#[test]
fn idx_trailing_bytes() {
    let (mut i, l) = sample_idx();
    i.extend_from_slice(&[1, 2]);
    let msg = idx_error(&i, &l);
    assert_mentions(&msg, &["imgs-idx3-ubyte", "2 unexpected trailing bytes"]);
}

#[test]
fn idx_count_mismatch() {
    let (i, _l) = sample_idx();
    let msg = idx_error(&i, &idx_labels(&[1, 2]));
    assert_mentions(
        &msg,
        &["imgs-idx3-ubyte", "3 images", "lbls-idx1-ubyte", "2 labels"],
    );
}

#[test]
fn idx_zero_dims_and_zero_count() {
    let msg = idx_error(&idx_images(1, 0, 28, &[]), &idx_labels(&[1]));
    assert_mentions(&msg, &["imgs-idx3-ubyte", "0x28"]);
    let msg = idx_error(&idx_images(0, 28, 28, &[]), &idx_labels(&[]));
    assert_mentions(&msg, &["imgs-idx3-ubyte", "no data rows"]);
}

#[test]
fn idx_huge_claimed_count_is_truncation_not_allocation() {
    let msg = idx_error(&idx_images(u32::MAX, 28, 28, &[0; 100]), &idx_labels(&[1]));
    assert_mentions(&msg, &["imgs-idx3-ubyte", "truncated"]);
}

#[test]
fn idx_missing_empty_and_directory() {
    let (i, l) = sample_idx();
    let dir = tempfile::tempdir().unwrap();
    let lp = dir.path().join("labels.idx");
    std::fs::write(&lp, &l).unwrap();
    let missing = load_idx(&dir.path().join("gone.idx"), &lp).unwrap_err();
    assert_mentions(&missing.to_string(), &["gone.idx", "cannot read"]);
    let is_dir = load_idx(dir.path(), &lp).unwrap_err();
    assert!(matches!(is_dir, DataError::IsDirectory { .. }));
    let empty = idx_error(b"", &l);
    assert_mentions(&empty, &["imgs-idx3-ubyte", "empty"]);
    let ip = dir.path().join("images.idx");
    std::fs::write(&ip, &i).unwrap();
    assert!(load_idx(&ip, &lp).is_ok());
}

#[test]
fn old_mac_line_endings_and_multiline_quotes_count_lines() {
    let msg = csv_error("cr.csv", "a,label\r1,0\rx,1\r");
    assert_mentions(&msg, &["cr.csv", "line 3"]);
    let msg = csv_error("quoted.csv", "\"a\nb\",label\n1,0\n\"2\",\n");
    assert_mentions(&msg, &["quoted.csv", "line 4", "\"label\"", "empty cell"]);
}

#[test]
fn idx_dims_overflowing_u64_are_truncation() {
    let msg = idx_error(
        &idx_images(u32::MAX, u32::MAX, u32::MAX, &[0; 10]),
        &idx_labels(&[1]),
    );
    assert_mentions(&msg, &["imgs-idx3-ubyte", "truncated"]);
}
