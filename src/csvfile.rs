//! Reading and writing initlab's CSV files with the `csv` crate, for any serde row type
//! (the results schema of [`crate::experiment::record`], inspect's `--csv` table):
//!
//! - writing: a header from the row type's field names, fields quoted when they need it,
//!   and every float in Rust's shortest round-trip form (`0.1`, `1`, `NaN`, `inf`), so the
//!   same results always give the same bytes and every number reads back exactly;
//! - reading: columns matched by name (extra columns are ignored, empty fields are `None`),
//!   and errors that name the file, the line and the column.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use csv::{Position, StringRecord};
use serde::de::DeserializeOwned;
use serde::ser::{self, Serialize, Serializer};

/// Shortest round-trip text of a float; `NaN`, `inf`, `-inf` for non-finite values.
pub fn fmt_f64(v: f64) -> String {
    format!("{v}")
}

/// Writes `rows` as CSV: a header (the field names of the first row's type), then one
/// record per row. Nothing at all is written for no rows.
pub fn write_rows<R: Serialize>(
    w: &mut dyn Write,
    rows: impl IntoIterator<Item = R>,
) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    for row in rows {
        out.serialize(ShortFloats(&row)).map_err(io::Error::other)?;
    }
    out.flush()
}

/// A CSV file written row by row, as the rows come: the same bytes as [`write_rows`] given
/// all the rows at once (a header from the first row's type, then one record per row), but
/// only a buffer's worth in memory. Used for the per-run files of a results directory,
/// which are written as the runs finish; the directory as a whole is what appears
/// atomically (see `experiment::output::Staging`).
pub struct CsvFile {
    path: PathBuf,
    out: csv::Writer<std::fs::File>,
}

impl CsvFile {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = std::fs::File::create(path)?;
        Ok(CsvFile {
            path: path.to_path_buf(),
            out: csv::Writer::from_writer(file),
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one row (the header first, before the first row).
    pub fn write<R: Serialize>(&mut self, row: &R) -> io::Result<()> {
        self.out
            .serialize(ShortFloats(row))
            .map_err(io::Error::other)
    }

    /// Writes out what is buffered and syncs the file to disk.
    pub fn finish(self) -> io::Result<()> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

/// Serializes `T` unchanged except that every float becomes the text [`fmt_f64`] gives.
///
/// On its own the `csv` crate writes floats with `ryu` (`1.0`, `1e-7`), not the shortest
/// round-trip form of Rust's `Display` (`1`, `0.0000001`) that initlab's files use. Every
/// value below the row is wrapped again, so nested structs and options are covered too.
struct ShortFloats<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for ShortFloats<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Rewrite(serializer))
    }
}

/// The serializer behind [`ShortFloats`]: floats rewritten, everything else passed on.
struct Rewrite<S>(S);

/// Passes scalar `serialize_*` methods straight on.
macro_rules! pass_on {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<S::Ok, S::Error> {
            self.0.$method(v)
        })*
    };
}

impl<S: Serializer> Serializer for Rewrite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Each<S::SerializeSeq>;
    type SerializeTuple = Each<S::SerializeTuple>;
    type SerializeTupleStruct = Each<S::SerializeTupleStruct>;
    type SerializeStruct = Each<S::SerializeStruct>;
    // Maps and enum variants with data cannot be CSV fields (the csv crate refuses them),
    // so they are passed on as they are.
    type SerializeTupleVariant = S::SerializeTupleVariant;
    type SerializeMap = S::SerializeMap;
    type SerializeStructVariant = S::SerializeStructVariant;

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        self.0.serialize_str(&fmt_f64(v))
    }
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.0.serialize_str(&format!("{v}"))
    }
    pass_on!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&ShortFloats(v))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &ShortFloats(v))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &ShortFloats(v))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Each)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Each)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Each)
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Each)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0.serialize_tuple_variant(name, index, variant, len)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0.serialize_struct_variant(name, index, variant, len)
    }
}

/// A compound value (struct, tuple, sequence) whose elements are wrapped in [`ShortFloats`].
struct Each<C>(C);

impl<C: ser::SerializeStruct> ser::SerializeStruct for Each<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_field(key, &ShortFloats(v))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.0.skip_field(key)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

/// The three positional compounds differ only in their trait's names.
macro_rules! each_positional {
    ($($trait:ident::$method:ident),*) => {
        $(impl<C: ser::$trait> ser::$trait for Each<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
                self.0.$method(&ShortFloats(v))
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        })*
    };
}

each_positional!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// An error while reading one CSV file (or `config.toml`) of a results directory.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said (part of the message, so not also a `source`:
        /// a chain printed in full would repeat it).
        error: io::Error,
    },
    /// The file was read but its contents are not what was expected.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line number, where known.
        line: Option<u64>,
        /// What was wrong.
        message: String,
    },
}

