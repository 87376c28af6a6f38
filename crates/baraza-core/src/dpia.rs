//! The data protection impact assessment (GDPR art. 35) of a project, as a checklist.
//!
//! Baraza computes what it knows — sensitive fields, the scale, vulnerable people named among
//! the data subjects, public links, retention, purposes, the audit log's last verification,
//! agreements and incidents — each item "ok" or "needs attention" with why. The nine criteria of
//! the European Data Protection Board (WP248 rev.01) decide whether an assessment is required:
//! three are computed, the six others are ticked by the project's managers; two or more met and
//! it is. Managers also answer the assessment's questions (necessity and proportionality, risks
//! to people, mitigations, the data-protection officer's opinion, the decision); answers are
//! appended, so who answered what, and when, stays known.

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_store::DpiaAnswer;
use baraza_types::Permission;
use baraza_xlsform::model::Sensitivity;
use serde::Serialize;
use std::collections::BTreeMap;

/// Records in a project from which its processing counts as large-scale (a rule of thumb: the
/// EDPB names no number).
pub const LARGE_SCALE_RECORDS: i64 = 10_000;
/// How recent the audit log's last verification must be, in days.
pub const VERIFY_WITHIN_DAYS: i64 = 90;
/// Longest answer, in characters.
const MAX_ANSWER: usize = 5000;

/// Words that, in a form's "whose data", name people the EDPB counts as vulnerable (children,
/// patients, refugees…), in French and English, lowercase.
const VULNERABLE: [&str; 26] = [
    "enfant",
    "child",
    "mineur",
    "minor",
    "moins de 5 ans",
    "under 5",
    "élève",
    "pupil",
    "réfugié",
    "refugee",
    "déplacé",
    "displaced",
    "migrant",
    "demandeur d’asile",
    "asylum",
    "patient",
    "malade",
    "handicap",
    "disab",
    "détenu",
    "detainee",
    "âgé",
    "elderly",
    "enceinte",
    "pregnant",
    "survivant",
];

/// The EDPB criteria that the managers say (Baraza cannot know them).
pub const DECLARED_CRITERIA: [&str; 6] = [
    "evaluation",
    "automated_decision",
    "monitoring",
    "matching",
    "innovative",
    "prevents_rights",
];

/// The questions answered in words.
pub const TEXT_QUESTIONS: [&str; 4] = ["necessity", "risks", "mitigations", "dpo_opinion"];

/// The possible decisions.
pub const DECISIONS: [&str; 4] = [
    "proceed",
    "proceed_with_measures",
    "consult_authority",
    "stop",
];

/// One of the EDPB's nine criteria.
#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    pub code: &'static str,
    pub met: bool,
    /// Computed by Baraza (rather than said by a manager).
    pub computed: bool,
}

/// One item of the checklist: computed, with why (a code and the values its text needs).
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub code: &'static str,
    pub ok: bool,
    pub why: BTreeMap<&'static str, String>,
}

/// A question and its current answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub question: String,
    pub answer: String,
    pub by: Option<String>,
    pub at: Option<i64>,
}

/// The project's impact assessment, as of now.
#[derive(Debug, Clone, Serialize)]
pub struct Dpia {
    pub generated_at: i64,
    /// Two or more criteria met.
    pub required: bool,
    pub criteria_met: usize,
    pub criteria: Vec<Criterion>,
    pub checklist: Vec<Item>,
    /// The questions (declared criteria as `criterion_*`, `yes` or empty; the texts; the
    /// decision) with their current answers.
    pub answers: Vec<Answer>,
    /// Every answer given, oldest first.
    pub history: Vec<DpiaAnswer>,
}

/// Every stored question, in the page's order.
pub fn questions() -> Vec<String> {
    DECLARED_CRITERIA
        .iter()
        .map(|c| format!("criterion_{c}"))
        .chain(TEXT_QUESTIONS.iter().map(|q| (*q).to_owned()))
        .chain(std::iter::once("decision".to_owned()))
        .collect()
}

fn item(code: &'static str, ok: bool, why: &[(&'static str, String)]) -> Item {
    Item {
        code,
        ok,
        why: why.iter().cloned().collect(),
    }
}

