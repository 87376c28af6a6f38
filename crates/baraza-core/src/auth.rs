//! Accounts, passwords, sessions, API tokens and sign-in throttling.
//!
//! * Passwords are hashed with Argon2id (the `argon2` crate's defaults, OWASP's minimum:
//!   19 MiB, 2 passes), off the async runtime.
//! * A failed sign-in is recorded under the account and under the client address; past a limit
//!   within a window, further attempts are refused before the password is even checked, with the
//!   same answer whether or not the account exists.
//! * A session is a random 256-bit secret in a cookie; the store keeps its SHA-256, the user, a
//!   CSRF token and a sliding expiry.
//! * An API token (`bz_…`) is scoped to one project and a role, expires, can be revoked, and is
//!   stored as a SHA-256 digest. Tokens cannot mint tokens or change passwords.

use crate::access::{Principal, ProjectAccess, Via};
use crate::audit::{Actor, Target};
use crate::secret::{digest, random_secret};
use crate::{Core, CoreError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use baraza_store::{ApiToken, ApiTokenListing, NewToken, NewUser, Session, StoreError, User};
use baraza_types::{Permission, Role, TokenId, UserId};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_CHARS: usize = 1024;
/// The prefix that makes Baraza tokens recognisable (to people and to secret scanners).
pub const TOKEN_PREFIX: &str = "bz_";
/// The longest life an API token may be given, in days.
pub const MAX_TOKEN_DAYS: i64 = 365;

/// A session just opened: `secret` goes in the cookie and is never stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub session: Session,
    pub user: User,
}

/// A token just minted: `secret` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct MintedToken {
    pub secret: String,
    pub token: ApiToken,
}

/// Where a sign-in attempt comes from.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A random password of 20 letters and digits (about 117 bits), without look-alike characters,
/// for accounts created by an administrator and for resets.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub fn hash_password(password: &str) -> Result<String, CoreError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Store(StoreError::Corrupt(format!("argon2: {e}"))))
}

fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

async fn verify_off_runtime(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

async fn hash_off_runtime(password: String) -> Result<String, CoreError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| CoreError::Store(StoreError::Corrupt(format!("hashing task: {e}"))))?
}

/// Checks a new password against the policy.
pub fn check_password(password: &str, email: &str) -> Result<(), CoreError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n)
        || password.trim().eq_ignore_ascii_case(email.trim())
    {
        return Err(CoreError::WeakPassword {
            min: MIN_PASSWORD_CHARS,
        });
    }
    Ok(())
}

/// Checks an e-mail address well enough to catch typing mistakes.
pub fn check_email(email: &str) -> Result<(), CoreError> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
                && e.matches('@').count() == 1
        });
    if ok {
        Ok(())
    } else {
        Err(CoreError::Invalid {
            field: "email",
            reason: "email_format",
        })
    }
}

fn account_key(email: &str) -> String {
    format!("acct:{}", email.trim().to_lowercase())
}

fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

