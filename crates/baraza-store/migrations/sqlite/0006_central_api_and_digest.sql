-- ODK Central's API and Digest sign-in for older ODK Collect.

-- Secrets the instance makes once and every instance shares (the key of Digest nonces).
CREATE TABLE server_secrets (
    name       TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- HTTP Digest's password equivalents, H(email:Baraza:password) in MD5 and SHA-256, kept only for
-- the accounts whose owner allowed Digest sign-in (an explicit choice on the account page).
CREATE TABLE digest_credentials (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    ha1_md5    TEXT   NOT NULL,
    ha1_sha256 TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- When a form was first published (Central's publishedAt).
ALTER TABLE forms ADD COLUMN published_at BIGINT;
UPDATE forms SET published_at = updated_at WHERE state <> 'draft';
