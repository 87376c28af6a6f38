//! One record flattened into the rows of one table, written cell by cell to a [`CellSink`].

use crate::schema::{FieldKind, Schema, ROOT_TAIL};
use crate::values::{StoredValue, Typed};
use std::io;

/// Where table cells go: a CSV file, an XLSX sheet, a JSON object. Cells come in column order,
/// every row has all its cells (an empty one is [`CellSink::empty`]).
pub trait CellSink {
    fn start_row(&mut self) -> io::Result<()>;
    fn empty(&mut self) -> io::Result<()>;
    fn text(&mut self, s: &str) -> io::Result<()>;
    fn int(&mut self, v: i64) -> io::Result<()>;
    fn num(&mut self, v: f64) -> io::Result<()>;
    /// A calendar date, `YYYY-MM-DD` (checked at ingest).
    fn date(&mut self, ymd: &str) -> io::Result<()>;
    /// An instant, in Unix seconds (UTC).
    fn timestamp(&mut self, unix: i64) -> io::Result<()>;
    fn end_row(&mut self) -> io::Result<()>;
}

/// A record's system fields.
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    /// The record's stable key: the `instanceID` of its first version (`KEY` in ODK Central).
    pub key: &'a str,
    /// The `instanceID` of this version.
    pub instance_id: &'a str,
    /// When it was received, in Unix seconds.
    pub received_at: i64,
    /// Who sent it: `app:ID` (an app user) or `user:ID` (an account).
    pub submitter_id: Option<&'a str>,
    pub submitter_name: Option<&'a str>,
    pub attachments_present: i64,
    pub attachments_expected: i64,
    pub review_state: &'a str,
    /// How many times the record was edited (versions after the first).
    pub edits: i64,
    pub form_version: &'a str,
}

/// Writes the header row of a table.
pub fn write_header(schema: &Schema, table: usize, sink: &mut impl CellSink) -> io::Result<()> {
    sink.start_row()?;
    for h in &schema.tables[table].headers {
        sink.text(h)?;
    }
    sink.end_row()
}

/// The HXL hashtag row of table `table`: each tagged question's hashtag over its column (a
/// geopoint's latitude and longitude columns get `+lat` and `+lon`, its altitude and accuracy
/// none), system columns untagged. `None` when no question of the table is tagged: a row of
/// blanks is not HXL.
pub fn hxl_row(schema: &Schema, table: usize) -> Option<Vec<String>> {
    let t = &schema.tables[table];
    let mut row = vec![String::new(); t.headers.len()];
    let mut any = false;
    for &f in &t.fields {
        let field = &schema.fields[f];
        let Some(tag) = &field.hxl else { continue };
        any = true;
        match field.kind {
            FieldKind::Geopoint => {
                row[field.col] = format!("{tag}+lat");
                row[field.col + 1] = format!("{tag}+lon");
            }
            _ => row[field.col] = tag.clone(),
        }
    }
    any.then_some(row)
}

/// Writes the HXL hashtag row of a table after its header, when it has one.
pub fn write_hxl_row(schema: &Schema, table: usize, sink: &mut impl CellSink) -> io::Result<()> {
    let Some(row) = hxl_row(schema, table) else {
        return Ok(());
    };
    sink.start_row()?;
    for tag in &row {
        if tag.is_empty() {
            sink.empty()?;
        } else {
            sink.text(tag)?;
        }
    }
    sink.end_row()
}

/// Removes the `[n]` of repeat segments: `/d/r[2]/x` → `/d/r/x`.
pub(crate) fn strip_indices(path: &str, out: &mut String) {
    out.clear();
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '[' => skipping = true,
            ']' if skipping => skipping = false,
            _ if !skipping => out.push(c),
            _ => {}
        }
    }
}

/// Flattens records, reusing its buffers from one record to the next.
pub struct Flattener<'s> {
    schema: &'s Schema,
    /// Per field: 1 + the index of its value in the current record (0: none).
    slots: Vec<u32>,
    path_buf: String,
    /// The instances of the current table in the current record.
    instances: Vec<String>,
}

impl<'s> Flattener<'s> {
    pub fn new(schema: &'s Schema) -> Self {
        Flattener {
            schema,
            slots: vec![0; schema.fields.len()],
            path_buf: String::new(),
            instances: Vec::new(),
        }
    }

