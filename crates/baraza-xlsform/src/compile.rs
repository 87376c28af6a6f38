//! From sheets of text to a checked [`Form`]: every problem is collected, none stops the others.
//!
//! Once the tree of groups and questions is built, `classify` gives each question its
//! effective sensitivity (its own, its nearest group's, or a default), so that the model carries
//! a decided level and nobody downstream repeats the rules.

use crate::diag::Diagnostic;
use crate::model::*;
use crate::read::{RawRow, Sheet, Workbook};
use std::collections::{HashMap, HashSet};

/// Survey columns that XLSForm defines (after aliases), besides translatable texts.
const SURVEY_COLUMNS: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "guidance_hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "default",
    "readonly",
    "appearance",
    "choice_filter",
    "parameters",
    "trigger",
    "image",
    "big-image",
    "audio",
    "video",
    "repeat_count",
    "autoplay",
    "note",
    "intent",
    "noappearanceerror",
    "save_to",
    "list_name",
    // Baraza's own: kept in the model, left out of the XForm (pyxform ignores them too).
    "sensitivity",
    "quasi_identifier",
    "consent",
    "consent_yes",
    "retention_days",
    // HXL hashtags (KoboToolbox's `hxl` column; `instance::hxl` is read as the same).
    "hxl",
];

/// An HXL hashtag with its attributes, normalised (`#Adm1 +Name` -> `#adm1+name`), or `None`
/// when it is not one: `#` and a tag, then `+attributes`, each a letter then letters, digits or
/// `_` (HXL 1.1, "Hashtags and attributes").
pub fn hxl_hashtag(v: &str) -> Option<String> {
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = compact.strip_prefix('#')?;
    let mut out = String::from("#");
    for (i, part) in rest.split('+').enumerate() {
        let mut chars = part.chars();
        let first = chars.next()?;
        if !first.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        if i > 0 {
            out.push('+');
        }
        out.push_str(&part.to_ascii_lowercase());
    }
    Some(out)
}

/// Splits a header into its column and language: `label::Français (fr)` -> (`label`, `Français (fr)`).
pub fn split_header(h: &str) -> (String, Option<String>) {
    let h = h.trim();
    if h.eq_ignore_ascii_case("instance::hxl") {
        return ("hxl".into(), None);
    }
    let mut parts: Vec<&str> = h.split("::").collect();
    let mut base = parts.remove(0).trim().to_owned();
    // media::image::English -> image
    if base.eq_ignore_ascii_case("media") && !parts.is_empty() {
        base = parts.remove(0).trim().to_owned();
    }
    let lang = if parts.is_empty() {
        None
    } else {
        Some(parts.join("::").trim().to_owned())
    };
    (alias(&base), lang)
}

fn alias(base: &str) -> String {
    let b = base.trim().to_ascii_lowercase().replace(' ', "_");
    match b.as_str() {
        "caption" => "label".into(),
        "relevance" => "relevant".into(),
        "compulsory" => "required".into(),
        "constraint_msg" | "jr:constraintmsg" => "constraint_message".into(),
        "required_msg" | "jr:requiredmsg" => "required_message".into(),
        "calculate" | "bind::calculate" => "calculation".into(),
        "default_value" => "default".into(),
        "read_only" => "readonly".into(),
        "choice-filter" | "choice_filters" => "choice_filter".into(),
        "jr:count" | "repeat-count" => "repeat_count".into(),
        "guidance-hint" => "guidance_hint".into(),
        "listname" => "list_name".into(),
        "value" => "name".into(),
        "params" => "parameters".into(),
        "big_image" => "big-image".into(),
        "quasi-identifier" => "quasi_identifier".into(),
        "consent-yes" => "consent_yes".into(),
        _ => b,
    }
}

/// A sheet with its header parsed: (column, language) per position.
struct Table<'a> {
    columns: Vec<(String, Option<String>, String)>,
    rows: &'a [RawRow],
}

impl<'a> Table<'a> {
    fn new(sheet: &'a Sheet, diags: &mut Vec<Diagnostic>) -> Option<Table<'a>> {
        let header_at = sheet
            .rows
            .iter()
            .position(|r| r.cells.iter().any(|c| !c.is_empty()))?;
        let header = &sheet.rows[header_at];
        let mut seen = HashSet::new();
        let mut columns = Vec::new();
        for raw in &header.cells {
            let (base, lang) = split_header(raw);
            if !raw.trim().is_empty() && !seen.insert((base.clone(), lang.clone())) {
                diags.push(
                    Diagnostic::error("header_duplicate", &sheet.name)
                        .at(header.number)
                        .col(raw)
                        .arg("name", raw.trim()),
                );
            }
            columns.push((base, lang, raw.trim().to_owned()));
        }
        Some(Table {
            columns,
            rows: &sheet.rows[header_at + 1..],
        })
    }

    fn has(&self, col: &str) -> bool {
        self.columns.iter().any(|(b, _, _)| b == col)
    }
}

/// One data row as a map from (column, language) to value.
struct Row<'a> {
    number: usize,
    cells: Vec<(&'a str, Option<&'a str>, &'a str, &'a str)>,
}

impl<'a> Row<'a> {
    fn of(table: &'a Table<'a>, raw: &'a RawRow) -> Row<'a> {
        let mut cells = Vec::new();
        for (i, (base, lang, header)) in table.columns.iter().enumerate() {
            if let Some(v) = raw.cells.get(i) {
                if !v.is_empty() && !header.is_empty() {
                    cells.push((base.as_str(), lang.as_deref(), header.as_str(), v.as_str()));
                }
            }
        }
        Row {
            number: raw.number,
            cells,
        }
    }

    fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    fn get(&self, col: &str) -> Option<&'a str> {
        self.cells
            .iter()
            .find(|(b, l, _, _)| *b == col && l.is_none())
            .or_else(|| self.cells.iter().find(|(b, _, _, _)| *b == col))
            .map(|(_, _, _, v)| *v)
    }

    fn header_of(&self, col: &str) -> String {
        self.cells
            .iter()
            .find(|(b, _, _, _)| *b == col)
            .map(|(_, _, h, _)| h.to_string())
            .unwrap_or_else(|| col.to_owned())
    }

    fn texts(&self, langs: &mut Vec<String>) -> Texts {
        let mut t = Texts::default();
        for (base, lang, _, v) in &self.cells {
            let slot = match *base {
                "label" => &mut t.label,
                "hint" => &mut t.hint,
                "guidance_hint" => &mut t.guidance_hint,
                "image" => &mut t.image,
                "big-image" => &mut t.big_image,
                "audio" => &mut t.audio,
                "video" => &mut t.video,
                "constraint_message" => &mut t.constraint_message,
                "required_message" => &mut t.required_message,
                _ => continue,
            };
            let l = lang.unwrap_or("default");
            if !langs.iter().any(|x| x == l) {
                langs.push(l.to_owned());
            }
            slot.set(l, (*v).to_owned());
        }
        t
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.to_ascii_lowercase().starts_with("xml")
}

/// A yes/no column as pyxform writes it: `true()`, `false()`, or the expression as given.
fn truthy(v: &str) -> Option<String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "true()" => Some("true()".into()),
        "no" | "false" | "false()" => Some("false()".into()),
        "" => None,
        _ => Some(v.trim().to_owned()),
    }
}

