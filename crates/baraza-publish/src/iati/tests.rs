use super::*;

fn fields() -> ActivityFields {
    ActivityFields {
        lang: "fr".into(),
        title_fr: "Eau potable à Mongo".into(),
        title_en: "Drinking water in Mongo".into(),
        description_fr: "Forages & réhabilitation <2026>".into(),
        description_en: "Boreholes and repairs".into(),
        status: "2".into(),
        planned_start: "2026-01-01".into(),
        actual_start: "2026-01-15".into(),
        planned_end: "2027-12-31".into(),
        actual_end: String::new(),
        country: "TD".into(),
        region: String::new(),
        country_percentage: String::new(),
        sectors: vec![
            SectorShare {
                code: "14031".into(),
                percentage: "60".into(),
            },
            SectorShare {
                code: "14032".into(),
                percentage: "40".into(),
            },
        ],
        currency: "XAF".into(),
        humanitarian: false,
        participants: vec![
            Participant {
                role: "1".into(),
                name: "Fondation \"Eau\"".into(),
                reference: "XM-DAC-41114".into(),
                org_type: "60".into(),
            },
            Participant {
                role: "4".into(),
                name: "Association Tchad".into(),
                reference: String::new(),
                org_type: "22".into(),
            },
        ],
    }
}

fn reporting() -> Reporting {
    Reporting {
        identifier: "TD-MEPD-1234".into(),
        org_type: "22".into(),
        name: "Association <Tchad>".into(),
    }
}

fn budget(start: &str, end: &str, value: &str) -> Budget {
    Budget {
        id: 1,
        budget_type: "1".into(),
        status: "2".into(),
        period_start: start.into(),
        period_end: end.into(),
        value: value.into(),
        currency: "XAF".into(),
        value_date: start.into(),
    }
}

fn transaction(ty: &str, value: &str) -> Transaction {
    Transaction {
        id: 1,
        transaction_type: ty.into(),
        date: "2026-03-01".into(),
        value: value.into(),
        currency: "XAF".into(),
        value_date: "2026-03-01".into(),
        description: "Tranche 1".into(),
        provider_name: "Fondation".into(),
        provider_ref: "XM-DAC-41114".into(),
        receiver_name: "Association".into(),
        receiver_ref: String::new(),
    }
}

const TODAY: i64 = 20_700; // 2026-09-05

fn reasons(p: &[Problem]) -> Vec<&'static str> {
    p.iter().map(|p| p.reason).collect()
}

#[test]
fn identifiers() {
    for ok in [
        "XM-DAC-41114",
        "TD-MEPD-1234",
        "GB-CHC-202918",
        "XI-IATI-ABC.1",
    ] {
        assert!(valid_org_identifier(ok), "{ok}");
    }
    for bad in [
        "",
        "41114",
        "XM-DAC",
        "xm-dac-1",
        "TD-MEPD-12/34",
        "TD-MEPD-1&2",
        "TD-A-B?",
        "TD-A-B|C",
        "TD-A B-1",
        "TD--1",
        "TCD-A-1",
    ] {
        assert!(!valid_org_identifier(bad), "{bad}");
    }
    assert!(valid_code("EAU-2026_1.a"));
    assert!(!valid_code("") && !valid_code("a/b") && !valid_code(&"a".repeat(51)));
    assert_eq!(identifier("TD-MEPD-1234", "EAU"), "TD-MEPD-1234-EAU");
}

#[test]
fn amounts() {
    let cases = [
        ("1250000", Some("1250000")),
        ("1 250 000,50", Some("1250000.50")),
        ("1\u{202f}250\u{a0}000", Some("1250000")),
        ("-300.5", Some("-300.5")),
        ("007", Some("7")),
        ("-0", Some("0")),
        ("1.", None),
        (".5", None),
        ("1.234", None),
        ("1e6", None),
        ("12,345.6", None),
        ("NaN", None),
        ("", None),
        ("1234567890123456", None),
    ];
    for (s, want) in cases {
        assert_eq!(amount(s).as_deref(), want, "{s}");
    }
    assert_eq!(hundredths("1250000.5"), Some(125_000_050));
    assert_eq!(hundredths("-0.05"), Some(-5));
    assert_eq!(from_hundredths(125_000_050), "1250000.50");
    assert_eq!(from_hundredths(-5), "-0.05");
    assert_eq!(sum(["0.1", "0.2", "x", "1000000"]), "1000000.30");
}

