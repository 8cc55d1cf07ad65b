-- The artifacts called :name of the jobs of experiment :experiment that
-- ended, from each job's result attempt (the attempt it reuses, for a job
-- from the run-cache), in job order; at most :limit.
SELECT j.id AS job_id, ar.name, ar.digest, ar.size
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
JOIN artifact ar ON ar.job_id = COALESCE(a.source_job, a.job_id)
                AND ar.attempt = COALESCE(a.source_attempt, a.attempt)
WHERE j.experiment_id = :experiment AND ar.name = :name
ORDER BY j.id, ar.seq
LIMIT :limit
