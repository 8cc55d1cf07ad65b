-- The rungs of the halving sweeps of :experiments, in order.
SELECT experiment_id, rung, rungs, first_position, jobs, samples, created_at, created_by,
       stopped
FROM rung
WHERE experiment_id IN (SELECT value FROM json_each(:experiments))
ORDER BY experiment_id, rung
