//! Consent: what a person answered to a form's consent question (the XLSForm `consent` column),
//! recorded with each submission — the answer, the version of the notice, the language it was
//! shown in, the channel, and when — and what a refusal means for the rest of the submission.
//!
//! A refusal is accepted (ODK Collect cannot be told to take it back, and the fact of the
//! refusal must not be lost), but nothing else of it is kept: the record stores the consent
//! answer and the instanceID, an XML holding only those, no attachment, and the consent record.
//! Its files, already written when the submission arrived, are wiped unless another record
//! names them. An edit cannot turn a given consent into a refusal (earlier versions would keep
//! their answers): the record must be erased with the reason `consent_withdrawn`, which leaves
//! only the proof of withdrawal (see `retention.rs`).

use crate::access::ProjectAccess;
use crate::{Core, CoreError};
use baraza_openrosa::{Typed, TypedValue};
use baraza_store::{ConsentRecord, NewConsent};
use baraza_types::Permission;
use baraza_xlsform::Form;

/// How a submission arrived, which says how consent was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// ODK Collect (an app user's token, or a person's account).
    OdkCollect,
    /// Baraza's web form, by a signed-in person.
    WebForm,
    /// Baraza's web form through a form's public link, without an account.
    PublicLink,
    /// A file of submissions imported by a person.
    Import,
    /// The ODK Central–compatible API (pyodk and other clients).
    Api,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::OdkCollect => "odk_collect",
            Channel::WebForm => "web_form",
            Channel::PublicLink => "public_link",
            Channel::Import => "import",
            Channel::Api => "api",
        }
    }

    /// Every channel's name, for pages that translate them.
    pub const ALL: [&'static str; 5] = ["odk_collect", "web_form", "public_link", "import", "api"];
}

/// The text of a value as sent, for the consent answer and the start and end metadata.
fn raw(v: &Typed) -> Option<String> {
    Some(v.to_raw()).filter(|s| !s.trim().is_empty())
}