/// A yes/no column that must be a constant (not an expression): `None` for anything else.
fn yes_no(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "oui" => Some(true),
        "non" => Some(false),
        _ => match truthy(v).as_deref() {
            Some("true()") => Some(true),
            Some("false()") => Some(false),
            _ => None,
        },
    }
}

/// The longest retention of a question's answers, in days (100 years).
pub const MAX_FIELD_RETENTION_DAYS: u32 = 36_500;

/// The `sensitivity` cell of a row, if any; an unknown value is reported and read as none.
fn read_sensitivity(
    value: Option<&str>,
    sheet: &str,
    row: Option<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Sensitivity> {
    let v = value?;
    let level = Sensitivity::parse(v);
    if level.is_none() {
        let mut d = Diagnostic::error("sensitivity_invalid", sheet)
            .col("sensitivity")
            .arg("value", v.trim());
        d.row = row;
        diags.push(d);
    }
    level
}

fn parse_type(t: &str) -> Option<(QType, Option<String>, bool)> {
    let normalised = normalise_type(t);
    let t = normalised.as_str();
    let mut words = t.split_whitespace();
    let head = words.next()?.to_ascii_lowercase();
    let rest: Vec<&str> = words.collect();
    let (list, or_other) = match rest.as_slice() {
        [] => (None, false),
        [l] => (Some((*l).to_owned()), false),
        [l, o] if o.eq_ignore_ascii_case("or_other") => (Some((*l).to_owned()), true),
        _ => (Some(rest.join(" ")), false),
    };
    use QType::*;
    let q = match head.as_str() {
        "text" | "string" => Text,
        "integer" | "int" => Integer,
        "decimal" => Decimal,
        "range" => Range,
        "select_one" | "select1" => SelectOne,
        "select_one_external" => SelectOneExternal,
        "select_multiple" | "select_all_that_apply" => SelectMultiple,
        "select_one_from_file" => SelectOneFromFile,
        "select_multiple_from_file" => SelectMultipleFromFile,
        "rank" => Rank,
        "note" => Note,
        "geopoint" | "gps" | "location" => Geopoint,
        "geotrace" => Geotrace,
        "geoshape" => Geoshape,
        "date" => Date,
        "time" => Time,
        "datetime" => DateTime,
        "image" | "photo" => Image,
        "audio" => Audio,
        "video" => Video,
        "file" => File,
        "barcode" => Barcode,
        "calculate" | "calculation" => Calculate,
        "acknowledge" | "trigger" => Acknowledge,
        "hidden" => Hidden,
        "start" => Start,
        "end" => End,
        "today" => Today,
        "deviceid" | "imei" => DeviceId,
        "username" => Username,
        "phonenumber" => PhoneNumber,
        "email" => Email,
        "simserial" => SimSerial,
        "subscriberid" => SubscriberId,
        "audit" => Audit,
        "start-geopoint" => StartGeopoint,
        "background-audio" => BackgroundAudio,
        _ => return None,
    };
    if !q.is_select() && q != SelectOneExternal && (list.is_some() && !matches!(q, Calculate)) {
        return None;
    }
    Some((q, list, or_other))
}

/// pyxform's spelled-out aliases: `select one x`, `select all that apply x`, `select multiple x`.
fn normalise_type(t: &str) -> String {
    let t = t.trim();
    let lower = t.to_ascii_lowercase();
    for (alias, canonical) in [
        ("select all that apply ", "select_multiple "),
        ("select multiple ", "select_multiple "),
        ("select one ", "select_one "),
    ] {
        if lower.starts_with(alias) {
            return format!("{canonical}{}", &t[alias.len()..]);
        }
    }
    t.to_owned()
}

fn parse_parameters(p: &str) -> Vec<(String, String)> {
    p.split([' ', ';', ','])
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_owned()),
            None => (kv.trim().to_ascii_lowercase(), String::new()),
        })
        .collect()
}

enum Frame {
    Root(Vec<Node>),
    Group(Box<Group>),
}

/// A row marked `consent` = `yes`, checked once the whole form is known.
struct ConsentMark {
    name: String,
    row: usize,
    qtype: QType,
    type_text: String,
    list: Option<String>,
    /// The `consent_yes` cell and its header.
    yes: Option<(String, String)>,
    in_repeat: bool,
}

