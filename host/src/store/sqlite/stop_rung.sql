-- A halving sweep stops after rung :rung, saying why (the first worker to
-- find out writes it; the others change nothing).
UPDATE rung SET stopped = :reason
WHERE experiment_id = :experiment AND rung = :rung AND stopped IS NULL
