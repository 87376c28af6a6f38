//! IATI aid transparency: an organisation's IATI identity, its projects' activities with their
//! budgets and transactions, and the IATI 2.03 XML of them (docs/iati.md).
//!
//! Owners of an organisation tell its IATI organisation identifier and type; managers and
//! owners of a project (`publish_data`) record its activity, budgets and transactions. Anyone
//! who may see a project sees its activity. The organisation's file holds the activities of its
//! **public** projects only, whoever asks: a file registered with the IATI registry is the same
//! for every reader, and a private project's existence is never disclosed by it. A private
//! project's activity leaves Baraza only if its managers put it in the catalogue.

use crate::access::{Principal, ProjectAccess};
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_publish::iati::{
    self, Activity, ActivityFields, Budget, Problem, Reporting, Transaction,
};
use baraza_store::{IatiActivityRow, IatiOrgRow, Org, StoreError};
use baraza_types::{Permission, Visibility};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The first problem found, as the error the user sees (it names the field).
fn first(problems: Vec<Problem>) -> Result<(), CoreError> {
    match problems.first() {
        Some(p) => Err(CoreError::Invalid {
            field: p.field,
            reason: p.reason,
        }),
        None => Ok(()),
    }
}

/// A project's activity with everything a page shows.
#[derive(Debug, Clone, Serialize)]
pub struct IatiView {
    /// The organisation's IATI identity, if told.
    pub reporting: Option<Reporting>,
    pub activity: Option<IatiActivityRow>,
    /// The activity's `iati-identifier`, when there is one.
    pub identifier: Option<String>,
    pub budgets: Vec<Budget>,
    pub transactions: Vec<Transaction>,
    /// Budgets summed per currency.
    pub budget_totals: BTreeMap<String, String>,
    /// Transactions summed per type, then per currency.
    pub transaction_totals: BTreeMap<String, BTreeMap<String, String>>,
    /// Whether the viewer may edit.
    pub can_edit: bool,
}

/// Sums `(key, currency, value)` rows per key and currency.
fn totals<'a>(rows: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    let mut by: BTreeMap<String, i128> = BTreeMap::new();
    for (currency, value) in rows {
        *by.entry(currency.to_string()).or_default() += iati::hundredths(value).unwrap_or(0);
    }
    by.into_iter()
        .map(|(k, v)| (k, iati::from_hundredths(v)))
        .collect()
}

fn reporting(org: &Org, row: Option<IatiOrgRow>) -> Option<Reporting> {
    row.map(|r| Reporting {
        identifier: r.identifier,
        org_type: r.org_type,
        name: org.name.clone(),
    })
}

impl Core {
    fn today(&self) -> i64 {
        self.now().div_euclid(86_400)
    }

    /// An organisation's IATI identity (owners' settings form).
    pub async fn iati_org(&self, org: &Org) -> Result<Option<IatiOrgRow>, CoreError> {
        Ok(self.store.iati_org(org.id).await?)
    }

    /// Tells (or changes) an organisation's IATI identifier and type; owners only.
    pub async fn set_iati_org(
        &self,
        principal: &Principal,
        org: &Org,
        identifier: &str,
        org_type: &str,
    ) -> Result<(), CoreError> {
        let user = principal.require_session_user()?;
        if !self.is_org_owner(principal, org).await? {
            return Err(CoreError::Forbidden);
        }
        let identifier = identifier.trim();
        first(iati::check_org(identifier, org_type.trim()))?;
        self.store
            .set_iati_org(org.id, identifier, org_type.trim(), self.now())
            .await?;
        self.audit(
            Actor::User(user.id),
            "iati.org_set",
            &Target::org(&org.slug),
            json!({ "identifier": identifier, "org_type": org_type.trim() }),
        )
        .await?;
        Ok(())
    }