/// Reads a CSV file with a header into rows, columns matched by name to `R`'s fields.
pub fn read_rows<R: DeserializeOwned>(path: &Path) -> Result<Vec<R>, ReadError> {
    read_with(path, |headers| {
        let all = Columns::select(headers, |_| true);
        move |record: &StringRecord| all.parse(record, path)
    })
}

/// Reads a CSV file whose row is two structs side by side (written as the pair `(K, R)`):
/// the columns named in `k_columns` into `K`, the others into `R`.
pub fn read_split<K: DeserializeOwned, R: DeserializeOwned>(
    path: &Path,
    k_columns: &[&str],
) -> Result<Vec<(K, R)>, ReadError> {
    read_with(path, |headers| {
        let in_k = |h: &str| k_columns.contains(&h);
        let k = Columns::select(headers, in_k);
        let rest = Columns::select(headers, |h| !in_k(h));
        move |record: &StringRecord| Ok((k.parse(record, path)?, rest.parse(record, path)?))
    })
}

/// Reads a CSV file whose row is two structs side by side (written as the pair `(K, R)`):
/// the columns for which `in_k` holds into `K`, the others into `R`.
pub fn read_split_by<K: DeserializeOwned, R: DeserializeOwned>(
    path: &Path,
    in_k: impl Fn(&str) -> bool,
) -> Result<Vec<(K, R)>, ReadError> {
    read_with(path, |headers| {
        let k = Columns::select(headers, &in_k);
        let rest = Columns::select(headers, |h| !in_k(h));
        move |record: &StringRecord| Ok((k.parse(record, path)?, rest.parse(record, path)?))
    })
}

/// The field names of a struct that derives `Deserialize` (its columns in a CSV file), read
/// from what the derived code asks of a deserializer; empty for a type that is not such a
/// struct.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error as _, Visitor, value::Error};
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Error> {
            *self.0 = fields;
            Err(Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// Opens `path`, reads its header, then turns every record into a row with the parser
/// `make` builds from the header.
fn read_with<T, F>(path: &Path, make: impl FnOnce(&StringRecord) -> F) -> Result<Vec<T>, ReadError>
where
    F: Fn(&StringRecord) -> Result<T, ReadError>,
{
    let file = std::fs::File::open(path).map_err(|error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(io::BufReader::new(file));
    let headers = reader
        .headers()
        .map_err(|e| csv_error(path, &e, None, None))?
        .clone();
    let parse = make(&headers);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e, None, None))?;
        rows.push(parse(&record)?);
    }
    Ok(rows)
}

/// Some of a file's columns, by position, with their header names.
struct Columns {
    index: Vec<usize>,
    names: StringRecord,
}

impl Columns {
    fn select(headers: &StringRecord, keep: impl Fn(&str) -> bool) -> Self {
        let index: Vec<usize> = (0..headers.len()).filter(|&i| keep(&headers[i])).collect();
        let names = index.iter().map(|&i| &headers[i]).collect();
        Columns { index, names }
    }

    /// These columns of `record` as a `T`; an error names the line and the column.
    fn parse<T: DeserializeOwned>(
        &self,
        record: &StringRecord,
        path: &Path,
    ) -> Result<T, ReadError> {
        let fields: StringRecord = self
            .index
            .iter()
            .map(|&i| record.get(i).unwrap_or(""))
            .collect();
        fields
            .deserialize(Some(&self.names))
            .map_err(|e| csv_error(path, &e, record.position(), Some(&self.names)))
    }
}

