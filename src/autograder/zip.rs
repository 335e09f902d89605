//! A minimal zip writer: enough for Gradescope's autograder bundle. Each file is deflated
//! (with `flate2`, already a dependency; stored as it is when deflating does not make it
//! smaller), its CRC-32 is `flate2`'s, and its Unix mode goes in the external attributes so
//! that `unzip` restores the executable bit. No zip64: every file and the whole archive
//! must stay under 4 GiB, far above anything a bundle holds. Times are all 1980-01-01, so
//! the same inputs give the same bytes.

use std::io::{self, Write};

/// Compression method 0: stored.
const STORED: u16 = 0;
/// Compression method 8: deflate.
const DEFLATED: u16 = 8;
/// Version 2.0 of the format: deflate and directories.
const VERSION: u16 = 20;
/// "Made by" Unix (3 in the high byte), so the external attributes hold a Unix mode.
const MADE_BY_UNIX: u16 = (3 << 8) | VERSION;
/// General-purpose flag bit 11: names are UTF-8.
const UTF8_NAMES: u16 = 1 << 11;
/// The MS-DOS date 1980-01-01 (time 00:00 is 0).
const DOS_DATE: u16 = (1 << 5) | 1;
/// MS-DOS directory attribute.
const DOS_DIRECTORY: u32 = 0x10;

/// One entry of the central directory, kept until the archive is finished.
struct Entry {
    name: String,
    method: u16,
    crc: u32,
    compressed: u32,
    size: u32,
    external: u32,
    offset: u32,
}

/// A zip archive written entry by entry into `out`, finished by [`ZipWriter::finish`].
pub struct ZipWriter<W: Write> {
    out: W,
    written: u64,
    entries: Vec<Entry>,
}

fn too_large(what: &str) -> io::Error {
    io::Error::other(format!(
        "{what} is 4 GiB or more, more than a zip without zip64 holds"
    ))
}

fn u32_of(n: u64, what: &str) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| too_large(what))
}

impl<W: Write> ZipWriter<W> {
    /// An empty archive writing into `out`.
    pub fn new(out: W) -> Self {
        ZipWriter {
            out,
            written: 0,
            entries: Vec::new(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Adds a file named `name` (a relative path with `/` separators) holding `data`, with
    /// the Unix permission bits `mode` (e.g. `0o755` for an executable).
    pub fn file(&mut self, name: &str, data: &[u8], mode: u32) -> io::Result<()> {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data)?;
        let deflated = encoder.finish()?;
        let (method, body) = if deflated.len() < data.len() {
            (DEFLATED, &deflated[..])
        } else {
            (STORED, data)
        };
        let entry = Entry {
            name: name.to_string(),
            method,
            crc: crc.sum(),
            compressed: u32_of(body.len() as u64, name)?,
            size: u32_of(data.len() as u64, name)?,
            external: (0o100_000 | (mode & 0o7777)) << 16,
            offset: u32_of(self.written, "the archive")?,
        };
        self.local_header(&entry)?;
        self.put(body)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Adds a directory entry `name` (a trailing `/` is added if missing), mode 755.
    pub fn directory(&mut self, name: &str) -> io::Result<()> {
        let name = if name.ends_with('/') {
            name.to_string()
        } else {
            format!("{name}/")
        };
        let entry = Entry {
            name,
            method: STORED,
            crc: 0,
            compressed: 0,
            size: 0,
            external: ((0o040_000 | 0o755) << 16) | DOS_DIRECTORY,
            offset: u32_of(self.written, "the archive")?,
        };
        self.local_header(&entry)?;
        self.entries.push(entry);
        Ok(())
    }

    fn local_header(&mut self, e: &Entry) -> io::Result<()> {
        let mut h = Vec::with_capacity(30 + e.name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        for v in [VERSION, UTF8_NAMES, e.method, 0, DOS_DATE] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        for v in [e.crc, e.compressed, e.size] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.extend_from_slice(&name_len(&e.name)?.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(e.name.as_bytes());
        self.put(&h)
    }

    /// Writes the central directory and its end record; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let start = u32_of(self.written, "the archive")?;
        let entries = std::mem::take(&mut self.entries);
        for e in &entries {
            let mut h = Vec::with_capacity(46 + e.name.len());
            h.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            for v in [MADE_BY_UNIX, VERSION, UTF8_NAMES, e.method, 0, DOS_DATE] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            for v in [e.crc, e.compressed, e.size] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            // Name length, then no extra field, comment, disk number or internal attributes.
            for v in [name_len(&e.name)?, 0, 0, 0, 0] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            h.extend_from_slice(&e.external.to_le_bytes());
            h.extend_from_slice(&e.offset.to_le_bytes());
            h.extend_from_slice(e.name.as_bytes());
            self.put(&h)?;
        }
        let size = u32_of(self.written - u64::from(start), "the central directory")?;
        let count = u16::try_from(entries.len())
            .map_err(|_| io::Error::other("more than 65,535 files for a zip without zip64"))?;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        for v in [0, 0, count, count] {
            end.extend_from_slice(&v.to_le_bytes());
        }
        end.extend_from_slice(&size.to_le_bytes());
        end.extend_from_slice(&start.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        self.put(&end)?;
        Ok(self.out)
    }
}

fn name_len(name: &str) -> io::Result<u16> {
    u16::try_from(name.len()).map_err(|_| io::Error::other(format!("name too long: {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_of_one_file_and_one_directory() {
        let mut zip = ZipWriter::new(Vec::new());
        zip.directory("d").unwrap();
        zip.file("d/run", b"#!/bin/sh\necho hi\n", 0o755).unwrap();
        let bytes = zip.finish().unwrap();
        // Local headers, then the central directory, then the 22-byte end record.
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let end = &bytes[bytes.len() - 22..];
        assert_eq!(&end[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 2);
        // The file's CRC-32 is the standard one (of "123456789": 0xCBF43926).
        let mut crc = flate2::Crc::new();
        crc.update(b"123456789");
        assert_eq!(crc.sum(), 0xCBF4_3926);
        // Its mode: a regular file with rwxr-xr-x.
        let cd = u32::from_le_bytes(end[16..20].try_into().unwrap()) as usize;
        let second = cd + 46 + "d/".len();
        assert_eq!(&bytes[second..second + 4], b"PK\x01\x02");
        let external = u32::from_le_bytes(bytes[second + 38..second + 42].try_into().unwrap());
        assert_eq!(external >> 16, 0o100_755);
    }
}
