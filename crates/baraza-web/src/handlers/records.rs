//! The record of processing activities: one printable page per project (and its `.json` twin),
//! generated from the forms, their fields' sensitivity, the project's roles and retention rules.

use super::respond;
use crate::ctx::{ProjectGuard, ViewAudit};
use crate::error::WebResult;
use crate::handlers::listing::label_for;
use crate::handlers::views::ProjectView;
use crate::pages::{iso, iso_date, layout, Chrome};
use axum::response::Response;
use baraza_core::records::{FieldRef, RecordOfProcessing};
use maud::{html, Markup};
use serde::Serialize;

#[derive(Serialize)]
struct RecordData {
    project: ProjectView,
    #[serde(flatten)]
    record: RecordOfProcessing,
}

/// A list of fields; `levels`: whether the list is by sensitivity level (then a level Baraza
/// assumed, rather than the author said, is marked).
fn fields(c: &Chrome<'_>, lang: &str, list: &[FieldRef], levels: bool) -> Markup {
    html! {
        @if list.is_empty() { (c.t("records.none")) } @else {
            ul {
                @for f in list {
                    li {
                        (label_for(&f.labels, lang).unwrap_or_else(|| f.name.clone()))
                        " " code.muted { (f.name) }
                        @if levels && !f.declared { " " span.muted { (c.t("records.assumed")) } }
                    }
                }
            }
        }
    }
}

/// `GET /orgs/{org}/projects/{project}/record-of-processing` (and `.json`).
pub async fn record_page(g: ProjectGuard<ViewAudit>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let record = ctx.state.core.record_of_processing(&g.access).await?;
    let data = RecordData {
        project: ProjectView::from_access(&g.access),
        record,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        let lang = ctx.lang().code();
        let r = &data.record;
        let p = &data.project;
        layout(
            &c,
            &format!("{} · {}", c.t("records.title"), p.name),
            html! {
                p.muted { a href=(p.url) { (p.name) } }
                h1 { (c.t("records.title")) }
                p { (c.t("records.intro")) }
                dl {
                    dt { (c.t("records.controller")) } dd { (r.controller) }
                    dt { (c.t("records.project")) } dd { (r.project) }
                    @if let Some(s) = r.sensitivity {
                        dt { (c.t("project.sensitivity")) } dd { strong { (c.t(&format!("sensitivity.{}", s.as_str()))) } }
                    }
                    dt { (c.t("records.generated")) } dd { time datetime=(iso(r.generated_at)) { (iso_date(r.generated_at)) } }
                }
                @if !r.gaps.is_empty() {
                    div.card role="note" {
                        p { strong { (c.t("records.gaps")) } }
                        ul {
                            @for g in &r.gaps {
                                @let (form, what) = g.split_once(':').unwrap_or(("", g));
                                li { code { (form) } " — " (c.t(&format!("records.gap_{what}"))) }
                            }
                        }
                    }
                }
                @for f in &r.forms {
                    h2 { (f.title) " " code.muted { (f.xml_form_id) } }
                    dl {
                        dt { (c.t("records.purpose")) } dd { @if f.purpose.is_empty() { span.muted { (c.t("records.not_said")) } } @else { (f.purpose) } }
                        dt { (c.t("records.lawful_basis")) } dd { @if f.lawful_basis.is_empty() { span.muted { (c.t("records.not_said")) } } @else { (c.t(&format!("records.basis_{}", f.lawful_basis))) } }
                        dt { (c.t("records.data_subjects")) } dd { @if f.data_subjects.is_empty() { span.muted { (c.t("records.not_said")) } } @else { (f.data_subjects) } }
                        dt { (c.t("records.records")) } dd { (f.records) }
                        dt { (c.t("records.sensitive")) } dd { (fields(&c, lang, &f.sensitive, true)) }
                        dt { (c.t("records.personal")) } dd { (fields(&c, lang, &f.personal, true)) }
                        dt { (c.t("records.quasi")) } dd { (fields(&c, lang, &f.quasi_identifiers, false)) }
                        dt { (c.t("consent.question")) } dd {
                            @match &f.consent_question {
                                Some(q) => {
                                    code { (q) }
                                    @if let Some(v) = &f.consent_notice_version { " · " (c.t("consent.notice_version")) " " code { (v) } }
                                },
                                None => span.muted { (c.t("consent.none")) },
                            }
                        }
                        @if f.consent_question.is_some() || f.consents.withdrawn > 0 {
                            dt { (c.t("consent.title")) } dd { (c.tf("consent.counts", &[
                                ("given", &f.consents.given.to_string()),
                                ("refused", &f.consents.refused.to_string()),
                                ("not_answered", &f.consents.not_answered.to_string()),
                                ("withdrawn", &f.consents.withdrawn.to_string()),
                            ])) }
                        }
                        dt { (c.t("records.other_fields")) } dd { (c.tf("records.other_count", &[("internal", &f.internal_fields.to_string()), ("public", &f.public_fields.to_string())])) }
                        dt { (c.t("retention.title")) } dd {
                            @match f.retention_days {
                                Some(d) => (c.tf("records.retention_days", &[("days", &d.to_string())])),
                                None => span.muted { (c.t("records.not_said")) },
                            }
                        }
                    }
                }
                h2 { (c.t("records.recipients")) }
                table.responsive {
                    thead { tr { th scope="col" { (c.t("field.name")) } th scope="col" { (c.t("records.role")) } th scope="col" { (c.t("records.access")) } } }
                    tbody {
                        @for rc in &r.recipients {
                            tr {
                                td { (rc.name) }
                                td { (c.t(&format!("role.{}", rc.role.as_str()))) }
                                td {
                                    @if rc.in_clear { (c.t("records.in_clear")) } @else { (c.t("records.masked")) }
                                    @if rc.own_records_only { "; " (c.t("people.records_own")) }
                                    @if let Some(s) = &rc.scope { "; " (c.t("people.records_scope")) " " code { (s.field) } " = " (s.values.join(", ")) }
                                }
                            }
                        }
                    }
                }
                @if !r.shared_with.is_empty() {
                    h3 { (c.t("records.shared_with")) }
                    table.responsive {
                        thead { tr {
                            th scope="col" { (c.t("agreements.f_recipient")) }
                            th scope="col" { (c.t("agreements.f_purpose")) }
                            th scope="col" { (c.t("agreements.f_levels")) }
                            th scope="col" { (c.t("agreements.f_outside_country")) }
                        } }
                        tbody {
                            @for s in &r.shared_with {
                                tr {
                                    td { a href={ (p.url) "/agreements/" (s.agreement) } { (s.recipient) } }
                                    td { (s.purpose) }
                                    td {
                                        (s.levels.iter().map(|l| c.t(&format!("sensitivity.{l}")).to_owned()).collect::<Vec<_>>().join(", "))
                                        @if s.aggregated_only { ", " (c.t("agreements.aggregated_only")) }
                                    }
                                    td { @if s.outside_country { (c.t("registers.yes")) " — " (s.safeguard) } @else { (c.t("registers.no")) } }
                                }
                            }
                        }
                    }
                }
                p { (c.t("records.transfers")) }
                h2 { (c.t("records.measures")) }
                ul {
                    @for m in &r.measures { li { (c.t(&format!("records.measure_{m}"))) } }
                }
            },
        )
    }))
}
