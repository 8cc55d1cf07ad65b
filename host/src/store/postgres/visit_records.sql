-- The records of one attempt, in order, as stored.
SELECT event, context, metrics, artifacts
FROM record
WHERE job_id = $1 AND attempt = $2
ORDER BY seq
