-- The web form (server-side drafts, public links, a rate limit for anonymous senders) and the
-- review of submissions (states with their history, comments, the reasons of edits).

-- A form being filled in a browser. The id is a random secret that appears in the draft's URL;
-- a draft belongs to an account, or (public links) to whoever holds the cookie whose SHA-256
-- is `secret_hash`.
CREATE TABLE form_drafts (
    id              TEXT   PRIMARY KEY,
    form_id         BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    form_version_id BIGINT NOT NULL REFERENCES form_versions (id) ON DELETE CASCADE,
    user_id         BIGINT REFERENCES users (id) ON DELETE CASCADE,
    secret_hash     TEXT,
    edit_of         TEXT,
    state_json      TEXT   NOT NULL,
    at_json         TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (user_id IS NOT NULL OR secret_hash IS NOT NULL)
);
CREATE INDEX form_drafts_user ON form_drafts (user_id, form_id);
CREATE INDEX form_drafts_updated ON form_drafts (updated_at);

-- The public link of a form (anyone with it may fill the form in a browser); NULL when off.
ALTER TABLE forms ADD COLUMN public_token TEXT;
CREATE UNIQUE INDEX forms_public_token ON forms (public_token);

-- What happened to a record besides its versions: comments, review states, edits' reasons.
CREATE TABLE submission_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    form_id          BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    root_instance_id TEXT   NOT NULL,
    kind             TEXT   NOT NULL CHECK (kind IN ('comment', 'review', 'edit')),
    review_state     TEXT,
    instance_id      TEXT,
    body             TEXT   NOT NULL DEFAULT '',
    user_id          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX submission_events_root ON submission_events (form_id, root_instance_id, id);

-- Events counted against a rate limit (e.g. web submissions per address), kept a day.
CREATE TABLE rate_events (
    id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT   NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX rate_events_key_at ON rate_events (key, at);
