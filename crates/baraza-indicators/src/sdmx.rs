//! SDMX for our own series: SDMX-CSV 2.0 and the SDMX-ML 2.1 structure message that reads it.
//!
//! SDMX-CSV 2.0 is read against a data structure definition (DSD): a reader must know which
//! columns are dimensions, which is the measure and which are attributes. So an indicator's
//! series comes with its own structure message (dataflow, DSD, concept scheme, codelists),
//! written from the indicator's definition and its figures: [`Structure`].
//!
//! # Relation to the SDG global DSD
//!
//! The UN's SDG data structure (`DF_SDG_GLH`) keys an observation by `FREQ`, `REPORTING_TYPE`,
//! `SERIES`, `REF_AREA`, `SEX`, `AGE`, `URBANISATION`… with `_T` for totals. Ours keeps those
//! concept ids where a disaggregation means the same ([`map_dimension`]: a sex field becomes
//! `SEX` with `F`/`M`, an age in bands `AGE` with `Y15T24`/`Y_GE65`, an urban/rural field
//! `URBANISATION` with `U`/`R`); other disaggregations keep their own ids and codes. The
//! structure is maintained by `BARAZA`, not the UN: the codelists hold only the codes we emit.
//!
//! # Cells
//!
//! A figure is one period × place × (one disaggregation's group, or the total): its key has the
//! group in that disaggregation's column and `_T` in every other one, as in the SDG database.

use std::collections::{BTreeMap, BTreeSet};

use crate::compute::TOTAL;
use crate::define::Text;
use crate::official::{format_number, push_line};

/// The maintenance agency of our structures.
pub const AGENCY: &str = "BARAZA";
/// The version of our structures.
pub const VERSION: &str = "1.0";
/// The concept scheme every structure uses.
pub const CONCEPT_SCHEME: &str = "CS_CITIZEN_SDG";

/// A code of a codelist.
#[derive(Clone, Debug, PartialEq)]
pub struct Code {
    pub id: String,
    /// Name by language (`en`, `fr`…); never empty when written (the id stands in).
    pub name: Text,
    /// What the code stands for in our data when it differs from the id or is an SDG code (the
    /// form's group `femme` for `F`, a place code): written as the annotation
    /// [`SOURCE_ANNOTATION`] so that a reader can go back to the figures.
    pub source: Option<String>,
}

/// The annotation type of a code's [`Code::source`].
pub const SOURCE_ANNOTATION: &str = "BARAZA_SOURCE";

/// A dimension of the structure with its codelist.
#[derive(Clone, Debug, PartialEq)]
pub struct Dimension {
    /// The concept id, also the CSV column (`SEX`, `TAILLE_MENAGE`…).
    pub id: String,
    pub name: Text,
    pub codes: Vec<Code>,
}

impl Dimension {
    /// The codelist's id.
    pub fn codelist(&self) -> String {
        match self.id.as_str() {
            "REF_AREA" => "CL_AREA".to_owned(),
            id => format!("CL_{id}"),
        }
    }
}

/// One indicator's structure: its dataflow and DSD.
#[derive(Clone, Debug, PartialEq)]
pub struct Structure {
    /// `DF_…`; the DSD is the same with `DSD_`.
    pub flow_id: String,
    pub name: Text,
    pub description: Text,
    /// Dimensions in key order, without `TIME_PERIOD` (always last).
    pub dimensions: Vec<Dimension>,
    /// The unit codes used (`PT`, `NUMBER`).
    pub units: Vec<Code>,
}

impl Structure {
    /// The DSD's id.
    pub fn dsd_id(&self) -> String {
        match self.flow_id.strip_prefix("DF_") {
            Some(rest) => format!("DSD_{rest}"),
            None => format!("DSD_{}", self.flow_id),
        }
    }

    /// `BARAZA:DF_…(1.0)`, the `STRUCTURE_ID` of SDMX-CSV 2.0.
    pub fn flow_ref(&self) -> String {
        format!("{AGENCY}:{}({VERSION})", self.flow_id)
    }
}

/// One observation, keyed by the structure's dimensions.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Obs {
    /// One code per dimension of the structure, in its order.
    pub key: Vec<String>,
    pub time_period: String,
    /// `None` for a missing or suppressed observation.
    pub value: Option<f64>,
    pub unit: String,
    /// `O` (missing) for a suppressed one; empty otherwise.
    pub obs_status: String,
    /// `C` (confidential) for a suppressed one; empty otherwise.
    pub conf_status: String,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub comment: String,
}

