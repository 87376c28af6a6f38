//! The demo organisation that `baraza demo` creates: a water-and-sanitation NGO in N'Djamena,
//! working in French, with a person in every role. Seeding is idempotent: running the demo again
//! reuses what is there. Later features add their part here (forms, submissions, indicators…).

use anyhow::{Context, Result};
use baraza_core::forms::Submitter;
use baraza_core::orgs::ProjectInput;
use baraza_core::{Core, ProjectAccess};
use baraza_store::FormState;
use baraza_types::{Role, Visibility};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;

mod reports;
pub use reports::{REPORTS_PROJECT, REPORT_SMS, REPORT_SMS_SAMPLE};

/// A demo account, printed for the newcomer.
pub struct DemoAccount {
    pub email: &'static str,
    pub password: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub locale: &'static str,
}

pub const ORG_SLUG: &str = "eau-tchad";
pub const PRIVATE_PROJECT: &str = "acces-eau-ndjamena-2026";
pub const PUBLIC_PROJECT: &str = "barometre-eau";
/// The demo's open-data census.
pub const CENSUS: &str = "donnees-ouvertes-tchad-2026";

/// The demo's accounts. Their passwords are public: the demo listens on 127.0.0.1 by default
/// and must never hold real data.
pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        email: "admin@baraza.example",
        password: "demo-admin-2026",
        name: "Administrateur Baraza",
        role: "site administrator",
        locale: "fr",
    },
    DemoAccount {
        email: "amina@eau-tchad.example",
        password: "demo-amina-2026",
        name: "Amina Mahamat",
        role: "owner",
        locale: "fr",
    },
    DemoAccount {
        email: "claire@eau-tchad.example",
        password: "demo-claire-2026",
        name: "Claire Ngarlem",
        role: "manager (data protection)",
        locale: "fr",
    },
    DemoAccount {
        email: "idriss@eau-tchad.example",
        password: "demo-idriss-2026",
        name: "Idriss Abakar",
        role: "analyst",
        locale: "fr",
    },
    DemoAccount {
        email: "fatime@eau-tchad.example",
        password: "demo-fatime-2026",
        name: "Fatimé Haroun",
        role: "collector",
        locale: "fr",
    },
    DemoAccount {
        email: "moussa@eau-tchad.example",
        password: "demo-moussa-2026",
        name: "Moussa Saleh",
        role: "viewer",
        locale: "fr",
    },
];

async fn ensure_user(core: &Core, a: &DemoAccount, admin: bool) -> Result<baraza_store::User> {
    if let Some(u) = core.store().user_by_email(a.email).await? {
        return Ok(u);
    }
    Ok(core
        .create_user(a.email, a.name, a.password, admin, Some(a.locale))
        .await?)
}

/// The demo survey: water points and sanitation in N'Djamena and Ouaddaï, in French and English.
pub const SURVEY: &str = include_str!("../demo/points-eau.md");
/// How many submissions the demo survey receives.
pub const SUBMISSIONS: usize = 300;

/// The demo's second form: users' views on water points, which asks for consent first.
pub const CONSENT_SURVEY: &str = include_str!("../demo/avis-usagers.md");
/// Its form id.
pub const CONSENT_FORM: &str = "avis_usagers";
/// How many submissions it receives, and which of them refused consent.
pub const CONSENT_SUBMISSIONS: usize = 30;
pub const CONSENT_REFUSED: [usize; 2] = [7, 19];

/// Creates the demo organisation, projects, people, survey and submissions if they are not there
/// yet, with a sample of [`REPORT_SMS_SAMPLE`] citizen reports (what the tests start from).
pub async fn seed(core: &Core) -> Result<()> {
    seed_sized(core, None, REPORT_SMS_SAMPLE).await
}

/// The whole demo, as `baraza demo` makes it ([`REPORT_SMS`] citizen reports), remembering the
/// demo app user's Collect address in `data_dir` (its token is shown only once).
pub async fn seed_in(core: &Core, data_dir: Option<&Path>) -> Result<()> {
    seed_sized(core, data_dir, REPORT_SMS).await
}

