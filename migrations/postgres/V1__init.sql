-- The original djx's three tables (experiment, job, record), plus the
-- artifacts and log of each attempt. JSON is kept as TEXT: the canonical
-- bytes djx wrote are the bytes it reads back (jsonb would reorder them).

CREATE TABLE experiment (
    id            BIGSERIAL PRIMARY KEY,
    project       TEXT,
    name          TEXT    NOT NULL,
    description   TEXT,
    created_at    TEXT    NOT NULL,
    source_path   TEXT    NOT NULL,
    source_digest TEXT    NOT NULL,
    spec          TEXT    NOT NULL,
    module_digest TEXT    NOT NULL,
    datasets      TEXT    NOT NULL,
    limits        TEXT    NOT NULL,
    determinism   TEXT    NOT NULL CHECK (determinism IN ('native', 'portable')),
    retries       INTEGER NOT NULL DEFAULT 0 CHECK (retries >= 0)
);

CREATE TABLE job (
    id               BIGSERIAL PRIMARY KEY,
    experiment_id    BIGINT  NOT NULL REFERENCES experiment (id),
    position         BIGINT  NOT NULL,
    labels           TEXT    NOT NULL,
    parameter        TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'UNASSIGNED'
                     CHECK (status IN ('UNASSIGNED', 'ASSIGNED', 'FINISHED', 'FAILED')),
    attempt          BIGINT  NOT NULL DEFAULT 0,
    lost             BIGINT  NOT NULL DEFAULT 0,
    worker           TEXT,
    lease_owner      TEXT,
    lease_expires_ms BIGINT,
    started_at       TEXT,
    finished_at      TEXT,
    duration_ms      BIGINT,
    reason           TEXT,
    UNIQUE (experiment_id, position)
);

CREATE INDEX job_by_status ON job (experiment_id, status, position);
CREATE INDEX job_by_owner ON job (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE record (
    job_id    BIGINT NOT NULL REFERENCES job (id),
    attempt   BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    event     TEXT   NOT NULL,
    context   TEXT   NOT NULL,
    metrics   TEXT   NOT NULL,
    artifacts TEXT   NOT NULL,
    PRIMARY KEY (job_id, attempt, seq)
);

CREATE TABLE artifact (
    job_id  BIGINT NOT NULL REFERENCES job (id),
    attempt BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    name    TEXT   NOT NULL,
    digest  TEXT   NOT NULL,
    size    BIGINT NOT NULL,
    PRIMARY KEY (job_id, attempt, seq)
);

CREATE INDEX artifact_by_digest ON artifact (digest);

CREATE TABLE job_log (
    job_id  BIGINT NOT NULL REFERENCES job (id),
    attempt BIGINT NOT NULL,
    log     BYTEA  NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
