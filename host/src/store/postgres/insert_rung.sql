-- Adds a rung of a halving sweep, unless another worker added it first:
-- then it changes nothing (the primary key decides who was first: a racing
-- insert waits for the first transaction and then does nothing), and the
-- caller writes none of the rung's jobs.
INSERT INTO rung (experiment_id, rung, rungs, first_position, jobs, samples,
                  created_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (experiment_id, rung) DO NOTHING
