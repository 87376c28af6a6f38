//! The demo's citizen reports: a public project that takes SMS through two gateways (Africa's
//! Talking for the national short code, Twilio for a long number added lately) and a web form,
//! with three thousand reports from Chad's 23 provinces over the last 60 days, moderated.
//!
//! Every SMS arrives the way a real one does: built as its gateway's webhook request (Africa's
//! Talking's form with the callback's `?secret=`, Twilio's form signed with
//! `X-Twilio-Signature`) and handed to [`Core::receive_report_webhook`], the entry point the
//! webhook handler calls, so the demo goes through the checks, the deduplication, the
//! gazetteer and the sealing of numbers. Only HTTP is skipped.

use anyhow::{anyhow, Result};
use baraza_core::orgs::ProjectInput;
use baraza_core::reports::{SettingsInput, WebReportInput};
use baraza_core::{Core, Principal, ProjectAccess};
use baraza_reports::gateway::{self, WebhookRequest};
use baraza_types::{Role, Visibility};
use futures::{StreamExt, TryStreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

/// The reports project's slug.
pub const REPORTS_PROJECT: &str = "signalements-citoyens";
/// How many SMS the demo's gateways deliver (`baraza demo`). One in forty came through
/// Twilio today (Twilio sends no date: they are stamped on arrival), among them a burst from
/// Abéché that raises an alert; the others came through Africa's Talking over the last 60 days.
pub const REPORT_SMS: usize = 3000;
/// How many the tests' demo gets: every state of the queue, in less time.
pub const REPORT_SMS_SAMPLE: usize = 40;
/// The reports' checklist.
pub const CHECKLIST: [&str; 3] = [
    "Lieu confirmé par un relais communautaire",
    "Signalement recoupé (photo, appel ou second signalement)",
    "Aucune donnée personnelle dans le texte",
];
/// The callback secret configured at Africa's Talking, and Twilio's auth token.
pub const AT_SECRET: &str = "demo-africastalking-callback-2026";
pub const TWILIO_TOKEN: &str = "demo-twilio-auth-token-2026";
/// The public URL the gateways call (behind the demo's proxy, as configured at them).
const PUBLIC_BASE: &str = "https://baraza.example";

/// A province: its code in the places, how people write it, its towns, and its weight in the
/// reports (roughly its population).
struct Province {
    code: &'static str,
    names: &'static [&'static str],
    towns: &'static [&'static str],
    weight: u32,
}

