//! The catalogue as DCAT, in Turtle, JSON-LD and RDF/XML.
//!
//! # One graph, three syntaxes
//!
//! Harvesters (data.europa.eu, a national portal, CKAN's `ckanext-dcat`) read a catalogue as
//! [W3C DCAT](https://www.w3.org/TR/vocab-dcat-3/) shaped by the
//! [DCAT-AP 3](https://semiceu.github.io/DCAT-AP/releases/3.0.0/) application profile. Each
//! harvester prefers its own syntax, so the catalogue is offered in three, and the three must say
//! the same thing. They are therefore not written side by side: the page is first built as one
//! small in-memory graph (a [`Node`] tree: subjects with their types and properties; blank nodes
//! and described IRIs nested where they are used), and each syntax is a plain walk of that tree.
//! A fix made to the graph shows in all three at once.
//!
//! * Turtle nests blank nodes inline (`[ a dct:PeriodOfTime ; … ]`) and writes a described IRI
//!   (a licence, a publisher, a distribution) as a subject of its own after the node that uses
//!   it, once per page.
//! * JSON-LD is compact: an `@context` of prefixes, `@graph` of nodes, `"dct:title": "…"`,
//!   `{"@id": …}` for links and `{"@value": …, "@type": "xsd:…"}` for typed literals; written
//!   through `serde_json`, so escaping is serde's.
//! * RDF/XML uses typed node elements (`<dcat:Dataset rdf:about=…>`) and nests what Turtle
//!   hoists.
//!
//! Text that XML 1.0 cannot carry (control characters other than tab, newline and carriage
//! return) is removed when the graph is built, not when it is written, so the three stay alike;
//! IRIs are percent-encoded where a character would be illegal in any of the three.
//!
//! # What a dataset says
//!
//! Everything DCAT-AP 3 makes mandatory (a catalogue's title, description, publisher and
//! datasets; a dataset's title and description; a distribution's access URL) and most of what
//! it recommends: identifier, issue and modification dates, publisher (a `foaf:Agent`),
//! keywords, themes (the UN's SDG concept scheme, `http://metadata.un.org/sdg/N`), update
//! frequency (the EU frequency authority), temporal coverage (`dct:PeriodOfTime` with
//! `dcat:startDate`/`dcat:endDate`), spatial coverage (a country's GeoNames page for ISO 3166
//! codes, our own place page otherwise), landing page, contact point (`vcard:Kind`), version,
//! and per distribution: title, description, access and download URLs, IANA media type, EU file
//! type, licence, byte size and SPDX SHA-256 checksum. Objects whose class DCAT-AP constrains
//! (licence, frequency, location, theme, media type, format, landing page) are typed in the
//! graph, so that a SHACL check without inference finds the class it expects.
//!
//! # Paging
//!
//! A catalogue page carries a Hydra paging node, as `ckanext-dcat` emits it (harvesters follow
//! it): `{base}/catalog.{ext}?page=N` typed `hydra:PagedCollection` and
//! `hydra:PartialCollectionView`, with `hydra:totalItems`, `hydra:itemsPerPage`, CKAN's literal
//! `hydra:firstPage`/`lastPage`/`nextPage`/`previousPage` and Hydra's own links `hydra:first`,
//! `last`, `next`, `previous`. The paging URLs keep the `modified_since` filter.

use crate::time::iso_timestamp;
use baraza_catalogue::licences::{frequency, frequency_uri, licence};
use baraza_catalogue::{Dataset, Resource};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::fmt::Write as _;

/// One page of the catalogue, as the web edge hands it over.
#[derive(Debug, Clone, Copy)]
pub struct CatalogPage<'a> {
    /// The site's root URL without a trailing slash, e.g. `https://data.example.org`.
    pub base: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// The name of the catalogue's publisher (the site's operator).
    pub publisher: &'a str,
    /// The datasets of this page.
    pub datasets: &'a [&'a Dataset],
    /// 1-based.
    pub page: usize,
    pub page_size: usize,
    /// Datasets in the whole catalogue (with the same filter).
    pub total: usize,
    /// The `modified_since` filter of the request, kept in the paging links.
    pub modified_since: Option<&'a str>,
    /// When the catalogue last changed (Unix seconds).
    pub modified: i64,
}

/// The catalogue page as Turtle.
pub fn turtle(p: &CatalogPage) -> String {
    write_turtle(&catalog_graph(p, "ttl"))
}

/// The catalogue page as compact JSON-LD.
pub fn jsonld(p: &CatalogPage) -> String {
    write_jsonld(&catalog_graph(p, "jsonld"))
}

/// The catalogue page as RDF/XML.
pub fn rdfxml(p: &CatalogPage) -> String {
    write_rdfxml(&catalog_graph(p, "rdf"))
}

/// One dataset (with its distributions) as Turtle.
pub fn dataset_turtle(base: &str, d: &Dataset) -> String {
    write_turtle(&[dataset_node(base_of(base), d)])
}

/// One dataset as compact JSON-LD.
pub fn dataset_jsonld(base: &str, d: &Dataset) -> String {
    write_jsonld(&[dataset_node(base_of(base), d)])
}

