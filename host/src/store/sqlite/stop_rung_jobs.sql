-- The jobs of the rung a halving sweep stopped after carry the reason (a
-- job that failed keeps its own).
UPDATE job SET reason = :reason
WHERE experiment_id = :experiment
  AND position >= :first AND position < :end
  AND reason IS NULL
