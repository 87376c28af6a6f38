//! The demo's citizen reports: delivered through the gateways' webhook path, placed by the
//! gazetteer, moderated into every state, and on the public map.

use crate::common::*;
use baraza::demo::{ORG_SLUG, REPORTS_PROJECT, REPORT_SMS_SAMPLE};

fn project() -> String {
    format!("/orgs/{ORG_SLUG}/projects/{REPORTS_PROJECT}")
}

#[tokio::test]
async fn demo_reports_arrive_by_the_gateways_and_fill_the_queue_and_the_map() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let store = app.core.store();
        let org = store.org_by_slug(ORG_SLUG).await.unwrap().unwrap();
        let p = store
            .project_by_slug(org.id, REPORTS_PROJECT)
            .await
            .unwrap()
            .unwrap();

        // Every SMS made a report through a channel, plus two from the web form.
        let counts = store.report_counts(p.id.0).await.unwrap();
        let total: i64 = counts.iter().map(|c| c.1).sum();
        assert_eq!(total, REPORT_SMS_SAMPLE as i64 + 2, "{counts:?}");
        for state in ["in_review", "verified", "published", "archived", "rejected"] {
            let n = counts.iter().find(|c| c.0 == state).map_or(0, |c| c.1);
            assert!(n > 0, "no report {state}: {counts:?}");
        }
        let published = counts.iter().find(|c| c.0 == "published").unwrap().1;
        assert!(published * 2 > total, "most are published: {counts:?}");
        let channels = store.channels(p.id.0).await.unwrap();
        let mut gateways: Vec<&str> = channels.iter().map(|c| c.gateway.as_str()).collect();
        gateways.sort();
        assert_eq!(gateways, ["africastalking", "twilio"]);
        // Their replies count as sent: nothing waits for gateways the demo cannot reach.
        let due = store.due_outgoing(i64::MAX, 10).await.unwrap();
        assert!(due.is_empty(), "{} replies wait", due.len());

        // The public list and map show published reports only, over Chad.
        let anon = browser();
        let list = get_json(&app, &anon, &format!("{}/reports", project())).await;
        assert_eq!(list["moderator"], false);
        assert_eq!(list["total"], published, "{list}");
        let map = get_json(&app, &anon, &format!("{}/reports/map", project())).await;
        let clusters = map["clusters"].as_array().expect("clusters");
        let shown: u64 = clusters.iter().map(|c| c["count"].as_u64().unwrap()).sum();
        assert_eq!(
            shown + map["hidden"].as_u64().unwrap() + map["unplaced"].as_u64().unwrap(),
            published as u64,
            "{map}"
        );
        for c in clusters {
            let (lat, lon) = (c["lat"].as_f64().unwrap(), c["lon"].as_f64().unwrap());
            assert!(
                (7.0..24.0).contains(&lat) && (13.0..24.5).contains(&lon),
                "a cluster outside Chad: {c}"
            );
            assert!(c["count"].as_u64().unwrap() >= 5, "under k: {c}");
        }
        let page = anon
            .get(app.url(&format!("{}/reports/map", project())))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), reqwest::StatusCode::OK);

        // Claire, who moderated, sees the whole queue.
        let claire = signed_in(&app, baraza::demo::ACCOUNTS[2].email).await;
        let queue = get_json(&app, &claire, &format!("{}/reports", project())).await;
        assert_eq!(queue["moderator"], true);
        assert_eq!(queue["total"], total, "{queue}");
        app.stop().await;
    }
}
