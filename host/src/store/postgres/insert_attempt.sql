-- The attempt row of an attempt that just ended (after finish.sql), with
-- the set of keys its records use ($4 its digest, $5 its text), stored
-- once per distinct set. A set another transaction is adding at the same
-- moment is not yet visible here: the attempt then has none, and an export
-- reads its records for their keys instead.
WITH new_set AS (
    INSERT INTO key_set (digest, keys) VALUES ($4, $5)
    ON CONFLICT (digest) DO NOTHING
    RETURNING id
)
INSERT INTO attempt (job_id, attempt, worker, started_at, finished_at, duration_ms,
                     status, reason, result_digest, key_set)
SELECT id, attempt, worker, started_at, finished_at, duration_ms, status, reason, $3,
       coalesce((SELECT id FROM new_set), (SELECT id FROM key_set WHERE digest = $4))
FROM job
WHERE id = $1 AND attempt = $2
