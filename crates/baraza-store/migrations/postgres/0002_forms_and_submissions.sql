-- Forms (with versions), app users for ODK Collect, submissions and their attachments.
-- File contents (XLSForm sources, submission XML, attachments) live in content-addressed blobs
-- on disk (see blobs.rs); the database keeps their SHA-256.

CREATE TABLE forms (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id         BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    xml_form_id        TEXT   NOT NULL,
    title              TEXT   NOT NULL,
    state              TEXT   NOT NULL CHECK (state IN ('draft', 'published', 'closed')),
    current_version_id BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (project_id, xml_form_id)
);

CREATE TABLE form_versions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    form_id       BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    version       TEXT   NOT NULL,
    title         TEXT   NOT NULL,
    xform         TEXT   NOT NULL,
    xform_md5     TEXT   NOT NULL,
    model_json    TEXT   NOT NULL,
    warnings_json TEXT   NOT NULL,
    source_name   TEXT   NOT NULL,
    source_sha256 TEXT   NOT NULL,
    created_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (form_id, version)
);

CREATE TABLE app_users (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT   NOT NULL,
    token_hash TEXT   NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE submissions (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    form_id          BIGINT  NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    form_version_id  BIGINT  NOT NULL REFERENCES form_versions (id),
    instance_id      TEXT    NOT NULL,
    root_instance_id TEXT    NOT NULL,
    deprecated_id    TEXT,
    is_current       BOOLEAN NOT NULL,
    xml_sha256       TEXT    NOT NULL,
    xml_size         BIGINT  NOT NULL,
    values_json      TEXT    NOT NULL,
    app_user_id      BIGINT REFERENCES app_users (id) ON DELETE SET NULL,
    user_id          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    review_state     TEXT    NOT NULL DEFAULT 'received',
    received_at      BIGINT  NOT NULL,
    UNIQUE (form_id, instance_id)
);
CREATE INDEX submissions_form_current ON submissions (form_id, is_current, id);
CREATE INDEX submissions_root ON submissions (form_id, root_instance_id);

-- One row per attachment the submission names; sha256 stays NULL until the file arrives
-- (ODK Collect may send large submissions in several requests).
CREATE TABLE submission_attachments (
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    sha256        TEXT,
    size          BIGINT,
    PRIMARY KEY (submission_id, name)
);