/// The first name is the gazetteer's own; the others are how SMS spell it (accents lost,
/// hyphens as spaces, `ou`/`w`, `dj`/`j`, a typo).
const PROVINCES: &[Province] = &[
    Province {
        code: "TD-BA",
        names: &["Batha", "Batah"],
        towns: &["Ati", "Oum Hadjer"],
        weight: 5,
    },
    Province {
        code: "TD-BG",
        names: &["Bahr el Gazel", "Bahr el Ghazal"],
        towns: &["Moussoro"],
        weight: 3,
    },
    Province {
        code: "TD-BO",
        names: &["Borkou", "Borku"],
        towns: &["Faya-Largeau"],
        weight: 1,
    },
    Province {
        code: "TD-CB",
        names: &["Chari-Baguirmi", "Chari Baguirmi"],
        towns: &["Massenya", "Bousso"],
        weight: 6,
    },
    Province {
        code: "TD-EE",
        names: &["Ennedi-Est", "Ennedi Est"],
        towns: &["Amdjarass", "Bahaï"],
        weight: 1,
    },
    Province {
        code: "TD-EO",
        names: &["Ennedi-Ouest", "Ennedi Ouest"],
        towns: &["Fada"],
        weight: 1,
    },
    Province {
        code: "TD-GR",
        names: &["Guéra", "Guera"],
        towns: &["Mongo", "Bitkine"],
        weight: 5,
    },
    Province {
        code: "TD-HL",
        names: &["Hadjer-Lamis", "Hadjer Lamis", "Hadjar-Lamis"],
        towns: &["Massakory", "Massaguet"],
        weight: 6,
    },
    Province {
        code: "TD-KA",
        names: &["Kanem"],
        towns: &["Mao", "Nokou"],
        weight: 4,
    },
    Province {
        code: "TD-LC",
        names: &["Lac"],
        towns: &["Bol", "Baga Sola"],
        weight: 5,
    },
    Province {
        code: "TD-LO",
        names: &["Logone Occidental", "Logone Occ"],
        towns: &["Moundou", "Benoye"],
        weight: 9,
    },
    Province {
        code: "TD-LR",
        names: &["Logone Oriental", "Logone Orientale"],
        towns: &["Doba", "Goré"],
        weight: 8,
    },
    Province {
        code: "TD-MA",
        names: &["Mandoul"],
        towns: &["Koumra", "Moïssala"],
        weight: 6,
    },
    Province {
        code: "TD-MC",
        names: &["Moyen-Chari", "Moyen Chari"],
        towns: &["Sarh", "Kyabé"],
        weight: 6,
    },
    Province {
        code: "TD-ME",
        names: &["Mayo-Kebbi Est", "Mayo Kebbi Est"],
        towns: &["Bongor", "Fianga"],
        weight: 8,
    },
    Province {
        code: "TD-MO",
        names: &["Mayo-Kebbi Ouest", "Mayo Kebbi Ouest"],
        towns: &["Pala", "Léré"],
        weight: 6,
    },
    Province {
        code: "TD-ND",
        names: &["N'Djamena", "Ndjamena", "NDjaména"],
        towns: &["Chagoua", "Walia", "Farcha", "Dembé"],
        weight: 16,
    },
    Province {
        code: "TD-OD",
        names: &["Ouaddaï", "Ouaddai", "Waddai"],
        towns: &["Abéché", "Adré"],
        weight: 8,
    },
    Province {
        code: "TD-SA",
        names: &["Salamat"],
        towns: &["Am Timan"],
        weight: 3,
    },
    Province {
        code: "TD-SI",
        names: &["Sila"],
        towns: &["Goz Beïda"],
        weight: 3,
    },
    Province {
        code: "TD-TA",
        names: &["Tandjilé", "Tandjile", "Tanjile"],
        towns: &["Laï", "Kélo"],
        weight: 6,
    },
    Province {
        code: "TD-TI",
        names: &["Tibesti"],
        towns: &["Bardaï"],
        weight: 1,
    },
    Province {
        code: "TD-WF",
        names: &["Wadi Fira", "Ouadi Fira"],
        towns: &["Biltine", "Iriba"],
        weight: 3,
    },
];

/// What people report, by category: `{t}` is a town, `{p}` its province.
const TEXTS: &[(&str, &[&str])] = &[
    (
        "eau",
        &[
            "EAU forage en panne à {t}, {p}",
            "EAU pas d'eau à la borne-fontaine de {t} depuis 3 jours, {p}",
            "EAU la pompe du quartier est cassée, {t} ({p})",
            "Eau le château d'eau de {t} fuit depuis une semaine {p}",
            "WATER borehole broken in {t}, {p}",
            "EAU l'eau du puits est sale à {t} {p}",
        ],
    ),
    (
        "sante",
        &[
            "SANTE centre de santé de {t} sans médicaments, {p}",
            "SANTÉ pas d'infirmier au centre de {t} depuis lundi, {p}",
            "SANTE cas de diarrhée chez les enfants à {t} {p}",
            "HEALTH clinic closed in {t}, {p}",
        ],
    ),
    (
        "ecole",
        &[
            "ECOLE pas d'enseignant à l'école de {t}, {p}",
            "ÉCOLE le toit d'une classe s'est effondré à {t} {p}",
            "ECOLE pas de latrines à l'école de {t}, {p}",
            "SCHOOL no teacher this month in {t}, {p}",
        ],
    ),
    (
        "securite",
        &[
            "SECURITE route coupée par l'eau près de {t}, {p}",
            "SÉCURITÉ vol de bétail signalé près de {t} {p}",
            "SECURITE conflit entre éleveurs et agriculteurs à {t}, {p}",
        ],
    ),
];

/// Texts a moderator has to read closely: no keyword, or no place.
const WITHOUT_KEYWORD: &[&str] = &[
    "bonjour le forage de {t} ne marche plus {p}",
    "les enfants de {t} n'ont plus d'école depuis la pluie, {p}",
];
const WITHOUT_PLACE: &[&str] = &[
    "EAU pas d'eau chez nous depuis hier",
    "SANTE le dispensaire est fermé aujourd'hui",
];

