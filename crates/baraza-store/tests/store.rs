//! The Store API on every backend: SQLite always, PostgreSQL when `BARAZA_TEST_DATABASE_URL` is set.

use baraza_store::testing::{backends, fresh};
use baraza_store::{
    MemberChange, NewProject, NewToken, NewUser, Session, Store, StoreError, StoreOptions,
};
use baraza_types::{OrgRole, Role, UserId, Visibility};

async fn open(url: &str) -> Store {
    Store::open(url, &StoreOptions::default())
        .await
        .expect("open store")
}

fn user<'a>(email: &'a str, name: &'a str) -> NewUser<'a> {
    NewUser {
        email,
        name,
        password_hash: "$argon2id$dummy",
        is_admin: false,
        locale: None,
        created_at: 100,
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_concurrent() {
    for backend in backends() {
        let db = fresh(backend).await;
        // Several instances starting at once must not race.
        let opts = StoreOptions::default();
        let (a, b, c) = tokio::join!(
            Store::open(&db.url, &opts),
            Store::open(&db.url, &opts),
            Store::open(&db.url, &opts),
        );
        let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
        a.migrate().await.unwrap();
        let status = a.migration_status().await.unwrap();
        assert!(
            !status.is_empty() && status.iter().all(|m| m.applied),
            "{status:?}"
        );
        assert_eq!(a.backend(), backend);
        a.ping().await.unwrap();
        for s in [a, b, c] {
            s.close().await;
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn users_are_unique_by_email_ignoring_case() {
    for backend in backends() {
        let db = fresh(backend).await;
        let s = open(&db.url).await;
        let u = s
            .create_user(&user("Amina@Example.org", "Amina"))
            .await
            .unwrap();
        assert_eq!(u.email, "Amina@Example.org");
        let found = s
            .user_by_email(" amina@example.ORG ")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, u.id);
        let err = s
            .create_user(&user("amina@example.org", "Other"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    what: "users.email"
                }
            ),
            "{err:?}"
        );
        assert!(s.set_password_hash(u.id, "$argon2id$new").await.unwrap());
        assert!(!s.set_password_hash(UserId(999_999), "x").await.unwrap());
        s.set_user_locale(u.id, Some("fr")).await.unwrap();
        let again = s.user_by_id(u.id).await.unwrap().unwrap();
        assert_eq!(
            (again.password_hash.as_str(), again.locale.as_deref()),
            ("$argon2id$new", Some("fr"))
        );
        assert_eq!(s.list_users().await.unwrap().len(), 1);
        s.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn organisations_projects_and_members() {
    for backend in backends() {
        let db = fresh(backend).await;
        let s = open(&db.url).await;
        let amina = s.create_user(&user("amina@x.org", "Amina")).await.unwrap();
        let moussa = s
            .create_user(&user("moussa@x.org", "Moussa"))
            .await
            .unwrap();
        let org = s
            .create_org("eau", "Eau", "", Some(amina.id), 1)
            .await
            .unwrap();
        assert_eq!(
            s.org_role(org.id, amina.id).await.unwrap(),
            Some(OrgRole::Owner)
        );
        assert_eq!(s.org_role(org.id, moussa.id).await.unwrap(), None);
        let err = s.create_org("eau", "Again", "", None, 1).await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    what: "organisations.slug"
                }
            ),
            "{err:?}"
        );

        let new = |slug: &'static str, v| NewProject {
            org: org.id,
            slug,
            name: "P",
            description: "",
            visibility: v,
            owner: Some(amina.id),
            created_at: 2,
        };
        let private = s
            .create_project(&new("private", Visibility::Private))
            .await
            .unwrap();
        s.create_project(&new("public", Visibility::Public))
            .await
            .unwrap();
        let err = s
            .create_project(&new("private", Visibility::Public))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    what: "projects.slug"
                }
            ),
            "{err:?}"
        );
        // The failed insert left nothing behind (one transaction with the owner's membership).
        assert_eq!(s.list_projects(None, None, true).await.unwrap().len(), 2);

        // Visibility of lists.
        let anon = s.list_projects(None, None, false).await.unwrap();
        assert_eq!(
            anon.iter()
                .map(|p| p.project.slug.as_str())
                .collect::<Vec<_>>(),
            ["public"]
        );
        let moussa_sees = s
            .list_projects(Some(org.id), Some(moussa.id), false)
            .await
            .unwrap();
        assert_eq!(moussa_sees.len(), 1);
        assert_eq!(
            s.set_member_role(private.id, moussa.id, Role::Viewer, 3)
                .await
                .unwrap(),
            MemberChange::Done
        );
        let moussa_sees = s
            .list_projects(Some(org.id), Some(moussa.id), false)
            .await
            .unwrap();
        assert_eq!(moussa_sees.len(), 2);
        assert!(moussa_sees
            .iter()
            .any(|p| p.member_role == Some(Role::Viewer)));
        let amina_sees = s.list_projects(None, Some(amina.id), false).await.unwrap();
        assert!(amina_sees.iter().all(|p| p.org_owner));

        // The last owner stays.
        assert_eq!(
            s.set_member_role(private.id, amina.id, Role::Manager, 4)
                .await
                .unwrap(),
            MemberChange::LastOwner
        );
        assert_eq!(
            s.remove_member(private.id, amina.id).await.unwrap(),
            MemberChange::LastOwner
        );
        assert_eq!(
            s.project_role(private.id, amina.id).await.unwrap(),
            Some(Role::Owner)
        );
        // With a second owner, the first may step down.
        s.set_member_role(private.id, moussa.id, Role::Owner, 5)
            .await
            .unwrap();
        assert_eq!(
            s.set_member_role(private.id, amina.id, Role::Analyst, 6)
                .await
                .unwrap(),
            MemberChange::Done
        );
        assert_eq!(
            s.remove_member(private.id, UserId(999_999)).await.unwrap(),
            MemberChange::NotMember
        );
        let members = s.list_members(private.id).await.unwrap();
        assert_eq!(members.len(), 2);

        s.update_project(private.id, "Nouveau nom", "desc", Visibility::Public)
            .await
            .unwrap();
        let p = s.project_by_id(private.id).await.unwrap().unwrap();
        assert_eq!(
            (p.name.as_str(), p.visibility),
            ("Nouveau nom", Visibility::Public)
        );
        s.set_org_member(org.id, moussa.id, OrgRole::Member, 7)
            .await
            .unwrap();
        s.set_org_member(org.id, moussa.id, OrgRole::Owner, 8)
            .await
            .unwrap();
        assert_eq!(
            s.org_role(org.id, moussa.id).await.unwrap(),
            Some(OrgRole::Owner)
        );
        s.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn sessions_tokens_and_throttling_records() {
    for backend in backends() {
        let db = fresh(backend).await;
        let s = open(&db.url).await;
        let u = s.create_user(&user("u@x.org", "U")).await.unwrap();
        let org = s.create_org("o1", "O", "", Some(u.id), 1).await.unwrap();
        let p = s
            .create_project(&NewProject {
                org: org.id,
                slug: "p1",
                name: "P",
                description: "",
                visibility: Visibility::Private,
                owner: Some(u.id),
                created_at: 1,
            })
            .await
            .unwrap();

        let session = |h: &str| Session {
            id_hash: h.to_owned(),
            user_id: u.id,
            csrf_token: "c".into(),
            created_at: 10,
            last_seen_at: 10,
            expires_at: 100,
            ip: Some("127.0.0.1".into()),
            user_agent: None,
        };
        s.create_session(&session("a")).await.unwrap();
        s.create_session(&session("b")).await.unwrap();
        assert!(s.live_session("a", 50).await.unwrap().is_some());
        assert!(
            s.live_session("a", 100).await.unwrap().is_none(),
            "expired at expires_at"
        );
        s.touch_session("a", 90, 200).await.unwrap();
        assert!(s.live_session("a", 150).await.unwrap().is_some());
        assert_eq!(s.delete_user_sessions(u.id, Some("a")).await.unwrap(), 1);
        assert!(s.live_session("b", 50).await.unwrap().is_none());
        s.delete_session("a").await.unwrap();
        assert!(s.live_session("a", 150).await.unwrap().is_none());

        let t = s
            .create_token(&NewToken {
                token_hash: "h1",
                prefix: "bz_abc",
                user: u.id,
                project: p.id,
                role: Role::Viewer,
                name: "n",
                created_at: 1,
                expires_at: 1000,
            })
            .await
            .unwrap();
        assert_eq!(s.token_by_hash("h1").await.unwrap().unwrap().id, t.id);
        let err = s
            .create_token(&NewToken {
                token_hash: "h1",
                prefix: "bz_abc",
                user: u.id,
                project: p.id,
                role: Role::Viewer,
                name: "n",
                created_at: 1,
                expires_at: 1000,
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }));
        s.touch_token(t.id, 5).await.unwrap();
        let listed = s.list_tokens(u.id).await.unwrap();
        assert_eq!(
            (
                listed.len(),
                listed[0].token.last_used_at,
                listed[0].project_slug.as_str()
            ),
            (1, Some(5), "p1")
        );
        assert!(s.revoke_token(t.id, u.id, 6).await.unwrap());
        assert!(
            !s.revoke_token(t.id, u.id, 7).await.unwrap(),
            "already revoked"
        );

        s.record_login_failure(&["acct:u", "ip:1"], 100)
            .await
            .unwrap();
        s.record_login_failure(&["acct:u"], 200).await.unwrap();
        assert_eq!(s.login_failures("acct:u", 50).await.unwrap(), (2, 200));
        assert_eq!(s.login_failures("acct:u", 150).await.unwrap(), (1, 200));
        assert_eq!(s.login_failures("nobody", 0).await.unwrap(), (0, 0));
        s.clear_login_failures("acct:u").await.unwrap();
        assert_eq!(s.login_failures("acct:u", 0).await.unwrap().0, 0);
        s.create_session(&session("c")).await.unwrap();
        assert_eq!(
            s.purge_expired(1000, 1000).await.unwrap(),
            2,
            "session c and the ip failure"
        );
        s.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_urls_are_refused_clearly() {
    for url in ["mysql://x", "sqlite::memory:"] {
        let err = Store::connect(url, &StoreOptions::default())
            .await
            .err()
            .expect(url);
        assert!(matches!(err, StoreError::Config(_)), "{url}: {err:?}");
    }
}