impl Core {
    /// Creates an account (from the CLI, the demo, or an administrator).
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password: &str,
        is_admin: bool,
        locale: Option<&str>,
    ) -> Result<User, CoreError> {
        check_email(email)?;
        check_password(password, email)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(CoreError::Invalid {
                field: "name",
                reason: "name_length",
            });
        }
        let hash = hash_off_runtime(password.to_owned()).await?;
        match self
            .store
            .create_user(&NewUser {
                email: email.trim(),
                name,
                password_hash: &hash,
                is_admin,
                locale,
                created_at: self.now(),
            })
            .await
        {
            Err(StoreError::Conflict { .. }) => Err(CoreError::EmailTaken),
            other => Ok(other?),
        }
    }

    /// Every account, for site administrators.
    pub async fn list_users(&self, principal: &Principal) -> Result<Vec<User>, CoreError> {
        principal.require_admin()?;
        Ok(self.store.list_users().await?)
    }

    /// Creates an account from the administration page, with a generated password returned once
    /// for the administrator to hand over.
    pub async fn admin_create_user(
        &self,
        principal: &Principal,
        email: &str,
        name: &str,
        is_admin: bool,
        locale: Option<&str>,
    ) -> Result<(User, String), CoreError> {
        principal.require_admin()?;
        let password = generate_password();
        let user = self
            .create_user(email, name, &password, is_admin, locale)
            .await?;
        self.audit(
            Actor::of(principal),
            "account.created",
            &Target::user(user.id),
            serde_json::json!({ "admin": is_admin }),
        )
        .await?;
        Ok((user, password))
    }

    /// Signs a person in, or says why not. Throttling is checked first, so a locked account
    /// answers the same way whatever password is tried.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<NewSession, CoreError> {
        let user = self.authenticate(email, password, client).await?;
        let session = self.open_session(user, client).await?;
        self.audit(
            Actor::User(session.user.id),
            "auth.sign_in",
            &Target::user(session.user.id),
            serde_json::json!({ "ip": client.ip }),
        )
        .await?;
        Ok(session)
    }

    /// The principal of HTTP Basic credentials (as ODK Collect sends them to OpenRosa endpoints),
    /// under the same throttling as the sign-in form.
    pub async fn basic_principal(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<Principal, CoreError> {
        let user = self.authenticate(email, password, client).await?;
        Ok(Principal::User {
            user: Box::new(user),
            via: Via::Basic,
        })
    }

    /// Refuses a sign-in attempt early when its account or address failed too often within the
    /// window; otherwise returns the throttling keys under which a failure is to be recorded.
    pub(crate) async fn throttle(
        &self,
        email: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, CoreError> {
        let now = self.now();
        let s = &self.settings;
        let since = now - s.failure_window_secs;
        let mut checks = vec![(account_key(email), s.max_failures_per_account)];
        if let Some(ip) = client.ip.as_deref() {
            checks.push((address_key(ip), s.max_failures_per_address));
        }
        for (key, limit) in &checks {
            let (n, latest) = self.store.login_failures(key, since).await?;
            if n >= *limit {
                return Err(CoreError::TooManyAttempts {
                    retry_after_secs: (latest + s.failure_window_secs - now).max(1),
                });
            }
        }
        Ok(checks.into_iter().map(|(k, _)| k).collect())
    }

    /// Records a failed attempt under the keys [`Core::throttle`] gave.
    pub(crate) async fn throttle_failed(&self, keys: &[String]) -> Result<(), CoreError> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.store.record_login_failure(&keys, self.now()).await?;
        Ok(())
    }

    /// Forgets an account's failures after a successful sign-in.
    pub(crate) async fn throttle_passed(&self, email: &str) -> Result<(), CoreError> {
        self.store.clear_login_failures(&account_key(email)).await?;
        Ok(())
    }

    /// Checks an e-mail address and password, throttled per account and per address.
    pub(crate) async fn authenticate(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<User, CoreError> {
        let keys = self.throttle(email, client).await?;
        let user = self.store.user_by_email(email).await?;
        let (hash, usable) = match &user {
            Some(u) if u.disabled_at.is_none() => (u.password_hash.clone(), true),
            // A real hash of a random password, verified so that unknown and known addresses
            // take the same time to refuse.
            _ => (self.dummy_hash.as_str().to_owned(), false),
        };
        let ok = verify_off_runtime(password.to_owned(), hash).await && usable;
        let user = match (ok, user) {
            (true, Some(u)) => u,
            (_, known) => {
                self.throttle_failed(&keys).await?;
                // The address typed is not recorded (it may be someone's mistyped personal
                // data); the account is, when there is one.
                let target = known.map(|u| Target::user(u.id)).unwrap_or_default();
                self.audit(
                    Actor::Anonymous,
                    "auth.sign_in_failed",
                    &target,
                    serde_json::json!({ "ip": client.ip }),
                )
                .await?;
                return Err(CoreError::InvalidCredentials);
            }
        };
        self.throttle_passed(email).await?;
        Ok(user)
    }

    async fn open_session(&self, user: User, client: &ClientInfo) -> Result<NewSession, CoreError> {
        let now = self.now();
        let secret = random_secret();
        let session = Session {
            id_hash: digest(&secret),
            user_id: user.id,
            csrf_token: random_secret(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.settings.session_idle_secs,
            ip: client.ip.clone(),
            user_agent: client
                .user_agent
                .as_ref()
                .map(|s| s.chars().take(300).collect()),
        };
        self.store.create_session(&session).await?;
        Ok(NewSession {
            secret,
            session,
            user,
        })
    }

    /// The principal behind a session cookie, or `None` when it is unknown or expired.
    /// Slides the expiry forward, at most once a minute to spare the database.
    pub async fn session_principal(&self, secret: &str) -> Result<Option<Principal>, CoreError> {
        if secret.is_empty() || secret.len() > 100 {
            return Ok(None);
        }
        let now = self.now();
        let id_hash = digest(secret);
        let Some((session, user)) = self.store.live_session(&id_hash, now).await? else {
            return Ok(None);
        };
        if user.disabled_at.is_some() {
            return Ok(None);
        }
        if now - session.last_seen_at >= 60 {
            self.store
                .touch_session(&id_hash, now, now + self.settings.session_idle_secs)
                .await?;
        }
        Ok(Some(Principal::User {
            user: Box::new(user),
            via: Via::Session {
                id_hash,
                csrf_token: session.csrf_token,
            },
        }))
    }

    /// Ends the principal's session, if it has one.
    pub async fn logout(&self, principal: &Principal) -> Result<(), CoreError> {
        if let Some(id_hash) = principal.session_id_hash() {
            self.store.delete_session(id_hash).await?;
            if let Some(user) = principal.user() {
                self.audit(
                    Actor::User(user.id),
                    "auth.sign_out",
                    &Target::user(user.id),
                    serde_json::json!({}),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Changes the signed-in person's password, after checking the current one, and ends their
    /// other sessions.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(), CoreError> {
        let user = principal.require_session_user()?;
        if !verify_off_runtime(current.to_owned(), user.password_hash.clone()).await {
            return Err(CoreError::InvalidCredentials);
        }
        check_password(new, &user.email)?;
        let hash = hash_off_runtime(new.to_owned()).await?;
        self.store_password(user, new, &hash).await?;
        self.store
            .delete_user_sessions(user.id, principal.session_id_hash())
            .await?;
        self.audit(
            Actor::User(user.id),
            "account.password_changed",
            &Target::user(user.id),
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    }

    /// Sets a new password for an account (an administrator's reset) and ends all its sessions.
    pub async fn reset_password(&self, email: &str, new: &str) -> Result<User, CoreError> {
        let user = self
            .store
            .user_by_email(email)
            .await?
            .ok_or(CoreError::NotFound { what: "account" })?;
        check_password(new, &user.email)?;
        let hash = hash_off_runtime(new.to_owned()).await?;
        self.store_password(&user, new, &hash).await?;
        self.store.delete_user_sessions(user.id, None).await?;
        self.audit(
            Actor::System,
            "account.password_reset",
            &Target::user(user.id),
            serde_json::json!({}),
        )
        .await?;
        Ok(user)
    }

    /// Remembers the language a signed-in person chose.
    pub async fn set_locale(&self, principal: &Principal, locale: &str) -> Result<(), CoreError> {
        if let Some(user) = principal.user() {
            self.store.set_user_locale(user.id, Some(locale)).await?;
        }
        Ok(())
    }

    // ----- API tokens ------------------------------------------------------------------------

    /// Mints a token for `access.project`, with a role no higher than the person's own.
    pub async fn create_token(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        name: &str,
        role: Role,
        days: i64,
    ) -> Result<MintedToken, CoreError> {
        let user = principal.require_session_user()?;
        let own = access.require(Permission::ViewProject)?;
        let own = access.role.unwrap_or(own);
        if access.role.is_none() || role > own {
            return Err(CoreError::Forbidden);
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(CoreError::Invalid {
                field: "name",
                reason: "name_length",
            });
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(CoreError::Invalid {
                field: "days",
                reason: "token_days",
            });
        }
        let now = self.now();
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let token = self
            .store
            .create_token(&NewToken {
                token_hash: &digest(&secret),
                prefix: &prefix,
                user: user.id,
                project: access.project.id,
                role,
                name,
                created_at: now,
                expires_at: now + days * 24 * 3600,
            })
            .await?;
        self.audit(
            Actor::of(principal),
            "token.created",
            &Target::project(access.project.id),
            serde_json::json!({ "token": token.id.0, "role": role.as_str(), "days": days }),
        )
        .await?;
        Ok(MintedToken { secret, token })
    }

    /// The principal behind a bearer token.
    pub async fn token_principal(&self, secret: &str) -> Result<Principal, CoreError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 100 {
            return Err(CoreError::InvalidToken);
        }
        let now = self.now();
        let token = self
            .store
            .token_by_hash(&digest(secret))
            .await?
            .ok_or(CoreError::InvalidToken)?;
        if token.revoked_at.is_some() {
            return Err(CoreError::InvalidToken);
        }
        if token.expires_at <= now {
            return Err(CoreError::TokenExpired);
        }
        let user = self
            .store
            .user_by_id(token.user_id)
            .await?
            .filter(|u| u.disabled_at.is_none())
            .ok_or(CoreError::InvalidToken)?;
        if token.last_used_at.is_none_or(|t| now - t >= 60) {
            self.store.touch_token(token.id, now).await?;
        }
        Ok(Principal::User {
            user: Box::new(user),
            via: Via::Token {
                token_id: token.id,
                project: token.project_id,
                role: token.role,
            },
        })
    }

    pub async fn list_tokens(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ApiTokenListing>, CoreError> {
        let user = principal.require_session_user()?;
        Ok(self.store.list_tokens(user.id).await?)
    }

    pub async fn revoke_token(&self, principal: &Principal, id: TokenId) -> Result<(), CoreError> {
        let user = principal.require_session_user()?;
        if self.store.revoke_token(id, user.id, self.now()).await? {
            self.audit(
                Actor::User(user.id),
                "token.revoked",
                &Target::user(user.id),
                serde_json::json!({ "token": id.0 }),
            )
            .await?;
            Ok(())
        } else {
            Err(CoreError::NotFound { what: "token" })
        }
    }

    /// A principal for the command line, acting as `user`.
    pub async fn cli_principal(&self, user: UserId) -> Result<Principal, CoreError> {
        let user = self
            .store
            .user_by_id(user)
            .await?
            .ok_or(CoreError::NotFound { what: "account" })?;
        Ok(Principal::User {
            user: Box::new(user),
            via: Via::Cli,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password("short", "a@b.org").is_err());
        assert!(check_password("a@b.org---", "a@b.org---").is_err());
        assert!(check_password("correct horse battery", "a@b.org").is_ok());
        assert!(check_password(&"x".repeat(2000), "a@b.org").is_err());
        // Characters, not bytes: ten accented letters are enough.
        assert!(check_password("éééééééééé", "a@b.org").is_ok());
    }

    #[test]
    fn emails() {
        for ok in ["amina@eau-tchad.example", "a.b+c@x.co"] {
            assert!(check_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "amina",
            "@x.org",
            "a@b",
            "a@@b.org",
            "a b@c.org",
            "a@.org",
            "a@org.",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let a = generate_password();
        assert_eq!(a.chars().count(), 20);
        assert!(check_password(&a, "a@b.org").is_ok());
        assert_ne!(a, generate_password());
    }

    #[test]
    fn hashes_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("anything", "not a hash"));
    }
}
