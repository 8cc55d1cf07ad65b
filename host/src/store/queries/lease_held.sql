-- A row if :worker still holds attempt :attempt of job :id. On PostgreSQL
-- the row lock keeps a reap from putting the attempt back until the
-- transaction ends.
SELECT 1 AS held FROM job
WHERE id = :id
  AND attempt = :attempt
  AND lease_owner = :worker
  AND status = 'ASSIGNED'
FOR_SHARE(job)
