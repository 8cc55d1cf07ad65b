-- The names of the artifacts that the jobs of experiment :experiment
-- saved, each with how many jobs saved one by that name.
SELECT ar.name, COUNT(DISTINCT j.id) AS jobs
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
JOIN artifact ar ON ar.job_id = COALESCE(a.source_job, a.job_id)
                AND ar.attempt = COALESCE(a.source_attempt, a.attempt)
WHERE j.experiment_id = :experiment
GROUP BY ar.name
ORDER BY ar.name
