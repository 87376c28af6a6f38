-- The tamper-evident audit log: append-only, hash-chained, each entry signed with the server's
-- audit key (which is kept in a file, never in the database). See baraza_protect::chain.
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    -- Hashed: who (`user:12`, `app-user:3`, `system`, `anonymous`), what (a dotted code), to
    -- what (`project:3/form:points_eau`) and details (JSON).
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    target     TEXT   NOT NULL,
    details    TEXT   NOT NULL,
    prev_hash  TEXT   NOT NULL,
    hash       TEXT   NOT NULL,
    signature  TEXT   NOT NULL,
    -- Not hashed, for queries; verification checks that they agree with actor and target.
    user_id    BIGINT,
    project_id BIGINT
);
CREATE INDEX audit_log_project ON audit_log (project_id, seq);
CREATE INDEX audit_log_user ON audit_log (user_id, action, at);

-- The chain's head, one row: appends lock it, so that entries from several instances chain in
-- one order.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT   NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: no change, no removal (TRUNCATE included).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
