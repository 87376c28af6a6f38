//! The shape of a form's exports, from its model: fields, tables (the root and one per repeat),
//! column headers as ODK Central names them, and the tree that nested documents follow.
//!
//! Fields are the instance's leaves in document order, exactly as the XForm writer lays the
//! instance out: questions (but not `audit`, which lives in `meta`), a select's `NAME_other` just
//! after it, a repeat's generated `NAME_count` just before it, then `meta/audit`,
//! `meta/instanceID` and `meta/instanceName` when the form has them.

use baraza_xlsform::model::{Form, Group, Node as MNode, QType, Question};
use std::collections::HashMap;

/// How a field's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Int,
    Decimal,
    Date,
    Time,
    DateTime,
    Geopoint,
    Geotrace,
    Geoshape,
    SelectOne,
    SelectMultiple,
    File,
}

impl FieldKind {
    fn of(q: &Question) -> FieldKind {
        use QType::*;
        match q.qtype {
            SelectOne | SelectOneFromFile | SelectOneExternal => return FieldKind::SelectOne,
            SelectMultiple | SelectMultipleFromFile | Rank => return FieldKind::SelectMultiple,
            _ => {}
        }
        match q.qtype.bind_type() {
            "int" => FieldKind::Int,
            "decimal" => FieldKind::Decimal,
            "date" => FieldKind::Date,
            "time" => FieldKind::Time,
            "dateTime" => FieldKind::DateTime,
            "geopoint" => FieldKind::Geopoint,
            "geotrace" => FieldKind::Geotrace,
            "geoshape" => FieldKind::Geoshape,
            "binary" => FieldKind::File,
            _ => FieldKind::Text,
        }
    }

    /// Whether values compare as numbers.
    pub fn is_number(self) -> bool {
        matches!(self, FieldKind::Int | FieldKind::Decimal)
    }

    pub fn is_geo(self) -> bool {
        matches!(
            self,
            FieldKind::Geopoint | FieldKind::Geotrace | FieldKind::Geoshape
        )
    }
}

/// A leaf of the instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The element's name.
    pub name: String,
    /// Its path without repeat indices, e.g. `/data/household/size`.
    pub path: String,
    pub kind: FieldKind,
    /// The choices of a select_multiple whose list the form holds (none for lists from files).
    pub choices: Vec<String>,
    /// Labels of the question per language (`default` when the form has no languages).
    pub labels: Vec<(String, String)>,
    /// Whether this is device metadata (`start`, `deviceid`, `meta/instanceID`…).
    pub metadata: bool,
    /// The table it belongs to (0 is the root table).
    pub table: usize,
    /// Its first column in that table.
    pub col: usize,
    /// How many columns it takes.
    pub width: usize,
    /// Its column name in its table: the path below the table, joined with `-`.
    pub header: String,
    /// The question's HXL hashtag (the XLSForm's `hxl` column), for the hashtag row.
    pub hxl: Option<String>,
}

/// One output table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file name without extension: `FORM` or `FORM-REPEAT` (`~2`, `~3` when repeat names
    /// repeat), made safe for any file system.
    pub file_stem: String,
    /// An XLSX sheet name: at most 31 characters, none of `[]:*?/\`, unique in the workbook.
    pub sheet: String,
    /// The repeat's path (without indices); `None` for the root table.
    pub repeat: Option<String>,
    /// The enclosing repeat's table (0 for a top-level repeat); `None` for the root table.
    pub parent: Option<usize>,
    /// The table's fields, in column order.
    pub fields: Vec<usize>,
    /// Every column header, system columns included.
    pub headers: Vec<String>,
}

/// The schema's tree, for nested documents.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Field(usize),
    Group {
        name: String,
        children: Vec<Node>,
    },
    Repeat {
        name: String,
        table: usize,
        children: Vec<Node>,
    },
}

/// The root table's system columns after the fields, as ODK Central writes them.
pub const ROOT_TAIL: [&str; 10] = [
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
];

/// A form's export shape.
#[derive(Debug, Clone)]
pub struct Schema {
    pub form_id: String,
    /// The instance's root element.
    pub root: String,
    pub fields: Vec<Field>,
    pub tables: Vec<Table>,
    pub tree: Vec<Node>,
    /// The form's `deviceid` metadata field, which fills the `DeviceID` column.
    pub device_field: Option<usize>,
    by_path: HashMap<String, usize>,
}

struct Builder<'f> {
    form: &'f Form,
    fields: Vec<Field>,
    tables: Vec<Table>,
    /// Path of each table (the root path for table 0).
    table_paths: Vec<String>,
}

