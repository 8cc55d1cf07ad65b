-- The records of one attempt whose metrics text contains $3 ('' for all),
-- in order, as stored.
SELECT event, context, metrics, artifacts
FROM record
WHERE job_id = $1 AND attempt = $2 AND strpos(metrics, $3) > 0
ORDER BY seq
