-- Claims up to :n unassigned jobs for :worker, in experiment and grid order.
-- Runs inside BEGIN IMMEDIATE, so two processes never claim the same job.
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
      AND experiment_id IN (SELECT value FROM json_each(:experiments))
    ORDER BY experiment_id, position
    LIMIT :n
)
RETURNING id, experiment_id, attempt, labels, parameter, job_key
