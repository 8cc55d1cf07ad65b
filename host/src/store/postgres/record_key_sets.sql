-- The record key sets of the attempts records.sql reads (NULL for an
-- attempt stored before djx kept them).
SELECT DISTINCT a.key_set
FROM job j
JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
WHERE j.status = 'FINISHED'
  AND j.experiment_id = ANY($1)
