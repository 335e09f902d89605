//! Loading a [`Dataset`] from a CSV file.
//!
//! The file must start with a header line of column names. One column is the label (by
//! default the one named `label`, or any column by name or 0-based index); every other
//! column is a feature, in file order. So `data/iris.csv` (label last) and a Kaggle-style
//! `mnist_train.csv` (label first) both load with the defaults.
//!
//! Accepted: a UTF-8 byte-order mark, CRLF or LF line endings, quoted fields, spaces around
//! values, blank lines, and gzip-compressed files (detected by their magic bytes). Every
//! feature cell must be a finite number (`nan`, `inf` and empty cells are rejected). For
//! classification the label column holds either class indices `0, 1, 2, ...` (whole
//! numbers such as `3` or `3.0`, below [`MAX_CLASSES`]) or class *names* such as
//! `setosa`: names become classes in sorted order (byte order of the UTF-8 text), and
//! [`load_csv_with`] returns them. A column mixing numbers and names is an error.
//!
//! The separator is `,` unless [`CsvOptions::delimiter`] says otherwise (`;`, tab, ...).

use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use super::error::DataError;
use super::source::{open_data_file, read_up_to};
use super::{Dataset, Target};

/// Largest accepted number of classes: a class label must be below this. A guard against a
/// stray value (say `60000`) silently creating a network with tens of thousands of outputs.
pub const MAX_CLASSES: usize = 10_000;

/// Which CSV column holds the label (the target); all other columns are features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelColumn {
    /// The column with this header name (exact match after trimming spaces).
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

impl Default for LabelColumn {
    /// The column named `label`.
    fn default() -> Self {
        LabelColumn::Name("label".to_string())
    }
}

/// What the label column means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskKind {
    /// Integer class indices `0..K`, giving [`Target::Classes`] with `K = max label + 1`.
    #[default]
    Classification,
    /// Any finite real number, giving a one-column [`Target::Values`].
    Regression,
}

/// How to read a CSV file: which column is the label, what it means, the separator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// The label column.
    pub label: LabelColumn,
    /// Classification or regression.
    pub task: TaskKind,
    /// The field separator (`b','` by default).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    /// The column named `label`, classification, comma-separated.
    fn default() -> Self {
        CsvOptions {
            label: LabelColumn::default(),
            task: TaskKind::default(),
            delimiter: b',',
        }
    }
}

impl CsvOptions {
    /// The default separator for a file name: tab for `.tsv` (and `.tsv.gz`), else comma.
    pub fn delimiter_for(path: &Path) -> u8 {
        let name = path.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".tsv") || name.ends_with(".tsv.gz") {
            b'\t'
        } else {
            b','
        }
    }
}

/// A loaded CSV file: the data set and, when the labels were names, the class names
/// (class `i` is `class_names[i]`).
#[derive(Debug, Clone)]
pub struct CsvData {
    /// The data.
    pub dataset: Dataset,
    /// The class names in sorted order, for a label column of names; `None` for indices.
    pub class_names: Option<Vec<String>>,
}

/// Loads a CSV file with a header into a [`Dataset`], comma-separated (class names, if
/// the labels are names, are dropped: see [`load_csv_with`]).
///
/// See the [module documentation](self) for the accepted format. Errors name the file, the
/// line (header = line 1), the column and the value at fault.
///
/// # Errors
/// As [`load_csv_with`].
pub fn load_csv(path: &Path, label: &LabelColumn, task: TaskKind) -> Result<Dataset, DataError> {
    let options = CsvOptions {
        label: label.clone(),
        task,
        delimiter: b',',
    };
    load_csv_with(path, &options).map(|d| d.dataset)
}

