//! ODK encrypted forms: a project's managed encryption (turned on with a passphrase and a
//! hint), and a form's "decrypt into the protected store" with the passphrase or, for a form
//! whose author holds the key, the private key in PEM. Neither is kept: they live for the
//! request.

use super::views::ProjectView;
use super::{respond, see_other};
use crate::ctx::{CsrfForm, ManageForms, ProjectGuard};
use crate::error::{WebError, WebResult};
use crate::pages::{csrf_field, iso, layout, Chrome};
use axum::extract::Path;
use axum::response::Response;
use baraza_core::encrypted::{Decrypted, FormEncryption, FormKeyInput, KeyHolder, PendingRecord};
use maud::html;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

fn encryption_url(p: &ProjectView) -> String {
    format!("{}/encryption", p.url)
}

fn decrypt_url(p: &ProjectView, form: &str) -> String {
    format!("{}/forms/{form}/decrypt", p.url)
}

#[derive(Serialize)]
struct EncryptionData {
    project: ProjectView,
    enabled: bool,
    hint: Option<String>,
    enabled_at: Option<String>,
    forms: Vec<FormEncryption>,
}

/// `GET …/encryption`: whether managed encryption is on, and each form's key and pending
/// encrypted records.
pub async fn encryption_page(g: ProjectGuard<ManageForms>) -> WebResult<Response> {
    let ctx = &g.ctx;
    let e = ctx.state.core.project_encryption(&g.access).await?;
    let data = EncryptionData {
        project: ProjectView::from_access(&g.access),
        enabled: e.hint.is_some(),
        hint: e.hint,
        enabled_at: e.enabled_at.map(iso),
        forms: e.forms,
    };
    Ok(respond(ctx, &data, || {
        let c = Chrome::from_ctx(ctx);
        layout(
            &c,
            c.t("encryption.title"),
            html! {
                p.muted { a href=(data.project.url) { (data.project.name) } }
                h1 { (c.t("encryption.title")) }
                p { (c.t("encryption.intro")) }
                @if data.enabled {
                    p { strong { (c.t("encryption.enabled")) } " " (data.enabled_at.as_deref().and_then(|d| d.get(..10)).unwrap_or("")) }
                    p { (c.t("encryption.hint")) " " em { (data.hint.as_deref().unwrap_or("")) } }
                } @else {
                    form.stack method="post" action=(encryption_url(&data.project)) {
                        (csrf_field(c.csrf))
                        p.muted { (c.t("encryption.enable_help")) }
                        label { (c.t("encryption.passphrase")) input type="password" name="passphrase" required minlength="10" autocomplete="new-password"; }
                        label { (c.t("encryption.passphrase_again")) input type="password" name="passphrase_again" required minlength="10" autocomplete="new-password"; }
                        label { (c.t("encryption.hint")) input name="hint" maxlength="200"; }
                        button type="submit" { (c.t("encryption.enable")) }
                    }
                }
                h2 { (c.t("forms.title")) }
                table {
                    thead { tr { th { (c.t("encryption.form")) } th { (c.t("encryption.key")) } th { (c.t("encryption.pending")) } } }
                    tbody {
                        @for f in &data.forms {
                            tr {
                                td { (f.title) " " code { (f.xml_form_id) } }
                                td { (key_label(&c, f.key)) }
                                td {
                                    (f.pending)
                                    @if f.key != KeyHolder::None || f.pending > 0 {
                                        " · " a href=(decrypt_url(&data.project, &f.xml_form_id)) { (c.t("encryption.decrypt")) }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        )
    }))
}

fn key_label(c: &Chrome<'_>, key: KeyHolder) -> String {
    c.t(match key {
        KeyHolder::None => "encryption.key_none",
        KeyHolder::Managed => "encryption.key_managed",
        KeyHolder::Author => "encryption.key_author",
    })
    .to_owned()
}

#[derive(Deserialize)]
pub struct EnableForm {
    passphrase: String,
    passphrase_again: String,
    #[serde(default)]
    hint: String,
}

/// `POST …/encryption`: turns managed encryption on (`passphrase`, `passphrase_again`, `hint`).
pub async fn enable(
    g: ProjectGuard<ManageForms>,
    CsrfForm(f): CsrfForm<EnableForm>,
) -> WebResult<Response> {
    if f.passphrase != f.passphrase_again {
        return Err(WebError::code(baraza_types::ErrorCode::ValidationFailed)
            .with_detail("invalid.passphrase_mismatch"));
    }
    g.ctx
        .state
        .core
        .enable_managed_encryption(&g.access, &g.ctx.principal, &f.passphrase, &f.hint)
        .await?;
    Ok(see_other(&encryption_url(&ProjectView::from_access(
        &g.access,
    ))))
}

#[derive(Serialize)]
struct DecryptData {
    project: ProjectView,
    form: FormEncryption,
    hint: Option<String>,
    /// The records waiting to be decrypted.
    records: Vec<PendingRecord>,
    /// After a decryption: what it did.
    result: Option<Decrypted>,
}

fn form_param(params: &HashMap<String, String>) -> WebResult<String> {
    params.get("form").cloned().ok_or_else(WebError::not_found)
}

async fn decrypt_data(
    g: &ProjectGuard<ManageForms>,
    form: &str,
    result: Option<Decrypted>,
) -> WebResult<DecryptData> {
    let (form_enc, hint) = g.ctx.state.core.form_encryption(&g.access, form).await?;
    let records = g.ctx.state.core.encrypted_records(&g.access, form).await?;
    Ok(DecryptData {
        project: ProjectView::from_access(&g.access),
        form: form_enc,
        hint,
        records,
        result,
    })
}

fn render_decrypt(g: &ProjectGuard<ManageForms>, data: &DecryptData) -> Response {
    let ctx = &g.ctx;
    respond(ctx, data, || {
        let c = Chrome::from_ctx(ctx);
        let url = decrypt_url(&data.project, &data.form.xml_form_id);
        layout(
            &c,
            c.t("encryption.decrypt_title"),
            html! {
                p.muted {
                    a href=(data.project.url) { (data.project.name) } " › "
                    a href=(encryption_url(&data.project)) { (c.t("encryption.title")) }
                }
                h1 { (c.t("encryption.decrypt_title")) " " code { (data.form.xml_form_id) } }
                @if let Some(r) = &data.result {
                    p.notice { (c.tf("encryption.done", &[("n", &r.decrypted.to_string()), ("left", &r.remaining.to_string())])) }
                }
                p { (c.t("encryption.key")) ": " (key_label(&c, data.form.key)) }
                p { (c.tf("encryption.pending_count", &[("n", &data.form.pending.to_string())])) }
                p.muted { (c.t("encryption.decrypt_help")) }
                form.stack method="post" action=(url) {
                    (csrf_field(c.csrf))
                    @if let Some(hint) = &data.hint {
                        label { (c.t("encryption.passphrase")) input type="password" name="passphrase" autocomplete="off"; }
                        p.hint { (c.t("encryption.hint")) " " em { (hint) } }
                    }
                    label { (c.t("encryption.private_key")) textarea name="private_key" rows="6" spellcheck="false" {} }
                    button type="submit" { (c.t("encryption.decrypt")) }
                }
                @if !data.records.is_empty() {
                    h2 { (c.t("encryption.pending")) }
                    p.muted { (c.t("encryption.erase_help")) }
                    table {
                        thead { tr { th { "instanceID" } th { (c.t("encryption.received")) } th { (c.t("encryption.files")) } th {} } }
                        tbody {
                            @for r in &data.records {
                                tr {
                                    td { code { (r.instance_id) } }
                                    td { (iso(r.received_at)) }
                                    td { @if r.complete { (c.t("encryption.complete")) } @else { (c.t("encryption.incomplete")) } }
                                    td {
                                        form.inline method="post" action={ (url) "/erase" } {
                                            (csrf_field(c.csrf))
                                            input type="hidden" name="instance" value=(r.instance_id);
                                            button.danger type="submit" { (c.t("encryption.erase")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        )
    })
}

/// `GET …/forms/{form}/decrypt`: the form's pending encrypted records and the decryption form.
pub async fn decrypt_page(
    g: ProjectGuard<ManageForms>,
    Path(params): Path<HashMap<String, String>>,
) -> WebResult<Response> {
    let form = form_param(&params)?;
    let data = decrypt_data(&g, &form, None).await?;
    Ok(render_decrypt(&g, &data))
}

#[derive(Deserialize)]
pub struct DecryptForm {
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    private_key: String,
}

/// `POST …/forms/{form}/decrypt`: `passphrase` (managed key) or `private_key` (PEM); decrypts
/// every pending record the key opens, and shows what was done.
pub async fn decrypt(
    g: ProjectGuard<ManageForms>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<DecryptForm>,
) -> WebResult<Response> {
    let form = form_param(&params)?;
    let key = if !f.private_key.trim().is_empty() {
        FormKeyInput::Pem(&f.private_key)
    } else {
        FormKeyInput::Passphrase(&f.passphrase)
    };
    let result = g.ctx.state.core.decrypt_form(&g.access, &form, key).await?;
    let data = decrypt_data(&g, &form, Some(result)).await?;
    Ok(render_decrypt(&g, &data))
}

#[derive(Deserialize)]
pub struct EraseForm {
    instance: String,
}

/// `POST …/forms/{form}/decrypt/erase`: erases the encrypted record `instance` (a tampered or
/// damaged upload that would otherwise stop the form's decryption).
pub async fn erase(
    g: ProjectGuard<ManageForms>,
    Path(params): Path<HashMap<String, String>>,
    CsrfForm(f): CsrfForm<EraseForm>,
) -> WebResult<Response> {
    let form = form_param(&params)?;
    g.ctx
        .state
        .core
        .erase_encrypted(&g.access, &form, &f.instance)
        .await?;
    Ok(see_other(&decrypt_url(
        &ProjectView::from_access(&g.access),
        &form,
    )))
}
