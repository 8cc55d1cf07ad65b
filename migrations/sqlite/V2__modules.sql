-- Job modules by digest, so every worker of a store can load them.
CREATE TABLE module (
    digest TEXT PRIMARY KEY,
    wasm   BLOB NOT NULL
) WITHOUT ROWID;
