//! Finding a person: the first step of a data-subject request (access, rectification, erasure).
//!
//! A manager types what the person gave: a phone number, an e-mail, a name, an identity number.
//! The value is normalised and hashed with each of the project's blind-index keys (one per data
//! key version) as each kind of identifier, and the blind index (`subject_index`) gives the
//! records that hold it, across every form of the project, without opening any other record.
//!
//! The value searched for is personal data: it never reaches the audit log or the logs (only the
//! kinds it was read as and how many records were found), and the web edge takes it in a POST
//! body, never in a URL.

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_protect::BlindKind;
use baraza_types::Permission;
use serde::Serialize;

/// Longest value searched for, in characters.
const MAX_QUERY: usize = 200;

/// Most records a search returns.
const MAX_HITS: i64 = 500;

/// A record of the person.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectRecord {
    pub xml_form_id: String,
    pub form_title: String,
    pub instance_id: String,
    /// The answers that matched (instance paths).
    pub paths: Vec<String>,
    pub received_at: i64,
}

/// What a search found.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectSearch {
    /// The kinds of identifier the value could be read as (`phone`, `email`, `name`,
    /// `identifier`).
    pub read_as: Vec<&'static str>,
    pub records: Vec<SubjectRecord>,
    /// Whether more records matched than are listed.
    pub truncated: bool,
}

fn kind_name(kind: BlindKind) -> &'static str {
    match kind {
        BlindKind::Phone { .. } => "phone",
        BlindKind::Email => "email",
        BlindKind::Name => "name",
        BlindKind::Identifier => "identifier",
    }
}

impl Core {
    /// The project's current records that hold this value in an answer that identifies a
    /// person, newest first. Needs the right to see personal data; audited without the value.
    pub async fn find_subject(
        &self,
        access: &ProjectAccess,
        value: &str,
    ) -> Result<SubjectSearch, CoreError> {
        access.require(Permission::ViewPersonal)?;
        let value = value.trim();
        if value.is_empty() {
            return Err(CoreError::Invalid {
                field: "value",
                reason: "subject.value_missing",
            });
        }
        if value.chars().count() > MAX_QUERY {
            return Err(CoreError::Invalid {
                field: "value",
                reason: "subject.value_length",
            });
        }
        let kinds = [
            BlindKind::Phone {
                default_calling_code: self.settings.default_calling_code,
            },
            BlindKind::Email,
            BlindKind::Name,
            BlindKind::Identifier,
        ];
        let mut tokens = Vec::new();
        let mut read_as = Vec::new();
        for key in self.data_keys(access.project.id.0).await?.values() {
            let index = key.blind_index_key();
            for kind in kinds {
                // A value that cannot be a phone number (letters) is simply not read as one.
                if let Ok(token) = index.index(kind, value) {
                    tokens.push(token);
                    if !read_as.contains(&kind_name(kind)) {
                        read_as.push(kind_name(kind));
                    }
                }
            }
        }
        let hits = self
            .store
            .find_subject(access.project.id.0, &tokens, MAX_HITS + 1)
            .await?;
        let truncated = hits.len() as i64 > MAX_HITS;
        let mut records: Vec<SubjectRecord> = Vec::new();
        let mut titles = std::collections::HashMap::new();
        for h in hits.into_iter().take(MAX_HITS as usize) {
            if let Some(r) = records
                .iter_mut()
                .find(|r| r.instance_id == h.instance_id && r.xml_form_id == h.xml_form_id)
            {
                r.paths.push(h.path);
                continue;
            }
            let title = match titles.get(&h.form_id) {
                Some(t) => String::clone(t),
                None => {
                    let t = self
                        .store
                        .form_by_id(h.form_id)
                        .await?
                        .map(|f| f.title)
                        .unwrap_or_default();
                    titles.insert(h.form_id, t.clone());
                    t
                }
            };
            records.push(SubjectRecord {
                xml_form_id: h.xml_form_id,
                form_title: title,
                instance_id: h.instance_id,
                paths: vec![h.path],
                received_at: h.received_at,
            });
        }
        self.audit(
            Actor::of_access(access),
            "subject.search",
            &Target::project(access.project.id),
            serde_json::json!({ "read_as": read_as, "records": records.len() }),
        )
        .await?;
        Ok(SubjectSearch {
            read_as,
            records,
            truncated,
        })
    }
}
