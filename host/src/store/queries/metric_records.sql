-- The context and metrics of every record with metrics of the finished jobs of
-- :experiment (all of them, or those in :jobs), in grid and record order.
SELECT j.id, r.context, r.metrics
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
JOIN record r ON r.job_id = coalesce(a.source_job, a.job_id)
             AND r.attempt = coalesce(a.source_attempt, a.attempt)
WHERE j.experiment_id = :experiment AND j.status = 'FINISHED'
  AND (:all OR j.id IN_LIST(:jobs))
  AND r.metrics <> '{}'
ORDER BY j.position, r.seq