/// The attributes of every structure, in column order: (id, English name, French name).
pub const ATTRIBUTES: [(&str, &str, &str); 6] = [
    ("UNIT_MEASURE", "Unit of measure", "Unité de mesure"),
    (
        "OBS_STATUS",
        "Observation status",
        "Statut de l’observation",
    ),
    (
        "CONF_STATUS",
        "Confidentiality status",
        "Statut de confidentialité",
    ),
    ("LOWER_BOUND", "Lower bound", "Borne inférieure"),
    ("UPPER_BOUND", "Upper bound", "Borne supérieure"),
    ("COMMENT_OBS", "Comment", "Commentaire"),
];

/// Ids the CSV or the structure already uses: a disaggregation never takes one.
const RESERVED: [&str; 15] = [
    "STRUCTURE",
    "STRUCTURE_ID",
    "ACTION",
    "FREQ",
    "REPORTING_TYPE",
    "SERIES",
    "REF_AREA",
    "TIME_PERIOD",
    "OBS_VALUE",
    "UNIT_MEASURE",
    "OBS_STATUS",
    "CONF_STATUS",
    "LOWER_BOUND",
    "UPPER_BOUND",
    "COMMENT_OBS",
];

fn text(en: &str, fr: &str) -> Text {
    [
        ("en".to_owned(), en.to_owned()),
        ("fr".to_owned(), fr.to_owned()),
    ]
    .into()
}

/// The total code `_T` with its name.
pub fn total_code() -> Code {
    Code {
        source: None,
        id: TOTAL.to_owned(),
        name: text("Total", "Total"),
    }
}

/// The frequency code of a period (`2026-10` → `M`, `2026-Q4` → `Q`, `2026` → `A`).
pub fn freq_of(period: &str) -> &'static str {
    if period.contains("-Q") {
        "Q"
    } else if period.len() == 7 && period.as_bytes().get(4) == Some(&b'-') {
        "M"
    } else {
        "A"
    }
}

/// The frequency codes' names.
pub fn freq_code(id: &str) -> Code {
    let name = match id {
        "M" => text("Monthly", "Mensuelle"),
        "Q" => text("Quarterly", "Trimestrielle"),
        _ => text("Annual", "Annuelle"),
    };
    Code {
        source: None,
        id: id.to_owned(),
        name,
    }
}

/// French accents folded, case kept: `Âgé` → `Age`.
fn unaccent(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'À' | 'Â' | 'Ä' => 'A',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' => 'i',
            'Î' | 'Ï' => 'I',
            'ô' | 'ö' => 'o',
            'Ô' | 'Ö' => 'O',
            'ù' | 'û' | 'ü' => 'u',
            'Ù' | 'Û' | 'Ü' => 'U',
            'ç' => 'c',
            'Ç' => 'C',
            c => c,
        })
        .collect()
}

/// Lower-case ASCII with French accents folded: `Âge` → `age`.
fn fold(s: &str) -> String {
    unaccent(s).to_ascii_lowercase()
}

/// An SDMX id (`[A-Za-z0-9_@$-]+`) from any text: other characters become `_`, `+` becomes
/// `PLUS`; empty gives `X`.
pub fn sanitize_id(s: &str) -> String {
    let mut out = String::new();
    for c in unaccent(s.trim()).chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '@' | '$' | '-' => out.push(c),
            '+' => out.push_str("PLUS"),
            _ => out.push('_'),
        }
    }
    if out.is_empty() {
        out.push('X');
    }
    out
}

/// A component id (`[A-Za-z][A-Za-z0-9_-]*`), upper case, from a disaggregation's name.
fn component_id(name: &str) -> String {
    let mut out = String::new();
    for c in fold(name.trim()).chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => out.push(c.to_ascii_uppercase()),
            _ => out.push('_'),
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "D_");
    }
    out
}

