//! Encryption at rest: the server's master keys, the projects' data keys, and sealing a
//! submission before it is stored.
//!
//! The binary reads the master key from a file or the environment (never from the database) and
//! hands it to [`Keyring::new`], with the previous master key while a rotation is under way.
//! Each project gets a data key the first time it stores something to seal; the key is kept in
//! the database only wrapped by the master key (`project_keys`), and in memory, unwrapped, for as
//! long as the process runs. The newest version of a project's key seals new records; older
//! versions keep opening the records they sealed (`baraza keys rotate --data-keys`).
//!
//! What is sealed, per submission, when its form has `personal` or `sensitive` questions (in any
//! version): the XML as received, and each answer to those questions in the typed values. The
//! other answers stay in clear, so tables, filters, maps and indicators keep working on them.
//! Answers that identify a person (phone numbers, e-mails, names, identity numbers) also get a
//! blind index, so that a data-subject request finds a person's records without opening all.
//!
//! // PRIVACY: plaintext of sealed answers exists only in memory, between [`Core::seal_submission`]
//! // and the store, and between [`crate::mask::Mask::apply`] and the reader allowed to see it.

use crate::{Core, CoreError};
use baraza_protect::{BlindKind, DataKey, MasterKey, WrappedKey};
use baraza_store::{StoreError, StoredKey, SubjectToken};
use baraza_xlsform::model::{Form, QType, Question};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rand::RngCore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long an instance trusts its idea of a project's newest data key before reading it again
/// (another instance may have rotated it).
const NEWEST_TTL_SECS: i64 = 300;

/// The master keys and the data keys unwrapped so far.
pub struct Keyring {
    /// The master key that wraps new data keys, then older ones still accepted for unwrapping
    /// while a master-key rotation is under way.
    masters: Vec<MasterKey>,
    /// Off only for benchmarks that measure what sealing costs.
    pub(crate) enabled: bool,
    keys: Mutex<HashMap<(i64, i64), Arc<DataKey>>>,
    /// Per project: the newest version and when it was read.
    newest: Mutex<HashMap<i64, (i64, i64)>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("masters", &self.fingerprints())
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A keyring over the current master key and, during a rotation, previous ones.
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Keyring {
        let mut masters = vec![current];
        masters.extend(previous);
        Keyring {
            masters,
            enabled: true,
            keys: Mutex::default(),
            newest: Mutex::default(),
        }
    }

    /// A keyring that seals nothing: new submissions are stored in clear. Only for measuring
    /// the cost of encryption (`baraza bench`); sealed records still open.
    pub fn sealing_disabled(current: MasterKey) -> Keyring {
        Keyring {
            enabled: false,
            ..Keyring::new(current, Vec::new())
        }
    }

    /// The fingerprints of the master keys, current first.
    pub fn fingerprints(&self) -> Vec<String> {
        self.masters.iter().map(MasterKey::fingerprint).collect()
    }

    pub fn current(&self) -> &MasterKey {
        &self.masters[0]
    }

    /// The master key that wrapped this key, among ours.
    fn master_for(&self, wrapped: &WrappedKey) -> Option<&MasterKey> {
        let fp = wrapped.master_fingerprint();
        self.masters.iter().find(|m| m.fingerprint() == fp)
    }

    /// Unwraps a stored data key; a key wrapped by a master key we do not hold is an error that
    /// names both fingerprints.
    pub fn unwrap(&self, stored: &StoredKey) -> Result<DataKey, CoreError> {
        let wrapped = WrappedKey::from_text(&stored.wrapped).map_err(|e| {
            corrupt(format!(
                "data key {} of project {}: {e}",
                stored.version, stored.project_id
            ))
        })?;
        let master = self.master_for(&wrapped).ok_or_else(|| {
            corrupt(format!(
                "data key {} of project {} was wrapped by master key {}, not by {}: start Baraza with that master key",
                stored.version,
                stored.project_id,
                wrapped.master_fingerprint(),
                self.fingerprints().join(" or ")
            ))
        })?;
        master
            .unwrap(&wrapped, &key_id(stored.project_id, stored.version))
            .map_err(|e| corrupt(e.to_string()))
    }
}

