-- The heartbeat: extends every lease :worker holds.
UPDATE job
SET lease_expires_ms = :expires_ms
WHERE lease_owner = :worker
  AND status = 'ASSIGNED'
