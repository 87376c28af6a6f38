-- Row-level scopes: a member below manager may be limited to the records whose answer to one
-- question (by its name in the form, e.g. `region`) is one of a list of values (choice names),
-- e.g. a partner organisation that sees one region. NULL: no limit beyond the role's own (a
-- collector always sees only the records they sent). See baraza_core::scope.
ALTER TABLE project_members ADD COLUMN scope_field TEXT;
-- The values, one per line; set together with scope_field.
ALTER TABLE project_members ADD COLUMN scope_values TEXT;
