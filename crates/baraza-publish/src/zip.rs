//! A zip archive written front to back to a stream that cannot seek (an HTTP body): each entry's
//! sizes and checksum follow its data (data descriptors), and an entry that outgrows 4 GiB
//! switches to ZIP64 on its own. Entries are deflated.

use std::io::{self, Write};
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::ZipWriter;

/// How hard entries are compressed. Level 3 of zlib keeps most of the size gain of the default
/// (6) at about twice its speed, which matters for exports of a million rows.
const LEVEL: i64 = 3;

/// A zip archive being written.
pub struct ZipStream<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
    options: SimpleFileOptions,
}

impl<W: Write> ZipStream<W> {
    /// A new archive whose entries are dated `modified` (Unix seconds, UTC; the zip format keeps
    /// local times from 1980 to 2107, and 1980-01-01 is used outside that range).
    pub fn new(inner: W, modified: i64) -> Self {
        let (y, m, d) = crate::time::civil(modified.div_euclid(86_400));
        let s = modified.rem_euclid(86_400);
        let stamp = u16::try_from(y)
            .ok()
            .and_then(|y| {
                zip::DateTime::from_date_and_time(
                    y,
                    m as u8,
                    d as u8,
                    (s / 3600) as u8,
                    (s % 3600 / 60) as u8,
                    (s % 60) as u8,
                )
                .ok()
            })
            .unwrap_or_default();
        ZipStream {
            zip: ZipWriter::new_stream(inner).set_auto_large_file(),
            options: SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(LEVEL))
                .last_modified_time(stamp)
                .unix_permissions(0o644),
        }
    }

    /// Starts the next entry (and ends the previous one).
    pub fn start(&mut self, name: &str) -> io::Result<()> {
        self.zip
            .start_file(name, self.options)
            .map_err(io::Error::from)
    }

    /// Ends the archive (its central directory) and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        let mut inner = self.zip.finish().map_err(io::Error::from)?.into_inner();
        inner.flush()?;
        Ok(inner)
    }
}

impl<W: Write> Write for ZipStream<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.zip.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.zip.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn entries_read_back() {
        let mut z = ZipStream::new(Vec::new(), 1_790_000_000);
        z.start("a.csv").unwrap();
        z.write_all(b"x,y\r\n1,2\r\n").unwrap();
        z.start("b.csv").unwrap();
        for _ in 0..10_000 {
            z.write_all(b"repetitive line\r\n").unwrap();
        }
        let bytes = z.finish().unwrap();
        assert!(bytes.len() < 2_000, "deflated: {}", bytes.len());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        let mut s = String::new();
        archive
            .by_name("a.csv")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "x,y\r\n1,2\r\n");
        let f = archive.by_name("b.csv").unwrap();
        assert_eq!(f.size(), 170_000);
        let t = f.last_modified().unwrap();
        assert_eq!((t.year(), t.month(), t.day()), (2026, 9, 21));
    }
}
