-- Filters and sorts of a form's submissions (the table, its twins and every export).
--
-- A filter on an answer needs JSON access, which SQLite and PostgreSQL spell differently. So that
-- queries stay one text for both, each submission carries `filter_json`: a flat JSON object of its
-- answers outside repeats, kept in step with `values_json` by triggers (so every way a submission
-- is written, now or later, keeps it right), read with SQLite's `json_extract(filter_json, '$."key"')`,
-- which the PostgreSQL migration defines with the same name and meaning. Keys:
--   "/data/path"         text, select_one, date, time, dateTime and file answers, as text;
--   "#/data/path"        integer and decimal answers, as numbers (so `CAST(… AS DOUBLE PRECISION)`
--                        only ever sees numbers, even when a question changed type between versions);
--   "/data/path choice"  1 for each choice of a select_multiple answer.
-- Empty answers, geo answers and answers inside repeats have no key.

ALTER TABLE submissions ADD COLUMN filter_json TEXT NOT NULL DEFAULT '{}';

CREATE TRIGGER submissions_filter_insert AFTER INSERT ON submissions
BEGIN
    UPDATE submissions SET filter_json = (
        SELECT COALESCE(json_group_object(k, v), '{}') FROM (
            SELECT CASE WHEN json_extract(e.value, '$.value.type') IN ('int', 'decimal')
                        THEN '#' || json_extract(e.value, '$.path')
                        ELSE json_extract(e.value, '$.path') END AS k,
                   json_extract(e.value, '$.value.value') AS v
            FROM json_each(CASE WHEN json_valid(NEW.values_json) THEN NEW.values_json ELSE '[]' END) AS e
            WHERE json_extract(e.value, '$.repeat') IS NULL
              AND json_extract(e.value, '$.value.type') IN ('text', 'choice', 'int', 'decimal', 'date', 'time', 'date_time', 'file')
            UNION ALL
            SELECT json_extract(e.value, '$.path') || ' ' || c.value AS k, 1 AS v
            FROM json_each(CASE WHEN json_valid(NEW.values_json) THEN NEW.values_json ELSE '[]' END) AS e,
                 json_each(e.value, '$.value.value') AS c
            WHERE json_extract(e.value, '$.repeat') IS NULL
              AND json_extract(e.value, '$.value.type') = 'choices'
        )
    ) WHERE id = NEW.id;
END;

CREATE TRIGGER submissions_filter_update AFTER UPDATE OF values_json ON submissions
BEGIN
    UPDATE submissions SET filter_json = (
        SELECT COALESCE(json_group_object(k, v), '{}') FROM (
            SELECT CASE WHEN json_extract(e.value, '$.value.type') IN ('int', 'decimal')
                        THEN '#' || json_extract(e.value, '$.path')
                        ELSE json_extract(e.value, '$.path') END AS k,
                   json_extract(e.value, '$.value.value') AS v
            FROM json_each(CASE WHEN json_valid(NEW.values_json) THEN NEW.values_json ELSE '[]' END) AS e
            WHERE json_extract(e.value, '$.repeat') IS NULL
              AND json_extract(e.value, '$.value.type') IN ('text', 'choice', 'int', 'decimal', 'date', 'time', 'date_time', 'file')
            UNION ALL
            SELECT json_extract(e.value, '$.path') || ' ' || c.value AS k, 1 AS v
            FROM json_each(CASE WHEN json_valid(NEW.values_json) THEN NEW.values_json ELSE '[]' END) AS e,
                 json_each(e.value, '$.value.value') AS c
            WHERE json_extract(e.value, '$.repeat') IS NULL
              AND json_extract(e.value, '$.value.type') = 'choices'
        )
    ) WHERE id = NEW.id;
END;

-- Submissions stored before this migration.
UPDATE submissions SET values_json = values_json;

-- Keyset paging in received order (either direction), alone or under one equality filter; the
-- other filters are checked on the rows these indexes yield, in order. Only current versions of
-- records are listed, so the indexes hold only those.
CREATE INDEX submissions_current_received ON submissions (form_id, received_at, id) WHERE is_current;
CREATE INDEX submissions_current_review ON submissions (form_id, review_state, received_at, id) WHERE is_current;
CREATE INDEX submissions_current_submitter ON submissions (form_id, app_user_id, user_id, received_at, id) WHERE is_current;