/// One dataset as RDF/XML.
pub fn dataset_rdfxml(base: &str, d: &Dataset) -> String {
    write_rdfxml(&[dataset_node(base_of(base), d)])
}

// ---------------------------------------------------------------------------------------------
// The graph

/// The namespaces used, by prefix. A [`Name`] is `prefix:local` with a prefix of this table.
const NAMESPACES: [(&str, &str); 10] = [
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("spdx", "http://spdx.org/rdf/terms#"),
    ("hydra", "http://www.w3.org/ns/hydra/core#"),
];

/// A class, property or datatype named in one of [`NAMESPACES`]: `dcat:Dataset`.
type Name = &'static str;

/// The full IRI of a name.
fn expand(name: Name) -> String {
    let (prefix, local) = name.split_once(':').unwrap_or(("", name));
    let ns = NAMESPACES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, iri)| *iri)
        .unwrap_or("");
    format!("{ns}{local}")
}

/// The object of a property.
#[derive(Debug, Clone)]
enum Obj {
    /// A link to an IRI described elsewhere (or nowhere).
    Iri(String),
    /// A plain string literal (`xsd:string`).
    Str(String),
    /// An `xsd:integer` literal.
    Int(i64),
    /// A literal with this datatype.
    Typed(String, Name),
    /// A node described here: a blank node, or an IRI with its types and properties.
    Node(Node),
}

/// A subject with its types and properties, in the order they are written.
#[derive(Debug, Clone, Default)]
struct Node {
    /// `None` for a blank node.
    iri: Option<String>,
    types: Vec<Name>,
    props: Vec<(Name, Obj)>,
}

impl Node {
    fn iri(iri: impl Into<String>) -> Self {
        Node {
            iri: Some(iri.into()),
            ..Node::default()
        }
    }
    fn blank() -> Self {
        Node::default()
    }
    fn a(mut self, class: Name) -> Self {
        self.types.push(class);
        self
    }
    fn str(mut self, p: Name, s: &str) -> Self {
        self.props.push((p, Obj::Str(clean(s))));
        self
    }
    fn typed(mut self, p: Name, s: &str, datatype: Name) -> Self {
        self.props.push((p, Obj::Typed(clean(s), datatype)));
        self
    }
    fn int(mut self, p: Name, v: i64) -> Self {
        self.props.push((p, Obj::Int(v)));
        self
    }
    fn time(self, p: Name, unix: i64) -> Self {
        self.typed(p, &iso_timestamp(unix), "xsd:dateTime")
    }
    fn link(mut self, p: Name, iri: &str) -> Self {
        self.props.push((p, Obj::Iri(iri.to_string())));
        self
    }
    fn node(mut self, p: Name, n: Node) -> Self {
        self.props.push((p, Obj::Node(n)));
        self
    }
}

/// Text as every syntax can carry it: without the control characters XML 1.0 forbids.
fn clean(s: &str) -> String {
    s.chars().filter(|&c| xml_char(c)).collect()
}

/// Whether XML 1.0 can carry the character (controls other than tab, newline and carriage
/// return cannot, nor U+FFFE and U+FFFF).
pub(crate) fn xml_char(c: char) -> bool {
    (matches!(c, '\t' | '\n' | '\r') || !c.is_control()) && c != '\u{FFFE}' && c != '\u{FFFF}'
}

/// An IRI made safe for Turtle's `<…>`, an XML attribute and JSON: spaces, controls and
/// `<>"{}|\^`` percent-encoded.
fn safe_iri(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c <= ' '
            || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
            || c == '\u{7F}'
        {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A path segment or query value: everything but RFC 3986's unreserved characters encoded.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn base_of(base: &str) -> String {
    safe_iri(base.trim_end_matches('/'))
}

/// The dataset's URI (also its landing page).
pub fn dataset_uri(base: &str, d: &Dataset) -> String {
    format!("{}/dataset/{}", base_of(base), encode(&d.name))
}

/// A distribution's URI (the resource's page, also its access URL).
pub fn distribution_uri(base: &str, d: &Dataset, r: &Resource) -> String {
    format!("{}/resource/{}", dataset_uri(base, d), encode(&r.id))
}

/// Where a distribution is downloaded: our download address, or a harvested link's remote
/// address (never proxied).
pub fn download_url(base: &str, d: &Dataset, r: &Resource) -> String {
    if let Some(url) = r.kind.link() {
        return safe_iri(url);
    }
    format!("{}/download", distribution_uri(base, d, r))
}

/// The organisation's URI.
pub fn organisation_uri(base: &str, org_name: &str) -> String {
    format!("{}/organization/{}", base_of(base), encode(org_name))
}

/// The URI of a licence: its own URL, or our page about it when it has none. `None` for an
/// unknown id.
pub fn licence_uri(base: &str, id: &str) -> Option<String> {
    let l = licence(id)?;
    Some(if l.url.is_empty() {
        format!("{}/licence/{}", base_of(base), encode(l.id))
    } else {
        safe_iri(l.url)
    })
}

/// A group's theme: the UN SDG concept for `sdg-N`, our group page otherwise.
pub fn theme_uri(base: &str, group: &str) -> String {
    match group
        .strip_prefix("sdg-")
        .and_then(|n| n.parse::<u8>().ok())
    {
        Some(n) if (1..=17).contains(&n) => format!("http://metadata.un.org/sdg/{n}"),
        _ => format!("{}/group/{}", base_of(base), encode(group)),
    }
}

/// A place's URI: a country's GeoNames page for a two-letter ISO 3166 code, our place page for
/// any other code (a subdivision "TD-ND", a gazetteer code).
pub fn place_uri(base: &str, code: &str) -> String {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
        format!(
            "https://www.geonames.org/countries/{}/",
            code.to_ascii_uppercase()
        )
    } else {
        format!("{}/place/{}", base_of(base), encode(code))
    }
}

