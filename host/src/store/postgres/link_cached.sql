-- The run-cache in one statement: every unassigned job of $1 whose key
-- matches a finished job becomes FINISHED, with an attempt pointing at the
-- attempt that produced that job's result (the oldest finished job with
-- the key is the source). SKIP LOCKED leaves jobs being claimed alone.
WITH candidate AS (
    SELECT j.id, j.attempt + 1 AS attempt, a.result_digest,
           coalesce(a.source_job, a.job_id) AS source_job,
           coalesce(a.source_attempt, a.attempt) AS source_attempt,
           a.key_set
    FROM job j
    JOIN LATERAL (
        SELECT s.id, s.attempt FROM job s
        WHERE s.job_key = j.job_key AND s.status = 'FINISHED'
        ORDER BY s.id LIMIT 1
    ) s ON TRUE
    JOIN attempt a ON a.job_id = s.id AND a.attempt = s.attempt
    WHERE j.status = 'UNASSIGNED'
      AND j.job_key IS NOT NULL
      AND a.result_digest IS NOT NULL
      AND j.experiment_id = ANY($1)
    FOR UPDATE OF j SKIP LOCKED
), linked AS (
    UPDATE job
    SET status = 'FINISHED', attempt = c.attempt, worker = $2,
        started_at = $3, finished_at = $3, duration_ms = 0, reason = NULL
    FROM candidate c
    WHERE job.id = c.id AND job.status = 'UNASSIGNED'
    RETURNING job.id
)
INSERT INTO attempt (job_id, attempt, worker, started_at, finished_at, duration_ms,
                     status, reason, result_digest, source_job, source_attempt, key_set)
SELECT c.id, c.attempt, $2, $3, $3, 0, 'FINISHED', NULL, c.result_digest,
       c.source_job, c.source_attempt, c.key_set
FROM candidate c JOIN linked l ON l.id = c.id
