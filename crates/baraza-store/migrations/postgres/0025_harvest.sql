-- Harvesting (docs/harvest.md): datasets' metadata imported from another catalogue (a CKAN
-- Action API or a DCAT catalogue) into a project, incrementally and idempotently.
--
-- A source belongs to a project; its harvested datasets are ordinary rows of `datasets`
-- (source = baraza-catalogue's Source::Harvest) with link resources, and are tied to their
-- remote identifier by `harvested_datasets`. `locked_until` is the run lock: a run takes it
-- with one conditional UPDATE, so that two servers never run the same source at once.
CREATE TABLE harvest_sources (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id        BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title             TEXT    NOT NULL,
    url               TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    filter            TEXT    NOT NULL DEFAULT '',
    default_licence   TEXT    NOT NULL DEFAULT 'notspecified',
    schedule          TEXT    NOT NULL DEFAULT 'manual',
    created_by        BIGINT,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    last_run_at       BIGINT,
    last_status       TEXT    NOT NULL DEFAULT '',
    last_created      BIGINT  NOT NULL DEFAULT 0,
    last_updated      BIGINT  NOT NULL DEFAULT 0,
    last_unchanged    BIGINT  NOT NULL DEFAULT 0,
    last_withdrawn    BIGINT  NOT NULL DEFAULT 0,
    last_errors       BIGINT  NOT NULL DEFAULT 0,
    watermark         BIGINT,
    locked_until      BIGINT,
    lock_token        TEXT
);
CREATE INDEX harvest_sources_by_project ON harvest_sources (project_id);

-- One run of a source: its counts and a bounded error log (one line per skipped record).
CREATE TABLE harvest_runs (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id         BIGINT  NOT NULL REFERENCES harvest_sources (id) ON DELETE CASCADE,
    full_run          BOOLEAN NOT NULL,
    started_at        BIGINT  NOT NULL,
    finished_at       BIGINT,
    status            TEXT    NOT NULL,
    created           BIGINT  NOT NULL DEFAULT 0,
    updated           BIGINT  NOT NULL DEFAULT 0,
    unchanged         BIGINT  NOT NULL DEFAULT 0,
    withdrawn         BIGINT  NOT NULL DEFAULT 0,
    errors            BIGINT  NOT NULL DEFAULT 0,
    log               TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX harvest_runs_by_source ON harvest_runs (source_id, id);

-- A harvested dataset's key: (source, remote identifier) -> the local dataset, with the hash
-- of the normalised remote metadata last stored (equal hash: nothing is written).
CREATE TABLE harvested_datasets (
    source_id         BIGINT  NOT NULL REFERENCES harvest_sources (id) ON DELETE CASCADE,
    remote_id         TEXT    NOT NULL,
    dataset_id        BIGINT  NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    content_hash      TEXT    NOT NULL,
    remote_modified   BIGINT,
    withdrawn         BOOLEAN NOT NULL DEFAULT FALSE,
    seen_at           BIGINT  NOT NULL,
    PRIMARY KEY (source_id, remote_id)
);
CREATE UNIQUE INDEX harvested_datasets_by_dataset ON harvested_datasets (dataset_id);
