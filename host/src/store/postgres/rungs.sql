-- The rungs of the halving sweeps of $1, in order.
SELECT experiment_id, rung, rungs, first_position, jobs, samples, created_at, created_by,
       stopped
FROM rung
WHERE experiment_id = ANY($1)
ORDER BY experiment_id, rung
