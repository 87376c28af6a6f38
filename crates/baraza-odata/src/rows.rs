//! The rows of a table for one submission, from its typed values.

use crate::json::Json;
use crate::query::Options;
use crate::schema::{Field, Kind, Schema, ValueType};
use crate::time::iso_ms;
use crate::{encode_uri_component, ODataError};
use baraza_openrosa::{Typed, TypedValue};
use sha1::{Digest, Sha1};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What ODK Central calls a submission's system data (`__system`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct System {
    /// When the submission (its first version) was received, Unix seconds.
    pub submission_date: i64,
    /// When its current version was received, if it was edited.
    pub updated_at: Option<i64>,
    pub submitter_id: Option<i64>,
    pub submitter_name: Option<String>,
    pub attachments_present: i64,
    pub attachments_expected: i64,
    /// In Central's words: `None` (received), `edited`, `hasIssues`, `approved`, `rejected`.
    pub review_state: Option<String>,
    pub edits: i64,
    pub form_version: String,
}

/// One submission, as the feed needs it.
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    /// The instanceID of its first version: the row's `__id`.
    pub instance_id: &'a str,
    /// The typed values of its current version.
    pub values: &'a [TypedValue],
    pub system: &'a System,
}

/// The names `__system` has, in order.
pub const SYSTEM_FIELDS: &[&str] = &[
    "submissionDate",
    "updatedAt",
    "submitterId",
    "submitterName",
    "attachmentsPresent",
    "attachmentsExpected",
    "status",
    "reviewState",
    "deviceId",
    "edits",
    "formVersion",
    "deletedAt",
];

#[derive(Debug, Clone, PartialEq)]
enum SystemSel {
    All,
    Some(Vec<String>),
    Nothing,
}

/// What `$select` keeps of a table.
#[derive(Debug, Clone, PartialEq)]
struct Selection {
    paths: HashSet<String>,
    system: SystemSel,
    parent_id: bool,
}

/// Writes the rows of one table.
#[derive(Debug, Clone)]
pub struct Renderer<'a> {
    schema: &'a Schema,
    /// The table's structural fields from the root (empty for `Submissions`).
    table: Vec<&'a Field>,
    /// For an entity path (`Submissions('…')/outer('…')/inner`), the `__id` required of each
    /// repeat of `table`.
    keys: Vec<Option<String>>,
    wkt: bool,
    expand: bool,
    select: Option<Selection>,
}

/// The name of the property that links a repeat's row to its parent: `__Submissions-id`, or
/// `__Submissions-outer-id` inside the repeat `outer`.
fn parent_key(parent: &[&Field]) -> String {
    let mut parts = vec!["Submissions".to_owned()];
    parts.extend(parent.iter().map(|f| f.odata.clone()));
    format!("__{}-id", parts.join("-"))
}

/// The part of `stack` that ends with the last repeat before its last element.
fn parent_of<'s, 'f>(stack: &'s [&'f Field]) -> &'s [&'f Field] {
    let upto = stack.len().saturating_sub(1);
    match stack[..upto].iter().rposition(|f| f.kind == Kind::Repeat) {
        Some(i) => &stack[..=i],
        None => &[],
    }
}

impl<'a> Renderer<'a> {
    /// A renderer of the table `table` (`Submissions`, `Submissions.menage.enfant`).
    pub fn new(schema: &'a Schema, table: &str, options: &Options) -> Result<Self, ODataError> {
        let stack = schema
            .table_stack(table)
            .ok_or_else(|| ODataError::NotFound(format!("no entity set {table:?}")))?;
        let keys = vec![None; stack.len()];
        Self::with_stack(schema, stack, keys, options)
    }

