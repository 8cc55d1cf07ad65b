-- The attempt row of an attempt that just ended (after finish.sql).
INSERT INTO attempt (job_id, attempt, worker, started_at, finished_at, duration_ms,
                     status, reason, result_digest)
SELECT id, attempt, worker, started_at, finished_at, duration_ms, status, reason, $3
FROM job
WHERE id = $1 AND attempt = $2
