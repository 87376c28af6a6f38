-- Consent (see docs/protection.md, "Consent"): for each record of a form that has a consent
-- question, what the person answered, under which version of the notice, in which language,
-- through which channel and when. Written in the same transaction as the record's first version
-- (an edit changes it only when the answer changes). When the record is erased because consent
-- was withdrawn, the row is reduced to the proof of withdrawal: `state` = 'withdrawn', the notice
-- version and `withdrawn_at`, nothing else; any other erasure, and retention, remove it.
CREATE TABLE consents (
    form_id          BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    root_instance_id TEXT   NOT NULL,
    -- The version whose answer is recorded.
    instance_id      TEXT,
    state            TEXT   NOT NULL CHECK (state IN ('given', 'refused', 'not_answered', 'withdrawn')),
    notice_version   TEXT,
    -- The form language the notice was shown in, and how Baraza knows it:
    -- 'web_form' (the language the form was filled in), 'submission' (a meta/language element),
    -- 'form_default' (the form's default language: ODK Collect does not say which it showed).
    language         TEXT,
    language_source  TEXT,
    -- 'odk_collect', 'web_form', 'public_link', 'import' or 'api'.
    channel          TEXT,
    received_at      BIGINT,
    -- The start and end metadata, as the device sent them (ISO 8601), when the form has them.
    started          TEXT,
    ended            TEXT,
    withdrawn_at     BIGINT,
    PRIMARY KEY (form_id, root_instance_id)
);
