SELECT j.experiment_id, j.id, j.labels, r.event, r.context, r.metrics, r.artifacts
FROM job j JOIN record r ON r.job_id = j.id
WHERE j.id = $1 AND r.attempt = $2
ORDER BY r.seq
