-- The key sets of the current attempts of the finished jobs of :experiments
-- (NULL for an attempt that predates key sets).
SELECT DISTINCT a.key_set
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
WHERE j.status = 'FINISHED'
  AND j.experiment_id IN_LIST(:experiments)
