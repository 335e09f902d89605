//! Loading MNIST-style IDX files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, ...).
//!
//! The IDX format is a big-endian header followed by raw unsigned bytes:
//!
//! | file | header | body |
//! |---|---|---|
//! | images | magic `0x00000803`, count `n`, rows, columns (4 × u32) | `n × rows × columns` pixels, row-major |
//! | labels | magic `0x00000801`, count `n` (2 × u32) | `n` labels |
//!
//! Either file may be gzip-compressed (`*.gz` as distributed); compression is detected from
//! the content (bytes `1f 8b`), not the file name. The header is checked (magic number,
//! non-zero image size), as is the body length (a truncated download or trailing bytes are
//! errors) and that both files hold the same number of samples.

use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use super::error::DataError;
use super::source::{open_data_file, read_up_to};
use super::{Dataset, Target};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Loads an IDX image file and its label file into a [`Dataset`].
///
/// Features are the pixel values as `f64` in `0..=255` (standardize or scale them before
/// training), one row per image, in row-major pixel order, named `pixel0`, `pixel1`, ...
/// The target is [`Target::Classes`] with `n_classes = max label + 1` (10 for MNIST).
///
/// # Errors
/// [`DataError`] naming the file if either file cannot be read, is a directory, has the
/// wrong magic number (e.g. image and label paths swapped), zero-sized images, a body
/// shorter or longer than the header says, if the two files hold different numbers of
/// samples, or if they hold no samples.
pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let (n_images, rows, cols, pixels) = read_images(images)?;
    let label_bytes = read_labels(labels)?;
    if n_images != label_bytes.len() as u64 {
        return Err(DataError::IdxCountMismatch {
            images: images.to_path_buf(),
            labels: labels.to_path_buf(),
            n_images,
            n_labels: label_bytes.len() as u64,
        });
    }
    if n_images == 0 {
        return Err(DataError::NoRows {
            path: images.to_path_buf(),
            detail: " (its header gives a count of 0 images)".to_string(),
        });
    }
    let n = n_images as usize;
    let d = rows as usize * cols as usize;
    let features = Array2::from_shape_vec((n, d), pixels.into_iter().map(f64::from).collect())
        .expect("body length was checked against n × rows × cols");
    let labels: Vec<usize> = label_bytes.into_iter().map(usize::from).collect();
    let n_classes = labels.iter().max().map_or(0, |&m| m + 1);
    Ok(Dataset {
        features,
        target: Target::Classes { labels, n_classes },
        feature_names: (0..d).map(|i| format!("pixel{i}")).collect(),
    })
}

/// Reads an image file: `(count, rows, cols, pixels)`.
fn read_images(path: &Path) -> Result<(u64, u32, u32, Vec<u8>), DataError> {
    let mut reader = open_data_file(path)?;
    let header = read_header::<16>(path, &mut *reader, IMAGES_MAGIC, "image")?;
    let [n, rows, cols] = [1, 2, 3].map(|i| be_u32(&header[4 * i..4 * i + 4]));
    if rows == 0 || cols == 0 {
        return Err(DataError::IdxDims {
            path: path.to_path_buf(),
            rows,
            cols,
        });
    }
    // Three u32 factors can overflow u64; no real file is that big, so saturate (the read
    // then reports the file as truncated).
    let body_len = u128::from(n) * u128::from(rows) * u128::from(cols);
    let body_len = u64::try_from(body_len).unwrap_or(u64::MAX);
    let pixels = read_body(path, &mut *reader, 16, body_len)?;
    Ok((u64::from(n), rows, cols, pixels))
}

/// Reads a label file: one byte per label.
fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let mut reader = open_data_file(path)?;
    let header = read_header::<8>(path, &mut *reader, LABELS_MAGIC, "label")?;
    let n = be_u32(&header[4..8]);
    read_body(path, &mut *reader, 8, u64::from(n))
}

/// Reads and checks an `N`-byte header starting with the magic number `expected`.
fn read_header<const N: usize>(
    path: &Path,
    reader: &mut dyn Read,
    expected: u32,
    kind: &'static str,
) -> Result<[u8; N], DataError> {
    let mut header = [0u8; N];
    let got = read_up_to(reader, &mut header).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if got == 0 {
        return Err(DataError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    if got >= 4 {
        let found = be_u32(&header[..4]);
        if found != expected {
            return Err(DataError::IdxMagic {
                path: path.to_path_buf(),
                found,
                expected,
                kind,
                hint: magic_hint(found).to_string(),
            });
        }
    }
    if got < N {
        return Err(DataError::IdxSize {
            path: path.to_path_buf(),
            what: "the header",
            found: got as u64,
            expected: N as u64,
            detail: format!(" (an IDX {kind} file header; the file is truncated)"),
        });
    }
    Ok(header)
}

/// What a wrong magic number probably means, for the error message.
fn magic_hint(found: u32) -> &'static str {
    match found {
        IMAGES_MAGIC => " (an IDX image file: were the image and label paths swapped?)",
        LABELS_MAGIC => " (an IDX label file: were the image and label paths swapped?)",
        m if m >> 16 == 0 && matches!((m >> 8) & 0xff, 0x08 | 0x09 | 0x0b..=0x0e) => {
            " (an IDX file of another element type or number of dimensions)"
        }
        _ => " (not an IDX file)",
    }
}

/// Reads exactly `len` body bytes and checks that nothing follows them. Memory grows with
/// the bytes actually present, never with the (untrusted) length in the header.
fn read_body(
    path: &Path,
    reader: &mut dyn Read,
    header_len: u64,
    len: u64,
) -> Result<Vec<u8>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut body = Vec::new();
    reader.take(len).read_to_end(&mut body).map_err(io)?;
    let got = body.len() as u64;
    if got < len {
        return Err(DataError::IdxSize {
            path: path.to_path_buf(),
            what: "the file",
            found: header_len + got,
            expected: header_len.saturating_add(len),
            detail: " as its header says (truncated file or incomplete download?)".to_string(),
        });
    }
    let mut extra = [0u8; 1];
    if read_up_to(reader, &mut extra).map_err(io)? > 0 {
        let trailing = 1 + std::io::copy(reader, &mut std::io::sink()).map_err(io)?;
        return Err(DataError::IdxSize {
            path: path.to_path_buf(),
            what: "the file",
            found: header_len + len + trailing,
            expected: header_len + len,
            detail: format!(" as its header says ({trailing} unexpected trailing bytes)"),
        });
    }
    Ok(body)
}

/// A big-endian `u32` from 4 bytes.
fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_hints() {
        assert!(magic_hint(LABELS_MAGIC).contains("swapped"));
        assert!(magic_hint(0x0000_0802).contains("another"));
        assert!(magic_hint(0x8950_4e47).contains("not an IDX"));
    }

    #[test]
    fn big_endian() {
        assert_eq!(be_u32(&[0, 0, 8, 3]), IMAGES_MAGIC);
        assert_eq!(be_u32(&[0, 0, 0xea, 0x60]), 60_000);
    }
}
