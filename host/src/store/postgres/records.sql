-- The default view: records of finished jobs, from the attempt that finished.
SELECT j.experiment_id, j.id, j.labels, r.event, r.context, r.metrics, r.artifacts
FROM job j
JOIN record r ON r.job_id = j.id AND r.attempt = j.attempt
WHERE j.status = 'FINISHED'
  AND j.experiment_id = ANY($1)
ORDER BY j.experiment_id, j.position, r.seq
