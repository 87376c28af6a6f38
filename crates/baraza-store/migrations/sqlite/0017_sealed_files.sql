-- Files received with submissions are sealed at rest, each under a key of its own: the key,
-- sealed under the project's data key (`<data key version>:<base64>`), is kept in the row that
-- names the file. Deleting the row destroys the only key, so every copy of the file's bytes
-- (blob, file-system remnants, backups' blobs) becomes unreadable. NULL: stored in clear
-- (received before this, or with encryption at rest turned off).
ALTER TABLE submission_attachments ADD COLUMN file_key TEXT;
ALTER TABLE encrypted_submission_files ADD COLUMN file_key TEXT;
