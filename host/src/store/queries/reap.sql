-- Puts back jobs of :experiments whose lease expired (:now_ms, unix ms),
-- or whose owner is known dead (:dead_owners); a job lost more than
-- `retries + 1` times fails instead.
UPDATE job
SET status = CASE
        WHEN lost + 1 > (SELECT retries FROM experiment e WHERE e.id = job.experiment_id) + 1
        THEN 'FAILED' ELSE 'UNASSIGNED' END,
    reason = CASE
        WHEN lost + 1 > (SELECT retries FROM experiment e WHERE e.id = job.experiment_id) + 1
        THEN 'its worker was lost ' || (lost + 1) || ' times (last: ' || lease_owner || '); '
             || 'raise `retries` to requeue it more often'
        ELSE reason END,
    finished_at = CASE
        WHEN lost + 1 > (SELECT retries FROM experiment e WHERE e.id = job.experiment_id) + 1
        THEN :now ELSE finished_at END,
    lost = lost + 1,
    lease_owner = NULL,
    lease_expires_ms = NULL
WHERE status = 'ASSIGNED'
  AND experiment_id IN_LIST(:experiments)
  AND (lease_expires_ms < :now_ms OR lease_owner IN_LIST(:dead_owners))
RETURNING id, attempt
