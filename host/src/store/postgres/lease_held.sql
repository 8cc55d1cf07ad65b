-- Whether $3 still holds attempt $2 of job $1; the row lock keeps a reap
-- from putting the attempt back until the transaction ends.
SELECT 1 FROM job
WHERE id = $1
  AND attempt = $2
  AND lease_owner = $3
  AND status = 'ASSIGNED'
FOR SHARE
