-- The context and metrics of every record with metrics of an experiment's
-- finished jobs (of the jobs in $3 unless $2), from the attempt that
-- finished or the one it reuses from the run-cache, in grid and record order.
SELECT j.id, r.context, r.metrics
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
JOIN record r ON r.job_id = coalesce(a.source_job, a.job_id)
             AND r.attempt = coalesce(a.source_attempt, a.attempt)
WHERE j.experiment_id = $1 AND j.status = 'FINISHED'
  AND ($2 OR j.id = ANY($3))
  AND r.metrics <> '{}'
ORDER BY j.position, r.seq
