//! A dataset's versions, on every backend: each write that alters what a reader gets records
//! one, in the same transaction; a write that changes nothing, or fails, records none.

use baraza_catalogue::versions::Start;
use baraza_catalogue::{DatasetState, ResourceKind, Source};
use baraza_store::testing::{backends, fresh};
use baraza_store::{
    DatasetWrite, HarvestSourceWrite, HarvestWrite, NewProject, NewUser, ResourceWrite, Store,
    StoreError, StoreOptions, VersionAuthor,
};
use baraza_types::Visibility;

fn write<'a>(name: &'a str, title: &'a str, tags: &'a [String]) -> DatasetWrite<'a> {
    DatasetWrite {
        name,
        title,
        notes: "",
        license_id: "cc-by",
        state: DatasetState::Published,
        private: false,
        frequency: "",
        temporal_start: "",
        temporal_end: "",
        spatial: &[],
        spatial_label: "",
        methodology: "",
        version: "",
        maintainer: "",
        maintainer_email: "",
        tags,
        groups: &[],
    }
}

fn file<'a>(uuid: &'a str, kind: &'a ResourceKind, hash: &'a str) -> ResourceWrite<'a> {
    ResourceWrite {
        uuid,
        name: uuid,
        description: "",
        format: "CSV",
        media_type: "text/csv",
        file_name: "f.csv",
        size: Some(42),
        hash: Some(hash),
        kind,
        fields: &[],
    }
}

#[tokio::test]
async fn every_change_records_one_version_and_nothing_else_does() {
    for backend in backends() {
        let db = fresh(backend).await;
        let s = Store::open(&db.url, &StoreOptions::default())
            .await
            .unwrap();
        let u = s
            .create_user(&NewUser {
                email: "amina@example.org",
                name: "Amina",
                password_hash: "$argon2id$dummy",
                is_admin: false,
                locale: None,
                created_at: 1,
            })
            .await
            .unwrap();
        let org = s.create_org("o", "O", "", Some(u.id), 1).await.unwrap();
        let p = s
            .create_project(&NewProject {
                org: org.id,
                slug: "p",
                name: "P",
                description: "",
                visibility: Visibility::Public,
                owner: Some(u.id),
                created_at: 1,
            })
            .await
            .unwrap();
        let pid = p.id.0;
        let by = VersionAuthor::User(u.id.0);
        let tags = vec!["eau".to_string()];
        let a = ResourceKind::File {
            sha256: "aa".into(),
        };
        let b = ResourceKind::File {
            sha256: "bb".into(),
        };
        let row = s
            .insert_dataset(
                pid,
                "u1",
                &write("eau", "Eau", &tags),
                &Source::Upload,
                &[file("r1", &a, "sha256:aa")],
                Some(u.id.0),
                10,
            )
            .await
            .unwrap();
        s.insert_dataset(
            pid,
            "u2",
            &write("autre", "Autre", &tags),
            &Source::Upload,
            &[],
            None,
            10,
        )
        .await
        .unwrap();
        // Saving the same metadata again is no version.
        s.update_dataset(row, &write("eau", "Eau", &tags), by, 11)
            .await
            .unwrap();
        // A write that fails (the name is taken) records nothing.
        let taken = s
            .update_dataset(row, &write("autre", "Eau potable", &tags), by, 12)
            .await;
        assert!(
            matches!(taken, Err(StoreError::Conflict { .. })),
            "{taken:?}"
        );
        s.update_dataset(row, &write("eau", "Eau potable", &tags), by, 13)
            .await
            .unwrap();
        s.add_resource(row, &file("r2", &b, "sha256:bb"), by, 14)
            .await
            .unwrap();
        assert!(s
            .delete_resource(row, "r1", VersionAuthor::System, 15)
            .await
            .unwrap());
        assert!(!s
            .delete_resource(row, "r1", VersionAuthor::System, 16)
            .await
            .unwrap());

        let v = s.dataset_versions(row).await.unwrap();
        let numbers: Vec<i64> = v.iter().map(|v| v.number).collect();
        assert_eq!(numbers, [4, 3, 2, 1], "newest first");
        assert_eq!(v[3].changes.start, Start::Created);
        assert_eq!(v[3].changes.added[0].hash.as_deref(), Some("sha256:aa"));
        assert_eq!(v[3].author, by);
        assert_eq!(v[3].author_name.as_deref(), Some("Amina"));
        assert_eq!(v[2].changes.fields, ["title"]);
        assert_eq!(v[2].created_at, 13);
        assert_eq!(v[1].changes.added[0].id, "r2");
        assert_eq!(v[1].changes.added[0].size, Some(42));
        assert_eq!(v[0].changes.removed[0].hash.as_deref(), Some("sha256:aa"));
        assert_eq!(v[0].author, VersionAuthor::System);
        assert!(v.iter().all(|v| v.public));

        let (one, old) = s.dataset_version(row, 1).await.unwrap().unwrap();
        assert_eq!(one.number, 1);
        assert_eq!(old.title, "Eau");
        assert_eq!(old.resources.len(), 1);
        assert!(s.dataset_version(row, 5).await.unwrap().is_none());
        // The old file's blob is still named by the history.
        assert!(s.blob_in_catalogue("aa").await.unwrap());
        assert!(!s.blob_in_catalogue("cc").await.unwrap());

        // Harvest runs: a new id for the same link is no change; withdrawal is one.
        let src = s
            .insert_harvest_source(
                pid,
                &HarvestSourceWrite {
                    title: "Remote",
                    url: "https://example.org",
                    kind: "ckan",
                    filter: "",
                    default_licence: "cc-by",
                    schedule: "manual",
                },
                Some(u.id.0),
                20,
            )
            .await
            .unwrap();
        let link = ResourceKind::Link {
            url: "https://example.org/f.csv".into(),
        };
        let source = Source::Harvest {
            source_id: src,
            source_title: "Remote".into(),
            remote_id: "x".into(),
            original_url: String::new(),
        };
        let (w1, w2) = (
            write("remote", "Remote", &tags),
            write("", "Remote 2", &tags),
        );
        let (r1, r2) = (
            [file("h1", &link, "sha256:aa")],
            [file("h2", &link, "sha256:aa")],
        );
        let h = |w, r| HarvestWrite {
            source_id: src,
            remote_id: "x",
            content_hash: "h",
            remote_modified: None,
            dataset: w,
            source: &source,
            resources: r,
        };
        let hrow = s
            .harvest_create(pid, "u3", &h(&w1, &r1), Some(u.id.0), 21)
            .await
            .unwrap();
        s.harvest_update(hrow, &h(&w2, &r2), 22).await.unwrap();
        s.harvest_withdraw(src, "x", 23).await.unwrap();
        let v = s.dataset_versions(hrow).await.unwrap();
        assert_eq!(v.len(), 3);
        assert!(v.iter().all(|v| v.author == VersionAuthor::Harvest));
        assert_eq!(v[1].changes.fields, ["title"]);
        assert!(v[1].changes.added.is_empty() && v[1].changes.removed.is_empty());
        assert_eq!(v[0].changes.fields, ["state"]);
        assert!(!v[0].public && v[1].public);

        // Deleting a dataset deletes its history.
        assert!(s.delete_dataset(row).await.unwrap());
        assert!(s.dataset_versions(row).await.unwrap().is_empty());
        s.close().await;
        db.cleanup().await;
    }
}
