-- Returns jobs $1 holds to the queue (an interrupted run).
UPDATE job
SET status = 'UNASSIGNED',
    lease_owner = NULL,
    lease_expires_ms = NULL,
    started_at = NULL
WHERE lease_owner = $1
  AND status = 'ASSIGNED'
  AND id = ANY($2)
RETURNING id, attempt
