-- Indicators on form data, kept current as records arrive (docs/indicators.md).
--
-- An indicator: one definition (TOML, baraza-indicators' Spec) on one form. `high_water` is the
-- last submission id read, `change_seq` the last entry of submission_changes read; together they
-- say what the cells reflect. A catch-up moves them forward with a compare-and-swap, so that two
-- servers never add the same record twice.
CREATE TABLE indicators (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    form_id       BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    slug          TEXT   NOT NULL,
    spec          TEXT   NOT NULL,
    sdg           TEXT,
    position      BIGINT NOT NULL DEFAULT 0,
    created_by    BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    high_water    BIGINT NOT NULL DEFAULT 0,
    change_seq    BIGINT NOT NULL DEFAULT 0,
    as_of         BIGINT NOT NULL DEFAULT 0,
    UNIQUE (project_id, slug)
);
CREATE INDEX indicators_by_form ON indicators (form_id);

-- What each record added to an indicator's cells (baraza-indicators' Contribution, JSON), or
-- why it could not be counted (`error`), so that an edit, a rejection or an erasure takes it away
-- again. A row goes when its record goes (at the next catch-up, which erasure runs at once).
CREATE TABLE indicator_contributions (
    indicator_id  BIGINT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    submission_id BIGINT NOT NULL,
    contribution  TEXT,
    error         TEXT,
    PRIMARY KEY (indicator_id, submission_id)
);

-- The sums of each cell (period × place × group); `_T` is a total.
CREATE TABLE indicator_cells (
    indicator_id  BIGINT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    period        TEXT   NOT NULL,
    place         TEXT   NOT NULL,
    dim           TEXT   NOT NULL,
    grp           TEXT   NOT NULL,
    n             BIGINT NOT NULL,
    sw            DOUBLE PRECISION NOT NULL,
    swy           DOUBLE PRECISION NOT NULL,
    sw2           DOUBLE PRECISION NOT NULL,
    sw2y          DOUBLE PRECISION NOT NULL,
    sw2y2         DOUBLE PRECISION NOT NULL,
    sy            DOUBLE PRECISION NOT NULL,
    sy2           DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (indicator_id, period, place, dim, grp)
);

-- Value distributions of cells (medians, Gini, Palma): value → records and their weights.
CREATE TABLE indicator_values (
    indicator_id  BIGINT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    period        TEXT   NOT NULL,
    place         TEXT   NOT NULL,
    dim           TEXT   NOT NULL,
    grp           TEXT   NOT NULL,
    x             DOUBLE PRECISION NOT NULL,
    n             BIGINT NOT NULL,
    sw            DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (indicator_id, period, place, dim, grp, x)
);

-- Every change to a stored record of a form that has indicators (filled by triggers): edits
-- replacing it, reviews, erased answers, destruction. Read by the catch-up, pruned after.
CREATE TABLE submission_changes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    form_id       BIGINT NOT NULL,
    submission_id BIGINT NOT NULL
);
CREATE INDEX submission_changes_by_form ON submission_changes (form_id, seq);

-- Places: an administrative hierarchy with codes (ISO 3166-2, P-codes), for maps and for
-- naming the places of indicators. Geometry is simplified for display (JSON polygons, lon/lat).
CREATE TABLE places (
    code          TEXT   PRIMARY KEY,
    name          TEXT   NOT NULL,
    level         BIGINT NOT NULL,
    parent        TEXT,
    geometry      TEXT,
    source        TEXT   NOT NULL DEFAULT '',
    attribution   TEXT   NOT NULL DEFAULT '',
    licence       TEXT   NOT NULL DEFAULT '',
    imported_at   BIGINT NOT NULL
);
CREATE INDEX places_by_parent ON places (parent, level);

-- Official series imported beside a project's citizen figures, never blended with them: one
-- row per import (observations as JSON, baraza-indicators' official::Observation).
CREATE TABLE official_series (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    indicator     TEXT   NOT NULL,
    series        TEXT   NOT NULL,
    title         TEXT   NOT NULL,
    source        TEXT   NOT NULL,
    layout        TEXT   NOT NULL,
    observations  TEXT   NOT NULL,
    imported_by   BIGINT,
    imported_at   BIGINT NOT NULL,
    UNIQUE (project_id, indicator, series)
);

CREATE TRIGGER submissions_changed AFTER UPDATE OF is_current, review_state, values_json
ON submissions
WHEN EXISTS (SELECT 1 FROM indicators WHERE form_id = NEW.form_id)
BEGIN
    INSERT INTO submission_changes (form_id, submission_id) VALUES (NEW.form_id, NEW.id);
END;

CREATE TRIGGER submissions_deleted AFTER DELETE ON submissions
WHEN EXISTS (SELECT 1 FROM indicators WHERE form_id = OLD.form_id)
BEGIN
    INSERT INTO submission_changes (form_id, submission_id) VALUES (OLD.form_id, OLD.id);
END;