/// Loads a CSV file with a header into a [`Dataset`], with its class names.
///
/// See the [module documentation](self) for the accepted format. Errors name the file, the
/// line (header = line 1), the column and the value at fault.
///
/// # Errors
/// [`DataError`] if the file cannot be read or is a directory, is empty or has only a
/// header, has no header, a row has the wrong number of fields, a cell is empty, not a
/// number, not finite, or (for classification) a label is not a class index, or the label
/// column is missing or the only column.
pub fn load_csv_with(path: &Path, options: &CsvOptions) -> Result<CsvData, DataError> {
    let (label, task) = (&options.label, options.task);
    let reader = open_data_file(path)?;
    let reader = skip_bom(reader).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut csv_reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .delimiter(options.delimiter)
        .from_reader(LineCounter::new(reader));
    // Byte records read flexibly leave only I/O errors; anything else is reported in the
    // csv crate's own words rather than as a Rust value.
    let io_err = |e: ::csv::Error| {
        let message = e.to_string();
        let source = match e.into_kind() {
            ::csv::ErrorKind::Io(source) => source,
            _ => std::io::Error::other(message),
        };
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    };

    let mut record = ::csv::ByteRecord::new();
    if !csv_reader.read_byte_record(&mut record).map_err(io_err)? {
        return Err(DataError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let header_line = line_of(&mut csv_reader, &record);
    let header: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let blank = header.iter().all(|h| h.is_empty());
    if blank || header.iter().all(|h| h.parse::<f64>().is_ok()) {
        let preview = if blank {
            "a blank line".to_string()
        } else {
            format!("data `{}`", shorten(&header.join(","), 60))
        };
        return Err(DataError::MissingHeader {
            path: path.to_path_buf(),
            line: header_line,
            preview,
        });
    }
    let n_columns = header.len();
    let label_index = find_label(path, &header, label)?;
    if n_columns < 2 {
        return Err(DataError::NoFeatures {
            path: path.to_path_buf(),
            label: header[label_index].clone(),
        });
    }
    let feature_names: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != label_index)
        .map(|(_, h)| h.clone())
        .collect();

    let mut features: Vec<f64> = Vec::new();
    // Class labels as written, with their lines: indices or names is decided at the end.
    let mut class_cells: Vec<(String, u64)> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let mut n_rows = 0usize;
    while csv_reader.read_byte_record(&mut record).map_err(io_err)? {
        let line = line_of(&mut csv_reader, &record);
        if record.len() != n_columns {
            // A line holding a single empty field is a blank line: skip it.
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            return Err(DataError::RaggedRow {
                path: path.to_path_buf(),
                line,
                found: record.len(),
                expected: n_columns,
            });
        }
        for (i, cell) in record.iter().enumerate() {
            let cell_ctx = Cell {
                path,
                line,
                column: &header[i],
            };
            if i == label_index {
                match task {
                    TaskKind::Classification => {
                        if cell.is_empty() {
                            cell_ctx.class_index(cell)?; // the empty-cell error
                        }
                        let text = std::str::from_utf8(cell).map_err(|_| {
                            cell_ctx.bad(cell, "a class index or a class name (UTF-8 text)")
                        })?;
                        class_cells.push((text.to_string(), line));
                    }
                    TaskKind::Regression => values.push(cell_ctx.number(cell, "a finite number")?),
                }
            } else {
                features.push(cell_ctx.number(cell, "a finite number (feature value)")?);
            }
        }
        n_rows += 1;
    }

    if n_rows == 0 {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
            detail: format!(" after the header (line {header_line})"),
        });
    }
    let features = Array2::from_shape_vec((n_rows, n_columns - 1), features)
        .expect("every row has n_columns - 1 features");
    let mut class_names = None;
    let target = match task {
        TaskKind::Classification => {
            let label_column = &header[label_index];
            let (labels, names) = class_labels(path, label_column, &class_cells)?;
            let n_classes = match &names {
                Some(names) => names.len(),
                None => labels.iter().max().map_or(0, |&m| m + 1),
            };
            class_names = names;
            Target::Classes { labels, n_classes }
        }
        TaskKind::Regression => {
            Target::Values(Array2::from_shape_vec((n_rows, 1), values).expect("one value per row"))
        }
    };
    Ok(CsvData {
        dataset: Dataset {
            features,
            target,
            feature_names,
        },
        class_names,
    })
}

