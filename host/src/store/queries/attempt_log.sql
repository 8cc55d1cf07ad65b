-- The log of attempt :attempt of job :job.
SELECT log FROM job_log WHERE job_id = :job AND attempt = :attempt
