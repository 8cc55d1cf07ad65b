-- Every job of :experiment without its labels and parameters, in grid order:
-- what a live page polls.
SELECT job.id, job.experiment_id, job.position, '{}' AS labels, '{}' AS parameter, job.status,
       job.attempt, job.lost, job.worker, job.started_at, job.finished_at, job.duration_ms,
       job.reason, job.job_key, a.result_digest, a.source_job
FROM job
LEFT JOIN attempt a ON a.job_id = job.id AND a.attempt = job.attempt
WHERE job.experiment_id = :experiment
ORDER BY job.position