#[test]
fn a_good_activity_passes() {
    assert_eq!(check_activity("EAU", &fields(), TODAY), vec![]);
    let mut lone = fields();
    lone.sectors = vec![SectorShare {
        code: "14031".into(),
        percentage: String::new(),
    }];
    assert_eq!(check_activity("EAU", &lone, TODAY), vec![]);
    assert!(check_org("TD-MEPD-1234", "22").is_empty());
    assert_eq!(
        reasons(&check_org("TD/1", "99")),
        ["iati_org_identifier", "iati_org_type"]
    );
}

#[test]
fn activity_problems_are_all_said() {
    type Edit = fn(&mut ActivityFields);
    let cases: &[(Edit, &str, &str)] = &[
        (
            |f| {
                f.title_fr.clear();
                f.title_en.clear();
            },
            "title",
            "iati_title",
        ),
        (|f| f.status = "9".into(), "status", "iati_status"),
        (
            |f| f.planned_end = "2025-12-31".into(),
            "planned_end",
            "iati_date_order",
        ),
        (
            |f| f.planned_start = "2026-02-30".into(),
            "planned_start",
            "iati_date",
        ),
        (
            |f| f.actual_start = "2027-01-01".into(),
            "actual_start",
            "iati_future",
        ),
        (
            |f| f.actual_start.clear(),
            "actual_start",
            "iati_actual_start_needed",
        ),
        (
            |f| f.status = "4".into(),
            "actual_end",
            "iati_actual_end_needed",
        ),
        (|f| f.country = "ZZ".into(), "country", "iati_country"),
        (
            |f| f.region = "289".into(),
            "country_percentage",
            "iati_country_percentage",
        ),
        (
            |f| f.sectors[1].percentage = "30".into(),
            "sectors",
            "iati_sector_percentages",
        ),
        (
            |f| f.sectors[1].percentage.clear(),
            "sectors",
            "iati_sector_percentages",
        ),
        (
            |f| f.sectors[1].code = "99999".into(),
            "sectors",
            "iati_sector",
        ),
        (
            |f| f.sectors[1].code = "14031".into(),
            "sectors",
            "iati_sector_twice",
        ),
        (|f| f.sectors.clear(), "sectors", "iati_sector_needed"),
        (|f| f.currency = "FCFA".into(), "currency", "iati_currency"),
        (
            |f| f.participants.clear(),
            "participants",
            "iati_participant_needed",
        ),
        (
            |f| f.participants[0].role = "5".into(),
            "participants",
            "iati_participant",
        ),
        (
            |f| f.participants[0].reference = "a/b".into(),
            "participants",
            "iati_participant",
        ),
        (|f| f.lang = "de".into(), "lang", "iati_lang"),
    ];
    for (edit, field, reason) in cases {
        let mut f = fields();
        edit(&mut f);
        let p = check_activity("EAU", &f, TODAY);
        assert!(
            p.contains(&Problem { field, reason }),
            "{field} {reason}: {p:?}"
        );
    }
    let mut f = fields();
    f.currency = "EURO".into();
    f.country = "Tchad".into();
    assert_eq!(
        reasons(&check_activity("a/b", &f, TODAY)),
        ["iati_code", "iati_country", "iati_currency"]
    );
    let mut f = fields();
    f.planned_start.clear();
    f.actual_start.clear();
    f.status = "1".into();
    assert_eq!(
        reasons(&check_activity("EAU", &f, TODAY)),
        ["iati_start_needed"]
    );
}

#[test]
fn budgets_and_transactions() {
    assert!(check_budget(&budget("2026-01-01", "2026-12-31", "1000")).is_empty());
    assert!(check_budget(&budget("2024-02-29", "2025-02-28", "1000")).is_empty());
    assert_eq!(
        reasons(&check_budget(&budget("2026-01-01", "2027-01-01", "1000"))),
        ["iati_budget_period"]
    );
    assert_eq!(
        reasons(&check_budget(&budget("2026-07-01", "2026-06-30", "1"))),
        ["iati_date_order"]
    );
    assert_eq!(
        reasons(&check_budget(&budget("2026-01-01", "2026-06-30", "-1"))),
        ["iati_negative"]
    );
    let mut b = budget("2026-01-01", "2026-06-30", "1,5");
    b.currency = "XXX".into();
    b.budget_type = "3".into();
    assert_eq!(
        reasons(&check_budget(&b)),
        ["iati_budget_type", "iati_currency"]
    );
    assert!(check_transaction(&transaction("3", "-500")).is_empty());
    let mut t = transaction("14", "abc");
    t.provider_ref = "x&y".into();
    t.date = "2026-13-01".into();
    assert_eq!(
        reasons(&check_transaction(&t)),
        [
            "iati_transaction_type",
            "iati_date",
            "iati_amount",
            "iati_reference"
        ]
    );
}