/// The SDG concept a disaggregation stands for, by its name: sex, age, urban/rural.
fn sdg_concept(name: &str) -> Option<&'static str> {
    let n = fold(name);
    let is = |words: &[&str]| {
        words
            .iter()
            .any(|w| n == *w || n.starts_with(&format!("{w}_")) || n.ends_with(&format!("_{w}")))
    };
    if is(&["sex", "sexe", "gender", "genre"]) {
        Some("SEX")
    } else if is(&["age", "ages", "tranche_age", "age_group"]) {
        Some("AGE")
    } else if is(&["urbanisation", "urbanization", "milieu", "location"]) {
        Some("URBANISATION")
    } else {
        None
    }
}

/// The SDG code of a group, for the concepts we map; `None` keeps the group's own code.
fn sdg_code(concept: &str, group: &str) -> Option<(String, Text)> {
    let g = fold(group);
    match concept {
        "SEX" => match g.as_str() {
            "f" | "femme" | "femmes" | "female" | "woman" | "women" | "feminin" | "fille"
            | "filles" | "girl" | "girls" => Some(("F".to_owned(), text("Female", "Féminin"))),
            "m" | "h" | "homme" | "hommes" | "male" | "man" | "men" | "masculin" | "garcon"
            | "garcons" | "boy" | "boys" => Some(("M".to_owned(), text("Male", "Masculin"))),
            _ => None,
        },
        "URBANISATION" => match g.as_str() {
            "u" | "urbain" | "urban" | "ville" => Some(("U".to_owned(), text("Urban", "Urbain"))),
            "r" | "rural" => Some(("R".to_owned(), text("Rural", "Rural"))),
            _ => None,
        },
        "AGE" => {
            // Bands as written by `define::Dimension::band_of`: `15-24`, `65+`.
            let num = |s: &str| s.parse::<u32>().ok();
            if let Some(lo) = g.strip_suffix('+').and_then(num) {
                return Some((
                    format!("Y_GE{lo}"),
                    text(
                        &format!("{lo} years old and over"),
                        &format!("{lo} ans et plus"),
                    ),
                ));
            }
            let (lo, hi) = g.split_once('-')?;
            let (lo, hi) = (num(lo)?, num(hi)?);
            Some((
                format!("Y{lo}T{hi}"),
                text(
                    &format!("{lo} to {hi} years old"),
                    &format!("{lo} à {hi} ans"),
                ),
            ))
        }
        _ => None,
    }
}

/// How one disaggregation is written: its column and its groups' codes.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    /// The disaggregation's name in our cells.
    pub name: String,
    pub dimension: Dimension,
    /// Group → code.
    pub codes: BTreeMap<String, String>,
}

/// A disaggregation as [`map_dimensions`] takes it: its name, its title, and its groups with
/// their labels.
pub type Disaggregation = (String, Text, Vec<(String, Text)>);

/// Maps disaggregations (name, title, groups with their labels) to dimensions: the SDG
/// concept when the name says it (once per concept), else the name upper-cased. Every code is
/// unique within its dimension, `_T` (total) is always there, and ids never clash with the
/// fixed columns.
pub fn map_dimensions(dims: &[Disaggregation]) -> Vec<Mapping> {
    let mut used: BTreeSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    for (name, title, groups) in dims {
        let concept = sdg_concept(name).filter(|c| !used.contains(*c));
        let mut id = concept.map_or_else(|| component_id(name), str::to_owned);
        let base = id.clone();
        let mut n = 2;
        while used.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        used.insert(id.clone());
        let mut codes = BTreeMap::new();
        let mut code_list = vec![total_code()];
        let mut taken: BTreeSet<String> = [TOTAL.to_owned()].into();
        for (group, label) in groups {
            if codes.contains_key(group) {
                continue;
            }
            let (mut code, mut name) = match concept.and_then(|c| sdg_code(c, group)) {
                Some((c, t)) => (c, t),
                None => (sanitize_id(group), label.clone()),
            };
            if name.is_empty() {
                name = [("en".to_owned(), group.clone())].into();
            }
            let base = code.clone();
            let mut n = 2;
            while taken.contains(&code) {
                code = format!("{base}_{n}");
                n += 1;
            }
            taken.insert(code.clone());
            codes.insert(group.clone(), code.clone());
            code_list.push(Code {
                source: (code != *group || concept.is_some()).then(|| group.clone()),
                id: code,
                name,
            });
        }
        let name_text = if title.is_empty() {
            [("en".to_owned(), name.clone())].into()
        } else {
            title.clone()
        };
        let dimension = Dimension {
            id,
            name: match concept {
                Some("SEX") => text("Sex", "Sexe"),
                Some("AGE") => text("Age", "Âge"),
                Some("URBANISATION") => text("Degree of urbanisation", "Degré d’urbanisation"),
                _ => name_text,
            },
            codes: code_list,
        };
        out.push(Mapping {
            name: name.clone(),
            dimension,
            codes,
        });
    }
    out
}

