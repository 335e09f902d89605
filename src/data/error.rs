//! The error type of the data loaders.
//!
//! Every message names the file it is about and, where it applies, the line (1-based, as a
//! text editor shows it; the CSV header is line 1), the column, the offending value and what
//! was expected instead, so that a student can fix the file without reading the source.

use std::path::PathBuf;

/// Something wrong with a data file: it could not be read, or its contents are not a valid
/// data set. Produced by [`load_csv`](super::load_csv) and [`load_idx`](super::load_idx).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read (missing, no permission, I/O failure, corrupt
    /// gzip stream).
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A directory was given where a data file was expected.
    #[error("{} is a directory, expected a data file", .path.display())]
    IsDirectory {
        /// The directory.
        path: PathBuf,
    },

    /// The file has no content at all (not even a header line).
    #[error("{} is empty, expected a header line followed by data rows", .path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },

    /// The file is well formed but holds no samples (e.g. a CSV with only a header).
    #[error("{} has no data rows, expected at least one sample{}", .path.display(), .detail)]
    NoRows {
        /// The file.
        path: PathBuf,
        /// Extra context, such as " after the header (line 1)"; may be empty.
        detail: String,
    },

    /// The first line of a CSV file is blank or looks like data rather than column names.
    #[error(
        "{}, line {line}: found {preview}, expected a header line with column names \
         such as `x1,x2,label`",
        .path.display()
    )]
    MissingHeader {
        /// The file.
        path: PathBuf,
        /// The line of the would-be header.
        line: u64,
        /// What was found instead, such as "data `1,2,0`" or "a blank line".
        preview: String,
    },

    /// A CSV row has a different number of fields from the header.
    #[error(
        "{}, line {line}: found {found} fields, expected {expected} (one per header column)",
        .path.display()
    )]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// The line of the row.
        line: u64,
        /// Number of fields in the row.
        found: usize,
        /// Number of columns in the header.
        expected: usize,
    },

    /// A cell is empty (missing value).
    #[error("{}, line {line}, column \"{column}\": empty cell, expected {expected}", .path.display())]
    EmptyCell {
        /// The file.
        path: PathBuf,
        /// The line of the row.
        line: u64,
        /// The column name from the header.
        column: String,
        /// What the cell should hold.
        expected: String,
    },

    /// A cell does not hold what it should: not a number, not a finite number, or not a valid
    /// class index.
    #[error(
        "{}, line {line}, column \"{column}\": found \"{value}\", expected {expected}",
        .path.display()
    )]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The line of the row.
        line: u64,
        /// The column name from the header.
        column: String,
        /// The cell's text (shortened if very long; invalid UTF-8 shown lossily).
        value: String,
        /// What the cell should hold.
        expected: String,
    },

    /// The label column named by the caller is not in the header.
    #[error(
        "{}, line 1: no column named \"{name}\", expected a label column; columns found: {found}",
        .path.display()
    )]
    MissingLabelColumn {
        /// The file.
        path: PathBuf,
        /// The column name that was asked for.
        name: String,
        /// The header's column names, comma separated (shortened if there are many).
        found: String,
    },

    /// The label column index given by the caller is past the last column.
    #[error(
        "{}, line 1: label column index {index} is out of range, expected 0..{n_columns} \
         (the header has {n_columns} columns, counted from 0)",
        .path.display()
    )]
    LabelIndexOutOfRange {
        /// The file.
        path: PathBuf,
        /// The index that was asked for.
        index: usize,
        /// The number of columns in the header.
        n_columns: usize,
    },

    /// The file has a label column and nothing else.
    #[error(
        "{}, line 1: the only column is the label column \"{label}\", expected at least one \
         feature column besides it",
        .path.display()
    )]
    NoFeatures {
        /// The file.
        path: PathBuf,
        /// The label column's name.
        label: String,
    },

    /// An IDX file starts with the wrong magic number.
    #[error(
        "{}: magic number 0x{found:08x}{hint}, expected 0x{expected:08x} (an IDX {kind} file)",
        .path.display()
    )]
    IdxMagic {
        /// The file.
        path: PathBuf,
        /// The magic number found (big-endian u32 of the first 4 bytes).
        found: u32,
        /// The magic number expected.
        expected: u32,
        /// "image" or "label".
        kind: &'static str,
        /// A hint on what the file may be instead; may be empty.
        hint: String,
    },

    /// An IDX file is shorter or longer than its header says.
    #[error("{}: {what} is {found} bytes, expected {expected} bytes{detail}", .path.display())]
    IdxSize {
        /// The file.
        path: PathBuf,
        /// Which part ("the file", "the header", ...).
        what: &'static str,
        /// Bytes found.
        found: u64,
        /// Bytes expected.
        expected: u64,
        /// Extra context such as " (truncated download?)"; may be empty.
        detail: String,
    },

    /// An IDX header has unusable dimensions (zero-sized images).
    #[error("{}: image dimensions {rows}x{cols}, expected both at least 1", .path.display())]
    IdxDims {
        /// The file.
        path: PathBuf,
        /// Rows per image.
        rows: u32,
        /// Columns per image.
        cols: u32,
    },

    /// The image and label files of an IDX pair hold different numbers of samples.
    #[error(
        "{} holds {n_images} images but {} holds {n_labels} labels, expected the same count",
        .images.display(),
        .labels.display()
    )]
    IdxCountMismatch {
        /// The image file.
        images: PathBuf,
        /// The label file.
        labels: PathBuf,
        /// Number of images.
        n_images: u64,
        /// Number of labels.
        n_labels: u64,
    },

    /// One of the errors above with the file's contents left out (see
    /// [`DataError::without_contents`]): what is wrong and where, but no cell, column name,
    /// header or byte of the file.
    #[error(
        "{}{}: {problem} (the file's contents are not shown in --untrusted mode)",
        .path.display(),
        .line.map(|l| format!(", line {l}")).unwrap_or_default()
    )]
    ContentsHidden {
        /// The file.
        path: PathBuf,
        /// The line, where there is one.
        line: Option<u64>,
        /// What is wrong, in words that quote nothing from the file.
        problem: String,
    },
}

