-- The context and metrics of every record with metrics of an experiment's
-- finished jobs (of the jobs in :jobs unless :all), from the attempt that
-- finished or the one it reuses from the run-cache, in grid and record order.
SELECT j.id, r.context, r.metrics
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
JOIN record r ON r.job_id = coalesce(a.source_job, a.job_id)
             AND r.attempt = coalesce(a.source_attempt, a.attempt)
WHERE j.experiment_id = :experiment AND j.status = 'FINISHED'
  AND (:all OR j.id IN (SELECT value FROM json_each(:jobs)))
  AND r.metrics <> '{}'
ORDER BY j.position, r.seq
