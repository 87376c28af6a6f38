//! A form as OData sees it: fields in the order of the XForm instance, groups as complex types,
//! repeats as entity sets; and the `$metadata` (EDMX) and service documents that describe it.

use crate::json::Json;
use crate::sanitize;
use baraza_xlsform::model::{Form, Group, Node, QType, Question};

/// The OData type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Int,
    Decimal,
    Date,
    DateTime,
    Geopoint,
    Geotrace,
    Geoshape,
}

impl ValueType {
    /// The type in `$metadata`, as ODK Central maps XForm bind types.
    pub fn edm(self) -> &'static str {
        match self {
            ValueType::String => "Edm.String",
            ValueType::Int => "Edm.Int64",
            ValueType::Decimal => "Edm.Decimal",
            ValueType::Date => "Edm.Date",
            ValueType::DateTime => "Edm.DateTimeOffset",
            ValueType::Geopoint => "Edm.GeographyPoint",
            ValueType::Geotrace => "Edm.GeographyLineString",
            ValueType::Geoshape => "Edm.GeographyPolygon",
        }
    }

    fn of(q: &Question) -> ValueType {
        match q.qtype.bind_type() {
            "int" => ValueType::Int,
            "decimal" => ValueType::Decimal,
            "date" => ValueType::Date,
            "dateTime" => ValueType::DateTime,
            "geopoint" => ValueType::Geopoint,
            "geotrace" => ValueType::Geotrace,
            "geoshape" => ValueType::Geoshape,
            _ => ValueType::String,
        }
    }
}

/// What a field is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Value(ValueType),
    /// A non-repeating group: a complex type nested in its row.
    Group,
    /// A repeat: an entity set of its own.
    Repeat,
}

/// One node of the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The XML element's name.
    pub name: String,
    /// The OData property's name ([`sanitize`]d).
    pub odata: String,
    /// The path from the root, of XML names: `/menage/enfant/age_mois`.
    pub path: String,
    pub kind: Kind,
    pub children: Vec<Field>,
}

impl Field {
    fn value(parent: &str, name: &str, t: ValueType) -> Field {
        Field {
            name: name.to_owned(),
            odata: sanitize(name),
            path: format!("{parent}/{name}"),
            kind: Kind::Value(t),
            children: Vec::new(),
        }
    }

    pub fn is_structural(&self) -> bool {
        !matches!(self.kind, Kind::Value(_))
    }
}

/// The feed's schema of one form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub xml_form_id: String,
    pub fields: Vec<Field>,
}

/// Whether a repeat has a generated `NAME_count` node (pyxform's rule: unless the count is a
/// single `${reference}`).
fn count_node(g: &Group) -> bool {
    match g.repeat_count.as_deref().map(str::trim) {
        None => false,
        Some(c) => !(c.starts_with("${") && c.ends_with('}') && c.matches("${").count() == 1),
    }
}

fn fields_of(nodes: &[Node], parent: &str) -> Vec<Field> {
    let mut out = Vec::new();
    for n in nodes {
        match n {
            // Audit lives at meta/audit, wherever the sheet has it.
            Node::Question(q) if q.qtype == QType::Audit => {}
            Node::Question(q) => {
                out.push(Field::value(parent, &q.name, ValueType::of(q)));
                if q.or_other {
                    out.push(Field::value(
                        parent,
                        &format!("{}_other", q.name),
                        ValueType::String,
                    ));
                }
            }
            Node::Group(g) => {
                if g.repeat && count_node(g) {
                    out.push(Field::value(
                        parent,
                        &format!("{}_count", g.name),
                        ValueType::String,
                    ));
                }
                let path = format!("{parent}/{}", g.name);
                out.push(Field {
                    name: g.name.clone(),
                    odata: sanitize(&g.name),
                    children: fields_of(&g.children, &path),
                    path,
                    kind: if g.repeat { Kind::Repeat } else { Kind::Group },
                });
            }
        }
    }
    out
}

impl Schema {
    /// The schema of a form, in the order of its XForm instance, `meta` last.
    pub fn from_form(form: &Form) -> Schema {
        let mut fields = fields_of(&form.children, "");
        let audit = form.questions().iter().any(|q| q.qtype == QType::Audit);
        let mut meta = Vec::new();
        if audit {
            meta.push(Field::value("/meta", "audit", ValueType::String));
        }
        if !form.omit_instance_id {
            meta.push(Field::value("/meta", "instanceID", ValueType::String));
        }
        if form.instance_name.is_some() {
            meta.push(Field::value("/meta", "instanceName", ValueType::String));
        }
        if !meta.is_empty() {
            fields.push(Field {
                name: "meta".into(),
                odata: "meta".into(),
                path: "/meta".into(),
                kind: Kind::Group,
                children: meta,
            });
        }
        Schema {
            xml_form_id: form.id.clone(),
            fields,
        }
    }

