//! Baraza's form model: what an XLSForm says, checked, independent of any file format.

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
    pub children: Vec<Node>,
}

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
}
