//! The queries of ODK Central's API on every backend: the feed's filter (OData's null rules,
//! `NOT`), keyset paging newest first, the system data of edited submissions, Digest's rows.

use baraza_store::testing::{backends, fresh};
use baraza_store::{
    FeedPage, FilterOp, FilterValue, IngestOutcome, NewFormVersion, NewProject, NewSubmission,
    NewUser, RowScope, Store, StoreOptions, SubmissionField, SubmissionFilter, SubmissionQuery,
};
use baraza_types::{UserId, Visibility};

fn cmp(field: SubmissionField, op: FilterOp, value: FilterValue) -> SubmissionFilter {
    SubmissionFilter::Cmp(field, op, value)
}

#[tokio::test]
async fn the_feed_filters_pages_and_describes_submissions() {
    use FilterOp::*;
    use SubmissionField::*;
    for backend in backends() {
        let db = fresh(backend).await;
        let s = Store::open(&db.url, &StoreOptions::default())
            .await
            .unwrap();
        let amina = s
            .create_user(&NewUser {
                email: "amina@x.org",
                name: "Amina",
                password_hash: "$argon2id$dummy",
                is_admin: false,
                locale: None,
                created_at: 1,
            })
            .await
            .unwrap();
        let org = s
            .create_org("eau", "Eau", "", Some(amina.id), 1)
            .await
            .unwrap();
        let project = s
            .create_project(&NewProject {
                org: org.id,
                slug: "p",
                name: "P",
                description: "",
                visibility: Visibility::Private,
                owner: Some(amina.id),
                created_at: 1,
            })
            .await
            .unwrap();
        let (form, version) = s
            .add_form_version(&NewFormVersion {
                project: project.id,
                xml_form_id: "f",
                version: "1",
                title: "F",
                xform: "<x/>",
                xform_md5: "md5:0",
                model_json: "{}",
                warnings_json: "[]",
                source_name: "f.md",
                source_sha256: "0",
                created_by: Some(amina.id),
                created_at: 1,
            })
            .await
            .unwrap();
        let phone = s
            .create_app_user(project.id, "Phone", "hash", Some(amina.id), 1)
            .await
            .unwrap();
        let put = |id: &'static str, dep: Option<&'static str>, user: Option<UserId>, at: i64| {
            let s = s.clone();
            async move {
                s.insert_submission(NewSubmission {
                    form_id: form.id,
                    form_version_id: version.id,
                    instance_id: id.to_owned(),
                    deprecated_id: dep.map(str::to_owned),
                    xml: format!("<data><meta><instanceID>{id}</instanceID></meta></data>"),
                    xml_sha256: id.to_owned(),
                    xml_size: 0,
                    // i1 and the edit i3b in one region, i2 and i3 in another.
                    values_json: format!(
                        r#"[{{"path":"/data/region","question":"/data/region","value":{{"type":"choice","value":"{}"}}}}]"#,
                        if matches!(id, "i1" | "i3b") { "lac" } else { "kanem" }
                    ),
                    key_version: None,
                    subjects: Vec::new(),
                    app_user_id: user.is_none().then_some(phone.id),
                    user_id: user,
                    received_at: at,
                    attachments: vec!["a.jpg".to_owned()],
                    files: Vec::new(),
                    consent: None,
                })
                .await
                .unwrap()
            }
        };
        assert!(matches!(
            put("i1", None, None, 1000).await,
            IngestOutcome::Created(_)
        ));
        put("i2", None, Some(amina.id), 2000).await;
        put("i3", None, None, 3000).await;
        put("i3b", Some("i3"), Some(amina.id), 5000).await;

        // Keyset paging, newest first; the edited submission is known by its first instanceID.
        let page = |before, offset, limit| {
            let s = s.clone();
            async move {
                s.feed_rows(&FeedPage {
                    form_id: form.id,
                    scope: &RowScope::default(),
                    filter: None,
                    before_id: before,
                    offset,
                    limit,
                })
                .await
                .unwrap()
            }
        };
        let all = page(None, 0, 10).await;
        let roots: Vec<&str> = all.iter().map(|r| r.root_instance_id.as_str()).collect();
        assert_eq!(roots, ["i3", "i2", "i1"]);
        let i3 = &all[0];
        assert_eq!(i3.instance_id, "i3b");
        assert_eq!(
            (i3.created_at, i3.updated_at, i3.edits),
            (3000, Some(5000), 1)
        );
        assert_eq!(i3.review_state.as_deref(), Some("edited"));
        assert_eq!(i3.submitter_id, Some(amina.id.0));
        let i1 = &all[2];
        assert_eq!(i1.submitter_id, Some(-phone.id));
        assert_eq!(i1.submitter_name.as_deref(), Some("Phone"));
        assert_eq!(
            (i1.updated_at, i1.review_state.as_deref(), i1.edits),
            (None, None, 0)
        );
        assert_eq!((i1.attachments_expected, i1.attachments_present), (1, 0));
        assert_eq!(i1.form_version, "1");
        let rest = page(Some(all[1].id), 0, 10).await;
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].root_instance_id, "i1");
        let skipped = page(None, 1, 1).await;
        assert_eq!(skipped[0].root_instance_id, "i2");
        let all_rows = RowScope::default();
        let one = s.feed_row(form.id, "i3", &all_rows).await.unwrap().unwrap();
        assert_eq!(one.instance_id, "i3b");
        assert!(s
            .feed_row(form.id, "i3b", &all_rows)
            .await
            .unwrap()
            .is_none());

        // Filters, with OData's rules for null.
        let int = FilterValue::Int;
        let cases: Vec<(SubmissionFilter, &[&str])> = vec![
            (cmp(SubmissionDate, Ge, int(2000)), &["i3", "i2"]),
            (cmp(SubmissionDate, Lt, int(3000)), &["i2", "i1"]),
            (cmp(UpdatedAt, Eq, FilterValue::Null), &["i2", "i1"]),
            (cmp(UpdatedAt, Ne, FilterValue::Null), &["i3"]),
            (cmp(UpdatedAt, Gt, int(4000)), &["i3"]),
            (
                SubmissionFilter::Not(Box::new(cmp(UpdatedAt, Gt, int(4000)))),
                &["i2", "i1"],
            ),
            (cmp(UpdatedAt, Ne, int(5000)), &["i2", "i1"]),
            (cmp(SubmitterId, Eq, int(-phone.id)), &["i1"]),
            (cmp(SubmitterId, Ne, int(-phone.id)), &["i3", "i2"]),
            (
                cmp(ReviewState, Eq, FilterValue::Text("edited".into())),
                &["i3"],
            ),
            (cmp(ReviewState, Eq, FilterValue::Null), &["i2", "i1"]),
            (
                cmp(ReviewState, Ne, FilterValue::Text("edited".into())),
                &["i2", "i1"],
            ),
            (cmp(InstanceId, Eq, FilterValue::Text("i3".into())), &["i3"]),
            (cmp(InstanceId, Eq, FilterValue::Text("i3b".into())), &[]),
            (
                SubmissionFilter::Or(
                    Box::new(cmp(SubmissionDate, Lt, int(1500))),
                    Box::new(cmp(InstanceId, Eq, FilterValue::Text("i2".into()))),
                ),
                &["i2", "i1"],
            ),
            (
                SubmissionFilter::And(
                    Box::new(SubmissionFilter::Const(true)),
                    Box::new(SubmissionFilter::Const(false)),
                ),
                &[],
            ),
        ];
        for (filter, want) in cases {
            let rows = s
                .feed_rows(&FeedPage {
                    form_id: form.id,
                    scope: &RowScope::default(),
                    filter: Some(&filter),
                    before_id: None,
                    offset: 0,
                    limit: 10,
                })
                .await
                .unwrap();
            let got: Vec<&str> = rows.iter().map(|r| r.root_instance_id.as_str()).collect();
            assert_eq!(got, want, "{filter:?}");
            let n = s
                .feed_count(form.id, &all_rows, Some(&filter))
                .await
                .unwrap();
            assert_eq!(n, want.len() as i64, "{filter:?}");
        }
        assert_eq!(s.feed_count(form.id, &all_rows, None).await.unwrap(), 3);

        // Row scopes: the records whose first version a person sent (i3 was first sent by the
        // phone, edited by Amina: not hers); the records whose current answer is in a list
        // (i3's current version, i3b, is in `lac`); nothing; and with a filter after them.
        let mine = RowScope {
            first_sent_by: Some(amina.id.0),
            ..RowScope::default()
        };
        let lac = RowScope {
            answer_in: Some((r#"$."/data/region""#.into(), vec!["lac".into()])),
            ..RowScope::default()
        };
        let none = RowScope {
            nothing: true,
            ..RowScope::default()
        };
        let both = RowScope {
            first_sent_by: Some(amina.id.0),
            answer_in: Some((
                r#"$."/data/region""#.into(),
                vec!["lac".into(), "kanem".into()],
            )),
            nothing: false,
        };
        let recent = cmp(SubmissionDate, Ge, int(1500));
        for (scope, want, filtered) in [
            (&mine, &["i2"][..], &["i2"][..]),
            (&lac, &["i3", "i1"][..], &["i3"][..]),
            (&none, &[][..], &[][..]),
            (&both, &["i2"][..], &["i2"][..]),
        ] {
            for (filter, want) in [(None, want), (Some(&recent), filtered)] {
                let rows = s
                    .feed_rows(&FeedPage {
                        form_id: form.id,
                        scope,
                        filter,
                        before_id: None,
                        offset: 0,
                        limit: 10,
                    })
                    .await
                    .unwrap();
                let got: Vec<&str> = rows.iter().map(|r| r.root_instance_id.as_str()).collect();
                assert_eq!(got, want, "{scope:?} {filter:?}");
                let n = s.feed_count(form.id, scope, filter).await.unwrap();
                assert_eq!(n, want.len() as i64, "{scope:?} {filter:?}");
            }
            for root in ["i1", "i2", "i3"] {
                assert_eq!(
                    s.record_in_scope(form.id, root, scope).await.unwrap(),
                    want.contains(&root),
                    "{scope:?} {root}"
                );
                assert_eq!(
                    s.feed_row(form.id, root, scope).await.unwrap().is_some(),
                    want.contains(&root)
                );
            }
            let listed = s
                .find_submissions(form.id, scope, &SubmissionQuery::default(), None, 10)
                .await
                .unwrap();
            let mut got: Vec<&str> = listed.iter().map(|r| r.root_instance_id.as_str()).collect();
            got.sort_unstable();
            let mut want = want.to_vec();
            want.sort_unstable();
            assert_eq!(got, want, "{scope:?}");
        }

        // Digest rows follow the password in one transaction, and go with the choice.
        assert!(s.digest_credentials(amina.id).await.unwrap().is_none());
        s.set_digest_credentials(amina.id, "m1", "s1", 1)
            .await
            .unwrap();
        s.set_password_and_digest(amina.id, "$argon2id$new", Some(("m2", "s2")))
            .await
            .unwrap();
        assert_eq!(
            s.digest_credentials(amina.id).await.unwrap(),
            Some(("m2".to_owned(), "s2".to_owned()))
        );
        s.set_password_and_digest(amina.id, "$argon2id$newer", None)
            .await
            .unwrap();
        assert!(s.digest_credentials(amina.id).await.unwrap().is_none());
        // The nonce key is made once, whoever asks first.
        let a = s.server_secret("k", "first", 1).await.unwrap();
        let b = s.server_secret("k", "second", 2).await.unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("first", "first"));
        s.close().await;
        db.cleanup().await;
    }
}
