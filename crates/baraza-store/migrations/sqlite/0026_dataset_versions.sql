-- A dataset's versions (docs/catalogue.md, "Versions"): one row per change that alters what a
-- reader gets, written in the same transaction as the change. `number` counts from 1 per
-- dataset; `author_kind` is `user` (then `author_id` is the user's id), `harvest` or `system`;
-- `public` says whether the dataset was published and not private at that version;
-- `changes` is baraza-catalogue's versions::Changes and `snapshot` the dataset as it then was
-- (its Dataset, with its resources), both JSON.
CREATE TABLE dataset_versions (
    dataset_id        BIGINT  NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    number            BIGINT  NOT NULL,
    created_at        BIGINT  NOT NULL,
    author_kind       TEXT    NOT NULL,
    author_id         BIGINT,
    public            BOOLEAN NOT NULL,
    changes           TEXT    NOT NULL,
    snapshot          TEXT    NOT NULL,
    PRIMARY KEY (dataset_id, number)
);
