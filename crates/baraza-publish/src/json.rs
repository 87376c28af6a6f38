//! Submissions as a streamed JSON array of nested documents, shaped as ODK Central's OData feed
//! shapes them: `__id` (the record's key), then every field of the form in order — groups as
//! objects, repeats as arrays of objects, numbers as numbers, `select_multiple` as its
//! space-separated choices, geopoints as GeoJSON points (`[longitude, latitude, altitude]`, the
//! accuracy in `properties`), geotraces and geoshapes as LineStrings and Polygons, unanswered
//! fields as `null` — then the system fields under `__system`.

use crate::schema::{FieldKind, Node, Schema};
use crate::table::Meta;
use crate::values::{StoredValue, Typed};
use std::collections::HashMap;
use std::io::{self, Write};

const BUFFER: usize = 64 * 1024;

pub(crate) fn push_str(buf: &mut Vec<u8>, s: &str) {
    // Serialising a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, s);
}

pub(crate) fn push_f64(buf: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let _ = serde_json::to_writer(&mut *buf, &v);
    } else {
        buf.extend_from_slice(b"null");
    }
}

pub(crate) fn push_i64(buf: &mut Vec<u8>, v: i64) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// `[lon,lat]` for each point.
fn push_positions(buf: &mut Vec<u8>, points: &[(f64, f64)]) {
    buf.push(b'[');
    for (i, (lat, lon)) in points.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.push(b'[');
        push_f64(buf, *lon);
        buf.push(b',');
        push_f64(buf, *lat);
        buf.push(b']');
    }
    buf.push(b']');
}

/// A polygon's ring: closed, counterclockwise (RFC 7946 §3.1.6), or `None` when it has fewer
/// than three points.
pub(crate) fn ring(points: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    let mut ring = points.to_vec();
    if ring.first() != ring.last() {
        ring.push(ring[0]);
    }
    if ring.len() < 4 {
        return None;
    }
    // Shoelace over (x = lon, y = lat): positive when counterclockwise.
    let area: f64 = ring
        .windows(2)
        .map(|w| w[0].1 * w[1].0 - w[1].1 * w[0].0)
        .sum();
    if area < 0.0 {
        ring.reverse();
    }
    Some(ring)
}

/// A GeoJSON geometry for a geo value, or `None` when it has none.
pub(crate) fn push_geometry(buf: &mut Vec<u8>, kind: FieldKind, v: &Typed<'_>) -> bool {
    match v {
        Typed::Geopoint { lat, lon, alt, acc } => {
            buf.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":[");
            push_f64(buf, *lon);
            buf.push(b',');
            push_f64(buf, *lat);
            if let Some(a) = alt {
                buf.push(b',');
                push_f64(buf, *a);
            }
            buf.push(b']');
            if let Some(a) = acc {
                buf.extend_from_slice(b",\"properties\":{\"accuracy\":");
                push_f64(buf, *a);
                buf.push(b'}');
            }
            buf.push(b'}');
            true
        }
        Typed::Geotrace(points) if kind == FieldKind::Geoshape => match ring(points) {
            Some(r) => {
                buf.extend_from_slice(b"{\"type\":\"Polygon\",\"coordinates\":[");
                push_positions(buf, &r);
                buf.extend_from_slice(b"]}");
                true
            }
            None => false,
        },
        Typed::Geotrace(points) if points.len() >= 2 => {
            buf.extend_from_slice(b"{\"type\":\"LineString\",\"coordinates\":");
            push_positions(buf, points);
            buf.push(b'}');
            true
        }
        _ => false,
    }
}

/// A value as JSON.
fn push_value(buf: &mut Vec<u8>, kind: FieldKind, v: Option<&Typed<'_>>) {
    match v {
        None | Some(Typed::Empty) => buf.extend_from_slice(b"null"),
        Some(Typed::Int(i)) => push_i64(buf, *i),
        Some(Typed::Decimal(d)) => push_f64(buf, *d),
        Some(
            Typed::Text(s)
            | Typed::Date(s)
            | Typed::Time(s)
            | Typed::DateTime(s)
            | Typed::Choice(s)
            | Typed::File(s),
        ) => push_str(buf, s),
        Some(g @ (Typed::Geopoint { .. } | Typed::Geotrace(_))) => {
            if !push_geometry(buf, kind, g) {
                buf.extend_from_slice(b"null");
            }
        }
        Some(c @ Typed::Choices(_)) => push_str(buf, &crate::table::value_text(c)),
    }
}

