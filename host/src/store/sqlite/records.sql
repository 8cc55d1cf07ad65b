-- The default view: records of finished jobs, from the attempt that
-- finished, or, for a job from the run-cache, from the attempt it reuses.
SELECT j.experiment_id, j.id, j.labels, r.event, r.context, r.metrics, r.artifacts
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
JOIN record r ON r.job_id = coalesce(a.source_job, a.job_id)
             AND r.attempt = coalesce(a.source_attempt, a.attempt)
WHERE j.status = 'FINISHED'
  AND j.experiment_id IN (SELECT value FROM json_each(:experiments))
ORDER BY j.experiment_id, j.position, r.seq
