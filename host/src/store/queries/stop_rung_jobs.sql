-- Gives the jobs of a stopped rung (positions :first..:end) the reason.
UPDATE job SET reason = :reason
WHERE experiment_id = :experiment
  AND position >= :first AND position < :end