/// Turns a csv error into a [`ReadError`] naming the line (from the error, else from
/// `position`) and, where known, the column (`headers` are those the record was read with).
fn csv_error(
    path: &Path,
    err: &csv::Error,
    position: Option<&Position>,
    headers: Option<&StringRecord>,
) -> ReadError {
    let line = err.position().or(position).map(|p| p.line());
    let message = match err.kind() {
        csv::ErrorKind::Deserialize { err: de, .. } => {
            let column = de
                .field()
                .and_then(|f| headers.and_then(|h| h.get(f as usize)));
            match column {
                Some(c) => format!("column `{c}`: {}", de.kind()),
                None => de.kind().to_string(),
            }
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        csv::ErrorKind::Io(e) => e.to_string(),
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8: {err}"),
        _ => err.to_string(),
    };
    ReadError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::record::{
        Keyed, MetricRow, Metrics, RunKey, SummaryRow, de_bool, read_keyed,
    };
    use serde::{Deserialize, Serialize};

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn to_text<R: Serialize>(rows: &[R]) -> String {
        let mut out = Vec::new();
        write_rows(&mut out, rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    const METRICS: &str = "experiment,init,activation,seed,epoch,train_loss,train_accuracy,test_loss,test_accuracy,gradient_norm,diverged\n";

    fn metric(init: &str, train_loss: f64, gradient_norm: f64) -> MetricRow {
        Keyed {
            run: RunKey {
                experiment: "x".into(),
                init: init.into(),
                activation: "relu".into(),
                seed: 1,
                axes: Vec::new(),
            },
            row: Metrics {
                epoch: 10,
                train_loss,
                train_accuracy: Some(0.5),
                test_loss: None,
                test_accuracy: None,
                gradient_norm,
                diverged: false,
            },
        }
    }

    #[test]
    fn floats_are_written_in_shortest_round_trip_form() {
        let rows = [
            metric("he-normal", 0.1, 1.0),
            metric("a,\"b\"", f64::NAN, 1e-7),
            metric("c", f64::INFINITY, 123456789012345680.0),
        ];
        let text = to_text(&rows);
        assert_eq!(
            text,
            format!(
                "{METRICS}x,he-normal,relu,1,10,0.1,0.5,,,1,false\n\
                 x,\"a,\"\"b\"\"\",relu,1,10,NaN,0.5,,,0.0000001,false\n\
                 x,c,relu,1,10,inf,0.5,,,123456789012345680,false\n"
            )
        );
        // And back: the same values, the key split from the row by column name.
        let dir = tempfile::tempdir().unwrap();
        let back: Vec<MetricRow> = read_keyed(&write(dir.path(), "m.csv", &text)).unwrap();
        assert_eq!(back[0], rows[0]);
        assert_eq!(back[1].run, rows[1].run);
        assert!(back[1].row.train_loss.is_nan());
        assert_eq!(back[2], rows[2]);
    }

    #[test]
    fn a_file_written_row_by_row_has_the_bytes_of_all_rows_at_once() {
        let rows = [
            metric("he-normal", 0.1, 1.0),
            metric("a,\"b\"", f64::NAN, 1e-7),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        let mut file = CsvFile::create(&path).unwrap();
        for row in &rows {
            file.write(row).unwrap();
        }
        file.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), to_text(&rows));
    }

    #[test]
    fn key_columns_are_the_key_fields() {
        let text = to_text(&[metric("i", 1.0, 1.0).run]);
        assert_eq!(text.lines().next().unwrap(), RunKey::COLUMNS.join(","));
    }

    #[test]
    fn columns_are_matched_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "metrics.csv",
            "epoch,extra,seed,train_loss,diverged,gradient_norm,init,experiment,activation,test_loss,train_accuracy,test_accuracy\n\
             3,?,7,0.5,1,2,he,x,tanh,,,\n",
        );
        let rows: Vec<MetricRow> = read_keyed(&p).unwrap();
        assert_eq!(rows[0].run.seed, 7);
        assert_eq!(rows[0].run.init, "he");
        assert_eq!(rows[0].row.epoch, 3);
        assert!(rows[0].row.diverged);
        assert_eq!(rows[0].row.test_loss, None);
    }

    #[test]
    fn bad_value_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "metrics.csv",
            &format!(
                "{METRICS}x,he-normal,relu,1,0,0.7,0.5,,,1.0,false\n\
                 x,he-normal,relu,1,1,oops,,,,1.0,false\n"
            ),
        );
        let err = read_keyed::<Metrics>(&p).unwrap_err().to_string();
        assert!(err.contains("metrics.csv"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("train_loss"), "{err}");
        // A bad key column is named too.
        let p = write(
            dir.path(),
            "m2.csv",
            &format!("{METRICS}x,he-normal,relu,seven,0,0.7,0.5,,,1.0,false\n"),
        );
        let err = read_keyed::<Metrics>(&p).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("column `seed`"),
            "{err}"
        );
    }

    #[test]
    fn bad_bool_is_an_error_and_empty_is_false() {
        let dir = tempfile::tempdir().unwrap();
        #[derive(Debug, Deserialize)]
        struct R {
            #[serde(deserialize_with = "de_bool")]
            a: bool,
        }
        let p = write(dir.path(), "p.csv", "a,b\n,1\nTRUE,2\n");
        let rows: Vec<R> = read_rows(&p).unwrap();
        assert!(!rows[0].a && rows[1].a);
        let p = write(dir.path(), "q.csv", "a\nmaybe\n");
        let err = read_rows::<R>(&p).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("maybe"), "{err}");
    }

    #[test]
    fn a_missing_file_names_the_os_error_once() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_rows::<SummaryRow>(&dir.path().join("summary.csv")).unwrap_err();
        let text = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(text.matches("os error").count(), 1, "{text}");
    }
}
