-- Filters and sorts of a form's submissions (the table, its twins and every export).
--
-- A filter on an answer needs JSON access, which SQLite and PostgreSQL spell differently. So that
-- queries stay one text for both, each submission carries `filter_json`: a flat JSON object of its
-- answers outside repeats, kept in step with `values_json` by a trigger, read with SQLite's
-- `json_extract(filter_json, '$."key"')`, which this migration defines for PostgreSQL with the same
-- name and meaning (for the paths queries use: `$."key"` and `$.key`). Keys:
--   "/data/path"         text, select_one, date, time, dateTime and file answers, as text;
--   "#/data/path"        integer and decimal answers, as numbers;
--   "/data/path choice"  1 for each choice of a select_multiple answer.
-- Empty answers, geo answers and answers inside repeats have no key.

ALTER TABLE submissions ADD COLUMN filter_json TEXT NOT NULL DEFAULT '{}';

-- SQLite's json_extract(json, path) for a member of an object: the member as text (a string
-- without its quotes, a number, or JSON text for objects and arrays), NULL when absent.
CREATE FUNCTION json_extract(doc text, path text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN path = '$' THEN doc
        WHEN path LIKE '$."%"' THEN (doc::jsonb) ->> substr(path, 4, length(path) - 4)
        WHEN path LIKE '$.%' THEN (doc::jsonb) ->> substr(path, 3)
    END
$$;

-- The flat object of a `values_json` (see above); '{}' for anything that is not one.
CREATE FUNCTION baraza_filter_json(doc text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    result text;
BEGIN
    SELECT COALESCE(jsonb_object_agg(k, v), '{}'::jsonb)::text INTO result FROM (
        SELECT CASE WHEN e -> 'value' ->> 'type' IN ('int', 'decimal')
                    THEN '#' || (e ->> 'path')
                    ELSE e ->> 'path' END AS k,
               e -> 'value' -> 'value' AS v
        FROM jsonb_array_elements(doc::jsonb) AS e
        WHERE jsonb_typeof(e -> 'repeat') IS DISTINCT FROM 'string'
          AND e -> 'value' ->> 'type' IN ('text', 'choice', 'int', 'decimal', 'date', 'time', 'date_time', 'file')
        UNION ALL
        SELECT (e ->> 'path') || ' ' || c AS k, '1'::jsonb AS v
        FROM jsonb_array_elements(doc::jsonb) AS e,
             jsonb_array_elements_text(e -> 'value' -> 'value') AS c
        WHERE jsonb_typeof(e -> 'repeat') IS DISTINCT FROM 'string'
          AND e -> 'value' ->> 'type' = 'choices'
    ) AS kv;
    RETURN result;
EXCEPTION WHEN others THEN
    RETURN '{}';
END
$$;

CREATE FUNCTION baraza_submissions_filter() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.filter_json := baraza_filter_json(NEW.values_json);
    RETURN NEW;
END
$$;

CREATE TRIGGER submissions_filter BEFORE INSERT OR UPDATE OF values_json ON submissions
    FOR EACH ROW EXECUTE FUNCTION baraza_submissions_filter();

-- Submissions stored before this migration.
UPDATE submissions SET filter_json = baraza_filter_json(values_json);

-- Keyset paging in received order (either direction), alone or under one equality filter; the
-- other filters are checked on the rows these indexes yield, in order. Only current versions of
-- records are listed, so the indexes hold only those.
CREATE INDEX submissions_current_received ON submissions (form_id, received_at, id) WHERE is_current;
CREATE INDEX submissions_current_review ON submissions (form_id, review_state, received_at, id) WHERE is_current;
CREATE INDEX submissions_current_submitter ON submissions (form_id, app_user_id, user_id, received_at, id) WHERE is_current;
