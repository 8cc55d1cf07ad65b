-- Returns jobs :worker holds to the queue (an interrupted run).
UPDATE job
SET status = 'UNASSIGNED',
    lease_owner = NULL,
    lease_expires_ms = NULL,
    started_at = NULL
WHERE lease_owner = :worker
  AND status = 'ASSIGNED'
  AND id IN_LIST(:jobs)
RETURNING id, attempt
