-- Claims up to :n unassigned jobs for :worker, in experiment and grid order.
-- On SQLite the write transaction holds the file; on PostgreSQL SKIP LOCKED
-- lets many workers claim at once without waiting on each other or taking
-- the same job.
UPDATE job
SET status = 'ASSIGNED',
    attempt = attempt + 1,
    worker = :worker,
    lease_owner = :worker,
    lease_expires_ms = :expires_ms,
    started_at = :now,
    finished_at = NULL,
    duration_ms = NULL,
    reason = NULL
WHERE id IN (
    SELECT id FROM job
    WHERE status = 'UNASSIGNED'
      AND experiment_id IN_LIST(:experiments)
    ORDER BY experiment_id, position
    LIMIT :n
    SKIP_LOCKED(job)
)
RETURNING id, experiment_id, attempt, labels, parameter, job_key
