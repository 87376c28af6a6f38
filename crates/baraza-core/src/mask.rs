//! Who sees personal data: answers to `personal` and `sensitive` fields are masked for readers
//! without [`Permission::ViewPersonal`] (analysts and viewers), on every read path.
//!
//! A [`Mask`] is worked out once per request from the reader's access and the form: the protected
//! questions of *every* version of the form (a field personal in an older version stays masked in
//! the records filled with it). Masking removes the values from a record's stored typed values
//! before anything else sees them, so the table, its `.json` and `.csv` twins, every export,
//! ODK Central's OData feed and a record's page all read the same masked record. Filters on a
//! masked question are refused (a filter would disclose the value one guess at a time), and so
//! are the raw XML and the attachments of masked questions.

use crate::access::ProjectAccess;
use crate::{Core, CoreError};
use baraza_protect::DataKey;
use baraza_store::{RowScope, StoreError};
use baraza_types::{Permission, ProjectId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What one reader sees of a form's records: the questions (paths in the form model,
/// `/data/group/name`, repeats without indexes) whose answers are hidden from them, or, for a
/// reader who may see everything, the keys that open the answers sealed at rest
/// ([`crate::keyring`]).
#[derive(Debug, Clone, Default)]
pub struct Mask {
    paths: Arc<HashSet<String>>,
    /// The protected questions of every version of the form: sealed at rest.
    sealed: Arc<HashSet<String>>,
    opener: Option<Arc<Opener>>,
    /// The records this reader may see (see [`crate::scope`]).
    rows: RowScope,
}

/// The form and the project's data keys, to open sealed answers.
#[derive(Debug)]
struct Opener {
    form_id: i64,
    keys: HashMap<i64, Arc<DataKey>>,
}

impl Mask {
    /// A mask that hides nothing and opens nothing.
    pub fn none() -> Mask {
        Mask::default()
    }

    /// The records this reader may see, for the store's queries.
    pub fn rows(&self) -> &RowScope {
        &self.rows
    }

    /// Whether this reader sees every answer.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Whether answers to the question at this model path are hidden.
    pub fn covers(&self, question_path: &str) -> bool {
        self.paths.contains(question_path)
    }

    /// Whether answers to the question at this model path are sealed at rest (and so cannot be
    /// filtered on by the database).
    pub fn sealed(&self, question_path: &str) -> bool {
        self.sealed.contains(question_path)
    }

    /// The masked questions, sorted (for pages that mark masked columns).
    pub fn paths(&self) -> Vec<String> {
        let mut v: Vec<String> = self.paths.iter().cloned().collect();
        v.sort();
        v
    }

    /// A record's stored typed values as this reader sees them: without the masked ones, or
    /// with the sealed ones opened. The input is what ingestion wrote
    /// (`baraza_publish::values`, sealed by [`crate::keyring`]); its order is kept.
    pub fn apply(&self, values_json: &str, instance_id: &str) -> Result<String, CoreError> {
        if self.is_empty() {
            let Some(opener) = &self.opener else {
                return Ok(values_json.to_owned());
            };
            if !values_json.contains("\"sealed\"") {
                return Ok(values_json.to_owned());
            }
            let mut values = parse(values_json)?;
            crate::keyring::open_values(&opener.keys, opener.form_id, instance_id, &mut values)?;
            return serde_json::to_string(&values)
                .map_err(|e| StoreError::Corrupt(e.to_string()).into());
        }
        let values = parse(values_json)?;
        let kept: Vec<&serde_json::Value> = values
            .iter()
            .filter(|v| {
                let sealed = v
                    .get("value")
                    .and_then(|v| v.get("type"))
                    .and_then(|t| t.as_str())
                    == Some("sealed");
                !sealed
                    && v.get("path")
                        .and_then(|p| p.as_str())
                        .is_none_or(|p| !self.covers(&model_path(p)))
            })
            .collect();
        serde_json::to_string(&kept).map_err(|e| StoreError::Corrupt(e.to_string()).into())
    }

    /// Applies the mask to `values_json` in place.
    pub fn apply_in_place(
        &self,
        values_json: &mut String,
        instance_id: &str,
    ) -> Result<(), CoreError> {
        if !self.is_empty() || self.opener.is_some() {
            *values_json = self.apply(values_json, instance_id)?;
        }
        Ok(())
    }
}

fn parse(values_json: &str) -> Result<Vec<serde_json::Value>, CoreError> {
    serde_json::from_str(values_json)
        .map_err(|e| StoreError::Corrupt(format!("stored values: {e}")).into())
}

/// The model path of an instance path: repeat indexes dropped (`/data/m[2]/name` →
/// `/data/m/name`).
pub fn model_path(instance_path: &str) -> String {
    let mut out = String::with_capacity(instance_path.len());
    let mut skipping = false;
    for ch in instance_path.chars() {
        match ch {
            '[' => skipping = true,
            ']' => skipping = false,
            c if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

impl Core {
    /// The project's sensitivity class: the highest level of any field of its forms' current
    /// versions (`None` while it has no form). Shown on the project's pages.
    pub async fn project_sensitivity(
        &self,
        access: &ProjectAccess,
    ) -> Result<Option<baraza_xlsform::model::Sensitivity>, CoreError> {
        access.require(Permission::ViewProject)?;
        let mut class = None;
        for f in self.store.list_forms(access.project.id).await? {
            if let Some(v) = f.form.current_version_id {
                let level = self.form_model(v).await?.sensitivity_class();
                class = class.max(Some(level));
            }
        }
        Ok(class)
    }

    /// A mask that opens every sealed answer of the form and hides nothing: for the server's
    /// own computations whose results are aggregates (indicators), never for a reader.
    pub(crate) async fn opening_mask(
        &self,
        project: ProjectId,
        form_id: i64,
    ) -> Result<Mask, CoreError> {
        let mut sealed = HashSet::new();
        for model in &self.models_newest_first(form_id).await? {
            sealed.extend(model.protected_paths());
        }
        let opener = if sealed.is_empty() {
            None
        } else {
            Some(Arc::new(Opener {
                form_id,
                keys: self.data_keys(project.0).await?,
            }))
        };
        Ok(Mask {
            paths: Arc::default(),
            sealed: Arc::new(sealed),
            opener,
            rows: RowScope::default(),
        })
    }

    /// The mask of `access` for the form with this id: for readers who may see personal data,
    /// the keys that open sealed answers; for the others, the protected questions of every
    /// version of the form, hidden.
    pub async fn mask_for(&self, access: &ProjectAccess, form_id: i64) -> Result<Mask, CoreError> {
        let mut sealed = HashSet::new();
        // Ids, then models from the cache: this runs on every read.
        let models = self.models_newest_first(form_id).await?;
        for model in &models {
            sealed.extend(model.protected_paths());
        }
        let sealed = Arc::new(sealed);
        let rows = access.rows.resolve(&models);
        if !access.can(Permission::ViewPersonal) {
            return Ok(Mask {
                paths: sealed.clone(),
                sealed,
                opener: None,
                rows,
            });
        }
        let opener = if sealed.is_empty() {
            None
        } else {
            Some(Arc::new(Opener {
                form_id,
                keys: self.data_keys(access.project.id.0).await?,
            }))
        };
        Ok(Mask {
            paths: Arc::default(),
            sealed,
            opener,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_are_removed_and_the_rest_kept_in_order() {
        let mask = Mask {
            paths: Arc::new(["/data/phone".to_owned(), "/data/m/name".to_owned()].into()),
            ..Mask::default()
        };
        let stored = r#"[{"path":"/data/phone","question":"/data/phone","value":{"type":"string","value":"+23566123456"}},{"path":"/data/age","question":"/data/age","value":{"type":"int","value":31}},{"path":"/data/m[1]/name","question":"/data/m/name","repeat":"/data/m[1]","value":{"type":"string","value":"Fatimé"}},{"path":"/data/m[1]/age","question":"/data/m/age","repeat":"/data/m[1]","value":{"type":"int","value":4}}]"#;
        let out = mask.apply(stored, "uuid:1").unwrap();
        assert!(
            !out.contains("23566123456") && !out.contains("Fatimé"),
            "{out}"
        );
        let v: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
        let paths: Vec<&str> = v.iter().map(|x| x["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["/data/age", "/data/m[1]/age"]);
        assert_eq!(Mask::none().apply(stored, "uuid:1").unwrap(), stored);
        assert!(mask.apply("not json", "uuid:1").is_err());
        assert_eq!(model_path("/data/a[12]/b[1]/c"), "/data/a/b/c");
    }
}
