-- The register of data-subject requests (access, rectification, erasure…), each with its legal
-- deadline, and the records found for the person. The person's identity is not stored here: the
-- request names the records (by their first version's instanceID), which the blind index found.
CREATE TABLE subject_requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL,
    reference   TEXT   NOT NULL,
    received_at BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    status      TEXT   NOT NULL,
    outcome     TEXT   NOT NULL DEFAULT '',
    answered_at BIGINT,
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX subject_requests_project ON subject_requests (project_id, status, due_at);

CREATE TABLE subject_request_records (
    request_id       BIGINT NOT NULL REFERENCES subject_requests (id) ON DELETE CASCADE,
    form_id          BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    root_instance_id TEXT   NOT NULL,
    PRIMARY KEY (request_id, form_id, root_instance_id)
);