    /// The names of every table: `Submissions`, then each repeat's, depth first.
    pub fn tables(&self) -> Vec<String> {
        fn walk(fields: &[Field], prefix: &str, out: &mut Vec<String>) {
            for f in fields {
                if f.is_structural() {
                    let name = format!("{prefix}.{}", f.odata);
                    if f.kind == Kind::Repeat {
                        out.push(name.clone());
                    }
                    walk(&f.children, &name, out);
                }
            }
        }
        let mut out = vec!["Submissions".to_owned()];
        walk(&self.fields, "Submissions", &mut out);
        out
    }

    /// The structural fields that lead to the table `name` (`Submissions.menage.enfant`), or
    /// `None` when there is no such table (the last one must be a repeat).
    pub fn table_stack(&self, name: &str) -> Option<Vec<&Field>> {
        let mut parts = name.split('.');
        if parts.next() != Some("Submissions") {
            return None;
        }
        let mut stack: Vec<&Field> = Vec::new();
        let mut level = self.fields.as_slice();
        for part in parts {
            let f = level
                .iter()
                .find(|f| f.is_structural() && f.odata == part)?;
            stack.push(f);
            level = &f.children;
        }
        match stack.last() {
            None => Some(stack),
            Some(f) if f.kind == Kind::Repeat => Some(stack),
            Some(_) => None,
        }
    }

    /// The service document: the entity sets, with the `$metadata` address as context.
    pub fn service_document(&self, metadata_url: &str) -> Json {
        Json::Obj(vec![
            ("@odata.context".into(), metadata_url.into()),
            (
                "value".into(),
                Json::Arr(
                    self.tables()
                        .into_iter()
                        .map(|t| {
                            Json::Obj(vec![
                                ("name".into(), Json::Str(t.clone())),
                                ("kind".into(), "EntitySet".into()),
                                ("url".into(), Json::Str(t)),
                            ])
                        })
                        .collect(),
                ),
            ),
        ])
    }

    /// The `$metadata` document (EDMX 4.0), shaped as ODK Central's.
    pub fn edmx(&self) -> String {
        let base = format!("org.opendatakit.user.{}", sanitize(&self.xml_form_id));
        let mut entities: Vec<Entity> = vec![Entity {
            name: "Submissions".into(),
            primary: true,
            properties: Vec::new(),
        }];
        let mut complex: Vec<Entity> = Vec::new();
        collect_types(
            &self.fields,
            &base,
            Target::Entity(0),
            None,
            &mut entities,
            &mut complex,
        );

        let mut x = String::with_capacity(4096);
        x.push_str(EDMX_HEAD);
        x.push_str(&format!(
            "    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"{}\">\n",
            esc(&base)
        ));
        for e in &entities {
            x.push_str(&format!("      <EntityType Name=\"{}\">\n", esc(&e.name)));
            x.push_str("        <Key><PropertyRef Name=\"__id\"/></Key>\n");
            x.push_str("        <Property Name=\"__id\" Type=\"Edm.String\"/>\n");
            if e.primary {
                x.push_str("        <Property Name=\"__system\" Type=\"org.opendatakit.submission.metadata\"/>\n");
            }
            write_properties(&mut x, &e.properties);
            x.push_str("      </EntityType>\n");
        }
        for c in &complex {
            x.push_str(&format!("      <ComplexType Name=\"{}\">\n", esc(&c.name)));
            write_properties(&mut x, &c.properties);
            x.push_str("      </ComplexType>\n");
        }
        x.push_str(&format!(
            "      <EntityContainer Name=\"{}\">\n",
            esc(&self.xml_form_id)
        ));
        for e in &entities {
            x.push_str(&format!(
                "        <EntitySet Name=\"{}\" EntityType=\"{}.{}\">\n",
                esc(&e.name),
                esc(&base),
                esc(&e.name)
            ));
            if e.primary {
                x.push_str(CAPABILITIES_HEAD);
                for p in &e.properties {
                    x.push_str(&format!(
                        "                  <PropertyPath>{}</PropertyPath>\n",
                        esc(&p.name)
                    ));
                }
                x.push_str(CAPABILITIES_TAIL);
            }
            x.push_str("        </EntitySet>\n");
        }
        x.push_str(
            "      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n",
        );
        x
    }
}

struct Property {
    name: String,
    ty: String,
    navigation: bool,
}

struct Entity {
    name: String,
    primary: bool,
    properties: Vec<Property>,
}

#[derive(Clone, Copy)]
enum Target {
    Entity(usize),
    Complex(usize),
}

