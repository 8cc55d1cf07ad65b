-- The rungs of the sweeps of :experiments.
SELECT experiment_id, rung, rungs, first_position, jobs, samples, created_at, created_by,
       stopped
FROM rung
WHERE experiment_id IN_LIST(:experiments)
ORDER BY experiment_id, rung