    /// A renderer of the rows below one submission: `path` is what follows `Submissions('…')`.
    pub fn for_entity(
        schema: &'a Schema,
        path: &[(String, Option<String>)],
        options: &Options,
    ) -> Result<Self, ODataError> {
        let name = std::iter::once("Submissions")
            .chain(path.iter().map(|(n, _)| n.as_str()))
            .collect::<Vec<_>>()
            .join(".");
        let stack = schema
            .table_stack(&name)
            .ok_or_else(|| ODataError::NotFound(format!("no entity set {name:?}")))?;
        let keys = path.iter().map(|(_, k)| k.clone()).collect();
        Self::with_stack(schema, stack, keys, options)
    }

    fn with_stack(
        schema: &'a Schema,
        table: Vec<&'a Field>,
        keys: Vec<Option<String>>,
        options: &Options,
    ) -> Result<Self, ODataError> {
        let select = match &options.select {
            None => None,
            Some(props) => Some(selection(schema, &table, props)?),
        };
        Ok(Renderer {
            schema,
            table,
            keys,
            wkt: options.wkt,
            expand: options.expand,
            select,
        })
    }

    /// The name of the table's parent-id property (`None` for `Submissions`).
    pub fn parent_key(&self) -> Option<String> {
        (!self.table.is_empty()).then(|| parent_key(parent_of(&self.table)))
    }

    /// Whether this renderer writes the `Submissions` table itself.
    pub fn is_root(&self) -> bool {
        self.table.is_empty()
    }

    /// The rows of the table for one submission, in document order.
    pub fn rows(&self, sub: &Submission<'_>) -> Vec<Json> {
        let tree = Inst::build(sub.values);
        let cx = Cx {
            r: self,
            instance_id: sub.instance_id,
        };
        if self.table.is_empty() {
            let mut stack = Vec::new();
            let mut row = cx.fields(&self.schema.fields, Some(&tree), &mut stack);
            row.push(("__id".into(), sub.instance_id.into()));
            if let Some(system) = cx.system(sub.system) {
                row.push(("__system".into(), system));
            }
            return vec![Json::Obj(row)];
        }
        let mut out = Vec::new();
        let mut stack = Vec::new();
        cx.table_rows(&tree, 0, &mut stack, &mut out);
        out
    }
}

/// A submission's values as a tree of groups and repeat instances.
#[derive(Default)]
struct Inst<'v> {
    values: HashMap<&'v str, &'v Typed>,
    groups: HashMap<&'v str, Inst<'v>>,
    repeats: HashMap<&'v str, BTreeMap<usize, Inst<'v>>>,
}

