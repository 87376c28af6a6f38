-- The XML of a submission is kept in its row, written in the same transaction as the record, so
-- that a submission costs one durable commit instead of a flushed blob and a commit.
-- Submissions stored before this migration keep their XML in the content-addressed blob named
-- by xml_sha256 (their xml is NULL); readers fall back to it (Core::submission_xml).
ALTER TABLE submissions ADD COLUMN xml TEXT;