impl Builder<'_> {
    fn add_field(
        &mut self,
        name: &str,
        path: String,
        kind: FieldKind,
        table: usize,
        q: Option<&Question>,
    ) -> usize {
        let choices = match (kind, q) {
            (FieldKind::SelectMultiple, Some(q)) if q.qtype == QType::SelectMultiple => q
                .list
                .as_deref()
                .and_then(|l| self.form.list(l))
                .map(|l| l.choices.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let labels = q.map(|q| q.texts.label.0.clone()).unwrap_or_default();
        let base = &self.table_paths[table];
        let header = path
            .strip_prefix(base.as_str())
            .unwrap_or(&path)
            .trim_start_matches('/')
            .replace('/', "-");
        let width = match kind {
            FieldKind::Geopoint => 4,
            FieldKind::SelectMultiple => 1 + choices.len(),
            _ => 1,
        };
        let metadata = q.is_none_or(|q| q.qtype.is_metadata());
        let idx = self.fields.len();
        self.fields.push(Field {
            name: name.to_owned(),
            path,
            kind,
            choices,
            labels,
            metadata,
            table,
            col: 0,
            width,
            header,
            hxl: q.and_then(|q| q.hxl.clone()),
        });
        self.tables[table].fields.push(idx);
        idx
    }

    fn walk(&mut self, nodes: &[MNode], path: &str, table: usize) -> Vec<Node> {
        let mut out = Vec::new();
        for n in nodes {
            match n {
                MNode::Question(q) => {
                    if q.qtype == QType::Audit {
                        continue;
                    }
                    let p = format!("{path}/{}", q.name);
                    out.push(Node::Field(self.add_field(
                        &q.name,
                        p,
                        FieldKind::of(q),
                        table,
                        Some(q),
                    )));
                    if q.or_other {
                        let name = format!("{}_other", q.name);
                        let p = format!("{path}/{name}");
                        out.push(Node::Field(self.add_field(
                            &name,
                            p,
                            FieldKind::Text,
                            table,
                            None,
                        )));
                    }
                }
                MNode::Group(g) => {
                    let p = format!("{path}/{}", g.name);
                    if g.repeat {
                        if count_node(g) {
                            let name = format!("{}_count", g.name);
                            let cp = format!("{path}/{name}");
                            out.push(Node::Field(self.add_field(
                                &name,
                                cp,
                                FieldKind::Text,
                                table,
                                None,
                            )));
                        }
                        let t = self.tables.len();
                        self.tables.push(Table {
                            file_stem: String::new(),
                            sheet: String::new(),
                            repeat: Some(p.clone()),
                            parent: Some(table),
                            fields: Vec::new(),
                            headers: Vec::new(),
                        });
                        self.table_paths.push(p.clone());
                        let children = self.walk(&g.children, &p, t);
                        out.push(Node::Repeat {
                            name: g.name.clone(),
                            table: t,
                            children,
                        });
                    } else {
                        let children = self.walk(&g.children, &p, table);
                        out.push(Node::Group {
                            name: g.name.clone(),
                            children,
                        });
                    }
                }
            }
        }
        out
    }
}

/// Whether a repeat has a generated `NAME_count` node (pyxform's rule, as the XForm writer
/// applies it: unless the count is a single `${reference}`).
fn count_node(g: &Group) -> bool {
    match g.repeat_count.as_deref().map(str::trim) {
        None => false,
        Some(c) => !(c.starts_with("${") && c.ends_with('}') && c.matches("${").count() == 1),
    }
}

/// A name made safe for a file: no path separators, reserved or control characters, no
/// leading dot, at most 100 characters.
pub fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(100)
        .collect();
    while out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.trim().is_empty() {
        out = "export".to_owned();
    }
    out
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, not starting or ending
/// with an apostrophe, not empty.
fn sheet_name(name: &str, taken: &[String]) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "[]:*?/\\".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim_matches('\'');
    let clean = if clean.is_empty() { "Sheet" } else { clean };
    let mut k = 1;
    loop {
        let suffix = if k == 1 {
            String::new()
        } else {
            format!(" ({k})")
        };
        let room = 31 - suffix.chars().count();
        let candidate: String = clean.chars().take(room).collect::<String>() + &suffix;
        if !taken.iter().any(|t| t.eq_ignore_ascii_case(&candidate)) {
            return candidate;
        }
        k += 1;
    }
}

