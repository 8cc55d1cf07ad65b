-- Ends an attempt, fenced by the lease: changes nothing unless :worker
-- still holds attempt :attempt of the job.
UPDATE job
SET status = :status,
    reason = :reason,
    finished_at = :now,
    duration_ms = :duration_ms,
    lease_owner = NULL,
    lease_expires_ms = NULL
WHERE id = :id
  AND attempt = :attempt
  AND lease_owner = :worker
  AND status = 'ASSIGNED'