/// Walks the fields depth first, adding each primitive to the type it belongs to, each group as
/// a complex type and each repeat as an entity type with the id of its parent.
fn collect_types(
    fields: &[Field],
    base: &str,
    target: Target,
    repeat_context: Option<&str>,
    entities: &mut Vec<Entity>,
    complex: &mut Vec<Entity>,
) {
    for f in fields {
        let (prop_name, ty, nav) = match f.kind {
            Kind::Value(t) => (f.odata.clone(), t.edm().to_owned(), false),
            Kind::Group => {
                let type_name = path_parts(&f.path).join(".");
                complex.push(Entity {
                    name: type_name.clone(),
                    primary: false,
                    properties: Vec::new(),
                });
                let idx = complex.len() - 1;
                collect_types(
                    &f.children,
                    base,
                    Target::Complex(idx),
                    repeat_context,
                    entities,
                    complex,
                );
                (f.odata.clone(), format!("{base}.{type_name}"), false)
            }
            Kind::Repeat => {
                let type_name = path_parts(&f.path).join(".");
                let mut id_parts = vec!["Submissions".to_owned()];
                if let Some(ctx) = repeat_context {
                    id_parts.extend(path_parts(ctx));
                }
                entities.push(Entity {
                    name: format!("Submissions.{type_name}"),
                    primary: false,
                    properties: vec![Property {
                        name: format!("__{}-id", id_parts.join("-")),
                        ty: "Edm.String".into(),
                        navigation: false,
                    }],
                });
                let idx = entities.len() - 1;
                collect_types(
                    &f.children,
                    base,
                    Target::Entity(idx),
                    Some(&f.path),
                    entities,
                    complex,
                );
                (
                    f.odata.clone(),
                    format!("Collection({base}.Submissions.{type_name})"),
                    true,
                )
            }
        };
        let props = match target {
            Target::Entity(i) => &mut entities[i].properties,
            Target::Complex(i) => &mut complex[i].properties,
        };
        props.push(Property {
            name: prop_name,
            ty,
            navigation: nav,
        });
    }
}

fn path_parts(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|p| !p.is_empty())
        .map(sanitize)
        .collect()
}

fn write_properties(x: &mut String, props: &[Property]) {
    for p in props {
        let tag = if p.navigation {
            "NavigationProperty"
        } else {
            "Property"
        };
        x.push_str(&format!(
            "        <{tag} Name=\"{}\" Type=\"{}\"/>\n",
            esc(&p.name),
            esc(&p.ty)
        ));
    }
}

/// Escapes text for an XML attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const EDMX_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="org.opendatakit.submission">
      <ComplexType Name="metadata">
        <Property Name="submissionDate" Type="Edm.DateTimeOffset"/>
        <Property Name="updatedAt" Type="Edm.DateTimeOffset"/>
        <Property Name="submitterId" Type="Edm.String"/>
        <Property Name="submitterName" Type="Edm.String"/>
        <Property Name="attachmentsPresent" Type="Edm.Int64"/>
        <Property Name="attachmentsExpected" Type="Edm.Int64"/>
        <Property Name="status" Type="org.opendatakit.submission.Status"/>
        <Property Name="reviewState" Type="org.opendatakit.submission.ReviewState"/>
        <Property Name="deviceId" Type="Edm.String"/>
        <Property Name="edits" Type="Edm.Int64"/>
        <Property Name="formVersion" Type="Edm.String"/>
      </ComplexType>
      <EnumType Name="Status">
        <Member Name="notDecrypted"/>
        <Member Name="missingEncryptedFormData"/>
      </EnumType>
      <EnumType Name="ReviewState">
        <Member Name="hasIssues"/>
        <Member Name="edited"/>
        <Member Name="rejected"/>
        <Member Name="approved"/>
      </EnumType>
    </Schema>
"#;

const CAPABILITIES_HEAD: &str = r#"          <Annotation Term="Org.OData.Capabilities.V1.ConformanceLevel" EnumMember="Org.OData.Capabilities.V1.ConformanceLevelType/Minimal"/>
          <Annotation Term="Org.OData.Capabilities.V1.BatchSupported" Bool="false"/>
          <Annotation Term="Org.OData.Capabilities.V1.CountRestrictions">
            <Record><PropertyValue Property="Countable" Bool="true"/></Record>
          </Annotation>
          <Annotation Term="Org.OData.Capabilities.V1.FilterFunctions">
            <Record>
              <PropertyValue Property="NonCountableProperties">
                <Collection>
                  <String>eq</String>
                </Collection>
              </PropertyValue>
            </Record>
          </Annotation>
          <Annotation Term="Org.OData.Capabilities.V1.FilterFunctions">
            <Record>
              <PropertyValue Property="Filterable" Bool="true"/>
              <PropertyValue Property="RequiresFilter" Bool="false"/>
              <PropertyValue Property="NonFilterableProperties">
                <Collection>
"#;

const CAPABILITIES_TAIL: &str = r#"                </Collection>
              </PropertyValue>
            </Record>
          </Annotation>
          <Annotation Term="Org.OData.Capabilities.V1.SortRestrictions">
            <Record><PropertyValue Property="Sortable" Bool="false"/></Record>
          </Annotation>
          <Annotation Term="Org.OData.Capabilities.V1.ExpandRestrictions">
            <Record><PropertyValue Property="Expandable" Bool="false"/></Record>
          </Annotation>
"#;