/// The consent a submission records, when its form has a consent question. `language`: the
/// form language the web form showed, if the submission came through it.
pub(crate) fn consent_of(
    model: &Form,
    values: &[TypedValue],
    channel: Channel,
    language: Option<&str>,
) -> Option<NewConsent> {
    let spec = model.consent.as_ref()?;
    let answer = values
        .iter()
        .find(|v| v.path == spec.path)
        .and_then(|v| raw(&v.value));
    let state = match answer.as_deref().and_then(|a| spec.given(a)) {
        Some(true) => "given",
        Some(false) => "refused",
        None => "not_answered",
    };
    let meta = |name: &str| {
        values
            .iter()
            .find(|v| {
                v.repeat.is_none()
                    && v.path.ends_with(&format!("/meta/{name}"))
                    && v.path.matches('/').count() == 3
            })
            .and_then(|v| raw(&v.value))
    };
    let of_type = |t: baraza_xlsform::model::QType| {
        let paths: Vec<String> = model
            .question_paths()
            .into_iter()
            .filter(|(_, q)| q.qtype == t)
            .map(|(p, _)| p)
            .collect();
        values
            .iter()
            .find(|v| paths.contains(&v.path))
            .and_then(|v| raw(&v.value))
    };
    // The language: the web form knows it; a submission may say it in its metadata; otherwise
    // the form's default language is assumed (ODK Collect does not send which one it showed).
    let (language, language_source) = match language.filter(|l| *l != "default") {
        Some(l) => (Some(l.to_owned()), Some("web_form")),
        None => match meta("language").or_else(|| meta("lang")) {
            Some(l) => (Some(l), Some("submission")),
            None => match model
                .default_language
                .clone()
                .or_else(|| model.languages.iter().find(|l| *l != "default").cloned())
            {
                Some(l) => (Some(l), Some("form_default")),
                None => (None, None),
            },
        },
    };
    Some(NewConsent {
        state,
        notice_version: spec.notice_version.clone(),
        language,
        language_source,
        channel: channel.as_str(),
        started: of_type(baraza_xlsform::model::QType::Start),
        ended: of_type(baraza_xlsform::model::QType::End),
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What is kept of a submission whose consent was refused: an XML holding only the consent
/// answer and the instanceID, and the typed values of those two.
pub(crate) fn refused_only(
    model: &Form,
    sub: &baraza_openrosa::Submission,
    values: Vec<TypedValue>,
) -> (String, Vec<TypedValue>) {
    let Some(spec) = model.consent.as_ref() else {
        return (String::new(), values);
    };
    let answer = values
        .iter()
        .find(|v| v.path == spec.path)
        .and_then(|v| raw(&v.value))
        .unwrap_or_default();
    let instance_path = format!("/{}/meta/instanceID", sub.root);
    let kept: Vec<TypedValue> = values
        .into_iter()
        .filter(|v| v.path == spec.path || v.path == instance_path)
        .collect();
    let mut xml = format!("<{} id=\"{}\"", sub.root, escape(&sub.form_id));
    if let Some(v) = &sub.version {
        xml.push_str(&format!(" version=\"{}\"", escape(v)));
    }
    xml.push('>');
    let segments: Vec<&str> = spec
        .path
        .trim_start_matches('/')
        .split('/')
        .skip(1)
        .collect();
    for s in &segments {
        xml.push_str(&format!("<{s}>"));
    }
    xml.push_str(&escape(&answer));
    for s in segments.iter().rev() {
        xml.push_str(&format!("</{s}>"));
    }
    xml.push_str(&format!(
        "<meta><instanceID>{}</instanceID></meta></{}>",
        escape(&sub.instance_id),
        sub.root
    ));
    (xml, kept)
}

impl Core {
    /// The consent recorded for a record (by any of its versions' instanceIDs), if its form has
    /// a consent question or consent was withdrawn.
    pub async fn record_consent(
        &self,
        access: &ProjectAccess,
        xml_form_id: &str,
        root_instance_id: &str,
    ) -> Result<Option<ConsentRecord>, CoreError> {
        access.require(Permission::ViewData)?;
        let (form, _) = self.form_in(access.project.id, xml_form_id).await?;
        let rows = self.rows_for(access, form.id).await?;
        self.require_record(&rows, form.id, root_instance_id)
            .await?;
        Ok(self.store.consent(form.id, root_instance_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = "| survey | | | | |\n| | type | name | label::Français (fr) | consent |\n| | start | start | | |\n| | begin group | g | G | |\n| | select_one on | ok | Acceptez-vous ? | yes |\n| | end group | | | |\n| | text | nom | Nom | |\n| choices | | | |\n| | list_name | name | label::Français (fr) |\n| | on | oui | Oui |\n| | on | non | Non |\n| settings | | |\n| | form_id | consent_notice_version |\n| | f | 2026-01 |\n";

    fn typed(model: &Form, xml: &str) -> (baraza_openrosa::Submission, Vec<TypedValue>) {
        let sub = baraza_openrosa::parse_submission(xml.as_bytes(), &Default::default()).unwrap();
        let values = baraza_openrosa::type_values(model, &sub).unwrap();
        (sub, values)
    }

    #[test]
    fn answers_states_languages_and_what_a_refusal_keeps() {
        let c = baraza_xlsform::compile(FORM.as_bytes(), baraza_xlsform::Format::Markdown, "f");
        let model = c.form.expect("compiles");
        let xml = |ok: &str, meta: &str| {
            format!("<data id=\"f\"><start>2026-10-01T08:00:00.000+01:00</start><g><ok>{ok}</ok></g><nom>Awa &amp; Co</nom><meta><instanceID>uuid:1</instanceID>{meta}</meta></data>")
        };
        for (ok, meta, channel, web, state, lang, source) in [
            (
                "oui",
                "",
                Channel::OdkCollect,
                None,
                "given",
                "Français (fr)",
                "form_default",
            ),
            (
                "non",
                "",
                Channel::Api,
                None,
                "refused",
                "Français (fr)",
                "form_default",
            ),
            (
                "",
                "<language>English (en)</language>",
                Channel::OdkCollect,
                None,
                "not_answered",
                "English (en)",
                "submission",
            ),
            (
                "oui",
                "",
                Channel::WebForm,
                Some("English (en)"),
                "given",
                "English (en)",
                "web_form",
            ),
        ] {
            let (_, values) = typed(&model, &xml(ok, meta));
            let got = consent_of(&model, &values, channel, web).expect("a consent");
            assert_eq!(got.state, state, "{ok:?}");
            assert_eq!(got.language.as_deref(), Some(lang));
            assert_eq!(got.language_source, Some(source));
            assert_eq!(got.channel, channel.as_str());
            assert_eq!(got.notice_version.as_deref(), Some("2026-01"));
            assert_eq!(
                got.started.as_deref(),
                Some("2026-10-01T08:00:00.000+01:00")
            );
            assert_eq!(got.ended, None);
        }
        let (sub, values) = typed(&model, &xml("non", ""));
        let (kept_xml, kept) = refused_only(&model, &sub, values);
        assert_eq!(
            kept_xml,
            "<data id=\"f\"><g><ok>non</ok></g><meta><instanceID>uuid:1</instanceID></meta></data>"
        );
        let paths: Vec<&str> = kept.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/data/g/ok", "/data/meta/instanceID"]);
        // The kept XML is itself a valid submission of the form.
        let (_, again) = typed(&model, &kept_xml);
        assert_eq!(again, kept);
    }
}
