//! Baraza's HTTP edge.
//!
//! # Shape
//!
//! * **The route table is the router.** [`routes`] lists every route with the access it needs
//!   ([`Guard`]); [`router`] is built from that list, and the table-driven access test walks the
//!   same list, so a route cannot be added without its access being tested.
//! * **Handlers are thin**: an extractor checks access (`ctx.rs`), one call into `baraza-core`,
//!   then a page (`pages.rs`) or its JSON twin. No SQL and no business rules here.
//! * **Every page has a `.json` twin** (`/orgs` and `/orgs.json`, `/` and `/index.json`): the edge
//!   middleware strips the suffix before routing and the handler serialises the same data it
//!   renders.
//! * **Errors** have one shape per format (`error.rs`), rendered in the request's language.
//! * **No JavaScript**: pages are HTML forms and links; CSS is one small embedded file.

pub mod ctx;
pub mod error;
pub mod handlers;
pub mod i18n;
pub mod middleware;
mod pages;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{delete, get, head, post, MethodRouter};
use axum::Router;
use baraza_core::Core;
use baraza_types::Permission;
use i18n::{I18n, Lang};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;

/// Settings of the web edge, from the binary's configuration.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// Trust the last `X-Forwarded-For` hop as the client address (behind a load balancer).
    pub behind_proxy: bool,
    /// The language for visitors whose browser asks for none we speak.
    pub default_lang: Lang,
    /// The largest request body accepted by forms and the JSON API.
    pub max_body_bytes: usize,
    /// How long a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// The program's version, shown in the footer and `/-/version`.
    pub version: &'static str,
    /// The URL people reach Baraza by (for links given to ODK Collect), if configured.
    pub public_url: Option<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            secure_cookies: false,
            behind_proxy: false,
            default_lang: Lang::En,
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            version: env!("CARGO_PKG_VERSION"),
            public_url: None,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub settings: Arc<WebSettings>,
    pub i18n: Arc<I18n>,
}

impl AppState {
    pub fn new(core: Core, settings: WebSettings) -> Result<AppState, String> {
        Ok(AppState {
            core,
            settings: Arc::new(settings),
            i18n: Arc::new(I18n::load()?),
        })
    }
}

/// The access a route needs, as the table-driven tests expect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in person (session or token).
    SignedIn,
    /// A signed-in person through a browser session; tokens are refused.
    Session,
    /// A site administrator.
    Admin,
    /// An owner of the organisation in the path.
    OrgOwner,
    /// A permission in the project in the path.
    Project(Permission),
    /// An ODK Collect app user, by the token in the path.
    AppUser,
    /// A person signed in through the `Authorization` header (a bearer token or session, or
    /// Basic credentials; Digest too on the OpenRosa routes), with this permission in the
    /// project `{pid}` of the path: OpenRosa for accounts and ODK Central's API.
    Account(Permission),
    /// A person signed in through the `Authorization` header, whatever their projects.
    ApiUser,
}

/// One route: method, path, the access it needs, and its handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub guard: Guard,
    pub handler: MethodRouter<AppState>,
}

fn r(method: Method, path: &'static str, guard: Guard, handler: MethodRouter<AppState>) -> Route {
    Route {
        method,
        path,
        guard,
        handler,
    }
}