/// Compiles a workbook into a form, with every diagnostic found.
pub fn compile_workbook(
    book: &Workbook,
    form_name: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Form> {
    let Some(survey_sheet) = book.sheet("survey") else {
        diags.push(Diagnostic::error("sheet_survey_missing", "survey"));
        return None;
    };
    let mut langs: Vec<String> = Vec::new();
    let lists = book
        .sheet("choices")
        .map(|s| read_choices(s, &mut langs, diags))
        .unwrap_or_default();
    let external: Vec<String> = book
        .sheet("external_choices")
        .map(|s| {
            let mut ignored = Vec::new();
            read_choices(s, &mut Vec::new(), &mut ignored)
                .into_iter()
                .map(|l| l.name)
                .collect()
        })
        .unwrap_or_default();
    let (settings, settings_row) = book
        .sheet("settings")
        .map(|s| read_settings(s, diags))
        .unwrap_or_default();

    let Some(table) = Table::new(survey_sheet, diags) else {
        diags.push(Diagnostic::error("survey_empty", "survey"));
        return None;
    };
    for (base, _, header) in &table.columns {
        if !header.is_empty()
            && !SURVEY_COLUMNS.contains(&base.as_str())
            && !base.starts_with("instance::")
            && !base.starts_with("bind::")
            && !base.starts_with("body::")
        {
            diags.push(
                Diagnostic::warning("column_unknown", "survey")
                    .at(survey_sheet.rows.first().map(|r| r.number).unwrap_or(1))
                    .col(header)
                    .arg("name", header.as_str()),
            );
        }
    }

    let mut stack: Vec<Frame> = vec![Frame::Root(Vec::new())];
    let mut count = 0usize;
    let mut consent_marks: Vec<ConsentMark> = Vec::new();
    for raw in table.rows {
        let row = Row::of(&table, raw);
        if row.is_empty() {
            continue;
        }
        let n = row.number;
        let Some(type_text) = row.get("type") else {
            diags.push(
                Diagnostic::error("type_missing", "survey")
                    .at(n)
                    .col("type"),
            );
            continue;
        };
        let lower = type_text.trim().to_ascii_lowercase().replace('_', " ");
        let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
        match lower.as_str() {
            "begin group" | "begin repeat" => {
                let repeat = lower == "begin repeat";
                let name = row.get("name").unwrap_or("").trim().to_owned();
                check_name(&name, n, diags);
                let texts = row.texts(&mut langs);
                let sensitivity =
                    read_sensitivity(row.get("sensitivity"), "survey", Some(n), diags);
                stack.push(Frame::Group(Box::new(Group {
                    name,
                    row: n,
                    repeat,
                    texts,
                    relevant: row.get("relevant").map(str::to_owned),
                    appearance: row.get("appearance").map(str::to_owned),
                    repeat_count: if repeat {
                        row.get("repeat_count").map(str::to_owned)
                    } else {
                        None
                    },
                    sensitivity,
                    children: Vec::new(),
                })));
                continue;
            }
            "end group" | "end repeat" => {
                let repeat = lower == "end repeat";
                match stack.last() {
                    Some(Frame::Group(g)) if g.repeat == repeat => {
                        if let Some(Frame::Group(g)) = stack.pop() {
                            push_node(&mut stack, Node::Group(*g), diags);
                        }
                    }
                    _ => diags.push(
                        Diagnostic::error(
                            if repeat {
                                "repeat_unmatched_end"
                            } else {
                                "group_unmatched_end"
                            },
                            "survey",
                        )
                        .at(n)
                        .col("type"),
                    ),
                }
                continue;
            }
            _ => {}
        }
        let Some((qtype, list, or_other)) = parse_type(type_text) else {
            let head = type_text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if matches!(
                head.as_str(),
                "select_one"
                    | "select_multiple"
                    | "rank"
                    | "select_one_from_file"
                    | "select_multiple_from_file"
            ) {
                diags.push(
                    Diagnostic::error("choices_list_name_missing", "survey")
                        .at(n)
                        .col("type")
                        .arg("type", head),
                );
            } else {
                diags.push(
                    Diagnostic::error("type_unknown", "survey")
                        .at(n)
                        .col("type")
                        .arg("type", type_text.trim()),
                );
            }
            continue;
        };
        if (qtype.is_select() || qtype == QType::SelectOneExternal) && list.is_none() {
            diags.push(
                Diagnostic::error("choices_list_name_missing", "survey")
                    .at(n)
                    .col("type")
                    .arg("type", type_text.trim()),
            );
            continue;
        }
        let name = match row.get("name") {
            Some(nm) => nm.trim().to_owned(),
            None if qtype.is_metadata() => type_text.trim().to_ascii_lowercase(),
            None => {
                diags.push(
                    Diagnostic::error("name_missing", "survey")
                        .at(n)
                        .col("name"),
                );
                continue;
            }
        };
        check_name(&name, n, diags);
        let texts = row.texts(&mut langs);
        if qtype.has_control()
            && row.get("calculation").is_none()
            && row.get("trigger").is_none()
            && texts.label.is_empty()
            && texts.hint.is_empty()
            && texts.guidance_hint.is_empty()
            && !texts.has_media()
        {
            diags.push(
                Diagnostic::error("label_missing", "survey")
                    .at(n)
                    .col("label")
                    .arg("name", name.clone()),
            );
        }
        let calculation = row.get("calculation").map(str::to_owned);
        if qtype == QType::Calculate && calculation.is_none() && row.get("default").is_none() {
            diags.push(
                Diagnostic::error("calculation_missing", "survey")
                    .at(n)
                    .col("calculation"),
            );
        }
        if let Some(l) = &list {
            let missing = match qtype {
                QType::SelectOne | QType::SelectMultiple | QType::Rank => {
                    !lists.iter().any(|x| &x.name == l)
                }
                QType::SelectOneExternal => !external.iter().any(|x| x == l),
                _ => false,
            };
            if missing {
                diags.push(
                    Diagnostic::error("choices_list_missing", "survey")
                        .at(n)
                        .col("type")
                        .arg("list", l.clone()),
                );
            }
        }
        let choice_filter = row.get("choice_filter").map(str::to_owned);
        if or_other && choice_filter.is_some() {
            diags.push(
                Diagnostic::error("or_other_with_choice_filter", "survey")
                    .at(n)
                    .col("choice_filter"),
            );
        }
        let parameters = row
            .get("parameters")
            .map(parse_parameters)
            .unwrap_or_default();
        check_parameters(qtype, &parameters, type_text, n, diags);
        let sensitivity = read_sensitivity(row.get("sensitivity"), "survey", Some(n), diags);
        let quasi_identifier = match row.get("quasi_identifier") {
            None => false,
            Some(v) => yes_no(v).unwrap_or_else(|| {
                diags.push(
                    Diagnostic::error("quasi_identifier_invalid", "survey")
                        .at(n)
                        .col(&row.header_of("quasi_identifier"))
                        .arg("value", v.trim()),
                );
                false
            }),
        };
        let retention_days = row.get("retention_days").and_then(|v| {
            let days = v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=MAX_FIELD_RETENTION_DAYS).contains(d));
            if days.is_none() {
                diags.push(
                    Diagnostic::error("retention_days_invalid", "survey")
                        .at(n)
                        .col(&row.header_of("retention_days"))
                        .arg("value", v.trim()),
                );
            }
            // Files are erased with their record (the form's retention), not one by one yet.
            if days.is_some()
                && matches!(
                    qtype,
                    QType::Image
                        | QType::Audio
                        | QType::Video
                        | QType::File
                        | QType::BackgroundAudio
                )
            {
                diags.push(
                    Diagnostic::error("retention_days_file", "survey")
                        .at(n)
                        .col(&row.header_of("retention_days"))
                        .arg("type", type_text.trim()),
                );
                return None;
            }
            days
        });
        let hxl = row.get("hxl").and_then(|v| {
            let tag = hxl_hashtag(v);
            if tag.is_none() {
                diags.push(
                    Diagnostic::error("hxl_invalid", "survey")
                        .at(n)
                        .col(&row.header_of("hxl"))
                        .arg("value", v.trim()),
                );
            }
            tag
        });
        let consent = match row.get("consent") {
            None => false,
            Some(v) => yes_no(v).unwrap_or_else(|| {
                diags.push(
                    Diagnostic::error("consent_invalid", "survey")
                        .at(n)
                        .col(&row.header_of("consent"))
                        .arg("value", v.trim()),
                );
                false
            }),
        };
        let consent_yes = row
            .get("consent_yes")
            .map(|v| (v.trim().to_owned(), row.header_of("consent_yes")));
        if consent {
            consent_marks.push(ConsentMark {
                name: name.clone(),
                row: n,
                qtype,
                type_text: type_text.trim().to_owned(),
                list: list.clone(),
                yes: consent_yes,
                in_repeat: stack
                    .iter()
                    .any(|f| matches!(f, Frame::Group(g) if g.repeat)),
            });
        } else if let Some((_, header)) = consent_yes {
            diags.push(
                Diagnostic::error("consent_yes_alone", "survey")
                    .at(n)
                    .col(&header)
                    .arg("name", name.clone()),
            );
        }
        count += 1;
        let q = Question {
            name,
            row: n,
            qtype,
            type_text: type_text.trim().to_owned(),
            list,
            or_other,
            texts,
            required: row.get("required").and_then(truthy),
            relevant: row.get("relevant").map(str::to_owned),
            constraint: row.get("constraint").map(str::to_owned),
            calculation,
            default: row.get("default").map(str::to_owned),
            readonly: row.get("readonly").and_then(truthy),
            appearance: row.get("appearance").map(str::to_owned),
            choice_filter,
            parameters,
            trigger: row.get("trigger").map(str::to_owned),
            // Refined by `classify` once the whole tree is known.
            sensitivity: sensitivity.unwrap_or_default(),
            sensitivity_declared: sensitivity.is_some(),
            quasi_identifier,
            retention_days,
            hxl,
        };
        let _ = row.header_of("type");
        push_node(&mut stack, Node::Question(q), diags);
    }
    while stack.len() > 1 {
        if let Some(Frame::Group(g)) = stack.pop() {
            diags.push(
                Diagnostic::error(
                    if g.repeat {
                        "repeat_unclosed"
                    } else {
                        "group_unclosed"
                    },
                    "survey",
                )
                .at(g.row)
                .col("type")
                .arg("name", g.name.clone()),
            );
            push_node(&mut stack, Node::Group(*g), diags);
        }
    }
    let Some(Frame::Root(mut children)) = stack.pop() else {
        return None;
    };
    expand_table_lists(&mut children);
    if count == 0 {
        diags.push(Diagnostic::error("survey_empty", "survey"));
    }

    let id = settings
        .get("form_id")
        .cloned()
        .unwrap_or_else(|| form_name.to_owned());
    // Only an id the author typed is checked; one made from the file name is used as it is.
    if settings.contains_key("form_id") && !valid_name(&id) {
        diags.push(
            Diagnostic::error("settings_form_id_invalid", "settings")
                .col("form_id")
                .arg("value", id.clone()),
        );
    }
    let default_language = settings.get("default_language").cloned();
    // Languages: "default" only counts when it is the only one or mixed with real ones.
    if let Some(dl) = &default_language {
        for l in langs.iter_mut() {
            if l == "default" {
                *l = dl.clone();
            }
        }
    }
    let root = settings
        .get("name")
        .cloned()
        .unwrap_or_else(|| "data".to_owned());
    if !valid_name(&root) {
        diags.push(
            Diagnostic::error("name_invalid", "settings")
                .col("name")
                .arg("name", root.clone()),
        );
    }
    let mut form = Form {
        title: settings
            .get("form_title")
            .cloned()
            .unwrap_or_else(|| id.clone()),
        id,
        version: settings.get("version").cloned(),
        root,
        omit_instance_id: settings
            .get("omit_instanceid")
            .and_then(|v| truthy(v))
            .is_some_and(|v| v == "true()"),
        auto_send: settings.get("auto_send").cloned(),
        auto_delete: settings.get("auto_delete").cloned(),
        instance_name: settings.get("instance_name").cloned(),
        default_language,
        public_key: settings.get("public_key").cloned(),
        submission_url: settings.get("submission_url").cloned(),
        style: settings.get("style").cloned(),
        languages: langs,
        children,
        lists,
        external_lists: external,
        sensitivity_default: None,
        consent: None,
    };
    let default_level = read_sensitivity(
        settings.get("sensitivity").map(String::as_str),
        "settings",
        settings_row,
        diags,
    )
    .unwrap_or_default();
    classify(&mut form, default_level, diags);
    if let Some(dl) = form.default_language.clone() {
        rename_default(&mut form, &dl);
    }
    form.consent = check_consent(&form, &consent_marks, &settings, settings_row, diags);
    check_choices_allowed_duplicates(&form, &settings, diags);
    check_translations(&form, diags);
    crate::refs::check(&form, diags);
    Some(form)
}

