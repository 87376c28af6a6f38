-- Citizen reports (docs/reports.md): reports by SMS through gateways and by the web form, their
-- moderation, the outbox of replies and the alerts on spikes.
--
-- Phone numbers are never stored in clear: a sender is known by a pseudonym (the project's
-- blind index of the E.164 number, a keyed hash, to link a sender's reports), and the number
-- itself is sealed under the project's data key (`*_sealed` columns hold baraza_protect's
-- sealed bytes in base64; `key_version` names the key), to reply. Secrets of gateways are
-- sealed the same way.

-- A project's report settings; a project without a row has the defaults.
-- `fuzz`: `none`, `area` (the public sees the centre of the report's admin area) or `grid`
-- (the centre of a `fuzz_km` grid cell). `categories` and `checklist` are JSON.
-- `alert_phones` is the sealed JSON list of numbers told of spikes.
CREATE TABLE report_settings (
    project_id          BIGINT  PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    web_form            BOOLEAN NOT NULL DEFAULT FALSE,
    hide_author         BOOLEAN NOT NULL DEFAULT TRUE,
    hide_time           BOOLEAN NOT NULL DEFAULT FALSE,
    fuzz                TEXT    NOT NULL DEFAULT 'none',
    fuzz_km             DOUBLE PRECISION NOT NULL DEFAULT 10,
    k_threshold         BIGINT  NOT NULL DEFAULT 5,
    categories          TEXT    NOT NULL DEFAULT '[]',
    checklist           TEXT    NOT NULL DEFAULT '[]',
    sms_forms           TEXT    NOT NULL DEFAULT '[]',
    alert_threshold     BIGINT  NOT NULL DEFAULT 0,
    alert_window_hours  BIGINT  NOT NULL DEFAULT 24,
    alert_phones        TEXT,
    alert_key_version   BIGINT,
    modified_at         BIGINT  NOT NULL
);

-- Counts every write to a project's reports: the map's in-memory index of a project reloads the
-- reports whose `seq` is above the version it holds.
CREATE TABLE report_versions (
    project_id          BIGINT  PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    version             BIGINT  NOT NULL
);

-- A gateway posting to /hooks/reports/{token}. The token names the channel (it is not secret);
-- `secret` (sealed) is what its webhooks are checked with; `outbound` (sealed JSON) holds what
-- replies need (account, API key, URL).
CREATE TABLE report_channels (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    token               TEXT    NOT NULL UNIQUE,
    gateway             TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    secret              TEXT    NOT NULL,
    outbound            TEXT    NOT NULL,
    key_version         BIGINT  NOT NULL,
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    bucket_milli        BIGINT,
    bucket_at_ms        BIGINT,
    created_at          BIGINT  NOT NULL,
    modified_at         BIGINT  NOT NULL
);
CREATE INDEX report_channels_by_project ON report_channels (project_id);

-- Every message taken from a gateway: the ledger that drops repeats. A message is a repeat when
-- its channel saw its provider id, or when its content key (sender, folded text, ten-minute
-- window) was seen in its window or the one before.
CREATE TABLE report_messages (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id          BIGINT  NOT NULL REFERENCES report_channels (id) ON DELETE CASCADE,
    provider_id         TEXT,
    content_key         TEXT    NOT NULL UNIQUE,
    sender              TEXT    NOT NULL,
    received_at         BIGINT  NOT NULL,
    outcome             TEXT    NOT NULL,
    report_id           BIGINT
);
CREATE UNIQUE INDEX report_messages_provider ON report_messages (channel_id, provider_id)
    WHERE provider_id IS NOT NULL;

-- A report. `source` is `sms` (through `channel_id`) or `web`; `answers` the JSON of an SMS
-- form's typed answers; `place_match` how the place was found (`exact`, `variant`, `typo`,
-- `ambiguous`, `none`, `given`, `moderator`); `sender` the pseudonym and `sender_sealed` the
-- number, for replies; `checklist` the JSON of the verification items ticked. `seq` is the
-- project's report version of the last write.
CREATE TABLE reports (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source              TEXT    NOT NULL,
    channel_id          BIGINT  REFERENCES report_channels (id) ON DELETE SET NULL,
    form_id             TEXT,
    answers             TEXT    NOT NULL DEFAULT '{}',
    category            TEXT    NOT NULL DEFAULT '',
    body                TEXT    NOT NULL,
    place_code          TEXT,
    place_match         TEXT    NOT NULL DEFAULT 'none',
    lat                 DOUBLE PRECISION,
    lon                 DOUBLE PRECISION,
    state               TEXT    NOT NULL DEFAULT 'in_review',
    sender              TEXT,
    sender_sealed       TEXT,
    key_version         BIGINT,
    author_id           BIGINT,
    checklist           TEXT    NOT NULL DEFAULT '{}',
    reported_at         BIGINT  NOT NULL,
    created_at          BIGINT  NOT NULL,
    modified_at         BIGINT  NOT NULL,
    seq                 BIGINT  NOT NULL
);
CREATE INDEX reports_by_state ON reports (project_id, state, reported_at);
CREATE INDEX reports_by_seq ON reports (project_id, seq);
CREATE INDEX reports_by_sender ON reports (project_id, sender);
CREATE INDEX reports_for_alerts ON reports (project_id, category, place_code, reported_at);

-- Moderators' comments on a report.
CREATE TABLE report_comments (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id           BIGINT  NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    author_id           BIGINT,
    body                TEXT    NOT NULL,
    created_at          BIGINT  NOT NULL
);
CREATE INDEX report_comments_by_report ON report_comments (report_id, id);

-- Replies and alerts waiting to be sent through a channel, retried with backoff. `state`:
-- `pending`, `sent`, `failed` (no attempt left). SMSSync phones take theirs on their poll.
CREATE TABLE report_outbox (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id          BIGINT  NOT NULL REFERENCES report_channels (id) ON DELETE CASCADE,
    report_id           BIGINT,
    kind                TEXT    NOT NULL,
    recipient           TEXT    NOT NULL,
    recipient_sealed    TEXT    NOT NULL,
    key_version         BIGINT  NOT NULL,
    body                TEXT    NOT NULL,
    uuid                TEXT    NOT NULL,
    state               TEXT    NOT NULL DEFAULT 'pending',
    attempts            BIGINT  NOT NULL DEFAULT 0,
    next_at_ms          BIGINT  NOT NULL,
    last_error          TEXT    NOT NULL DEFAULT '',
    created_at          BIGINT  NOT NULL,
    sent_at             BIGINT
);
CREATE INDEX report_outbox_due ON report_outbox (state, next_at_ms);

-- A spike: at least the project's threshold of reports of one category in one place within its
-- window. One alert per category, place and window.
CREATE TABLE report_alerts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    category            TEXT    NOT NULL,
    place_code          TEXT    NOT NULL,
    window_start        BIGINT  NOT NULL,
    count               BIGINT  NOT NULL,
    created_at          BIGINT  NOT NULL,
    notified            BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (project_id, category, place_code, window_start)
);
