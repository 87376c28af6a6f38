//! HTTP Digest sign-in (RFC 7616) for the OpenRosa endpoints, because ODK Collect uses Digest
//! when the server is reached over plain HTTP (it sends Basic credentials only over HTTPS).
//!
//! # The trade-off
//!
//! Digest needs a *password equivalent* on the server: `HA1 = H(username:realm:password)`,
//! with which anyone can answer a challenge without knowing the password. Baraza's rule is that
//! secrets are never stored in clear; Argon2id hashes cannot serve Digest. So Digest is an
//! explicit choice per account ("allow Digest sign-in for older ODK Collect", confirmed with the
//! password on the account page): only then are HA1 in MD5 and in SHA-256 (realm `Baraza`, the
//! lowercase e-mail address as username) kept, they follow every password change and reset, and
//! they are deleted when the choice is withdrawn. They open only the OpenRosa endpoints (form
//! list and downloads, submissions), never the pages, the JSON API or the data feed.
//!
//! # Nonces without state
//!
//! A nonce is `<time>-<mac>`: the time it was made (Unix seconds, hexadecimal) and the first 16
//! bytes of HMAC-SHA-256 over it with a key kept in the database ([`NONCE_KEY`], made once by
//! whichever instance needs it first). Any instance can check any instance's nonces; a nonce older
//! than [`NONCE_LIFETIME_SECS`] is *stale*: the answer says `stale=true` and clients retry with a
//! fresh one without asking for the password again. Only `qop=auth` is offered. Replays within a
//! nonce's lifetime are not detected (that would need per-nonce state shared between instances);
//! use HTTPS, and Basic, wherever possible.

use crate::access::{Principal, Via};
use crate::auth::ClientInfo;
use crate::{constant_time_eq, Core, CoreError};
use baraza_store::User;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

/// The realm of every challenge.
pub const DIGEST_REALM: &str = "Baraza";
/// How long a nonce may be used, in seconds.
pub const NONCE_LIFETIME_SECS: i64 = 300;
/// The name of the nonce key in the database.
pub const NONCE_KEY: &str = "digest_nonce_key";

/// The hash functions offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Md5,
    Sha256,
}

impl DigestAlgorithm {
    /// The name in challenges and responses.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }

    /// The algorithm a response names (none means MD5).
    pub fn parse(name: Option<&str>) -> Option<DigestAlgorithm> {
        match name {
            None => Some(DigestAlgorithm::Md5),
            Some(n) if n.eq_ignore_ascii_case("MD5") => Some(DigestAlgorithm::Md5),
            Some(n) if n.eq_ignore_ascii_case("SHA-256") => Some(DigestAlgorithm::Sha256),
            _ => None,
        }
    }

    /// The lowercase hexadecimal digest of `text`.
    pub fn hash(self, text: &str) -> String {
        match self {
            DigestAlgorithm::Md5 => hex::encode(Md5::digest(text.as_bytes())),
            DigestAlgorithm::Sha256 => hex::encode(Sha256::digest(text.as_bytes())),
        }
    }
}

/// The username Digest uses for an account: its e-mail address in lowercase.
pub fn digest_username(email: &str) -> String {
    email.trim().to_lowercase()
}

/// `HA1 = H(username:realm:password)`.
pub fn ha1(alg: DigestAlgorithm, username: &str, password: &str) -> String {
    alg.hash(&format!("{username}:{DIGEST_REALM}:{password}"))
}

/// The `response` of RFC 7616 with `qop=auth`.
pub fn expected_response(
    alg: DigestAlgorithm,
    ha1: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
    method: &str,
    uri: &str,
) -> String {
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    alg.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
}

/// What a client sent in `Authorization: Digest …`, with the request's method.
#[derive(Debug, Clone)]
pub struct DigestAnswer<'a> {
    pub username: &'a str,
    pub realm: &'a str,
    pub nonce: &'a str,
    pub uri: &'a str,
    pub qop: &'a str,
    pub nc: &'a str,
    pub cnonce: &'a str,
    pub response: &'a str,
    pub algorithm: DigestAlgorithm,
    pub method: &'a str,
}

/// Why a Digest answer was not accepted.
#[derive(Debug)]
pub enum DigestRefusal {
    /// The credentials are right but the nonce is too old: challenge again with `stale=true`.
    Stale,
    Refused(CoreError),
}

impl From<CoreError> for DigestRefusal {
    fn from(e: CoreError) -> Self {
        DigestRefusal::Refused(e)
    }
}

impl From<baraza_store::StoreError> for DigestRefusal {
    fn from(e: baraza_store::StoreError) -> Self {
        DigestRefusal::Refused(e.into())
    }
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], time_hex: &str) -> String {
    // Invariant: HMAC accepts keys of any length.
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"baraza digest nonce ");
    m.update(time_hex.as_bytes());
    hex::encode(&m.finalize().into_bytes()[..16])
}

/// Whether a nonce is ours, and its age.
fn nonce_age(key: &[u8], nonce: &str, now: i64) -> Option<i64> {
    let (time_hex, tag) = nonce.split_once('-')?;
    if time_hex.len() > 16 || tag.len() != 32 {
        return None;
    }
    if !constant_time_eq(&mac(key, time_hex), tag) {
        return None;
    }
    let made = i64::from_str_radix(time_hex, 16).ok()?;
    Some(now - made)
}

impl Core {
    async fn nonce_key(&self) -> Result<Vec<u8>, CoreError> {
        let candidate = hex::encode(rand::random::<[u8; 32]>());
        let key = self
            .store
            .server_secret(NONCE_KEY, &candidate, self.now())
            .await?;
        Ok(key.into_bytes())
    }

