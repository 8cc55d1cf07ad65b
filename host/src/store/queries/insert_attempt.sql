-- The attempt row of an attempt that just ended (after finish.sql), with
-- the set of keys its records use (insert_key_set.sql stored it).
INSERT INTO attempt (job_id, attempt, worker, started_at, finished_at, duration_ms,
                     status, reason, result_digest, key_set)
SELECT id, attempt, worker, started_at, finished_at, duration_ms, status, reason, :result_digest,
       (SELECT id FROM key_set WHERE digest = :key_digest)
FROM job
WHERE id = :id AND attempt = :attempt
