-- Adds a rung of a halving sweep, unless another worker added it first:
-- then it changes nothing (the primary key decides who was first), and the
-- caller writes none of the rung's jobs.
INSERT INTO rung (experiment_id, rung, rungs, first_position, jobs, samples,
                  created_at, created_by)
VALUES (:experiment, :rung, :rungs, :first_position, :jobs, :samples, :now, :worker)
ON CONFLICT (experiment_id, rung) DO NOTHING
