SELECT id, experiment_id, position, labels, parameter, status, attempt, lost,
       worker, started_at, finished_at, duration_ms, reason
FROM job
