-- Why a form's data is collected and on what lawful basis (GDPR art. 6), for the record of
-- processing activities; empty until the form's managers say.
ALTER TABLE forms ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE forms ADD COLUMN lawful_basis TEXT NOT NULL DEFAULT '';
ALTER TABLE forms ADD COLUMN data_subjects TEXT NOT NULL DEFAULT '';
