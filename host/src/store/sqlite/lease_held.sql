-- Whether :worker still holds attempt :attempt of job :id.
SELECT count(*) FROM job
WHERE id = :id
  AND attempt = :attempt
  AND lease_owner = :worker
  AND status = 'ASSIGNED'