/// A `table-list` group is a `field-list` whose first row shows the choices once, as column
/// headings, and whose selects hide their choice labels — pyxform writes it with two generated
/// questions, and so do we.
fn expand_table_lists(nodes: &mut [Node]) {
    for n in nodes.iter_mut() {
        let Node::Group(g) = n else { continue };
        expand_table_lists(&mut g.children);
        if g.repeat || g.appearance.as_deref().map(str::trim) != Some("table-list") {
            continue;
        }
        let list = g.children.iter().find_map(|c| match c {
            Node::Question(q) if q.qtype.is_select() => q.list.clone(),
            _ => None,
        });
        g.appearance = Some("field-list".into());
        for c in g.children.iter_mut() {
            if let Node::Question(q) = c {
                if q.qtype.is_select() {
                    q.appearance = Some("list-nolabel".into());
                }
            }
        }
        let generated = |name: String,
                         qtype: QType,
                         texts: Texts,
                         list: Option<String>,
                         appearance: Option<String>| Question {
            name,
            row: g.row,
            qtype,
            type_text: String::new(),
            list,
            or_other: false,
            texts,
            required: None,
            relevant: None,
            constraint: None,
            calculation: None,
            default: None,
            readonly: None,
            appearance,
            choice_filter: None,
            parameters: Vec::new(),
            trigger: None,
            sensitivity: Sensitivity::default(),
            sensitivity_declared: false,
            quasi_identifier: false,
            retention_days: None,
            hxl: None,
        };
        let label_texts = Texts {
            label: std::mem::take(&mut g.texts.label),
            ..Texts::default()
        };
        let mut header = Texts::default();
        header.label.set("default", " ".into());
        let note = generated(
            format!("generated_table_list_label_{}", g.row),
            QType::Note,
            label_texts,
            None,
            None,
        );
        let heads = generated(
            format!("reserved_name_for_field_list_labels_{}", g.row + 1),
            QType::SelectOne,
            header,
            list,
            Some("label".into()),
        );
        g.children.insert(0, Node::Question(heads));
        g.children.insert(0, Node::Question(note));
    }
}

fn rename_default(form: &mut Form, to: &str) {
    fn fix(t: &mut Texts, to: &str) {
        for lt in [
            &mut t.label,
            &mut t.hint,
            &mut t.guidance_hint,
            &mut t.image,
            &mut t.big_image,
            &mut t.audio,
            &mut t.video,
            &mut t.constraint_message,
            &mut t.required_message,
        ] {
            for (l, _) in lt.0.iter_mut() {
                if l == "default" {
                    *l = to.to_owned();
                }
            }
        }
    }
    fn walk(nodes: &mut [Node], to: &str) {
        for n in nodes {
            match n {
                Node::Question(q) => fix(&mut q.texts, to),
                Node::Group(g) => {
                    fix(&mut g.texts, to);
                    walk(&mut g.children, to);
                }
            }
        }
    }
    walk(&mut form.children, to);
    for l in &mut form.lists {
        for c in &mut l.choices {
            fix(&mut c.texts, to);
        }
    }
}