    /// A project's activity, budgets, transactions and totals, for whoever may see the project.
    pub async fn iati_view(&self, access: &ProjectAccess) -> Result<IatiView, CoreError> {
        access.require(Permission::ViewProject)?;
        let reporting = reporting(&access.org, self.store.iati_org(access.org.id).await?);
        let activity = self.store.iati_activity(access.project.id).await?;
        let (budgets, transactions) = if activity.is_some() {
            (
                self.store.iati_budgets(access.project.id).await?,
                self.store.iati_transactions(access.project.id).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let budget_totals = totals(
            budgets
                .iter()
                .map(|b| (b.currency.as_str(), b.value.as_str())),
        );
        let mut transaction_totals = BTreeMap::new();
        for ty in iati::codes::TRANSACTION_TYPES {
            let t = totals(
                transactions
                    .iter()
                    .filter(|t| t.transaction_type == ty.code)
                    .map(|t| (t.currency.as_str(), t.value.as_str())),
            );
            if !t.is_empty() {
                transaction_totals.insert(ty.code.to_string(), t);
            }
        }
        let identifier = match (&reporting, &activity) {
            (Some(r), Some(a)) => Some(iati::identifier(&r.identifier, &a.code)),
            _ => None,
        };
        Ok(IatiView {
            reporting,
            identifier,
            activity,
            budgets,
            transactions,
            budget_totals,
            transaction_totals,
            can_edit: access.can(Permission::PublishData),
        })
    }

    /// Records or replaces the project's activity (`publish_data`). The organisation must have
    /// told its IATI identifier first (it is the activity identifier's prefix).
    pub async fn save_iati_activity(
        &self,
        access: &ProjectAccess,
        code: &str,
        mut fields: ActivityFields,
    ) -> Result<(), CoreError> {
        access.require(Permission::PublishData)?;
        if self.store.iati_org(access.org.id).await?.is_none() {
            return Err(CoreError::Invalid {
                field: "identifier",
                reason: "iati_org_missing",
            });
        }
        let code = code.trim();
        for s in [
            &mut fields.title_fr,
            &mut fields.title_en,
            &mut fields.description_fr,
            &mut fields.description_en,
            &mut fields.planned_start,
            &mut fields.actual_start,
            &mut fields.planned_end,
            &mut fields.actual_end,
            &mut fields.country,
            &mut fields.region,
            &mut fields.currency,
        ] {
            *s = s.trim().to_string();
        }
        fields.country = fields.country.to_ascii_uppercase();
        fields.currency = fields.currency.to_ascii_uppercase();
        fields.country_percentage = iati::amount(&fields.country_percentage)
            .unwrap_or_else(|| fields.country_percentage.trim().to_string());
        for s in &mut fields.sectors {
            s.code = s.code.trim().to_string();
            s.percentage =
                iati::amount(&s.percentage).unwrap_or_else(|| s.percentage.trim().to_string());
        }
        for o in &mut fields.participants {
            o.name = o.name.trim().to_string();
            o.reference = o.reference.trim().to_string();
        }
        first(iati::check_activity(code, &fields, self.today()))?;
        self.store
            .put_iati_activity(access.project.id, code, &fields, self.now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => CoreError::Invalid {
                    field: "code",
                    reason: "iati_code_taken",
                },
                e => e.into(),
            })?;
        self.audit(
            Actor::of_access(access),
            "iati.activity_save",
            &Target::project(access.project.id),
            json!({ "code": code, "status": fields.status, "currency": fields.currency }),
        )
        .await?;
        Ok(())
    }

    async fn activity_for_edit(
        &self,
        access: &ProjectAccess,
    ) -> Result<IatiActivityRow, CoreError> {
        access.require(Permission::PublishData)?;
        self.store
            .iati_activity(access.project.id)
            .await?
            .ok_or(CoreError::NotFound {
                what: "iati_activity",
            })
    }

    /// Adds a budget (`publish_data`); the value date defaults to the period's start and the
    /// currency to the activity's.
    pub async fn add_iati_budget(
        &self,
        access: &ProjectAccess,
        mut b: Budget,
    ) -> Result<i64, CoreError> {
        let a = self.activity_for_edit(access).await?;
        b.period_start = b.period_start.trim().to_string();
        b.period_end = b.period_end.trim().to_string();
        b.currency = b.currency.trim().to_ascii_uppercase();
        if b.currency.is_empty() {
            b.currency = a.fields.currency.clone();
        }
        b.value_date = b.value_date.trim().to_string();
        if b.value_date.is_empty() {
            b.value_date = b.period_start.clone();
        }
        first(iati::check_budget(&b))?;
        b.value = iati::amount(&b.value).unwrap_or_default();
        let id = self
            .store
            .add_iati_budget(access.project.id, &b, self.now())
            .await?;
        self.audit(
            Actor::of_access(access),
            "iati.budget_add",
            &Target::project(access.project.id),
            json!({ "budget": id, "period_start": b.period_start, "period_end": b.period_end,
                    "value": b.value, "currency": b.currency }),
        )
        .await?;
        Ok(id)
    }

    /// Deletes a budget (`publish_data`).
    pub async fn delete_iati_budget(
        &self,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<(), CoreError> {
        self.activity_for_edit(access).await?;
        if !self
            .store
            .delete_iati_budget(access.project.id, id, self.now())
            .await?
        {
            return Err(CoreError::NotFound {
                what: "iati_budget",
            });
        }
        self.audit(
            Actor::of_access(access),
            "iati.budget_delete",
            &Target::project(access.project.id),
            json!({ "budget": id }),
        )
        .await?;
        Ok(())
    }

    /// Adds a transaction (`publish_data`); the value date defaults to its date and the
    /// currency to the activity's.
    pub async fn add_iati_transaction(
        &self,
        access: &ProjectAccess,
        mut t: Transaction,
    ) -> Result<i64, CoreError> {
        let a = self.activity_for_edit(access).await?;
        t.date = t.date.trim().to_string();
        t.currency = t.currency.trim().to_ascii_uppercase();
        if t.currency.is_empty() {
            t.currency = a.fields.currency.clone();
        }
        t.value_date = t.value_date.trim().to_string();
        if t.value_date.is_empty() {
            t.value_date = t.date.clone();
        }
        for s in [
            &mut t.description,
            &mut t.provider_name,
            &mut t.provider_ref,
            &mut t.receiver_name,
            &mut t.receiver_ref,
        ] {
            *s = s.trim().to_string();
        }
        first(iati::check_transaction(&t))?;
        t.value = iati::amount(&t.value).unwrap_or_default();
        let id = self
            .store
            .add_iati_transaction(access.project.id, &t, self.now())
            .await?;
        self.audit(
            Actor::of_access(access),
            "iati.transaction_add",
            &Target::project(access.project.id),
            json!({ "transaction": id, "type": t.transaction_type, "date": t.date,
                    "value": t.value, "currency": t.currency }),
        )
        .await?;
        Ok(id)
    }

    /// Deletes a transaction (`publish_data`).
    pub async fn delete_iati_transaction(
        &self,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<(), CoreError> {
        self.activity_for_edit(access).await?;
        if !self
            .store
            .delete_iati_transaction(access.project.id, id, self.now())
            .await?
        {
            return Err(CoreError::NotFound {
                what: "iati_transaction",
            });
        }
        self.audit(
            Actor::of_access(access),
            "iati.transaction_delete",
            &Target::project(access.project.id),
            json!({ "transaction": id }),
        )
        .await?;
        Ok(())
    }

    /// The project's activity as an IATI 2.03 file, for whoever may see the project.
    pub async fn iati_project_xml(&self, access: &ProjectAccess) -> Result<String, CoreError> {
        access.require(Permission::ViewProject)?;
        self.iati_project_file(access).await
    }

    /// The file, access already decided (the catalogue's reader uses it too).
    pub(crate) async fn iati_project_file(
        &self,
        access: &ProjectAccess,
    ) -> Result<String, CoreError> {
        let not_found = || CoreError::NotFound {
            what: "iati_activity",
        };
        let r = reporting(&access.org, self.store.iati_org(access.org.id).await?)
            .ok_or_else(not_found)?;
        let a = self
            .store
            .iati_activity(access.project.id)
            .await?
            .ok_or_else(not_found)?;
        let budgets = self.store.iati_budgets(access.project.id).await?;
        let transactions = self.store.iati_transactions(access.project.id).await?;
        Ok(iati::document(
            &r,
            &[Activity {
                code: &a.code,
                fields: &a.fields,
                budgets: &budgets,
                transactions: &transactions,
                last_updated: a.updated_at,
            }],
            self.now(),
        ))
    }

    /// The organisation's file: the activities of its public projects. `NotFound` when the
    /// organisation has no IATI identifier or no public activity (the schema needs one).
    pub async fn iati_org_xml(&self, org_slug: &str) -> Result<String, CoreError> {
        let org = self
            .store
            .org_by_slug(org_slug)
            .await?
            .ok_or(CoreError::NotFound {
                what: "organisation",
            })?;
        let not_found = || CoreError::NotFound {
            what: "iati_activity",
        };
        let r = reporting(&org, self.store.iati_org(org.id).await?).ok_or_else(not_found)?;
        let mut rows = Vec::new();
        for a in self.store.iati_activities_of_org(org.id).await? {
            let project = self
                .store
                .project_by_id(baraza_types::ProjectId(a.project_id))
                .await?;
            if project.is_some_and(|p| p.visibility == Visibility::Public) {
                let id = baraza_types::ProjectId(a.project_id);
                let budgets = self.store.iati_budgets(id).await?;
                let transactions = self.store.iati_transactions(id).await?;
                rows.push((a, budgets, transactions));
            }
        }
        if rows.is_empty() {
            return Err(not_found());
        }
        let mut out = String::new();
        iati::open(&mut out, self.now());
        for (a, budgets, transactions) in &rows {
            iati::activity(
                &mut out,
                &r,
                &Activity {
                    code: &a.code,
                    fields: &a.fields,
                    budgets,
                    transactions,
                    last_updated: a.updated_at,
                },
            );
        }
        iati::close(&mut out);
        Ok(out)
    }

    /// Whether the project has an activity (to offer it to the catalogue).
    pub(crate) async fn has_iati_activity(&self, project: i64) -> Result<bool, CoreError> {
        Ok(self
            .store
            .iati_activity(baraza_types::ProjectId(project))
            .await?
            .is_some())
    }
}
