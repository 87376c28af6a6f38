//! Baraza's form model: what an XLSForm says, checked, independent of any file format.
//!
//! The model is stored as JSON with each form version, so it only grows: a field added later
//! carries `#[serde(default)]` and older models still read. Besides what the XForm needs, it
//! keeps what Baraza alone uses, such as each question's [`Sensitivity`].

use crate::diag::Lang;
use serde::{Deserialize, Serialize};

/// Texts of one kind (label, hint…) per language. The key `default` is the column without a
/// language suffix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LangText(pub Vec<(String, String)>);

impl LangText {
    pub fn get(&self, lang: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(l, _)| l == lang)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, v)| v.is_empty())
    }

    /// Whether any text carries a real language (not just `default`).
    pub fn translated(&self) -> bool {
        self.0.iter().any(|(l, v)| l != "default" && !v.is_empty())
    }

    /// The text in the first language that has one.
    pub fn any(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, v)| !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, lang: &str, value: String) {
        if let Some(slot) = self.0.iter_mut().find(|(l, _)| l == lang) {
            slot.1 = value;
        } else {
            self.0.push((lang.to_owned(), value));
        }
    }
}

/// The text-bearing columns of an element.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Texts {
    pub label: LangText,
    pub hint: LangText,
    pub guidance_hint: LangText,
    pub image: LangText,
    pub big_image: LangText,
    pub audio: LangText,
    pub video: LangText,
    pub constraint_message: LangText,
    pub required_message: LangText,
}

impl Texts {
    pub fn has_media(&self) -> bool {
        !(self.image.is_empty()
            && self.big_image.is_empty()
            && self.audio.is_empty()
            && self.video.is_empty())
    }
}

/// Question types, as XLSForm names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QType {
    Text,
    Integer,
    Decimal,
    Range,
    SelectOne,
    SelectMultiple,
    SelectOneFromFile,
    SelectMultipleFromFile,
    /// `select_one_external`: choices from the `external_choices` sheet, shipped as itemsets.csv.
    SelectOneExternal,
    Rank,
    Note,
    Geopoint,
    Geotrace,
    Geoshape,
    Date,
    Time,
    DateTime,
    Image,
    Audio,
    Video,
    File,
    Barcode,
    Calculate,
    Acknowledge,
    Hidden,
    Start,
    End,
    Today,
    DeviceId,
    Username,
    PhoneNumber,
    Email,
    SimSerial,
    SubscriberId,
    Audit,
    StartGeopoint,
    BackgroundAudio,
}

impl QType {
    /// The XForm bind type.
    pub fn bind_type(self) -> &'static str {
        use QType::*;
        match self {
            Integer | Range => "int",
            Decimal => "decimal",
            Rank => "odk:rank",
            Geopoint | StartGeopoint => "geopoint",
            Geotrace => "geotrace",
            Geoshape => "geoshape",
            Date | Today => "date",
            Time => "time",
            DateTime | Start | End => "dateTime",
            Image | Audio | Video | File | Audit | BackgroundAudio => "binary",
            Barcode => "barcode",
            _ => "string",
        }
    }

    /// Metadata captured by the device, without a control in the body.
    pub fn is_metadata(self) -> bool {
        use QType::*;
        matches!(
            self,
            Start
                | End
                | Today
                | DeviceId
                | Username
                | PhoneNumber
                | Email
                | SimSerial
                | SubscriberId
                | Audit
                | StartGeopoint
                | BackgroundAudio
        )
    }

    /// Whether the question shows a control.
    pub fn has_control(self) -> bool {
        !self.is_metadata() && !matches!(self, QType::Calculate | QType::Hidden)
    }

    pub fn is_select(self) -> bool {
        use QType::*;
        matches!(
            self,
            SelectOne | SelectMultiple | SelectOneFromFile | SelectMultipleFromFile | Rank
        )
    }
}