/// Writes SDMX-CSV 2.0 for a structure: `STRUCTURE` (`dataflow`), `STRUCTURE_ID`, `ACTION`
/// (`I`, information), the dimensions in the structure's order, `TIME_PERIOD`, `OBS_VALUE`,
/// then [`ATTRIBUTES`]. Every column is always there; lines end in CRLF.
pub fn write_sdmx_csv2(structure: &Structure, obs: &[Obs]) -> String {
    let mut out = String::new();
    let mut header: Vec<&str> = vec!["STRUCTURE", "STRUCTURE_ID", "ACTION"];
    header.extend(structure.dimensions.iter().map(|d| d.id.as_str()));
    header.extend(["TIME_PERIOD", "OBS_VALUE"]);
    header.extend(ATTRIBUTES.iter().map(|a| a.0));
    push_line(&mut out, header.into_iter());
    let flow = structure.flow_ref();
    let n = structure.dimensions.len();
    for o in obs {
        let mut cells: Vec<String> = vec!["dataflow".into(), flow.clone(), "I".into()];
        for i in 0..n {
            cells.push(o.key.get(i).cloned().unwrap_or_else(|| TOTAL.to_owned()));
        }
        cells.push(o.time_period.clone());
        cells.push(o.value.map(format_number).unwrap_or_default());
        cells.push(o.unit.clone());
        cells.push(o.obs_status.clone());
        cells.push(o.conf_status.clone());
        cells.push(o.lower.map(format_number).unwrap_or_default());
        cells.push(o.upper.map(format_number).unwrap_or_default());
        cells.push(o.comment.clone());
        push_line(&mut out, cells.iter().map(String::as_str));
    }
    out
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn names(out: &mut String, indent: &str, t: &Text, fallback: &str) {
    let mut any = false;
    for (lang, v) in t {
        if v.trim().is_empty() || !lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            continue;
        }
        any = true;
        out.push_str(&format!(
            "{indent}<com:Name xml:lang=\"{}\">{}</com:Name>\n",
            esc(lang),
            esc(v)
        ));
    }
    if !any {
        out.push_str(&format!(
            "{indent}<com:Name xml:lang=\"en\">{}</com:Name>\n",
            esc(fallback)
        ));
    }
}

fn concept_ref(id: &str) -> String {
    format!(
        "<str:ConceptIdentity><Ref id=\"{id}\" maintainableParentID=\"{CONCEPT_SCHEME}\" maintainableParentVersion=\"{VERSION}\" agencyID=\"{AGENCY}\" package=\"conceptscheme\" class=\"Concept\"/></str:ConceptIdentity>"
    )
}

fn codelist_ref(id: &str) -> String {
    format!(
        "<str:LocalRepresentation><str:Enumeration><Ref id=\"{id}\" version=\"{VERSION}\" agencyID=\"{AGENCY}\" package=\"codelist\" class=\"Codelist\"/></str:Enumeration></str:LocalRepresentation>"
    )
}

fn text_format(kind: &str) -> String {
    format!(
        "<str:LocalRepresentation><str:TextFormat textType=\"{kind}\"/></str:LocalRepresentation>"
    )
}

fn codelist(out: &mut String, id: &str, name: &Text, codes: &[Code]) {
    out.push_str(&format!(
        "      <str:Codelist id=\"{}\" agencyID=\"{AGENCY}\" version=\"{VERSION}\">\n",
        esc(id)
    ));
    names(out, "        ", name, id);
    for c in codes {
        out.push_str(&format!("        <str:Code id=\"{}\">\n", esc(&c.id)));
        if let Some(src) = &c.source {
            out.push_str(&format!(
                "          <com:Annotations><com:Annotation><com:AnnotationTitle>{}</com:AnnotationTitle><com:AnnotationType>{SOURCE_ANNOTATION}</com:AnnotationType></com:Annotation></com:Annotations>\n",
                esc(src)
            ));
        }
        names(out, "          ", &c.name, &c.id);
        out.push_str("        </str:Code>\n");
    }
    out.push_str("      </str:Codelist>\n");
}

