-- A halving sweep stops after rung $2, saying why (the first worker to find
-- out writes it; the others change nothing).
UPDATE rung SET stopped = $3
WHERE experiment_id = $1 AND rung = $2 AND stopped IS NULL
