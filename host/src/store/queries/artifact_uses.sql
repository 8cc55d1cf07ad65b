-- Every job that stored or reused (through the run-cache) an artifact whose
-- digest starts with :prefix.
SELECT ar.digest, ar.name, ar.size, j.id AS job_id, j.experiment_id, ar.attempt,
       NULL AS source_job, NULL AS source_attempt
FROM artifact ar JOIN job j ON j.id = ar.job_id
WHERE ar.digest >= :prefix AND ar.digest < :prefix || 'g'
UNION ALL
SELECT ar.digest, ar.name, ar.size, j.id, j.experiment_id, a.attempt, ar.job_id, ar.attempt
FROM artifact ar
JOIN attempt a ON a.source_job = ar.job_id AND a.source_attempt = ar.attempt
JOIN job j ON j.id = a.job_id
WHERE ar.digest >= :prefix AND ar.digest < :prefix || 'g'
ORDER BY 1, 5, 4, 6
