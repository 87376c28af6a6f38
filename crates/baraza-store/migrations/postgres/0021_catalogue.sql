-- The open-data catalogue (docs/catalogue.md).
--
-- A dataset belongs to a project (whose members edit it) and is published under its
-- organisation. Lists (spatial, tags, groups) and what it was made from (`source`,
-- baraza-catalogue's Source) are JSON. A draft or private dataset is seen by the project's
-- members only.
CREATE TABLE datasets (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid              TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL UNIQUE,
    project_id        BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title             TEXT    NOT NULL,
    notes             TEXT    NOT NULL DEFAULT '',
    license_id        TEXT    NOT NULL DEFAULT 'notspecified',
    state             TEXT    NOT NULL DEFAULT 'draft',
    private           BOOLEAN NOT NULL DEFAULT FALSE,
    frequency         TEXT    NOT NULL DEFAULT '',
    temporal_start    TEXT    NOT NULL DEFAULT '',
    temporal_end      TEXT    NOT NULL DEFAULT '',
    spatial           TEXT    NOT NULL DEFAULT '[]',
    spatial_label     TEXT    NOT NULL DEFAULT '',
    methodology       TEXT    NOT NULL DEFAULT '',
    version           TEXT    NOT NULL DEFAULT '',
    maintainer        TEXT    NOT NULL DEFAULT '',
    maintainer_email  TEXT    NOT NULL DEFAULT '',
    tags              TEXT    NOT NULL DEFAULT '[]',
    sdg_groups        TEXT    NOT NULL DEFAULT '[]',
    source            TEXT    NOT NULL,
    created_by        BIGINT,
    created_at        BIGINT  NOT NULL,
    modified_at       BIGINT  NOT NULL
);
CREATE INDEX datasets_by_project ON datasets (project_id);
CREATE INDEX datasets_by_modified ON datasets (modified_at);

-- A dataset's files. `kind` is baraza-catalogue's ResourceKind (JSON): a release's table, an
-- indicator's series, or an uploaded blob by its SHA-256; `fields` its columns when tabular.
CREATE TABLE dataset_resources (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid              TEXT    NOT NULL UNIQUE,
    dataset_id        BIGINT  NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    position          BIGINT  NOT NULL,
    name              TEXT    NOT NULL,
    description       TEXT    NOT NULL DEFAULT '',
    format            TEXT    NOT NULL,
    media_type        TEXT    NOT NULL,
    file_name         TEXT    NOT NULL,
    size              BIGINT,
    hash              TEXT,
    kind              TEXT    NOT NULL,
    fields            TEXT    NOT NULL DEFAULT '[]',
    created_at        BIGINT  NOT NULL,
    modified_at       BIGINT  NOT NULL
);
CREATE INDEX dataset_resources_by_dataset ON dataset_resources (dataset_id, position);

-- Bumped by every write to the catalogue, in the same transaction: a server keeps its search
-- index while the version it was built at is still current (several servers stay in step). Its
-- one row (id 1) is written by the first change; no row reads as version 0 (a migration writes
-- no row, so that a new database is empty for a restore).
CREATE TABLE catalogue_version (
    id       BIGINT PRIMARY KEY,
    version  BIGINT NOT NULL
);
