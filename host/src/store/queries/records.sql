-- The records of the finished jobs of :experiments (a job from the run-cache
-- reads those of the attempt it reuses), in experiment, grid and record order.
SELECT j.experiment_id AS exp_id, j.id AS job_id, j.labels, r.event, r.context, r.metrics,
       r.artifacts
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
JOIN record r ON r.job_id = coalesce(a.source_job, a.job_id)
             AND r.attempt = coalesce(a.source_attempt, a.attempt)
WHERE j.status = 'FINISHED'
  AND j.experiment_id IN_LIST(:experiments)
ORDER BY j.experiment_id, j.position, r.seq
