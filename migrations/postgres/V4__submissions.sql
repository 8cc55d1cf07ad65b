-- Workers submitted to a cluster's scheduler (`djx submit --slurm`): one row
-- per experiment per submission, with the scheduler's job id, when, and the
-- command (which never holds a password).

CREATE TABLE submission (
    id            BIGSERIAL PRIMARY KEY,
    experiment_id BIGINT  NOT NULL REFERENCES experiment (id),
    scheduler     TEXT    NOT NULL CHECK (scheduler IN ('slurm')),
    scheduler_job TEXT    NOT NULL,
    submitted_at  TEXT    NOT NULL,
    command       TEXT    NOT NULL,
    workers       INTEGER NOT NULL CHECK (workers > 0),
    slots         INTEGER NOT NULL CHECK (slots > 0)
);

CREATE INDEX submission_by_experiment ON submission (experiment_id);