/// Every route of the application.
#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    use handlers::{
        account, admin, api, audit, catalogue, census, dataset_versions, central, encryption, records, exports, registers, releases, reports, reuses, subjects, table, fill, forms, harvest, iati, import, indicators, learn, listing, openrosa, orgs, system,
    };
    let upload_limit = DefaultBodyLimit::max(forms::MAX_XLSFORM_BYTES + 64 * 1024);
    let submission_limit = DefaultBodyLimit::max(openrosa::MAX_SUBMISSION_BYTES);
    let fill_limit = DefaultBodyLimit::max(fill::MAX_FILL_POST_BYTES);
    let xml_limit = DefaultBodyLimit::max(central::MAX_REST_SUBMISSION_BYTES);
    let resource_limit = DefaultBodyLimit::max(baraza_core::catalogue::MAX_RESOURCE_BYTES + 64 * 1024);
    use Guard::*;
    use Method as M;
    use Permission as P;
    vec![
        r(M::GET, "/", Public, get(orgs::home)),
        r(M::GET, "/login", Public, get(account::login_page)),
        r(M::POST, "/login", Public, post(account::login)),
        r(M::POST, "/logout", Public, post(account::logout)),
        r(M::POST, "/-/lang", Public, post(account::set_lang)),
        r(M::GET, "/account", Session, get(account::account_page)),
        r(M::POST, "/account/password", Session, post(account::change_password)),
        r(M::GET, "/account/tokens", Session, get(account::tokens_page)),
        r(M::POST, "/account/tokens", Session, post(account::create_token)),
        r(M::POST, "/account/tokens/{id}/revoke", Session, post(account::revoke_token)),
        r(M::POST, "/account/digest", Session, post(central::set_digest)),
        r(M::GET, "/admin/users", Admin, get(admin::users_page)),
        r(M::POST, "/admin/users", Admin, post(admin::create_user)),
        r(M::GET, "/-/audit", Admin, get(audit::site_audit)),
        r(M::POST, "/-/audit/verify", Admin, post(audit::verify)),
        r(M::GET, "/orgs", Public, get(orgs::org_list)),
        r(M::POST, "/orgs", Admin, post(orgs::create_org)),
        r(M::GET, "/orgs/{org}", Public, get(orgs::org_page)),
        r(M::GET, "/orgs/{org}/people", OrgOwner, get(orgs::org_people_page)),
        r(M::POST, "/orgs/{org}/people", OrgOwner, post(orgs::set_org_member)),
        r(M::POST, "/orgs/{org}/people/{user}/remove", OrgOwner, post(orgs::remove_org_member)),
        r(M::POST, "/orgs/{org}/projects", OrgOwner, post(orgs::create_project)),
        r(M::GET, "/orgs/{org}/projects/{project}", Project(P::ViewProject), get(orgs::project_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/settings", Project(P::ManageProject), post(orgs::update_project)),
        r(M::GET, "/orgs/{org}/projects/{project}/audit", Project(P::ViewAudit), get(audit::project_audit)),
        r(M::GET, "/orgs/{org}/projects/{project}/record-of-processing", Project(P::ViewAudit), get(records::record_page)),
        r(M::GET, "/orgs/{org}/projects/{project}/subjects", Project(P::ViewPersonal), get(subjects::subjects_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/subjects", Project(P::ViewPersonal), post(subjects::search)),
        r(M::GET, "/orgs/{org}/projects/{project}/subjects/requests", Project(P::ViewPersonal), get(subjects::requests_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/subjects/requests", Project(P::ViewPersonal), post(subjects::open_request)),
        r(M::GET, "/orgs/{org}/projects/{project}/subjects/requests/{id}", Project(P::ViewPersonal), get(subjects::request_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/subjects/requests/{id}", Project(P::ViewPersonal), post(subjects::update_request)),
        r(M::GET, "/orgs/{org}/projects/{project}/subjects/requests/{id}/export", Project(P::ViewPersonal), get(subjects::export)),
        r(M::POST, "/orgs/{org}/projects/{project}/subjects/requests/{id}/erase", Project(P::ViewPersonal), post(subjects::erase_records)),
        r(M::GET, "/orgs/{org}/projects/{project}/incidents", Project(P::ViewAudit), get(registers::incidents_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/incidents", Project(P::KeepRegisters), post(registers::record_incident)),
        r(M::GET, "/orgs/{org}/projects/{project}/incidents/{id}", Project(P::ViewAudit), get(registers::incident_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/incidents/{id}", Project(P::KeepRegisters), post(registers::update_incident)),
        r(M::GET, "/orgs/{org}/projects/{project}/dpia", Project(P::ViewAudit), get(registers::dpia_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/dpia", Project(P::KeepRegisters), post(registers::answer_dpia)),
        r(M::GET, "/orgs/{org}/projects/{project}/agreements", Project(P::ViewAudit), get(registers::agreements_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/agreements", Project(P::KeepRegisters), post(registers::record_agreement)),
        r(M::GET, "/orgs/{org}/projects/{project}/agreements/{id}", Project(P::ViewAudit), get(registers::agreement_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/agreements/{id}", Project(P::KeepRegisters), post(registers::update_agreement)),
        r(M::GET, "/orgs/{org}/projects/{project}/release-policy", Project(P::ReleaseData), get(releases::policy_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/release-policy", Project(P::ReleaseData), post(releases::set_policy)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/releases", Project(P::ReleaseData), get(releases::releases_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/releases", Project(P::ReleaseData), post(releases::create_release)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/releases/{id}", Project(P::ReleaseData), get(releases::release_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/releases/{id}/steps", Project(P::ReleaseData), post(releases::add_step)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/releases/{id}/steps/remove", Project(P::ReleaseData), post(releases::remove_step)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/releases/{id}/columns", Project(P::ReleaseData), post(releases::set_columns)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/releases/{id}/release", Project(P::ReleaseData), post(releases::release)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/releases/{id}/delete", Project(P::ReleaseData), post(releases::delete)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/releases/{id}/report", Project(P::ReleaseData), get(releases::report)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators", Project(P::ViewProject), get(indicators::dashboard)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/analytics", Project(P::ViewProject), get(indicators::analytics)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/definitions", Project(P::ManageIndicators), get(indicators::definitions_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/indicators/definitions", Project(P::ManageIndicators), post(indicators::save_definitions)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/definitions.toml", Project(P::ManageIndicators), get(indicators::definitions_file)),
        r(M::POST, "/orgs/{org}/projects/{project}/indicators/official", Project(P::ManageIndicators), post(indicators::import_official)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/goals/{goal}", Project(P::ViewProject), get(indicators::goal_page)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/{indicator}", Project(P::ViewProject), get(indicators::indicator_page)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/{indicator}/sdmx", Project(P::ViewProject), get(indicators::sdmx)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/{indicator}/sdmx2", Project(P::ViewProject), get(indicators::sdmx2)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/{indicator}/sdmx-structure.xml", Project(P::ViewProject), get(indicators::sdmx_structure)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/{indicator}/chart.svg", Project(P::ViewProject), get(indicators::chart_svg)),
        r(M::GET, "/orgs/{org}/projects/{project}/indicators/{indicator}/embed", Project(P::ViewProject), get(indicators::embed)),
        r(M::POST, "/orgs/{org}/projects/{project}/indicators/{indicator}/recompute", Project(P::ManageIndicators), post(indicators::recompute)),
        r(M::POST, "/orgs/{org}/projects/{project}/indicators/{indicator}/delete", Project(P::ManageIndicators), post(indicators::delete)),
        r(M::GET, "/orgs/{org}/projects/{project}/encryption", Project(P::ManageForms), get(encryption::encryption_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/encryption", Project(P::ManageForms), post(encryption::enable)),
        r(M::GET, "/orgs/{org}/projects/{project}/people", Project(P::ViewMembers), get(orgs::people_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/people", Project(P::ManageMembers), post(orgs::set_member)),
        r(M::POST, "/orgs/{org}/projects/{project}/people/{user}/remove", Project(P::ManageMembers), post(orgs::remove_member)),
        r(M::POST, "/orgs/{org}/projects/{project}/people/{user}/scope", Project(P::ManageMembers), post(orgs::set_member_scope)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms", Project(P::ViewForms), get(forms::forms_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms", Project(P::ManageForms), post(forms::upload).layer(upload_limit)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}", Project(P::ViewForms), get(forms::form_page)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/xform", Project(P::ViewForms), get(forms::xform)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/state", Project(P::ManageForms), post(forms::set_state)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/retention", Project(P::ManageForms), post(forms::set_retention)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/purpose", Project(P::ManageForms), post(forms::set_purpose)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/attachments", Project(P::ManageForms), post(forms::upload_attachment).layer(upload_limit)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/decrypt", Project(P::ManageForms), get(encryption::decrypt_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/decrypt", Project(P::ManageForms), post(encryption::decrypt)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/decrypt/erase", Project(P::ManageForms), post(encryption::erase)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/submissions", Project(P::ViewData), get(listing::submissions_page)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/submissions.csv.zip", Project(P::ViewData), get(exports::csv_zip)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/submissions.xlsx", Project(P::ViewData), get(exports::xlsx)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/submissions.geojson", Project(P::ViewData), get(exports::geojson)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/submissions/{instance}", Project(P::ViewData), get(forms::submission_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/submissions/{instance}/review", Project(P::ReviewData), post(forms::review)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/submissions/{instance}/comments", Project(P::ReviewData), post(forms::comment)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/submissions/{instance}/edit", Project(P::EditData), post(fill::start_edit)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/submissions/{instance}/erase", Project(P::EditData), post(forms::erase)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/fill", Project(P::SubmitData), get(fill::overview)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/fill", Project(P::SubmitData), post(fill::start)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/fill/{draft}", Project(P::SubmitData), get(fill::page)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/fill/{draft}", Project(P::SubmitData), post(fill::post).layer(fill_limit)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/public-link", Project(P::ManageForms), post(fill::set_public_link)),
        r(M::GET, "/orgs/{org}/projects/{project}/forms/{form}/import", Project(P::EditData), get(import::import_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/forms/{form}/import", Project(P::EditData), post(import::import_post).layer(upload_limit)),
        r(M::GET, "/f/{token}", Public, get(fill::public_intro)),
        r(M::POST, "/f/{token}", Public, post(fill::public_start)),
        r(M::GET, "/f/{token}/{draft}", Public, get(fill::public_page)),
        r(M::POST, "/f/{token}/{draft}", Public, post(fill::public_post).layer(fill_limit)),
        r(M::GET, "/orgs/{org}/projects/{project}/app-users", Project(P::ManageAppUsers), get(forms::app_users_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/app-users", Project(P::ManageAppUsers), post(forms::create_app_user)),
        r(M::POST, "/orgs/{org}/projects/{project}/app-users/{id}/revoke", Project(P::ManageAppUsers), post(forms::revoke_app_user)),
        r(M::GET, "/v1/key/{token}/projects/{pid}/formList", AppUser, get(openrosa::form_list)),
        r(M::GET, "/v1/key/{token}/projects/{pid}/forms/{form}", AppUser, get(openrosa::form_xml)),
        r(M::GET, "/v1/key/{token}/projects/{pid}/forms/{form}/manifest", AppUser, get(openrosa::manifest)),
        r(M::GET, "/v1/key/{token}/projects/{pid}/forms/{form}/attachments/{name}", AppUser, get(openrosa::attachment)),
        r(M::HEAD, "/v1/key/{token}/projects/{pid}/submission", AppUser, head(openrosa::submission_head)),
        r(M::POST, "/v1/key/{token}/projects/{pid}/submission", AppUser, post(openrosa::submission_post).layer(submission_limit)),
        r(M::GET, "/v1/projects/{pid}/formList", Account(P::ViewForms), get(openrosa::form_list)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}", Account(P::ViewForms), get(central::form)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}/manifest", Account(P::ViewForms), get(openrosa::manifest)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}/attachments/{name}", Account(P::ViewForms), get(openrosa::attachment)),
        r(M::HEAD, "/v1/projects/{pid}/submission", Account(P::SubmitData), head(openrosa::submission_head)),
        r(M::POST, "/v1/projects/{pid}/submission", Account(P::SubmitData), post(openrosa::submission_post).layer(submission_limit)),
        r(M::POST, "/v1/sessions", Public, post(central::create_session)),
        r(M::DELETE, "/v1/sessions/{token}", ApiUser, delete(central::delete_session)),
        r(M::GET, "/v1/users/current", ApiUser, get(central::current_user)),
        r(M::GET, "/v1/projects", ApiUser, get(central::projects)),
        r(M::GET, "/v1/projects/{pid}", Account(P::ViewProject), get(central::project)),
        r(M::GET, "/v1/projects/{pid}/forms", Account(P::ViewForms), get(central::forms)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}/versions", Account(P::ViewForms), get(central::form_versions)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}/submissions", Account(P::ViewData), get(central::submissions)),
        r(M::POST, "/v1/projects/{pid}/forms/{form}/submissions", Account(P::SubmitData), post(central::create_submission).layer(xml_limit)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}/submissions/{instance}", Account(P::ViewData), get(central::submission)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}/submissions/{instance}/attachments", Account(P::ViewData), get(central::submission_attachments)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}/submissions/{instance}/attachments/{name}", Account(P::ViewData), get(central::submission_attachment)),
        r(M::GET, "/v1/projects/{pid}/forms/{form}/{*odata}", Account(P::ViewData), get(central::odata::feed)),
        r(M::GET, "/catalogue", Public, get(catalogue::search)),
        r(M::GET, "/learn", Public, get(learn::index)),
        r(M::GET, "/learn/{slug}", Public, get(learn::guide_page)),
        r(M::GET, "/catalog.ttl", Public, get(catalogue::catalog)),
        r(M::GET, "/catalog.jsonld", Public, get(catalogue::catalog)),
        r(M::GET, "/catalog.rdf", Public, get(catalogue::catalog)),
        r(M::GET, "/feeds/datasets.atom", Public, get(catalogue::atom_feed)),
        r(M::GET, "/dataset/{name}", Public, get(catalogue::dataset_page)),
        r(M::GET, "/dataset/{name}/datapackage", Public, get(catalogue::datapackage)),
        r(M::GET, "/dataset/{name}/resource/{id}/download", Public, get(catalogue::download)),
        r(M::GET, "/dataset/{name}/resource/{id}/{file}", Public, get(catalogue::download_converted)),
        r(M::GET, "/dataset/{name}/table/{resource}", Public, get(table::table_page)),
        r(M::GET, "/dataset/{name}/versions", Public, get(dataset_versions::history)),
        r(M::GET, "/dataset/{name}/versions/{n}", Public, get(dataset_versions::version_page)),
        r(M::GET, "/dataset/{name}/versions/{n}/resource/{id}/download", Public, get(dataset_versions::download)),
        r(M::GET, "/dataset/{name}/edit", Session, get(catalogue::edit_page)),
        r(M::POST, "/dataset/{name}/edit", Session, post(catalogue::save)),
        r(M::POST, "/dataset/{name}/resources", Session, post(catalogue::add_file).layer(resource_limit)),
        r(M::POST, "/dataset/{name}/resources/{id}/delete", Session, post(catalogue::remove_file)),
        r(M::POST, "/dataset/{name}/delete", Session, post(catalogue::delete)),
        r(M::GET, "/orgs/{org}/projects/{project}/catalogue", Project(P::PublishData), get(catalogue::project_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/catalogue", Project(P::PublishData), post(catalogue::create)),
        r(M::POST, "/orgs/{org}/projects/{project}/catalogue/upload", Project(P::PublishData), post(catalogue::create_upload).layer(resource_limit)),
        r(M::POST, "/dataset/{name}/discussions", Session, post(reuses::open_on_dataset)),
        r(M::GET, "/hooks/reports/{token}", Public, get(reports::webhook)),
        r(M::POST, "/hooks/reports/{token}", Public, post(reports::webhook)),
        r(M::GET, "/orgs/{org}/projects/{project}/reports", Project(P::ViewProject), get(reports::list)),
        r(M::POST, "/orgs/{org}/projects/{project}/reports", Project(P::ViewProject), post(reports::create)),
        r(M::GET, "/orgs/{org}/projects/{project}/reports/new", Project(P::ViewProject), get(reports::new_page)),
        r(M::GET, "/orgs/{org}/projects/{project}/reports/map", Project(P::ViewProject), get(reports::map)),
        r(M::GET, "/orgs/{org}/projects/{project}/reports.geojson", Project(P::ViewProject), get(reports::geojson)),
        r(M::GET, "/orgs/{org}/projects/{project}/reports/settings", Project(P::ManageProject), get(reports::settings_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/reports/settings", Project(P::ManageProject), post(reports::save_settings)),
        r(M::POST, "/orgs/{org}/projects/{project}/reports/channels", Project(P::ManageProject), post(reports::add_channel)),
        r(M::POST, "/orgs/{org}/projects/{project}/reports/channels/{id}/state", Project(P::ManageProject), post(reports::channel_state)),
        r(M::GET, "/orgs/{org}/projects/{project}/reports/{id}", Project(P::ViewProject), get(reports::page)),
        r(M::POST, "/orgs/{org}/projects/{project}/reports/{id}/state", Project(P::ModerateReports), post(reports::moderate)),
        r(M::POST, "/orgs/{org}/projects/{project}/reports/{id}/comments", Project(P::ModerateReports), post(reports::comment)),
        r(M::POST, "/orgs/{org}/projects/{project}/reports/{id}/place", Project(P::ModerateReports), post(reports::relocate)),
        r(M::GET, "/reuses", Public, get(reuses::list)),
        r(M::GET, "/reuses/new", Session, get(reuses::new_page)),
        r(M::POST, "/reuses", Session, post(reuses::create)),
        r(M::GET, "/reuses/{id}", Public, get(reuses::page)),
        r(M::POST, "/reuses/{id}/edit", Session, post(reuses::save)),
        r(M::POST, "/reuses/{id}/delete", Session, post(reuses::delete)),
        r(M::POST, "/reuses/{id}/moderate", Session, post(reuses::moderate)),
        r(M::POST, "/reuses/{id}/discussions", Session, post(reuses::open_on_reuse)),
        r(M::GET, "/discussions/{id}", Public, get(reuses::discussion)),
        r(M::POST, "/discussions/{id}/reply", Session, post(reuses::reply)),
        r(M::POST, "/discussions/{id}/close", Session, post(reuses::close)),
        r(M::POST, "/discussions/{id}/messages/{message}/report", Session, post(reuses::report)),
        r(M::POST, "/discussions/{id}/messages/{message}/hide", Session, post(reuses::hide)),
        r(M::GET, "/orgs/{org}/iati", OrgOwner, get(iati::org_page)),
        r(M::POST, "/orgs/{org}/iati", OrgOwner, post(iati::set_org)),
        r(M::GET, "/orgs/{org}/iati-activities.xml", Public, get(iati::org_xml)),
        r(M::GET, "/orgs/{org}/projects/{project}/iati", Project(P::ViewProject), get(iati::activity_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/iati", Project(P::PublishData), post(iati::save)),
        r(M::GET, "/orgs/{org}/projects/{project}/iati.xml", Project(P::ViewProject), get(iati::project_xml)),
        r(M::GET, "/orgs/{org}/projects/{project}/iati/edit", Project(P::PublishData), get(iati::edit_page)),
        r(M::POST, "/orgs/{org}/projects/{project}/iati/budgets", Project(P::PublishData), post(iati::add_budget)),
        r(M::POST, "/orgs/{org}/projects/{project}/iati/budgets/{id}/delete", Project(P::PublishData), post(iati::delete_budget)),
        r(M::POST, "/orgs/{org}/projects/{project}/iati/transactions", Project(P::PublishData), post(iati::add_transaction)),
        r(M::POST, "/orgs/{org}/projects/{project}/iati/transactions/{id}/delete", Project(P::PublishData), post(iati::delete_transaction)),
        r(M::GET, "/orgs/{org}/projects/{project}/catalogue/harvest", Project(P::PublishData), get(harvest::list)),
        r(M::POST, "/orgs/{org}/projects/{project}/catalogue/harvest", Project(P::PublishData), post(harvest::create)),
        r(M::GET, "/orgs/{org}/projects/{project}/catalogue/harvest/{source}", Project(P::PublishData), get(harvest::page)),
        r(M::POST, "/orgs/{org}/projects/{project}/catalogue/harvest/{source}", Project(P::PublishData), post(harvest::update)),
        r(M::POST, "/orgs/{org}/projects/{project}/catalogue/harvest/{source}/run", Project(P::PublishData), post(harvest::run)),
        r(M::POST, "/orgs/{org}/projects/{project}/catalogue/harvest/{source}/delete", Project(P::PublishData), post(harvest::delete)),
        r(M::GET, "/census", Public, get(census::list)),
        r(M::GET, "/census/{census}", Public, get(census::table)),
        r(M::GET, "/census/{census}/submit", Session, get(census::submit_page)),
        r(M::POST, "/census/{census}/submit", Session, post(census::submit)),
        r(M::GET, "/census/{census}/review", Session, get(census::queue)),
        r(M::GET, "/census/{census}/edit", Session, get(census::edit_page)),
        r(M::POST, "/census/{census}/edit", Session, post(census::save)),
        r(M::POST, "/census/{census}/state", Session, post(census::set_state)),
        r(M::POST, "/census/{census}/entries/{id}/review", Session, post(census::review)),
        r(M::GET, "/census/{census}/{place}/{category}", Public, get(census::cell)),
        r(M::GET, "/orgs/{org}/census/new", OrgOwner, get(census::new_page)),
        r(M::POST, "/orgs/{org}/census", OrgOwner, post(census::create)),
        r(M::GET, "/-/health", Public, get(system::health)),
        r(M::GET, "/-/version", Public, get(system::version)),
        r(M::GET, "/-/static/baraza.css", Public, get(system::css)),
        r(M::GET, "/-/static/favicon.svg", Public, get(system::favicon)),
        r(M::GET, "/-/static/fill.js", Public, get(system::fill_js)),
        r(M::GET, "/favicon.ico", Public, get(system::favicon)),
        r(M::GET, "/api/3/action/{action}", Public, get(handlers::ckan::action_get)),
        r(M::POST, "/api/3/action/{action}", Public, post(handlers::ckan::action_post)),
        r(M::GET, "/api/action/{action}", Public, get(handlers::ckan::action_get)),
        r(M::POST, "/api/action/{action}", Public, post(handlers::ckan::action_post)),
        r(M::GET, "/api/v1/me", SignedIn, get(api::me)),
        r(M::GET, "/api/v1/projects", Public, get(api::projects)),
        r(M::GET, "/api/v1/projects/{org}/{project}", Project(P::ViewProject), get(api::project)),
        r(M::GET, "/api/v1/projects/{org}/{project}/members", Project(P::ViewMembers), get(api::members)),
        r(M::POST, "/api/v1/projects/{org}/{project}/members", Project(P::ManageMembers), post(api::set_member)),
        r(M::DELETE, "/api/v1/projects/{org}/{project}/members/{user}", Project(P::ManageMembers), delete(api::remove_member)),
        r(M::GET, "/api/v1/projects/{org}/{project}/forms/{form}/submissions", Project(P::ViewData), get(exports::json)),
    ]
}

/// What gzip is worth spending on: not archives (zip exports, XLSX workbooks), which are
/// compressed already.
fn compress_predicate() -> impl tower_http::compression::Predicate {
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
    DefaultPredicate::new()
        .and(NotForContentType::const_new("application/zip"))
        .and(NotForContentType::const_new(
            "application/vnd.openxmlformats-officedocument",
        ))
}

/// The application: the routes of [`routes`] behind the layers of `middleware.rs`.
pub fn router(state: AppState) -> Router {
    let mut inner = Router::new();
    for route in routes() {
        inner = inner.route(route.path, route.handler);
    }
    let inner = inner
        .fallback(handlers::system::not_found)
        .method_not_allowed_fallback(handlers::system::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .with_state(state.clone());

    Router::new().fallback_service(inner).layer(
        ServiceBuilder::new()
            .layer(axum::middleware::from_fn(middleware::trace))
            .layer(axum::middleware::from_fn(middleware::security_headers))
            .map_response(|res: axum::http::Response<_>| res.map(axum::body::Body::new))
            .layer(
                tower_http::compression::CompressionLayer::new()
                    .gzip(true)
                    .compress_when(compress_predicate()),
            )
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                middleware::edge,
            ))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                state.settings.request_timeout,
            )),
    )
}