/// A question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub name: String,
    pub row: usize,
    pub qtype: QType,
    /// The type as written, e.g. `select_one yes_no`.
    pub type_text: String,
    /// The choice list of a select, or the file of a `*_from_file`.
    pub list: Option<String>,
    pub or_other: bool,
    pub texts: Texts,
    pub required: Option<String>,
    pub relevant: Option<String>,
    pub constraint: Option<String>,
    pub calculation: Option<String>,
    pub default: Option<String>,
    pub readonly: Option<String>,
    pub appearance: Option<String>,
    pub choice_filter: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub trigger: Option<String>,
    /// The effective level: the question's own `sensitivity`, else its nearest group's, else a
    /// default (personal for media, locations, metadata and names that look like personal data;
    /// the `sensitivity` setting for the rest). Computed once by the compiler.
    #[serde(default)]
    pub sensitivity: Sensitivity,
    /// Whether the author wrote the level, on the question or on an enclosing group.
    #[serde(default)]
    pub sensitivity_declared: bool,
    /// Marked for statistical disclosure control (age, sex, village…).
    #[serde(default)]
    pub quasi_identifier: bool,
    /// Days after a record is received at which its answers to this question are erased (the
    /// rest of the record stays, under the form's retention if any). `retention_days` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// The HXL hashtag with attributes (`hxl` column), normalised: `#adm1+name`. Written as the
    /// hashtag row of HXL-tagged CSVs and given to the fields of published tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hxl: Option<String>,
}

/// A group or a repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub row: usize,
    pub repeat: bool,
    pub texts: Texts,
    pub relevant: Option<String>,
    pub appearance: Option<String>,
    pub repeat_count: Option<String>,
    /// The group's own `sensitivity`, inherited by children that do not set theirs.
    #[serde(default)]
    pub sensitivity: Option<Sensitivity>,
    pub children: Vec<Node>,
}

// Most nodes are questions, built once per form upload: boxing them would cost an allocation
// each to save the size of a group's few fields.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    Question(Question),
    Group(Group),
}

impl Node {
    pub fn name(&self) -> &str {
        match self {
            Node::Question(q) => &q.name,
            Node::Group(g) => &g.name,
        }
    }
}

/// One choice of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub name: String,
    pub row: usize,
    pub texts: Texts,
    /// Other columns (used by choice filters), in sheet order.
    pub extra: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceList {
    pub name: String,
    pub choices: Vec<Choice>,
}

/// A whole form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub title: String,
    pub id: String,
    pub version: Option<String>,
    /// The name of the instance's root element (`data` unless the `name` setting says otherwise).
    pub root: String,
    pub omit_instance_id: bool,
    pub auto_send: Option<String>,
    pub auto_delete: Option<String>,
    pub instance_name: Option<String>,
    pub default_language: Option<String>,
    pub public_key: Option<String>,
    pub submission_url: Option<String>,
    pub style: Option<String>,
    /// The languages of the form's texts, in the order they first appear; `default` stands for
    /// columns without a language when other languages exist too.
    pub languages: Vec<String>,
    pub children: Vec<Node>,
    pub lists: Vec<ChoiceList>,
    /// Lists of the `external_choices` sheet (their choices travel in itemsets.csv).
    pub external_lists: Vec<String>,
    /// The `sensitivity` setting: the level of fields nothing else classifies. `None` only in
    /// models stored before fields were classified; see [`Form::classify_if_unclassified`].
    #[serde(default)]
    pub sensitivity_default: Option<Sensitivity>,
    /// The consent question, when a row says `consent` = `yes`; see [`Consent`].
    #[serde(default)]
    pub consent: Option<Consent>,
}

/// The question that asks for the respondent's consent (its row has `consent` = `yes`), and what
/// its answers mean. Its label, per language, is the notice the respondent was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    /// The question's name.
    pub question: String,
    /// Its instance path, e.g. `/data/consentement`.
    pub path: String,
    /// The choice names that mean consent was given (from the `consent_yes` column, else the
    /// list's `yes`, `oui` or `1`). Empty for an `acknowledge` question, where any answer gives
    /// consent.
    pub yes: Vec<String>,
    /// The `consent_notice_version` setting: the version of the notice the label is.
    #[serde(default)]
    pub notice_version: Option<String>,
}

