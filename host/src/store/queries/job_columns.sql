-- The columns of a job row (the start of jobs.sql, job.sql): the job and
-- its current attempt's result digest and run-cache source.
SELECT job.id, job.experiment_id, job.position, job.labels, job.parameter, job.status,
       job.attempt, job.lost, job.worker, job.started_at, job.finished_at, job.duration_ms,
       job.reason, job.job_key, a.result_digest, a.source_job
FROM job
LEFT JOIN attempt a ON a.job_id = job.id AND a.attempt = job.attempt