/// [`seed_in`] with `report_sms` SMS delivered to the citizen reports project.
pub async fn seed_sized(core: &Core, data_dir: Option<&Path>, report_sms: usize) -> Result<()> {
    let admin = ensure_user(core, &ACCOUNTS[0], true).await?;
    let mut people = Vec::new();
    for a in &ACCOUNTS[1..] {
        people.push(ensure_user(core, a, false).await?);
    }
    if core.store().org_by_slug(ORG_SLUG).await?.is_some() {
        return Ok(());
    }
    let admin_p = core.cli_principal(admin.id).await?;
    let amina = &people[0];
    core.create_org(
        &admin_p,
        "Eau et Assainissement pour Tous — Tchad",
        ORG_SLUG,
        "ONG tchadienne qui suit l’accès à l’eau potable et à l’assainissement dans les quartiers de N’Djamena et les villages du Ouaddaï, avec les comités de gestion des points d’eau.",
        Some(amina.id),
    )
    .await?;
    let amina_p = core.cli_principal(amina.id).await?;
    let private = core
        .create_project(
            &amina_p,
            ORG_SLUG,
            &ProjectInput {
                name: "Accès à l’eau potable — N’Djamena 2026".into(),
                slug: PRIVATE_PROJECT.into(),
                description: "Enquête auprès des ménages sur le temps d’accès à un point d’eau fonctionnel (ODD 6.1.1, indicateur approché), par arrondissement et sexe du chef de ménage.".into(),
                visibility: Visibility::Private,
            },
        )
        .await?;
    let public = core
        .create_project(
            &amina_p,
            ORG_SLUG,
            &ProjectInput {
                name: "Baromètre citoyen de l’eau".into(),
                slug: PUBLIC_PROJECT.into(),
                description: "Signalements citoyens de pannes de forages et de bornes-fontaines, publiés chaque mois pour interpeller les autorités communales.".into(),
                visibility: Visibility::Public,
            },
        )
        .await?;
    let roles = [Role::Manager, Role::Analyst, Role::Collector, Role::Viewer];
    for slug in [&private.slug, &public.slug] {
        let access = core.project_access(&amina_p, ORG_SLUG, slug).await?;
        for (person, role) in people[1..].iter().zip(roles) {
            core.set_member(&access, &person.email, role).await?;
        }
    }

    // The survey, published, a phone for Fatimé, and what the field teams sent.
    let access = core
        .project_access(&amina_p, ORG_SLUG, &private.slug)
        .await?;
    let uploaded = core
        .upload_form(&access, &amina_p, "points-eau.md", SURVEY.as_bytes())
        .await
        .map_err(|e| anyhow::anyhow!("demo survey: {e}"))?;
    core.set_form_state(&access, &uploaded.form.xml_form_id, FormState::Published)
        .await?;
    let (phone, token) = core
        .create_app_user(&access, &amina_p, "Fatimé Haroun — téléphone 1")
        .await?;
    if let Some(dir) = data_dir {
        std::fs::write(
            dir.join("demo-collect.txt"),
            format!("/v1/key/{token}/projects/{}\n", private.id.0),
        )
        .context("writing the demo's Collect address")?;
    }
    // What the survey is for, for the record of processing.
    core.set_form_purpose(
        &access,
        &uploaded.form.xml_form_id,
        &baraza_store::FormPurpose {
            purpose: "Suivre l’accès des ménages à l’eau potable à N’Djamena et dans le Ouaddaï, signaler les points d’eau en panne aux autorités et mesurer les inégalités d’accès (ODD 6.1).".into(),
            lawful_basis: "consent".into(),
            data_subjects: "Ménages enquêtés : chef de ménage et enfants de moins de 5 ans".into(),
        },
    )
    .await?;
    // Household answers are kept two years, then destroyed with a certificate.
    core.set_retention(&access, &uploaded.form.xml_form_id, Some(730))
        .await?;
    // Citizens may also report through the survey's public link.
    let link = core
        .set_public_link(&access, &uploaded.form.xml_form_id, true)
        .await?
        .unwrap_or_default();
    if let Some(dir) = data_dir {
        std::fs::write(dir.join("demo-public.txt"), format!("/f/{link}\n"))
            .context("writing the demo's public link")?;
    }
    let mut rng = StdRng::seed_from_u64(2026);
    for i in 0..SUBMISSIONS {
        let xml = submission(i, &mut rng, &uploaded.version.version);
        core.ingest_submission(
            private.id,
            Submitter::AppUser(phone.id),
            xml.as_bytes(),
            &[],
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo submission {i}: {e}"))?;
    }

    // Claire, the data-protection officer, has started reviewing.
    let claire = core.cli_principal(people[1].id).await?;
    let claire_access = core
        .project_access(&claire, ORG_SLUG, &private.slug)
        .await?;
    let first = core
        .store()
        .list_submissions(uploaded.form.id, 0, 12)
        .await?;
    for (i, row) in first.iter().enumerate() {
        let (state, comment) = match i {
            0 => ("has_issues", "Prix du bidon très élevé pour une borne-fontaine : à vérifier auprès de l’enquêtrice."),
            1 => ("rejected", "Doublon d’un autre ménage (même quartier, même heure)."),
            _ => ("approved", ""),
        };
        core.review_submission(
            &claire_access,
            &claire,
            &uploaded.form.xml_form_id,
            &row.instance_id,
            state,
            comment,
        )
        .await?;
    }

    // Claire keeps the project's registers: a phone lost last week, notified in time; the
    // Ministry receives aggregates; the impact assessment is under way.
    registers(core, &claire_access, &uploaded.form.xml_form_id).await?;
    // Before sharing the survey's table with the commune, Claire released it anonymised; a
    // second release, by district, is a draft with its keys chosen.
    let released = releases(core, &claire_access, &uploaded.form.xml_form_id).await?;
    // Users' views on water points, asked for consent first; two people refused.
    let respondent = views_of_users(core, &access, &amina_p, phone.id).await?;
    // One of them asked to see what the NGO holds about them: found by their phone number,
    // answered in time. Another asked for erasure yesterday.
    subject_requests(core, &claire_access, &claire, &respondent).await?;
    // Amina tracks the SDGs from both surveys, beside the official figures for Chad.
    indicators(core, &access).await?;
    pilot(core, &access, &amina_p).await?;
    // What the NGO shares: the released table, an indicator series and the water points'
    // register, in the open-data catalogue.
    catalogue(core, &claire_access, &uploaded.form.xml_form_id, released).await?;
    // What others made with it: Moussa's article, Idriss's map, the committees' application;
    // and the discussions on the water points' register.
    reuses(core, &people).await?;
    // The citizens' barometer is funded by a foundation: Amina gives the organisation's IATI
    // identifier, Claire records the project as an IATI activity and shares it in the catalogue.
    iati(core, &amina_p, &claire).await?;
    // Data activists audit Chad's open data; Amina's organisation reviews their entries.
    census(core, &amina_p, &people).await?;
    // Citizens report by SMS and on the web across Chad; Claire moderates, the map is public.
    let started = std::time::Instant::now();
    reports::seed(core, &amina_p, &people, ORG_SLUG, report_sms)
        .await
        .context("demo citizen reports")?;
    tracing::info!(
        sms = report_sms,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo citizen reports seeded"
    );
    // The administrator verified the whole audit log once everything above was recorded.
    let verified = core
        .verify_audit(1000, None, None)
        .await
        .map_err(|e| anyhow::anyhow!("demo audit verification: {e}"))?;
    core.note_audit_verified(&admin_p, &verified).await?;
    Ok(())
}

/// Chad's provinces (real boundaries, ODbL: see demo/boundaries/TCD-adm1.SOURCE.md).
pub const CHAD_PROVINCES: &str = include_str!("../demo/boundaries/TCD-adm1.geojson");
/// What the demo's maps must show under them.
pub const CHAD_ATTRIBUTION: &str = "Chad provinces: © OpenStreetMap contributors (ODbL 1.0), via geoBoundaries (www.geoboundaries.org), boundary TCD-ADM1-23847190.";
/// The demo project's indicators (TOML).
pub const INDICATORS: &str = include_str!("../demo/indicateurs.toml");
/// Official series for Chad from the UN Global SDG Indicators Database (see
/// crates/baraza-indicators/data/official/SOURCE.md).
pub const OFFICIAL: [(&str, &str); 3] = [
    (
        "TCD-1.4.1.csv",
        include_str!("../../baraza-indicators/data/official/TCD-1.4.1.csv"),
    ),
    (
        "TCD-5.5.1.csv",
        include_str!("../../baraza-indicators/data/official/TCD-5.5.1.csv"),
    ),
    (
        "TCD-16.9.1.csv",
        include_str!("../../baraza-indicators/data/official/TCD-16.9.1.csv"),
    ),
];

/// The places, the official series and the indicators of the demo project.
async fn indicators(core: &Core, access: &ProjectAccess) -> Result<()> {
    core.import_places(
        CHAD_PROVINCES.as_bytes(),
        "iso_3166_2",
        "name",
        1,
        Some("TD"),
        "geoBoundaries gbOpen TCD ADM1 (TCD-ADM1-23847190)",
        CHAD_ATTRIBUTION,
        "ODbL-1.0",
        baraza_charts::geo::DISPLAY_TOLERANCE,
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo places: {e}"))?;
    for (name, csv) in OFFICIAL {
        core.import_official(access, csv.as_bytes(), name, None)
            .await
            .map_err(|e| anyhow::anyhow!("demo official series {name}: {e}"))?;
    }
    core.define_indicators(access, INDICATORS)
        .await
        .map_err(|e| anyhow::anyhow!("demo indicators: {e}"))?;
    Ok(())
}

/// The pilot survey of 2024, closed, whose records were to be kept one year: the retention job
/// destroys them when the demo starts, and its certificate is in the audit log.
async fn pilot(core: &Core, access: &ProjectAccess, owner: &baraza_core::Principal) -> Result<()> {
    const PILOT: &str = "| survey | | | |\n| | type | name | label |\n| | text | nom_chef | Nom du chef de ménage |\n| | select_one q | quartier | Quartier |\n| | integer | minutes | Minutes jusqu’au point d’eau |\n| choices | | | |\n| | list_name | name | label |\n| | q | chagoua | Chagoua |\n| | q | walia | Walia |\n| settings | | | |\n| | form_id | form_title | version |\n| | releve_pilote_2024 | Relevé pilote 2024 (quartiers test) | 2024 |\n";
    let uploaded = core
        .upload_form(access, owner, "releve-pilote-2024.md", PILOT.as_bytes())
        .await
        .map_err(|e| anyhow::anyhow!("demo pilot survey: {e}"))?;
    let form = &uploaded.form.xml_form_id;
    core.set_form_purpose(
        access,
        form,
        &baraza_store::FormPurpose {
            purpose: "Tester le questionnaire dans deux quartiers avant l’enquête de 2026.".into(),
            lawful_basis: "consent".into(),
            data_subjects: "Ménages des quartiers test".into(),
        },
    )
    .await?;
    core.set_retention(access, form, Some(365)).await?;
    core.set_form_state(access, form, FormState::Closed).await?;
    // Its 40 records, from before Baraza: imported as they were, received in 2024.
    let day = 86_400;
    let first = core.now() - 600 * day;
    let rows: Vec<(String, String)> = (0..40)
        .map(|i| {
            let values = serde_json::json!([
                {"path": "/data/nom_chef", "question": "nom_chef", "value": {"type": "text", "value": format!("Ménage pilote {i}")}},
                {"path": "/data/quartier", "question": "quartier", "value": {"type": "choice", "value": if i % 2 == 0 { "chagoua" } else { "walia" }}},
                {"path": "/data/minutes", "question": "minutes", "value": {"type": "int", "value": 10 + i}},
            ]);
            (format!("uuid:pilote-2024-{i:03}"), values.to_string())
        })
        .collect();
    let bulk: Vec<baraza_store::BulkSubmission> = rows
        .iter()
        .enumerate()
        .map(|(i, (id, values))| baraza_store::BulkSubmission {
            form_id: uploaded.form.id,
            form_version_id: uploaded.version.id,
            instance_id: id,
            xml_sha256: "0000000000000000000000000000000000000000000000000000000000000000",
            xml_size: 0,
            values_json: values,
            app_user_id: None,
            user_id: None,
            review_state: "approved",
            received_at: first + i as i64 * day,
        })
        .collect();
    core.store().insert_submissions_bulk(&bulk).await?;
    core.run_retention().await?;
    Ok(())
}

/// The consent demo: the form `avis_usagers`, published with its purpose and retention, and
/// [`CONSENT_SUBMISSIONS`] submissions from Fatimé's phone, ingested as real ones (sealed,
/// indexed, their consent recorded).
async fn views_of_users(
    core: &Core,
    access: &ProjectAccess,
    principal: &baraza_core::Principal,
    phone: i64,
) -> Result<String> {
    let uploaded = core
        .upload_form(
            access,
            principal,
            "avis-usagers.md",
            CONSENT_SURVEY.as_bytes(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo consent survey: {e}"))?;
    let form = uploaded.form.xml_form_id.clone();
    core.set_form_state(access, &form, FormState::Published)
        .await?;
    core.set_form_purpose(
        access,
        &form,
        &baraza_store::FormPurpose {
            purpose: "Recueillir l’avis des usagers sur les points d’eau de N’Djamena pour signaler les pannes aux autorités communales, et pouvoir rappeler les usagers qui le souhaitent.".into(),
            lawful_basis: "consent".into(),
            data_subjects: "Usagers des points d’eau qui acceptent de répondre".into(),
        },
    )
    .await?;
    core.set_retention(access, &form, Some(365)).await?;
    let mut rng = StdRng::seed_from_u64(2027);
    let mut respondent = String::new();
    for i in 0..CONSENT_SUBMISSIONS {
        let xml = view_of_user(i, &mut rng, &uploaded.version.version);
        if respondent.is_empty() {
            respondent = xml
                .split("<telephone>")
                .nth(1)
                .and_then(|t| t.split("</telephone>").next())
                .unwrap_or_default()
                .to_owned();
        }
        core.ingest_submission(
            access.project.id,
            Submitter::AppUser(phone),
            xml.as_bytes(),
            &[],
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo consent submission {i}: {e}"))?;
    }
    Ok(respondent)
}

/// The demo's data-subject requests: an access request answered in time, an erasure request
/// open. `phone`: a respondent's number as they gave it.
async fn subject_requests(
    core: &Core,
    access: &ProjectAccess,
    manager: &baraza_core::Principal,
    phone: &str,
) -> Result<()> {
    use baraza_core::subjects::NewSubjectRequest;
    let day = 86_400;
    let date = |ts: i64| {
        baraza_core::registers::format_time(ts)
            .chars()
            .take(10)
            .collect::<String>()
    };
    // Typed as the person wrote it on their letter (00 rather than +).
    let national = phone.replacen('+', "00", 1);
    let access_request = core
        .open_subject_request(
            access,
            manager,
            &NewSubjectRequest {
                kind: "access".into(),
                reference: "Venue au bureau de Chagoua, pièce d’identité vérifiée".into(),
                received: date(core.now() - 12 * day),
                value: national.clone(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo access request: {e}"))?;
    core.update_subject_request(
        access,
        access_request,
        "answered",
        "Données lues à la personne et remises sur papier (page « Vos données »), le jour même.",
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo access request: {e}"))?;
    core.open_subject_request(
        access,
        manager,
        &NewSubjectRequest {
            kind: "erasure".into(),
            reference: "Appel au numéro vert".into(),
            received: date(core.now() - day),
            value: national,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo erasure request: {e}"))?;
    Ok(())
}

/// One submission of the consent demo, as ODK Collect would send it (the questions after a
/// refused consent are not relevant, so they come empty).
pub fn view_of_user(i: usize, rng: &mut StdRng, version: &str) -> String {
    const FIRST: &[&str] = &[
        "Achta",
        "Hawa",
        "Zenaba",
        "Mahamat",
        "Djibrine",
        "Khadidja",
        "Ousmane",
        "Remadji",
        "Kaltouma",
        "Abdelkerim",
        "Neloumta",
        "Mariam",
    ];
    const LAST: &[&str] = &[
        "Oumar",
        "Ali",
        "Nour",
        "Issa",
        "Brahim",
        "Adoum",
        "Ngaba",
        "Naortangar",
        "Hissein",
        "Djimet",
    ];
    const QUARTIERS: &[&str] = &[
        "Farcha",
        "Milezi",
        "Chagoua",
        "Dembé",
        "Walia",
        "Ngueli",
        "Moursal",
        "Paris-Congo",
    ];
    const COMMENTS: &[&str] = &[
        "La pompe tombe souvent en panne le soir.",
        "L’eau est bonne mais la file d’attente est longue.",
        "Le robinet fuit depuis deux semaines.",
        "Le comité de gestion répond vite aux pannes.",
        "Le prix du bidon a augmenté cette année.",
        "",
    ];
    let start_min = 8 + i % 40;
    let day = 1 + i % 28;
    let start = format!("2026-11-{day:02}T09:{start_min:02}:00.000+01:00");
    let end = format!("2026-11-{day:02}T09:{:02}:00.000+01:00", start_min + 6);
    let consent = !CONSENT_REFUSED.contains(&i);
    let avis = if consent {
        let name = format!(
            "{} {}",
            FIRST[rng.gen_range(0..FIRST.len())],
            LAST[rng.gen_range(0..LAST.len())]
        );
        let phone = format!(
            "+235 63 {:02} {:02} {:02}",
            rng.gen_range(0..100),
            rng.gen_range(0..100),
            rng.gen_range(0..100)
        );
        let quartier = QUARTIERS[rng.gen_range(0..QUARTIERS.len())];
        let satisfaction = [
            "tres_satisfait",
            "satisfait",
            "satisfait",
            "peu_satisfait",
            "pas_satisfait",
        ][rng.gen_range(0..5)];
        let comment = COMMENTS[rng.gen_range(0..COMMENTS.len())];
        format!("<avis><nom_complet>{name}</nom_complet><telephone>{phone}</telephone><quartier>{quartier}</quartier><satisfaction>{satisfaction}</satisfaction><commentaire>{comment}</commentaire></avis>")
    } else {
        "<avis><nom_complet/><telephone/><quartier/><satisfaction/><commentaire/></avis>".to_owned()
    };
    format!(
        "<?xml version='1.0' ?><data id=\"{CONSENT_FORM}\" version=\"{version}\" xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\">\
<start>{start}</start><end>{end}</end><consentement>{}</consentement>{avis}\
<meta><instanceID>{}</instanceID></meta></data>",
        if consent { "oui" } else { "non" },
        demo_uuid(&format!("avis-{i}"))
    )
}

/// A UUID-shaped instanceID made from `key`, the same on every run.
fn demo_uuid(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "uuid:{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h.rotate_left(17) & 0xffff_ffff_ffff
    )
}

/// The demo's incident, data-sharing agreement and impact-assessment answers.
async fn registers(core: &Core, access: &ProjectAccess, form: &str) -> Result<()> {
    use baraza_core::registers::{format_time, AgreementInput, IncidentInput};
    let now = core.now();
    let day = 86_400;
    let discovered = now - 6 * day;
    core.record_incident(
        access,
        &IncidentInput {
            title: "Téléphone de collecte perdu au marché de Dembé".into(),
            description: "Une enquêtrice a perdu un téléphone de collecte au marché de Dembé. Le téléphone était verrouillé par un code ; il contenait 14 questionnaires envoyés mais pas encore effacés de l’appareil.".into(),
            occurred_at: format_time(discovered - 5 * 3600),
            discovered_at: format_time(discovered),
            data_categories: "Positions GPS des ménages, composition du ménage, diarrhée des enfants de moins de 5 ans".into(),
            people_affected: "14".into(),
            records_affected: "14".into(),
            consequences: "Risque faible à modéré : localisation de ménages et information de santé d’enfants si le code du téléphone était contourné.".into(),
            measures: "Accès de l’appareil révoqué dans Baraza le jour même ; plainte déposée ; formation des enquêtrices au verrouillage et à l’effacement après envoi.".into(),
            notify_authority: "yes".into(),
            authority_notified_at: format_time(discovered + 40 * 3600),
            people_informed_at: format_time(discovered + 3 * day),
            status: "notified".into(),
            ..IncidentInput::default()
        },
    )
    .await?;
    let start = now - 90 * day;
    core.record_agreement(
        access,
        &AgreementInput {
            recipient: "Ministère de l’Eau et de l’Énergie — Direction de l’hydraulique".into(),
            purpose: "Planifier les réparations de points d’eau et suivre l’ODD 6.1 par arrondissement, à partir de tableaux agrégés uniquement.".into(),
            forms: vec![form.to_owned()],
            levels: vec!["public".into(), "internal".into()],
            aggregated_only: "yes".into(),
            lawful_basis: "public_task".into(),
            starts_on: format_time(start),
            ends_on: format_time(start + 365 * day),
            outside_country: "no".into(),
            document_ref: "Convention n° 2026-014, classeur Partenariats, bureau de N’Djamena".into(),
            status: "in_force".into(),
            ..AgreementInput::default()
        },
    )
    .await?;
    let answers: std::collections::BTreeMap<String, String> = [
        ("necessity", "Le temps d’accès à l’eau et la santé des enfants sont nécessaires pour cibler les réparations et mesurer l’ODD 6.1 ; aucun nom n’est collecté, la position est arrondie à la publication."),
        ("risks", "Localisation de ménages vulnérables ; stigmatisation liée à la diarrhée des enfants si les données étaient réidentifiées."),
        ("mitigations", "Masquage pour les analystes, conservation deux ans, agrégats seulement pour le Ministère, suppression des petites cellules à la publication."),
        ("dpo_opinion", "Favorable, sous réserve de la formation des enquêtrices (voir l’incident du téléphone perdu)."),
        ("decision", "proceed_with_measures"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    core.answer_dpia(access, &answers).await?;
    Ok(())
}

/// The demo's releases of the survey (docs/sdc.md walks through them): one released — the
/// neighbourhood merged into its province, a local suppression, household sizes in two bands,
/// the district dropped —
/// and one draft by district, its keys chosen, for a manager to continue.
async fn releases(core: &Core, access: &ProjectAccess, form: &str) -> Result<i64> {
    use baraza_core::releases::{NewRelease, StepInput};
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let id = core
        .create_release(
            access,
            form,
            &NewRelease {
                name: "Points d’eau 2026 — table pour la commune".into(),
                keys: keys(&[
                    "localisation-quartier",
                    "menage-sexe_chef",
                    "menage-taille_menage",
                ]),
                weight: String::new(),
            },
        )
        .await?;
    let mut to_province = String::new();
    for province in ["ndjamena", "ouaddai"] {
        let names: Vec<&str> = PLACES
            .iter()
            .filter(|p| p.0 == province)
            .flat_map(|p| p.2.iter().copied())
            .collect();
        let label = if province == "ndjamena" {
            "N’Djamena"
        } else {
            "Ouaddaï"
        };
        to_province.push_str(&format!("{} = {label}\n", names.join(", ")));
    }
    for step in [
        StepInput {
            method: "merge".into(),
            variable: "localisation-quartier".into(),
            map: to_province,
            ..StepInput::default()
        },
        StepInput {
            method: "suppress".into(),
            k: "3".into(),
            importance: "menage-sexe_chef, localisation-quartier".into(),
            ..StepInput::default()
        },
        StepInput {
            method: "intervals".into(),
            variable: "menage-taille_menage".into(),
            breaks: "7".into(),
            ..StepInput::default()
        },
    ] {
        core.add_release_step(access, form, id, &step)
            .await
            .map_err(|e| anyhow::anyhow!("demo release step: {e}"))?;
    }
    // The district would give back what the merge hid: it does not leave.
    let (variables, _) = core.release_variables(access, form).await?;
    let mut drop: Vec<String> = variables
        .into_iter()
        .filter(|v| v.withheld)
        .map(|v| v.name)
        .collect();
    drop.push("localisation-commune".into());
    core.set_release_columns(access, form, id, &drop)
        .await
        .map_err(|e| anyhow::anyhow!("demo release columns: {e}"))?;
    core.release_now(access, form, id)
        .await
        .map_err(|e| anyhow::anyhow!("demo release: {e}"))?;
    let released = id;
    core.create_release(
        access,
        form,
        &NewRelease {
            name: "Par arrondissement (brouillon)".into(),
            keys: keys(&[
                "localisation-commune",
                "menage-sexe_chef",
                "menage-taille_menage",
            ]),
            weight: String::new(),
        },
    )
    .await?;
    Ok(released)
}

/// The water points' register the NGO keeps by hand, HXL-tagged (a real use of the
/// catalogue's uploads; the points are illustrative).
const WATER_POINTS_CSV: &str = include_str!("../demo/catalogue/points-eau-registre.csv");
/// The survey's methodology note, as a one-page PDF.
const METHODOLOGY_PDF: &[u8] = include_bytes!("../demo/catalogue/methodologie.pdf");

/// The demo's open-data catalogue (docs/catalogue.md): the released survey table and an
/// indicator series, published under Licence Ouverte 2.0; the water points' register (CSV with
/// HXL tags) with its methodology note (PDF); and a draft that only members see.
async fn catalogue(core: &Core, access: &ProjectAccess, form: &str, release: i64) -> Result<()> {
    use baraza_core::catalogue::{DatasetInput, Origin, Upload};
    let input = |name: &str, title: &str, notes: &str, tags: &str, groups: &str, state: &str| {
        DatasetInput {
            name: name.into(),
            title: title.into(),
            notes: notes.into(),
            license_id: "lov2".into(),
            state: state.into(),
            frequency: "monthly".into(),
            temporal_start: "2026-10-01".into(),
            temporal_end: "2026-11-30".into(),
            spatial: "TD-ND, TD-OD".into(),
            spatial_label: "N’Djamena et Ouaddaï (Tchad)".into(),
            methodology: "Ménages tirés au hasard dans chaque quartier (marche aléatoire depuis le point d’eau), entretien sur ODK Collect ; table anonymisée avant diffusion (k = 3, risque global sous 3 %).".into(),
            version: "1.0".into(),
            maintainer: "Claire Ngarmbaye".into(),
            maintainer_email: "donnees@eau-tchad.example.org".into(),
            tags: tags.into(),
            groups: groups.into(),
            ..DatasetInput::default()
        }
    };
    let fail = |what: &'static str| {
        move |e: baraza_core::CoreError| anyhow::anyhow!("demo catalogue {what}: {e}")
    };
    core.create_dataset(
        access,
        input(
            "points-eau-menages-2026",
            "Accès à l’eau des ménages — N’Djamena et Ouaddaï, 2026",
            "Réponses anonymisées de l’enquête auprès des ménages sur l’accès à un point d’eau fonctionnel : type de point, temps de trajet, fonctionnement, taille du ménage et sexe du chef de ménage, par province. Les quartiers sont regroupés en provinces et les tailles de ménage en tranches pour qu’aucun ménage ne soit reconnaissable.",
            "eau, accès à l'eau, ménages, enquête",
            "6",
            "published",
        ),
        Origin::Release { form: form.into(), release_id: release },
    )
    .await
    .map_err(fail("release"))?;
    core.create_dataset(
        access,
        input(
            "eau-de-base-serie",
            "Ménages ayant accès à un service d’eau de base — série mensuelle",
            "Part des ménages dont le point d’eau fonctionne, est une source améliorée et se trouve à 30 minutes aller-retour au plus, par province et par mois, avec l’intervalle de confiance ; indicateur approché de l’ODD 6.1.1. Les cellules de moins de trois ménages sont masquées.",
            "eau, ODD 6, indicateur",
            "",
            "published",
        ),
        Origin::Indicator { slug: "eau-de-base".into() },
    )
    .await
    .map_err(fail("indicator"))?;
    let register = input(
        "registre-points-eau",
        "Registre des points d’eau suivis",
        "Les points d’eau que suivent les comités de gestion avec l’ONG : type, état de fonctionnement à la dernière visite, province et coordonnées. Tenu à la main par l’équipe et mis à jour après chaque tournée ; les étiquettes HXL permettent de le combiner avec les données humanitaires.",
        "eau, points d'eau, HXL",
        "6",
        "published",
    );
    let name = core
        .create_dataset(
            access,
            register.clone(),
            Origin::Upload(Upload {
                file_name: "points-eau-registre.csv".into(),
                bytes: WATER_POINTS_CSV.as_bytes().to_vec(),
                name: "Registre (CSV, HXL)".into(),
                description: "Une ligne par point d’eau ; la deuxième ligne porte les étiquettes HXL.".into(),
            }),
        )
        .await
        .map_err(fail("register"))?;
    let principal = core
        .cli_principal(access.user.context("demo catalogue: no user")?)
        .await?;
    core.add_dataset_file(
        &principal,
        &name,
        Upload {
            file_name: "methodologie.pdf".into(),
            bytes: METHODOLOGY_PDF.to_vec(),
            name: "Note de méthodologie".into(),
            description: "Comment les points sont visités et leur état noté.".into(),
        },
    )
    .await
    .map_err(fail("methodology"))?;
    // A later edit, so that the register's history has more than its creation and its files.
    core.update_dataset(
        &principal,
        &name,
        DatasetInput {
            version: "1.1".into(),
            ..register
        },
    )
    .await
    .map_err(fail("register edit"))?;
    core.create_dataset(
        access,
        DatasetInput {
            license_id: "notspecified".into(),
            frequency: String::new(),
            ..input(
                "avis-usagers-brouillon",
                "Avis des usagers sur les points d’eau (brouillon)",
                "À publier après la relecture du comité.",
                "eau, avis",
                "6, 16",
                "draft",
            )
        },
        Origin::Upload(Upload {
            file_name: "avis.csv".into(),
            bytes: "province,satisfaits,total\nTD-ND,41,63\nTD-OD,22,40\n"
                .as_bytes()
                .to_vec(),
            name: "Synthèse".into(),
            description: String::new(),
        }),
    )
    .await
    .map_err(fail("draft"))?;
    Ok(())
}

/// Reuses of the demo's datasets, and two discussions on the water points' register (one
/// closed by Claire with a closing message).
async fn reuses(core: &Core, people: &[baraza_store::User]) -> Result<()> {
    use baraza_core::discussions::SubjectRef;
    use baraza_core::reuses::ReuseInput;
    let fail = |what: &'static str| {
        move |e: baraza_core::CoreError| anyhow::anyhow!("demo reuses {what}: {e}")
    };
    let who = |email: &str| {
        people
            .iter()
            .find(|p| p.email == email)
            .map(|p| p.id)
            .with_context(|| format!("demo reuses: no account {email}"))
    };
    let moussa = core.cli_principal(who("moussa@eau-tchad.example")?).await?;
    let idriss = core.cli_principal(who("idriss@eau-tchad.example")?).await?;
    let fatime = core.cli_principal(who("fatime@eau-tchad.example")?).await?;
    let claire = core.cli_principal(who("claire@eau-tchad.example")?).await?;
    let reuse =
        |title: &str, kind: &str, url: &str, description: &str, topic: &str, datasets: &[&str]| {
            ReuseInput {
                title: title.into(),
                kind: kind.into(),
                url: url.into(),
                description: description.into(),
                topic: topic.into(),
                datasets: datasets.iter().map(|d| d.to_string()).collect(),
            }
        };
    core.create_reuse(
        &moussa,
        &reuse(
            "À Abéché, un point d’eau sur trois attend sa réparation",
            "news_article",
            "https://journal-abeche.example/2026/11/points-eau-en-panne",
            "Enquête sur les pompes en panne du Ouaddaï : les chiffres du registre des points d’eau et la série mensuelle d’accès à l’eau de base, comparés à la dernière enquête nationale.\n\nLe graphique de l’article reprend la série de l’ONG.",
            "Eau",
            &["registre-points-eau", "eau-de-base-serie"],
        ),
    )
    .await
    .map_err(fail("article"))?;
    core.create_reuse(
        &idriss,
        &reuse(
            "Carte des points d’eau fonctionnels",
            "visualization",
            "https://carto.eau-tchad.example/points-eau",
            "Carte interactive des points d’eau suivis, colorés selon leur état à la dernière visite.",
            "Cartographie",
            &["registre-points-eau"],
        ),
    )
    .await
    .map_err(fail("map"))?;
    core.create_reuse(
        &fatime,
        &reuse(
            "« Où trouver de l’eau ? », l’application des comités",
            "application",
            "https://ou-trouver-de-leau.example/",
            "Application Android légère (fonctionne hors ligne) qui indique aux usagers le point d’eau en état le plus proche.",
            "",
            &["registre-points-eau", "points-eau-menages-2026"],
        ),
    )
    .await
    .map_err(fail("application"))?;
    let register = SubjectRef::Dataset("registre-points-eau".into());
    let closed = core
        .open_discussion(
            &moussa,
            &register,
            "Point d’eau de Gaoui : toujours en panne ?",
            "Bonjour,\nle registre indique le forage de Gaoui en panne depuis septembre, mais des habitants me disent qu’il a été réparé. Pouvez-vous vérifier ?",
        )
        .await
        .map_err(fail("discussion"))?;
    core.reply_discussion(
        &claire,
        closed,
        "Merci, l’équipe passe à Gaoui jeudi et nous mettrons le registre à jour après la visite.",
    )
    .await
    .map_err(fail("reply"))?;
    core.reply_discussion(
        &moussa,
        closed,
        "Merci, j’attends la mise à jour avant de publier.",
    )
    .await
    .map_err(fail("reply"))?;
    core.close_discussion(
        &claire,
        closed,
        "Le forage fonctionne depuis le 12 novembre : le registre est corrigé (version du 15 novembre).",
    )
    .await
    .map_err(fail("close"))?;
    let open = core
        .open_discussion(
            &fatime,
            &register,
            "Coordonnées manquantes pour deux points d’eau à Abéché",
            "Les points AB-014 et AB-022 n’ont pas de coordonnées GPS ; je peux les relever lors de ma prochaine tournée.",
        )
        .await
        .map_err(fail("discussion"))?;
    core.reply_discussion(
        &claire,
        open,
        "Oui, merci ! Relevez-les avec le formulaire habituel, nous les ajouterons au registre.",
    )
    .await
    .map_err(fail("reply"))?;
    Ok(())
}

/// The demo organisation's IATI organisation identifier (an illustrative number under the
/// Chadian registration agency's prefix).
pub const IATI_ORG: &str = "TD-MEPD-2019-0147";
/// The demo's IATI activity code (the public project's), and the dataset made from it.
pub const IATI_CODE: &str = "BAROMETRE-EAU";
pub const IATI_DATASET: &str = "activite-iati-barometre-eau";

/// The citizens' water barometer as an IATI activity: a foundation's grant in XAF, two yearly
/// budgets and six transactions, in French and English; published in the catalogue.
async fn iati(
    core: &Core,
    owner: &baraza_core::Principal,
    manager: &baraza_core::Principal,
) -> Result<()> {
    use baraza_core::catalogue::{DatasetInput, Origin};
    use baraza_publish::iati::{ActivityFields, Budget, Participant, SectorShare, Transaction};
    let fail = |what: &'static str| {
        move |e: baraza_core::CoreError| anyhow::anyhow!("demo IATI {what}: {e}")
    };
    let org = core
        .store()
        .org_by_slug(ORG_SLUG)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo organisation missing"))?;
    core.set_iati_org(owner, &org, IATI_ORG, "22")
        .await
        .map_err(fail("organisation"))?;
    let access = core
        .project_access(manager, ORG_SLUG, PUBLIC_PROJECT)
        .await?;
    let participant = |role: &str, name: &str, reference: &str, org_type: &str| Participant {
        role: role.into(),
        name: name.into(),
        reference: reference.into(),
        org_type: org_type.into(),
    };
    core.save_iati_activity(
        &access,
        IATI_CODE,
        ActivityFields {
            lang: "fr".into(),
            title_fr: "Baromètre citoyen de l’eau — N’Djamena".into(),
            title_en: "Citizens’ water barometer — N’Djamena".into(),
            description_fr: "Les habitants signalent les pannes de forages et de bornes-fontaines ; l’ONG vérifie chaque signalement avec le comité de gestion du point d’eau, publie chaque mois l’état des points d’eau et le transmet aux autorités communales pour que les réparations soient faites et suivies.".into(),
            description_en: "Residents report broken boreholes and standpipes; the NGO checks each report with the water point's management committee, publishes the state of the water points every month and sends it to the municipal authorities so that repairs are made and followed up.".into(),
            status: "2".into(),
            planned_start: "2026-01-01".into(),
            actual_start: "2026-02-01".into(),
            planned_end: "2027-12-31".into(),
            actual_end: String::new(),
            country: "TD".into(),
            region: String::new(),
            country_percentage: String::new(),
            sectors: vec![
                SectorShare { code: "14031".into(), percentage: "70".into() },
                SectorShare { code: "15150".into(), percentage: "30".into() },
            ],
            currency: "XAF".into(),
            humanitarian: false,
            participants: vec![
                participant("1", "Fondation Sahel Solidaire", "", "60"),
                participant("2", "Eau et Assainissement pour Tous — Tchad", IATI_ORG, "22"),
                participant("4", "Eau et Assainissement pour Tous — Tchad", IATI_ORG, "22"),
                participant("4", "Comités de gestion des points d’eau de N’Djamena", "", "24"),
            ],
        },
    )
    .await
    .map_err(fail("activity"))?;
    for (ty, status, start, end, value) in [
        ("1", "2", "2026-01-01", "2026-12-31", "24500000"),
        ("1", "1", "2027-01-01", "2027-12-31", "19800000"),
    ] {
        core.add_iati_budget(
            &access,
            Budget {
                budget_type: ty.into(),
                status: status.into(),
                period_start: start.into(),
                period_end: end.into(),
                value: value.into(),
                ..Budget::default()
            },
        )
        .await
        .map_err(fail("budget"))?;
    }
    let funder = "Fondation Sahel Solidaire";
    let ngo = "Eau et Assainissement pour Tous — Tchad";
    for (ty, date, value, description, provider, provider_ref, receiver) in [
        (
            "11",
            "2026-01-20",
            "44300000",
            "Convention de subvention 2026-2027 signée",
            funder,
            "",
            ngo,
        ),
        (
            "1",
            "2026-02-05",
            "15000000",
            "Première tranche de la subvention",
            funder,
            "",
            ngo,
        ),
        (
            "2",
            "2026-02-20",
            "6200000",
            "Contrat de réparation des forages (lot 1)",
            ngo,
            IATI_ORG,
            "Forages du Chari SARL",
        ),
        (
            "3",
            "2026-04-10",
            "3100000",
            "Acompte au réparateur (lot 1)",
            ngo,
            IATI_ORG,
            "Forages du Chari SARL",
        ),
        (
            "4",
            "2026-06-30",
            "2450500",
            "Enquêteurs, téléphones et forfaits du premier semestre",
            ngo,
            IATI_ORG,
            "",
        ),
        (
            "1",
            "2026-08-12",
            "9500000",
            "Deuxième tranche de la subvention",
            funder,
            "",
            ngo,
        ),
    ] {
        core.add_iati_transaction(
            &access,
            Transaction {
                transaction_type: ty.into(),
                date: date.into(),
                value: value.into(),
                description: description.into(),
                provider_name: provider.into(),
                provider_ref: provider_ref.into(),
                receiver_name: receiver.into(),
                receiver_ref: if receiver == ngo {
                    IATI_ORG.into()
                } else {
                    String::new()
                },
                ..Transaction::default()
            },
        )
        .await
        .map_err(fail("transaction"))?;
    }
    core.create_dataset(
        &access,
        DatasetInput {
            name: IATI_DATASET.into(),
            title: "Baromètre citoyen de l’eau — activité IATI (budgets et transactions)".into(),
            notes: "L’activité du Baromètre citoyen de l’eau au format IATI 2.03 : description en français et en anglais, financeur, secteurs du CAD, budgets annuels et transactions en francs CFA (XAF). Le fichier est produit à chaque téléchargement à partir de ce que l’ONG enregistre dans Baraza.".into(),
            license_id: "lov2".into(),
            state: "published".into(),
            frequency: "monthly".into(),
            temporal_start: "2026-01-01".into(),
            temporal_end: "2027-12-31".into(),
            spatial: "TD-ND".into(),
            spatial_label: "N’Djamena (Tchad)".into(),
            methodology: "Budgets et transactions saisis par la responsable des données à partir de la convention de subvention et de la comptabilité de l’ONG ; montants en XAF, date de valeur à la date de l’opération.".into(),
            version: "1.0".into(),
            maintainer: "Claire Ngarmbaye".into(),
            maintainer_email: "donnees@eau-tchad.example.org".into(),
            tags: "eau, IATI, transparence de l'aide, budget".into(),
            groups: "6, 16".into(),
            ..DatasetInput::default()
        },
        Origin::IatiActivity,
    )
    .await
    .map_err(fail("dataset"))?;
    Ok(())
}

/// The demo survey's public link (path part), if the demo kept it.
pub fn public_path(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(data_dir.join("demo-public.txt"))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The demo app user's Collect address (path part), if the demo kept it.
pub fn collect_path(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(data_dir.join("demo-collect.txt"))
        .ok()
        .map(|s| s.trim().to_owned())
}

const PLACES: &[(&str, &str, &[&str], f64, f64)] = &[
    (
        "ndjamena",
        "arr1",
        &["Farcha", "Milezi", "Madjorio"],
        12.142,
        15.005,
    ),
    (
        "ndjamena",
        "arr7",
        &["Chagoua", "Dembé", "Amtoukoui"],
        12.093,
        15.078,
    ),
    (
        "ndjamena",
        "arr9",
        &["Walia", "Ngueli", "Toukra"],
        12.051,
        15.043,
    ),
    (
        "ouaddai",
        "abeche",
        &["Abéché Centre", "Amsiguett", "Bitchotchi"],
        13.829,
        20.832,
    ),
    (
        "ouaddai",
        "adre",
        &["Adré", "Hilé Houdjaj", "Goungour"],
        13.466,
        22.201,
    ),
];

/// One realistic submission of the demo survey, as ODK Collect would send it.
pub fn submission(i: usize, rng: &mut StdRng, version: &str) -> String {
    let (province, commune, quartiers, lat, lon) = PLACES[rng.gen_range(0..PLACES.len())];
    let quartier = quartiers[rng.gen_range(0..quartiers.len())];
    let gps = format!(
        "{:.6} {:.6} {:.1} {:.1}",
        lat + rng.gen_range(-0.02..0.02),
        lon + rng.gen_range(-0.02..0.02),
        rng.gen_range(290.0..320.0),
        rng.gen_range(3.0..12.0)
    );
    let type_point = ["forage", "forage", "puits", "borne", "vendeur"][rng.gen_range(0..5)];
    let works = rng.gen_bool(if province == "ouaddai" { 0.55 } else { 0.7 });
    let pannes: Vec<&str> = if works {
        Vec::new()
    } else {
        let all = ["pompe", "tuyau", "robinet", "qualite", "tarie"];
        let mut p: Vec<&str> = all.iter().copied().filter(|_| rng.gen_bool(0.3)).collect();
        if p.is_empty() {
            p.push(all[rng.gen_range(0..all.len())]);
        }
        p
    };
    let minutes: u32 = if province == "ouaddai" {
        rng.gen_range(10..120)
    } else {
        rng.gen_range(2..60)
    };
    let price: u32 = [0, 25, 50, 50, 100, 150][rng.gen_range(0..6)];
    let sexe = if rng.gen_bool(0.34) { "femme" } else { "homme" };
    let size: u32 = rng.gen_range(2..13);
    let children: u32 = rng.gen_range(0..=3.min(size - 1));
    let day = 1 + (i % 30);
    let month = if i.is_multiple_of(2) { 10 } else { 11 };
    let hour = 7 + (i % 10);
    let start = format!(
        "2026-{month:02}-{day:02}T{hour:02}:{:02}:00.000+01:00",
        i % 60
    );
    let end = format!(
        "2026-{month:02}-{day:02}T{hour:02}:{:02}:00.000+01:00",
        (i % 45) + 12
    );
    let id = demo_uuid(&format!("demo-{i}"));
    let mut enfants = String::new();
    for _ in 0..children {
        enfants.push_str(&format!(
            "<enfant><age_mois>{}</age_mois><diarrhee>{}</diarrhee></enfant>",
            rng.gen_range(0..60),
            if rng.gen_bool(0.2) { "oui" } else { "non" }
        ));
    }
    let jours = if works {
        String::new()
    } else {
        rng.gen_range(1..200).to_string()
    };
    format!(
        "<?xml version='1.0' ?><data id=\"points_eau\" version=\"{version}\" xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\">\
<start>{start}</start><end>{end}</end><today>2026-{month:02}-{day:02}</today><deviceid>collect:demo{:04}</deviceid>\
<localisation><province>{province}</province><commune>{commune}</commune><quartier>{quartier}</quartier><gps>{gps}</gps></localisation>\
<point><type_point>{type_point}</type_point><fonctionnel>{}</fonctionnel><pannes>{}</pannes><jours_panne>{jours}</jours_panne><temps_trajet>{minutes}</temps_trajet><prix>{price}</prix></point>\
<menage><sexe_chef>{sexe}</sexe_chef><taille_menage>{size}</taille_menage><nb_enfants>{children}</nb_enfants>{enfants}</menage>\
<acces_30min>{}</acces_30min><fin/>\
<meta><instanceID>{id}</instanceID><instanceName>{quartier} — {type_point}</instanceName></meta></data>",
        i % 7,
        if works { "oui" } else { "non" },
        pannes.join(" "),
        u32::from(minutes <= 30),
    )
}

/// The text printed when the demo starts.
pub fn banner(url: &str, collect: Option<&str>, public: Option<&str>) -> String {
    let mut s = format!(
        "\nBaraza demo is running at {url}\n\nDemo accounts (demo data only — never use these on a real server):\n"
    );
    for a in ACCOUNTS {
        s.push_str(&format!(
            "  {:<28} {:<18} {}\n",
            a.email, a.password, a.role
        ));
    }
    s.push_str(&format!("\nOrganisation: {url}/orgs/{ORG_SLUG}\n"));
    if let Some(path) = collect {
        s.push_str(&format!(
            "ODK Collect (app user of Fatimé's phone): {url}{path}\n  or scan a QR code from {url}/orgs/{ORG_SLUG}/projects/{PRIVATE_PROJECT}/app-users\n"
        ));
    }
    if let Some(path) = public {
        s.push_str(&format!(
            "Public link of the survey (citizen reports, no account): {url}{path}\n"
        ));
    }
    s.push_str("Press Ctrl-C to stop.\n");
    s
}

/// The open-data census: Chad's provinces × six dataset categories, a few entries published,
/// one awaiting review, one rejected.
async fn census(
    core: &Core,
    amina: &baraza_core::Principal,
    people: &[baraza_store::User],
) -> Result<()> {
    use baraza_core::census::{CensusInput, EntryInput};
    use baraza_store::{CensusCategory, CensusPlace};
    let fail = |what: &'static str| {
        move |e: baraza_core::CoreError| anyhow::anyhow!("demo census {what}: {e}")
    };
    let place = |code: &str, name: &str| CensusPlace {
        code: code.into(),
        name: name.into(),
    };
    let category = |code: &str, en: &str, fr: &str| CensusCategory {
        code: code.into(),
        title_en: en.into(),
        title_fr: fr.into(),
        description: String::new(),
    };
    core.create_census(
        amina,
        ORG_SLUG,
        &CensusInput {
            title: "Indice des données ouvertes — Tchad 2026".into(),
            slug: CENSUS.into(),
            description: "Des datactivistes de N’Djamena et d’Abéché vérifient, catégorie par catégorie, si les données publiques du Tchad sont disponibles, gratuites, lisibles par une machine et sous licence ouverte.".into(),
            scope: "Tchad et quatre provinces".into(),
            places: vec![
                place("TD", "Tchad (national)"),
                place("TD-ND", "N’Djamena"),
                place("TD-OD", "Ouaddaï"),
                place("TD-LO", "Logone Occidental"),
                place("TD-ME", "Mayo-Kebbi Est"),
            ],
            categories: vec![
                category("budget", "National budget", "Budget national"),
                category("elections", "Election results", "Résultats électoraux"),
                category("statistics", "National statistics", "Statistiques nationales"),
                category("companies", "Company register", "Registre des entreprises"),
                category("water", "Water quality", "Qualité de l’eau"),
                category("health-spending", "Health spending", "Dépenses de santé"),
            ],
            questions: None,
        },
    )
    .await
    .map_err(fail("create"))?;
    // (who, place, category, answers in the question order, sources, comments, decision)
    #[allow(clippy::type_complexity)]
    let entries: [(usize, &str, &str, &str, &str, &str, Option<bool>); 7] = [
        (
            2,
            "TD",
            "budget",
            "yyyynnnnn",
            "https://www.finances.gouv.td/",
            "La loi de finances est en ligne en PDF seulement.",
            Some(true),
        ),
        (
            2,
            "TD",
            "statistics",
            "yyyyyyynn",
            "https://www.inseed.td/",
            "Annuaire statistique en Excel, sans licence affichée.",
            Some(true),
        ),
        (
            3,
            "TD",
            "elections",
            "yyyyynnnn",
            "https://www.ceni.td/",
            "Résultats par circonscription en PDF scanné.",
            Some(true),
        ),
        (
            3,
            "TD-ND",
            "water",
            "yyynnnnnu",
            "",
            "Les analyses de la STE ne sont pas publiées ; rapports papier à la mairie.",
            Some(true),
        ),
        (
            2,
            "TD-OD",
            "health-spending",
            "yynnnnnnn",
            "",
            "Les dépenses de la délégation sanitaire existent mais ne sont pas publiques.",
            Some(true),
        ),
        (
            3,
            "TD",
            "companies",
            "yyyyyuynu",
            "https://www.anie.td/",
            "Le guichet unique publie une recherche en ligne ; export en bloc à confirmer.",
            None,
        ),
        (
            2,
            "TD",
            "water",
            "yyyyyyyyy",
            "http://example.org/",
            "Tout est ouvert (sans source vérifiable).",
            Some(false),
        ),
    ];
    let questions = baraza_catalogue::census::godi_questions();
    let mut pending = Vec::new();
    for (who, p, k, answers, sources, comments, decision) in entries {
        let who = core.cli_principal(people[who].id).await?;
        let answers = questions
            .iter()
            .zip(answers.chars())
            .map(|(q, a)| {
                let a = match a {
                    'y' => "yes",
                    'n' => "no",
                    _ => "unsure",
                };
                (q.key.clone(), a.to_owned())
            })
            .collect();
        let id = core
            .submit_census_entry(
                &who,
                CENSUS,
                &EntryInput {
                    place: p.into(),
                    category: k.into(),
                    answers,
                    sources: sources.into(),
                    comments: comments.into(),
                },
            )
            .await
            .map_err(fail("submit"))?;
        pending.push((id, decision));
    }
    for (id, decision) in pending {
        let Some(publish) = decision else { continue };
        let note = if publish {
            "Vérifié sur le site indiqué."
        } else {
            "Aucune source ne montre ces données : merci d’indiquer où vous les avez trouvées."
        };
        core.review_census_entry(amina, CENSUS, id, publish, note)
            .await
            .map_err(fail("review"))?;
    }
    Ok(())
}
