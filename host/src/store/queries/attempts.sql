-- Every attempt of job :job.
SELECT job_id, attempt, worker, started_at, finished_at, duration_ms, status, reason,
       result_digest, source_job, source_attempt
FROM attempt
WHERE job_id = :job
ORDER BY attempt