/// The EU file-type authority's code of a format, when it has one we know.
fn file_type(format: &str) -> Option<&'static str> {
    Some(match format.to_ascii_uppercase().as_str() {
        "CSV" | "SDMX-CSV" => "CSV",
        "JSON" => "JSON",
        "GEOJSON" => "GEOJSON",
        "PDF" => "PDF",
        "XLSX" => "XLSX",
        "XML" | "IATI-XML" => "XML",
        "ZIP" => "ZIP",
        "ODS" => "ODS",
        "TXT" => "TXT",
        "HTML" => "HTML",
        "DOCX" => "DOCX",
        "ODT" => "ODT",
        _ => return None,
    })
}

/// A media type's IANA URI, without parameters (`text/csv; charset=utf-8` → `text/csv`); `None`
/// for what is not `type/subtype` of letters, digits and `-_.+` (the registered names are).
fn media_type_uri(media_type: &str) -> Option<String> {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    let (t, sub) = essence.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
    };
    (ok(t) && ok(sub)).then(|| {
        format!(
            "https://www.iana.org/assignments/media-types/{}/{}",
            t.to_ascii_lowercase(),
            sub.to_ascii_lowercase()
        )
    })
}

/// The hex digest of a `sha256:<hex>` hash, lower case.
fn sha256_hex(hash: Option<&str>) -> Option<String> {
    let hex = hash?.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

fn agent(iri: Option<String>, name: &str) -> Node {
    Node {
        iri,
        ..Node::default()
    }
    .a("foaf:Agent")
    .str("foaf:name", name)
}

fn distribution_node(base: &str, d: &Dataset, r: &Resource) -> Node {
    let uri = distribution_uri(base, d, r);
    let mut n = Node::iri(&uri)
        .a("dcat:Distribution")
        .str("dct:identifier", &r.id)
        .str(
            "dct:title",
            if r.name.is_empty() {
                &r.file_name
            } else {
                &r.name
            },
        );
    if !r.description.is_empty() {
        n = n.str("dct:description", &r.description);
    }
    n = n
        .time("dct:issued", r.created)
        .time("dct:modified", r.modified)
        .link("dcat:accessURL", &uri)
        .link("dcat:downloadURL", &download_url(base, d, r));
    if let Some(mt) = media_type_uri(&r.media_type) {
        n = n.node("dcat:mediaType", Node::iri(mt).a("dct:MediaType"));
    }
    if let Some(ft) = file_type(&r.format) {
        let iri = format!("http://publications.europa.eu/resource/authority/file-type/{ft}");
        n = n.node("dct:format", Node::iri(iri).a("dct:MediaTypeOrExtent"));
    }
    if matches!(r.kind, baraza_catalogue::ResourceKind::IatiActivity) {
        // The file follows the IATI Standard's activity schema, version 2.03.
        n = n.node(
            "dct:conformsTo",
            Node::iri("https://iatistandard.org/en/iati-standard/203/").a("dct:Standard"),
        );
    }
    if let (Some(iri), Some(l)) = (licence_uri(base, &d.license_id), licence(&d.license_id)) {
        n = n.node(
            "dct:license",
            Node::iri(iri)
                .a("dct:LicenseDocument")
                .str("dct:title", l.title),
        );
    }
    if let Some(size) = r.size.filter(|s| *s >= 0) {
        n = n.typed("dcat:byteSize", &size.to_string(), "xsd:nonNegativeInteger");
    }
    if let Some(hex) = sha256_hex(r.hash.as_deref()) {
        n = n.node(
            "spdx:checksum",
            Node::blank()
                .a("spdx:Checksum")
                .node(
                    "spdx:algorithm",
                    Node::iri(expand("spdx:checksumAlgorithm_sha256")).a("spdx:ChecksumAlgorithm"),
                )
                .typed("spdx:checksumValue", &hex, "xsd:hexBinary"),
        );
    }
    n
}

fn dataset_node(base: String, d: &Dataset) -> Node {
    let base = base.as_str();
    let uri = dataset_uri(base, d);
    let description = if d.notes.trim().is_empty() {
        &d.title
    } else {
        &d.notes
    };
    let mut n = Node::iri(&uri)
        .a("dcat:Dataset")
        .str("dct:identifier", &d.id)
        .str("dct:title", &d.title)
        .str("dct:description", description)
        .time("dct:issued", d.created)
        .time("dct:modified", d.modified)
        .node(
            "dct:publisher",
            agent(
                Some(organisation_uri(base, &d.organisation.name)),
                &d.organisation.title,
            ),
        );
    for tag in &d.tags {
        n = n.str("dcat:keyword", tag);
    }
    for g in &d.groups {
        n = n.node(
            "dcat:theme",
            Node::iri(theme_uri(base, g)).a("skos:Concept"),
        );
    }
    if let Some(f) = frequency(&d.frequency) {
        n = n.node(
            "dct:accrualPeriodicity",
            Node::iri(frequency_uri(f)).a("dct:Frequency"),
        );
    }
    let start = crate::time::parse_ymd(&d.temporal_start).map(|_| d.temporal_start.as_str());
    let end = crate::time::parse_ymd(&d.temporal_end).map(|_| d.temporal_end.as_str());
    if start.is_some() || end.is_some() {
        let mut t = Node::blank().a("dct:PeriodOfTime");
        if let Some(s) = start {
            t = t.typed("dcat:startDate", s, "xsd:date");
        }
        if let Some(e) = end {
            t = t.typed("dcat:endDate", e, "xsd:date");
        }
        n = n.node("dct:temporal", t);
    }
    for code in &d.spatial {
        n = n.node(
            "dct:spatial",
            Node::iri(place_uri(base, code)).a("dct:Location"),
        );
    }
    // The landing page is the dataset's own URI (its HTML page): linked, not typed, so that the
    // dataset is not also declared a `foaf:Document`.
    n = n.link("dcat:landingPage", &uri);
    if !d.maintainer.is_empty() || !d.maintainer_email.is_empty() {
        let name = if d.maintainer.is_empty() {
            &d.organisation.title
        } else {
            &d.maintainer
        };
        let mut c = Node::blank().a("vcard:Kind").str("vcard:fn", name);
        if !d.maintainer_email.is_empty() {
            c = c.link(
                "vcard:hasEmail",
                &format!("mailto:{}", safe_iri(d.maintainer_email.trim())),
            );
        }
        n = n.node("dcat:contactPoint", c);
    }
    if !d.version.is_empty() {
        n = n
            .str("owl:versionInfo", &d.version)
            .str("dcat:version", &d.version);
    }
    for r in &d.resources {
        n = n.node("dcat:distribution", distribution_node(base, d, r));
    }
    n
}

/// The URL of page `page` of the catalogue in the syntax `ext`.
fn page_url(p: &CatalogPage, base: &str, ext: &str, page: usize) -> String {
    let mut url = format!("{base}/catalog.{ext}?page={page}");
    if let Some(since) = p.modified_since {
        let _ = write!(url, "&modified_since={}", encode(since));
    }
    url
}

fn catalog_graph(p: &CatalogPage, ext: &str) -> Vec<Node> {
    let base = base_of(p.base);
    let mut catalog = Node::iri(format!("{base}/catalog"))
        .a("dcat:Catalog")
        .str("dct:title", p.title)
        .str(
            "dct:description",
            if p.description.trim().is_empty() {
                p.title
            } else {
                p.description
            },
        )
        // An IRI, not a blank node: the pages of a catalogue, merged, have one publisher.
        .node(
            "dct:publisher",
            agent(Some(format!("{base}/catalog#publisher")), p.publisher),
        )
        .time("dct:modified", p.modified)
        .node(
            "foaf:homepage",
            Node::iri(format!("{base}/")).a("foaf:Document"),
        );
    for d in p.datasets {
        catalog = catalog.link("dcat:dataset", &dataset_uri(&base, d));
    }

    let last = if p.page_size == 0 {
        1
    } else {
        p.total.div_ceil(p.page_size).max(1)
    };
    let page = p.page.max(1);
    let url = |n: usize| page_url(p, &base, ext, n);
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let mut paging = Node::iri(url(page))
        .a("hydra:PagedCollection")
        .a("hydra:PartialCollectionView")
        .int("hydra:totalItems", count(p.total))
        .int("hydra:itemsPerPage", count(p.page_size))
        .str("hydra:firstPage", &url(1))
        .str("hydra:lastPage", &url(last))
        .link("hydra:first", &url(1))
        .link("hydra:last", &url(last));
    if page < last {
        paging = paging
            .str("hydra:nextPage", &url(page + 1))
            .link("hydra:next", &url(page + 1));
    }
    if page > 1 {
        let prev = (page - 1).min(last);
        paging = paging
            .str("hydra:previousPage", &url(prev))
            .link("hydra:previous", &url(prev));
    }

    let mut nodes = vec![catalog, paging];
    nodes.extend(p.datasets.iter().map(|d| dataset_node(base.clone(), d)));
    nodes
}

// ---------------------------------------------------------------------------------------------
// Turtle

fn turtle_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A name as Turtle writes it; every local name of ours is a valid `PN_LOCAL`.
fn turtle_name(name: Name) -> &'static str {
    if name == "rdf:type" {
        "a"
    } else {
        name
    }
}