/// The class of each label cell: indices as written if every label is a number, else
/// (every label a name) the position of the name among the sorted distinct names.
fn class_labels(
    path: &Path,
    column: &str,
    cells: &[(String, u64)],
) -> Result<(Vec<usize>, Option<Vec<String>>), DataError> {
    let is_number = |t: &str| t.parse::<f64>().is_ok();
    let numeric = cells.first().is_none_or(|(t, _)| is_number(t));
    if let Some((text, line)) = cells.iter().find(|(t, _)| is_number(t) != numeric) {
        let first = &cells[0];
        let expected = if numeric {
            format!(
                "a class index like line {}'s `{}`: a label column holds class indices 0, 1, 2, ... or class names such as \"setosa\", not both (for real-valued targets, set task = \"regression\" under [data])",
                first.1, first.0
            )
        } else {
            format!(
                "a class name like line {}'s `{}`: a label column holds class names or class indices, not both",
                first.1, first.0
            )
        };
        let ctx = Cell {
            path,
            line: *line,
            column,
        };
        return Err(ctx.bad(text.as_bytes(), &expected));
    }
    if numeric {
        let labels = cells
            .iter()
            .map(|(text, line)| {
                Cell {
                    path,
                    line: *line,
                    column,
                }
                .class_index(text.as_bytes())
            })
            .collect::<Result<Vec<usize>, DataError>>()?;
        return Ok((labels, None));
    }
    let mut names: Vec<String> = cells.iter().map(|(t, _)| t.clone()).collect();
    names.sort();
    names.dedup();
    if names.len() > MAX_CLASSES {
        let (text, line) = &cells[0];
        let ctx = Cell {
            path,
            line: *line,
            column,
        };
        return Err(ctx.bad(
            text.as_bytes(),
            &format!(
                "at most {MAX_CLASSES} distinct class names (found {})",
                names.len()
            ),
        ));
    }
    let labels = cells
        .iter()
        .map(|(t, _)| names.binary_search(t).expect("every name is listed"))
        .collect();
    Ok((labels, Some(names)))
}

/// Drops a leading UTF-8 byte-order mark (EF BB BF), if any; other bytes are kept.
fn skip_bom<'a>(mut reader: Box<dyn Read + 'a>) -> std::io::Result<Box<dyn Read + 'a>> {
    const BOM: [u8; 3] = [0xef, 0xbb, 0xbf];
    let mut head = [0u8; 3];
    let filled = read_up_to(&mut reader, &mut head)?;
    if filled == 3 && head == BOM {
        Ok(reader)
    } else {
        Ok(Box::new(
            std::io::Cursor::new(head[..filled].to_vec()).chain(reader),
        ))
    }
}

/// The 1-based line (as a text editor counts them) on which a record starts.
///
/// The `csv` crate's own line numbers skip blank lines and miscount CRLF files, and its byte
/// position points just past the previous record (before any blank lines), so the line is
/// looked up from the first non-blank byte at or after that position.
fn line_of(reader: &mut ::csv::Reader<LineCounter>, record: &::csv::ByteRecord) -> u64 {
    let byte = record.position().map_or(0, |p| p.byte());
    reader.get_mut().line_at(byte)
}

/// A reader that remembers where each non-blank line begins, to turn the byte offsets of
/// records into line numbers.
///
/// `\n`, `\r\n` and a lone `\r` each end one line. Only lines not yet looked up are kept,
/// so memory stays small however long the file.
struct LineCounter {
    inner: Box<dyn Read>,
    /// Bytes read so far.
    offset: u64,
    /// Line number of the next byte.
    line: u64,
    /// `(offset, line)` of the first byte of each non-blank line not yet passed by a lookup.
    starts: std::collections::VecDeque<(u64, u64)>,
    /// Whether the last byte read ended a line (true at the start).
    after_end: bool,
    /// Whether the last byte read was `\r` (so a following `\n` ends the same line).
    after_cr: bool,
}

impl LineCounter {
    fn new(inner: Box<dyn Read>) -> Self {
        LineCounter {
            inner,
            offset: 0,
            line: 1,
            starts: Default::default(),
            after_end: true,
            after_cr: false,
        }
    }

    /// Line number of the first non-blank line starting at or after `byte`; lookups must
    /// come in non-decreasing order.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self.starts.front().is_some_and(|&(start, _)| start < byte) {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |&(_, line)| line)
    }
}

