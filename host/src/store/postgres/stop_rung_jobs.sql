-- The jobs of the rung a halving sweep stopped after carry the reason (a
-- job that failed keeps its own).
UPDATE job SET reason = $4
WHERE experiment_id = $1
  AND position >= $2 AND position < $3
  AND reason IS NULL