impl Consent {
    /// What an answer to the consent question means: `Some(true)` given, `Some(false)` refused,
    /// `None` not answered. `answer` is the choice name sent (`OK` for an `acknowledge`).
    pub fn given(&self, answer: &str) -> Option<bool> {
        let answer = answer.trim();
        if answer.is_empty() {
            return None;
        }
        Some(self.yes.is_empty() || self.yes.iter().any(|y| y == answer))
    }
}

impl Form {
    pub fn list(&self, name: &str) -> Option<&ChoiceList> {
        self.lists.iter().find(|l| l.name == name)
    }

    /// Every question, depth first.
    pub fn questions(&self) -> Vec<&Question> {
        fn walk<'a>(nodes: &'a [Node], out: &mut Vec<&'a Question>) {
            for n in nodes {
                match n {
                    Node::Question(q) => out.push(q),
                    Node::Group(g) => walk(&g.children, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.children, &mut out);
        out
    }

    /// Every question with its instance path (`/data/group/name`), depth first. The path is the
    /// element's place in the tree, as the XForm writer lays out the primary instance.
    pub fn question_paths(&self) -> Vec<(String, &Question)> {
        fn walk<'a>(nodes: &'a [Node], prefix: &str, out: &mut Vec<(String, &'a Question)>) {
            for n in nodes {
                match n {
                    Node::Question(q) => out.push((format!("{prefix}/{}", q.name), q)),
                    Node::Group(g) => walk(&g.children, &format!("{prefix}/{}", g.name), out),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.children, &format!("/{}", self.root), &mut out);
        out
    }

    /// The class a project shows: the highest level of any field (`public` for a form without
    /// fields).
    pub fn sensitivity_class(&self) -> Sensitivity {
        self.questions()
            .iter()
            .map(|q| q.sensitivity)
            .max()
            .unwrap_or(Sensitivity::Public)
    }

    /// The instance paths of personal and sensitive fields, in form order. The free-text
    /// `name_other` answer of an `or_other` select shares its select's level.
    pub fn protected_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (path, q) in self.question_paths() {
            if q.sensitivity.is_protected() {
                if q.or_other {
                    out.push(format!("{path}_other"));
                }
                out.push(path);
            }
        }
        out
    }

    /// The consent question, if the form has one.
    pub fn consent_question(&self) -> Option<&Question> {
        let c = self.consent.as_ref()?;
        self.question_paths()
            .into_iter()
            .find(|(p, _)| *p == c.path)
            .map(|(_, q)| q)
    }

    /// The instance paths of fields marked `quasi_identifier`, in form order.
    pub fn quasi_identifier_paths(&self) -> Vec<String> {
        self.question_paths()
            .into_iter()
            .filter(|(_, q)| q.quasi_identifier)
            .map(|(p, _)| p)
            .collect()
    }

    /// Classifies the fields of a model stored before fields had a sensitivity (no author had
    /// declared any then), exactly as compiling it today would with no `sensitivity` column.
    /// Does nothing to a model that is already classified. Returns whether it changed anything.
    pub fn classify_if_unclassified(&mut self) -> bool {
        if self.sensitivity_default.is_some() {
            return false;
        }
        crate::compile::classify(self, Sensitivity::Internal, &mut Vec::new());
        true
    }
}

/// How much harm a field's values could do if they leaked, after humanitarian
/// data-responsibility guidance. Ordered from least to most: `Public < Internal < Personal <
/// Sensitive`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// May be published as it is.
    Public,
    /// For the project's team; the default.
    #[default]
    Internal,
    /// Identifies or locates a person: names, phones, places, photos.
    Personal,
    /// Could harm a person if known: health, ethnicity, religion, violence, legal status.
    Sensitive,
}

impl Sensitivity {
    pub const ALL: [Sensitivity; 4] = [
        Sensitivity::Public,
        Sensitivity::Internal,
        Sensitivity::Personal,
        Sensitivity::Sensitive,
    ];

    /// The value written in the XLSForm and stored: `public`, `internal`, `personal`, `sensitive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Public => "public",
            Sensitivity::Internal => "internal",
            Sensitivity::Personal => "personal",
            Sensitivity::Sensitive => "sensitive",
        }
    }