impl Read for LineCounter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            let is_end = b == b'\n' || b == b'\r';
            if !is_end && self.after_end {
                self.starts.push_back((self.offset + i as u64, self.line));
            }
            // CRLF ends one line: the CR counted it, the LF does not.
            if b == b'\r' || (b == b'\n' && !self.after_cr) {
                self.line += 1;
            }
            self.after_end = is_end;
            self.after_cr = b == b'\r';
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Finds the label column's index in the header.
fn find_label(path: &Path, header: &[String], label: &LabelColumn) -> Result<usize, DataError> {
    match label {
        LabelColumn::Name(name) => {
            let wanted = name.trim();
            header
                .iter()
                .position(|h| h == wanted)
                .ok_or_else(|| DataError::MissingLabelColumn {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    found: list_columns(header),
                })
        }
        LabelColumn::Index(index) => {
            if *index < header.len() {
                Ok(*index)
            } else {
                Err(DataError::LabelIndexOutOfRange {
                    path: path.to_path_buf(),
                    index: *index,
                    n_columns: header.len(),
                })
            }
        }
    }
}

/// The header's column names for an error message, shortened when there are many.
fn list_columns(header: &[String]) -> String {
    const SHOW: usize = 12;
    let shown: Vec<String> = header
        .iter()
        .take(SHOW)
        .map(|h| format!("\"{}\"", shorten(h, 30)))
        .collect();
    let mut out = shown.join(", ");
    if header.len() > SHOW {
        out.push_str(&format!(", ... ({} columns in all)", header.len()));
    }
    out
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push_str("...");
        out
    }
}

/// Where a cell is, for error messages.
struct Cell<'a> {
    path: &'a Path,
    line: u64,
    column: &'a str,
}

impl Cell<'_> {
    fn bad(&self, value: &[u8], expected: &str) -> DataError {
        DataError::BadValue {
            path: self.path.to_path_buf(),
            line: self.line,
            column: self.column.to_string(),
            value: shorten(&String::from_utf8_lossy(value), 40),
            expected: expected.to_string(),
        }
    }

    /// Parses a finite number.
    fn number(&self, cell: &[u8], expected: &str) -> Result<f64, DataError> {
        if cell.is_empty() {
            return Err(DataError::EmptyCell {
                path: self.path.to_path_buf(),
                line: self.line,
                column: self.column.to_string(),
                expected: expected.to_string(),
            });
        }
        let text = std::str::from_utf8(cell).map_err(|_| self.bad(cell, expected))?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.bad(cell, expected)),
        }
    }

    /// Parses a class index: a whole number in `0..MAX_CLASSES` (`3` and `3.0` both mean 3).
    fn class_index(&self, cell: &[u8]) -> Result<usize, DataError> {
        let expected = format!(
            "a class index: a whole number 0, 1, 2, ... below {MAX_CLASSES} \
             (for real-valued targets, set task = \"regression\" under [data])"
        );
        let v = self.number(cell, &expected)?;
        if v >= 0.0 && v.fract() == 0.0 && v < MAX_CLASSES as f64 {
            Ok(v as usize)
        } else {
            Err(self.bad(cell, &expected))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    fn skipped(bytes: &[u8]) -> Vec<u8> {
        // A one-byte buffer makes every read return a single byte.
        let inner = BufReader::with_capacity(1, Cursor::new(bytes.to_vec()));
        let mut r = skip_bom(Box::new(inner)).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn bom_is_skipped_even_across_tiny_buffers() {
        assert_eq!(skipped(b"\xef\xbb\xbfa,b"), b"a,b");
        assert_eq!(skipped(b"a,b"), b"a,b");
        assert_eq!(skipped(b""), b"");
        assert_eq!(skipped(b"\xef\xbb"), b"\xef\xbb");
        assert_eq!(skipped(b"\xef\xbbx"), b"\xef\xbbx");
    }

    #[test]
    fn shorten_cuts_long_text() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("abcdef", 3), "abc...");
    }

    #[test]
    fn column_list_is_shortened() {
        let header: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
        let s = list_columns(&header);
        assert!(s.starts_with("\"c0\", \"c1\""));
        assert!(s.ends_with("(20 columns in all)"));
    }
}