impl DataError {
    /// The same error, but quoting nothing from the file (`--untrusted` mode, where a
    /// message may end up in front of whoever wrote the experiment file): cells, column
    /// names, a would-be header and the magic number are replaced by a description of
    /// the problem, and so are the numbers an IDX header holds. Errors that quote nothing are
    /// kept: I/O errors, a CSV row's field count, the file's size.
    pub fn without_contents(self) -> DataError {
        let hidden = |path: PathBuf, line: Option<u64>, problem: &str| DataError::ContentsHidden {
            path,
            line,
            problem: problem.to_string(),
        };
        match self {
            DataError::MissingHeader { path, line, .. } => hidden(
                path,
                Some(line),
                "expected a header line with column names such as `x1,x2,label`",
            ),
            DataError::EmptyCell { path, line, .. } => hidden(
                path,
                Some(line),
                "a cell is empty; every feature cell must be a finite number and every label a class index or name",
            ),
            DataError::BadValue { path, line, .. } => hidden(
                path,
                Some(line),
                "a cell does not hold what its column needs: a finite number for a feature (no nan or inf), a class index 0, 1, 2, ... or a class name for the label (not both in one column), a finite number for a regression target",
            ),
            DataError::MissingLabelColumn { path, name, .. } => DataError::ContentsHidden {
                path,
                line: Some(1),
                problem: format!(
                    "no column named {name:?} in the header, expected a label column (`data.label`)"
                ),
            },
            DataError::NoFeatures { path, .. } => hidden(
                path,
                Some(1),
                "the only column is the label column, expected at least one feature column besides it",
            ),
            DataError::IdxMagic { path, kind, .. } => DataError::ContentsHidden {
                path,
                line: None,
                problem: format!(
                    "not an IDX {kind} file (wrong magic number; were the image and label paths swapped?)"
                ),
            },
            DataError::IdxDims { path, .. } => hidden(
                path,
                None,
                "an image dimension is 0, expected both at least 1",
            ),
            DataError::IdxSize {
                path, what, found, ..
            } => DataError::ContentsHidden {
                path,
                line: None,
                problem: format!(
                    "{what} is {found} bytes, not the size its header says (truncated file or incomplete download?)"
                ),
            },
            DataError::IdxCountMismatch { images, labels, .. } => DataError::ContentsHidden {
                path: images,
                line: None,
                problem: format!(
                    "holds a different number of images than {} holds labels, expected the same count",
                    labels.display()
                ),
            },
            other => other,
        }
    }
}
