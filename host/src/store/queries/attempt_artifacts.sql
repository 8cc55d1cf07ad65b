-- The artifacts of attempt :attempt of job :job, in order.
SELECT name, digest, size FROM artifact WHERE job_id = :job AND attempt = :attempt ORDER BY seq