    /// A fresh nonce for a challenge.
    pub async fn digest_nonce(&self) -> Result<String, CoreError> {
        let key = self.nonce_key().await?;
        let time_hex = format!("{:x}", self.now().max(0));
        Ok(format!("{time_hex}-{}", mac(&key, &time_hex)))
    }

    /// Checks a Digest answer, under the same throttling as every sign-in. The caller has checked
    /// that `uri` is the request's.
    pub async fn digest_principal(
        &self,
        a: &DigestAnswer<'_>,
        client: &ClientInfo,
    ) -> Result<Principal, DigestRefusal> {
        let refused = || DigestRefusal::Refused(CoreError::InvalidCredentials);
        let well_formed = a.realm == DIGEST_REALM
            && a.qop == "auth"
            && a.nc.len() == 8
            && a.nc.bytes().all(|b| b.is_ascii_hexdigit())
            && !a.cnonce.is_empty()
            && a.cnonce.len() <= 256
            && !a.username.is_empty()
            && a.username.len() <= 254;
        if !well_formed {
            return Err(refused());
        }
        let key = self.nonce_key().await?;
        let now = self.now();
        let Some(age) = nonce_age(&key, a.nonce, now) else {
            return Err(refused());
        };
        let keys = self.throttle(a.username, client).await?;
        let user = self
            .store
            .user_by_email(a.username)
            .await?
            .filter(|u| u.disabled_at.is_none());
        let stored = match &user {
            Some(u) => self.store.digest_credentials(u.id).await?,
            None => None,
        };
        let ok = match (&user, &stored) {
            (Some(u), Some((md5, sha256))) if digest_username(&u.email) == a.username => {
                let ha1 = match a.algorithm {
                    DigestAlgorithm::Md5 => md5,
                    DigestAlgorithm::Sha256 => sha256,
                };
                let want =
                    expected_response(a.algorithm, ha1, a.nonce, a.nc, a.cnonce, a.method, a.uri);
                constant_time_eq(&want, &a.response.to_ascii_lowercase())
            }
            _ => false,
        };
        let (true, Some(user)) = (ok, user) else {
            self.throttle_failed(&keys).await?;
            return Err(refused());
        };
        if !(0..=NONCE_LIFETIME_SECS).contains(&age) {
            return Err(DigestRefusal::Stale);
        }
        self.throttle_passed(a.username).await?;
        Ok(Principal::User {
            user: Box::new(user),
            via: Via::Basic,
        })
    }

    /// Whether the signed-in person allowed Digest sign-in.
    pub async fn digest_enabled(&self, principal: &Principal) -> Result<bool, CoreError> {
        let user = principal.require_session_user()?;
        Ok(self.store.digest_credentials(user.id).await?.is_some())
    }

    /// Allows Digest sign-in for the signed-in person, after checking their password (throttled
    /// like a sign-in): keeps HA1 in MD5 and SHA-256.
    pub async fn enable_digest(
        &self,
        principal: &Principal,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(), CoreError> {
        let user = principal.require_session_user()?;
        let user = self.authenticate(&user.email, password, client).await?;
        let (md5, sha256) = ha1_pair(&user, password);
        self.store
            .set_digest_credentials(user.id, &md5, &sha256, self.now())
            .await?;
        Ok(())
    }

    /// Withdraws Digest sign-in: the password digests are deleted.
    pub async fn disable_digest(&self, principal: &Principal) -> Result<(), CoreError> {
        let user = principal.require_session_user()?;
        self.store.delete_digest_credentials(user.id).await?;
        Ok(())
    }

    /// Stores a new password hash and, for an account that allowed Digest, the new digests in the
    /// same transaction.
    pub(crate) async fn store_password(
        &self,
        user: &User,
        password: &str,
        hash: &str,
    ) -> Result<(), CoreError> {
        let digest = self
            .store
            .digest_credentials(user.id)
            .await?
            .map(|_| ha1_pair(user, password));
        self.store
            .set_password_and_digest(
                user.id,
                hash,
                digest.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            )
            .await?;
        Ok(())
    }
}

fn ha1_pair(user: &User, password: &str) -> (String, String) {
    let name = digest_username(&user.email);
    (
        ha1(DigestAlgorithm::Md5, &name, password),
        ha1(DigestAlgorithm::Sha256, &name, password),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7616_example() {
        // RFC 7616, section 3.9.1 (realm "http-auth@example.org", user Mufasa).
        let alg = DigestAlgorithm::Md5;
        let ha1 = alg.hash("Mufasa:http-auth@example.org:Circle of Life");
        let r = expected_response(
            alg,
            &ha1,
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "00000001",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            "GET",
            "/dir/index.html",
        );
        assert_eq!(r, "8ca523f5e9506fed4657c9700eebdbec");
        let alg = DigestAlgorithm::Sha256;
        let ha1 = alg.hash("Mufasa:http-auth@example.org:Circle of Life");
        let r = expected_response(
            alg,
            &ha1,
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "00000001",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            "GET",
            "/dir/index.html",
        );
        assert_eq!(
            r,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn nonces_are_checked() {
        let key = b"k".to_vec();
        let t = format!("{:x}", 1000);
        let nonce = format!("{t}-{}", mac(&key, &t));
        assert_eq!(nonce_age(&key, &nonce, 1300), Some(300));
        assert_eq!(nonce_age(b"other", &nonce, 1300), None);
        let forged = format!("{:x}-{}", 2000, mac(&key, &t));
        assert_eq!(nonce_age(&key, &forged, 2000), None);
        for bad in ["", "-", "x-y", &nonce[..nonce.len() - 1]] {
            assert_eq!(nonce_age(&key, bad, 1300), None, "{bad}");
        }
    }
}