impl Schema {
    /// The export shape of a form version, for the form known as `form_id`.
    pub fn new(form: &Form, form_id: &str) -> Schema {
        let root_path = format!("/{}", form.root);
        let mut b = Builder {
            form,
            fields: Vec::new(),
            tables: vec![Table {
                file_stem: String::new(),
                sheet: String::new(),
                repeat: None,
                parent: None,
                fields: Vec::new(),
                headers: Vec::new(),
            }],
            table_paths: vec![root_path.clone()],
        };
        let mut tree = b.walk(&form.children, &root_path, 0);
        // `meta`, as the XForm writer makes it.
        let audit = form.questions().iter().any(|q| q.qtype == QType::Audit);
        let mut meta = Vec::new();
        let meta_path = format!("{root_path}/meta");
        if audit {
            meta.push(("audit", FieldKind::File));
        }
        if !form.omit_instance_id {
            meta.push(("instanceID", FieldKind::Text));
        }
        if form.instance_name.is_some() {
            meta.push(("instanceName", FieldKind::Text));
        }
        if !meta.is_empty() {
            let children = meta
                .into_iter()
                .map(|(name, kind)| {
                    Node::Field(b.add_field(name, format!("{meta_path}/{name}"), kind, 0, None))
                })
                .collect();
            tree.push(Node::Group {
                name: "meta".into(),
                children,
            });
        }

        let Builder {
            mut fields,
            mut tables,
            ..
        } = b;
        // Columns.
        for (t, table) in tables.iter_mut().enumerate() {
            let mut headers = Vec::new();
            if t == 0 {
                headers.push("SubmissionDate".to_owned());
            }
            for &f in &table.fields {
                let field = &mut fields[f];
                field.col = headers.len();
                match field.kind {
                    FieldKind::Geopoint => {
                        for part in ["Latitude", "Longitude", "Altitude", "Accuracy"] {
                            headers.push(format!("{}-{part}", field.header));
                        }
                    }
                    FieldKind::SelectMultiple => {
                        headers.push(field.header.clone());
                        for c in &field.choices {
                            headers.push(format!("{}/{c}", field.header));
                        }
                    }
                    _ => headers.push(field.header.clone()),
                }
            }
            if t == 0 {
                headers.extend(ROOT_TAIL.iter().map(|s| (*s).to_owned()));
            } else {
                headers.push("PARENT_KEY".into());
                headers.push("KEY".into());
            }
            table.headers = headers;
        }
        // Names: `FORM.csv`, `FORM-REPEAT.csv` (`~n` when two repeats share a name).
        let repeat_name = |t: &Table| -> String {
            t.repeat
                .as_deref()
                .and_then(|p| p.rsplit('/').next())
                .unwrap_or("")
                .to_owned()
        };
        let names: Vec<String> = tables.iter().map(repeat_name).collect();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut sheets: Vec<String> = Vec::new();
        for (t, table) in tables.iter_mut().enumerate() {
            if t == 0 {
                table.file_stem = safe_file_name(form_id);
                table.sheet = sheet_name(form_id, &sheets);
            } else {
                let name = names[t].as_str();
                let total = names.iter().filter(|n| n.as_str() == name).count();
                let stem = if total > 1 {
                    let k = seen.entry(name).or_insert(0);
                    *k += 1;
                    format!("{form_id}-{name}~{k}")
                } else {
                    format!("{form_id}-{name}")
                };
                table.file_stem = safe_file_name(&stem);
                table.sheet = sheet_name(name, &sheets);
            }
            sheets.push(table.sheet.clone());
        }
        let by_path = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let device_field = fields.iter().position(|f| {
            f.table == 0
                && form.questions().iter().any(|q| {
                    q.qtype == QType::DeviceId && f.path == format!("{root_path}/{}", q.name)
                })
        });
        Schema {
            form_id: form_id.to_owned(),
            root: form.root.clone(),
            fields,
            tables,
            tree,
            device_field,
            by_path,
        }
    }

    /// The field at a path without repeat indices.
    pub fn field_at(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// A field of the root table named by its path below the root (`household/size`) or, when
    /// no other root field has that name, by its name (`size`).
    pub fn root_field(&self, name_or_path: &str) -> Option<usize> {
        let by_path = self
            .field_at(&format!(
                "/{}/{}",
                self.root,
                name_or_path.trim_matches('/')
            ))
            .filter(|&f| self.fields[f].table == 0);
        by_path.or_else(|| {
            let mut found = self
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| f.table == 0 && f.name == name_or_path);
            match (found.next(), found.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        })
    }

    /// A field's path below the root, as filters name it (`household/size`).
    pub fn relative_path(&self, field: usize) -> &str {
        let p = &self.fields[field].path;
        p.strip_prefix(&format!("/{}/", self.root)).unwrap_or(p)
    }

    /// The root table's geopoint, geotrace and geoshape fields, in form order.
    pub fn geo_fields(&self) -> impl Iterator<Item = usize> + '_ {
        self.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.table == 0 && f.kind.is_geo())
            .map(|(i, _)| i)
    }

    /// The field a map shows by default: the first geopoint outside repeats, else the first
    /// geotrace or geoshape.
    pub fn default_geo(&self) -> Option<usize> {
        self.geo_fields()
            .find(|&f| self.fields[f].kind == FieldKind::Geopoint)
            .or_else(|| self.geo_fields().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_sheet_names_are_safe() {
        assert_eq!(safe_file_name("a/b\\c:d"), "a_b_c_d");
        assert_eq!(safe_file_name("..x"), "_.x");
        assert_eq!(safe_file_name(""), "export");
        let taken = vec!["Repeat".to_owned()];
        assert_eq!(sheet_name("repeat", &taken), "repeat (2)");
        assert_eq!(sheet_name("a[b]:c", &[]), "a_b__c");
        assert_eq!(sheet_name(&"x".repeat(40), &[]).chars().count(), 31);
        assert_eq!(sheet_name("''", &[]), "Sheet");
    }
}