/// The identifier a data key is wrapped for (bound as associated data).
pub fn key_id(project_id: i64, version: i64) -> String {
    format!("project:{project_id}:v{version}")
}

fn corrupt(detail: String) -> CoreError {
    CoreError::Store(StoreError::Corrupt(detail))
}

pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// The associated data of a sealed answer: the form, the record's instanceID and the answer's
/// instance path, so that a sealed answer moved to another place does not open.
pub(crate) fn value_place(form_id: i64, instance_id: &str, path: &str) -> String {
    format!("form:{form_id}/instance:{instance_id}/path:{path}")
}

/// The associated data of a sealed submission XML.
/// The prefix of a sealed draft's stored answers (clear ones are a JSON object).
const DRAFT_SEALED: &str = "sealed:";

/// Where a draft's answers are sealed: bound to the draft.
fn draft_place(draft_id: &str) -> String {
    format!("draft:{draft_id}")
}

pub(crate) fn xml_place(form_id: i64, instance_id: &str) -> String {
    format!("form:{form_id}/instance:{instance_id}/xml")
}

/// What kind of identifier a question holds, for its blind index: from its type (phone number,
/// e-mail) or from the words of its name (`phone`, `telephone`, `nom`, `cni`…), for `personal`
/// and `sensitive` text questions only.
pub fn blind_kind(q: &Question, calling_code: Option<u16>) -> Option<BlindKind> {
    let phone = BlindKind::Phone {
        default_calling_code: calling_code,
    };
    if !q.sensitivity.is_protected() {
        return None;
    }
    match q.qtype {
        QType::PhoneNumber => return Some(phone),
        QType::Email => return Some(BlindKind::Email),
        QType::Text | QType::Barcode => {}
        _ => return None,
    }
    let name = fold(&q.name);
    let words: Vec<&str> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
    let joined: String = words.concat();
    if has(PHONE_WORDS) || PHONE_WORDS.contains(&joined.as_str()) {
        Some(phone)
    } else if has(EMAIL_WORDS) || joined == "email" {
        Some(BlindKind::Email)
    } else if has(ID_WORDS) || ID_PHRASES.contains(&joined.as_str()) {
        Some(BlindKind::Identifier)
    } else if has(NAME_WORDS) || NAME_PHRASES.contains(&joined.as_str()) {
        Some(BlindKind::Name)
    } else {
        None
    }
}

const PHONE_WORDS: &[&str] = &[
    "phone",
    "telephone",
    "tel",
    "mobile",
    "cellphone",
    "portable",
    "whatsapp",
    "msisdn",
    "phonenumber",
];
const EMAIL_WORDS: &[&str] = &["email", "mail", "courriel"];
const ID_WORDS: &[&str] = &[
    "cni",
    "passport",
    "passeport",
    "nin",
    "ssn",
    "nationalid",
    "idnumber",
];
const ID_PHRASES: &[&str] = &["nationalid", "idnumber", "idcard", "numeroidentite"];
const NAME_WORDS: &[&str] = &[
    "name",
    "nom",
    "prenom",
    "surname",
    "firstname",
    "lastname",
    "fullname",
    "nomcomplet",
];
const NAME_PHRASES: &[&str] = &["firstname", "lastname", "familyname", "nomdefamille"];

