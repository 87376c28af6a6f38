-- Records erased on request (an erasure request, a withdrawn consent, a record collected in
-- error): which form and record, why and when, nothing of their content. A record found here
-- that is back — a backup made before its erasure restored over the database (`baraza restore`
-- carries this ledger over from the database it replaces), or a device that sent it again — is
-- erased again, with a certificate, at the server's start and every hour.
CREATE TABLE erasure_ledger (
    form_id          BIGINT NOT NULL,
    root_instance_id TEXT   NOT NULL,
    reason           TEXT   NOT NULL,
    erased_at        BIGINT NOT NULL,
    PRIMARY KEY (form_id, root_instance_id)
);
