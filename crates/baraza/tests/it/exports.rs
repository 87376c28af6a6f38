//! The submissions table's filters, sort and keyset paging (the page, its `.json` and `.csv`
//! twins), and every export (CSV, CSV zip, XLSX, JSON, GeoJSON) parsed back and checked against
//! the stored data; who may read them; hostile parameters.

use crate::common::*;
use baraza_store::BulkSubmission;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use std::collections::{HashMap, HashSet};
use std::io::Read;

const DAY: i64 = 86_400;

struct Fixture {
    form_id: i64,
    phone: i64,
    fatime: i64,
}

fn path() -> String {
    format!("{}/forms/points_eau/submissions", private_project())
}

fn api_path() -> String {
    format!(
        "/api/v1/projects/{}/{}/forms/points_eau/submissions",
        baraza::demo::ORG_SLUG,
        baraza::demo::PRIVATE_PROJECT
    )
}

/// A submission of the demo survey with chosen answers.
struct Answers<'a> {
    id: &'a str,
    province: &'a str,
    commune: &'a str,
    quartier: &'a str,
    gps: &'a str,
    works: bool,
    pannes: &'a str,
    minutes: u32,
    children: &'a [(u32, &'a str)],
}

fn xml(version: &str, a: &Answers<'_>) -> String {
    let enfants: String = a
        .children
        .iter()
        .map(|(age, d)| {
            format!("<enfant><age_mois>{age}</age_mois><diarrhee>{d}</diarrhee></enfant>")
        })
        .collect();
    format!(
        "<?xml version='1.0' ?><data id=\"points_eau\" version=\"{version}\">\
<start>2026-10-01T08:00:00.000+01:00</start><end>2026-10-01T08:20:00.000+01:00</end><today>2026-10-01</today><deviceid>collect:test</deviceid>\
<localisation><province>{}</province><commune>{}</commune><quartier>{}</quartier><gps>{}</gps></localisation>\
<point><type_point>puits</type_point><fonctionnel>{}</fonctionnel><pannes>{}</pannes><jours_panne>{}</jours_panne><temps_trajet>{}</temps_trajet><prix>150</prix></point>\
<menage><sexe_chef>femme</sexe_chef><taille_menage>5</taille_menage><nb_enfants>{}</nb_enfants>{enfants}</menage>\
<acces_30min>{}</acces_30min><fin/><meta><instanceID>{}</instanceID><instanceName>{} — puits</instanceName></meta></data>",
        a.province,
        a.commune,
        a.quartier.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;"),
        a.gps,
        if a.works { "oui" } else { "non" },
        a.pannes,
        if a.works { "" } else { "12" },
        a.minutes,
        a.children.len(),
        u32::from(a.minutes <= 30),
        a.id,
        a.quartier.replace('&', "&amp;").replace('<', "&lt;"),
    )
}

const A: &str = "uuid:aaaaaaaa-0000-4000-8000-000000000001";
const B: &str = "uuid:aaaaaaaa-0000-4000-8000-000000000002";
const C: &str = "uuid:aaaaaaaa-0000-4000-8000-000000000003";
const APPROVED: &str = "uuid:aaaaaaaa-0000-4000-8000-0000000000a1";
const REJECTED: &str = "uuid:aaaaaaaa-0000-4000-8000-0000000000a2";

