-- The columns of job_columns.sql without labels and parameters (empty
-- objects): what changes while an experiment runs.
SELECT job.id, job.experiment_id, job.position, '{}', '{}', job.status,
       job.attempt, job.lost, job.worker, job.started_at, job.finished_at, job.duration_ms,
       job.reason, job.job_key, a.result_digest, a.source_job
FROM job
LEFT JOIN attempt a ON a.job_id = job.id AND a.attempt = job.attempt
WHERE job.experiment_id = ?1
ORDER BY job.position
