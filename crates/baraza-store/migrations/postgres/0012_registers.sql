-- The project's registers (GDPR art. 33-35 and 28/46): personal-data breaches with the 72-hour
-- clock, the answers of the data protection impact assessment, and data-sharing agreements.
-- Rows hold an item's current state; every recording and change is also an event in
-- `register_events`, so that nothing is overwritten unseen.

-- A personal-data breach. Times are Unix seconds (UTC); the 72 hours run from `discovered_at`.
CREATE TABLE incidents (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id            BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title                 TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    occurred_at           BIGINT,
    discovered_at         BIGINT  NOT NULL,
    data_categories       TEXT    NOT NULL DEFAULT '',
    people_affected       BIGINT,
    records_affected      BIGINT,
    consequences          TEXT    NOT NULL DEFAULT '',
    measures              TEXT    NOT NULL DEFAULT '',
    notify_authority      BOOLEAN NOT NULL,
    no_notify_reason      TEXT    NOT NULL DEFAULT '',
    authority_notified_at BIGINT,
    people_informed_at    BIGINT,
    status                TEXT    NOT NULL CHECK (status IN ('open', 'notified', 'closed')),
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL
);
CREATE INDEX incidents_project ON incidents (project_id, discovered_at);

-- An agreement under which another organisation receives some of the project's data. Dates are
-- Unix seconds at midnight UTC; `ends_on` NULL: no end date. `forms` and `levels` are lists
-- separated by spaces (xmlFormIds; sensitivity levels).
CREATE TABLE sharing_agreements (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id       BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    recipient        TEXT    NOT NULL,
    purpose          TEXT    NOT NULL,
    forms            TEXT    NOT NULL DEFAULT '',
    levels           TEXT    NOT NULL DEFAULT '',
    aggregated_only  BOOLEAN NOT NULL DEFAULT FALSE,
    lawful_basis     TEXT    NOT NULL,
    starts_on        BIGINT  NOT NULL,
    ends_on          BIGINT,
    outside_country  BOOLEAN NOT NULL DEFAULT FALSE,
    safeguard        TEXT    NOT NULL DEFAULT '',
    document_ref     TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL CHECK (status IN ('draft', 'in_force', 'ended')),
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX sharing_agreements_project ON sharing_agreements (project_id, id);

-- The history of incidents and agreements: who recorded or changed what, when, with the values
-- before and after (JSON) and an optional note.
CREATE TABLE register_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    register   TEXT   NOT NULL CHECK (register IN ('incident', 'agreement')),
    item_id    BIGINT NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('recorded', 'updated')),
    changes    TEXT   NOT NULL,
    note       TEXT   NOT NULL DEFAULT '',
    user_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX register_events_item ON register_events (project_id, register, item_id, id);

-- The impact assessment's answers, appended: the current answer to a question is its latest
-- row, and the earlier ones say who answered what before.
CREATE TABLE dpia_answers (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    question   TEXT   NOT NULL,
    answer     TEXT   NOT NULL,
    user_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX dpia_answers_project ON dpia_answers (project_id, id);

-- Successful verifications of the whole audit log, newest last: the impact assessment says when
-- the log was last checked.
CREATE TABLE audit_verifications (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    anchor  TEXT   NOT NULL DEFAULT '',
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL
);