    pub fn schema(&self) -> &'s Schema {
        self.schema
    }

    /// Writes the root table's row of a record.
    pub fn root_row(
        &mut self,
        meta: &Meta<'_>,
        values: &[StoredValue<'_>],
        sink: &mut impl CellSink,
    ) -> io::Result<()> {
        self.fill_root(values);
        let schema = self.schema;
        sink.start_row()?;
        sink.timestamp(meta.received_at)?;
        self.write_fields(0, values, sink)?;
        debug_assert_eq!(ROOT_TAIL.len(), 10);
        sink.text(meta.key)?;
        opt_text(sink, meta.submitter_id)?;
        opt_text(sink, meta.submitter_name)?;
        sink.int(meta.attachments_present)?;
        sink.int(meta.attachments_expected)?;
        sink.empty()?; // Status: only for encrypted submissions in ODK Central.
        sink.text(meta.review_state)?;
        let device = schema
            .device_field
            .and_then(|f| self.value_of(f, values))
            .and_then(|v| match v {
                Typed::Text(s) => Some(&**s),
                _ => None,
            });
        opt_text(sink, device)?;
        sink.int(meta.edits)?;
        sink.text(meta.form_version)?;
        sink.end_row()
    }

    /// Fills the slots of root fields from a record's values.
    pub(crate) fn fill_root(&mut self, values: &[StoredValue<'_>]) {
        self.slots.fill(0);
        for (i, v) in values.iter().enumerate() {
            if v.repeat.is_some() {
                continue;
            }
            if let Some(f) = self.schema.field_at(&v.path) {
                if self.schema.fields[f].table == 0 {
                    self.slots[f] = i as u32 + 1;
                }
            }
        }
    }

    /// The value of a field in the record whose slots are filled.
    pub(crate) fn value_of<'v, 'a>(
        &self,
        field: usize,
        values: &'v [StoredValue<'a>],
    ) -> Option<&'v Typed<'a>> {
        match self.slots[field] {
            0 => None,
            i => values.get(i as usize - 1).map(|v| &v.value),
        }
    }

    fn write_fields(
        &self,
        table: usize,
        values: &[StoredValue<'_>],
        sink: &mut impl CellSink,
    ) -> io::Result<()> {
        for &f in &self.schema.tables[table].fields {
            write_field(sink, &self.schema.fields[f], self.value_of(f, values))?;
        }
        Ok(())
    }

    /// Writes the rows of a repeat table for a record; returns how many.
    pub fn repeat_rows(
        &mut self,
        table: usize,
        meta: &Meta<'_>,
        values: &[StoredValue<'_>],
        sink: &mut impl CellSink,
    ) -> io::Result<usize> {
        let schema = self.schema;
        let Some(repeat_path) = schema.tables[table].repeat.as_deref() else {
            return Ok(0);
        };
        // The instances of this repeat, in order of appearance (an instance holding only a
        // nested repeat counts too).
        self.instances.clear();
        for v in values {
            let Some(r) = v.repeat.as_deref() else {
                continue;
            };
            for (end, _) in r.match_indices(']') {
                let prefix = &r[..=end];
                strip_indices(prefix, &mut self.path_buf);
                if self.path_buf == repeat_path && !self.instances.iter().any(|i| i == prefix) {
                    self.instances.push(prefix.to_owned());
                }
            }
        }
        let root_prefix = format!("/{}", schema.root);
        let instances = std::mem::take(&mut self.instances);
        for inst in &instances {
            self.slots.fill(0);
            for (i, v) in values.iter().enumerate() {
                if v.repeat.as_deref() != Some(inst.as_str()) {
                    continue;
                }
                strip_indices(&v.path, &mut self.path_buf);
                if let Some(f) = schema.field_at(&self.path_buf) {
                    if schema.fields[f].table == table {
                        self.slots[f] = i as u32 + 1;
                    }
                }
            }
            sink.start_row()?;
            self.write_fields(table, values, sink)?;
            let below = inst.strip_prefix(&root_prefix).unwrap_or(inst);
            // The parent: the enclosing repeat instance, or the record itself.
            let parent = below
                .rfind('/')
                .map(|slash| &below[..slash])
                .and_then(|p| p.rfind(']').map(|end| &p[..=end]));
            match parent {
                Some(p) => sink.text(&format!("{}{p}", meta.key))?,
                None => sink.text(meta.key)?,
            }
            sink.text(&format!("{}{below}", meta.key))?;
            sink.end_row()?;
        }
        let n = instances.len();
        self.instances = instances;
        Ok(n)
    }
}

fn opt_text(sink: &mut impl CellSink, v: Option<&str>) -> io::Result<()> {
    match v {
        Some(s) => sink.text(s),
        None => sink.empty(),
    }
}

/// A geotrace or geoshape as ODK writes it: `lat lon;lat lon`.
pub(crate) fn points_text(points: &[(f64, f64)]) -> String {
    let mut s = String::new();
    for (i, (lat, lon)) in points.iter().enumerate() {
        if i > 0 {
            s.push(';');
        }
        s.push_str(&format!("{lat} {lon}"));
    }
    s
}

/// The text of a value, as ODK would have sent it.
pub fn value_text(v: &Typed<'_>) -> String {
    match v {
        Typed::Empty => String::new(),
        Typed::Text(s)
        | Typed::Date(s)
        | Typed::Time(s)
        | Typed::DateTime(s)
        | Typed::Choice(s)
        | Typed::File(s) => s.to_string(),
        Typed::Int(i) => i.to_string(),
        Typed::Decimal(d) => d.to_string(),
        Typed::Geopoint { lat, lon, alt, acc } => {
            let mut s = format!("{lat} {lon}");
            if let Some(a) = alt {
                s.push_str(&format!(" {a}"));
            }
            if let Some(a) = acc {
                s.push_str(&format!(" {a}"));
            }
            s
        }
        Typed::Geotrace(p) => points_text(p),
        Typed::Choices(c) => join_choices(c),
    }
}

fn join_choices(c: &[crate::values::Str<'_>]) -> String {
    let mut s = String::new();
    for (i, x) in c.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(x);
    }
    s
}

/// Writes one field's cells (its `width` of them).
pub(crate) fn write_field(
    sink: &mut impl CellSink,
    field: &crate::schema::Field,
    value: Option<&Typed<'_>>,
) -> io::Result<()> {
    let value = value.filter(|v| !v.is_empty());
    match (field.kind, value) {
        (FieldKind::Geopoint, Some(Typed::Geopoint { lat, lon, alt, acc })) => {
            sink.num(*lat)?;
            sink.num(*lon)?;
            match alt {
                Some(a) => sink.num(*a)?,
                None => sink.empty()?,
            }
            match acc {
                Some(a) => sink.num(*a)?,
                None => sink.empty()?,
            }
            return Ok(());
        }
        (FieldKind::SelectMultiple, Some(Typed::Choices(chosen))) => {
            sink.text(&join_choices(chosen))?;
            for c in &field.choices {
                sink.int(i64::from(chosen.iter().any(|x| &**x == c)))?;
            }
            return Ok(());
        }
        (FieldKind::SelectMultiple, Some(Typed::Choice(one))) => {
            sink.text(one)?;
            for c in &field.choices {
                sink.int(i64::from(&**one == c))?;
            }
            return Ok(());
        }
        _ => {}
    }
    // The first cell: the value as its own type.
    match value {
        None => sink.empty()?,
        Some(Typed::Int(i)) => sink.int(*i)?,
        Some(Typed::Decimal(d)) => sink.num(*d)?,
        Some(Typed::Date(s)) => sink.date(s)?,
        Some(
            Typed::Text(s)
            | Typed::Time(s)
            | Typed::DateTime(s)
            | Typed::Choice(s)
            | Typed::File(s),
        ) => sink.text(s)?,
        Some(other) => sink.text(&value_text(other))?,
    }
    // The rest, when the value did not fill them: geopoint parts empty, choice flags 0.
    match field.kind {
        FieldKind::SelectMultiple => {
            for _ in &field.choices {
                sink.int(0)?;
            }
        }
        _ => {
            for _ in 1..field.width {
                sink.empty()?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::schema::Schema;

    #[test]
    fn hxl_row_tags_questions_and_geopoint_parts_and_skips_untagged_tables() {
        let md = "| survey |  |  |  |  |\n\
                  |  | type | name | label | hxl |\n\
                  |  | text | village | Village | #loc+name |\n\
                  |  | geopoint | gps | GPS | #geo |\n\
                  |  | integer | n | N |  |\n\
                  |  | begin repeat | child | Child |  |\n\
                  |  | integer | age | Age |  |\n\
                  |  | end repeat |  |  |  |\n";
        let compiled = baraza_xlsform::compile_file(md.as_bytes(), "f.md");
        assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
        let schema = Schema::new(&compiled.form.unwrap(), "f");
        let row = super::hxl_row(&schema, 0).unwrap();
        let headers = &schema.tables[0].headers;
        assert_eq!(row.len(), headers.len());
        let tag = |h: &str| row[headers.iter().position(|x| x == h).unwrap()].as_str();
        assert_eq!(tag("village"), "#loc+name");
        assert_eq!(tag("gps-Latitude"), "#geo+lat");
        assert_eq!(tag("gps-Longitude"), "#geo+lon");
        assert_eq!(tag("gps-Altitude"), "");
        assert_eq!(tag("n"), "");
        assert_eq!(tag("SubmissionDate"), "");
        assert_eq!(tag("KEY"), "");
        // The repeat's table tags nothing: no row of blanks.
        assert_eq!(super::hxl_row(&schema, 1), None);
    }

    #[test]
    fn strips_repeat_indices() {
        let mut out = String::new();
        for (input, want) in [
            ("/d/r[2]/x", "/d/r/x"),
            ("/d/a/b", "/d/a/b"),
            ("/d/r[12]/s[1]", "/d/r/s"),
        ] {
            super::strip_indices(input, &mut out);
            assert_eq!(out, want);
        }
    }
}