/// Writes the SDMX-ML 2.1 structure message of a structure: the dataflow, the codelists (each
/// dimension's, the units, `CL_OBS_STATUS`, `CL_CONF_STATUS`), the concept scheme and the DSD.
/// `prepared` is the header's timestamp (`2026-11-30T12:00:00Z`), `id` the message id.
pub fn write_structure(structure: &Structure, id: &str, prepared: &str) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<mes:Structure xmlns:mes=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message\" xmlns:str=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure\" xmlns:com=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common\">\n");
    out.push_str("  <mes:Header>\n");
    out.push_str(&format!("    <mes:ID>{}</mes:ID>\n", esc(&sanitize_id(id))));
    out.push_str("    <mes:Test>false</mes:Test>\n");
    out.push_str(&format!(
        "    <mes:Prepared>{}</mes:Prepared>\n",
        esc(prepared)
    ));
    out.push_str(&format!("    <mes:Sender id=\"{AGENCY}\"/>\n"));
    out.push_str("  </mes:Header>\n");
    out.push_str("  <mes:Structures>\n");

    // Dataflow.
    let dsd = structure.dsd_id();
    out.push_str("    <str:Dataflows>\n");
    out.push_str(&format!(
        "      <str:Dataflow id=\"{}\" agencyID=\"{AGENCY}\" version=\"{VERSION}\">\n",
        esc(&structure.flow_id)
    ));
    names(&mut out, "        ", &structure.name, &structure.flow_id);
    for (lang, v) in &structure.description {
        if !v.trim().is_empty() && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            out.push_str(&format!(
                "        <com:Description xml:lang=\"{}\">{}</com:Description>\n",
                esc(lang),
                esc(v)
            ));
        }
    }
    out.push_str(&format!(
        "        <str:Structure><Ref id=\"{}\" version=\"{VERSION}\" agencyID=\"{AGENCY}\" package=\"datastructure\" class=\"DataStructure\"/></str:Structure>\n",
        esc(&dsd)
    ));
    out.push_str("      </str:Dataflow>\n");
    out.push_str("    </str:Dataflows>\n");

    // Codelists.
    out.push_str("    <str:Codelists>\n");
    for d in &structure.dimensions {
        codelist(&mut out, &d.codelist(), &d.name, &d.codes);
    }
    codelist(
        &mut out,
        "CL_UNIT_MEASURE",
        &text("Unit of measure", "Unité de mesure"),
        &structure.units,
    );
    codelist(
        &mut out,
        "CL_OBS_STATUS",
        &text("Observation status", "Statut de l’observation"),
        &[
            Code {
                source: None,
                id: "A".into(),
                name: text("Normal value", "Valeur normale"),
            },
            Code {
                source: None,
                id: "O".into(),
                name: text("Missing value", "Valeur manquante"),
            },
        ],
    );
    codelist(
        &mut out,
        "CL_CONF_STATUS",
        &text("Confidentiality status", "Statut de confidentialité"),
        &[
            Code {
                source: None,
                id: "F".into(),
                name: text("Free", "Libre"),
            },
            Code {
                source: None,
                id: "C".into(),
                name: text(
                    "Confidential statistical information",
                    "Information statistique confidentielle",
                ),
            },
        ],
    );
    out.push_str("    </str:Codelists>\n");

    // Concepts.
    out.push_str("    <str:Concepts>\n");
    out.push_str(&format!(
        "      <str:ConceptScheme id=\"{CONCEPT_SCHEME}\" agencyID=\"{AGENCY}\" version=\"{VERSION}\">\n"
    ));
    names(
        &mut out,
        "        ",
        &text(
            "Concepts of citizen SDG series",
            "Concepts des séries ODD citoyennes",
        ),
        CONCEPT_SCHEME,
    );
    let mut concepts: Vec<(String, Text)> = structure
        .dimensions
        .iter()
        .map(|d| (d.id.clone(), d.name.clone()))
        .collect();
    concepts.push(("TIME_PERIOD".into(), text("Time period", "Période")));
    concepts.push(("OBS_VALUE".into(), text("Observation value", "Valeur")));
    for (id, en, fr) in ATTRIBUTES {
        concepts.push((id.into(), text(en, fr)));
    }
    for (id, name) in &concepts {
        out.push_str(&format!("        <str:Concept id=\"{}\">\n", esc(id)));
        names(&mut out, "          ", name, id);
        out.push_str("        </str:Concept>\n");
    }
    out.push_str("      </str:ConceptScheme>\n");
    out.push_str("    </str:Concepts>\n");

    // The DSD.
    out.push_str("    <str:DataStructures>\n");
    out.push_str(&format!(
        "      <str:DataStructure id=\"{}\" agencyID=\"{AGENCY}\" version=\"{VERSION}\">\n",
        esc(&dsd)
    ));
    names(&mut out, "        ", &structure.name, &dsd);
    out.push_str("        <str:DataStructureComponents>\n");
    out.push_str("          <str:DimensionList id=\"DimensionDescriptor\">\n");
    for (i, d) in structure.dimensions.iter().enumerate() {
        out.push_str(&format!(
            "            <str:Dimension id=\"{}\" position=\"{}\">{}{}</str:Dimension>\n",
            esc(&d.id),
            i + 1,
            concept_ref(&esc(&d.id)),
            codelist_ref(&esc(&d.codelist()))
        ));
    }
    out.push_str(&format!(
        "            <str:TimeDimension id=\"TIME_PERIOD\" position=\"{}\">{}{}</str:TimeDimension>\n",
        structure.dimensions.len() + 1,
        concept_ref("TIME_PERIOD"),
        text_format("ObservationalTimePeriod")
    ));
    out.push_str("          </str:DimensionList>\n");
    out.push_str("          <str:AttributeList id=\"AttributeDescriptor\">\n");
    for (id, _, _) in ATTRIBUTES {
        let (status, repr) = match id {
            "UNIT_MEASURE" => ("Mandatory", codelist_ref("CL_UNIT_MEASURE")),
            "OBS_STATUS" => ("Conditional", codelist_ref("CL_OBS_STATUS")),
            "CONF_STATUS" => ("Conditional", codelist_ref("CL_CONF_STATUS")),
            "LOWER_BOUND" | "UPPER_BOUND" => ("Conditional", text_format("Double")),
            _ => ("Conditional", text_format("String")),
        };
        out.push_str(&format!(
            "            <str:Attribute id=\"{id}\" assignmentStatus=\"{status}\">{}{repr}<str:AttributeRelationship><str:PrimaryMeasure><Ref id=\"OBS_VALUE\"/></str:PrimaryMeasure></str:AttributeRelationship></str:Attribute>\n",
            concept_ref(id)
        ));
    }
    out.push_str("          </str:AttributeList>\n");
    out.push_str(&format!(
        "          <str:MeasureList id=\"MeasureDescriptor\"><str:PrimaryMeasure id=\"OBS_VALUE\">{}{}</str:PrimaryMeasure></str:MeasureList>\n",
        concept_ref("OBS_VALUE"),
        text_format("Double")
    ));
    out.push_str("        </str:DataStructureComponents>\n");
    out.push_str("      </str:DataStructure>\n");
    out.push_str("    </str:DataStructures>\n");
    out.push_str("  </mes:Structures>\n");
    out.push_str("</mes:Structure>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(en: &str) -> Text {
        [("en".to_owned(), en.to_owned())].into()
    }

    fn groups(gs: &[&str]) -> Vec<(String, Text)> {
        gs.iter().map(|g| (g.to_string(), t(g))).collect()
    }

    #[test]
    fn maps_sex_age_and_urbanisation_to_sdg_codes() {
        let m = map_dimensions(&[
            (
                "sexe_chef".into(),
                t("Sex of head"),
                groups(&["femme", "homme"]),
            ),
            ("age".into(), Text::new(), groups(&["0-14", "15-64", "65+"])),
            (
                "milieu".into(),
                Text::new(),
                groups(&["urbain", "rural", "peri-urbain"]),
            ),
            (
                "taille_menage".into(),
                t("Household size"),
                groups(&["1-4", "9+", "9 +"]),
            ),
            ("sexe".into(), Text::new(), groups(&["femme"])),
        ]);
        let ids: Vec<&str> = m.iter().map(|x| x.dimension.id.as_str()).collect();
        // A second sex field keeps its own id: a concept is used once.
        assert_eq!(ids, ["SEX", "AGE", "URBANISATION", "TAILLE_MENAGE", "SEXE"]);
        assert_eq!(m[0].codes["femme"], "F");
        assert_eq!(m[0].codes["homme"], "M");
        assert_eq!(m[1].codes["0-14"], "Y0T14");
        assert_eq!(m[1].codes["65+"], "Y_GE65");
        assert_eq!(m[2].codes["urbain"], "U");
        assert_eq!(m[2].codes["peri-urbain"], "peri-urbain");
        // Not SDG: codes are made valid ids, and stay unique.
        assert_eq!(m[3].codes["9+"], "9PLUS");
        assert_eq!(m[3].codes["9 +"], "9_PLUS");
        assert_eq!(m[4].codes["femme"], "femme");
        // The total is in every codelist, first.
        for x in &m {
            assert_eq!(x.dimension.codes[0].id, "_T");
            assert_eq!(x.dimension.codes.len(), x.codes.len() + 1);
        }
        assert_eq!(m[3].dimension.name, t("Household size"));
        // Where a code is not the group, or is an SDG code, it says which group it stands for.
        let sources: Vec<Option<&str>> = m[0]
            .dimension
            .codes
            .iter()
            .map(|c| c.source.as_deref())
            .collect();
        assert_eq!(sources, [None, Some("femme"), Some("homme")]);
        let sources: Vec<Option<&str>> = m[3]
            .dimension
            .codes
            .iter()
            .map(|c| c.source.as_deref())
            .collect();
        assert_eq!(sources, [None, None, Some("9+"), Some("9 +")]);
    }

    #[test]
    fn ids_never_clash_with_fixed_columns_or_each_other() {
        let m = map_dimensions(&[
            ("series".into(), Text::new(), groups(&["a"])),
            ("1er_choix".into(), Text::new(), groups(&["a"])),
            (
                "type-point".into(),
                Text::new(),
                groups(&["a", "A", "a b", "a_b"]),
            ),
            ("type_point".into(), Text::new(), groups(&["x"])),
        ]);
        let ids: Vec<&str> = m.iter().map(|x| x.dimension.id.as_str()).collect();
        assert_eq!(ids, ["SERIES_2", "D_1ER_CHOIX", "TYPE-POINT", "TYPE_POINT"]);
        let codes: BTreeSet<&String> = m[2].codes.values().collect();
        assert_eq!(codes.len(), 4, "{:?}", m[2].codes);
        assert_eq!(m[2].codes["a b"], "a_b");
        assert_eq!(m[2].codes["a_b"], "a_b_2");
    }

    #[test]
    fn ids_keep_their_case_and_fold_accents() {
        assert_eq!(sanitize_id("TD-ND"), "TD-ND");
        assert_eq!(sanitize_id("Abéché"), "Abeche");
        assert_eq!(sanitize_id(" a/b "), "a_b");
        assert_eq!(sanitize_id(""), "X");
        assert_eq!(component_id("Âge du chef"), "AGE_DU_CHEF");
    }

    #[test]
    fn frequency_of_periods() {
        assert_eq!(freq_of("2026-10"), "M");
        assert_eq!(freq_of("2026-Q4"), "Q");
        assert_eq!(freq_of("2026"), "A");
    }

    fn structure() -> Structure {
        let m = map_dimensions(&[("sexe_chef".into(), Text::new(), groups(&["femme", "homme"]))]);
        let mut dims = vec![
            Dimension {
                id: "FREQ".into(),
                name: text("Frequency", "Fréquence"),
                codes: vec![freq_code("M")],
            },
            Dimension {
                id: "SERIES".into(),
                name: t("Series"),
                codes: vec![Code {
                    source: None,
                    id: "6_1_1_EAU".into(),
                    name: t("Water & <sanitation>"),
                }],
            },
            Dimension {
                id: "REF_AREA".into(),
                name: t("Area"),
                codes: vec![
                    total_code(),
                    Code {
                        source: None,
                        id: "TD-ND".into(),
                        name: t("N’Djamena"),
                    },
                ],
            },
        ];
        dims.push(m[0].dimension.clone());
        Structure {
            flow_id: "DF_6_1_1_EAU".into(),
            name: t("Water"),
            description: Text::new(),
            dimensions: dims,
            units: vec![Code {
                source: None,
                id: "PT".into(),
                name: t("Percent"),
            }],
        }
    }

    #[test]
    fn writes_sdmx_csv_2_with_every_column() {
        let s = structure();
        let obs = vec![
            Obs {
                key: vec!["M".into(), "6_1_1_EAU".into(), "TD-ND".into(), "F".into()],
                time_period: "2026-10".into(),
                value: Some(0.5),
                unit: "PT".into(),
                lower: Some(0.25),
                upper: Some(0.75),
                comment: "n=30, \"weighted\"".into(),
                ..Default::default()
            },
            Obs {
                key: vec!["M".into(), "6_1_1_EAU".into(), "_T".into()],
                time_period: "2026-10".into(),
                value: None,
                unit: "PT".into(),
                obs_status: "O".into(),
                conf_status: "C".into(),
                ..Default::default()
            },
        ];
        let out = write_sdmx_csv2(&s, &obs);
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,SERIES,REF_AREA,SEX,TIME_PERIOD,OBS_VALUE,\
             UNIT_MEASURE,OBS_STATUS,CONF_STATUS,LOWER_BOUND,UPPER_BOUND,COMMENT_OBS"
        );
        assert_eq!(
            lines[1],
            "dataflow,BARAZA:DF_6_1_1_EAU(1.0),I,M,6_1_1_EAU,TD-ND,F,2026-10,0.5,PT,,,0.25,0.75,\"n=30, \"\"weighted\"\"\""
        );
        // A short key is filled with totals; a hidden figure has no value, O and C.
        assert_eq!(
            lines[2],
            "dataflow,BARAZA:DF_6_1_1_EAU(1.0),I,M,6_1_1_EAU,_T,_T,2026-10,,PT,O,C,,,"
        );
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3], "");
        // The official reader takes it back.
        let (layout, read) =
            crate::official::read(out.as_bytes(), &crate::official::Limits::default())
                .expect("reads");
        assert_eq!(layout, crate::official::Layout::SdmxCsv);
        assert_eq!(read.len(), 1, "the hidden one has no value");
        assert_eq!(read[0].value, 0.5);
    }

    #[test]
    fn writes_a_structure_message() {
        let s = structure();
        let xml = write_structure(&s, "6.1.1 eau", "2026-11-30T12:00:00Z");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mes:Structure "));
        assert!(xml.contains("<mes:ID>6_1_1_eau</mes:ID>"));
        assert!(
            xml.contains("<str:Dataflow id=\"DF_6_1_1_EAU\" agencyID=\"BARAZA\" version=\"1.0\">")
        );
        assert!(xml.contains("<Ref id=\"DSD_6_1_1_EAU\" version=\"1.0\" agencyID=\"BARAZA\" package=\"datastructure\" class=\"DataStructure\"/>"));
        assert!(xml.contains("<str:Codelist id=\"CL_AREA\""));
        assert!(xml.contains("<str:Codelist id=\"CL_SEX\""));
        assert!(xml.contains("<str:Code id=\"F\">\n          <com:Annotations><com:Annotation><com:AnnotationTitle>femme</com:AnnotationTitle><com:AnnotationType>BARAZA_SOURCE</com:AnnotationType></com:Annotation></com:Annotations>\n          <com:Name xml:lang=\"en\">Female</com:Name>"));
        assert!(xml.contains("Water &amp; &lt;sanitation&gt;"));
        assert!(xml.contains("<str:Dimension id=\"SEX\" position=\"4\">"));
        assert!(xml.contains("<str:TimeDimension id=\"TIME_PERIOD\" position=\"5\">"));
        for (id, _, _) in ATTRIBUTES {
            assert!(xml.contains(&format!("<str:Attribute id=\"{id}\"")), "{id}");
            assert!(xml.contains(&format!("<str:Concept id=\"{id}\">")), "{id}");
        }
        assert!(xml.contains("<str:PrimaryMeasure id=\"OBS_VALUE\">"));
        // Well formed: as many opening as closing tags for each element we write.
        for tag in [
            "str:Codelist",
            "str:Code",
            "str:Concept",
            "str:Dimension",
            "str:Attribute",
        ] {
            let open = xml.matches(&format!("<{tag} ")).count();
            let close = xml.matches(&format!("</{tag}>")).count();
            assert_eq!(open, close, "{tag}");
        }
    }
}
