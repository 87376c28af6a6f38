//! Indicators on a project's forms, kept current as records arrive (docs/indicators.md).
//!
//! * **Definitions** come from a TOML file (baraza-indicators' `define`), checked against the
//!   form's fields and the SDG framework; every problem is reported at once and nothing is saved
//!   unless all definitions of the file are valid.
//! * **Catch-up.** Each indicator remembers the last record it read (`high_water`) and the last
//!   change to a stored record it read (`change_seq`; changes are noted by database triggers on
//!   edits, reviews, erased answers and destruction). A catch-up reads what is new, works out
//!   each record's contribution, takes away the contribution stored for it before, adds the new
//!   one, and writes the difference in one compare-and-swap transaction
//!   ([`baraza_store::Store::apply_indicator_delta`]). It runs after every submission, before
//!   every indicator page, and right after an erasure (so that nothing derived from an erased
//!   record outlives it).
//! * **Figures** are made from the cells when read: the estimate and its interval, small cells
//!   hidden (primary and complementary suppression over every table the cell is part of, with
//!   `baraza_sdc::cells::lines`) or bracketed, non-probability samples without an interval.
//!
//! **Invariant:** the cells of an indicator are always the sum of the contributions stored for
//! it, and a full recompute (the same definition saved again) gives the same cells.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use baraza_indicators::compute::{self, CellKey, Cells, Delta, Record, TOTAL};
use baraza_indicators::define::{
    self, Aggregation, Definition, FieldInfo, FieldKind, Sampling, Text,
};
use baraza_indicators::framework::{Framework, Indicator as SdgIndicator};
use baraza_indicators::official::{self, Observation, SdmxRow};
use baraza_indicators::sdmx;
use baraza_indicators::stats::{Distribution, Estimate, Moments};
use baraza_sdc::cells::Hidden;
use baraza_store::{
    CellKeyRow, CellSums, IndicatorDelta, IndicatorRecord, IndicatorRow, NewIndicator,
    OfficialSeriesRow, PlaceRow,
};
use baraza_types::{Permission, ProjectId};
use serde::Serialize;
use serde_json::json;

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};

/// Records read per catch-up step.
const BATCH: i64 = 500;
/// Largest definitions file, official series file or boundary file accepted.
pub const MAX_DEFINITIONS_BYTES: usize = 256 * 1024;
/// Largest CSV of places accepted.
pub const MAX_PLACES_CSV_BYTES: usize = 20 << 20;

fn csv_reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// How a figure is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    /// Enough records.
    Shown,
    /// Few records: shown in brackets, to be read with care.
    Bracketed,
    /// Too few records, or hidden so that a small one cannot be worked out from the others.
    Hidden,
}

/// One cell's figure as pages show it.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    pub period: String,
    pub place: String,
    pub dim: String,
    pub group: String,
    pub shown: Shown,
    /// Why it is hidden (`small` or `complement`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Hidden>,
    /// Records behind it (not given when hidden).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<i64>,
    /// The estimate and its interval (not given when hidden; no interval for a
    /// non-probability sample or a census).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
}

/// A disaggregation's title and its groups' labels, from the form.
#[derive(Clone, Debug, Serialize)]
pub struct DimensionLabels {
    pub name: String,
    pub title: Text,
    /// (group code, label), in the form's order.
    pub groups: Vec<(String, Text)>,
}

/// An indicator with its figures.
#[derive(Clone, Debug)]
pub struct IndicatorView {
    pub row: IndicatorRow,
    pub def: Arc<Definition>,
    pub sdg: Option<SdgIndicator>,
    pub form_title: String,
    pub cells: Cells,
    pub figures: BTreeMap<CellKey, Figure>,
    /// Records that could not be counted, and the first reasons.
    pub errors: (i64, Vec<(i64, String)>),
    pub dimensions: Vec<DimensionLabels>,
    /// Place code → name (places not imported keep their code).
    pub place_names: BTreeMap<String, String>,
    /// Official observations of the linked SDG indicator.
    pub official: Vec<Observation>,
}

impl IndicatorView {
    /// The periods with records, oldest first.
    pub fn periods(&self) -> Vec<String> {
        self.cells.periods()
    }

    pub fn figure(&self, period: &str, place: &str, dim: &str, group: &str) -> Option<&Figure> {
        self.figures.get(&CellKey::new(period, place, dim, group))
    }

    /// The places with records in a period (not the total).
    pub fn places_in(&self, period: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .figures
            .keys()
            .filter(|k| k.period == period && k.place != TOTAL && k.dim == TOTAL)
            .map(|k| k.place.clone())
            .collect();
        out.dedup();
        out
    }

    /// The groups of a dimension, in the form's order, then any other seen in the data.
    pub fn groups_of(&self, dim: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .dimensions
            .iter()
            .find(|d| d.name == dim)
            .map(|d| d.groups.iter().map(|(g, _)| g.clone()).collect())
            .unwrap_or_default();
        for k in self.figures.keys().filter(|k| k.dim == dim) {
            if !out.contains(&k.group) {
                out.push(k.group.clone());
            }
        }
        out
    }

    /// A group's label in `lang`.
    pub fn group_label(&self, dim: &str, group: &str, lang: &str) -> String {
        self.dimensions
            .iter()
            .find(|d| d.name == dim)
            .and_then(|d| d.groups.iter().find(|(g, _)| g == group))
            .map(|(_, t)| define::text(t, lang).to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| group.to_owned())
    }

    /// A dimension's title in `lang`.
    pub fn dimension_title(&self, dim: &str, lang: &str) -> String {
        self.dimensions
            .iter()
            .find(|d| d.name == dim)
            .map(|d| define::text(&d.title, lang).to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| dim.to_owned())
    }

    pub fn place_name(&self, code: &str) -> String {
        self.place_names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }

    /// The distribution of a cell (medians, Gini, Palma), when the indicator keeps them.
    pub fn distribution(&self, key: &CellKey) -> Option<&Distribution> {
        self.cells.distributions.get(key)
    }
}

/// The language code of a form's language key (`Français (fr)` → `fr`).
fn lang_code(key: &str) -> String {
    match (key.rfind('('), key.rfind(')')) {
        (Some(a), Some(b)) if b > a + 1 => key[a + 1..b].trim().to_owned(),
        _ => key.to_owned(),
    }
}

fn texts(t: &baraza_xlsform::model::LangText) -> Text {
    t.0.iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (lang_code(k), v.clone()))
        .collect()
}

