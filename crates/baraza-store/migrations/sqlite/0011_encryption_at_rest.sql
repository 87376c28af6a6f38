-- Encryption at rest (see docs/protection.md, "Encryption at rest").
--
-- Each project has data keys, numbered from 1; the newest seals new records. A key is stored only
-- wrapped (XChaCha20-Poly1305) under the server's master key, which is never in the database:
-- `wrapped` is baraza_protect's text form, which names the fingerprint of the master key that
-- wrapped it.
CREATE TABLE project_keys (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    wrapped    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, version)
);

-- The data key that sealed a submission's XML and its answers to personal and sensitive
-- questions; NULL for a submission stored in clear (before this migration). When set, `xml`
-- holds the sealed XML in base64, and each sealed answer in `values_json` is
-- {"type":"sealed","value":"<base64>"} (which the filter triggers skip).
ALTER TABLE submissions ADD COLUMN key_version BIGINT;
-- The submissions still in clear, which the server seals (Core::seal_existing).
CREATE INDEX submissions_clear ON submissions (id) WHERE key_version IS NULL;

-- Blind indexes of the answers that identify a person (phone numbers, e-mails, names, identity
-- numbers): a keyed hash per answer, so that a data-subject request finds every record of a
-- person without decrypting the project. Removed with the submission.
CREATE TABLE subject_index (
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    project_id    BIGINT NOT NULL,
    token         TEXT   NOT NULL,
    path          TEXT   NOT NULL
);
CREATE INDEX subject_index_token ON subject_index (project_id, token);
CREATE INDEX subject_index_submission ON subject_index (submission_id);