/// One SMS to deliver.
struct Sms {
    province: usize,
    text: String,
    sender: String,
    /// Seconds before the seeding's time.
    age: i64,
    twilio: bool,
}

/// A Chadian mobile number (Airtel 6x, Moov 9x), as the gateways write it.
fn number(rng: &mut StdRng) -> String {
    let prefix = [60, 63, 65, 66, 90, 92, 95, 99][rng.gen_range(0..8)];
    format!("+235{prefix}{:06}", rng.gen_range(0..1_000_000))
}

fn pick_province(rng: &mut StdRng) -> usize {
    let total: u32 = PROVINCES.iter().map(|p| p.weight).sum();
    let mut n = rng.gen_range(0..total);
    for (i, p) in PROVINCES.iter().enumerate() {
        if n < p.weight {
            return i;
        }
        n -= p.weight;
    }
    PROVINCES.len() - 1
}

fn fill(template: &str, p: &Province, rng: &mut StdRng) -> String {
    let town = p.towns[rng.gen_range(0..p.towns.len())];
    // Mostly the gazetteer's spelling, often another one.
    let name = if rng.gen_bool(0.65) {
        p.names[0]
    } else {
        p.names[rng.gen_range(0..p.names.len())]
    };
    template.replace("{t}", town).replace("{p}", name)
}

/// The demo's SMS, oldest first: deterministic, and never twice the same sender and text.
fn messages(count: usize) -> Vec<Sms> {
    let mut rng = StdRng::seed_from_u64(9);
    let senders: Vec<String> = (0..count.div_ceil(5) * 3)
        .map(|_| number(&mut rng))
        .collect();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(count);
    let day = 86_400;
    let at_count = count - count / 40;
    for i in 0..count {
        let twilio = i >= at_count;
        // Africa's Talking's over 60 days, Twilio's within the day.
        let age = if twilio {
            0
        } else {
            rng.gen_range(3_600..60 * day)
        };
        // Today's burst: the water points of Abéché are dry (the alert).
        let burst = twilio && i < at_count + 16;
        let province = if burst {
            PROVINCES
                .iter()
                .position(|p| p.code == "TD-OD")
                .unwrap_or(0)
        } else {
            pick_province(&mut rng)
        };
        let p = &PROVINCES[province];
        let roll = rng.gen_range(0..100);
        let text = if burst {
            fill(
                [
                    "EAU plus d'eau aux bornes-fontaines à Abéché, {p}",
                    "EAU forage en panne à Abéché {p}",
                ][i % 2],
                p,
                &mut rng,
            )
        } else if roll < 4 {
            WITHOUT_KEYWORD[rng.gen_range(0..WITHOUT_KEYWORD.len())]
                .replace("{t}", p.towns[0])
                .replace("{p}", p.names[0])
        } else if roll < 7 {
            WITHOUT_PLACE[rng.gen_range(0..WITHOUT_PLACE.len())].to_owned()
        } else {
            // Water first: it is what the NGO is known for.
            let c = match rng.gen_range(0..10) {
                0..=4 => 0,
                5..=6 => 1,
                7..=8 => 2,
                _ => 3,
            };
            let list = TEXTS[c].1;
            fill(list[rng.gen_range(0..list.len())], p, &mut rng)
        };
        let mut sender = senders[rng.gen_range(0..senders.len())].clone();
        while !seen.insert((sender.clone(), text.clone())) {
            sender = number(&mut rng);
        }
        out.push(Sms {
            province,
            text,
            sender,
            age,
            twilio,
        });
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.age));
    out
}

