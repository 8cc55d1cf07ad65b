-- Job modules by digest, so every worker of a store can load them.
CREATE TABLE module (
    digest TEXT PRIMARY KEY,
    wasm   BYTEA NOT NULL
);