/// Lowercase ASCII of a name, accents dropped (names of questions are XML names, mostly ASCII).
fn fold(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A submission's sealed parts.
pub(crate) struct Sealed {
    pub key_version: Option<i64>,
    pub xml: String,
    pub values_json: String,
    pub subjects: Vec<SubjectToken>,
}

impl Core {
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The data key of this version of a project's keys.
    pub async fn data_key(&self, project_id: i64, version: i64) -> Result<Arc<DataKey>, CoreError> {
        if let Some(k) = self
            .keyring
            .keys
            .lock()
            .map_err(poisoned)?
            .get(&(project_id, version))
        {
            return Ok(k.clone());
        }
        let stored = self
            .store
            .project_keys(project_id)
            .await?
            .into_iter()
            .find(|k| k.version == version)
            .ok_or_else(|| {
                corrupt(format!(
                    "project {project_id} has no data key {version}: it was destroyed or the database is not the one the records were sealed for"
                ))
            })?;
        let key = Arc::new(self.keyring.unwrap(&stored)?);
        self.keyring
            .keys
            .lock()
            .map_err(poisoned)?
            .insert((project_id, version), key.clone());
        Ok(key)
    }

    /// Every data key of a project, by version (to open its records).
    pub async fn data_keys(
        &self,
        project_id: i64,
    ) -> Result<HashMap<i64, Arc<DataKey>>, CoreError> {
        let mut out = HashMap::new();
        for stored in self.store.project_keys(project_id).await? {
            out.insert(
                stored.version,
                self.data_key(project_id, stored.version).await?,
            );
        }
        Ok(out)
    }

    /// The newest data key of a project, made (and stored wrapped) if it has none.
    pub async fn sealing_key(&self, project_id: i64) -> Result<(i64, Arc<DataKey>), CoreError> {
        let now = self.now();
        let cached = self
            .keyring
            .newest
            .lock()
            .map_err(poisoned)?
            .get(&project_id)
            .copied();
        let version = match cached {
            Some((v, at)) if now - at < NEWEST_TTL_SECS => v,
            _ => {
                let v = match self.store.project_keys(project_id).await?.last() {
                    Some(k) => k.version,
                    None => self.add_data_key(project_id, 1).await?,
                };
                self.keyring
                    .newest
                    .lock()
                    .map_err(poisoned)?
                    .insert(project_id, (v, now));
                v
            }
        };
        Ok((version, self.data_key(project_id, version).await?))
    }

    /// Makes a project's data key of this version, wrapped by the current master key; if
    /// another instance made it first, that one is used. Returns the version.
    async fn add_data_key(&self, project_id: i64, version: i64) -> Result<i64, CoreError> {
        let key = DataKey::from_bytes(random());
        let wrapped = self
            .keyring
            .current()
            .wrap(&key, &key_id(project_id, version), random());
        self.store
            .add_project_key(&StoredKey {
                project_id,
                version,
                wrapped: wrapped.to_text(),
                created_at: self.now(),
            })
            .await?;
        Ok(version)
    }

    /// Gives every project a new data key (new records are sealed with it; older ones keep
    /// opening with theirs). Returns how many projects got one.
    pub async fn rotate_data_keys(&self) -> Result<usize, CoreError> {
        let mut newest: HashMap<i64, i64> = HashMap::new();
        for k in self.store.all_project_keys().await? {
            let v = newest.entry(k.project_id).or_default();
            *v = (*v).max(k.version);
        }
        for (&project, &version) in &newest {
            self.add_data_key(project, version + 1).await?;
        }
        self.keyring.newest.lock().map_err(poisoned)?.clear();
        self.audit(
            crate::audit::Actor::System,
            "keys.data_rotated",
            &crate::audit::Target::none(),
            serde_json::json!({ "projects": newest.len() }),
        )
        .await?;
        Ok(newest.len())
    }

    /// Rewraps every data key wrapped by a previous master key with the current one, in one
    /// transaction. Returns (rewrapped, already current).
    pub async fn rewrap_data_keys(&self) -> Result<(u64, usize), CoreError> {
        let current = self.keyring.current();
        let mut todo = Vec::new();
        let mut already = 0;
        for stored in self.store.all_project_keys().await? {
            let wrapped = WrappedKey::from_text(&stored.wrapped)
                .map_err(|e| corrupt(format!("data key {}: {e}", stored.version)))?;
            if wrapped.master_fingerprint() == current.fingerprint() {
                already += 1;
                continue;
            }
            let key = self.keyring.unwrap(&stored)?;
            let new = current.wrap(&key, &key_id(stored.project_id, stored.version), random());
            todo.push((stored, new.to_text()));
        }
        let n = self.store.rewrap_project_keys(&todo).await?;
        self.audit(
            crate::audit::Actor::System,
            "keys.rewrapped",
            &crate::audit::Target::none(),
            serde_json::json!({ "rewrapped": n, "master": current.fingerprint() }),
        )
        .await?;
        Ok((n, already))
    }

    /// Checks that every stored data key opens with the master keys we hold: at start, so that a
    /// server given the wrong master key refuses to start instead of failing on each record.
    /// Returns how many keys there are.
    pub async fn check_data_keys(&self) -> Result<usize, CoreError> {
        let all = self.store.all_project_keys().await?;
        for stored in &all {
            self.keyring.unwrap(stored)?;
        }
        Ok(all.len())
    }

    /// Seals a submission's XML and its answers to protected questions (of `model`), and makes
    /// the blind indexes of the answers that identify a person. A form without protected
    /// questions is stored in clear.
    pub(crate) async fn seal_submission(
        &self,
        project_id: i64,
        form_id: i64,
        model: &Form,
        instance_id: &str,
        xml: String,
        values: &[baraza_openrosa::TypedValue],
    ) -> Result<Sealed, CoreError> {
        let protected: HashMap<String, &Question> = model
            .question_paths()
            .into_iter()
            .filter(|(_, q)| q.sensitivity.is_protected())
            .collect();
        if protected.is_empty() || !self.keyring.enabled {
            let values_json = serde_json::to_string(values).map_err(|e| corrupt(e.to_string()))?;
            return Ok(Sealed {
                key_version: None,
                xml,
                values_json,
                subjects: Vec::new(),
            });
        }
        let (version, key) = self.sealing_key(project_id).await?;
        let index_key = key.blind_index_key();
        let mut subjects = Vec::new();
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            let mut entry = serde_json::to_value(v).map_err(|e| corrupt(e.to_string()))?;
            if let Some(q) = protected.get(&crate::mask::model_path(&v.path)) {
                if let Some(kind) = blind_kind(q, self.settings.default_calling_code) {
                    let raw = v.value.to_raw();
                    // A value that does not normalise (letters in a phone number) is sealed
                    // all the same, only not indexed.
                    if let Ok(token) = index_key.index(kind, &raw) {
                        subjects.push(SubjectToken {
                            path: v.path.clone(),
                            token,
                        });
                    }
                }
                let plain =
                    serde_json::to_vec(&entry["value"]).map_err(|e| corrupt(e.to_string()))?;
                let sealed = key.seal(
                    &plain,
                    value_place(form_id, instance_id, &v.path).as_bytes(),
                    random(),
                );
                entry["value"] = serde_json::json!({
                    "type": "sealed",
                    "key": version,
                    "value": B64.encode(sealed),
                });
            }
            out.push(entry);
        }
        let sealed_xml = key.seal(
            xml.as_bytes(),
            xml_place(form_id, instance_id).as_bytes(),
            random(),
        );
        Ok(Sealed {
            key_version: Some(version),
            xml: B64.encode(sealed_xml),
            values_json: serde_json::to_string(&out).map_err(|e| corrupt(e.to_string()))?,
            subjects,
        })
    }

    /// Seals the submissions stored in clear before encryption at rest (those filled with a
    /// form version that has protected questions), 500 per transaction, then compacts the
    /// database so that no clear copy stays in its files (SQLite). Run at start and hourly by
    /// the server, and by `baraza keys seal-existing`. Returns how many were sealed.
    pub async fn seal_existing(&self) -> Result<u64, CoreError> {
        if !self.keyring.enabled {
            return Ok(0);
        }
        let mut versions = Vec::new();
        for v in self.store.all_form_version_ids().await? {
            if !self.form_model(v).await?.protected_paths().is_empty() {
                versions.push(v);
            }
        }
        let mut total = 0;
        loop {
            let rows = self.store.clear_submissions(&versions, 500).await?;
            if rows.is_empty() {
                break;
            }
            let mut updates = Vec::with_capacity(rows.len());
            for r in rows {
                let model = self.form_model(r.form_version_id).await?;
                let values: Vec<baraza_openrosa::TypedValue> = serde_json::from_str(&r.values_json)
                    .map_err(|e| corrupt(format!("values of submission {}: {e}", r.id)))?;
                let sealed = self
                    .seal_submission(
                        r.project_id,
                        r.form_id,
                        &model,
                        &r.instance_id,
                        r.xml.clone().unwrap_or_default(),
                        &values,
                    )
                    .await?;
                let Some(key_version) = sealed.key_version else {
                    continue;
                };
                updates.push(baraza_store::SealedUpdate {
                    id: r.id,
                    xml: r.xml.is_some().then_some(sealed.xml),
                    values_json: sealed.values_json,
                    key_version,
                    subjects: sealed.subjects,
                });
            }
            let n = self.store.seal_clear_submissions(&updates).await?;
            total += n;
            if n == 0 {
                break;
            }
        }
        if total > 0 {
            self.compact_after_destruction().await?;
            self.audit(
                crate::audit::Actor::System,
                "keys.sealed_existing",
                &crate::audit::Target::none(),
                serde_json::json!({ "records": total }),
            )
            .await?;
        }
        Ok(total)
    }

    /// A web-form draft's answers as they are stored: sealed under the project's data key,
    /// bound to the draft, when the form version has protected questions (`sealed:<key
    /// version>:<base64>`), in clear otherwise. A draft is a submission not sent yet: it holds
    /// the same answers.
    pub(crate) async fn seal_draft(
        &self,
        project_id: i64,
        model: &Form,
        draft_id: &str,
        state_json: String,
    ) -> Result<String, CoreError> {
        if !self.keyring.enabled
            || !model
                .questions()
                .iter()
                .any(|q| q.sensitivity.is_protected())
        {
            return Ok(state_json);
        }
        let (version, key) = self.sealing_key(project_id).await?;
        let sealed = key.seal(
            state_json.as_bytes(),
            draft_place(draft_id).as_bytes(),
            random(),
        );
        Ok(format!("{DRAFT_SEALED}{version}:{}", B64.encode(sealed)))
    }

    /// A draft's answers as [`Core::seal_draft`] stored them, opened.
    pub(crate) async fn open_draft(
        &self,
        project_id: i64,
        draft_id: &str,
        stored: String,
    ) -> Result<String, CoreError> {
        let Some(rest) = stored.strip_prefix(DRAFT_SEALED) else {
            return Ok(stored);
        };
        let bad = |e: String| corrupt(format!("sealed draft: {e}"));
        let (version, b64) = rest
            .split_once(':')
            .ok_or_else(|| bad("no key version".into()))?;
        let version: i64 = version.parse().map_err(|_| bad("bad key version".into()))?;
        let key = self.data_key(project_id, version).await?;
        let sealed = B64.decode(b64).map_err(|e| bad(e.to_string()))?;
        let plain = key
            .open(&sealed, draft_place(draft_id).as_bytes())
            .map_err(|e| bad(e.to_string()))?;
        String::from_utf8(plain).map_err(|e| bad(e.to_string()))
    }

    /// Seals a submission's XML again under the data key version it was sealed with (after
    /// some answers were erased from it).
    pub(crate) async fn reseal_xml(
        &self,
        project_id: i64,
        form_id: i64,
        instance_id: &str,
        key_version: i64,
        xml: &str,
    ) -> Result<String, CoreError> {
        let key = self.data_key(project_id, key_version).await?;
        Ok(B64.encode(key.seal(
            xml.as_bytes(),
            xml_place(form_id, instance_id).as_bytes(),
            random(),
        )))
    }

    /// Opens a sealed submission XML.
    pub(crate) async fn open_xml(
        &self,
        project_id: i64,
        form_id: i64,
        instance_id: &str,
        key_version: i64,
        sealed_b64: &str,
    ) -> Result<Vec<u8>, CoreError> {
        let key = self.data_key(project_id, key_version).await?;
        let sealed = B64
            .decode(sealed_b64)
            .map_err(|e| corrupt(format!("sealed XML of {instance_id}: {e}")))?;
        key.open(&sealed, xml_place(form_id, instance_id).as_bytes())
            .map_err(|e| corrupt(format!("sealed XML of {instance_id}: {e}")))
    }
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> CoreError {
    corrupt("the key cache was poisoned by a panic".into())
}

/// Opens the sealed answers of one record's typed values in place.
pub(crate) fn open_values(
    keys: &HashMap<i64, Arc<DataKey>>,
    form_id: i64,
    instance_id: &str,
    values: &mut [serde_json::Value],
) -> Result<(), CoreError> {
    for entry in values.iter_mut() {
        let Some(value) = entry.get("value") else {
            continue;
        };
        if value.get("type").and_then(|t| t.as_str()) != Some("sealed") {
            continue;
        }
        let path = entry
            .get("path")
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_owned();
        let version = value.get("key").and_then(|k| k.as_i64()).unwrap_or(0);
        let place = value_place(form_id, instance_id, &path);
        let key = keys.get(&version).ok_or_else(|| {
            corrupt(format!(
                "{place}: sealed with data key {version}, which this project does not have"
            ))
        })?;
        let sealed = value
            .get("value")
            .and_then(|v| v.as_str())
            .and_then(|v| B64.decode(v).ok())
            .ok_or_else(|| corrupt(format!("{place}: the sealed answer is not base64")))?;
        let plain = key
            .open(&sealed, place.as_bytes())
            .map_err(|e| corrupt(format!("{place}: {e}")))?;
        entry["value"] = serde_json::from_slice(&plain)
            .map_err(|e| corrupt(format!("{place}: opened but not a typed value: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(name: &str, qtype: QType, protected: bool) -> Question {
        let md = "| survey | | | |\n| | type | name | label |\n| | text | x | X |\n";
        let form = baraza_xlsform::compile_file(md.as_bytes(), "f.md")
            .form
            .unwrap();
        let mut q = form.questions()[0].clone();
        q.name = name.into();
        q.qtype = qtype;
        q.sensitivity = if protected {
            baraza_xlsform::model::Sensitivity::Personal
        } else {
            baraza_xlsform::model::Sensitivity::Internal
        };
        q
    }

    #[test]
    fn identifiers_are_recognised_by_type_and_name() {
        let k = |n: &str, t: QType| blind_kind(&question(n, t, true), Some(235));
        let phone = Some(BlindKind::Phone {
            default_calling_code: Some(235),
        });
        assert_eq!(k("numero_telephone", QType::Text), phone);
        assert_eq!(k("contact", QType::PhoneNumber), phone);
        assert_eq!(k("Courriel", QType::Text), Some(BlindKind::Email));
        assert_eq!(k("nom_complet", QType::Text), Some(BlindKind::Name));
        assert_eq!(k("first_name", QType::Text), Some(BlindKind::Name));
        assert_eq!(k("numero_cni", QType::Text), Some(BlindKind::Identifier));
        assert_eq!(k("quartier", QType::Text), None);
        assert_eq!(k("phone", QType::Integer), None);
        assert_eq!(
            blind_kind(&question("phone", QType::Text, false), None),
            None
        );
    }

    #[test]
    fn places_differ_by_record_and_answer() {
        assert_ne!(
            value_place(1, "uuid:a", "/d/x"),
            value_place(1, "uuid:b", "/d/x")
        );
        assert_ne!(
            value_place(1, "uuid:a", "/d/x"),
            value_place(2, "uuid:a", "/d/x")
        );
        assert_ne!(xml_place(1, "uuid:a"), value_place(1, "uuid:a", "/xml"));
    }
}