fn names(doc: &roxmltree::Document, parent: roxmltree::Node) -> Vec<String> {
    let _ = doc;
    parent
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name().to_string())
        .collect()
}

#[test]
fn writes_the_schema_order_escaped() {
    let f = fields();
    let budgets = [
        budget("2026-01-01", "2026-12-31", "12000000"),
        budget("2027-01-01", "2027-12-31", "8000000.50"),
    ];
    let transactions = [transaction("1", "20000000"), transaction("4", "1 500,25")];
    let a = Activity {
        code: "EAU",
        fields: &f,
        budgets: &budgets,
        transactions: &transactions,
        last_updated: 1_790_000_000,
    };
    let xml = document(&reporting(), &[a], 1_790_100_000);
    let doc = roxmltree::Document::parse(&xml).expect(&xml);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "iati-activities");
    assert_eq!(root.attribute("version"), Some("2.03"));
    assert!(root
        .attribute("generated-datetime")
        .unwrap()
        .starts_with("2026-"));
    let act = root.first_element_child().unwrap();
    assert_eq!(act.attribute("default-currency"), Some("XAF"));
    assert_eq!(act.attribute("hierarchy"), Some("1"));
    assert_eq!(
        act.attribute(("http://www.w3.org/XML/1998/namespace", "lang")),
        Some("fr")
    );
    assert_eq!(
        names(&doc, act),
        [
            "iati-identifier",
            "reporting-org",
            "title",
            "description",
            "participating-org",
            "participating-org",
            "activity-status",
            "activity-date",
            "activity-date",
            "activity-date",
            "recipient-country",
            "sector",
            "sector",
            "budget",
            "budget",
            "transaction",
            "transaction",
        ]
    );
    let text_of = |name: &str| {
        act.descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(text_of("iati-identifier"), "TD-MEPD-1234-EAU");
    let desc = act
        .children()
        .find(|n| n.has_tag_name("description"))
        .unwrap();
    let narr: Vec<_> = desc.children().filter(|n| n.is_element()).collect();
    assert_eq!(narr[0].text(), Some("Forages & réhabilitation <2026>"));
    assert_eq!(
        narr[1].attribute(("http://www.w3.org/XML/1998/namespace", "lang")),
        Some("en")
    );
    let org = act
        .children()
        .find(|n| n.has_tag_name("participating-org"))
        .unwrap();
    assert_eq!(org.attribute("ref"), Some("XM-DAC-41114"));
    assert_eq!(org.attribute("role"), Some("1"));
    assert_eq!(
        org.first_element_child().unwrap().text(),
        Some("Fondation \"Eau\"")
    );
    let budget = act.children().find(|n| n.has_tag_name("budget")).unwrap();
    assert_eq!(names(&doc, budget), ["period-start", "period-end", "value"]);
    let tx: Vec<_> = act
        .children()
        .filter(|n| n.has_tag_name("transaction"))
        .collect();
    assert_eq!(
        names(&doc, tx[1]),
        [
            "transaction-type",
            "transaction-date",
            "value",
            "description",
            "provider-org",
            "receiver-org"
        ]
    );
    let v = tx[1].children().find(|n| n.has_tag_name("value")).unwrap();
    assert_eq!(v.text(), Some("1500.25"));
    assert_eq!(v.attribute("value-date"), Some("2026-03-01"));
    // A region splits the recipients' shares.
    let mut f = fields();
    f.region = "289".into();
    f.country_percentage = "75".into();
    let a = Activity {
        code: "EAU",
        fields: &f,
        budgets: &[],
        transactions: &[],
        last_updated: 0,
    };
    let xml = document(&reporting(), &[a], 0);
    assert!(
        xml.contains("<recipient-country code=\"TD\" percentage=\"75\"/>"),
        "{xml}"
    );
    assert!(xml.contains("<recipient-region code=\"289\" vocabulary=\"1\" percentage=\"25\"/>"));
    assert!(!xml.contains("<!DOCTYPE"));
}
