-- IATI 2.03 aid-transparency records (docs/iati.md).
--
-- An organisation's IATI identity (its organisation identifier, e.g. `XM-DAC-41114` or
-- `TD-MEPD-123`, and its OrganisationType code) is kept apart from `organisations`, one row per
-- organisation that has told it. A project's IATI activity is one row: the project code that
-- follows the organisation identifier in the activity's iati-identifier, and the rest of what is
-- recorded (titles, descriptions, dates, status, places, sectors, participating organisations,
-- default currency) as JSON (baraza-publish's iati::ActivityFields), checked by the core before
-- it is written. Budgets and transactions are rows of their own; money is decimal text as it
-- was typed once checked (never a float), in the currency of the row.
CREATE TABLE iati_organisations (
    org_id       BIGINT  PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    identifier   TEXT    NOT NULL,
    org_type     TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL
);

CREATE TABLE iati_activities (
    project_id   BIGINT  PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    code         TEXT    NOT NULL,
    fields       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);

CREATE TABLE iati_budgets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT  NOT NULL REFERENCES iati_activities (project_id) ON DELETE CASCADE,
    budget_type  TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    period_start TEXT    NOT NULL,
    period_end   TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    value_date   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX iati_budgets_by_project ON iati_budgets (project_id, period_start);

CREATE TABLE iati_transactions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id       BIGINT  NOT NULL REFERENCES iati_activities (project_id) ON DELETE CASCADE,
    transaction_type TEXT    NOT NULL,
    tx_date          TEXT    NOT NULL,
    value            TEXT    NOT NULL,
    currency         TEXT    NOT NULL,
    value_date       TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    provider_name    TEXT    NOT NULL DEFAULT '',
    provider_ref     TEXT    NOT NULL DEFAULT '',
    receiver_name    TEXT    NOT NULL DEFAULT '',
    receiver_ref     TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT  NOT NULL
);
CREATE INDEX iati_transactions_by_project ON iati_transactions (project_id, tx_date);
