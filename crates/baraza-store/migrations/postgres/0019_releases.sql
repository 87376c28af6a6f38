-- Disclosure control of a form's microdata before it leaves (docs/sdc.md).
--
-- A project's release policy: what every release of its forms must satisfy. No row means the
-- defaults (k = 3, global risk under 3 %, no withheld variable allowed).
CREATE TABLE release_policies (
    project_id        BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    k                 BIGINT           NOT NULL,
    max_global_risk   DOUBLE PRECISION NOT NULL,
    allowed           TEXT             NOT NULL DEFAULT '[]',
    updated_by        BIGINT,
    updated_at        BIGINT           NOT NULL
);

-- A release: a recipe (JSON, baraza-sdc's Recipe) applied to the records of one form received up
-- to one submission (the snapshot; records erased since are not read). A draft until released;
-- then its report (JSON), the report's signature by the server's key and the released table
-- (CSV) are written once, and the row no longer changes.
CREATE TABLE releases (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id        BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    form_id           BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    name              TEXT   NOT NULL,
    recipe            TEXT   NOT NULL,
    up_to_submission  BIGINT NOT NULL,
    created_by        BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    state             TEXT   NOT NULL DEFAULT 'draft',
    released_by       BIGINT,
    released_at       BIGINT,
    report            TEXT,
    signature         TEXT,
    data_csv          TEXT,
    data_sha256       TEXT
);
CREATE INDEX releases_by_form ON releases (project_id, form_id, id);