/// The demo's 300 submissions (received at T0 from Fatimé's phone, none reviewed), then: A and B sent by
/// Fatimé's account two days later, C five days later (no GPS), and two records of day 3 in the
/// states approved and rejected.
async fn fixture(app: &TestApp) -> Fixture {
    let store = app.core.store();
    let amina = store.user_by_email(AMINA).await.unwrap().unwrap();
    let p = app.core.cli_principal(amina.id).await.unwrap();
    let access = app
        .core
        .project_access(&p, baraza::demo::ORG_SLUG, baraza::demo::PRIVATE_PROJECT)
        .await
        .unwrap();
    let (form, version) = app.core.form(&access, "points_eau").await.unwrap();
    // The demo's reviewer has already reviewed a few records: back to "received", so that the
    // review filters see only this fixture's states.
    for row in store.list_submissions(form.id, 0, 1000).await.unwrap() {
        if row.review_state != "received" {
            store
                .carry_review_state(form.id, &row.root_instance_id, "received")
                .await
                .unwrap();
        }
    }
    let phone = store.list_app_users(access.project.id).await.unwrap()[0].id;
    let fatime = store.user_by_email(FATIME).await.unwrap().unwrap().id.0;
    let http = reqwest::Client::new();
    let base = app.url(&format!("/v1/projects/{}/submission", access.project.id.0));
    let send = |xml: String| {
        http.post(&base)
            .basic_auth(FATIME, Some("demo-fatime-2026"))
            .header("X-OpenRosa-Version", "1.0")
            .multipart(Form::new().part(
                "xml_submission_file",
                Part::bytes(xml.into_bytes()).file_name("s.xml"),
            ))
            .send()
    };
    app.clock.advance(2 * DAY);
    for a in [
        Answers {
            id: A,
            province: "ouaddai",
            commune: "abeche",
            quartier: "Amsiguett, \"nord\" & co",
            gps: "13.83 20.83 310.5 5",
            works: false,
            pannes: "pompe tuyau",
            minutes: 95,
            children: &[(12, "oui"), (40, "non")],
        },
        Answers {
            id: B,
            province: "ndjamena",
            commune: "arr1",
            quartier: "Farcha",
            gps: "12.14 15.0",
            works: true,
            pannes: "",
            minutes: 15,
            children: &[],
        },
    ] {
        let res = send(xml(&version.version, &a)).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        app.clock.advance(60);
    }
    // Two records reviewed on day 3 (stored in bulk, as a benchmark or an import would).
    let a_sealed = store
        .submission(form.id, A)
        .await
        .unwrap()
        .unwrap()
        .values_json;
    // Copies of A under their own instanceID, in clear: its sealed answers are bound to A and
    // would not open under another instanceID.
    let a_values = app
        .core
        .mask_for(&access, form.id)
        .await
        .unwrap()
        .apply(&a_sealed, A)
        .unwrap();
    assert!(a_sealed.contains("\"sealed\"") && !a_values.contains("\"sealed\""));
    let copies: Vec<(&str, &str, String)> = [(APPROVED, "approved"), (REJECTED, "rejected")]
        .iter()
        .map(|(id, state)| (*id, *state, a_values.replace(A, id)))
        .collect();
    let bulk: Vec<BulkSubmission> = copies
        .iter()
        .map(|(id, state, values)| BulkSubmission {
            form_id: form.id,
            form_version_id: version.id,
            instance_id: id,
            xml_sha256: "0000000000000000000000000000000000000000000000000000000000000000",
            xml_size: 0,
            values_json: values,
            app_user_id: Some(phone),
            user_id: None,
            review_state: state,
            received_at: T0 + 3 * DAY,
        })
        .collect();
    assert_eq!(store.insert_submissions_bulk(&bulk).await.unwrap(), 2);
    app.clock.advance(3 * DAY);
    let c = Answers {
        id: C,
        province: "ndjamena",
        commune: "arr9",
        quartier: "Walia",
        gps: "",
        works: true,
        pannes: "",
        minutes: 40,
        children: &[(3, "non")],
    };
    assert_eq!(
        send(xml(&version.version, &c)).await.unwrap().status(),
        StatusCode::CREATED
    );
    Fixture {
        form_id: form.id,
        phone,
        fatime,
    }
}

const TOTAL: usize = baraza::demo::SUBMISSIONS + 5;

