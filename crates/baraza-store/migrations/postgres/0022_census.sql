-- The open-data census (docs/census.md).
--
-- A census belongs to an organisation, which reviews its entries. `questions` is the question
-- set (JSON: [{key, text_en, text_fr, weight}], baraza-catalogue's census::Question). Places
-- and dataset categories are listed per census, in order.
CREATE TABLE censuses (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    slug         TEXT    NOT NULL UNIQUE,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    scope        TEXT    NOT NULL DEFAULT '',
    questions    TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'open',
    created_by   BIGINT,
    created_at   BIGINT  NOT NULL
);

CREATE TABLE census_places (
    census_id    BIGINT  NOT NULL REFERENCES censuses (id) ON DELETE CASCADE,
    code         TEXT    NOT NULL,
    position     BIGINT  NOT NULL,
    name         TEXT    NOT NULL,
    PRIMARY KEY (census_id, code)
);

CREATE TABLE census_categories (
    census_id    BIGINT  NOT NULL REFERENCES censuses (id) ON DELETE CASCADE,
    code         TEXT    NOT NULL,
    position     BIGINT  NOT NULL,
    title_en     TEXT    NOT NULL,
    title_fr     TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (census_id, code)
);

-- An answer to the question set for one place and category. `answers` is JSON {question key:
-- "yes" | "no" | "unsure"}, `sources` a JSON list of URLs. State: `submitted` (awaiting
-- review), `published`, `rejected`, or `superseded` (was published, replaced by a newer
-- accepted entry). At most one published entry per cell.
CREATE TABLE census_entries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    census_id    BIGINT  NOT NULL REFERENCES censuses (id) ON DELETE CASCADE,
    place        TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    answers      TEXT    NOT NULL,
    comments     TEXT    NOT NULL DEFAULT '',
    sources      TEXT    NOT NULL DEFAULT '[]',
    submitted_by BIGINT,
    submitted_at BIGINT  NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'submitted',
    reviewed_by  BIGINT,
    reviewed_at  BIGINT,
    review_note  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX census_entries_by_cell ON census_entries (census_id, place, category);
CREATE UNIQUE INDEX census_entries_one_published ON census_entries (census_id, place, category)
    WHERE state = 'published';
