-- Files received with submissions are sealed at rest, each under a key of its own: the key,
-- sealed under the project's data key (`<data key version>:<base64>`), is kept in the row that
-- names the file. Deleting the row destroys the only key, so every copy of the file's bytes
-- (blob, file-system remnants, backups' blobs) becomes unreadable. NULL: stored in clear
-- (received before this, or with encryption at rest turned off).
ALTER TABLE submission_attachments ADD COLUMN file_key TEXT;
ALTER TABLE encrypted_submission_files ADD COLUMN file_key TEXT;

-- Whether a file is still named by a row is asked after every submission with files (a replay's
-- copy is wiped) and at every destruction: by digest, so indexed.
CREATE INDEX submission_attachments_sha256 ON submission_attachments (sha256);
CREATE INDEX encrypted_submission_files_sha256 ON encrypted_submission_files (sha256);