impl<'v> Inst<'v> {
    fn build(values: &'v [TypedValue]) -> Inst<'v> {
        let mut root = Inst::default();
        for v in values {
            // The first segment is the root element.
            let segs: Vec<&str> = v
                .path
                .split('/')
                .filter(|s| !s.is_empty())
                .skip(1)
                .collect();
            root.insert(&segs, &v.value);
        }
        root
    }

    fn insert(&mut self, segs: &[&'v str], value: &'v Typed) {
        let Some((first, rest)) = segs.split_first() else {
            return;
        };
        let (name, index) = match first.strip_suffix(']').and_then(|s| s.split_once('[')) {
            Some((n, i)) => (n, i.parse::<usize>().ok()),
            None => (*first, None),
        };
        if rest.is_empty() {
            self.values.insert(name, value);
        } else if let Some(i) = index {
            self.repeats
                .entry(name)
                .or_default()
                .entry(i)
                .or_default()
                .insert(rest, value);
        } else {
            self.groups.entry(name).or_default().insert(rest, value);
        }
    }
}

struct Cx<'r, 'a> {
    r: &'r Renderer<'a>,
    instance_id: &'r str,
}

/// A structural field on the way down, with the (0-based) iteration of a repeat.
type Step<'a> = (&'a Field, usize);

fn hash_id(instance_id: &str, stack: &[Step<'_>]) -> String {
    if stack.is_empty() {
        return instance_id.to_owned();
    }
    let mut parts = vec![format!("Submissions#{instance_id}")];
    for (f, k) in stack {
        parts.push(match f.kind {
            Kind::Repeat => format!("{}#{k}", f.name),
            _ => format!("{}#", f.name),
        });
    }
    hex::encode(Sha1::digest(parts.join("%%").as_bytes()))
}

impl<'a> Cx<'_, 'a> {
    fn selected(&self, f: &Field) -> bool {
        self.r
            .select
            .as_ref()
            .is_none_or(|s| s.paths.contains(&f.path))
    }

    fn fields(
        &self,
        fields: &'a [Field],
        inst: Option<&Inst<'_>>,
        stack: &mut Vec<Step<'a>>,
    ) -> Vec<(String, Json)> {
        let mut out = Vec::new();
        for f in fields {
            if !self.selected(f) {
                continue;
            }
            match f.kind {
                Kind::Value(t) => {
                    let v = inst.and_then(|i| i.values.get(f.name.as_str()));
                    out.push((
                        f.odata.clone(),
                        v.map_or(Json::Null, |v| value(v, t, self.r.wkt)),
                    ));
                }
                Kind::Group => {
                    stack.push((f, 0));
                    let sub = self.fields(
                        &f.children,
                        inst.and_then(|i| i.groups.get(f.name.as_str())),
                        stack,
                    );
                    stack.pop();
                    out.push((f.odata.clone(), Json::Obj(sub)));
                }
                Kind::Repeat => {
                    let Some(instances) = inst.and_then(|i| i.repeats.get(f.name.as_str())) else {
                        continue;
                    };
                    if instances.is_empty() {
                        continue;
                    }
                    stack.push((f, 0));
                    out.push((
                        format!("{}@odata.navigationLink", f.odata),
                        Json::Str(self.link(stack)),
                    ));
                    stack.pop();
                    if self.r.expand {
                        let mut bags = Vec::new();
                        for (k, child) in instances.values().enumerate() {
                            stack.push((f, k));
                            let mut bag = self.fields(&f.children, Some(child), stack);
                            bag.push(("__id".into(), Json::Str(hash_id(self.instance_id, stack))));
                            stack.pop();
                            bags.push(Json::Obj(bag));
                        }
                        out.push((f.odata.clone(), Json::Arr(bags)));
                    }
                }
            }
        }
        out
    }

    /// `Submissions('uuid%3A…')/menage/enfant`, with the ids of enclosing repeat instances.
    fn link(&self, stack: &[Step<'_>]) -> String {
        let mut parts = vec![format!(
            "Submissions('{}')",
            encode_uri_component(self.instance_id)
        )];
        for (i, (f, _)) in stack.iter().enumerate() {
            if f.kind == Kind::Repeat && i + 1 < stack.len() {
                parts.push(format!(
                    "{}('{}')",
                    f.odata,
                    hash_id(self.instance_id, &stack[..=i])
                ));
            } else {
                parts.push(f.odata.clone());
            }
        }
        parts.join("/")
    }

    fn table_rows(
        &self,
        inst: &Inst<'_>,
        depth: usize,
        stack: &mut Vec<Step<'a>>,
        out: &mut Vec<Json>,
    ) {
        let f = self.r.table[depth];
        let last = depth + 1 == self.r.table.len();
        match f.kind {
            Kind::Group => {
                if let Some(g) = inst.groups.get(f.name.as_str()) {
                    stack.push((f, 0));
                    self.table_rows(g, depth + 1, stack, out);
                    stack.pop();
                }
            }
            Kind::Repeat => {
                let Some(instances) = inst.repeats.get(f.name.as_str()) else {
                    return;
                };
                for (k, child) in instances.values().enumerate() {
                    stack.push((f, k));
                    let id = hash_id(self.instance_id, stack);
                    let wanted = self.r.keys.get(depth).and_then(Option::as_ref);
                    if wanted.is_none_or(|w| *w == id) {
                        if last {
                            out.push(self.bag(child, id, stack));
                        } else {
                            self.table_rows(child, depth + 1, stack, out);
                        }
                    }
                    stack.pop();
                }
            }
            Kind::Value(_) => {}
        }
    }

    fn bag(&self, inst: &Inst<'_>, id: String, stack: &mut Vec<Step<'a>>) -> Json {
        let f = stack.last().map(|(f, _)| *f);
        let children = f.map(|f| f.children.as_slice()).unwrap_or_default();
        let mut row = self.fields(children, Some(inst), stack);
        row.push(("__id".into(), Json::Str(id)));
        let show_parent = self.r.select.as_ref().is_none_or(|s| s.parent_id);
        if show_parent {
            let fields: Vec<&Field> = stack.iter().map(|(f, _)| *f).collect();
            let parent = parent_of(&fields);
            let parent_steps = &stack[..parent.len()];
            row.push((
                parent_key(parent),
                Json::Str(hash_id(self.instance_id, parent_steps)),
            ));
        }
        Json::Obj(row)
    }

    fn system(&self, s: &System) -> Option<Json> {
        let wanted: Option<&[String]> = match self.r.select.as_ref().map(|s| &s.system) {
            None | Some(SystemSel::All) => None,
            Some(SystemSel::Nothing) => return None,
            Some(SystemSel::Some(names)) => Some(names),
        };
        let mut out = Vec::new();
        for name in SYSTEM_FIELDS {
            if wanted.is_some_and(|w| !w.iter().any(|n| n == name)) {
                continue;
            }
            let v = match *name {
                "submissionDate" => Json::Str(iso_ms(s.submission_date)),
                "updatedAt" => s.updated_at.map(iso_ms).into(),
                "submitterId" => s.submitter_id.map(|i| i.to_string()).into(),
                "submitterName" => s.submitter_name.clone().into(),
                "attachmentsPresent" => Json::Int(s.attachments_present),
                "attachmentsExpected" => Json::Int(s.attachments_expected),
                "reviewState" => s.review_state.clone().into(),
                "edits" => Json::Int(s.edits),
                "formVersion" => Json::Str(s.form_version.clone()),
                // status (encryption), deviceId and deletedAt: Baraza has none.
                _ => Json::Null,
            };
            out.push(((*name).to_owned(), v));
        }
        Some(Json::Obj(out))
    }
}

/// `-07` → `-07:00`: ODK Collect writes short offsets that most tools refuse.
fn full_offset(s: &str) -> String {
    let b = s.as_bytes();
    let n = b.len();
    if n >= 3
        && matches!(b[n - 3], b'+' | b'-')
        && b[n - 2].is_ascii_digit()
        && b[n - 1].is_ascii_digit()
    {
        format!("{s}:00")
    } else {
        s.to_owned()
    }
}

fn num(f: f64) -> Json {
    Json::Float(f)
}

/// A stored value as the feed writes it.
pub fn value(v: &Typed, t: ValueType, wkt: bool) -> Json {
    match v {
        Typed::Empty => Json::Null,
        Typed::Text(s) | Typed::Choice(s) | Typed::File(s) | Typed::Date(s) | Typed::Time(s) => {
            Json::Str(s.clone())
        }
        Typed::DateTime(s) => Json::Str(full_offset(s)),
        Typed::Int(i) => Json::Int(*i),
        Typed::Decimal(f) => num(*f),
        Typed::Choices(c) => Json::Str(c.join(" ")),
        Typed::Geopoint { lat, lon, alt, acc } => {
            let mut coords = vec![*lon, *lat];
            coords.extend(alt);
            if wkt {
                let text: Vec<String> = coords.iter().map(f64::to_string).collect();
                return Json::Str(format!("POINT ({})", text.join(" ")));
            }
            let mut obj = vec![
                ("type".to_owned(), Json::from("Point")),
                (
                    "coordinates".to_owned(),
                    Json::Arr(coords.into_iter().map(num).collect()),
                ),
            ];
            if let Some(a) = acc {
                obj.push((
                    "properties".into(),
                    Json::Obj(vec![("accuracy".into(), num(*a))]),
                ));
            }
            Json::Obj(obj)
        }
        Typed::Geotrace(points) => {
            let polygon = t == ValueType::Geoshape;
            if wkt {
                let text: Vec<String> = points
                    .iter()
                    .map(|(lat, lon)| format!("{lon} {lat}"))
                    .collect();
                return Json::Str(if polygon {
                    format!("POLYGON (({}))", text.join(","))
                } else {
                    format!("LINESTRING ({})", text.join(","))
                });
            }
            let coords = Json::Arr(
                points
                    .iter()
                    .map(|(lat, lon)| Json::Arr(vec![num(*lon), num(*lat)]))
                    .collect(),
            );
            if polygon {
                Json::Obj(vec![
                    ("type".into(), "Polygon".into()),
                    ("coordinates".into(), Json::Arr(vec![coords])),
                ])
            } else {
                Json::Obj(vec![
                    ("type".into(), "LineString".into()),
                    ("coordinates".into(), coords),
                ])
            }
        }
    }
}

/// Reads `$select` for a table: the fields kept (with the groups that hold them and everything
/// in selected groups), `__system` and the parent's id.
fn selection(schema: &Schema, table: &[&Field], props: &[String]) -> Result<Selection, ODataError> {
    let mut paths = HashSet::new();
    let mut system = SystemSel::Nothing;
    let mut parent_id = false;
    let parent_name = (!table.is_empty()).then(|| {
        let fields: Vec<&Field> = table.to_vec();
        parent_key(parent_of(&fields))
    });
    let level: &[Field] = match table.last() {
        Some(f) => &f.children,
        None => &schema.fields,
    };
    for p in props {
        let p = p.as_str();
        if p == "__id" {
            continue;
        }
        if table.is_empty() && p == "__system" {
            system = SystemSel::All;
            continue;
        }
        if table.is_empty() {
            if let Some(name) = p.strip_prefix("__system/") {
                if SYSTEM_FIELDS.contains(&name) {
                    match &mut system {
                        SystemSel::All => {}
                        SystemSel::Some(v) => v.push(name.to_owned()),
                        SystemSel::Nothing => system = SystemSel::Some(vec![name.to_owned()]),
                    }
                    continue;
                }
            }
        }
        if parent_name.as_deref() == Some(p) {
            parent_id = true;
            continue;
        }
        let not_found =
            || ODataError::Invalid(format!("$select: could not find a property named {p:?}"));
        let mut fields = level;
        let mut chain: Vec<&Field> = Vec::new();
        let segs: Vec<&str> = p.split('/').collect();
        for (i, seg) in segs.iter().enumerate() {
            let f = fields
                .iter()
                .find(|f| f.odata == *seg)
                .ok_or_else(not_found)?;
            if i + 1 < segs.len() {
                match f.kind {
                    Kind::Group => {}
                    Kind::Repeat => {
                        return Err(ODataError::Unsupported(format!(
                            "$select: {p} is inside a repeat; select it from the repeat's own table"
                        )))
                    }
                    Kind::Value(_) => return Err(not_found()),
                }
            }
            chain.push(f);
            fields = &f.children;
        }
        for f in &chain {
            paths.insert(f.path.clone());
        }
        if let Some(f) = chain.last() {
            if f.kind == Kind::Group {
                add_descendants(f, &mut paths);
            }
        }
    }
    Ok(Selection {
        paths,
        system,
        parent_id,
    })
}

fn add_descendants(f: &Field, paths: &mut HashSet<String>) {
    for c in &f.children {
        paths.insert(c.path.clone());
        if c.kind == Kind::Group {
            add_descendants(c, paths);
        }
    }
}
