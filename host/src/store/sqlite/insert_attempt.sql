-- The attempt row of an attempt that just ended (after finish.sql).
INSERT INTO attempt (job_id, attempt, worker, started_at, finished_at, duration_ms,
                     status, reason, result_digest)
SELECT id, attempt, worker, started_at, finished_at, duration_ms, status, reason, :result_digest
FROM job
WHERE id = :id AND attempt = :attempt