fn form(fields: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Creates the reports project, its settings and channels, delivers the SMS, and moderates.
pub(super) async fn seed(
    core: &Core,
    owner: &Principal,
    people: &[baraza_store::User],
    org: &str,
    sms: usize,
) -> Result<()> {
    let project = core
        .create_project(
            owner,
            org,
            &ProjectInput {
                name: "Signalements citoyens — eau et services".into(),
                slug: REPORTS_PROJECT.into(),
                description: "Les habitants signalent par SMS (numéro court 3535 ou numéro Twilio) ou sur le web une panne d’eau, un centre de santé fermé, une école sans enseignant ou un problème de sécurité, partout au Tchad. L’équipe vérifie chaque signalement avec les relais communautaires avant de le publier sur la carte, par province.".into(),
                visibility: Visibility::Public,
            },
        )
        .await?;
    let access = core.project_access(owner, org, &project.slug).await?;
    let roles = [Role::Manager, Role::Analyst, Role::Collector, Role::Viewer];
    for (person, role) in people[1..].iter().zip(roles) {
        core.set_member(&access, &person.email, role).await?;
    }
    core.set_report_settings(
        owner,
        &access,
        &SettingsInput {
            web_form: true,
            hide_author: true,
            hide_time: false,
            fuzz: "area".into(),
            fuzz_km: "25".into(),
            k_threshold: "5".into(),
            categories: "eau | Water | Eau | EAU WATER MAYA\n\
                         sante | Health | Santé | SANTE HEALTH\n\
                         ecole | School | École | ECOLE SCHOOL\n\
                         securite | Security | Sécurité | SECURITE SECURITY"
                .into(),
            checklist: CHECKLIST.join("\n"),
            sms_forms: String::new(),
            alert_threshold: "12".into(),
            alert_window_hours: "24".into(),
            alert_phones: None,
        },
    )
    .await
    .map_err(|e| anyhow!("demo report settings: {e}"))?;
    let at = core
        .add_report_channel(
            owner,
            &access,
            "africastalking",
            "Numéro court 3535 (Africa's Talking)",
            AT_SECRET,
            &[
                ("username".into(), "eau-tchad".into()),
                ("from".into(), "3535".into()),
            ],
        )
        .await
        .map_err(|e| anyhow!("demo channel: {e}"))?;
    let twilio = core
        .add_report_channel(
            owner,
            &access,
            "twilio",
            "Numéro international (Twilio)",
            TWILIO_TOKEN,
            &[("from".into(), "+15005550006".into())],
        )
        .await
        .map_err(|e| anyhow!("demo channel: {e}"))?;

    // The SMS, as each gateway posts them.
    let now = core.now();
    let date_fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let mut rng = StdRng::seed_from_u64(10);
    let mut calls = Vec::with_capacity(sms);
    for (i, m) in messages(sms).iter().enumerate() {
        let (token_path, url, headers, body) = if m.twilio {
            let url = format!("{PUBLIC_BASE}{}", twilio.webhook_path);
            let sid = format!("SM{:032x}", rng.gen::<u128>());
            let params: Vec<(String, String)> = [
                ("MessageSid", sid.as_str()),
                ("AccountSid", "AC00000000000000000000000000000000"),
                ("From", m.sender.as_str()),
                ("To", "+15005550006"),
                ("Body", m.text.as_str()),
                ("NumMedia", "0"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let sig = gateway::twilio_signature(TWILIO_TOKEN, &url, &params);
            let refs: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            (
                &twilio.webhook_path,
                url,
                vec![
                    (
                        "content-type".to_owned(),
                        "application/x-www-form-urlencoded".to_owned(),
                    ),
                    ("x-twilio-signature".to_owned(), sig),
                ],
                form(&refs),
            )
        } else {
            let url = format!("{PUBLIC_BASE}{}?secret={AT_SECRET}", at.webhook_path);
            let date = time::OffsetDateTime::from_unix_timestamp(now - m.age)?.format(&date_fmt)?;
            let id = format!("ATXid_{:024x}", rng.gen::<u128>() >> 32);
            (
                &at.webhook_path,
                url,
                vec![(
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned(),
                )],
                form(&[
                    ("from", &m.sender),
                    ("to", "3535"),
                    ("text", &m.text),
                    ("date", &date),
                    ("id", &id),
                    ("linkId", &format!("SampleLinkId{i}")),
                ]),
            )
        };
        let token = token_path.trim_start_matches("/hooks/reports/").to_owned();
        calls.push((token, url, headers, body, m.province, m.age < 2 * 86_400));
    }
    // Sixteen at a time, as gateways post them: the messages that arrive together share a
    // commit (see `baraza_store::ingest`).
    let reports: Vec<(usize, i64, bool)> = futures::stream::iter(calls.iter().enumerate().map(
        |(i, (token, url, headers, body, province, recent))| async move {
            let out = core
                .receive_report_webhook(
                    token,
                    &WebhookRequest {
                        url,
                        headers,
                        body: body.as_bytes(),
                    },
                )
                .await
                .map_err(|e| anyhow!("demo SMS {i}: {e}"))?;
            let id = out
                .report_id
                .ok_or_else(|| anyhow!("demo SMS {i} made no report (repeat: {})", out.repeat))?;
            Ok::<_, anyhow::Error>((*province, id, *recent))
        },
    ))
    .buffered(16)
    .try_collect()
    .await?;
    // The demo cannot reach the gateways: the replies to these past messages count as sent
    // (every one queued so far, whatever the clock said when it was).
    let sent_at = core.now();
    loop {
        let due = core.store().due_outgoing(i64::MAX, 500).await?;
        if due.is_empty() {
            break;
        }
        let ids: Vec<i64> = due.iter().map(|o| o.id).collect();
        core.store().outgoing_all_sent(&ids, sent_at).await?;
    }

    // Two reports from the web form: Moussa, signed in, and someone passing by.
    let moussa = core.cli_principal(people[4].id).await?;
    let moussa_access = core.project_access(&moussa, org, &project.slug).await?;
    core.submit_web_report(
        &moussa,
        &moussa_access,
        &WebReportInput {
            category: "eau".into(),
            body: "La borne-fontaine du marché de Dembé coule à peine depuis la coupure de la semaine dernière ; les femmes attendent deux heures.".into(),
            place: "TD-ND".into(),
            ..Default::default()
        },
        "127.0.0.1",
    )
    .await
    .map_err(|e| anyhow!("demo web report: {e}"))?;
    let anonymous_access = core
        .project_access(&Principal::Anonymous, org, &project.slug)
        .await?;
    core.submit_web_report(
        &Principal::Anonymous,
        &anonymous_access,
        &WebReportInput {
            category: "sante".into(),
            body: "Le centre de santé de Mongo (Guéra) n'a plus de vaccins contre la rougeole."
                .into(),
            ..Default::default()
        },
        "192.0.2.44",
    )
    .await
    .map_err(|e| anyhow!("demo web report: {e}"))?;

    moderate(core, people, org, &project.slug, &reports).await
}

/// Claire, the manager, works through the queue: most reports published (some of them since
/// archived), some verified and waiting, some rejected, the newest still in review.
async fn moderate(
    core: &Core,
    people: &[baraza_store::User],
    org: &str,
    slug: &str,
    reports: &[(usize, i64, bool)],
) -> Result<()> {
    let claire = core.cli_principal(people[1].id).await?;
    let access: ProjectAccess = core.project_access(&claire, org, slug).await?;
    let ticked: Vec<String> = CHECKLIST.iter().map(|s| s.to_string()).collect();
    let mut rng = StdRng::seed_from_u64(11);
    for &(province, id, recent) in reports {
        let roll = rng.gen_range(0..100);
        let path: &[&str] = match (recent, roll) {
            (true, 0..=59) => &[],
            (true, 60..=79) => &["verified"],
            (true, _) => &["published"],
            (false, 0..=4) => &[],
            (false, 5..=11) => &["verified"],
            (false, 12..=19) => &["rejected"],
            (false, 20..=27) => &["published", "archived"],
            (false, _) => &["published"],
        };
        if path.is_empty() {
            continue;
        }
        let r = core
            .store()
            .report(id)
            .await?
            .ok_or_else(|| anyhow!("demo report {id} vanished"))?;
        if path[0] != "rejected" && (r.place_code.is_none() || r.category.is_empty()) {
            // What the gazetteer or the keywords could not tell, the relay did.
            let category = if r.category.is_empty() {
                "eau"
            } else {
                &r.category
            };
            core.relocate_report(&claire, &access, id, category, PROVINCES[province].code)
                .await
                .map_err(|e| anyhow!("demo report {id} relocated: {e}"))?;
        }
        for to in path {
            core.moderate_report(&claire, &access, id, to, &ticked)
                .await
                .map_err(|e| anyhow!("demo report {id} to {to}: {e}"))?;
        }
    }
    Ok(())
}