fn turtle_iri(out: &mut String, iri: &str) {
    // Prefixed where the local part is plain letters, digits and `_` (always a PN_LOCAL).
    for (prefix, ns) in NAMESPACES {
        if let Some(local) = iri.strip_prefix(ns) {
            if !local.is_empty()
                && local
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && local.as_bytes()[0].is_ascii_alphabetic()
            {
                let _ = write!(out, "{prefix}:{local}");
                return;
            }
        }
    }
    let _ = write!(out, "<{}>", safe_iri(iri));
}

/// The predicate-object list of a node, at `indent`; IRI nodes met are queued to be written as
/// subjects of their own.
fn turtle_props<'n>(out: &mut String, n: &'n Node, indent: usize, queue: &mut Vec<&'n Node>) {
    let pad = " ".repeat(indent);
    let mut first = true;
    if !n.types.is_empty() {
        out.push_str("a ");
        for (i, t) in n.types.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(t);
        }
        first = false;
    }
    let mut prev: Option<Name> = None;
    for (p, o) in &n.props {
        if prev == Some(*p) {
            out.push_str(", ");
        } else {
            if !first {
                out.push_str(" ;\n");
                out.push_str(&pad);
            }
            out.push_str(turtle_name(p));
            out.push(' ');
        }
        first = false;
        prev = Some(*p);
        match o {
            Obj::Iri(iri) => turtle_iri(out, iri),
            Obj::Str(s) => turtle_string(out, s),
            Obj::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Obj::Typed(s, dt) => {
                turtle_string(out, s);
                out.push_str("^^");
                out.push_str(dt);
            }
            Obj::Node(child) => match &child.iri {
                Some(iri) => {
                    turtle_iri(out, iri);
                    queue.push(child);
                }
                None => {
                    out.push_str("[\n");
                    out.push_str(&" ".repeat(indent + 4));
                    turtle_props(out, child, indent + 4, queue);
                    out.push('\n');
                    out.push_str(&pad);
                    out.push(']');
                }
            },
        }
    }
}