/// Every stored current submission's top-level answers as text, by path below the root, and
/// its number of children (`enfant` instances).
async fn stored(app: &TestApp, f: &Fixture) -> HashMap<String, (HashMap<String, String>, usize)> {
    let rows = app
        .core
        .store()
        .list_submissions(f.form_id, 0, 1000)
        .await
        .unwrap();
    assert_eq!(rows.len(), TOTAL);
    rows.iter()
        .map(|r| {
            let values: Vec<serde_json::Value> = serde_json::from_str(&r.values_json).unwrap();
            let mut top = HashMap::new();
            let mut children = HashSet::new();
            for v in &values {
                let p = v["path"].as_str().unwrap().trim_start_matches("/data/");
                match v["repeat"].as_str() {
                    Some(rep) => {
                        children.insert(rep.to_owned());
                    }
                    None => {
                        let val = &v["value"]["value"];
                        let text = match val {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Array(a) => a
                                .iter()
                                .map(|x| x.as_str().unwrap_or("").to_owned())
                                .collect::<Vec<_>>()
                                .join(" "),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        top.insert(p.to_owned(), text);
                    }
                }
            }
            (r.instance_id.clone(), (top, children.len()))
        })
        .collect()
}

async fn json_page(c: &reqwest::Client, app: &TestApp, query: &str) -> serde_json::Value {
    let res = c
        .get(app.url(&format!("{}.json{query}", path())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

/// Every submission of a filtered listing, page after page through `next_url`.
async fn walk(c: &reqwest::Client, app: &TestApp, query: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut page = json_page(c, app, query).await;
    loop {
        out.extend(page["submissions"].as_array().unwrap().iter().cloned());
        let Some(next) = page["next_url"].as_str() else {
            break;
        };
        assert!(next.starts_with(&path()), "{next}");
        let twin = next.replacen("/submissions", "/submissions.json", 1);
        let res = c.get(app.url(&twin)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{twin}");
        page = res.json().await.unwrap();
    }
    out
}

fn ids(rows: &[serde_json::Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["instance_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_table_filters_sorts_and_pages_by_keyset() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let f = fixture(&app).await;
        let data = stored(&app, &f).await;
        let reader = signed_in(&app, CLAIRE).await; // a manager sees every answer (masking.rs: analysts)

        // Newest first by default, oldest first on request; every row once, pages of 50.
        let all = walk(&reader, &app, "").await;
        assert_eq!(all.len(), TOTAL);
        assert_eq!(ids(&all)[0], C);
        assert_eq!(ids(&all).into_iter().collect::<HashSet<_>>().len(), TOTAL);
        let oldest = walk(&reader, &app, "?sort=oldest").await;
        assert_eq!(ids(&oldest).last().map(String::as_str), Some(C));
        let mut reversed = ids(&oldest);
        reversed.reverse();
        assert_eq!(reversed, ids(&all), "one order is the other reversed");
        let times: Vec<&str> = oldest
            .iter()
            .map(|r| r["received"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));

        // Review state.
        for (state, want) in [
            ("approved", vec![APPROVED]),
            ("rejected", vec![REJECTED]),
            ("has_issues", vec![]),
        ] {
            let rows = walk(&reader, &app, &format!("?review={state}")).await;
            assert_eq!(ids(&rows), want, "{state}");
        }
        assert_eq!(
            walk(&reader, &app, "?review=received").await.len(),
            TOTAL - 2
        );

        // Submitter: an account, an app user.
        let by_fatime = walk(&reader, &app, &format!("?submitter=user:{}", f.fatime)).await;
        assert_eq!(ids(&by_fatime), [C, B, A]);
        assert_eq!(by_fatime[0]["submitter"]["name"], "Fatimé Haroun");
        let by_phone = walk(&reader, &app, &format!("?submitter=app:{}", f.phone)).await;
        assert_eq!(by_phone.len(), baraza::demo::SUBMISSIONS + 2);
        assert!(walk(&reader, &app, "?submitter=user:999999")
            .await
            .is_empty());

        // Received dates, whole days in UTC, paged with the filter kept.
        let day = |d: i64| {
            let (y, m, dd) = {
                let t = time_parts(T0 + d * DAY);
                (t.0, t.1, t.2)
            };
            format!("{y:04}-{m:02}-{dd:02}")
        };
        let rows = walk(&reader, &app, &format!("?from={}&to={}", day(2), day(2))).await;
        assert_eq!(ids(&rows), [B, A]);
        let rows = walk(&reader, &app, &format!("?from={}", day(3))).await;
        assert_eq!(rows.len(), 3);
        let rows = walk(&reader, &app, &format!("?to={}&sort=oldest", day(0))).await;
        assert_eq!(rows.len(), baraza::demo::SUBMISSIONS, "across six pages");

        // Answers: numbers compare as numbers, select_multiple includes, text equals.
        let count = |pred: &dyn Fn(&HashMap<String, String>) -> bool| {
            data.values().filter(|(top, _)| pred(top)).count()
        };
        let minutes = |t: &HashMap<String, String>| t["point/temps_trajet"].parse::<f64>().unwrap();
        let rows = walk(&reader, &app, "?question=point/temps_trajet&op=gt&value=90").await;
        assert_eq!(rows.len(), count(&|t| minutes(t) > 90.0));
        assert!(rows.len() > 3 && rows.len() < TOTAL);
        let rows = walk(&reader, &app, "?question=temps_trajet&op=lt&value=20.5").await;
        assert_eq!(rows.len(), count(&|t| minutes(t) < 20.5));
        let rows = walk(&reader, &app, "?question=temps_trajet&value=15").await;
        assert_eq!(rows.len(), count(&|t| minutes(t) == 15.0));
        let rows = walk(&reader, &app, "?question=point/pannes&value=pompe").await;
        let with_pump = count(&|t| {
            t.get("point/pannes")
                .is_some_and(|p| p.split(' ').any(|x| x == "pompe"))
        });
        assert_eq!(rows.len(), with_pump);
        assert!(with_pump > 3);
        let rows = walk(
            &reader,
            &app,
            "?question=localisation/quartier&value=Amsiguett%2C+%22nord%22+%26+co",
        )
        .await;
        assert_eq!(rows.len(), 3, "A and the two records copied from it");
        let rows = walk(
            &reader,
            &app,
            "?question=province&value=ouaddai&review=received",
        )
        .await;
        assert_eq!(
            rows.len(),
            count(&|t| t["localisation/province"] == "ouaddai") - 2
        );
        // The answers shown are the stored ones.
        let a = all.iter().find(|r| r["instance_id"] == A).unwrap();
        assert_eq!(
            a["values"]["localisation/quartier"],
            "Amsiguett, \"nord\" & co"
        );
        assert_eq!(a["values"]["point/pannes"], "pompe tuyau");
        assert_eq!(a["repeat_answers"], 4);

        // The page: the filter form keeps its values, the next link and exports keep the filters.
        let html = reader
            .get(app.url(&format!("{}?review=received&sort=oldest", path())))
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("<form class=\"filters\" method=\"get\""),
            "{html}"
        );
        assert!(html.contains("<option value=\"received\" selected>Reçue</option>"));
        assert!(html.contains("<option value=\"oldest\" selected>"));
        assert!(
            html.contains("review=received&amp;sort=oldest&amp;after="),
            "next link"
        );
        assert!(html.contains("submissions.xlsx?review=received&amp;sort=oldest"));
        assert!(
            html.contains("Fatimé Haroun — téléphone 1"),
            "submitters listed"
        );
        assert!(html.contains("Excel (.xlsx)") && html.contains("Les plus récentes d’abord"));
        // Idriss reads French (his account's language); in English, the same page.
        let token = csrf(&app, &reader, &path()).await;
        let res = reader
            .post(app.url("/-/lang"))
            .form(&[("_csrf", token.as_str()), ("lang", "en"), ("next", &path())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html_en = reader
            .get(app.url(&path()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html_en.contains("Excel (.xlsx), one sheet per repeat"));
        assert!(html_en.contains("Newest first") && html_en.contains("Received from"));

        // The `.csv` twin applies the same filters.
        let csv = reader
            .get(app.url(&format!("{}.csv?review=approved", path())))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        let h = r.headers().unwrap().clone();
        let col = |name: &str| h.iter().position(|x| x == name).unwrap();
        assert_eq!(&rows[0][col("ReviewState")], "approved");
        assert_eq!(&rows[0][col("meta-instanceID")], APPROVED);
        app.stop().await;
    }
}

/// Year, month, day of Unix seconds (UTC).
fn time_parts(ts: i64) -> (i64, u32, u32) {
    let t = time::OffsetDateTime::from_unix_timestamp(ts).unwrap();
    (
        i64::from(t.year()),
        u8::from(t.month()) as u32,
        u32::from(t.day()),
    )
}

async fn get_ok(c: &reqwest::Client, url: &str, content_type: &str) -> (String, Vec<u8>) {
    let res = c.get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    let h = res.headers();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with(content_type),
        "{url}: {:?}",
        h["content-type"]
    );
    assert_eq!(h["cache-control"], "private, no-store", "{url}");
    let disposition = h["content-disposition"].to_str().unwrap().to_owned();
    (disposition, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn every_export_reads_back_as_the_stored_data() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let f = fixture(&app).await;
        let data = stored(&app, &f).await;
        let children: usize = data.values().map(|(_, n)| n).sum();
        let reader = signed_in(&app, CLAIRE).await; // a manager sees every answer (masking.rs: analysts)

        // CSV zip: one file per table, rows linked by KEY and PARENT_KEY.
        let (disposition, bytes) = get_ok(
            &reader,
            &app.url(&format!("{}.csv.zip", path())),
            "application/zip",
        )
        .await;
        assert!(
            disposition.contains("filename=\"points_eau.csv.zip\""),
            "{disposition}"
        );
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let names: Vec<String> = (0..zip.len())
            .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
            .collect();
        assert_eq!(names, ["points_eau.csv", "points_eau-enfant.csv"]);
        let read = |zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let main = read(&mut zip, "points_eau.csv");
        let mut r = csv::Reader::from_reader(main.as_bytes());
        let h = r.headers().unwrap().clone();
        let col = |name: &str| {
            h.iter()
                .position(|x| x == name)
                .unwrap_or_else(|| panic!("no column {name}"))
        };
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), TOTAL);
        for row in &rows {
            let (top, _) = &data[&row[col("meta-instanceID")]];
            assert_eq!(
                &row[col("localisation-quartier")],
                top["localisation/quartier"]
            );
            assert_eq!(
                &row[col("point-pannes")],
                top.get("point/pannes").map(String::as_str).unwrap_or("")
            );
            assert_eq!(
                row[col("point-temps_trajet")].parse::<f64>().unwrap(),
                top["point/temps_trajet"].parse::<f64>().unwrap()
            );
            let pump = top
                .get("point/pannes")
                .is_some_and(|p| p.split(' ').any(|x| x == "pompe"));
            assert_eq!(
                &row[col("point-pannes/pompe")],
                if pump { "1" } else { "0" }
            );
        }
        let a = rows.iter().find(|r| &r[col("KEY")] == A).unwrap();
        assert_eq!(&a[col("localisation-gps-Latitude")], "13.83");
        assert_eq!(&a[col("localisation-gps-Longitude")], "20.83");
        assert_eq!(&a[col("localisation-gps-Accuracy")], "5");
        assert_eq!(&a[col("SubmitterName")], "Fatimé Haroun");
        assert_eq!(&a[col("SubmitterID")], format!("user:{}", f.fatime));
        assert_eq!(&a[col("ReviewState")], "received");
        assert_eq!(&a[col("DeviceID")], "collect:test");
        assert_eq!(&a[col("SubmissionDate")][..10], {
            let (y, m, d) = time_parts(T0 + 2 * DAY);
            format!("{y:04}-{m:02}-{d:02}")
        });
        let keys: HashSet<&str> = rows.iter().map(|r| &r[col("KEY")]).collect();
        let enfants = read(&mut zip, "points_eau-enfant.csv");
        let mut r = csv::Reader::from_reader(enfants.as_bytes());
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            ["age_mois", "diarrhee", "PARENT_KEY", "KEY"]
        );
        let kids: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(kids.len(), children);
        for k in &kids {
            assert!(keys.contains(&k[2]), "parent {}", &k[2]);
            assert!(k[3].starts_with(&format!("{}/menage/enfant[", &k[2])));
        }
        let a_kids: Vec<&csv::StringRecord> = kids.iter().filter(|k| &k[2] == A).collect();
        assert_eq!(a_kids.len(), 2);
        assert_eq!((&a_kids[1][0], &a_kids[1][1]), ("40", "non"));

        // The same export, filtered.
        let (_, bytes) = get_ok(
            &reader,
            &app.url(&format!("{}.csv.zip?review=approved", path())),
            "application/zip",
        )
        .await;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let main = read(&mut zip, "points_eau.csv");
        assert_eq!(main.lines().count(), 2, "{main}");
        let kids = read(&mut zip, "points_eau-enfant.csv");
        assert_eq!(kids.lines().count(), 3, "{kids}");

        // XLSX: one sheet per table, numbers as numbers, dates as dates.
        let (disposition, bytes) = get_ok(
            &reader,
            &app.url(&format!("{}.xlsx?sort=oldest", path())),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .await;
        assert!(disposition.contains("points_eau.xlsx"));
        {
            use calamine::{Data, Reader, Xlsx};
            let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
            assert_eq!(wb.sheet_names(), ["points_eau", "enfant"]);
            let sheet = wb.worksheet_range("points_eau").unwrap();
            assert_eq!(sheet.height(), TOTAL + 1);
            let header: Vec<String> = sheet
                .rows()
                .next()
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect();
            let at = |name: &str| header.iter().position(|x| x == name).unwrap();
            let last = sheet.rows().next_back().unwrap();
            assert_eq!(last[at("KEY")], Data::String(C.into()));
            assert_eq!(last[at("point-temps_trajet")], Data::Float(40.0));
            assert!(matches!(last[at("SubmissionDate")], Data::DateTime(_)));
            assert!(matches!(last[at("today")], Data::DateTime(_)));
            assert_eq!(last[at("localisation-gps-Latitude")], Data::Empty);
            let kids = wb.worksheet_range("enfant").unwrap();
            assert_eq!(kids.height(), children + 1);
        }
        open_with_openpyxl(&bytes, &["points_eau", "enfant"], TOTAL + 1);

        // JSON: nested documents.
        let (_, bytes) = get_ok(&reader, &app.url(&api_path()), "application/json").await;
        let docs: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(docs.len(), TOTAL);
        let a = docs.iter().find(|d| d["__id"] == A).unwrap();
        assert_eq!(a["localisation"]["quartier"], "Amsiguett, \"nord\" & co");
        assert_eq!(a["localisation"]["gps"]["coordinates"][0], 20.83);
        assert_eq!(a["menage"]["enfant"][1]["age_mois"], 40);
        assert_eq!(a["point"]["temps_trajet"], 95);
        assert_eq!(a["__system"]["submitterName"], "Fatimé Haroun");
        for d in &docs {
            let (_, n) = &data[d["meta"]["instanceID"].as_str().unwrap()];
            assert_eq!(d["menage"]["enfant"].as_array().unwrap().len(), *n);
        }

        // GeoJSON: the submissions with a GPS point, longitude first.
        let (_, bytes) = get_ok(
            &reader,
            &app.url(&format!(
                "{}.geojson?question=province&value=ouaddai",
                path()
            )),
            "application/geo+json",
        )
        .await;
        let fc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(fc["type"], "FeatureCollection");
        let features = fc["features"].as_array().unwrap();
        let in_ouaddai = data
            .values()
            .filter(|(t, _)| {
                t["localisation/province"] == "ouaddai" && !t["localisation/gps"].is_empty()
            })
            .count();
        assert_eq!(features.len(), in_ouaddai);
        for feat in features {
            let coords = feat["geometry"]["coordinates"].as_array().unwrap();
            let lon = coords[0].as_f64().unwrap();
            let lat = coords[1].as_f64().unwrap();
            assert!(
                (19.0..23.0).contains(&lon) && (13.0..14.5).contains(&lat),
                "{coords:?}"
            );
            assert_eq!(feat["properties"]["localisation-province"], "ouaddai");
        }
        let (_, bytes) = get_ok(
            &reader,
            &app.url(&format!("{}.geojson?geo=localisation/gps", path())),
            "application/geo+json",
        )
        .await;
        let fc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            fc["features"].as_array().unwrap().len(),
            TOTAL - 1,
            "C has no GPS"
        );
        app.stop().await;
    }
}

/// Opens a workbook with openpyxl (Python), when it is installed: required under CI.
fn open_with_openpyxl(bytes: &[u8], sheets: &[&str], rows: usize) {
    let has = std::process::Command::new("python3")
        .args(["-c", "import openpyxl"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "CI=true but openpyxl is not installed"
        );
        return;
    }
    let file = std::env::temp_dir().join(format!("baraza-export-{}.xlsx", std::process::id()));
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import openpyxl, sys\nwb = openpyxl.load_workbook(sys.argv[1], read_only=True)\nfor ws in wb.worksheets:\n    print(ws.title, sum(1 for _ in ws.iter_rows()))",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), sheets.len(), "{text}");
    assert_eq!(lines[0], format!("{} {rows}", sheets[0]));
    for (line, sheet) in lines.iter().zip(sheets) {
        assert!(line.starts_with(sheet), "{text}");
    }
}

#[tokio::test]
async fn exports_are_for_analysts_and_bad_parameters_are_named() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let urls = [
            format!("{}.csv", path()),
            format!("{}.csv.zip", path()),
            format!("{}.xlsx", path()),
            format!("{}.geojson", path()),
            api_path(),
            path(),
        ];
        // Viewers do not read the data; outsiders do not see the project. (Collectors read the
        // records they sent: tests/it/scopes.rs.)
        for (who, code) in [(MOUSSA, "forbidden"), (OUTSIDER, "not_found")] {
            let c = signed_in(&app, who).await;
            for url in &urls {
                let res = c
                    .get(app.url(url))
                    .header("accept", "application/json")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(error_code(res).await.1, code, "{who} {url}");
            }
        }
        let anonymous = browser();
        for url in &urls {
            let res = anonymous
                .get(app.url(url))
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{url}");
        }

        // Bad parameters: 422, naming the parameter, on the page, its twins and the exports.
        let claire = signed_in(&app, CLAIRE).await;
        let long = format!("question=localisation/quartier&value={}", "x".repeat(501));
        let cases: Vec<(String, &str)> = vec![
            (
                "review=%27%3B+DROP+TABLE+submissions%3B+--".into(),
                "review",
            ),
            ("submitter=admin".into(), "submitter"),
            ("submitter=app:99999999999999999999999".into(), "submitter"),
            ("from=2026-13-01".into(), "from"),
            ("to=2026-02-30".into(), "to"),
            ("from=2026-10-05&to=2026-10-01".into(), "to"),
            ("question=../../etc/passwd&value=1".into(), "question"),
            ("question=enfant/age_mois&value=1".into(), "question"),
            ("question=localisation/gps&value=1".into(), "question"),
            ("value=1".into(), "question"),
            ("question=temps_trajet".into(), "value"),
            ("question=temps_trajet&value=beaucoup".into(), "value"),
            ("question=temps_trajet&value=1e400".into(), "value"),
            ("question=quartier&op=lt&value=a".into(), "op"),
            ("question=temps_trajet&op=%3C&value=1".into(), "op"),
            ("question=pannes&value=pompe%22%29".into(), "value"),
            (long, "value"),
            ("sort=random".into(), "sort"),
            ("after=42".into(), "after"),
            ("after=1.2.3".into(), "after"),
            ("review=received&review=approved".into(), "review"),
            ("hxl=peut-etre".into(), "hxl"),
        ];
        for suffix in [".json", ".csv", ".csv.zip", ".xlsx", ".geojson"] {
            for (query, field) in &cases {
                let url = app.url(&format!("{}{suffix}?{query}", path()));
                let res = claire
                    .get(&url)
                    .header("accept", "application/json")
                    .header("accept-language", "en")
                    .send()
                    .await
                    .unwrap();
                let (status, code, message) = error_code(res).await;
                assert_eq!(
                    (status, code.as_str()),
                    (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                    "{url}"
                );
                assert!(message.contains(field), "{url}: {message}");
            }
        }
        for (query, field) in [("geo=nowhere", "geo"), ("geo=point/temps_trajet", "geo")] {
            let res = claire
                .get(app.url(&format!("{}.geojson?{query}", path())))
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            let (status, _, message) = error_code(res).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(message.contains(field), "{message}");
        }
        // Values are data, never SQL or JSON paths: odd text matches nothing and breaks nothing.
        for q in [
            "question=quartier&value=x%22%29+OR+1%3D1+--",
            "question=quartier&value=%27%3B+DELETE+FROM+submissions%3B+--",
            "question=meta/instanceID&value=%25",
        ] {
            let v = json_page(&claire, &app, &format!("?{q}")).await;
            assert_eq!(v["submissions"].as_array().unwrap().len(), 0, "{q}");
        }
        let v = json_page(&claire, &app, "").await;
        assert_eq!(v["submissions"].as_array().unwrap().len(), 50);
        // A form that is not there.
        let res = claire
            .get(app.url(&format!(
                "{}/forms/nope/submissions.xlsx",
                private_project()
            )))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "not_found");
        app.stop().await;
    }
}

/// `hxl=1` adds the HXL hashtag row after the header of CSV, CSV zip and XLSX exports, with the
/// form's `hxl` column over its questions' columns; without it, the second line is data.
#[tokio::test]
async fn hxl_hashtag_row_on_request() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let lines_of = |bytes: &[u8]| -> Vec<Vec<String>> {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes));
            r.records()
                .take(2)
                .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
                .collect()
        };
        let (_, tagged) = get_ok(
            &claire,
            &app.url(&format!("{}.csv?hxl=1", path())),
            "text/csv",
        )
        .await;
        let rows = lines_of(&tagged);
        let (header, tags) = (&rows[0], &rows[1]);
        assert_eq!(header.len(), tags.len());
        let at = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(tags[at("localisation-province")], "#adm1+name");
        assert_eq!(tags[at("KEY")], "");
        assert_eq!(tags[at("SubmissionDate")], "");
        assert!(
            tags.iter().all(|t| t.is_empty() || t.starts_with('#')),
            "{tags:?}"
        );

        let (_, plain) = get_ok(
            &claire,
            &app.url(&format!("{}.csv?hxl=0", path())),
            "text/csv",
        )
        .await;
        let rows = lines_of(&plain);
        assert!(!rows[1][at("localisation-province")].starts_with('#'));
        assert!(tagged.len() > plain.len());

        // The zip: every table's file has its hashtag row or none (a table with no tagged
        // question gets no row of blanks).
        let (_, bytes) = get_ok(
            &claire,
            &app.url(&format!("{}.csv.zip?hxl=1", path())),
            "application/zip",
        )
        .await;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut root = String::new();
        zip.by_name("points_eau.csv")
            .unwrap()
            .read_to_string(&mut root)
            .unwrap();
        assert_eq!(lines_of(root.as_bytes())[1], *tags);

        // XLSX: the second row of the first sheet.
        let (_, bytes) = get_ok(
            &claire,
            &app.url(&format!("{}.xlsx?hxl=1", path())),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .await;
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let sheet = wb.worksheet_range("points_eau").unwrap();
        let second: Vec<String> = sheet
            .rows()
            .nth(1)
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(second[at("localisation-province")], "#adm1+name");
    }
}
