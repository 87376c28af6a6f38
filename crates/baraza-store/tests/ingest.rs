//! Group commit of submissions, on every backend: many submissions stored at once, replays and
//! conflicts among them (several of one instanceID in the same batch), racing edits, a failing
//! submission inside a batch, and the XML read back.

use baraza_store::testing::{backends, fresh};
use baraza_store::{
    BlobRef, IngestOutcome, NewFormVersion, NewProject, NewSubmission, ReceivedFile, Store,
    StoreError, StoreOptions, StoredFileRef, SubmissionXml,
};
use baraza_types::{ProjectId, Visibility};
use std::collections::HashMap;

/// A store with a project and a form version; returns (store, form id, version id, project).
async fn setup(url: &str) -> (Store, i64, i64, ProjectId) {
    let s = Store::open(url, &StoreOptions::default()).await.unwrap();
    let org = s.create_org("eau", "Eau", "", None, 1).await.unwrap();
    let project = s
        .create_project(&NewProject {
            org: org.id,
            slug: "p",
            name: "P",
            description: "",
            visibility: Visibility::Private,
            owner: None,
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
            xform: "<h:html/>",
            xform_md5: "md5:0",
            model_json: "{}",
            warnings_json: "[]",
            source_name: "f.md",
            source_sha256: "0",
            created_by: None,
            created_at: 1,
        })
        .await
        .unwrap();
    (s, form.id, version.id, project.id)
}

