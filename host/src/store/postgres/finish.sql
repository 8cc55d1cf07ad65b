-- Ends an attempt, fenced by the lease: changes nothing unless $7 still
-- holds attempt $6 of job $5.
UPDATE job
SET status = $1,
    reason = $2,
    finished_at = $3,
    duration_ms = $4,
    lease_owner = NULL,
    lease_expires_ms = NULL
WHERE id = $5
  AND attempt = $6
  AND lease_owner = $7
  AND status = 'ASSIGNED'
