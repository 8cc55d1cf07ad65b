-- Claims up to $5 unassigned jobs for $1 in one statement; SKIP LOCKED lets
-- many workers claim at once without waiting on each other or colliding.
UPDATE job
SET status = 'ASSIGNED',
    attempt = attempt + 1,
    worker = $1,
    lease_owner = $1,
    lease_expires_ms = $2,
    started_at = $3,
    finished_at = NULL,
    duration_ms = NULL,
    reason = NULL
WHERE id IN (
    SELECT id FROM job
    WHERE status = 'UNASSIGNED'
      AND experiment_id = ANY($4)
    ORDER BY experiment_id, position
    LIMIT $5
    FOR UPDATE SKIP LOCKED
)
RETURNING id, experiment_id, attempt, labels, parameter, job_key
