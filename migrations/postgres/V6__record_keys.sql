-- The keys each attempt's records use (labels, context, metrics, artifact
-- names): the columns of an export, known before its first row is read.
-- Equal sets share a row, found by the blake3 of their text. Attempts
-- stored before this migration have none: an export reads their records
-- for them.
CREATE TABLE key_set (
    id     BIGSERIAL PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    keys   TEXT NOT NULL
);

ALTER TABLE attempt ADD COLUMN key_set BIGINT REFERENCES key_set (id);
