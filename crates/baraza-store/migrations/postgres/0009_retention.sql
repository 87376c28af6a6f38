-- How long a form's records are kept: after this many days from their first receipt, the
-- retention job destroys them (NULL: kept until someone deletes them).
ALTER TABLE forms ADD COLUMN retention_days BIGINT;