    /// The name a person reads.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Sensitivity::Public, Lang::En) => "public",
            (Sensitivity::Internal, Lang::En) => "internal",
            (Sensitivity::Personal, Lang::En) => "personal",
            (Sensitivity::Sensitive, Lang::En) => "sensitive",
            (Sensitivity::Public, Lang::Fr) => "public",
            (Sensitivity::Internal, Lang::Fr) => "interne",
            (Sensitivity::Personal, Lang::Fr) => "personnel",
            (Sensitivity::Sensitive, Lang::Fr) => "sensible",
        }
    }

    /// Whether values of this level must be protected (personal or sensitive).
    pub fn is_protected(self) -> bool {
        self >= Sensitivity::Personal
    }

    /// Reads an XLSForm cell: English or French, any case, surrounding spaces ignored.
    pub fn parse(value: &str) -> Option<Sensitivity> {
        match value.trim().to_lowercase().as_str() {
            "public" | "publique" => Some(Sensitivity::Public),
            "internal" | "interne" => Some(Sensitivity::Internal),
            "personal" | "personnel" | "personnelle" => Some(Sensitivity::Personal),
            "sensitive" | "sensible" => Some(Sensitivity::Sensitive),
            _ => None,
        }
    }
}

impl std::fmt::Display for Sensitivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Sensitivity {
    type Err = String;

    fn from_str(s: &str) -> Result<Sensitivity, String> {
        Sensitivity::parse(s).ok_or_else(|| {
            format!("unknown sensitivity {s}: use public, internal, personal or sensitive")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_named_and_stored_in_snake_case() {
        use Sensitivity::*;
        assert!(Public < Internal && Internal < Personal && Personal < Sensitive);
        for (level, s, en, fr, protected) in [
            (Public, "public", "public", "public", false),
            (Internal, "internal", "internal", "interne", false),
            (Personal, "personal", "personal", "personnel", true),
            (Sensitive, "sensitive", "sensitive", "sensible", true),
        ] {
            assert_eq!(level.as_str(), s);
            assert_eq!(level.to_string(), s);
            assert_eq!(level.label(Lang::En), en);
            assert_eq!(level.label(Lang::Fr), fr);
            assert_eq!(level.is_protected(), protected);
            assert_eq!(s.parse::<Sensitivity>(), Ok(level));
            assert_eq!(Sensitivity::parse(fr), Some(level));
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<Sensitivity>(&json).unwrap(), level);
        }
        assert_eq!(Sensitivity::default(), Internal);
        assert!("secret".parse::<Sensitivity>().is_err());
    }

    #[test]
    fn paths_are_those_the_xform_uses() {
        let src = "| survey | | | | |\n| | type | name | label | sensitivity |\n| | begin group | g | G | |\n| | begin repeat | r | R | |\n| | select_one yn or_other | pick | P | sensitive |\n| | integer | n | N | |\n| | end repeat | | | |\n| | end group | | | |\n| | text | top | T | personal |\n| choices | | | |\n| | list_name | name | label |\n| | yn | y | Y |\n| settings | |\n| | name |\n| | household |\n";
        let c = crate::compile(src.as_bytes(), crate::Format::Markdown, "x");
        let form = c.form.expect("compiles");
        let refs = crate::refs::Paths::of(&form);
        for (path, q) in form.question_paths() {
            assert_eq!(Some(path), refs.absolute(&form.root, &q.name));
        }
        assert_eq!(
            form.protected_paths(),
            [
                "/household/g/r/pick_other",
                "/household/g/r/pick",
                "/household/top"
            ]
        );
        assert_eq!(form.sensitivity_class(), Sensitivity::Sensitive);
        assert!(c
            .xform
            .expect("xform")
            .contains("/household/g/r/pick_other"));
    }
}