/// What indicators need of a form's fields.
fn field_infos(model: &baraza_xlsform::Form) -> Vec<FieldInfo> {
    use baraza_xlsform::model::QType as Q;
    let repeats = repeated_names(model);
    model
        .questions()
        .into_iter()
        .map(|q| FieldInfo {
            name: q.name.clone(),
            kind: if repeats.contains(&q.name) {
                FieldKind::Repeated
            } else {
                match q.qtype {
                    Q::SelectOne => FieldKind::SelectOne(
                        q.list
                            .as_deref()
                            .and_then(|l| model.list(l))
                            .map(|l| l.choices.iter().map(|c| c.name.clone()).collect())
                            .unwrap_or_default(),
                    ),
                    Q::SelectMultiple => FieldKind::SelectMultiple,
                    Q::Integer | Q::Decimal | Q::Range => FieldKind::Number,
                    Q::Date | Q::Today => FieldKind::Date,
                    _ => FieldKind::Other,
                }
            },
        })
        .collect()
}

/// Names of the questions inside a repeat.
fn repeated_names(model: &baraza_xlsform::Form) -> BTreeSet<String> {
    fn walk(nodes: &[baraza_xlsform::model::Node], inside: bool, out: &mut BTreeSet<String>) {
        for n in nodes {
            match n {
                baraza_xlsform::model::Node::Question(q) => {
                    if inside {
                        out.insert(q.name.clone());
                    }
                }
                baraza_xlsform::model::Node::Group(g) => walk(&g.children, inside || g.repeat, out),
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&model.children, false, &mut out);
    out
}

fn dimension_labels(def: &Definition, model: &baraza_xlsform::Form) -> Vec<DimensionLabels> {
    def.dimensions
        .iter()
        .map(|d| match d {
            define::Dimension::Choice { field } => {
                let q = model.questions().into_iter().find(|q| &q.name == field);
                let groups = q
                    .and_then(|q| q.list.as_deref())
                    .and_then(|l| model.list(l))
                    .map(|l| {
                        l.choices
                            .iter()
                            .map(|c| (c.name.clone(), texts(&c.texts.label)))
                            .collect()
                    })
                    .unwrap_or_default();
                DimensionLabels {
                    name: field.clone(),
                    title: q.map(|q| texts(&q.texts.label)).unwrap_or_default(),
                    groups,
                }
            }
            define::Dimension::Bands {
                name, bands, title, ..
            } => DimensionLabels {
                name: name.clone(),
                title: title.clone(),
                groups: define::Dimension::band_groups(bands)
                    .into_iter()
                    .map(|g| (g.clone(), Text::from([("en".to_owned(), g)])))
                    .collect(),
            },
        })
        .collect()
}

fn invalid(problems: Vec<String>) -> CoreError {
    CoreError::IndicatorInvalid { problems }
}

fn key_row(k: &CellKey) -> CellKeyRow {
    CellKeyRow {
        period: k.period.clone(),
        place: k.place.clone(),
        dim: k.dim.clone(),
        grp: k.group.clone(),
    }
}

fn key_of(k: &CellKeyRow) -> CellKey {
    CellKey::new(&k.period, &k.place, &k.dim, &k.grp)
}

fn sums(m: &Moments) -> CellSums {
    CellSums {
        n: m.n,
        sw: m.sw,
        swy: m.swy,
        sw2: m.sw2,
        sw2y: m.sw2y,
        sw2y2: m.sw2y2,
        sy: m.sy,
        sy2: m.sy2,
    }
}

fn moments(s: &CellSums) -> Moments {
    Moments {
        n: s.n,
        sw: s.sw,
        swy: s.swy,
        sw2: s.sw2,
        sw2y: s.sw2y,
        sw2y2: s.sw2y2,
        sy: s.sy,
        sy2: s.sy2,
    }
}

/// A stored definition, parsed again (it was checked when saved).
fn parse_stored(row: &IndicatorRow, fields: &[FieldInfo]) -> Result<Definition, CoreError> {
    let spec = define::read_file(&row.spec)
        .map_err(|e| CoreError::Internal(format!("stored indicator {}: {e}", row.slug)))?
        .into_iter()
        .next()
        .ok_or_else(|| CoreError::Internal(format!("stored indicator {} is empty", row.slug)))?;
    // A form's later version may have dropped a field: the definition then fails its check,
    // and the indicator stops counting rather than counting wrongly.
    define::check(spec, fields, &|_| true).map_err(|p| {
        CoreError::Internal(format!(
            "indicator {} no longer matches its form: {}",
            row.slug,
            p.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

/// A record's top-level answers by field name, as text.
fn answers(values_json: &str) -> Result<BTreeMap<String, String>, CoreError> {
    let values = baraza_publish::values::parse_values(values_json)
        .map_err(|e| CoreError::Internal(format!("stored values: {e}")))?;
    let mut out = BTreeMap::new();
    for v in values.iter().filter(|v| v.repeat.is_none()) {
        let name = v.question.rsplit('/').next().unwrap_or_default().to_owned();
        let text = baraza_publish::table::value_text(&v.value);
        out.insert(name, text);
    }
    Ok(out)
}

impl Core {
    /// The SDG framework (parsed once).
    pub fn framework(&self) -> Arc<Framework> {
        self.framework
            .get_or_init(|| Arc::new(Framework::embedded()))
            .clone()
    }

    /// Saves the indicators of a definitions file (TOML): all of them, or none when any is
    /// invalid. A definition whose id exists replaces it (its figures are computed again).
    /// Returns the ids saved.
    pub async fn define_indicators(
        &self,
        access: &ProjectAccess,
        text: &str,
    ) -> Result<Vec<String>, CoreError> {
        access.require(Permission::ManageIndicators)?;
        if text.len() > MAX_DEFINITIONS_BYTES {
            return Err(invalid(vec![format!(
                "the file is larger than {} KB",
                MAX_DEFINITIONS_BYTES / 1024
            )]));
        }
        let specs = define::read_file(text).map_err(|p| invalid(vec![p.to_string()]))?;
        if specs.is_empty() {
            return Err(invalid(vec![
                "the file defines no indicator: add [[indicator]] tables".into(),
            ]));
        }
        let framework = self.framework();
        let mut problems = Vec::new();
        let mut checked = Vec::new();
        for spec in specs {
            let Some(form) = self
                .store
                .form_by_xml_id(access.project.id, &spec.form)
                .await?
            else {
                problems.push(format!(
                    "indicator {:?}, form: the project has no form {:?}",
                    spec.id, spec.form
                ));
                continue;
            };
            if form.current_version_id.is_none() {
                problems.push(format!(
                    "indicator {:?}, form: {:?} has no version yet",
                    spec.id, spec.form
                ));
                continue;
            }
            let fields = self.fields_of_form(form.id).await?;
            match define::check(spec, &fields, &|code| framework.indicator(code).is_some()) {
                Ok(def) => checked.push((form.id, def)),
                Err(ps) => problems.extend(ps.iter().map(ToString::to_string)),
            }
        }
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let now = self.now();
        let mut saved = Vec::new();
        for (form_id, def) in &checked {
            let spec_text = define::write_file(std::slice::from_ref(&def.spec));
            let sdg = def
                .spec
                .sdg
                .as_ref()
                .and_then(|l| framework.indicator(&l.indicator))
                .map(|i| i.code.clone());
            self.store
                .put_indicator(&NewIndicator {
                    project_id: access.project.id.0,
                    form_id: *form_id,
                    slug: &def.spec.id,
                    spec: &spec_text,
                    sdg: sdg.as_deref(),
                    by: access.user.map(|u| u.0),
                    at: now,
                })
                .await?;
            saved.push(def.spec.id.clone());
        }
        self.audit(
            Actor::of_access(access),
            "indicator.define",
            &Target::project(access.project.id),
            json!({ "indicators": saved }),
        )
        .await?;
        self.catch_up_indicators(access.project.id).await?;
        Ok(saved)
    }

    /// Every definition of the project, as one TOML file (what [`Core::define_indicators`]
    /// reads).
    pub async fn indicator_definitions(&self, access: &ProjectAccess) -> Result<String, CoreError> {
        access.require(Permission::ViewProject)?;
        let mut specs = Vec::new();
        for row in self.store.indicators(access.project.id.0).await? {
            specs.extend(
                define::read_file(&row.spec)
                    .map_err(|e| CoreError::Internal(format!("stored indicator: {e}")))?,
            );
        }
        Ok(define::write_file(&specs))
    }

    pub async fn remove_indicator(
        &self,
        access: &ProjectAccess,
        slug: &str,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageIndicators)?;
        if !self
            .store
            .delete_indicator(access.project.id.0, slug)
            .await?
        {
            return Err(CoreError::NotFound { what: "indicator" });
        }
        self.audit(
            Actor::of_access(access),
            "indicator.remove",
            &Target::project(access.project.id),
            json!({ "indicator": slug }),
        )
        .await?;
        Ok(())
    }

    /// Computes an indicator again from every record (the same definition saved again).
    pub async fn recompute_indicator(
        &self,
        access: &ProjectAccess,
        slug: &str,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageIndicators)?;
        let row = self
            .store
            .indicator(access.project.id.0, slug)
            .await?
            .ok_or(CoreError::NotFound { what: "indicator" })?;
        self.store
            .put_indicator(&NewIndicator {
                project_id: row.project_id,
                form_id: row.form_id,
                slug: &row.slug,
                spec: &row.spec,
                sdg: row.sdg.as_deref(),
                by: access.user.map(|u| u.0),
                at: self.now(),
            })
            .await?;
        self.catch_up_indicators(access.project.id).await
    }

    /// Brings the project's indicators up to date in the background, after a submission: one
    /// task per project at a time, which goes round again when submissions arrived while it
    /// ran. So a burst of submissions costs a few catch-ups, not one each, and a submission
    /// never waits for its indicators (an indicator page catches up before it reads).
    pub fn schedule_catch_up(&self, project: ProjectId) {
        {
            let Ok(mut runs) = self.catch_ups.lock() else {
                return;
            };
            if let Some(again) = runs.get_mut(&project.0) {
                *again = true;
                return;
            }
            runs.insert(project.0, false);
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            if let Ok(mut runs) = self.catch_ups.lock() {
                runs.remove(&project.0);
            }
            return;
        };
        let core = self.clone();
        handle.spawn(async move {
            loop {
                if let Err(e) = core.catch_up_indicators(project).await {
                    tracing::warn!(error = %e, "indicators could not catch up after a submission");
                }
                let Ok(mut runs) = core.catch_ups.lock() else {
                    return;
                };
                match runs.get_mut(&project.0) {
                    Some(again) if *again => *again = false,
                    _ => {
                        runs.remove(&project.0);
                        return;
                    }
                }
            }
        });
    }

    /// Brings every indicator of the project up to date.
    pub async fn catch_up_indicators(&self, project: ProjectId) -> Result<(), CoreError> {
        let rows = self.store.indicators(project.0).await?;
        let forms: BTreeSet<i64> = rows.iter().map(|r| r.form_id).collect();
        for form in forms {
            self.catch_up_form(project, form).await?;
        }
        Ok(())
    }

    /// Brings up to date the indicators of every form whose records changed, then compacts the
    /// database: what is derived from a destroyed record (its contribution) goes with it,
    /// before the space it used is overwritten.
    pub(crate) async fn compact_after_destruction(&self) -> Result<(), CoreError> {
        for (project, form) in self.store.forms_with_changes().await? {
            self.catch_up_form(ProjectId(project), form).await?;
        }
        self.store.compact_after_destruction().await?;
        Ok(())
    }

    /// Brings the indicators of one form up to date (see the module documentation).
    pub(crate) async fn catch_up_form(
        &self,
        project: ProjectId,
        form_id: i64,
    ) -> Result<(), CoreError> {
        let indicators = self.store.indicators_of_form(form_id).await?;
        // Nothing new since every indicator last read: no keys to open, nothing to write.
        let (last_id, last_change) = self.store.form_marks(form_id).await?;
        if indicators
            .iter()
            .all(|i| i.high_water >= last_id && i.change_seq >= last_change)
        {
            return Ok(());
        }
        let mask = self.opening_mask(project, form_id).await?;
        for start in indicators {
            // Retries when another catch-up moved the marks first.
            let mut attempts = 0;
            loop {
                let Some(row) = self
                    .store
                    .indicators_of_form(form_id)
                    .await?
                    .into_iter()
                    .find(|r| r.id == start.id)
                else {
                    break;
                };
                match self.catch_up_step(&row, &mask).await? {
                    Step::Done => break,
                    Step::Wrote => attempts = 0,
                    Step::Lost => {
                        attempts += 1;
                        if attempts > 20 {
                            return Err(CoreError::Internal(format!(
                                "indicator {} could not catch up: other servers kept moving it",
                                row.slug
                            )));
                        }
                    }
                }
            }
        }
        self.store.prune_submission_changes(form_id).await?;
        Ok(())
    }

    async fn catch_up_step(
        &self,
        row: &IndicatorRow,
        mask: &crate::mask::Mask,
    ) -> Result<Step, CoreError> {
        let new = self
            .store
            .indicator_new_records(row.form_id, row.high_water, BATCH)
            .await?;
        let changes = self
            .store
            .submission_changes(row.form_id, row.change_seq, BATCH)
            .await?;
        if new.is_empty() && changes.is_empty() {
            return Ok(Step::Done);
        }
        let high_water = new.last().map_or(row.high_water, |r| r.id);
        let change_seq = changes.last().map_or(row.change_seq, |c| c.0);
        // A changed record not read yet is read as new later, as it is then.
        let new_ids: BTreeSet<i64> = new.iter().map(|r| r.id).collect();
        let changed: BTreeSet<i64> = changes
            .iter()
            .map(|c| c.1)
            .filter(|id| *id <= high_water && !new_ids.contains(id))
            .collect();
        let mut records: Vec<IndicatorRecord> = new;
        let changed_ids: Vec<i64> = changed.iter().copied().collect();
        let still: Vec<IndicatorRecord> = self
            .store
            .indicator_records(row.form_id, &changed_ids)
            .await?;
        let still_ids: BTreeSet<i64> = still.iter().map(|r| r.id).collect();
        records.extend(still);
        let all_ids: Vec<i64> = records
            .iter()
            .map(|r| r.id)
            .chain(
                changed_ids
                    .iter()
                    .copied()
                    .filter(|id| !still_ids.contains(id)),
            )
            .collect();
        let stored: BTreeMap<i64, (Option<String>, Option<String>)> = self
            .store
            .indicator_contributions(row.id, &all_ids)
            .await?
            .into_iter()
            .map(|(id, c, e)| (id, (c, e)))
            .collect();
        let fields = self.fields_of_form(row.form_id).await?;
        let def = parse_stored(row, &fields);
        let mut delta = Delta::default();
        let mut writes = Vec::new();
        let distribution = def
            .as_ref()
            .map(|d| compute::needs_distribution(d.spec.aggregation))
            .unwrap_or(false);
        let by_id: BTreeMap<i64, &IndicatorRecord> = records.iter().map(|r| (r.id, r)).collect();
        for id in &all_ids {
            let now =
                match (by_id.get(id), &def) {
                    (Some(r), Ok(def)) if r.counts => {
                        let opened = mask.apply(&r.values_json, &r.instance_id)?;
                        let answers = answers(&opened)?;
                        let received = baraza_publish::iso_timestamp(r.received_at);
                        let values = |name: &str| answers.get(name).cloned();
                        let record = Record {
                            values: &values,
                            received: &received[..10.min(received.len())],
                        };
                        match compute::contribution(def, &record) {
                            Ok(Some(c)) => (
                                Some(serde_json::to_string(&c).map_err(|e| {
                                    CoreError::Internal(format!("contribution: {e}"))
                                })?),
                                None,
                            ),
                            Ok(None) => (None, None),
                            Err(e) => (None, Some(e)),
                        }
                    }
                    (Some(r), Err(e)) if r.counts => (None, Some(e.to_string())),
                    _ => (None, None),
                };
            let before = stored.get(id).cloned().unwrap_or((None, None));
            if before == now {
                continue;
            }
            if let Some(old) = &before.0 {
                let old: compute::Contribution = serde_json::from_str(old)
                    .map_err(|e| CoreError::Internal(format!("stored contribution: {e}")))?;
                delta.apply(&old, -1, distribution);
            }
            if let Some(new) = &now.0 {
                let new: compute::Contribution = serde_json::from_str(new)
                    .map_err(|e| CoreError::Internal(format!("contribution: {e}")))?;
                delta.apply(&new, 1, distribution);
            }
            writes.push((*id, now.0, now.1));
        }
        let d = IndicatorDelta {
            expected_high_water: row.high_water,
            expected_change_seq: row.change_seq,
            high_water,
            change_seq,
            as_of: self.now(),
            cells: delta
                .moments
                .iter()
                .map(|(k, m)| (key_row(k), sums(m)))
                .collect(),
            values: delta
                .values
                .iter()
                .filter(|(_, (n, w))| *n != 0 || *w != 0.0)
                .map(|((k, bits), (n, w))| (key_row(k), f64::from_bits(*bits), *n, *w))
                .collect(),
            contributions: writes,
        };
        Ok(if self.store.apply_indicator_delta(row.id, &d).await? {
            Step::Wrote
        } else {
            Step::Lost
        })
    }

    /// The fields of every version of a form, the newest version's kind first: a definition
    /// may name a field a later version dropped (older records still have it).
    async fn fields_of_form(&self, form_id: i64) -> Result<Vec<FieldInfo>, CoreError> {
        let mut out: Vec<FieldInfo> = Vec::new();
        for model in self.models_newest_first(form_id).await? {
            for f in field_infos(&model) {
                if !out.iter().any(|o| o.name == f.name) {
                    out.push(f);
                }
            }
        }
        Ok(out)
    }

    /// The model of a form's current version.
    async fn current_model(&self, form_id: i64) -> Result<Arc<baraza_xlsform::Form>, CoreError> {
        let form = self
            .store
            .form_by_id(form_id)
            .await?
            .ok_or(CoreError::NotFound { what: "form" })?;
        let version = form
            .current_version_id
            .ok_or(CoreError::NotFound { what: "form" })?;
        self.form_model(version).await
    }

    /// The project's indicators with their figures, brought up to date first.
    pub async fn indicator_views(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<IndicatorView>, CoreError> {
        access.require(Permission::ViewProject)?;
        self.catch_up_indicators(access.project.id).await?;
        let official = self.official_observations(access.project.id).await?;
        let places = self.place_names().await?;
        let mut out = Vec::new();
        for row in self.store.indicators(access.project.id.0).await? {
            out.push(self.view_of(row, &official, &places).await?);
        }
        Ok(out)
    }

    /// One indicator with its figures, brought up to date first.
    pub async fn indicator_view(
        &self,
        access: &ProjectAccess,
        slug: &str,
    ) -> Result<IndicatorView, CoreError> {
        access.require(Permission::ViewProject)?;
        let row = self
            .store
            .indicator(access.project.id.0, slug)
            .await?
            .ok_or(CoreError::NotFound { what: "indicator" })?;
        self.catch_up_form(access.project.id, row.form_id).await?;
        let row = self
            .store
            .indicator(access.project.id.0, slug)
            .await?
            .ok_or(CoreError::NotFound { what: "indicator" })?;
        let official = self.official_observations(access.project.id).await?;
        let places = self.place_names().await?;
        self.view_of(row, &official, &places).await
    }

    async fn view_of(
        &self,
        row: IndicatorRow,
        official: &[Observation],
        places: &BTreeMap<String, String>,
    ) -> Result<IndicatorView, CoreError> {
        let model = self.current_model(row.form_id).await?;
        let def = Arc::new(parse_stored(
            &row,
            &self.fields_of_form(row.form_id).await?,
        )?);
        let mut cells = Cells::default();
        for (k, s) in self.store.indicator_cells(row.id).await? {
            cells.moments.insert(key_of(&k), moments(&s));
        }
        if compute::needs_distribution(def.spec.aggregation) {
            for (k, x, n, w) in self.store.indicator_values(row.id).await? {
                cells
                    .distributions
                    .entry(key_of(&k))
                    .or_default()
                    .add(x, n, w);
            }
        }
        let figures = figures(&def, &cells);
        let framework = self.framework();
        let sdg = row
            .sdg
            .as_deref()
            .and_then(|c| framework.indicator(c))
            .cloned();
        // The linked indicator's official series, and those it is compared with.
        let wanted: BTreeSet<String> = def
            .spec
            .sdg
            .iter()
            .flat_map(|l| std::iter::once(&l.indicator).chain(&l.compare))
            .filter_map(|c| framework.indicator(c))
            .map(|i| i.code.clone())
            .collect();
        let official: Vec<Observation> = official
            .iter()
            .filter(|o| {
                framework
                    .indicator(&o.indicator)
                    .is_some_and(|i| wanted.contains(&i.code))
            })
            .cloned()
            .collect();
        let errors = self.store.indicator_errors(row.id).await?;
        Ok(IndicatorView {
            dimensions: dimension_labels(&def, &model),
            form_title: model.title.clone(),
            row,
            def,
            sdg,
            cells,
            figures,
            errors,
            place_names: places.clone(),
            official,
        })
    }

    async fn place_names(&self) -> Result<BTreeMap<String, String>, CoreError> {
        Ok(self
            .store
            .places(false)
            .await?
            .into_iter()
            .map(|p| (p.code, p.name))
            .collect())
    }

    /// An indicator's figures as SDMX-CSV (what `…/indicators/{indicator}/sdmx` serves and
    /// the catalogue publishes): hidden cells are there with `OBS_STATUS` missing and
    /// `CONF_STATUS` confidential, and no value.
    pub async fn indicator_sdmx(
        &self,
        access: &ProjectAccess,
        slug: &str,
    ) -> Result<String, CoreError> {
        let v = self.indicator_view(access, slug).await?;
        let series = sdmx_series(&v);
        let rows: Vec<SdmxRow> = v
            .figures
            .values()
            .map(|f| {
                let mut dims = BTreeMap::new();
                if f.dim != TOTAL {
                    dims.insert(f.dim.to_uppercase(), f.group.clone());
                }
                let mut attrs = BTreeMap::new();
                if let Some(e) = f.estimate {
                    if let Some(l) = e.low {
                        attrs.insert("LOWER_BOUND".to_owned(), l.to_string());
                    }
                    if let Some(h) = e.high {
                        attrs.insert("UPPER_BOUND".to_owned(), h.to_string());
                    }
                }
                if f.shown == Shown::Hidden {
                    attrs.insert(
                        "OBS_STATUS".to_owned(),
                        official::OBS_STATUS_MISSING.to_owned(),
                    );
                    attrs.insert(
                        "CONF_STATUS".to_owned(),
                        official::CONF_STATUS_CONFIDENTIAL.to_owned(),
                    );
                }
                if let Some(n) = f.n {
                    attrs.insert("COMMENT_OBS".to_owned(), format!("n={n}"));
                }
                SdmxRow {
                    dataflow: "BARAZA:DF_CITIZEN_SDG(1.0)".into(),
                    series: series.clone(),
                    ref_area: f.place.clone(),
                    time_period: f.period.clone(),
                    obs_value: f
                        .estimate
                        .filter(|_| f.shown != Shown::Hidden)
                        .map(|e| e.value),
                    unit_measure: match v.def.spec.aggregation {
                        Aggregation::Share => "PT".into(),
                        _ => "NUMBER".into(),
                    },
                    dims,
                    attrs,
                }
            })
            .collect();
        Ok(official::write_sdmx_csv(&rows))
    }

    /// An indicator's figures as SDMX-CSV 2.0 (what `…/indicators/{indicator}/sdmx2.csv`
    /// serves), read against [`Core::indicator_sdmx_structure`]: one row per figure, keyed by
    /// every dimension of the structure (`_T` where the figure is a total); hidden figures are
    /// there with no value, `OBS_STATUS` missing and `CONF_STATUS` confidential.
    pub async fn indicator_sdmx2(
        &self,
        access: &ProjectAccess,
        slug: &str,
    ) -> Result<String, CoreError> {
        let v = self.indicator_view(access, slug).await?;
        let (structure, obs) = sdmx_dataset(&v);
        Ok(sdmx::write_sdmx_csv2(&structure, &obs))
    }

    /// The SDMX-ML 2.1 structure message (dataflow, DSD, concepts, codelists) of an
    /// indicator's SDMX-CSV 2.0, what `…/indicators/{indicator}/sdmx-structure.xml` serves.
    /// Its codelists hold the codes the figures use: it is made from them, as the data is.
    pub async fn indicator_sdmx_structure(
        &self,
        access: &ProjectAccess,
        slug: &str,
    ) -> Result<String, CoreError> {
        let v = self.indicator_view(access, slug).await?;
        let (structure, _) = sdmx_dataset(&v);
        let prepared = baraza_publish::iso_timestamp(self.clock.now());
        Ok(sdmx::write_structure(
            &structure,
            &format!("{}_STRUCTURE", structure.flow_id),
            &prepared,
        ))
    }

    /// Places with their simplified geometry.
    pub async fn places(&self, with_geometry: bool) -> Result<Vec<PlaceRow>, CoreError> {
        Ok(self.store.places(with_geometry).await?)
    }

    /// Imports administrative areas from GeoJSON (an administrator's command): each feature's
    /// code and name from the given properties, its geometry simplified for display. All or
    /// nothing; problems name the feature.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_places(
        &self,
        bytes: &[u8],
        code_property: &str,
        name_property: &str,
        level: i64,
        parent: Option<&str>,
        source: &str,
        attribution: &str,
        licence: &str,
        tolerance: f64,
    ) -> Result<usize, CoreError> {
        let features =
            baraza_charts::geo::read_geojson(bytes, &baraza_charts::geo::Limits::default())
                .map_err(|e| invalid(vec![e.to_string()]))?;
        let now = self.now();
        let mut rows = Vec::new();
        let mut problems = Vec::new();
        for (i, f) in features.iter().enumerate() {
            let code = f.properties.get(code_property).map(|s| s.trim().to_owned());
            let name = f.properties.get(name_property).map(|s| s.trim().to_owned());
            match (code, name) {
                (Some(code), Some(name)) if !code.is_empty() && !name.is_empty() => {
                    let simplified = baraza_charts::geo::simplify(&f.polygons, tolerance);
                    let rounded = baraza_charts::geo::round(&simplified, 4);
                    rows.push(PlaceRow {
                        code,
                        name,
                        level,
                        parent: parent.map(str::to_owned),
                        geometry: Some(
                            serde_json::to_string(&rounded)
                                .map_err(|e| CoreError::Internal(format!("geometry: {e}")))?,
                        ),
                        source: source.to_owned(),
                        attribution: attribution.to_owned(),
                        licence: licence.to_owned(),
                        imported_at: now,
                    });
                }
                _ => problems.push(format!(
                    "feature {}: no {code_property:?} or {name_property:?} property",
                    i + 1
                )),
            }
        }
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        self.store.put_places(&rows).await?;
        self.audit(
            Actor::System,
            "place.import",
            &Target::none(),
            json!({ "places": rows.len(), "level": level, "source": source }),
        )
        .await?;
        Ok(rows.len())
    }

    /// Imports an administrative hierarchy without geometry from CSV (an administrator's
    /// command): columns `code`, `name`, `level` and optionally `parent` (a code of the file or
    /// already imported), `,` or `;` separated. All or nothing; problems name the line. An area
    /// already imported keeps its geometry.
    pub async fn import_places_csv(
        &self,
        bytes: &[u8],
        source: &str,
        licence: &str,
    ) -> Result<usize, CoreError> {
        if bytes.len() > MAX_PLACES_CSV_BYTES {
            return Err(invalid(vec![format!(
                "the file is larger than {} MB",
                MAX_PLACES_CSV_BYTES >> 20
            )]));
        }
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
            .map_err(|_| invalid(vec!["the file is not UTF-8".into()]))?;
        let first = text.lines().next().unwrap_or_default();
        let delimiter = if first.matches(';').count() > first.matches(',').count() {
            b';'
        } else {
            b','
        };
        let mut reader = csv_reader(text, delimiter);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| invalid(vec![format!("line 1: {e}")]))?
            .iter()
            .map(|h| h.trim().to_lowercase())
            .collect();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (Some(code_at), Some(name_at), Some(level_at)) =
            (col("code"), col("name"), col("level"))
        else {
            return Err(invalid(vec![
                "line 1: the columns code, name and level are needed (parent is optional)".into(),
            ]));
        };
        let parent_at = col("parent");
        let existing: BTreeMap<String, PlaceRow> = self
            .store
            .places(true)
            .await?
            .into_iter()
            .map(|p| (p.code.clone(), p))
            .collect();
        let now = self.now();
        let mut rows: Vec<PlaceRow> = Vec::new();
        let mut problems = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("line {line}: {e}"));
                    continue;
                }
            };
            let get = |at: usize| record.get(at).unwrap_or_default().trim().to_owned();
            let (code, name) = (get(code_at), get(name_at));
            if code.is_empty() || name.is_empty() {
                problems.push(format!("line {line}: code and name are needed"));
                continue;
            }
            let Ok(level) = get(level_at).parse::<i64>() else {
                problems.push(format!(
                    "line {line}: level is a whole number (0 country, 1, 2…)"
                ));
                continue;
            };
            let parent = parent_at.map(get).filter(|p| !p.is_empty());
            let kept = existing.get(&code);
            rows.push(PlaceRow {
                geometry: kept.and_then(|k| k.geometry.clone()),
                attribution: kept.map(|k| k.attribution.clone()).unwrap_or_default(),
                code,
                name,
                level,
                parent,
                source: source.to_owned(),
                licence: licence.to_owned(),
                imported_at: now,
            });
            if problems.len() >= 50 {
                break;
            }
        }
        let codes: BTreeSet<&str> = rows.iter().map(|r| r.code.as_str()).collect();
        for r in &rows {
            if let Some(p) = &r.parent {
                if !codes.contains(p.as_str()) && !existing.contains_key(p) {
                    problems.push(format!(
                        "{}: its parent {p} is neither in the file nor imported",
                        r.code
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        self.store.put_places(&rows).await?;
        self.audit(
            Actor::System,
            "place.import",
            &Target::none(),
            json!({ "places": rows.len(), "source": source, "format": "csv" }),
        )
        .await?;
        Ok(rows.len())
    }

    /// Imports official series (CSV, the UN SDG database's CSV, SDMX-CSV) beside the project's
    /// figures: one series per (indicator, series code), replacing an earlier import of it.
    pub async fn import_official(
        &self,
        access: &ProjectAccess,
        bytes: &[u8],
        source_note: &str,
        indicator: Option<&str>,
    ) -> Result<Vec<(String, String, usize)>, CoreError> {
        access.require(Permission::ManageIndicators)?;
        let (layout, observations) = official::read(bytes, &official::Limits::default())
            .map_err(|e| invalid(vec![e.to_string()]))?;
        let framework = self.framework();
        let mut by_series: BTreeMap<(String, String), Vec<Observation>> = BTreeMap::new();
        let mut problems = Vec::new();
        if let Some(code) = indicator {
            if framework.indicator(code).is_none() {
                return Err(invalid(vec![format!(
                    "{code:?} is not an indicator of the SDG framework"
                )]));
            }
        }
        for mut o in observations {
            // A file that does not say its indicator (SDMX-CSV names series) takes the one given.
            if o.indicator.trim().is_empty() {
                match indicator {
                    Some(code) => o.indicator = code.to_owned(),
                    None => {
                        if problems.len() < 20 {
                            problems.push(format!(
                                "series {:?} does not say its SDG indicator: give it with the file",
                                o.series
                            ));
                        }
                        continue;
                    }
                }
            }
            match framework.indicator(&o.indicator) {
                Some(i) => by_series
                    .entry((i.code.clone(), o.series.clone()))
                    .or_default()
                    .push(o),
                None => {
                    if problems.len() < 20 {
                        problems.push(format!(
                            "{:?} is not an indicator of the SDG framework",
                            o.indicator
                        ));
                    }
                }
            }
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(invalid(problems));
        }
        let now = self.now();
        let mut out = Vec::new();
        for ((indicator, series), obs) in by_series {
            let first = &obs[0];
            let source = if first.source.is_empty() {
                source_note.to_owned()
            } else {
                first.source.clone()
            };
            self.store
                .put_official_series(&OfficialSeriesRow {
                    id: 0,
                    project_id: access.project.id.0,
                    indicator: indicator.clone(),
                    series: series.clone(),
                    title: first.series_title.clone(),
                    source,
                    layout: format!("{layout:?}"),
                    observations: serde_json::to_string(&obs)
                        .map_err(|e| CoreError::Internal(format!("observations: {e}")))?,
                    imported_by: access.user.map(|u| u.0),
                    imported_at: now,
                })
                .await?;
            out.push((indicator, series, obs.len()));
        }
        self.audit(
            Actor::of_access(access),
            "indicator.official",
            &Target::project(access.project.id),
            json!({ "series": out.iter().map(|(i, s, n)| json!({"indicator": i, "series": s, "observations": n})).collect::<Vec<_>>() }),
        )
        .await?;
        Ok(out)
    }

    /// The project's official series.
    pub async fn official_series(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<OfficialSeriesRow>, CoreError> {
        access.require(Permission::ViewProject)?;
        Ok(self.store.official_series(access.project.id.0).await?)
    }

    async fn official_observations(
        &self,
        project: ProjectId,
    ) -> Result<Vec<Observation>, CoreError> {
        let mut out = Vec::new();
        for s in self.store.official_series(project.0).await? {
            let obs: Vec<Observation> = serde_json::from_str(&s.observations)
                .map_err(|e| CoreError::Internal(format!("stored official series: {e}")))?;
            out.extend(obs);
        }
        Ok(out)
    }
}

enum Step {
    Done,
    Wrote,
    Lost,
}

/// Every cell's figure, with small cells hidden or bracketed.
///
/// Per period, every cell and every total of every table the cells form (places × groups of
/// each disaggregation, with their margins) is one system of lines solved at once, so that a
/// total hidden in one table is hidden in all, and a hidden count cannot be worked out by
/// subtraction from any line. Records without a place or a group make a residual item in each
/// line (never shown, but treated as known, which is the cautious side).
pub fn figures(def: &Definition, cells: &Cells) -> BTreeMap<CellKey, Figure> {
    let sc = def.spec.small_cells;
    let mut out = BTreeMap::new();
    for period in cells.periods() {
        let keys: Vec<&CellKey> = cells
            .moments
            .keys()
            .filter(|k| k.period == period)
            .collect();
        let mut counts: Vec<u64> = Vec::new();
        let mut totals: Vec<bool> = Vec::new();
        let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for k in &keys {
            index.insert(
                (k.place.clone(), k.dim.clone(), k.group.clone()),
                counts.len(),
            );
            counts.push(cells.moments[*k].n.max(0) as u64);
            totals.push(k.place == TOTAL || k.group == TOTAL);
        }
        let n_of = |place: &str, dim: &str, group: &str| -> i64 {
            cells
                .moments
                .get(&CellKey::new(&period, place, dim, group))
                .map_or(0, |m| m.n)
        };
        let places: BTreeSet<String> = keys
            .iter()
            .filter(|k| k.place != TOTAL)
            .map(|k| k.place.clone())
            .collect();
        let dims: BTreeSet<String> = keys
            .iter()
            .filter(|k| k.dim != TOTAL)
            .map(|k| k.dim.clone())
            .collect();
        let mut lines: Vec<Vec<usize>> = Vec::new();
        let residual = |value: i64, counts: &mut Vec<u64>, totals: &mut Vec<bool>| {
            counts.push(value.max(0) as u64);
            totals.push(false);
            counts.len() - 1
        };
        // Places at each (dimension, group), with the total's own line.
        let mut columns: Vec<(String, String)> = vec![(TOTAL.into(), TOTAL.into())];
        for k in &keys {
            if k.dim != TOTAL && k.place == TOTAL {
                columns.push((k.dim.clone(), k.group.clone()));
            }
        }
        for (dim, group) in &columns {
            let Some(&total) = index.get(&(TOTAL.to_owned(), dim.clone(), group.clone())) else {
                continue;
            };
            let mut line: Vec<usize> = places
                .iter()
                .filter_map(|p| index.get(&(p.clone(), dim.clone(), group.clone())).copied())
                .collect();
            let sum: i64 = places.iter().map(|p| n_of(p, dim, group)).sum();
            line.push(residual(
                n_of(TOTAL, dim, group) - sum,
                &mut counts,
                &mut totals,
            ));
            line.push(total);
            lines.push(line);
        }
        // Groups of each dimension at each place (and at the total).
        for dim in &dims {
            for place in std::iter::once(TOTAL.to_owned()).chain(places.iter().cloned()) {
                let Some(&total) = index.get(&(place.clone(), TOTAL.to_owned(), TOTAL.to_owned()))
                else {
                    continue;
                };
                let groups: Vec<usize> = keys
                    .iter()
                    .filter(|k| k.place == place && &k.dim == dim)
                    .filter_map(|k| index.get(&(k.place.clone(), k.dim.clone(), k.group.clone())))
                    .copied()
                    .collect();
                let sum: i64 = keys
                    .iter()
                    .filter(|k| k.place == place && &k.dim == dim)
                    .map(|k| cells.moments[*k].n)
                    .sum();
                let mut line = groups;
                line.push(residual(
                    n_of(&place, TOTAL, TOTAL) - sum,
                    &mut counts,
                    &mut totals,
                ));
                line.push(total);
                lines.push(line);
            }
        }
        let hidden =
            baraza_sdc::cells::lines(&counts, &totals, &lines, sc.hide_below.max(0) as u64);
        for k in keys {
            let i = index[&(k.place.clone(), k.dim.clone(), k.group.clone())];
            let m = &cells.moments[k];
            let h = hidden[i];
            let shown = if h.is_some() {
                Shown::Hidden
            } else if m.n < sc.bracket_below {
                Shown::Bracketed
            } else {
                Shown::Shown
            };
            let estimate = if h.is_some() {
                None
            } else {
                compute::estimate(def, m, cells.distributions.get(k)).map(|mut e| {
                    if def.spec.credibility.sampling != Sampling::Probability {
                        e.low = None;
                        e.high = None;
                        e.se = None;
                    }
                    e
                })
            };
            out.insert(
                k.clone(),
                Figure {
                    period: k.period.clone(),
                    place: k.place.clone(),
                    dim: k.dim.clone(),
                    group: k.group.clone(),
                    shown,
                    hidden: h,
                    n: h.is_none().then_some(m.n),
                    estimate,
                },
            );
        }
    }
    out
}

/// An indicator's SDMX series code: `6_1_1_EAU_DE_BASE` (`NA_…` without an SDG link).
fn sdmx_series(v: &IndicatorView) -> String {
    format!(
        "{}_{}",
        v.sdg
            .as_ref()
            .map_or("NA".to_owned(), |i| i.code.replace('.', "_")),
        v.row.slug.to_uppercase().replace('-', "_")
    )
}

/// An indicator's SDMX structure and its observations, one per figure (see
/// baraza_indicators::sdmx and docs/indicators.md).
fn sdmx_dataset(v: &IndicatorView) -> (sdmx::Structure, Vec<sdmx::Obs>) {
    let series = sdmx::sanitize_id(&sdmx_series(v));
    let spec = &v.def.spec;
    let freq = match spec.period {
        define::Period::Month => "M",
        define::Period::Quarter => "Q",
        define::Period::Year => "A",
    };
    let unit = match spec.aggregation {
        Aggregation::Share => "PT",
        _ => "NUMBER",
    };
    let unit_code = sdmx::Code {
        source: None,
        id: unit.to_owned(),
        name: if unit == "PT" {
            [
                ("en".into(), "Percent".into()),
                ("fr".into(), "Pourcentage".into()),
            ]
            .into()
        } else if spec.unit.is_empty() {
            [
                ("en".into(), "Number".into()),
                ("fr".into(), "Nombre".into()),
            ]
            .into()
        } else {
            spec.unit.clone()
        },
    };
    // Disaggregations in the definition's order, each with its groups and their labels.
    let disaggregations: Vec<sdmx::Disaggregation> = v
        .def
        .dimensions
        .iter()
        .map(|d| {
            let name = d.name().to_owned();
            let labels = v.dimensions.iter().find(|l| l.name == name);
            let groups = v
                .groups_of(&name)
                .into_iter()
                .map(|g| {
                    let label = labels
                        .and_then(|l| l.groups.iter().find(|(c, _)| *c == g))
                        .map(|(_, t)| t.clone())
                        .unwrap_or_default();
                    (g, label)
                })
                .collect();
            (
                name,
                labels.map(|l| l.title.clone()).unwrap_or_default(),
                groups,
            )
        })
        .collect();
    let mappings = sdmx::map_dimensions(&disaggregations);

    // Places: the total, then the codes with figures.
    let mut places: Vec<String> = vec![TOTAL.to_owned()];
    for k in v.figures.keys() {
        if !places.contains(&k.place) {
            places.push(k.place.clone());
        }
    }
    let place_code = |p: &str| {
        if p == TOTAL {
            TOTAL.to_owned()
        } else {
            sdmx::sanitize_id(p)
        }
    };
    let area_codes = places
        .iter()
        .map(|p| sdmx::Code {
            source: (place_code(p) != *p).then(|| p.clone()),
            id: place_code(p),
            name: if p == TOTAL {
                [
                    ("en".into(), "All places".into()),
                    ("fr".into(), "Tous les lieux".into()),
                ]
                .into()
            } else {
                [(
                    "en".into(),
                    v.place_names.get(p).cloned().unwrap_or_else(|| p.clone()),
                )]
                .into()
            },
        })
        .collect();
    let mut dimensions = vec![
        sdmx::Dimension {
            id: "FREQ".into(),
            name: [
                ("en".into(), "Frequency".into()),
                ("fr".into(), "Fréquence".into()),
            ]
            .into(),
            codes: vec![sdmx::freq_code(freq)],
        },
        sdmx::Dimension {
            id: "SERIES".into(),
            name: [
                ("en".into(), "Series".into()),
                ("fr".into(), "Série".into()),
            ]
            .into(),
            codes: vec![sdmx::Code {
                source: None,
                id: series.clone(),
                name: spec.title.clone(),
            }],
        },
        sdmx::Dimension {
            id: "REF_AREA".into(),
            name: [
                ("en".into(), "Reference area".into()),
                ("fr".into(), "Zone de référence".into()),
            ]
            .into(),
            codes: area_codes,
        },
    ];
    dimensions.extend(mappings.iter().map(|m| m.dimension.clone()));
    let structure = sdmx::Structure {
        flow_id: format!("DF_{series}"),
        name: spec.title.clone(),
        description: spec.description.clone(),
        dimensions,
        units: vec![unit_code],
    };

    let obs = v
        .figures
        .values()
        .map(|f| {
            let mut key = vec![freq.to_owned(), series.clone(), place_code(&f.place)];
            for m in &mappings {
                key.push(if f.dim == m.name {
                    m.codes
                        .get(&f.group)
                        .cloned()
                        .unwrap_or_else(|| sdmx::sanitize_id(&f.group))
                } else {
                    TOTAL.to_owned()
                });
            }
            let hidden = f.shown == Shown::Hidden;
            let estimate = f.estimate.filter(|_| !hidden);
            sdmx::Obs {
                key,
                time_period: f.period.clone(),
                value: estimate.map(|e| e.value),
                unit: unit.to_owned(),
                obs_status: if hidden {
                    official::OBS_STATUS_MISSING.to_owned()
                } else {
                    String::new()
                },
                conf_status: if hidden {
                    official::CONF_STATUS_CONFIDENTIAL.to_owned()
                } else {
                    String::new()
                },
                lower: estimate.and_then(|e| e.low),
                upper: estimate.and_then(|e| e.high),
                comment: f
                    .n
                    .filter(|_| !hidden)
                    .map(|n| format!("n={n}"))
                    .unwrap_or_default(),
            }
        })
        .collect();
    (structure, obs)
}
