//! Opening data files: the checks and decompression shared by the CSV and IDX loaders.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::error::DataError;

/// Opens a data file for reading. A directory is refused with [`DataError::IsDirectory`];
/// a gzip-compressed file (first bytes `1f 8b`) is decompressed on the fly, whatever its name.
pub(crate) fn open_data_file(path: &Path) -> Result<Box<dyn Read>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(DataError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    // A gzip stream starts with 1f 8b. Peek at the buffer, which a file fills with at least
    // two bytes whenever the file has them.
    let head = reader.fill_buf().map_err(io)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Reads into `buf` until it is full or the stream ends; returns the number of bytes read.
pub(crate) fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