/// The form's consent question from the rows marked `consent`: at most one, a `select_one` (or
/// an `acknowledge`) outside any repeat, whose list has a choice that means yes.
fn check_consent(
    form: &Form,
    marks: &[ConsentMark],
    settings: &HashMap<String, String>,
    settings_row: Option<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Consent> {
    let notice_version = settings
        .get("consent_notice_version")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let Some(first) = marks.first() else {
        if notice_version.is_some() {
            let mut d = Diagnostic::warning("consent_notice_without_question", "settings")
                .col("consent_notice_version");
            d.row = settings_row;
            diags.push(d);
        }
        return None;
    };
    for other in &marks[1..] {
        diags.push(
            Diagnostic::error("consent_duplicate", "survey")
                .at(other.row)
                .col("consent")
                .arg("name", other.name.clone())
                .arg("other", first.row.to_string()),
        );
    }
    let mut ok = marks.len() == 1;
    if !matches!(first.qtype, QType::SelectOne | QType::Acknowledge) {
        diags.push(
            Diagnostic::error("consent_type", "survey")
                .at(first.row)
                .col("type")
                .arg("name", first.name.clone())
                .arg("type", first.type_text.clone()),
        );
        ok = false;
    }
    if first.in_repeat {
        diags.push(
            Diagnostic::error("consent_in_repeat", "survey")
                .at(first.row)
                .col("consent")
                .arg("name", first.name.clone()),
        );
        ok = false;
    }
    let mut yes = Vec::new();
    if first.qtype == QType::SelectOne {
        let list = first.list.as_deref().and_then(|l| form.list(l));
        match (&first.yes, list) {
            (Some((cell, header)), Some(list)) => {
                for name in cell.split_whitespace() {
                    if list.choices.iter().any(|c| c.name == name) {
                        yes.push(name.to_owned());
                    } else {
                        diags.push(
                            Diagnostic::error("consent_yes_unknown", "survey")
                                .at(first.row)
                                .col(header)
                                .arg("value", name)
                                .arg("list", list.name.clone()),
                        );
                        ok = false;
                    }
                }
            }
            (None, Some(list)) => {
                yes = list
                    .choices
                    .iter()
                    .filter(|c| matches!(c.name.to_lowercase().as_str(), "yes" | "oui" | "1"))
                    .map(|c| c.name.clone())
                    .collect();
                if yes.is_empty() {
                    diags.push(
                        Diagnostic::error("consent_yes_missing", "survey")
                            .at(first.row)
                            .col("consent_yes")
                            .arg("list", list.name.clone()),
                    );
                    ok = false;
                }
            }
            // A missing list is reported already.
            (_, None) => ok = false,
        }
    }
    let path = form
        .question_paths()
        .into_iter()
        .find(|(_, q)| q.row == first.row && q.name == first.name)
        .map(|(p, _)| p)?;
    ok.then(|| Consent {
        question: first.name.clone(),
        path,
        yes,
        notice_version,
    })
}

fn check_choices_allowed_duplicates(
    form: &Form,
    settings: &HashMap<String, String>,
    diags: &mut Vec<Diagnostic>,
) {
    let allow = settings
        .get("allow_choice_duplicates")
        .is_some_and(|v| truthy(v).as_deref() == Some("true()"));
    if allow {
        return;
    }
    for list in &form.lists {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for c in &list.choices {
            if seen.insert(c.name.as_str(), c.row).is_some() {
                diags.push(
                    Diagnostic::error("choice_duplicate", "choices")
                        .at(c.row)
                        .col("name")
                        .arg("name", c.name.clone())
                        .arg("list", list.name.clone()),
                );
            }
        }
    }
}

/// Warns about labels given in some of the form's languages but not in others.
fn check_translations(form: &Form, diags: &mut Vec<Diagnostic>) {
    let langs: Vec<&String> = form.languages.iter().filter(|l| *l != "default").collect();
    if langs.len() < 2 {
        return;
    }
    for q in form.questions() {
        if q.texts.label.is_empty() {
            continue;
        }
        for l in &langs {
            if q.texts.label.get(l).is_none_or(str::is_empty) {
                diags.push(
                    Diagnostic::warning("translation_missing", "survey")
                        .at(q.row)
                        .col(&format!("label::{l}"))
                        .arg("column", "label")
                        .arg("lang", l.as_str()),
                );
            }
        }
    }
}

fn check_name(name: &str, row: usize, diags: &mut Vec<Diagnostic>) {
    if name.is_empty() {
        diags.push(
            Diagnostic::error("name_missing", "survey")
                .at(row)
                .col("name"),
        );
    } else if !valid_name(name) {
        diags.push(
            Diagnostic::error("name_invalid", "survey")
                .at(row)
                .col("name")
                .arg("name", name),
        );
    }
}

fn check_parameters(
    q: QType,
    params: &[(String, String)],
    type_text: &str,
    row: usize,
    diags: &mut Vec<Diagnostic>,
) {
    let allowed: &[&str] = match q {
        QType::Range => &[
            "start",
            "end",
            "step",
            "tick_interval",
            "placeholder",
            "tick_labelset",
        ],
        QType::Image => &["max-pixels", "app"],
        QType::SelectOne
        | QType::SelectMultiple
        | QType::SelectOneFromFile
        | QType::SelectMultipleFromFile
        | QType::Rank => &["randomize", "seed", "value", "label"],
        QType::Geopoint | QType::Geotrace | QType::Geoshape => &[
            "capture-accuracy",
            "warning-accuracy",
            "allow-mock-accuracy",
            "incremental",
        ],
        QType::Audio => &["quality"],
        QType::Text | QType::Integer | QType::Decimal => &["rows"],
        QType::Audit => &[
            "location-priority",
            "location-min-interval",
            "location-max-age",
            "track-changes",
            "identify-user",
            "track-changes-reasons",
        ],
        _ => &[],
    };
    for (k, v) in params {
        if !allowed.contains(&k.as_str()) {
            diags.push(
                Diagnostic::error("parameters_invalid", "survey")
                    .at(row)
                    .col("parameters")
                    .arg("detail", format!("{k}={v}"))
                    .arg("type", type_text.split_whitespace().next().unwrap_or("")),
            );
        }
    }
    let value = |k: &str| params.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let mut bad = |detail: String| {
        diags.push(
            Diagnostic::error("parameters_invalid", "survey")
                .at(row)
                .col("parameters")
                .arg("detail", detail)
                .arg("type", type_text.split_whitespace().next().unwrap_or("")),
        )
    };
    for (k, v) in params {
        if v.is_empty() && allowed.contains(&k.as_str()) {
            bad(format!("{k} (no value)"));
        }
    }
    if let Some(v) = value("max-pixels").filter(|v| !v.is_empty()) {
        if v.parse::<u32>().is_err() {
            bad(format!("max-pixels={v}"));
        }
    }
    if let Some(v) = value("randomize").filter(|v| !v.is_empty()) {
        if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") {
            bad(format!("randomize={v}"));
        }
    }
    if value("seed").is_some() && value("randomize").is_none() {
        bad("seed without randomize".to_owned());
    }
    for k in ["capture-accuracy", "warning-accuracy"] {
        if let Some(v) = value(k).filter(|v| !v.is_empty()) {
            if v.parse::<f64>().is_err() {
                bad(format!("{k}={v}"));
            }
        }
    }
    if q == QType::Range {
        let num = |k: &str| {
            params
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.parse::<f64>())
        };
        let bad = [num("start"), num("end"), num("step")]
            .iter()
            .any(|r| matches!(r, Some(Err(_))))
            || matches!(num("step"), Some(Ok(s)) if s == 0.0);
        if bad {
            diags.push(
                Diagnostic::error("range_parameters_invalid", "survey")
                    .at(row)
                    .col("parameters")
                    .arg(
                        "detail",
                        params
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
            );
        }
    }
}