fn write_turtle(nodes: &[Node]) -> String {
    let mut out = String::new();
    for (prefix, ns) in NAMESPACES {
        let _ = writeln!(out, "@prefix {prefix}: <{ns}> .");
    }
    let mut written: HashSet<&str> = HashSet::new();
    let mut queue: Vec<&Node> = nodes.iter().rev().collect();
    while let Some(n) = queue.pop() {
        let mut hoisted = Vec::new();
        match &n.iri {
            Some(iri) => {
                if !written.insert(iri.as_str()) {
                    continue;
                }
                // A described IRI with nothing to say (cannot happen: ours are typed) is skipped.
                if n.types.is_empty() && n.props.is_empty() {
                    continue;
                }
                out.push('\n');
                turtle_iri(&mut out, iri);
                out.push('\n');
            }
            None => out.push_str("\n[]\n"),
        }
        out.push_str("    ");
        turtle_props(&mut out, n, 4, &mut hoisted);
        out.push_str(" .\n");
        queue.extend(hoisted.into_iter().rev());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// JSON-LD

fn jsonld_node(n: &Node) -> Value {
    let mut m = Map::new();
    if let Some(iri) = &n.iri {
        m.insert("@id".into(), Value::String(iri.clone()));
    }
    match n.types.as_slice() {
        [] => {}
        [t] => {
            m.insert("@type".into(), json!(t));
        }
        ts => {
            m.insert("@type".into(), json!(ts));
        }
    }
    for (p, o) in &n.props {
        let v = match o {
            Obj::Iri(iri) => json!({ "@id": iri }),
            Obj::Str(s) => json!(s),
            Obj::Int(v) => json!(v),
            Obj::Typed(s, dt) => json!({ "@value": s, "@type": dt }),
            Obj::Node(child) => jsonld_node(child),
        };
        match m.get_mut(*p) {
            Some(Value::Array(a)) => a.push(v),
            Some(one) => {
                let first = one.take();
                *one = Value::Array(vec![first, v]);
            }
            None => {
                m.insert((*p).to_string(), v);
            }
        }
    }
    Value::Object(m)
}

fn write_jsonld(nodes: &[Node]) -> String {
    let context: Map<String, Value> = NAMESPACES
        .iter()
        .map(|(p, ns)| ((*p).to_string(), json!(ns)))
        .collect();
    let doc = json!({
        "@context": context,
        "@graph": nodes.iter().map(jsonld_node).collect::<Vec<_>>(),
    });
    // Serialising a Value (string keys) cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// RDF/XML

fn xml_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn xml_attr(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

fn xml_node(out: &mut String, n: &Node, indent: usize) {
    let pad = " ".repeat(indent);
    let tag = n.types.first().copied().unwrap_or("rdf:Description");
    let _ = write!(out, "{pad}<{tag}");
    if let Some(iri) = &n.iri {
        out.push_str(" rdf:about=\"");
        xml_attr(out, iri);
        out.push('"');
    }
    if n.types.len() <= 1 && n.props.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    let inner = " ".repeat(indent + 2);
    for t in n.types.iter().skip(1) {
        let _ = write!(out, "{inner}<rdf:type rdf:resource=\"");
        xml_attr(out, &expand(t));
        out.push_str("\"/>\n");
    }
    for (p, o) in &n.props {
        match o {
            Obj::Iri(iri) => {
                let _ = write!(out, "{inner}<{p} rdf:resource=\"");
                xml_attr(out, iri);
                out.push_str("\"/>\n");
            }
            Obj::Str(s) => {
                let _ = write!(out, "{inner}<{p}>");
                xml_text(out, s);
                let _ = writeln!(out, "</{p}>");
            }
            Obj::Int(v) => {
                let _ = writeln!(
                    out,
                    "{inner}<{p} rdf:datatype=\"{}\">{v}</{p}>",
                    expand("xsd:integer")
                );
            }
            Obj::Typed(s, dt) => {
                let _ = write!(out, "{inner}<{p} rdf:datatype=\"");
                xml_attr(out, &expand(dt));
                out.push_str("\">");
                xml_text(out, s);
                let _ = writeln!(out, "</{p}>");
            }
            Obj::Node(child) => {
                let _ = writeln!(out, "{inner}<{p}>");
                xml_node(out, child, indent + 4);
                let _ = writeln!(out, "{inner}</{p}>");
            }
        }
    }
    let _ = writeln!(out, "{pad}</{tag}>");
}

fn write_rdfxml(nodes: &[Node]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rdf:RDF");
    for (prefix, ns) in NAMESPACES {
        let _ = write!(out, "\n    xmlns:{prefix}=\"{ns}\"");
    }
    out.push_str(">\n");
    for n in nodes {
        xml_node(&mut out, n, 2);
    }
    out.push_str("</rdf:RDF>\n");
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use baraza_catalogue::model::{DatasetState, Field, Organisation, ResourceKind, Source};

    pub(crate) fn sample_dataset(name: &str, title: &str) -> Dataset {
        Dataset {
            id: "0b9a3c4e-6f1d-4d2a-9e8b-1c2d3e4f5a6b".into(),
            name: name.into(),
            title: title.into(),
            notes: "Water points surveyed in 2026.\nSecond line.".into(),
            organisation: Organisation {
                id: "org-1".into(),
                name: "eau-tchad".into(),
                title: "Eau Tchad".into(),
                description: String::new(),
                created: 1_700_000_000,
            },
            project: "eau-tchad/points".into(),
            license_id: "cc-by".into(),
            state: DatasetState::Published,
            private: false,
            frequency: "monthly".into(),
            temporal_start: "2026-01-01".into(),
            temporal_end: "2026-06-30".into(),
            spatial: vec!["TD".into(), "TD-ND".into()],
            spatial_label: "Tchad".into(),
            methodology: String::new(),
            version: "1.2".into(),
            maintainer: "Amina".into(),
            maintainer_email: "amina@example.org".into(),
            tags: vec!["eau".into(), "water points".into()],
            groups: vec!["sdg-6".into(), "health".into()],
            resources: vec![Resource {
                id: "5e7c1a2b-3d4e-4f60-8a9b-0c1d2e3f4a5b".into(),
                name: "Points d'eau".into(),
                description: "One row per water point.".into(),
                format: "CSV".into(),
                media_type: "text/csv".into(),
                file_name: "points.csv".into(),
                size: Some(12_345),
                hash: Some(format!("sha256:{}", "ab".repeat(32))),
                position: 0,
                created: 1_790_000_000,
                modified: 1_790_100_000,
                kind: ResourceKind::File {
                    sha256: "ab".repeat(32),
                },
                fields: vec![
                    Field {
                        name: "province".into(),
                        r#type: "string".into(),
                        hxl: Some("#adm1+name".into()),
                        description: "Province".into(),
                    },
                    Field {
                        name: "functional".into(),
                        r#type: "boolean".into(),
                        hxl: None,
                        description: String::new(),
                    },
                ],
            }],
            source: Source::Upload,
            created: 1_790_000_000,
            modified: 1_790_100_000,
            reuses: 0,
        }
    }

    pub(crate) const HOSTILE: &str =
        "Bad \"\"\" title <script>alert('x')</script> & co\nline two\r\\ end\u{1}\u{7}";

    fn page<'a>(datasets: &'a [&'a Dataset], page: usize, total: usize) -> CatalogPage<'a> {
        CatalogPage {
            base: "https://data.example.org",
            title: "Baraza open data",
            description: "Open data of civil-society organisations.",
            publisher: "Baraza",
            datasets,
            page,
            page_size: 2,
            total,
            modified_since: Some("2026-01-01T00:00:00Z"),
            modified: 1_790_200_000,
        }
    }

    #[test]
    fn turtle_has_the_triples() {
        let d = sample_dataset("points-eau", "Points d'eau");
        let ds = [&d];
        let ttl = turtle(&page(&ds, 1, 3));
        for want in [
            "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
            "<https://data.example.org/catalog>\n    a dcat:Catalog ;",
            "dcat:dataset <https://data.example.org/dataset/points-eau>",
            "<https://data.example.org/dataset/points-eau>\n    a dcat:Dataset ;",
            "dct:identifier \"0b9a3c4e-6f1d-4d2a-9e8b-1c2d3e4f5a6b\"",
            "dct:title \"Points d'eau\"",
            "dct:description \"Water points surveyed in 2026.\\nSecond line.\"",
            "dct:issued \"2026-09-21T14:13:20.000Z\"^^xsd:dateTime",
            "dcat:keyword \"eau\", \"water points\"",
            "dcat:theme <http://metadata.un.org/sdg/6>, <https://data.example.org/group/health>",
            "dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/MONTHLY>",
            "dcat:startDate \"2026-01-01\"^^xsd:date",
            "dct:spatial <https://www.geonames.org/countries/TD/>, <https://data.example.org/place/TD-ND>",
            "vcard:hasEmail <mailto:amina@example.org>",
            "owl:versionInfo \"1.2\"",
            "dcat:distribution <https://data.example.org/dataset/points-eau/resource/5e7c1a2b-3d4e-4f60-8a9b-0c1d2e3f4a5b>",
            "dcat:downloadURL <https://data.example.org/dataset/points-eau/resource/5e7c1a2b-3d4e-4f60-8a9b-0c1d2e3f4a5b/download>",
            "dcat:mediaType <https://www.iana.org/assignments/media-types/text/csv>",
            "dct:format <http://publications.europa.eu/resource/authority/file-type/CSV>",
            "dct:license <https://creativecommons.org/licenses/by/4.0/>",
            "<https://creativecommons.org/licenses/by/4.0/>\n    a dct:LicenseDocument ;",
            "dcat:byteSize \"12345\"^^xsd:nonNegativeInteger",
            "spdx:algorithm spdx:checksumAlgorithm_sha256",
            "a hydra:PagedCollection, hydra:PartialCollectionView",
            "hydra:totalItems 3",
            "hydra:next <https://data.example.org/catalog.ttl?page=2&modified_since=2026-01-01T00%3A00%3A00Z>",
            "hydra:nextPage \"https://data.example.org/catalog.ttl?page=2&modified_since=2026-01-01T00%3A00%3A00Z\"",
        ] {
            assert!(ttl.contains(want), "missing {want:?} in\n{ttl}");
        }
        assert!(!ttl.contains("hydra:previous"));
        // The licence is described once even if used twice.
        let d2 = sample_dataset("other", "Other");
        let ds2 = [&d, &d2];
        let ttl2 = turtle(&page(&ds2, 2, 4));
        assert_eq!(ttl2.matches("a dct:LicenseDocument").count(), 1, "{ttl2}");
        assert!(ttl2.contains("hydra:previous <https://data.example.org/catalog.ttl?page=1"));
        assert!(!ttl2.contains("hydra:next "));
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let d = sample_dataset("hostile", HOSTILE);
        let ds = [&d];
        let p = page(&ds, 1, 1);
        let cleaned = clean(HOSTILE);
        assert!(!cleaned.contains('\u{1}'));

        let ttl = turtle(&p);
        assert!(ttl.contains(
            "dct:title \"Bad \\\"\\\"\\\" title <script>alert('x')</script> & co\\nline two\\r\\\\ end\""
        ), "{ttl}");
        assert!(!ttl.contains("\"\"\""));

        let v: Value = serde_json::from_str(&jsonld(&p)).expect("valid JSON");
        let graph = v["@graph"].as_array().expect("@graph");
        let ds_node = graph
            .iter()
            .find(|n| n["@type"] == "dcat:Dataset")
            .expect("a dataset");
        assert_eq!(ds_node["dct:title"], cleaned.as_str());

        let xml = rdfxml(&p);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let title = doc
            .descendants()
            .find(|n| {
                n.has_tag_name(("http://purl.org/dc/terms/", "title"))
                    && n.parent()
                        .is_some_and(|p| p.has_tag_name(("http://www.w3.org/ns/dcat#", "Dataset")))
            })
            .and_then(|n| n.text())
            .expect("a title");
        assert_eq!(title, cleaned);
    }

    #[test]
    fn jsonld_and_rdfxml_parse_back() {
        let a = sample_dataset("a-1", "A");
        let mut b = sample_dataset("b-2", "B");
        b.notes.clear();
        b.maintainer.clear();
        b.maintainer_email.clear();
        b.frequency.clear();
        b.resources[0].hash = None;
        let ds = [&a, &b];
        let p = page(&ds, 1, 2);

        let v: Value = serde_json::from_str(&jsonld(&p)).expect("valid JSON");
        assert_eq!(v["@context"]["dcat"], "http://www.w3.org/ns/dcat#");
        let graph = v["@graph"].as_array().expect("@graph");
        let datasets: Vec<&Value> = graph
            .iter()
            .filter(|n| n["@type"] == "dcat:Dataset")
            .collect();
        assert_eq!(datasets.len(), 2);
        // An empty description falls back to the title (DCAT-AP requires one).
        assert_eq!(datasets[1]["dct:description"], "B");
        assert!(datasets[1].get("dcat:contactPoint").is_none());
        assert_eq!(
            datasets[0]["dct:issued"],
            json!({"@value": "2026-09-21T14:13:20.000Z", "@type": "xsd:dateTime"})
        );
        assert_eq!(datasets[0]["dcat:keyword"], json!(["eau", "water points"]));
        let paging = graph
            .iter()
            .find(|n| {
                n["@type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("hydra:PagedCollection")))
            })
            .expect("paging");
        assert_eq!(paging["hydra:totalItems"], 2);
        assert!(paging["@id"]
            .as_str()
            .is_some_and(|s| s.contains("catalog.jsonld?page=1")));

        let xml = rdfxml(&p);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let dcat = "http://www.w3.org/ns/dcat#";
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name((dcat, "Dataset")))
                .count(),
            2
        );
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name((dcat, "Distribution")))
                .count(),
            2
        );
        assert!(xml.contains("catalog.rdf?page=1&amp;modified_since="));

        let one = dataset_rdfxml("https://data.example.org/", &a);
        roxmltree::Document::parse(&one).expect("well-formed XML");
        let one: Value = serde_json::from_str(&dataset_jsonld("https://data.example.org", &a))
            .expect("valid JSON");
        assert_eq!(
            one["@graph"][0]["@id"],
            "https://data.example.org/dataset/a-1"
        );
        assert!(dataset_turtle("https://data.example.org", &a).contains("a dcat:Dataset"));
    }

    #[test]
    fn uris() {
        assert_eq!(
            theme_uri("https://x", "sdg-17"),
            "http://metadata.un.org/sdg/17"
        );
        assert_eq!(theme_uri("https://x", "sdg-18"), "https://x/group/sdg-18");
        assert_eq!(
            place_uri("https://x", "td"),
            "https://www.geonames.org/countries/TD/"
        );
        assert_eq!(place_uri("https://x", "TD ND"), "https://x/place/TD%20ND");
        assert_eq!(
            licence_uri("https://x", "notspecified").as_deref(),
            Some("https://x/licence/notspecified")
        );
        assert_eq!(licence_uri("https://x", "nope"), None);
        assert_eq!(
            media_type_uri("text/csv; charset=utf-8").as_deref(),
            Some("https://www.iana.org/assignments/media-types/text/csv")
        );
        assert_eq!(media_type_uri("nonsense"), None);
        assert_eq!(safe_iri("https://x/a b<c>"), "https://x/a%20b%3Cc%3E");
        assert_eq!(sha256_hex(Some("sha256:zz")), None);
    }

    proptest::proptest! {
        /// Whatever the text, the JSON-LD is JSON and the RDF/XML is XML, and both give back
        /// the (cleaned) title, notes and tags.
        #[test]
        fn any_text_round_trips(title in "\\PC*", notes in ".*", tag in "[^\u{0}]{0,20}") {
            let mut d = sample_dataset("p", &title);
            d.notes = notes.clone();
            d.tags = vec![tag.clone()];
            let ds = [&d];
            let p = page(&ds, 1, 1);
            let v: Value = serde_json::from_str(&jsonld(&p)).expect("JSON");
            let node = &v["@graph"][2];
            proptest::prop_assert_eq!(&node["dct:title"], &json!(clean(&title)));
            proptest::prop_assert_eq!(&node["dcat:keyword"], &json!(clean(&tag)));
            let xml = rdfxml(&p);
            let doc = roxmltree::Document::parse(&xml).expect("XML");
            let texts = |local: &str| -> Vec<String> {
                doc.descendants()
                    .filter(|n| {
                        n.tag_name().name() == local
                            && n.parent()
                                .is_some_and(|p| p.has_tag_name(("http://www.w3.org/ns/dcat#", "Dataset")))
                    })
                    .map(|n| n.text().unwrap_or("").to_string())
                    .collect()
            };
            proptest::prop_assert_eq!(texts("title"), vec![clean(&title)]);
            let want = if notes.trim().is_empty() { clean(&title) } else { clean(&notes) };
            proptest::prop_assert_eq!(texts("description"), vec![want]);
            proptest::prop_assert_eq!(texts("keyword"), vec![clean(&tag)]);
        }
    }

    /// Prints a sample catalogue of two pages in the three syntaxes, between markers, for
    /// `scripts/ci/check_dcat.py --file` (run with `--nocapture`).
    #[test]
    fn sample_catalogue() {
        let a = sample_dataset("points-eau", "Points d'eau");
        let mut b = sample_dataset("hostile", HOSTILE);
        b.id = "not-a-uuid".into();
        b.notes.clear();
        b.resources[0].id = "second".into();
        b.license_id = "other-closed".into();
        let mut c = sample_dataset("third", "Third");
        c.resources.clear();
        c.spatial.clear();
        c.tags.clear();
        let first = [&a, &b];
        let second = [&c];
        for (n, ds) in [(1, &first[..]), (2, &second[..])] {
            let mut p = page(ds, n, 3);
            p.modified_since = None;
            println!(
                "-----BEGIN TURTLE {n}-----\n{}-----END TURTLE-----",
                turtle(&p)
            );
            println!(
                "-----BEGIN JSONLD {n}-----\n{}\n-----END JSONLD-----",
                jsonld(&p)
            );
            println!(
                "-----BEGIN RDFXML {n}-----\n{}-----END RDFXML-----",
                rdfxml(&p)
            );
        }
    }
}
