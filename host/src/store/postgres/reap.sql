-- Puts back jobs whose lease expired ($2, unix ms), or whose owner is known
-- dead ($4); a job lost more than `retries + 1` times fails instead.
UPDATE job
SET status = CASE WHEN job.lost + 1 > e.retries + 1 THEN 'FAILED' ELSE 'UNASSIGNED' END,
    reason = CASE WHEN job.lost + 1 > e.retries + 1
        THEN 'its worker was lost ' || (job.lost + 1) || ' times (last: ' || job.lease_owner || '); '
             || 'raise `retries` to requeue it more often'
        ELSE job.reason END,
    finished_at = CASE WHEN job.lost + 1 > e.retries + 1 THEN $1 ELSE job.finished_at END,
    lost = job.lost + 1,
    lease_owner = NULL,
    lease_expires_ms = NULL
FROM experiment e
WHERE e.id = job.experiment_id
  AND job.status = 'ASSIGNED'
  AND job.experiment_id = ANY($3)
  AND (job.lease_expires_ms < $2 OR job.lease_owner = ANY($4))
RETURNING job.id, job.attempt