fn sub(form: i64, version: i64, id: &str, body: &str, dep: Option<&str>) -> NewSubmission {
    let xml =
        format!("<data id=\"f\"><v>{body}</v><meta><instanceID>{id}</instanceID></meta></data>");
    NewSubmission {
        form_id: form,
        form_version_id: version,
        instance_id: id.to_owned(),
        deprecated_id: dep.map(str::to_owned),
        // Any digest that differs when the bytes differ will do for the store.
        xml_sha256: format!("{:064x}", fnv(&xml)),
        xml_size: xml.len() as i64,
        xml,
        values_json: "[]".into(),
        key_version: None,
        subjects: Vec::new(),
        app_user_id: None,
        user_id: None,
        received_at: 2,
        attachments: vec!["photo.jpg".into()],
        files: Vec::new(),
        consent: None,
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Sends every submission at once. On a current-thread runtime each task queues its submission
/// before the writer (started by the first of them) runs, so they share batches, and several
/// submissions of one instanceID land in the same transaction.
async fn send_all(
    store: &Store,
    subs: Vec<NewSubmission>,
) -> Vec<(NewSubmission, Result<IngestOutcome, StoreError>)> {
    let mut set = tokio::task::JoinSet::new();
    for (i, s) in subs.into_iter().enumerate() {
        let store = store.clone();
        set.spawn(async move {
            let r = store.insert_submission(s.clone()).await;
            (i, s, r)
        });
    }
    let mut out: Vec<_> = set.join_all().await;
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, s, r)| (s, r)).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_submissions_replays_and_conflicts_keep_one_record_per_instance_id() {
    for backend in backends() {
        let db = fresh(backend).await;
        let (store, form, version, _) = setup(&db.url).await;

        // 100 records; a third sent twice with the same bytes, a fifth also with other bytes,
        // shuffled so that the first to arrive is sometimes the "other" one.
        let mut subs = Vec::new();
        for i in 0..100 {
            let id = format!("uuid:{i:04}");
            let a = sub(form, version, &id, &format!("a{i}"), None);
            let b = sub(form, version, &id, &format!("b{i}"), None);
            if i % 5 == 0 {
                subs.push(b.clone());
            }
            subs.push(a.clone());
            if i % 3 == 0 {
                subs.push(a);
            }
            if i % 5 == 1 {
                subs.push(b);
            }
        }
        let results = send_all(&store, subs).await;
        let stats = store.ingest_stats();
        assert_eq!(stats.submissions as usize, results.len());
        assert!(
            stats.batches < stats.submissions / 10,
            "submissions share commits: {stats:?}"
        );

        // Per instanceID: exactly one Created; the same bytes again are replays of that record,
        // other bytes conflicts.
        let mut winners: HashMap<String, (i64, String)> = HashMap::new();
        for (s, r) in &results {
            if let Ok(IngestOutcome::Created(id)) = r {
                let before = winners.insert(s.instance_id.clone(), (*id, s.xml_sha256.clone()));
                assert!(before.is_none(), "{} created twice", s.instance_id);
            }
        }
        assert_eq!(winners.len(), 100);
        let mut created = 0;
        for (s, r) in &results {
            let (id, sha) = &winners[&s.instance_id];
            match r.as_ref().unwrap() {
                IngestOutcome::Created(got) => {
                    assert_eq!(got, id);
                    created += 1;
                }
                IngestOutcome::Replay(got) => {
                    assert_eq!((got, &s.xml_sha256), (id, sha), "{}", s.instance_id)
                }
                IngestOutcome::Conflict => assert_ne!(&s.xml_sha256, sha, "{}", s.instance_id),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(created, 100);
        assert_eq!(
            store.list_submissions(form, 0, 1000).await.unwrap().len(),
            100
        );

        // Racing edits of one record: one wins, the other finds it already replaced; a replay of
        // the winning edit is a replay; an edit of an unknown record is refused.
        let mut edits = Vec::new();
        for i in 0..20 {
            let old = format!("uuid:{i:04}");
            edits.push(sub(
                form,
                version,
                &format!("uuid:e1-{i}"),
                "e1",
                Some(&old),
            ));
            edits.push(sub(
                form,
                version,
                &format!("uuid:e2-{i}"),
                "e2",
                Some(&old),
            ));
            edits.push(sub(
                form,
                version,
                &format!("uuid:e1-{i}"),
                "e1",
                Some(&old),
            ));
        }
        edits.push(sub(form, version, "uuid:e3", "e3", Some("uuid:nope")));
        let results = send_all(&store, edits).await;
        let outcomes: Vec<_> = results.iter().map(|(_, r)| *r.as_ref().unwrap()).collect();
        for i in 0..20 {
            let trio = &outcomes[i * 3..i * 3 + 3];
            assert!(
                matches!(
                    trio,
                    [
                        IngestOutcome::Created(_),
                        IngestOutcome::DeprecatedNotCurrent,
                        IngestOutcome::Replay(_)
                    ]
                ),
                "{trio:?}"
            );
        }
        assert_eq!(outcomes[60], IngestOutcome::DeprecatedUnknown);
        let current = store.list_submissions(form, 0, 1000).await.unwrap();
        assert_eq!(current.len(), 100, "an edit replaces, never adds");
        let history = store.submission_history(form, "uuid:0003").await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].instance_id, "uuid:e1-3");
        assert!(!history[0].is_current && history[1].is_current);

        // The XML is in the row, byte for byte.
        let row = store.submission(form, "uuid:e1-3").await.unwrap().unwrap();
        assert_eq!(
            store.submission_xml(row.id).await.unwrap(),
            Some(SubmissionXml::Inline(
                sub(form, version, "uuid:e1-3", "e1", None).xml
            ))
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_submission_does_not_sink_its_batch_and_late_files_are_merged() {
    for backend in backends() {
        let db = fresh(backend).await;
        let (store, form, version, _) = setup(&db.url).await;
        let mut subs: Vec<_> = (0..40)
            .map(|i| sub(form, version, &format!("uuid:{i}"), "x", None))
            .collect();
        // A form version that does not exist: the foreign key refuses it, inside the batch.
        subs.insert(20, sub(form, 999_999, "uuid:bad", "x", None));
        let results = send_all(&store, subs).await;
        for (s, r) in &results {
            if s.instance_id == "uuid:bad" {
                assert!(r.is_err(), "{r:?}");
            } else {
                assert!(matches!(r, Ok(IngestOutcome::Created(_))), "{r:?}");
            }
        }
        let stats = store.ingest_stats();
        assert_eq!(stats.split_batches, 1, "{stats:?}");
        assert_eq!(
            store.list_submissions(form, 0, 100).await.unwrap().len(),
            40
        );

        // A replay brings the photo: merged once; a second replay with other bytes for it does
        // not replace it.
        let photo = |sha: &str| ReceivedFile {
            name: "photo.jpg".into(),
            blob: BlobRef {
                sha256: sha.repeat(64),
                size: 3,
            },
            key: Some(format!("1:{sha}")),
        };
        let mut replay = sub(form, version, "uuid:7", "x", None);
        replay.files = vec![photo("a"), photo("b")];
        let outcome = store.insert_submission(replay.clone()).await.unwrap();
        let IngestOutcome::Replay(id) = outcome else {
            panic!("{outcome:?}")
        };
        replay.files = vec![photo("c")];
        store.insert_submission(replay).await.unwrap();
        assert_eq!(
            store.submission_attachments(id).await.unwrap(),
            vec![StoredFileRef {
                name: "photo.jpg".to_owned(),
                sha256: Some("a".repeat(64)),
                key: Some("1:a".to_owned()),
            }]
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn what_a_submission_request_reads_comes_in_one_query_each() {
    for backend in backends() {
        let db = fresh(backend).await;
        let (store, form, version, pid) = setup(&db.url).await;
        let (f, v) = store
            .form_with_version(pid, "f", "1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((f.id, v), (form, Some(version)));
        let (_, v) = store
            .form_with_version(pid, "f", "2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v, None, "a version the form does not have");
        assert!(store
            .form_with_version(pid, "g", "1")
            .await
            .unwrap()
            .is_none());

        let phone = store
            .create_app_user(pid, "phone", "digest-1", None, 3)
            .await
            .unwrap();
        let (u, p) = store
            .app_user_in_project("digest-1", pid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((u.id, u.name.as_str(), p.id), (phone.id, "phone", pid));
        let other = ProjectId(pid.0 + 1000);
        assert!(store
            .app_user_in_project("digest-1", other)
            .await
            .unwrap()
            .is_none());
        assert!(store.revoke_app_user(pid, phone.id, 4).await.unwrap());
        assert!(store
            .app_user_in_project("digest-1", pid)
            .await
            .unwrap()
            .is_none());
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_import_is_stored_whole_or_not_at_all() {
    for b in backends() {
        let db = fresh(b).await;
        let (store, form, version, _) = setup(&db.url).await;
        assert!(matches!(
            store
                .insert_submission(sub(form, version, "uuid:old", "a", None))
                .await
                .unwrap(),
            IngestOutcome::Created(_)
        ));
        // Two new rows, a replay, then a row that conflicts with what is stored: nothing.
        let refused = store
            .insert_submissions_atomic(vec![
                sub(form, version, "uuid:n1", "x", None),
                sub(form, version, "uuid:n2", "y", None),
                sub(form, version, "uuid:old", "a", None),
                sub(form, version, "uuid:old", "other bytes", None),
            ])
            .await
            .unwrap();
        assert_eq!(refused, Err((3, IngestOutcome::Conflict)));
        assert_eq!(store.list_submissions(form, 0, 100).await.unwrap().len(), 1);
        // An edit of a record that is not there refuses the whole import too.
        let refused = store
            .insert_submissions_atomic(vec![
                sub(form, version, "uuid:n1", "x", None),
                sub(form, version, "uuid:n3", "z", Some("uuid:nowhere")),
            ])
            .await
            .unwrap();
        assert_eq!(refused, Err((1, IngestOutcome::DeprecatedUnknown)));
        // All good: all stored, the replay recognised.
        let outcomes = store
            .insert_submissions_atomic(vec![
                sub(form, version, "uuid:n1", "x", None),
                sub(form, version, "uuid:n2", "y", None),
                sub(form, version, "uuid:old", "a", None),
            ])
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(outcomes[0], IngestOutcome::Created(_)));
        assert!(matches!(outcomes[2], IngestOutcome::Replay(_)));
        assert_eq!(store.list_submissions(form, 0, 100).await.unwrap().len(), 3);
        db.cleanup().await;
    }
}
