-- ODK encrypted forms (see docs/protection.md, "ODK encrypted forms").
--
-- A project's managed form key: the RSA public key served to ODK Collect in every form of the
-- project, and the private key sealed under a passphrase that the server never stores
-- (baraza_protect::odk::SealedFormKey, in its text form). The hint is in clear on purpose.
CREATE TABLE project_form_keys (
    project_id  BIGINT NOT NULL PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    public_key  TEXT   NOT NULL,
    sealed_key  TEXT   NOT NULL,
    hint        TEXT   NOT NULL,
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);

-- Submissions received encrypted and not decrypted yet: the envelope (the manifest ODK Collect
-- sends as its submission XML) and its encrypted files (as blobs). No answers. Decrypting one
-- stores it as a normal submission and deletes this row in the same transaction.
CREATE TABLE encrypted_submissions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    form_id          BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    form_version_id  BIGINT NOT NULL REFERENCES form_versions (id),
    instance_id      TEXT   NOT NULL,
    manifest         TEXT   NOT NULL,
    manifest_sha256  TEXT   NOT NULL,
    app_user_id      BIGINT REFERENCES app_users (id) ON DELETE SET NULL,
    user_id          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    received_at      BIGINT NOT NULL,
    UNIQUE (form_id, instance_id)
);

-- One row per encrypted file the envelope names; sha256 stays NULL until the file arrives.
CREATE TABLE encrypted_submission_files (
    encrypted_submission_id BIGINT NOT NULL REFERENCES encrypted_submissions (id) ON DELETE CASCADE,
    name                    TEXT   NOT NULL,
    sha256                  TEXT,
    size                    BIGINT,
    PRIMARY KEY (encrypted_submission_id, name)
);
