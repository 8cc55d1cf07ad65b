-- The original djx's three tables (experiment, job, record), plus the
-- artifacts and log of each attempt. Statuses are CHECKed, not free text.

CREATE TABLE experiment (
    id            INTEGER PRIMARY KEY,
    project       TEXT,
    name          TEXT    NOT NULL,
    description   TEXT,
    created_at    TEXT    NOT NULL,
    source_path   TEXT    NOT NULL,   -- the experiment file as given to `djx add`
    source_digest TEXT    NOT NULL,   -- blake3 of its bytes
    spec          TEXT    NOT NULL,   -- the file's text, for provenance
    module_digest TEXT    NOT NULL,
    datasets      TEXT    NOT NULL,   -- JSON: [{name, digest, kind, file}]
    limits        TEXT    NOT NULL,   -- JSON
    determinism   TEXT    NOT NULL CHECK (determinism IN ('native', 'portable')),
    retries       INTEGER NOT NULL DEFAULT 0 CHECK (retries >= 0)
);

CREATE TABLE job (
    id               INTEGER PRIMARY KEY,
    experiment_id    INTEGER NOT NULL REFERENCES experiment (id),
    position         INTEGER NOT NULL,          -- order in the grid
    labels           TEXT    NOT NULL,          -- canonical JSON
    parameter        TEXT    NOT NULL,          -- canonical JSON
    status           TEXT    NOT NULL DEFAULT 'UNASSIGNED'
                     CHECK (status IN ('UNASSIGNED', 'ASSIGNED', 'FINISHED', 'FAILED')),
    attempt          INTEGER NOT NULL DEFAULT 0, -- claims so far; records belong to one
    lost             INTEGER NOT NULL DEFAULT 0, -- attempts whose worker vanished
    worker           TEXT,                      -- who ran the latest attempt
    lease_owner      TEXT,                      -- who holds the job now
    lease_expires_ms INTEGER,                   -- unix ms
    started_at       TEXT,
    finished_at      TEXT,
    duration_ms      INTEGER,
    reason           TEXT,
    UNIQUE (experiment_id, position)
);

CREATE INDEX job_by_status ON job (experiment_id, status, position);

CREATE TABLE record (
    job_id    INTEGER NOT NULL REFERENCES job (id),
    attempt   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    event     TEXT    NOT NULL,
    context   TEXT    NOT NULL,   -- JSON object
    metrics   TEXT    NOT NULL,   -- JSON object; non-finite values are null
    artifacts TEXT    NOT NULL,   -- JSON object name -> digest
    PRIMARY KEY (job_id, attempt, seq)
) WITHOUT ROWID;

CREATE TABLE artifact (
    job_id  INTEGER NOT NULL REFERENCES job (id),
    attempt INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    name    TEXT    NOT NULL,
    digest  TEXT    NOT NULL,
    size    INTEGER NOT NULL,
    PRIMARY KEY (job_id, attempt, seq)
) WITHOUT ROWID;

CREATE INDEX artifact_by_digest ON artifact (digest);

CREATE TABLE job_log (
    job_id  INTEGER NOT NULL REFERENCES job (id),
    attempt INTEGER NOT NULL,
    log     BLOB    NOT NULL,
    PRIMARY KEY (job_id, attempt)
) WITHOUT ROWID;
