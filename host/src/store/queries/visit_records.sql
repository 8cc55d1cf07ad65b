-- The records of attempt :attempt of job :job, in order, as stored.
SELECT event, context, metrics, artifacts
FROM record
WHERE job_id = :job AND attempt = :attempt
ORDER BY seq