/// The system fields, as ODK Central's OData names them.
pub(crate) fn push_system(buf: &mut Vec<u8>, meta: &Meta<'_>, device: Option<&str>) {
    buf.extend_from_slice(b"{\"submissionDate\":");
    push_str(buf, &crate::time::iso_timestamp(meta.received_at));
    buf.extend_from_slice(b",\"submitterId\":");
    match meta.submitter_id {
        Some(s) => push_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"submitterName\":");
    match meta.submitter_name {
        Some(s) => push_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"attachmentsPresent\":");
    push_i64(buf, meta.attachments_present);
    buf.extend_from_slice(b",\"attachmentsExpected\":");
    push_i64(buf, meta.attachments_expected);
    buf.extend_from_slice(b",\"status\":null,\"reviewState\":");
    push_str(buf, meta.review_state);
    buf.extend_from_slice(b",\"deviceId\":");
    match device {
        Some(s) => push_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"edits\":");
    push_i64(buf, meta.edits);
    buf.extend_from_slice(b",\"formVersion\":");
    push_str(buf, meta.form_version);
    buf.extend_from_slice(b",\"instanceId\":");
    push_str(buf, meta.instance_id);
    buf.push(b'}');
}

/// A streamed JSON array of submissions.
pub struct JsonWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    count: u64,
}

struct Record<'r, 'a> {
    by_path: HashMap<&'r str, &'r Typed<'a>>,
    /// Every repeat instance of the record (`/data/r[2]`), enclosing ones included.
    instances: Vec<&'r str>,
}

impl<W: Write> JsonWriter<W> {
    pub fn new(mut inner: W) -> io::Result<Self> {
        inner.write_all(b"[")?;
        Ok(JsonWriter {
            inner,
            buf: Vec::with_capacity(BUFFER + 4096),
            count: 0,
        })
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes one submission.
    pub fn record(
        &mut self,
        schema: &Schema,
        meta: &Meta<'_>,
        values: &[StoredValue<'_>],
    ) -> io::Result<()> {
        let mut rec = Record {
            by_path: HashMap::with_capacity(values.len()),
            instances: Vec::new(),
        };
        for v in values {
            rec.by_path.insert(&v.path, &v.value);
            if let Some(r) = v.repeat.as_deref() {
                for (end, _) in r.match_indices(']') {
                    let inst = &r[..=end];
                    if !rec.instances.contains(&inst) {
                        rec.instances.push(inst);
                    }
                }
            }
        }
        if self.count > 0 {
            self.buf.push(b',');
        }
        self.buf.extend_from_slice(b"\n{\"__id\":");
        push_str(&mut self.buf, meta.key);
        let root = format!("/{}", schema.root);
        write_children(&mut self.buf, schema, &schema.tree, &root, &rec);
        self.buf.extend_from_slice(b",\"__system\":");
        let device = schema
            .device_field
            .and_then(|f| rec.by_path.get(schema.fields[f].path.as_str()))
            .and_then(|v| match v {
                Typed::Text(s) => Some(&**s),
                _ => None,
            });
        push_system(&mut self.buf, meta, device);
        self.buf.push(b'}');
        self.count += 1;
        if self.buf.len() >= BUFFER {
            self.inner.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Closes the array and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.extend_from_slice(b"\n]\n");
        self.inner.write_all(&self.buf)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Writes `,"name":value` for each child (the object's braces are the caller's).
fn write_children(
    buf: &mut Vec<u8>,
    schema: &Schema,
    nodes: &[Node],
    at: &str,
    rec: &Record<'_, '_>,
) {
    for n in nodes {
        buf.push(b',');
        match n {
            Node::Field(f) => {
                let field = &schema.fields[*f];
                push_str(buf, &field.name);
                buf.push(b':');
                let path = format!("{at}/{}", field.name);
                push_value(buf, field.kind, rec.by_path.get(path.as_str()).copied());
            }
            Node::Group { name, children } => {
                push_str(buf, name);
                buf.extend_from_slice(b":{");
                let inner = format!("{at}/{name}");
                let start = buf.len();
                write_children(buf, schema, children, &inner, rec);
                // The children wrote a leading comma; objects do not start with one.
                if buf.len() > start {
                    buf.remove(start);
                }
                buf.push(b'}');
            }
            Node::Repeat { name, children, .. } => {
                push_str(buf, name);
                buf.extend_from_slice(b":[");
                let prefix = format!("{at}/{name}[");
                let mut found: Vec<(u64, &str)> = rec
                    .instances
                    .iter()
                    .filter_map(|i| {
                        let n = i.strip_prefix(prefix.as_str())?.strip_suffix(']')?;
                        n.parse().ok().map(|n| (n, *i))
                    })
                    .collect();
                found.sort_unstable();
                for (k, (_, inst)) in found.iter().enumerate() {
                    if k > 0 {
                        buf.push(b',');
                    }
                    buf.push(b'{');
                    let start = buf.len();
                    write_children(buf, schema, children, inst, rec);
                    if buf.len() > start {
                        buf.remove(start);
                    }
                    buf.push(b'}');
                }
                buf.push(b']');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_close_and_turn_counterclockwise() {
        let clockwise = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)];
        let r = ring(&clockwise).unwrap();
        assert_eq!(r.first(), r.last());
        let area: f64 = r
            .windows(2)
            .map(|w| w[0].1 * w[1].0 - w[1].1 * w[0].0)
            .sum();
        assert!(area > 0.0, "{r:?}");
        assert!(ring(&[(0.0, 0.0), (1.0, 1.0)]).is_none());
    }
}
