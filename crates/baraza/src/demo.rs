//! The demo organisation that `baraza demo` creates: a water-and-sanitation NGO in N'Djamena,
//! working in French, with a person in every role. Seeding is idempotent: running the demo again
//! reuses what is there. Later features add their part here (forms, submissions, indicators…).

use anyhow::Result;
use baraza_core::orgs::ProjectInput;
use baraza_core::Core;
use baraza_types::{Role, Visibility};

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

/// Creates the demo organisation, projects and people if they are not there yet.
pub async fn seed(core: &Core) -> Result<()> {
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
    Ok(())
}

/// The text printed when the demo starts.
pub fn banner(url: &str) -> String {
    let mut s = format!(
        "\nBaraza demo is running at {url}\n\nDemo accounts (demo data only — never use these on a real server):\n"
    );
    for a in ACCOUNTS {
        s.push_str(&format!(
            "  {:<28} {:<18} {}\n",
            a.email, a.password, a.role
        ));
    }
    s.push_str(&format!(
        "\nOrganisation: {url}/orgs/{ORG_SLUG}\nPress Ctrl-C to stop.\n"
    ));
    s
}
