-- The heartbeat: extends every lease $1 holds.
UPDATE job
SET lease_expires_ms = $2
WHERE lease_owner = $1
  AND status = 'ASSIGNED'