/// The vulnerable people a text names (the words found).
pub fn vulnerable_words(text: &str) -> Vec<&'static str> {
    let t = text.to_lowercase();
    VULNERABLE.into_iter().filter(|w| t.contains(w)).collect()
}

impl Core {
    /// The project's impact assessment, computed now, with the managers' answers.
    pub async fn dpia(&self, access: &ProjectAccess) -> Result<Dpia, CoreError> {
        access.require(Permission::ViewAudit)?;
        let now = self.now();
        let record = self.record_of_processing(access).await?;
        let history = self.store.dpia_answers(access.project.id.0).await?;
        let mut current: BTreeMap<String, &DpiaAnswer> = BTreeMap::new();
        for a in &history {
            current.insert(a.question.clone(), a);
        }
        let said = |q: &str| current.get(q).is_some_and(|a| a.answer == "yes");

        let list = |v: Vec<String>| v.join(", ");
        let sensitive: Vec<String> = record
            .forms
            .iter()
            .flat_map(|f| {
                f.sensitive
                    .iter()
                    .map(|s| format!("{}/{}", f.xml_form_id, s.name))
            })
            .collect();
        let records: i64 = record.forms.iter().map(|f| f.records).sum();
        let mut vulnerable: Vec<&str> = record
            .forms
            .iter()
            .flat_map(|f| vulnerable_words(&f.data_subjects))
            .collect();
        vulnerable.sort();
        vulnerable.dedup();
        let mut public_links = Vec::new();
        for l in self.store.list_forms(access.project.id).await? {
            if self.store.public_token(l.form.id).await?.is_some() {
                public_links.push(l.form.xml_form_id);
            }
        }
        let no_retention: Vec<String> = record
            .forms
            .iter()
            .filter(|f| f.retention_days.is_none())
            .map(|f| f.xml_form_id.clone())
            .collect();
        let no_purpose: Vec<String> = record
            .forms
            .iter()
            .filter(|f| f.purpose.is_empty() || f.lawful_basis.is_empty())
            .map(|f| f.xml_form_id.clone())
            .collect();
        let verified = self.store.last_audit_verification().await?;
        let agreements = self.agreements(access).await?;
        let expired: Vec<String> = agreements
            .iter()
            .filter(|a| a.expired)
            .map(|a| a.agreement.fields.recipient.clone())
            .collect();
        let incidents = self.incidents(access).await?;
        let urgent = incidents.iter().filter(|i| i.clock.urgent()).count();
        let open = incidents
            .iter()
            .filter(|i| i.incident.fields.status == "open")
            .count();

        let large = records >= LARGE_SCALE_RECORDS;
        let max_level = record.sensitivity.unwrap_or(Sensitivity::Public);
        let checklist = vec![
            item(
                "sensitive_data",
                sensitive.is_empty(),
                &[
                    ("n", sensitive.len().to_string()),
                    ("fields", list(sensitive.clone())),
                    ("level", max_level.as_str().to_owned()),
                ],
            ),
            item(
                "large_scale",
                !large,
                &[
                    ("records", records.to_string()),
                    ("threshold", LARGE_SCALE_RECORDS.to_string()),
                ],
            ),
            item(
                "vulnerable",
                vulnerable.is_empty(),
                &[("words", vulnerable.join(", "))],
            ),
            item(
                "public_links",
                public_links.is_empty(),
                &[("forms", list(public_links))],
            ),
            item(
                "retention",
                no_retention.is_empty(),
                &[("forms", list(no_retention))],
            ),
            item(
                "purpose",
                no_purpose.is_empty(),
                &[("forms", list(no_purpose))],
            ),
            item(
                "audit_verified",
                verified.is_some_and(|t| t >= now - VERIFY_WITHIN_DAYS * 86_400),
                &[
                    ("days", VERIFY_WITHIN_DAYS.to_string()),
                    ("at", verified.map(|t| t.to_string()).unwrap_or_default()),
                ],
            ),
            item(
                "agreements",
                expired.is_empty(),
                &[
                    ("n", agreements.len().to_string()),
                    ("recipients", list(expired)),
                ],
            ),
            item(
                "incidents",
                urgent == 0,
                &[("open", open.to_string()), ("urgent", urgent.to_string())],
            ),
        ];

        // The nine criteria, in the EDPB's order.
        let computed = |code, met| Criterion {
            code,
            met,
            computed: true,
        };
        let declared = |code: &'static str| Criterion {
            code,
            met: said(&format!("criterion_{code}")),
            computed: false,
        };
        let criteria = vec![
            declared("evaluation"),
            declared("automated_decision"),
            declared("monitoring"),
            computed("sensitive_data", !sensitive.is_empty()),
            computed("large_scale", large),
            declared("matching"),
            computed("vulnerable", !vulnerable.is_empty()),
            declared("innovative"),
            declared("prevents_rights"),
        ];
        let criteria_met = criteria.iter().filter(|c| c.met).count();
        let answers = questions()
            .into_iter()
            .map(|q| {
                let a = current.get(&q);
                Answer {
                    answer: a.map(|a| a.answer.clone()).unwrap_or_default(),
                    by: a.and_then(|a| a.user_name.clone()),
                    at: a.map(|a| a.at),
                    question: q,
                }
            })
            .collect();
        Ok(Dpia {
            generated_at: now,
            required: criteria_met >= 2,
            criteria_met,
            criteria,
            checklist,
            answers,
            history,
        })
    }

    /// Saves the answers that changed (`given`: question -> answer; a question left out is
    /// answered empty, as an unticked box is). Returns the questions whose answer changed.
    pub async fn answer_dpia(
        &self,
        access: &ProjectAccess,
        given: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, CoreError> {
        access.require(Permission::KeepRegisters)?;
        let mut new = Vec::new();
        for q in questions() {
            let v = given.get(&q).map(|v| v.trim()).unwrap_or("");
            let ok = if q.starts_with("criterion_") {
                matches!(v, "" | "yes")
            } else if q == "decision" {
                v.is_empty() || DECISIONS.contains(&v)
            } else {
                v.chars().count() <= MAX_ANSWER
            };
            if !ok {
                let (field, reason) = match q.as_str() {
                    "decision" => ("decision", "dpia_decision"),
                    "necessity" | "risks" | "mitigations" | "dpo_opinion" => {
                        ("answer", "dpia_answer")
                    }
                    _ => ("criterion", "dpia_criterion"),
                };
                return Err(CoreError::Invalid { field, reason });
            }
            new.push((q, v.to_owned()));
        }
        let history = self.store.dpia_answers(access.project.id.0).await?;
        let mut current: BTreeMap<&str, &str> = BTreeMap::new();
        for a in &history {
            current.insert(&a.question, &a.answer);
        }
        new.retain(|(q, v)| current.get(q.as_str()).copied().unwrap_or("") != v.as_str());
        if new.is_empty() {
            return Ok(Vec::new());
        }
        self.store
            .add_dpia_answers(
                access.project.id.0,
                &new,
                access.user.map(|u| u.0),
                self.now(),
            )
            .await?;
        let changed: Vec<String> = new.into_iter().map(|(q, _)| q).collect();
        let decision = given.get("decision").map(|d| d.trim()).unwrap_or("");
        self.audit(
            Actor::of_access(access),
            "dpia.answered",
            &Target {
                project: Some(access.project.id),
                text: format!("project:{}/dpia", access.project.id.0),
            },
            serde_json::json!({ "questions": changed, "decision": decision }),
        )
        .await?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vulnerable_people_are_found_in_either_language() {
        for (text, want) in [
            (
                "Ménages enquêtés : chef de ménage et enfants de moins de 5 ans",
                vec!["enfant", "moins de 5 ans"],
            ),
            ("Refugees in camps", vec!["refugee"]),
            ("Points d’eau", vec![]),
        ] {
            assert_eq!(vulnerable_words(text), want, "{text}");
        }
    }

    #[test]
    fn questions_are_listed_once() {
        let q = questions();
        let mut d = q.clone();
        d.sort();
        d.dedup();
        assert_eq!(q.len(), d.len());
        assert_eq!(q.len(), DECLARED_CRITERIA.len() + TEXT_QUESTIONS.len() + 1);
    }
}