fn push_node(stack: &mut [Frame], node: Node, diags: &mut Vec<Diagnostic>) {
    let Some(top) = stack.last_mut() else { return };
    let siblings = match top {
        Frame::Root(v) => v,
        Frame::Group(g) => &mut g.children,
    };
    let name = node.name();
    if !name.is_empty() {
        let generated = siblings.iter().find(
            |s| matches!(s, Node::Question(q) if q.or_other && format!("{}_other", q.name) == name),
        );
        if let Some(other) = siblings.iter().find(|s| s.name() == name).or(generated) {
            let other_row = match other {
                Node::Question(q) => q.row,
                Node::Group(g) => g.row,
            };
            let row = match &node {
                Node::Question(q) => q.row,
                Node::Group(g) => g.row,
            };
            diags.push(
                Diagnostic::error("name_duplicate", "survey")
                    .at(row)
                    .col("name")
                    .arg("name", name)
                    .arg("other", other_row.to_string()),
            );
        }
    }
    siblings.push(node);
}

fn read_choices(
    sheet: &Sheet,
    langs: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ChoiceList> {
    let Some(table) = Table::new(sheet, diags) else {
        return Vec::new();
    };
    let mut lists: Vec<ChoiceList> = Vec::new();
    let has_name = table.has("name");
    for raw in table.rows {
        let row = Row::of(&table, raw);
        if row.is_empty() {
            continue;
        }
        let Some(list) = row.get("list_name") else {
            continue;
        };
        let name = match row.get("name") {
            Some(n) => n.to_owned(),
            None => {
                diags.push(
                    Diagnostic::error("choice_name_missing", "choices")
                        .at(row.number)
                        .col(if has_name { "name" } else { "list_name" }),
                );
                continue;
            }
        };
        let texts = row.texts(langs);
        if texts.label.is_empty() && !texts.has_media() {
            diags.push(
                Diagnostic::error("choice_label_missing", "choices")
                    .at(row.number)
                    .col("label")
                    .arg("name", name.clone()),
            );
        }
        let extra = row
            .cells
            .iter()
            .filter(|(b, l, _, _)| {
                l.is_none()
                    && !matches!(
                        *b,
                        "list_name" | "name" | "label" | "image" | "audio" | "video" | "big-image"
                    )
            })
            .map(|(b, _, _, v)| ((*b).to_owned(), (*v).to_owned()))
            .collect();
        let choice = Choice {
            name,
            row: row.number,
            texts,
            extra,
        };
        match lists.iter_mut().find(|l| l.name == list) {
            Some(l) => l.choices.push(choice),
            None => lists.push(ChoiceList {
                name: list.to_owned(),
                choices: vec![choice],
            }),
        }
    }
    lists
}

/// The settings (keys in lower case) and the row they are on.
fn read_settings(
    sheet: &Sheet,
    diags: &mut Vec<Diagnostic>,
) -> (HashMap<String, String>, Option<usize>) {
    let mut out = HashMap::new();
    let Some(table) = Table::new(sheet, diags) else {
        return (out, None);
    };
    let mut number = None;
    if let Some(raw) = table
        .rows
        .iter()
        .find(|r| r.cells.iter().any(|c| !c.is_empty()))
    {
        let row = Row::of(&table, raw);
        number = Some(row.number);
        for (b, _, _, v) in row.cells {
            out.insert(b.to_ascii_lowercase(), v.to_owned());
        }
    }
    (out, number)
}

/// Gives every question its effective sensitivity: its own, else its nearest group's, else a
/// default — personal for media, locations, device metadata and names that look like personal
/// data (each with a `sensitivity_assumed*` warning asking the author to confirm), `default` for
/// the rest. Running it again changes nothing.
pub(crate) fn classify(form: &mut Form, default: Sensitivity, diags: &mut Vec<Diagnostic>) {
    fn walk(
        nodes: &mut [Node],
        inherited: Option<Sensitivity>,
        default: Sensitivity,
        diags: &mut Vec<Diagnostic>,
    ) {
        for n in nodes {
            match n {
                Node::Group(g) => {
                    walk(&mut g.children, g.sensitivity.or(inherited), default, diags)
                }
                Node::Question(q) if q.sensitivity_declared => {}
                Node::Question(q) => {
                    if let Some(level) = inherited {
                        q.sensitivity = level;
                        q.sensitivity_declared = true;
                        continue;
                    }
                    q.sensitivity = match assumed_personal(q) {
                        Some(why) => {
                            diags.push(why.diagnostic(q));
                            Sensitivity::Personal
                        }
                        None if matches!(q.qtype, QType::Start | QType::End | QType::Today) => {
                            default.max(Sensitivity::Internal)
                        }
                        None => default,
                    };
                }
            }
        }
    }
    form.sensitivity_default = Some(default);
    walk(&mut form.children, None, default, diags);
}

/// Why a question that says nothing is taken for personal data.
#[derive(Debug, PartialEq)]
enum Assumed {
    /// Its type captures a place, a picture, a voice, a file, or identifies a device or person.
    Type,
    /// Its name contains these words.
    Name(String),
}

impl Assumed {
    fn diagnostic(&self, q: &Question) -> Diagnostic {
        let d = match self {
            Assumed::Type => Diagnostic::warning("sensitivity_assumed", "survey").arg(
                "type",
                q.type_text
                    .split_whitespace()
                    .next()
                    .unwrap_or(q.qtype.bind_type()),
            ),
            Assumed::Name(word) => {
                Diagnostic::warning("sensitivity_assumed_name", "survey").arg("word", word.clone())
            }
        };
        d.at(q.row).col("sensitivity").arg("name", q.name.clone())
    }
}

fn assumed_personal(q: &Question) -> Option<Assumed> {
    use QType::*;
    match q.qtype {
        Geopoint | Geotrace | Geoshape | StartGeopoint | Image | Audio | Video | File
        | BackgroundAudio | DeviceId | PhoneNumber | Username | Email | SimSerial
        | SubscriberId => return Some(Assumed::Type),
        // An audit log records where the device was when its parameters ask for locations.
        Audit if q.parameters.iter().any(|(k, _)| k.starts_with("location")) => {
            return Some(Assumed::Type)
        }
        _ if q.qtype.is_metadata() => return None,
        _ => {}
    }
    personal_name(&q.name, q.qtype == Text).map(Assumed::Name)
}

/// Words that, alone in a name, mean personal data (English and French, accents removed).
const PERSONAL_WORDS: &[&str] = &[
    // names
    "name",
    "names",
    "nom",
    "noms",
    "prenom",
    "prenoms",
    "postnom",
    "surname",
    "surnom",
    "firstname",
    "lastname",
    "fullname",
    "forename",
    "middlename",
    "nickname",
    "nomcomplet",
    // phones
    "phone",
    "phones",
    "telephone",
    "telephones",
    "tel",
    "mobile",
    "cellphone",
    "portable",
    "contact",
    "contacts",
    "whatsapp",
    "msisdn",
    // e-mail
    "email",
    "emails",
    "mail",
    "courriel",
    // addresses
    "address",
    "addresses",
    "adresse",
    "adresses",
    "domicile",
    // identity documents
    "cni",
    "passport",
    "passeport",
    "nin",
    "ssn",
    "nationalid",
    "idnumber",
    // birth dates
    "dob",
    "ddn",
    "birthdate",
    "birthday",
    "datenaissance",
    // likeness and marks
    "signature",
    "photo",
    "photos",
    "picture",
    "portrait",
    "selfie",
    "fingerprint",
    "empreinte",
];

/// Sequences of words that mean personal data together (each word alone may not).
const PERSONAL_PHRASES: &[&[&str]] = &[
    &["first", "name"],
    &["last", "name"],
    &["family", "name"],
    &["given", "name"],
    &["nom", "de", "famille"],
    &["id", "number"],
    &["id", "card"],
    &["national", "id"],
    &["carte", "identite"],
    &["numero", "identite"],
    &["piece", "identite"],
    &["birth", "date"],
    &["date", "of", "birth"],
    &["date", "birth"],
    &["date", "naissance"],
    &["date", "de", "naissance"],
    &["phone", "number"],
    &["e", "mail"],
];

/// Words that mean a location when typed as text (a geopoint is personal by its type).
const LOCATION_WORDS: &[&str] = &[
    "gps",
    "location",
    "localisation",
    "coordinates",
    "coordonnees",
    "latitude",
    "longitude",
    "geolocation",
];

/// Lower case without accents: `Prénom` -> `prenom`.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            c => out.push(c),
        }
    }
    out
}

