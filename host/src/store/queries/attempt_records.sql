-- The records of attempt :attempt of job :job, in order.
SELECT j.experiment_id AS exp_id, j.id AS job_id, j.labels, r.event, r.context, r.metrics,
       r.artifacts
FROM job j JOIN record r ON r.job_id = j.id
WHERE j.id = :job AND r.attempt = :attempt
ORDER BY r.seq
