//! Submissions as an RFC 7946 GeoJSON FeatureCollection, streamed: one Feature per record that
//! has a value for the chosen geo field (a geopoint as a Point, `[longitude, latitude]` plus the
//! altitude when known; a geotrace as a LineString; a geoshape as a Polygon, closed and
//! counterclockwise). The Feature's `id` is the record's key; its `properties` are the record's
//! row of the root table, under the same column names as the CSV export.

use crate::json::{push_f64, push_geometry, push_i64, push_str};
use crate::schema::Schema;
use crate::table::{CellSink, Flattener, Meta};
use crate::values::StoredValue;
use std::io::{self, Write};

const BUFFER: usize = 64 * 1024;

/// A table row written as a JSON object keyed by the table's headers.
struct Props<'h> {
    headers: &'h [String],
    col: usize,
    buf: Vec<u8>,
}

impl Props<'_> {
    fn key(&mut self) {
        if self.col > 0 {
            self.buf.push(b',');
        }
        push_str(
            &mut self.buf,
            self.headers.get(self.col).map(String::as_str).unwrap_or(""),
        );
        self.buf.push(b':');
        self.col += 1;
    }
}

impl CellSink for Props<'_> {
    fn start_row(&mut self) -> io::Result<()> {
        self.col = 0;
        self.buf.clear();
        self.buf.push(b'{');
        Ok(())
    }
    fn empty(&mut self) -> io::Result<()> {
        self.key();
        self.buf.extend_from_slice(b"null");
        Ok(())
    }
    fn text(&mut self, s: &str) -> io::Result<()> {
        self.key();
        push_str(&mut self.buf, s);
        Ok(())
    }
    fn int(&mut self, v: i64) -> io::Result<()> {
        self.key();
        push_i64(&mut self.buf, v);
        Ok(())
    }
    fn num(&mut self, v: f64) -> io::Result<()> {
        self.key();
        push_f64(&mut self.buf, v);
        Ok(())
    }
    fn date(&mut self, ymd: &str) -> io::Result<()> {
        self.text(ymd)
    }
    fn timestamp(&mut self, unix: i64) -> io::Result<()> {
        self.text(&crate::time::iso_timestamp(unix))
    }
    fn end_row(&mut self) -> io::Result<()> {
        self.buf.push(b'}');
        Ok(())
    }
}

/// A streamed FeatureCollection.
pub struct GeoJsonWriter<'s, W: Write> {
    inner: W,
    flattener: Flattener<'s>,
    props: Props<'s>,
    geo: usize,
    buf: Vec<u8>,
    count: u64,
}

impl<'s, W: Write> GeoJsonWriter<'s, W> {
    /// A collection whose geometries come from the field `geo` (a root geo field of `schema`).
    pub fn new(mut inner: W, schema: &'s Schema, geo: usize) -> io::Result<Self> {
        inner.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
        Ok(GeoJsonWriter {
            inner,
            flattener: Flattener::new(schema),
            props: Props {
                headers: &schema.tables[0].headers,
                col: 0,
                buf: Vec::new(),
            },
            geo,
            buf: Vec::with_capacity(BUFFER + 4096),
            count: 0,
        })
    }

    /// Features written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes the record's feature; returns false when it has no geometry (nothing written).
    pub fn record(&mut self, meta: &Meta<'_>, values: &[StoredValue<'_>]) -> io::Result<bool> {
        self.flattener.root_row(meta, values, &mut self.props)?;
        let schema = self.flattener.schema();
        let kind = schema.fields[self.geo].kind;
        let Some(value) = self.flattener.value_of(self.geo, values) else {
            return Ok(false);
        };
        let mut geometry = Vec::new();
        if !push_geometry(&mut geometry, kind, value) {
            return Ok(false);
        }
        if self.count > 0 {
            self.buf.push(b',');
        }
        self.buf
            .extend_from_slice(b"\n{\"type\":\"Feature\",\"id\":");
        push_str(&mut self.buf, meta.key);
        self.buf.extend_from_slice(b",\"geometry\":");
        self.buf.extend_from_slice(&geometry);
        self.buf.extend_from_slice(b",\"properties\":");
        self.buf.extend_from_slice(&self.props.buf);
        self.buf.push(b'}');
        self.count += 1;
        if self.buf.len() >= BUFFER {
            self.inner.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(true)
    }

    /// Closes the collection and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.extend_from_slice(b"\n]}\n");
        self.inner.write_all(&self.buf)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}