/// The personal-data word or phrase a question name contains, if any, joined with `_`. Names
/// are cut into words at anything but a letter (`_`, `-`, `.`, digits), without case or accents.
fn personal_name(name: &str, is_text: bool) -> Option<String> {
    let folded = fold(name);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(p) = PERSONAL_PHRASES
        .iter()
        .find(|p| words.windows(p.len()).any(|w| w == **p))
    {
        return Some(p.join("_"));
    }
    words
        .iter()
        .find(|w| PERSONAL_WORDS.contains(w) || (is_text && LOCATION_WORDS.contains(w)))
        .map(|w| (*w).to_owned())
}

#[cfg(test)]
mod sensitivity_tests {
    use super::*;

    #[test]
    fn levels_read_in_english_and_french_any_case() {
        use Sensitivity::*;
        for (cell, want) in [
            ("public", Some(Public)),
            ("Publique", Some(Public)),
            ("PUBLIC ", Some(Public)),
            ("internal", Some(Internal)),
            ("interne", Some(Internal)),
            ("personal", Some(Personal)),
            ("Personnel", Some(Personal)),
            ("personnelle", Some(Personal)),
            ("sensitive", Some(Sensitive)),
            ("SENSIBLE", Some(Sensitive)),
            ("secret", None),
            ("", None),
            ("private", None),
        ] {
            assert_eq!(Sensitivity::parse(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn quasi_identifier_reads_the_usual_spellings() {
        for (cell, want) in [
            ("yes", Some(true)),
            ("Yes", Some(true)),
            ("TRUE", Some(true)),
            ("true()", Some(true)),
            ("TRUE()", Some(true)),
            ("oui", Some(true)),
            ("no", Some(false)),
            ("FALSE", Some(false)),
            ("false()", Some(false)),
            ("Non", Some(false)),
            ("maybe", None),
            ("${age} > 5", None),
        ] {
            assert_eq!(yes_no(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn names_that_look_like_personal_data() {
        for (name, is_text, want) in [
            ("name", false, Some("name")),
            ("respondent_name", false, Some("name")),
            ("first_name", false, Some("first_name")),
            ("LastName", false, Some("lastname")),
            ("nom", false, Some("nom")),
            ("prénom", false, Some("prenom")),
            ("Prenom_2", false, Some("prenom")),
            ("surname", false, Some("surname")),
            ("phone", false, Some("phone")),
            ("phone2", false, Some("phone")),
            ("tel", false, Some("tel")),
            ("téléphone", false, Some("telephone")),
            ("numero-telephone", false, Some("telephone")),
            ("mobile_number", false, Some("mobile")),
            ("contact_chef", false, Some("contact")),
            ("email", false, Some("email")),
            ("e-mail", false, Some("e_mail")),
            ("courriel", false, Some("courriel")),
            ("address", false, Some("address")),
            ("adresse_domicile", false, Some("adresse")),
            ("id_number", false, Some("id_number")),
            ("national_id", false, Some("national_id")),
            ("numero_cni", false, Some("cni")),
            ("passport", false, Some("passport")),
            ("passeport_no", false, Some("passeport")),
            ("dob", false, Some("dob")),
            ("birth_date", false, Some("birth_date")),
            ("date_naissance", false, Some("date_naissance")),
            ("date_de_naissance", false, Some("date_de_naissance")),
            ("signature", false, Some("signature")),
            ("photo_id", false, Some("photo")),
            ("gps", true, Some("gps")),
            ("location", true, Some("location")),
            ("location", false, None),
            ("gps_village", false, None),
            // Whole words only.
            ("age", false, None),
            ("village", false, None),
            ("nombre_enfants", false, None),
            ("telecom_operator", false, None),
            ("hotel", false, None),
            ("renom", false, None),
            ("household_id", false, None),
            ("sexe", false, None),
            ("date", false, None),
        ] {
            assert_eq!(personal_name(name, is_text).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn accents_and_ligatures_fold() {
        assert_eq!(fold("Prénom_Élève_Œuvre"), "prenom_eleve_oeuvre");
    }
}

#[cfg(test)]
mod consent_tests {
    use crate::diag::Severity;
    use crate::model::Consent;

    /// A form with these survey rows (type, name, consent, consent_yes) after a `start` row,
    /// the lists `on` (oui, non), `ab` (a, b) and the settings cells given.
    fn compile(rows: &[(&str, &str, &str, &str)], settings: &str) -> crate::Compiled {
        let mut src = String::from(
            "| survey | | | | | |\n| | type | name | label | consent | consent_yes |\n| | start | start | | | |\n",
        );
        for (t, n, c, y) in rows {
            src.push_str(&format!("| | {t} | {n} | Libellé {n} | {c} | {y} |\n"));
        }
        src.push_str("| choices | | | |\n| | list_name | name | label |\n| | on | oui | Oui |\n| | on | non | Non |\n| | ab | a | A |\n| | ab | b | B |\n");
        src.push_str(settings);
        crate::compile(src.as_bytes(), crate::Format::Markdown, "f")
    }

    fn errors(c: &crate::Compiled) -> Vec<(&'static str, Option<usize>, Option<String>)> {
        c.diagnostics
            .iter()
            .filter(|d| d.code.starts_with("consent"))
            .map(|d| (d.code, d.row, d.column.clone()))
            .collect()
    }

    #[test]
    fn the_consent_question_is_read_with_its_yes_and_notice_version() {
        let c = compile(
            &[
                ("select_one on", "consentement", "yes", ""),
                ("text", "nom", "", ""),
            ],
            "| settings | |\n| | consent_notice_version |\n| | 2026-01 |\n",
        );
        assert_eq!(errors(&c), vec![]);
        let form = c.form.expect("compiles");
        assert_eq!(
            form.consent,
            Some(Consent {
                question: "consentement".into(),
                path: "/data/consentement".into(),
                yes: vec!["oui".into()],
                notice_version: Some("2026-01".into()),
            })
        );
        assert_eq!(form.consent_question().unwrap().name, "consentement");
        let consent = form.consent.unwrap();
        assert_eq!(consent.given("oui"), Some(true));
        assert_eq!(consent.given("non"), Some(false));
        assert_eq!(consent.given(" "), None);
        // Nothing of it reaches the XForm.
        assert!(!c.xform.unwrap().contains("consent_notice"));
    }

    #[test]
    fn consent_yes_names_the_choice_and_acknowledge_needs_none() {
        let c = compile(&[("select_one ab", "ok", "TRUE", "b")], "");
        let consent = c.form.unwrap().consent.unwrap();
        assert_eq!(consent.yes, ["b"]);
        assert_eq!(consent.notice_version, None);
        let c = compile(&[("acknowledge", "ok", "oui", "")], "");
        let consent = c.form.unwrap().consent.unwrap();
        assert!(consent.yes.is_empty());
        assert_eq!(consent.given("OK"), Some(true));
        assert_eq!(consent.given(""), None);
        // No consent column: no consent question.
        let c = compile(&[("select_one on", "q", "", "")], "");
        assert_eq!(c.form.unwrap().consent, None);
    }

    #[test]
    fn consent_mistakes_are_located() {
        let col = |s: &str| Some(s.to_owned());
        // Rows: the header is row 1, `start` row 2, the first of `rows` row 3.
        for (rows, settings, want) in [
            (
                vec![
                    ("select_one on", "c1", "yes", ""),
                    ("select_one on", "c2", "yes", ""),
                ],
                "",
                vec![("consent_duplicate", Some(4), col("consent"))],
            ),
            (
                vec![("text", "c", "yes", "")],
                "",
                vec![("consent_type", Some(3), col("type"))],
            ),
            (
                vec![("select_one ab", "c", "yes", "")],
                "",
                vec![("consent_yes_missing", Some(3), col("consent_yes"))],
            ),
            (
                vec![("select_one ab", "c", "yes", "z")],
                "",
                vec![("consent_yes_unknown", Some(3), col("consent_yes"))],
            ),
            (
                vec![("select_one on", "c", "peut-être", "")],
                "",
                vec![("consent_invalid", Some(3), col("consent"))],
            ),
            (
                vec![("select_one on", "c", "", "oui")],
                "",
                vec![("consent_yes_alone", Some(3), col("consent_yes"))],
            ),
            (
                vec![
                    ("begin repeat", "r", "", ""),
                    ("select_one on", "c", "yes", ""),
                    ("end repeat", "", "", ""),
                ],
                "",
                vec![("consent_in_repeat", Some(4), col("consent"))],
            ),
            (
                vec![("text", "t", "", "")],
                "| settings | |\n| | consent_notice_version |\n| | v1 |\n",
                vec![(
                    "consent_notice_without_question",
                    Some(2),
                    col("consent_notice_version"),
                )],
            ),
        ] {
            let c = compile(&rows, settings);
            assert_eq!(errors(&c), want, "{rows:?}");
            let warning_only = want
                .iter()
                .all(|(code, _, _)| *code == "consent_notice_without_question");
            assert_eq!(c.has_errors(), !warning_only, "{rows:?}");
            if warning_only {
                assert!(c
                    .diagnostics
                    .iter()
                    .any(|d| d.severity == Severity::Warning));
            }
        }
    }
}

#[cfg(test)]
mod hxl_tests {
    use super::hxl_hashtag;
    use crate::model::Node;

    #[test]
    fn hashtags_are_normalised_or_refused() {
        assert_eq!(hxl_hashtag("#adm1+name").as_deref(), Some("#adm1+name"));
        assert_eq!(hxl_hashtag(" #Adm1 +Code ").as_deref(), Some("#adm1+code"));
        assert_eq!(
            hxl_hashtag("#affected+f+children").as_deref(),
            Some("#affected+f+children")
        );
        for bad in [
            "adm1",
            "#",
            "#1adm",
            "#adm1+",
            "#adm-1",
            "#adm1++name",
            "#é",
        ] {
            assert_eq!(hxl_hashtag(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_hxl_column_tags_questions_and_bad_tags_are_located() {
        let src = "| survey | | | | |\n| | type | name | label | hxl |\n| | text | province | Province | #adm1 +name |\n| | integer | personnes | Personnes | #affected |\n| | text | note | Note | |\n| | text | x | X | adm1 |\n";
        let c = crate::compile(src.as_bytes(), crate::Format::Markdown, "f");
        let bad: Vec<_> = c
            .diagnostics
            .iter()
            .filter(|d| d.code == "hxl_invalid")
            .map(|d| (d.row, d.column.clone()))
            .collect();
        assert_eq!(bad, vec![(Some(5), Some("hxl".to_owned()))]);
        assert!(c.diagnostics.iter().all(|d| d.code != "column_unknown"));

        let ok = "| survey | | | | |\n| | type | name | label | instance::hxl |\n| | text | province | Province | #adm1+name |\n| | text | note | Note | |\n";
        let c = crate::compile(ok.as_bytes(), crate::Format::Markdown, "f");
        let form = c.form.expect("compiles");
        let tags: Vec<_> = form
            .children
            .iter()
            .filter_map(|n| match n {
                Node::Question(q) => Some((q.name.as_str(), q.hxl.as_deref())),
                _ => None,
            })
            .collect();
        assert_eq!(tags, vec![("province", Some("#adm1+name")), ("note", None)]);
        // HXL stays out of the XForm, as pyxform leaves it out.
        assert!(!c.xform.unwrap().contains("#adm1"));
    }
}
