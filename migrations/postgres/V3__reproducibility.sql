-- Locked jobs, result digests and the run-cache.
--
-- experiment.engine: the engine settings that can change results (JSON);
-- experiment.provenance: git state, djx version and host at `djx add`;
-- experiment.digest_log: whether the log is part of result digests.
-- job.job_key: blake3 of the job's locked form (NULL for jobs added before).
-- attempt: one row per attempt that ended (finished or failed), with its
-- result digest; a cached attempt points at the attempt whose records and
-- artifacts it reuses (source_job, source_attempt).

ALTER TABLE experiment ADD COLUMN engine TEXT NOT NULL DEFAULT '';
ALTER TABLE experiment ADD COLUMN provenance TEXT NOT NULL DEFAULT '{}';
ALTER TABLE experiment ADD COLUMN digest_log BOOLEAN NOT NULL DEFAULT TRUE;

ALTER TABLE job ADD COLUMN job_key TEXT;
CREATE INDEX job_by_key ON job (job_key) WHERE job_key IS NOT NULL;

CREATE TABLE attempt (
    job_id         BIGINT  NOT NULL REFERENCES job (id),
    attempt        BIGINT  NOT NULL,
    worker         TEXT,
    started_at     TEXT,
    finished_at    TEXT,
    duration_ms    BIGINT,
    status         TEXT    NOT NULL CHECK (status IN ('FINISHED', 'FAILED')),
    reason         TEXT,
    result_digest  TEXT,
    source_job     BIGINT  REFERENCES job (id),
    source_attempt BIGINT,
    PRIMARY KEY (job_id, attempt)
);

CREATE INDEX attempt_by_source ON attempt (source_job, source_attempt)
    WHERE source_job IS NOT NULL;

-- Jobs that ended before this migration get their attempt row (without a
-- result digest: it was never computed).
INSERT INTO attempt (job_id, attempt, worker, started_at, finished_at, duration_ms, status, reason)
SELECT id, attempt, worker, started_at, finished_at, duration_ms, status, reason
FROM job WHERE status IN ('FINISHED', 'FAILED');
