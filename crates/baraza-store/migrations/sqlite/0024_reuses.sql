-- Reuses and discussions (docs/catalogue.md, "Reuses and discussions").
--
-- A reuse is something made with one or more datasets (an article, a visualisation, an
-- application…), registered by anyone signed in. `kind` is one of uData's reuse types. The
-- site administrators and the managers of a linked dataset's project hide (moderate) a reuse
-- with a reason; a hidden reuse is kept, shown to its owner and to moderators only, and not
-- counted. People are referred to by id without a foreign key, as in the audit log: an
-- account's removal does not remove what it wrote.
CREATE TABLE reuses (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    title          TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    url            TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    topic          TEXT    NOT NULL DEFAULT '',
    owner_id       BIGINT,
    hidden         BOOLEAN NOT NULL DEFAULT FALSE,
    hidden_reason  TEXT    NOT NULL DEFAULT '',
    hidden_by      BIGINT,
    hidden_at      BIGINT,
    created_at     BIGINT  NOT NULL,
    modified_at    BIGINT  NOT NULL
);
CREATE INDEX reuses_by_owner ON reuses (owner_id);

-- The datasets a reuse is made with. A dataset's reuse count is the number of its reuses
-- that are not hidden.
CREATE TABLE reuse_datasets (
    reuse_id       BIGINT  NOT NULL REFERENCES reuses (id) ON DELETE CASCADE,
    dataset_id     BIGINT  NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    PRIMARY KEY (reuse_id, dataset_id)
);
CREATE INDEX reuse_datasets_by_dataset ON reuse_datasets (dataset_id);

-- A discussion about a dataset or a reuse (exactly one of the two), with its messages. The
-- first message is the opening one; a closing message, if any, is the last.
CREATE TABLE discussions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id     BIGINT  REFERENCES datasets (id) ON DELETE CASCADE,
    reuse_id       BIGINT  REFERENCES reuses (id) ON DELETE CASCADE,
    title          TEXT    NOT NULL,
    opened_by      BIGINT,
    created_at     BIGINT  NOT NULL,
    closed_by      BIGINT,
    closed_at      BIGINT,
    CHECK ((dataset_id IS NULL) <> (reuse_id IS NULL))
);
CREATE INDEX discussions_by_dataset ON discussions (dataset_id);
CREATE INDEX discussions_by_reuse ON discussions (reuse_id);

-- A hidden message keeps its text for the audit; readers see that moderation hid it.
CREATE TABLE discussion_messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    discussion_id  BIGINT  NOT NULL REFERENCES discussions (id) ON DELETE CASCADE,
    author_id      BIGINT,
    body           TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    hidden         BOOLEAN NOT NULL DEFAULT FALSE,
    hidden_reason  TEXT    NOT NULL DEFAULT '',
    hidden_by      BIGINT,
    hidden_at      BIGINT
);
CREATE INDEX discussion_messages_by_discussion ON discussion_messages (discussion_id, id);

-- Reports of a message as spam or abuse: one per person and message.
CREATE TABLE discussion_reports (
    message_id     BIGINT  NOT NULL REFERENCES discussion_messages (id) ON DELETE CASCADE,
    user_id        BIGINT  NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    at             BIGINT  NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
